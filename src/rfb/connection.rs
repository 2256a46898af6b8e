//! One viewer's session, from handshake to goodbye, and its pacing: the
//! viewer's messages arrive from its reading task ([`incoming`](super::incoming)),
//! are acted on ([`dispatch`](super::dispatch)), and an update
//! ([`update`](super::update)) goes to its writing task
//! ([`outgoing`](super::outgoing)) when the viewer asked for one, something
//! changed, and the throttle allows.
//!
//! Output is throttled as QEMU does: an incremental update waits while more
//! than a threshold of bytes (a screenful in its pixel format, at least
//! [`MIN_THROTTLE`]) is still unsent, and a viewer whose unsent output passes
//! [`DROP_FACTOR`] times that is dropped. Unsent output is held on the
//! process's memory budget ([`memory`](crate::memory)), and so is the memory
//! an update takes while it is cut and encoded (`update::update_cost`). While the
//! budget is spent (a reservation refused, until memory is given back), no
//! viewer gets another update, and if viewers' unsent output holds more than
//! half of it, one with more than its fair share ([`FAIR_SHARE`]) unsent is
//! dropped, so that viewers that do not read
//! cannot together hold more than the budget, nor keep the others waiting.

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio_util::either::Either;
use tracing::{info, warn};

use super::client_message::{ClientMessage, MessageError};
use super::desktop::{ViewerId, ViewerInput};
use super::dispatch::{Asked, Dispatch};
use super::encoding::{Effort, Encoders, Encoding, number};
use super::group::{Membership, Next};
use super::group_key::GroupKey;
use super::handshake::{self, HandshakeError};
use super::incoming::Incoming;
use super::lifecycle::{Peer, Presence, ViewerInfo};
use super::outgoing::{self, Outgoing};
use super::pixel_format::PixelFormat;
use super::server_message::ServerMessage;
use super::settings::ServerSettings;
use super::shares::Grant;
use super::update::{self, Cut, Spare, UpdateError, update_cost};
use super::vencrypt;
use super::viewers::{JoinRefused, Registration, Shared, Slot, lock};
use crate::memory;

/// The least output allowed to wait unsent before incremental updates pause (QEMU: 1 MiB).
const MIN_THROTTLE: usize = 1 << 20;

/// Unsent output past this many thresholds drops the viewer (QEMU: 5).
const DROP_FACTOR: usize = 5;

/// While the budget is spent and viewers' unsent output holds more than half
/// of it, a viewer holding more than this is dropped: with up to 128 viewers holding that half, one of them does, so
/// memory is given back and the others' updates go on.
const FAIR_SHARE: usize = memory::PROCESS_BUDGET / 2 / 128;

