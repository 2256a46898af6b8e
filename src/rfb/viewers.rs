//! The viewer registry: what every connection of a server shares (the desktop,
//! the settings, the password backoff), the viewers past their handshake with
//! their pending regions, and the count of connections against the limit.
//!
//! Both the accepting side ([`server`](super::server)) and each viewer's
//! session (`connection`) use it; it knows neither.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio_util::sync::CancellationToken;

use super::auth::Backoff;
use super::desktop::{Audience, Desktop, ViewerId};
use super::lifecycle::Lifecycle;
use super::password::LivePassword;
use super::pending::Pending;
use super::settings::{ServerSettings, SharePolicy};
use super::shares::Shares;
use crate::frame::Framebuffer;

/// What every connection of a server shares.
pub(crate) struct Shared {
    pub desktop: Arc<dyn Desktop>,
    pub settings: ServerSettings,
    pub backoff: Backoff,
    /// The open connections, and who is told of them.
    pub lifecycle: Lifecycle,
    /// The password as `set_password` and `expire_password` left it.
    pub password: Mutex<LivePassword>,
    /// The share links that let browsers in.
    pub shares: Arc<Shares>,
    viewers: Mutex<Vec<ViewerEntry>>,
    next_id: AtomicU64,
    connections: AtomicUsize,
    shutdown: CancellationToken,
}

/// A viewer past its handshake, as the registry keeps it.
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

/// One connection counted against the limit, until dropped.
pub(crate) struct Slot(Arc<Shared>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Locks a mutex, taking the data even if a panicking thread held it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Nobody connected yet to a server of `desktop` set up by `settings`.
    pub fn new(desktop: Arc<dyn Desktop>, settings: ServerSettings) -> Shared {
        Shared {
            desktop,
            settings,
            backoff: Backoff::default(),
            lifecycle: Lifecycle::default(),
            password: Mutex::new(LivePassword::default()),
            shares: Arc::new(Shares::default()),
            viewers: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
            connections: AtomicUsize::new(0),
            shutdown: CancellationToken::new(),
        }
    }

    /// Counts a connection against the limit; `None` if it is reached.
    pub fn take_slot(self: &Arc<Self>) -> Option<Slot> {
        if self.connections.fetch_add(1, Ordering::SeqCst) >= self.settings.connections {
            self.connections.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Slot(self.clone()))
    }

    /// How many viewers are past their handshake.
    pub fn viewer_count(&self) -> usize {
        lock(&self.viewers).len()
    }

    /// A fresh viewer id.
    pub fn next_id(&self) -> ViewerId {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Disconnects every viewer past its handshake.
    pub fn kick_all(&self) {
        for viewer in lock(&self.viewers).iter() {
            viewer.kick.cancel();
        }
    }

    /// Fires when the server shuts down.
    pub fn shutdown(&self) -> &CancellationToken {
        &self.shutdown
    }

    /// Renders what `viewer` sees: adds the damage since the last render to
    /// the pending region of every viewer it is for (makes everything pending
    /// for `viewer` when it switched framebuffers), then runs `then` with the
    /// framebuffer, all under the desktop's lock. `None` if the desktop did not
    /// call back.
    pub fn refresh<T>(&self, viewer: ViewerId, then: impl FnOnce(&Framebuffer) -> T) -> Option<T> {
        let mut then = Some(then);
        let mut result = None;
        self.desktop.refresh(viewer, &mut |refreshed| {
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
        let policy = self.settings.share;
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
