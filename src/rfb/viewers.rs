//! The viewer registry: what every connection of a server shares (the desktop,
//! the settings, the password backoff), the viewers past their handshake with
//! their pending regions, and the connections counted against the limit. When
//! the limit is reached, a new connection takes the place of the oldest one
//! still in its handshake, as QEMU does, so that connections that stall
//! there cannot keep an honest viewer out until they time out.
//!
//! Both the accepting side ([`server`](super::server)) and each viewer's
//! session (`connection`) use it; it knows neither.

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::auth::Backoff;
use super::desktop::{Audience, Desktop, ViewerId};
use super::group_key::GroupKey;
use super::lifecycle::Lifecycle;
use super::password::LivePassword;
use super::pending::Pending;
use super::settings::{ServerSettings, SharePolicy};
use super::shares::Shares;
use crate::frame::Framebuffer;

/// How long after a viewer's pointer frames go out as soon as they are asked
/// for, not on the clock's tick, and how long a key's echo is waited for (`group`).
pub(super) const BOOST: Duration = Duration::from_millis(100);

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
    /// The groups of viewers sent the same bytes (`group`'s `Group`, which
    /// imports this registry: held as `Any`).
    pub(super) groups: Mutex<HashMap<GroupKey, Arc<dyn Any + Send + Sync>>>,
    /// When a viewer last typed or moved the pointer.
    input_at: Mutex<Option<Instant>>,
    /// The last key a viewer pressed.
    typed_at: Mutex<Option<Typed>>,
    /// Notified when a viewer types or moves the pointer, so that a group
    /// waiting for the clock's tick sends its next frame at once.
    pub(super) input: tokio::sync::Notify,
    next_id: AtomicU64,
    connections: Mutex<Connections>,
    shutdown: CancellationToken,
}

/// A key a viewer pressed, whose echo is worth a frame of its own.
#[derive(Debug, Clone, Copy)]
pub(super) struct Typed {
    /// When it came.
    pub at: Instant,
    /// The desktop's change count then ([`Desktop::changes`]).
    pub changes: u64,
    /// The viewer that pressed it.
    pub by: ViewerId,
}

/// The connections counted against the limit.
#[derive(Default)]
struct Connections {
    /// Those still in their handshake, oldest first: a key and the token that
    /// drops it.
    handshaking: VecDeque<(u64, CancellationToken)>,
    /// How many are past it.
    joined: usize,
    /// The next key.
    next_key: u64,
}

/// A viewer past its handshake, as the registry keeps it.
struct ViewerEntry {
    id: ViewerId,
    pending: Arc<Mutex<Pending>>,
    exclusive: bool,
    kick: CancellationToken,
    /// A group's region (`group`), not a viewer's.
    group: bool,
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
pub(crate) struct Slot {
    shared: Arc<Shared>,
    key: u64,
    /// Fires when a newer connection took its place during its handshake.
    evicted: CancellationToken,
    /// Its handshake is done: only leaving frees it.
    joined: AtomicBool,
}

impl Slot {
    /// Fires when a newer connection took this one's place while it was
    /// still in its handshake; it is no longer counted then.
    pub fn evicted(&self) -> &CancellationToken {
        &self.evicted
    }

    /// Marks the handshake done, after which no newer connection can take
    /// this one's place; `false` if one already did.
    pub fn joined(&self) -> bool {
        let mut connections = lock(&self.shared.connections);
        let Some(at) = connections.handshaking.iter().position(|(key, _)| *key == self.key) else {
            return false;
        };
        connections.handshaking.remove(at);
        connections.joined += 1;
        self.joined.store(true, Ordering::SeqCst);
        true
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut connections = lock(&self.shared.connections);
        if self.joined.load(Ordering::SeqCst) {
            connections.joined -= 1;
        } else {
            connections.handshaking.retain(|(key, _)| *key != self.key);
        }
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
            groups: Mutex::new(HashMap::new()),
            input_at: Mutex::new(None),
            typed_at: Mutex::new(None),
            input: tokio::sync::Notify::new(),
            next_id: AtomicU64::new(1),
            connections: Mutex::default(),
            shutdown: CancellationToken::new(),
        }
    }