/// Why a viewer's connection ended.
#[derive(Debug, thiserror::Error)]
enum Ended {
    #[error("handshake failed: {0}")]
    Handshake(#[from] HandshakeError),
    #[error("refused: {0}")]
    Refused(#[from] JoinRefused),
    #[error("protocol error: {0}")]
    Protocol(#[from] MessageError),
    #[error("closed by the viewer")]
    Closed,
    #[error("write failed: {0}")]
    WriteFailed(std::io::Error),
    #[error("let go: another viewer took exclusive access, the password changed, or the server stopped")]
    Kicked,
    #[error(
        "dropped in its handshake: the connection limit is reached and a newer connection took its place"
    )]
    Evicted,
    #[error("its share {0} was revoked or expired")]
    Unshared(String),
    #[error("dropped: {0} bytes of output unsent (the limit is {1})")]
    TooSlow(usize, usize),
    #[error("dropped: {0} bytes of output unsent while the process's memory budget is spent")]
    OverBudget(usize),
    #[error("the desktop went away")]
    DesktopGone,
    #[error(transparent)]
    Update(#[from] UpdateError),
}

impl Ended {
    /// Whether the viewer misbehaved (a warning), rather than just leaving.
    fn is_fault(&self) -> bool {
        match self {
            Ended::Protocol(MessageError::Io(_)) => false,
            Ended::Protocol(_) | Ended::TooSlow(..) | Ended::OverBudget(_) => true,
            Ended::Handshake(e) => matches!(
                e,
                HandshakeError::BadVersion(_)
                    | HandshakeError::SecurityTypeNotOffered(_)
                    | HandshakeError::AuthenticationFailed
                    | HandshakeError::BackingOff(_)
                    | HandshakeError::NeedsTls(_)
                    | HandshakeError::Vencrypt(_)
            ),
            _ => false,
        }
    }
}

/// Serves one viewer on `stream` (inside WebSocket if `websocket`) to the
/// end, logging its arrival and departure and listing it as open meanwhile.
/// A viewer let in by a share link (`grant`) skips the password, only watches
/// if the share says so, and leaves when the share ends.
/// `x509_dname` is the subject of the client certificate shown when TLS
/// came before (wss); VeNCrypt's is read when its handshake is done.
pub(crate) async fn serve<S>(
    shared: Arc<Shared>,
    stream: S,
    peer: Peer,
    websocket: bool,
    grant: Option<Grant>,
    x509_dname: Option<String>,
    slot: &Slot,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let id = shared.next_id();
    let share = grant.as_ref().map(|g| g.id.clone());
    let arrived = ViewerInfo {
        id,
        peer: peer.clone(),
        websocket,
        view_only: shared.settings.view_only || grant.as_ref().is_some_and(|g| g.view_only),
        initialized: false,
        share,
        x509_dname,
    };
    match &grant {
        Some(grant) => {
            let how = if grant.view_only { "view-only" } else { "read-write" };
            info!("vnc: connected: {} ({how})", arrived.who());
        }
        None => info!("vnc: connected: {}", arrived.who()),
    }
    let presence = shared.lifecycle.arrived(arrived.clone());
    // The viewer as listed once its handshake is done.
    let mut joined: Option<ViewerInfo> = None;
    let ended = match &grant {
        None => {
            let settings = lock(&shared.password).settings(&shared.settings);
            run(&shared, &arrived, stream, &presence, slot, &mut joined, &settings).await
        }
        Some(grant) => {
            // The token stands for the password; the share may take typing away.
            let settings = ServerSettings {
                password: None,
                view_only_password: None,
                view_only: shared.settings.view_only || grant.view_only,
                ..shared.settings.clone()
            };
            let session = run(&shared, &arrived, stream, &presence, slot, &mut joined, &settings);
            tokio::select! {
                ended = session => ended,
                () = grant.ended.cancelled() => Ended::Unshared(grant.id.clone()),
            }
        }
    };
    // Unlisted (and its departure told) before the log says it is gone.
    drop(presence);
    if joined.is_some() {
        shared.desktop.input(ViewerInput::Left { viewer: id });
    }
    let who = joined.as_ref().unwrap_or(&arrived).who();
    if ended.is_fault() {
        warn!("vnc: {who} disconnected: {ended}");
    } else {
        info!("vnc: {who} disconnected: {ended}");
    }
}

/// The handshake, registration and ServerInit within the handshake timeout
/// (unless a newer connection takes its `slot` meanwhile), then the session
/// of the viewer that `arrived`.
async fn run<S>(
    shared: &Arc<Shared>,
    arrived: &ViewerInfo,
    stream: S,
    presence: &Presence<'_>,
    slot: &Slot,
    joined: &mut Option<ViewerInfo>,
    settings: &ServerSettings,
) -> Ended
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (id, peer, websocket) = (arrived.id, &arrived.peer, arrived.websocket);
    let timeout = settings.handshake_timeout;
    let start = async {
        // A WebSocket viewer came in over wss when the server has TLS: VeNCrypt
        // is for the RFB listeners.
        let (agreed, mut stream) =
            handshake::negotiate(stream, settings, &shared.backoff, &peer.backoff_key(), websocket).await?;
        let subject = match &stream {
            Either::Right(tls) => vencrypt::peer_subject(tls),
            Either::Left(_) => None,
        };
        let Some(registered) = shared.register(id, agreed.shared) else { return Err(Ended::DesktopGone) };
        let (registration, width, height) = registered?;
        let name = shared.desktop.name();
        let init = ServerMessage::ServerInit { width, height, format: PixelFormat::SERVER, name: &name };
        handshake::send(&mut stream, &init.to_bytes()).await.map_err(|e| Ended::Handshake(e.into()))?;
        Ok::<_, Ended>((agreed, subject, stream, registration, width, height))
    };
    let started = tokio::select! {
        started = tokio::time::timeout(timeout, start) => started,
        () = shared.shutdown().cancelled() => return Ended::Kicked,
        () = slot.evicted().cancelled() => return Ended::Evicted,
    };
    let (agreed, subject, stream, registration, width, height) = match started {
        Ok(Ok(started)) => started,
        Ok(Err(ended)) => return ended,
        Err(_) => return Ended::Handshake(HandshakeError::TimedOut(timeout)),
    };
    if !slot.joined() {
        return Ended::Evicted;
    }
    let view_only = agreed.view_only || settings.view_only;
    let info = presence.initialized(view_only, subject).unwrap_or_else(|| arrived.clone());
    let how = if view_only { "view-only" } else { "read-write" };
    info!("vnc: initialized: {} ({how})", info.who());
    *joined = Some(info);
    let (reader, writer) = tokio::io::split(stream);
    let outgoing = Outgoing::start(writer);
    let incoming = Incoming::start(reader);
    let mut session = Session {
        shared: shared.clone(),
        registration,
        view_only,
        asked: Asked::new(),
        encoders: Encoders::new(),
        size: (width, height),
        outgoing,
        membership: None,
        own_view: false,
        behind: false,
    };
    session.run(incoming).await
}

/// A viewer past its handshake.
struct Session {
    shared: Arc<Shared>,
    registration: Registration,
    view_only: bool,
    /// What the viewer asked of its updates.
    asked: Asked,
    encoders: Encoders,
    /// The framebuffer size the viewer knows.
    size: (u16, u16),
    outgoing: Outgoing,
    /// Its group, when it is sent a group's frames (`group`).
    membership: Option<Membership>,
    /// The screen changed again while its last update of its own was being
    /// encoded: the next goes at [`Effort::for_load`]'s fast effort.
    behind: bool,
    /// It was shown a framebuffer of its own at its last update.
    own_view: bool,
}

impl Session {
    fn id(&self) -> ViewerId {
        self.registration.id
    }

