//! One viewer, from handshake to goodbye: its messages are read by a task of
//! their own, its output is written by another, and between them this module
//! answers update requests with the viewer's pending region, encoded in its
//! pixel format and preferred encoding.
//!
//! Output is throttled as QEMU does: an incremental update waits while more
//! than a threshold of bytes (a screenful in its pixel format, at least 1 MiB)
//! is still unsent, and a viewer whose unsent output passes five times that is
//! dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::client_message::{self, ClientMessage, MessageError};
use super::encoding::{Encoders, Encoding, Patch, cell_copy, copyrect, number};
use super::handshake::{self, HandshakeError};
use super::pending::Taken;
use super::pixel_format::PixelFormat;
use super::screen::{ViewerId, ViewerInput};
use super::server_message::{ResizeStatus, ServerMessage};
use super::viewers::{JoinRefused, Peer, Registration, Shared, lock};
use crate::frame::{self, Framebuffer};

/// The least output allowed to wait unsent before incremental updates pause (QEMU: 1 MiB).
const MIN_THROTTLE: usize = 1 << 20;

/// Unsent output past this many thresholds drops the viewer (QEMU: 5).
const DROP_FACTOR: usize = 5;

/// Messages read ahead of the updater: few, as each may be a 1 MiB ClientCutText.
const MESSAGE_QUEUE: usize = 4;

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
    #[error("disconnected: another viewer took exclusive access, or the server stopped")]
    Kicked,
    #[error("dropped: {0} bytes of output unsent (the limit is {1})")]
    TooSlow(usize, usize),
    #[error("the screen went away")]
    ScreenGone,
    #[error("the screen was resized and the viewer takes no DesktopSize")]
    CannotResize,
    #[error("encoding an update failed")]
    EncoderFailed,
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

/// Serves one viewer on `stream` to the end, logging its arrival and departure.
pub(crate) async fn serve<S>(shared: Arc<Shared>, stream: S, peer: Peer)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let id = shared.next_id();
    info!("vnc: viewer {id} connected from {peer}");
    let mut joined = false;
    let ended = run(&shared, id, stream, &peer, &mut joined).await;
    if joined {
        shared.screen.input(ViewerInput::Left { viewer: id });
    }
    if ended.is_fault() {
        warn!("vnc: viewer {id} from {peer} disconnected: {ended}");
    } else {
        info!("vnc: viewer {id} from {peer} disconnected: {ended}");
    }
}

async fn run<S>(shared: &Arc<Shared>, id: ViewerId, mut stream: S, peer: &Peer, joined: &mut bool) -> Ended
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let timeout = shared.config.handshake_timeout;
    let start = async {
        let agreed =
            handshake::negotiate(&mut stream, &shared.config, &shared.backoff, &peer.backoff_key()).await?;
        let Some(registered) = shared.register(id, agreed.shared) else { return Err(Ended::ScreenGone) };
        let (registration, width, height) = registered?;
        let name = shared.screen.name();
        let init =
            ServerMessage::ServerInit { width, height, format: PixelFormat::SERVER, name: &name }.to_bytes();
        handshake::send(&mut stream, &init).await.map_err(|e| Ended::Handshake(e.into()))?;
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
    let (reader, writer) = tokio::io::split(stream);
    let output = Output::start(writer);
    let (message_tx, messages) = mpsc::channel(MESSAGE_QUEUE);
    // Buffered: a flood of small messages (PointerEvent, KeyEvent) costs a
    // read call per bufferful, not one per message.
    let reading = AbortOnDrop(tokio::spawn(read_messages(BufReader::new(reader), message_tx)));
    let mut viewer = Viewer {
        shared: shared.clone(),
        registration,
        view_only: agreed.view_only || shared.config.view_only,
        format: PixelFormat::SERVER,
        announced: Vec::new(),
        encoding: Encoding::Raw,
        encoders: Encoders::new(),
        request: None,
        announce_layout: false,
        announce_qemu_key: false,
        resize_answer: None,
        size: (width, height),
        output,
    };
    let ended = viewer.run(messages).await;
    drop(reading);
    ended
}

