//! The server: one [`Screen`] served to many viewers at once, over any byte
//! stream (TCP, unix socket, WebSocket). It accepts connections, enforces the
//! connection limit and the share policy, and keeps every viewer's pending
//! region, which each render adds its damage to (each render of the shared
//! framebuffer to the viewers that see it, a render of a viewer's own to that
//! viewer's).

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::auth::Backoff;
use super::config::{Config, ConfigError, SharePolicy};
use super::connection;
use super::pending::Pending;
use super::screen::{Audience, Screen, ViewerId};
use super::websocket;
use crate::frame::Framebuffer;

/// Who is at the other end of a connection: what the log shows, and what
/// failed passwords are counted against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// A TCP peer (plain or WebSocket); failures count against its IP address.
    Tcp(SocketAddr),
    /// A unix-socket peer or anything else local, described; failures of all
    /// local peers count together.
    Local(String),
}

impl Peer {
    /// The key of the failed-password backoff.
    pub(crate) fn backoff_key(&self) -> String {
        match self {
            Peer::Tcp(addr) => addr.ip().to_string(),
            Peer::Local(_) => "local".to_string(),
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Tcp(addr) => write!(f, "{addr}"),
            Peer::Local(what) => f.write_str(what),
        }
    }
}

/// A VNC server for one screen. Cloning it is cheap: clones serve the same
/// screen with the same viewers.
#[derive(Clone)]
pub struct Server {
    shared: Arc<Shared>,
}

/// What every connection of a server shares.
pub(crate) struct Shared {
    pub screen: Arc<dyn Screen>,
    pub config: Config,
    pub backoff: Backoff,
    viewers: Mutex<Vec<ViewerEntry>>,
    next_id: AtomicU64,
    connections: AtomicUsize,
    shutdown: CancellationToken,
}

/// A viewer past its handshake, as the server keeps it.
struct ViewerEntry {
    id: ViewerId,
    pending: Arc<Mutex<Pending>>,
    exclusive: bool,
    kick: CancellationToken,
}

/// Why a viewer could not join after its handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum JoinRefused {
    /// `share=force-shared` and the viewer asked for exclusive access.
    #[error("it asked for exclusive access and the server is shared only")]
    ExclusiveRefused,
    /// Another viewer holds exclusive access.
    #[error("another viewer has exclusive access")]
    SomeoneExclusive,
}

/// A registered viewer: its id, pending region and the token that tells it to
/// leave; it is unregistered when this is dropped.
pub(crate) struct Registration {
    shared: Arc<Shared>,
    pub id: ViewerId,
    pub pending: Arc<Mutex<Pending>>,
    pub kick: CancellationToken,
}

impl Drop for Registration {
    fn drop(&mut self) {
        lock(&self.shared.viewers).retain(|v| v.id != self.id);
    }
}

/// Locks a mutex, taking the data even if a panicking thread held it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Server {
    /// A server for `screen`, or why `config` cannot be served.
    pub fn new(screen: Arc<dyn Screen>, config: Config) -> Result<Server, ConfigError> {
        config.validate()?;
        Ok(Server {
            shared: Arc::new(Shared {
                screen,
                config,
                backoff: Backoff::default(),
                viewers: Mutex::new(Vec::new()),
                next_id: AtomicU64::new(1),
                connections: AtomicUsize::new(0),
                shutdown: CancellationToken::new(),
            }),
        })
    }

    /// Accepts RFB viewers on a TCP listener until [`shutdown`](Self::shutdown).
    pub async fn serve_tcp(&self, listener: TcpListener) {
        self.accept_loop(
            || listener.accept(),
            |stream, addr| {
                let server = self.clone();
                tokio::spawn(async move {
                    let _ = stream.set_nodelay(true);
                    server.handle(stream, Peer::Tcp(addr)).await;
                });
            },
        )
        .await;
    }

    /// Accepts RFB viewers on a unix-socket listener until [`shutdown`](Self::shutdown).
    pub async fn serve_unix(&self, listener: UnixListener) {
        let path = listener.local_addr().ok().and_then(|a| a.as_pathname().map(|p| p.display().to_string()));
        let label = path.unwrap_or_else(|| "unix socket".to_string());
        self.accept_loop(
            || listener.accept(),
            |stream, _| {
                let server = self.clone();
                let peer = Peer::Local(format!("unix:{label}"));
                tokio::spawn(async move { server.handle(stream, peer).await });
            },
        )
        .await;
    }

    /// Accepts viewers speaking RFB over WebSocket (noVNC) on a TCP listener
    /// until [`shutdown`](Self::shutdown).
    pub async fn serve_websocket(&self, listener: TcpListener) {
        self.accept_loop(
            || listener.accept(),
            |stream, addr| {
                let server = self.clone();
                tokio::spawn(async move {
                    let _ = stream.set_nodelay(true);
                    server.handle_websocket(stream, Peer::Tcp(addr)).await;
                });
            },
        )
        .await;
    }

    async fn accept_loop<S, A, F>(&self, mut accept: impl FnMut() -> F, mut spawn: impl FnMut(S, A))
    where
        F: Future<Output = std::io::Result<(S, A)>>,
    {
        loop {
            let accepted = tokio::select! {
                a = accept() => a,
                () = self.shared.shutdown.cancelled() => return,
            };
            match accepted {
                Ok((stream, addr)) => spawn(stream, addr),
                Err(e) => {
                    // Out of file descriptors and the like: give the viewers
                    // already connected a moment before trying again.
                    warn!("vnc: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await; // allow-sleep: a backoff, not a wait
                }
            }
        }
    }

    /// Serves one viewer connected over `stream` until it leaves.
    pub async fn handle<S>(&self, stream: S, peer: Peer)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Some(_slot) = self.take_slot(&peer) else { return };
        connection::serve(self.shared.clone(), stream, peer).await;
    }

    /// Serves one viewer speaking RFB over WebSocket on `stream`.
    pub async fn handle_websocket<S>(&self, stream: S, peer: Peer)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Some(_slot) = self.take_slot(&peer) else { return };
        let timeout = self.shared.config.handshake_timeout;
        match tokio::time::timeout(timeout, websocket::accept(stream)).await {
            Ok(Ok(stream)) => connection::serve(self.shared.clone(), stream, peer).await,
            Ok(Err(e)) => info!("vnc: websocket handshake with {peer} failed: {e}"),
            Err(_) => info!("vnc: websocket handshake with {peer} not finished within {timeout:?}"),
        }
    }

    /// Counts a connection against the limit, or refuses it.
    fn take_slot(&self, peer: &Peer) -> Option<Slot> {
        let limit = self.shared.config.connections;
        if self.shared.connections.fetch_add(1, Ordering::SeqCst) >= limit {
            self.shared.connections.fetch_sub(1, Ordering::SeqCst);
            info!("vnc: refused {peer}: the limit of {limit} connections is reached");
            return None;
        }
        Some(Slot(self.shared.clone()))
    }

    /// Disconnects every viewer and stops every `serve_*` loop.
    pub fn shutdown(&self) {
        self.shared.shutdown.cancel();
    }

    /// How many viewers are past their handshake.
    pub fn viewers(&self) -> usize {
        lock(&self.shared.viewers).len()
    }
}

