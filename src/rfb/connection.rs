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
//! [`DROP_FACTOR`] times that is dropped.

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tracing::{info, warn};

use super::client_message::MessageError;
use super::desktop::{ViewerId, ViewerInput};
use super::dispatch::{Asked, Dispatch};
use super::encoding::{Encoders, number};
use super::handshake::{self, HandshakeError};
use super::incoming::Incoming;
use super::lifecycle::{Peer, Presence, ViewerInfo};
use super::outgoing::Outgoing;
use super::pixel_format::PixelFormat;
use super::server_message::ServerMessage;
use super::settings::ServerSettings;
use super::shares::Grant;
use super::update::{self, Cut, UpdateError};
use super::viewers::{JoinRefused, Registration, Shared, lock};

/// The least output allowed to wait unsent before incremental updates pause (QEMU: 1 MiB).
const MIN_THROTTLE: usize = 1 << 20;

/// Unsent output past this many thresholds drops the viewer (QEMU: 5).
const DROP_FACTOR: usize = 5;

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
    #[error(
        "disconnected: another viewer took exclusive access, the password changed, or the server stopped"
    )]
    Kicked,
    #[error("disconnected: its share {0} was revoked or expired")]
    Unshared(String),
    #[error("dropped: {0} bytes of output unsent (the limit is {1})")]
    TooSlow(usize, usize),
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
            Ended::Protocol(_) | Ended::TooSlow(..) => true,
            Ended::Handshake(e) => matches!(
                e,
                HandshakeError::BadVersion(_)
                    | HandshakeError::SecurityTypeNotOffered(_)
                    | HandshakeError::AuthenticationFailed
                    | HandshakeError::BackingOff(_)
            ),
            _ => false,
        }
    }
}

/// Serves one viewer on `stream` (inside WebSocket if `websocket`) to the
/// end, logging its arrival and departure and listing it as open meanwhile.
/// A viewer let in by a share link (`grant`) skips the password, only watches
/// if the share says so, and leaves when the share ends.
pub(crate) async fn serve<S>(
    shared: Arc<Shared>,
    stream: S,
    peer: Peer,
    websocket: bool,
    grant: Option<Grant>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let id = shared.next_id();
    let share = grant.as_ref().map(|g| g.id.clone());
    match &grant {
        Some(grant) => {
            let how = if grant.view_only { "view-only" } else { "read-write" };
            info!("vnc: viewer {id} connected from {peer} through share {} ({how})", grant.id);
        }
        None => info!("vnc: viewer {id} connected from {peer}"),
    }
    let arrived = ViewerInfo {
        id,
        peer: peer.clone(),
        websocket,
        view_only: shared.settings.view_only || grant.as_ref().is_some_and(|g| g.view_only),
        initialized: false,
        share,
    };
    let presence = shared.lifecycle.arrived(arrived);
    let mut joined = false;
    let ended = match &grant {
        None => {
            let settings = lock(&shared.password).settings(&shared.settings);
            run(&shared, id, stream, &peer, &presence, &mut joined, &settings).await
        }
        Some(grant) => {
            // The token stands for the password; the share may take typing away.
            let settings = ServerSettings {
                password: None,
                view_only_password: None,
                view_only: shared.settings.view_only || grant.view_only,
                ..shared.settings.clone()
            };
            let session = run(&shared, id, stream, &peer, &presence, &mut joined, &settings);
            tokio::select! {
                ended = session => ended,
                () = grant.ended.cancelled() => Ended::Unshared(grant.id.clone()),
            }
        }
    };
    // Unlisted (and its departure told) before the log says it is gone.
    drop(presence);
    if joined {
        shared.desktop.input(ViewerInput::Left { viewer: id });
    }
    if ended.is_fault() {
        warn!("vnc: viewer {id} from {peer} disconnected: {ended}");
    } else {
        info!("vnc: viewer {id} from {peer} disconnected: {ended}");
    }
}

/// The handshake, registration and ServerInit within the handshake timeout,
/// then the session.
async fn run<S>(
    shared: &Arc<Shared>,
    id: ViewerId,
    mut stream: S,
    peer: &Peer,
    presence: &Presence<'_>,
    joined: &mut bool,
    settings: &ServerSettings,
) -> Ended
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let timeout = settings.handshake_timeout;
    let start = async {
        let agreed =
            handshake::negotiate(&mut stream, settings, &shared.backoff, &peer.backoff_key()).await?;
        let Some(registered) = shared.register(id, agreed.shared) else { return Err(Ended::DesktopGone) };
        let (registration, width, height) = registered?;
        let name = shared.desktop.name();
        let init = ServerMessage::ServerInit { width, height, format: PixelFormat::SERVER, name: &name };
        handshake::send(&mut stream, &init.to_bytes()).await.map_err(|e| Ended::Handshake(e.into()))?;
        Ok::<_, Ended>((agreed, registration, width, height))
    };
    let started = tokio::select! {
        started = tokio::time::timeout(timeout, start) => started,
        () = shared.shutdown().cancelled() => return Ended::Kicked,
    };
    let (agreed, registration, width, height) = match started {
        Ok(Ok(started)) => started,
        Ok(Err(ended)) => return ended,
        Err(_) => return Ended::Handshake(HandshakeError::TimedOut(timeout)),
    };
    *joined = true;
    let view_only = agreed.view_only || settings.view_only;
    presence.initialized(view_only);
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

    fn throttled(&self) -> bool {
        self.outgoing.unsent() > self.threshold()
    }

    async fn run(&mut self, mut incoming: Incoming) -> Ended {
        let mut changes = self.shared.desktop.changes();
        let mut clipboard = self.shared.desktop.clipboard();
        clipboard.borrow_and_update();
        let mut clipboard_open = true;
        let kick = self.registration.kick.clone();
        loop {
            if let Err(ended) = self.update(&mut changes).await {
                return ended;
            }
            let throttled = self.throttled();
            let waiting = self.asked.request.is_some() && !throttled;
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
                changed = changes.changed(), if waiting => {
                    if changed.is_err() {
                        return Ended::DesktopGone;
                    }
                }
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
            }
            let unsent = self.outgoing.unsent();
            if unsent > DROP_FACTOR * self.threshold() {
                return Ended::TooSlow(unsent, DROP_FACTOR * self.threshold());
            }
        }
    }

    /// Sends an update if one was asked for and there is something to send (or
    /// it was not incremental), and output is not throttled.
    async fn update(&mut self, changes: &mut watch::Receiver<u64>) -> Result<(), Ended> {
        let Some(incremental) = self.asked.request else { return Ok(()) };
        if incremental && self.throttled() {
            return Ok(());
        }
        changes.borrow_and_update();
        let pending = self.registration.pending.clone();
        let cell_size = self.shared.desktop.cell_size();
        let copies_cells = self.asked.encoding.copies_cells() && self.asked.takes(number::COPY_RECT);
        let cut = self
            .shared
            .refresh(self.id(), |framebuffer| Cut::take(framebuffer, &pending, cell_size, copies_cells));
        let Some(cut) = cut else { return Err(Ended::DesktopGone) };
        if cut.is_empty() && !self.asked.owes_announcement() {
            return Ok(());
        }
        let size = (cut.taken.width, cut.taken.height);
        update::send(cut, &mut self.asked, &mut self.encoders, cell_size, &self.outgoing).await?;
        self.size = size;
        self.asked.request = None;
        Ok(())
    }
}