/// Aborts a task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn read_messages<R: AsyncRead + Unpin>(
    mut reader: R,
    to: mpsc::Sender<Result<ClientMessage, MessageError>>,
) {
    loop {
        let read = client_message::read(&mut reader).await;
        let last = !matches!(read, Ok(Some(_)));
        let Some(message) = read.transpose() else { return };
        if to.send(message).await.is_err() || last {
            return;
        }
    }
}

/// The viewer's output: buffers handed to a writer task, and how many bytes
/// are still unsent.
struct Output {
    buffers: mpsc::UnboundedSender<Vec<u8>>,
    unsent: Arc<AtomicUsize>,
    drained: Arc<Notify>,
    writer: JoinHandle<std::io::Result<()>>,
}

impl Output {
    fn start<W: AsyncWrite + Unpin + Send + 'static>(mut writer: W) -> Output {
        let (buffers, mut queue) = mpsc::unbounded_channel::<Vec<u8>>();
        let unsent = Arc::new(AtomicUsize::new(0));
        let drained = Arc::new(Notify::new());
        let (left, notify) = (unsent.clone(), drained.clone());
        let writer = tokio::spawn(async move {
            while let Some(buffer) = queue.recv().await {
                writer.write_all(&buffer).await?;
                writer.flush().await?;
                left.fetch_sub(buffer.len(), Ordering::SeqCst);
                notify.notify_one();
            }
            Ok(())
        });
        Output { buffers, unsent, drained, writer }
    }

    fn unsent(&self) -> usize {
        self.unsent.load(Ordering::SeqCst)
    }

    fn send(&self, buffer: Vec<u8>) {
        self.unsent.fetch_add(buffer.len(), Ordering::SeqCst);
        // If the writer is gone, its failure ends the connection anyway.
        let _ = self.buffers.send(buffer);
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        self.writer.abort();
    }
}

/// A viewer past its handshake.
struct Viewer {
    shared: Arc<Shared>,
    registration: Registration,
    view_only: bool,
    format: PixelFormat,
    /// SetEncodings, in the viewer's order.
    announced: Vec<i32>,
    encoding: Encoding,
    encoders: Encoders,
    /// An update was asked for and not sent yet: Some(true) if every request
    /// since the last update was incremental.
    request: Option<bool>,
    /// Tell the viewer our screen layout (it just announced ExtendedDesktopSize).
    announce_layout: bool,
    /// Tell the viewer it may send QEMU extended key events.
    announce_qemu_key: bool,
    /// Answer a SetDesktopSize with this status.
    resize_answer: Option<ResizeStatus>,
    /// The framebuffer size the viewer knows.
    size: (u16, u16),
    output: Output,
}

impl Viewer {
    fn id(&self) -> ViewerId {
        self.registration.id
    }

    fn takes(&self, encoding: i32) -> bool {
        self.announced.contains(&encoding)
    }

    /// The unsent output past which incremental updates wait: a screenful in
    /// the viewer's format, at least [`MIN_THROTTLE`].
    fn threshold(&self) -> usize {
        (usize::from(self.size.0) * usize::from(self.size.1) * self.format.bytes_per_pixel())
            .max(MIN_THROTTLE)
    }

    fn throttled(&self) -> bool {
        self.output.unsent() > self.threshold()
    }