    /// The unsent output past which incremental updates wait: a screenful in
    /// the viewer's format, at least [`MIN_THROTTLE`].
    fn threshold(&self) -> usize {
        (usize::from(self.size.0) * usize::from(self.size.1) * self.asked.format.bytes_per_pixel())
            .max(MIN_THROTTLE)
    }

    /// Whether incremental updates wait: too much unsent, or the process's
    /// memory budget is spent.
    fn throttled(&self) -> bool {
        self.outgoing.unsent() > self.threshold() || memory::process().under_pressure()
    }

    async fn run(&mut self, mut incoming: Incoming) -> Ended {
        let mut changes = self.shared.desktop.changes();
        let mut clipboard = self.shared.desktop.clipboard();
        clipboard.borrow_and_update();
        let mut clipboard_open = true;
        let kick = self.registration.kick.clone();
        let mut pressure = memory::process().pressure();
        loop {
            if let Err(ended) = self.update(&mut changes).await {
                return ended;
            }
            let throttled = self.throttled();
            let waiting = self.asked.request.is_some() && !throttled;
            let mut head = self.membership.as_ref().map(|m| m.head.clone());
            let member = head.is_some();
            tokio::select! {
                biased;
                () = kick.cancelled() => return Ended::Kicked,
                written = &mut self.outgoing.writer => {
                    return match written {
                        Ok(Err(e)) => Ended::WriteFailed(e),
                        _ => Ended::Closed,
                    };
                }
                message = incoming.next() => match message {
                    Some(Ok(message)) => {
                        match message {
                            ClientMessage::Key { down: true, .. } => self.shared.typed(self.id()),
                            ClientMessage::Pointer { .. } => self.shared.pointed(),
                            _ => {}
                        }
                        let to = Dispatch {
                            viewer: self.id(),
                            view_only: self.view_only,
                            desktop: self.shared.desktop.as_ref(),
                            pending: &self.registration.pending,
                        };
                        self.asked.dispatch(message, &to);
                    }
                    Some(Err(MessageError::Io(e))) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                        return Ended::Closed;
                    }
                    Some(Err(e)) => return Ended::Protocol(e),
                    None => return Ended::Closed,
                },
                changed = changes.changed(), if waiting && !member => {
                    if changed.is_err() {
                        return Ended::DesktopGone;
                    }
                }
                _ = async { head.as_mut()?.changed().await.ok() }, if waiting && member => {}
                changed = clipboard.changed(), if clipboard_open => match changed {
                    Ok(()) => {
                        let text = clipboard.borrow_and_update().clone();
                        if let Some(text) = text {
                            self.outgoing.send(ServerMessage::ServerCutText(&text).to_bytes());
                        }
                    }
                    Err(_) => clipboard_open = false,
                },
                () = self.outgoing.drained.notified(), if throttled => {}
                // Never closed: the budget is static.
                _ = pressure.changed() => {}
            }
            let unsent = self.outgoing.unsent();
            if unsent > DROP_FACTOR * self.threshold() {
                return Ended::TooSlow(unsent, DROP_FACTOR * self.threshold());
            }
            let crowded =
                memory::process().under_pressure() && outgoing::all_unsent() > memory::PROCESS_BUDGET / 2;
            if crowded && unsent > FAIR_SHARE {
                return Ended::OverBudget(unsent);
            }
        }
    }