/// One connection counted against the limit, until dropped.
struct Slot(Arc<Shared>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Shared {
    /// A fresh viewer id.
    pub fn next_id(&self) -> ViewerId {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Fires when the server shuts down.
    pub fn shutdown(&self) -> &CancellationToken {
        &self.shutdown
    }

    /// Renders what `viewer` sees: adds the damage since the last render to
    /// the pending region of every viewer it is for (makes everything pending
    /// for `viewer` when it switched framebuffers), then runs `then` with the
    /// framebuffer, all under the screen's lock. `None` if the screen did not
    /// call back.
    pub fn refresh<T>(&self, viewer: ViewerId, then: impl FnOnce(&Framebuffer) -> T) -> Option<T> {
        let mut then = Some(then);
        let mut result = None;
        self.screen.refresh(viewer, &mut |refreshed| {
            let (width, height) = (refreshed.framebuffer.width(), refreshed.framebuffer.height());
            for entry in lock(&self.viewers).iter() {
                let theirs = match refreshed.audience {
                    Audience::AllBut(own) => !own.contains(&entry.id),
                    Audience::Asker => entry.id == viewer,
                };
                let mut pending = lock(&entry.pending);
                if entry.id == viewer && refreshed.switched {
                    pending.restart(width, height);
                } else if theirs {
                    pending.add(width, height, refreshed.damage);
                }
            }
            if let Some(then) = then.take() {
                result = Some(then(refreshed.framebuffer));
            }
        });
        result
    }

    /// Registers a viewer that passed its handshake, with everything of the
    /// current framebuffer pending, applying the share policy to its shared
    /// flag. Returns it and the framebuffer's size.
    pub fn register(
        self: &Arc<Self>,
        id: ViewerId,
        shared_flag: bool,
    ) -> Option<Result<(Registration, u16, u16), JoinRefused>> {
        let policy = self.config.share;
        self.refresh(id, |framebuffer| {
            let mut viewers = lock(&self.viewers);
            let exclusive = match policy {
                SharePolicy::Ignore => false,
                SharePolicy::ForceShared if !shared_flag => return Err(JoinRefused::ExclusiveRefused),
                SharePolicy::ForceShared => false,
                SharePolicy::AllowExclusive if !shared_flag => {
                    for other in viewers.iter() {
                        other.kick.cancel();
                    }
                    true
                }
                SharePolicy::AllowExclusive => {
                    if viewers.iter().any(|v| v.exclusive) {
                        return Err(JoinRefused::SomeoneExclusive);
                    }
                    false
                }
            };
            let (width, height) = (framebuffer.width(), framebuffer.height());
            let pending = Arc::new(Mutex::new(Pending::everything(width, height, false)));
            let kick = self.shutdown.child_token();
            viewers.push(ViewerEntry { id, pending: pending.clone(), exclusive, kick: kick.clone() });
            Ok((Registration { shared: self.clone(), id, pending, kick }, width, height))
        })
    }
}