    async fn run(&mut self, mut messages: mpsc::Receiver<Result<ClientMessage, MessageError>>) -> Ended {
        let mut changes = self.shared.screen.changes();
        let mut clipboard = self.shared.screen.clipboard();
        clipboard.borrow_and_update();
        let mut clipboard_open = true;
        let kick = self.registration.kick.clone();
        loop {
            if let Err(ended) = self.update(&mut changes).await {
                return ended;
            }
            let throttled = self.throttled();
            let waiting = self.request.is_some() && !throttled;
            tokio::select! {
                biased;
                () = kick.cancelled() => return Ended::Kicked,
                written = &mut self.output.writer => {
                    return match written {
                        Ok(Err(e)) => Ended::WriteFailed(e),
                        _ => Ended::Closed,
                    };
                }
                message = messages.recv() => match message {
                    Some(Ok(message)) => self.handle(message),
                    Some(Err(MessageError::Io(e))) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                        return Ended::Closed;
                    }
                    Some(Err(e)) => return Ended::Protocol(e),
                    None => return Ended::Closed,
                },
                changed = changes.changed(), if waiting => {
                    if changed.is_err() {
                        return Ended::ScreenGone;
                    }
                }
                changed = clipboard.changed(), if clipboard_open => match changed {
                    Ok(()) => {
                        let text = clipboard.borrow_and_update().clone();
                        if let Some(text) = text {
                            self.send_cut_text(&text);
                        }
                    }
                    Err(_) => clipboard_open = false,
                },
                () = self.output.drained.notified(), if throttled => {}
            }
            let unsent = self.output.unsent();
            if unsent > DROP_FACTOR * self.threshold() {
                return Ended::TooSlow(unsent, DROP_FACTOR * self.threshold());
            }
        }
    }

    fn handle(&mut self, message: ClientMessage) {
        let viewer = self.id();
        match message {
            ClientMessage::SetPixelFormat(format) => self.format = format,
            ClientMessage::SetEncodings(encodings) => {
                let had_layout = self.takes(number::EXTENDED_DESKTOP_SIZE);
                let had_qemu_key = self.takes(number::QEMU_EXTENDED_KEY);
                self.announced = encodings;
                self.encoding = Encoding::preferred(&self.announced);
                debug!(
                    "vnc: viewer {} announced encodings {:?}: pixels go as {:?}",
                    self.registration.id, self.announced, self.encoding
                );
                let moves = self.takes(number::COPY_RECT);
                lock(&self.registration.pending).set_moves_allowed(moves);
                self.announce_layout |= !had_layout && self.takes(number::EXTENDED_DESKTOP_SIZE);
                self.announce_qemu_key |= !had_qemu_key && self.takes(number::QEMU_EXTENDED_KEY);
            }
            ClientMessage::UpdateRequest { incremental, area } => {
                if !incremental {
                    lock(&self.registration.pending).add_rect(area);
                }
                self.request = Some(self.request.unwrap_or(true) && incremental);
            }
            ClientMessage::Key { down, keysym } => {
                // keysym 0: a QEMU extended key event with only a keycode.
                if !self.view_only && keysym != 0 {
                    self.shared.screen.input(ViewerInput::Key { viewer, keysym, down });
                }
            }
            ClientMessage::Pointer { buttons, x, y } => {
                if !self.view_only {
                    self.shared.screen.input(ViewerInput::Pointer { viewer, x, y, buttons });
                }
            }
            ClientMessage::CutText(text) => {
                if !self.view_only {
                    self.shared.screen.input(ViewerInput::Clipboard { viewer, text });
                }
            }
            ClientMessage::SetDesktopSize { width, height } => {
                if self.view_only {
                    self.resize_answer = Some(ResizeStatus::Prohibited);
                } else if width == 0 || height == 0 || !frame::fits(width.into(), height.into()) {
                    // As TigerVNC answers a size past its limit.
                    self.resize_answer = Some(ResizeStatus::InvalidLayout);
                } else {
                    self.shared.screen.input(ViewerInput::Resize { viewer, width, height });
                    self.resize_answer = Some(ResizeStatus::Done);
                }
            }
        }
    }

    /// Sends an update if one was asked for and there is something to send (or
    /// it was not incremental), and output is not throttled.
    async fn update(&mut self, changes: &mut watch::Receiver<u64>) -> Result<(), Ended> {
        let Some(incremental) = self.request else { return Ok(()) };
        if incremental && self.throttled() {
            return Ok(());
        }
        changes.borrow_and_update();
        let pending = self.registration.pending.clone();
        // Cell copies read the whole screen, outside the damage too.
        let cell_size = self.shared.screen.cell_size();
        let copies_cells = self.encoding.copies_cells() && self.takes(number::COPY_RECT);
        let copied = self.shared.refresh(self.id(), |framebuffer| {
            let taken = lock(&pending).take();
            let patches: Vec<Patch> = taken
                .rects
                .iter()
                .map(|&rect| {
                    let mut pixels = Vec::new();
                    framebuffer.copy_rect(rect, &mut pixels);
                    Patch { rect, pixels }
                })
                .collect();
            let worth =
                cell_size.is_some_and(|cell| copies_cells && cell_copy::worth_planning(cell, &taken.rects));
            let screen = worth.then(|| framebuffer.clone());
            (taken, patches, screen)
        });
        let Some((taken, patches, screen)) = copied else { return Err(Ended::ScreenGone) };
        let announcements = self.announce_layout || self.announce_qemu_key || self.resize_answer.is_some();
        if taken.moves.is_empty() && patches.is_empty() && !taken.resized && !announcements {
            return Ok(());
        }
        self.send_update(taken, patches, screen).await?;
        self.request = None;
        Ok(())
    }

    /// Sends `patches` after the moves; `screen`, the framebuffer they were
    /// cut from, when repeated cells may go as copies.
    async fn send_update(
        &mut self,
        taken: Taken,
        mut patches: Vec<Patch>,
        screen: Option<Framebuffer>,
    ) -> Result<(), Ended> {
        let (width, height) = (taken.width, taken.height);
        let extended = self.takes(number::EXTENDED_DESKTOP_SIZE);
        if taken.resized && !extended && !self.takes(number::DESKTOP_SIZE) {
            return Err(Ended::CannotResize);
        }
        self.size = (width, height);
        // ExtendedDesktopSize goes alone: vnc-rs refuses pixels in its update.
        if extended && (taken.resized || self.announce_layout || self.resize_answer.is_some()) {
            let answer = self.resize_answer.take();
            let mut message = ServerMessage::FramebufferUpdate { rectangles: 1 }.to_bytes();
            ServerMessage::ExtendedDesktopSize { answer, width, height }.encode(&mut message);
            self.output.send(message);
            self.announce_layout = false;
        }
        self.resize_answer = None;

        let mut body = Vec::new();
        let mut count: u32 = 0;
        if taken.resized && !extended {
            ServerMessage::DesktopSize { width, height }.encode(&mut body);
            count += 1;
        }
        if std::mem::take(&mut self.announce_qemu_key) {
            ServerMessage::QemuExtendedKey.encode(&mut body);
            count += 1;
        }
        for mv in &taken.moves {
            copyrect::encode(mv, &mut body);
            count += 1;
        }
        // zlib takes milliseconds a screenful: off the runtime's threads.
        let mut encoders = std::mem::take(&mut self.encoders);
        encoders.set_cell_size(self.shared.screen.cell_size());
        let (encoding, format) = (self.encoding, self.format);
        let encoded = tokio::task::spawn_blocking(move || {
            let copies = screen.map_or_else(Vec::new, |screen| {
                encoders.copy_cells(encoding, &screen, &mut patches, &format)
            });
            let mut count = 0u32;
            for patch in &patches {
                count += u32::from(encoders.encode(encoding, patch, &format, &mut body));
            }
            for mv in &copies {
                copyrect::encode(mv, &mut body);
                count += 1;
            }
            (encoders, body, count)
        })
        .await;
        let Ok((encoders, body, encoded_count)) = encoded else { return Err(Ended::EncoderFailed) };
        self.encoders = encoders;
        count += encoded_count;
        if count > 0 {
            // Past 65535 rectangles the count would not fit: it cannot get there.
            // The pending rectangles (at most 32) add up to at most the screen,
            // Tight cuts them into pieces of 65536 pixels (a few thousand for
            // the largest screen), ZRLE into at most 256 cell columns each;
            // cell copies are at most 16384.
            let rectangles = count.min(u32::from(u16::MAX)) as u16;
            let mut message = ServerMessage::FramebufferUpdate { rectangles }.to_bytes();
            message.extend_from_slice(&body);
            self.output.send(message);
        }
        Ok(())
    }

    fn send_cut_text(&self, text: &str) {
        self.output.send(ServerMessage::ServerCutText(text).to_bytes());
    }
}
