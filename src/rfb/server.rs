//! The server: one [`Desktop`] served to many viewers at once, over any byte
//! stream (TCP, unix socket, WebSocket). It accepts connections, counts them
//! against the connection limit (at the limit, a new one takes the place of
//! the oldest still in its handshake, as QEMU does), and spawns a session (`connection`) for each;
//! what the sessions share, the share policy and every viewer's pending region
//! included, is the registry's (`viewers`).

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{Semaphore, broadcast};
use tracing::{info, warn};

use super::connection;
use super::desktop::Desktop;
use super::http;
use super::lifecycle::{Peer, ViewerEvent, ViewerInfo};
use super::reverse::{self, Dialled, Listening};
use super::settings::{ServerSettings, SettingsError};
use super::shares::Shares;
use super::vencrypt;
use super::viewers::{Shared, Slot, lock};

/// A VNC server for one desktop. Cloning it is cheap: clones serve the same
/// desktop with the same viewers.
#[derive(Clone)]
pub struct Server {
    shared: Arc<Shared>,
    /// The HTTP connections open on the websocket port, counted.
    http: Arc<Semaphore>,
}

impl Server {
    /// A server for `desktop`, or why `settings` cannot be served.
    pub fn new(desktop: Arc<dyn Desktop>, settings: ServerSettings) -> Result<Server, SettingsError> {
        settings.validate()?;
        let http = Arc::new(Semaphore::new(http::MAX_HTTP));
        Ok(Server { shared: Arc::new(Shared::new(desktop, settings)), http })
    }

    /// Accepts RFB viewers on a TCP listener until [`shutdown`](Self::shutdown).
    pub async fn serve_tcp(&self, listener: TcpListener) {
        self.accept_loop(
            || listener.accept(),
            |stream, addr| {
                let peer = Peer::Tcp(addr);
                let Some(slot) = self.take_slot(&peer) else { return };
                let server = self.clone();
                tokio::spawn(async move {
                    let _ = stream.set_nodelay(true);
                    server.serve_in(stream, peer, slot).await;
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
                let peer = Peer::Local(format!("unix:{label}"));
                let Some(slot) = self.take_slot(&peer) else { return };
                let server = self.clone();
                tokio::spawn(async move { server.serve_in(stream, peer, slot).await });
            },
        )
        .await;
    }

    /// Serves HTTP on a TCP listener until [`shutdown`](Self::shutdown): noVNC's
    /// page, and viewers speaking RFB over WebSocket.
    pub async fn serve_websocket(&self, listener: TcpListener) {
        self.accept_loop(
            || listener.accept(),
            |stream, addr| {
                let server = self.clone();
                tokio::spawn(async move {
                    let _ = stream.set_nodelay(true);
                    server.handle_http(stream, Peer::Tcp(addr)).await;
                });
            },
        )
        .await;
    }

    /// Connects out to a viewer listening at `target` (`vncviewer -listen`)
    /// and serves it, dialling again whenever that fails or ends, until
    /// [`shutdown`](Self::shutdown): QEMU's `reverse=on`, kept up.
    pub async fn serve_reverse(&self, target: Listening) {
        let stopped = self.shared.shutdown().clone();
        reverse::run(target, stopped, |dialled, peer| async move {
            match dialled {
                Dialled::Tcp(stream) => self.handle(stream, peer).await,
                Dialled::Unix(stream) => self.handle(stream, peer).await,
            }
        })
        .await;
    }

    async fn accept_loop<S, A, F>(&self, mut accept: impl FnMut() -> F, mut spawn: impl FnMut(S, A))
    where
        F: Future<Output = std::io::Result<(S, A)>>,
    {
        loop {
            let accepted = tokio::select! {
                a = accept() => a,
                () = self.shared.shutdown().cancelled() => return,
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
        let Some(slot) = self.take_slot(&peer) else { return };
        self.serve_in(stream, peer, slot).await;
    }

    /// Serves one viewer in the `slot` it was given. The accept loops take
    /// the slot before spawning, in the order connections arrive, so that
    /// the one a newcomer evicts really is the oldest still in its
    /// handshake (taken inside the spawned tasks, the runtime's order would
    /// decide, and an honest viewer arriving last could lose its place).
    async fn serve_in<S>(&self, stream: S, peer: Peer, slot: Slot)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        connection::serve(self.shared.clone(), stream, peer, false, None, None, &slot).await;
    }

    /// Serves HTTP on `stream`: noVNC's page and files, and viewers that
    /// upgrade to WebSocket, share-link tokens checked; inside TLS (https,
    /// wss) when the server has TLS, as QEMU's websocket port does with
    /// `tls-creds`. Its viewers count against the limit from their upgrade on.
    pub async fn handle_http<S>(&self, stream: S, peer: Peer)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Some(tls) = &self.shared.settings.tls else {
            return http::serve(self.shared.clone(), &self.http, stream, peer, None).await;
        };
        let timeout = self.shared.settings.handshake_timeout;
        match tokio::time::timeout(timeout, tls.acceptor().accept(stream)).await {
            Ok(Ok(stream)) => {
                let subject = vencrypt::peer_subject(&stream);
                http::serve(self.shared.clone(), &self.http, stream, peer, subject).await;
            }
            Ok(Err(e)) => warn!("vnc: TLS handshake with WebSocket viewer {peer} failed: {e}"),
            Err(_) => {
                info!("vnc: TLS handshake with WebSocket viewer {peer} not finished within {timeout:?}")
            }
        }
    }

    /// Replaces the password (QEMU's `set_password`); with `disconnect`, every
    /// viewer connected now leaves. A server started without a password
    /// keeps taking none, as QEMU refuses to set one then.
    pub fn set_password(&self, password: String, disconnect: bool) -> Result<(), SettingsError> {
        if !self.shared.settings.needs_password() {
            return Err(SettingsError::NoPasswordAuth);
        }
        lock(&self.shared.password).set(password)?;
        if disconnect {
            self.shared.kick_all();
        }
        Ok(())
    }

    /// No password lets a viewer in after `after` from now; `None`: the
    /// password never expires (QEMU's `expire_password`). Viewers connected
    /// stay.
    pub fn expire_password(&self, after: Option<Duration>) {
        lock(&self.shared.password).expire(after);
    }

    /// The server's share links: the control socket makes and revokes them.
    pub fn shares(&self) -> Arc<Shares> {
        self.shared.shares.clone()
    }

    /// Counts a connection against the limit (in the place of the oldest one
    /// still in its handshake, at the limit), or refuses it.
    fn take_slot(&self, peer: &Peer) -> Option<Slot> {
        let slot = self.shared.take_slot();
        if slot.is_none() {
            let limit = self.shared.settings.connections;
            info!(
                "vnc: refused {peer}: the limit of {limit} connections is reached, all past their handshake"
            );
        }
        slot
    }

    /// Disconnects every viewer and stops every `serve_*` loop.
    pub fn shutdown(&self) {
        self.shared.shutdown().cancel();
    }

    /// How many viewers are past their handshake.
    pub fn viewers(&self) -> usize {
        self.shared.viewer_count()
    }

    /// The connections open now, handshake done or not, oldest first: what
    /// the owner lists when asked who is watching.
    pub fn connected(&self) -> Vec<ViewerInfo> {
        self.shared.lifecycle.open()
    }

    /// Every arrival, finished handshake and departure from now on, for an
    /// owner that tells others of them. Subscribe before serving to miss none;
    /// a receiver that lags misses the oldest and never holds the server back.
    pub fn subscribe(&self) -> broadcast::Receiver<ViewerEvent> {
        self.shared.lifecycle.subscribe()
    }
}