    /// What makes its updates the same bytes as another viewer's.
    fn key(&self) -> GroupKey {
        GroupKey {
            encoding: self.asked.encoding,
            format: self.asked.format,
            copy_rect: self.asked.takes(number::COPY_RECT),
        }
    }

    /// Sends an update if one was asked for and there is something to send (or
    /// it was not incremental), and output is not throttled: its group's
    /// frames, or one of its own.
    async fn update(&mut self, changes: &mut watch::Receiver<u64>) -> Result<(), Ended> {
        let Some(incremental) = self.asked.request else { return Ok(()) };
        // A full update goes whatever is unsent (QEMU's rule), unless the
        // process's budget is spent.
        if self.throttled() && (incremental || memory::process().under_pressure()) {
            return Ok(());
        }
        if self.membership.is_some()
            && let Some(sent) = self.group_update(incremental)
        {
            return sent;
        }
        self.own_update(changes).await?;
        if self.membership.is_none()
            && self.asked.request.is_none()
            && !self.own_view
            && self.encoders.can_join(self.asked.encoding)
        {
            let pending = self.registration.pending.clone();
            self.membership = self.shared.join(self.id(), self.key(), &pending, &self.encoders);
            if self.membership.is_some() && self.asked.encoding == Encoding::Tight {
                // Its compressors are not needed any more: whether it takes
                // the group's frames or leaves before, its next data comes
                // from fresh ones (a viewer connecting in Tight held about
                // 1 MiB of zlib state until its first frame from the group).
                self.encoders.hand_over(Encoding::Tight);
            }
        }
        Ok(())
    }

    /// Sends its group's frames if it can; `None` when it left the group
    /// and must send an update of its own.
    fn group_update(&mut self, incremental: bool) -> Option<Result<(), Ended>> {
        let key = self.key();
        let membership = self.membership.as_mut()?;
        if incremental && memory::process().under_pressure() {
            // The budget is spent: no viewer gets another update until
            // memory is given back (the session wakes when it is).
            return Some(Ok(()));
        }
        let next = if !incremental || membership.key() != key { Next::Evicted } else { membership.next() };
        match next {
            Next::Frames(frames) => {
                // The group's streams are its streams now.
                self.encoders.hand_over(key.encoding);
                let bodies = frames.iter().map(|f| (f.body.as_slice(), f.count));
                update::send_frames(bodies, &mut self.asked, self.size, &self.outgoing);
                self.asked.request = None;
                Some(Ok(()))
            }
            Next::Wait if !self.asked.owes_announcement() => {
                membership.want();
                Some(Ok(()))
            }
            Next::Wait | Next::Evicted => {
                // Alone from here: its streams where the last frame left
                // them, and everything to send again.
                if membership.joined() {
                    self.encoders.resume(membership.checkpoint());
                }
                self.membership = None;
                let mut pending = lock(&self.registration.pending);
                let (width, height) = pending.size();
                pending.restart(width, height);
                None
            }
        }
    }

    /// Sends an update of its own, cut from the framebuffer it sees.
    async fn own_update(&mut self, changes: &mut watch::Receiver<u64>) -> Result<(), Ended> {
        let Some(working) = memory::process().try_reserve(update_cost(self.size.0, self.size.1)) else {
            // Refused: the budget is under pressure until memory is given back.
            return Ok(());
        };
        changes.borrow_and_update();
        let pending = self.registration.pending.clone();
        let cell_size = self.shared.desktop.cell_size();
        let copies = self.asked.takes(number::COPY_RECT).then_some(self.asked.encoding);
        let id = self.id();
        // A viewer alone keeps no buffers between updates (a group does).
        let mut spare = Spare::default();
        let cut = self.shared.refresh(id, |framebuffer, own| {
            (Cut::take(framebuffer, &pending, cell_size, copies, &mut spare), own.contains(&id))
        });
        let Some((cut, own_view)) = cut else { return Err(Ended::DesktopGone) };
        self.own_view = own_view;
        if cut.is_empty() && !self.asked.owes_announcement() {
            return Ok(());
        }
        let size = (cut.taken.width, cut.taken.height);
        self.encoders.set_effort(Effort::for_load(self.behind));
        update::send(cut, &mut self.asked, &mut self.encoders, cell_size, &self.outgoing).await?;
        self.behind = changes.has_changed().unwrap_or(false);
        drop(working);
        self.size = size;
        self.asked.request = None;
        Ok(())
    }
}