    /// Counts a connection against the limit. At the limit, it takes the
    /// place of the oldest connection still in its handshake (which is told
    /// to end through its [`Slot::evicted`]); `None` if every connection is
    /// past its handshake.
    pub fn take_slot(self: &Arc<Self>) -> Option<Slot> {
        let mut connections = lock(&self.connections);
        if connections.handshaking.len() + connections.joined >= self.settings.connections {
            let (_, oldest) = connections.handshaking.pop_front()?;
            oldest.cancel();
        }
        let key = connections.next_key;
        connections.next_key += 1;
        let evicted = CancellationToken::new();
        connections.handshaking.push_back((key, evicted.clone()));
        Some(Slot { shared: self.clone(), key, evicted, joined: AtomicBool::new(false) })
    }

    /// How many viewers are past their handshake.
    pub fn viewer_count(&self) -> usize {
        lock(&self.viewers).iter().filter(|v| !v.group).count()
    }

    /// `viewer` pressed a key: its echo is worth a frame of its own
    /// ([`group`](super::group)), sent to it first.
    pub fn typed(&self, viewer: ViewerId) {
        let now = Instant::now();
        let changes = *self.desktop.changes().borrow();
        *lock(&self.typed_at) = Some(Typed { at: now, changes, by: viewer });
        self.input.notify_waiters();
    }

    /// A viewer used the pointer: frames go out at once for a while.
    pub fn pointed(&self) {
        *lock(&self.input_at) = Some(Instant::now());
        self.input.notify_waiters();
    }

    /// The last key a viewer pressed.
    pub(super) fn last_typed(&self) -> Option<Typed> {
        *lock(&self.typed_at)
    }

    /// Whether a viewer typed or moved the pointer within [`BOOST`].
    pub fn boosted(&self) -> bool {
        lock(&self.input_at).is_some_and(|at| at.elapsed() < BOOST)
    }

    /// Adds a group's region to the registry, a copy of its founder's
    /// `founder` (after this refresh), fed with damage as a viewer's is.
    pub(super) fn add_group_entry(
        &self,
        id: ViewerId,
        founder: &Mutex<Pending>,
    ) -> Option<Arc<Mutex<Pending>>> {
        self.refresh(id, |_, _| {
            let pending = Arc::new(Mutex::new(lock(founder).clone()));
            let kick = self.shutdown.child_token();
            lock(&self.viewers).push(ViewerEntry {
                id,
                pending: pending.clone(),
                exclusive: false,
                kick,
                group: true,
            });
            pending
        })
    }

    /// Removes a group's region from the registry.
    pub(super) fn remove_entry(&self, id: ViewerId) {
        lock(&self.viewers).retain(|v| v.id != id);
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
    /// framebuffer and the viewers that have one of their own (just
    /// `viewer` when it is `viewer`'s own), all under the desktop's lock. `None` if the
    /// desktop did not call back.
    pub fn refresh<T>(
        &self,
        viewer: ViewerId,
        then: impl FnOnce(&Framebuffer, &[ViewerId]) -> T,
    ) -> Option<T> {
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
                let own = match refreshed.audience {
                    Audience::AllBut(own) => own,
                    Audience::Asker => std::slice::from_ref(&viewer),
                };
                result = Some(then(refreshed.framebuffer, own));
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
        self.refresh(id, |framebuffer, _| {
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
            viewers.push(ViewerEntry {
                id,
                pending: pending.clone(),
                exclusive,
                kick: kick.clone(),
                group: false,
            });
            Ok((Registration { shared: self.clone(), id, pending, kick }, width, height))
        })
    }
}
