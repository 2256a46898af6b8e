//! One backend's driver: a task that writes or drops each chunk the hub
//! delivers, keeps a peer connected through the backend's connector, replays
//! the last bytes to a new peer when asked to, reads what the peer types,
//! copies what anyone types to a peer that records it, and lets its peer go
//! at once when the hub cuts it off for falling too far behind.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{info, warn};

use super::attach::{AttachOptions, BackendStats};
use super::lag::Backlog;
use super::port::{BoxFuture, BoxReader, BoxWriter, Connection, Connector};
use super::replay::Replay;

/// The most a driver reads from its peer at once (QEMU's READ_BUF_LEN).
const INPUT_CHUNK: usize = 4096;

/// One output chunk for one backend; for a backend the hub waits for (lag 0),
/// the driver answers on `done` when it has written the chunk or dropped it.
pub(super) struct Delivery {
    pub(super) data: Bytes,
    pub(super) done: Option<oneshot::Sender<()>>,
}

/// What a hub shares with each of its drivers.
#[derive(Clone)]
pub(super) struct Shared {
    /// The hub's id, for its OPENED/CLOSED lines.
    pub(super) hub: String,
    /// Where typed input goes, towards the frontend.
    pub(super) input: mpsc::Sender<Bytes>,
    /// How many backends have a peer connected, for OPENED/CLOSED.
    pub(super) open: Arc<AtomicUsize>,
    /// Every chunk typed into the console, as it goes to the frontend, for
    /// peers that record it ([`Connection::typed`]). A peer that falls behind
    /// loses chunks rather than holding anyone back.
    pub(super) typed: broadcast::Sender<Bytes>,
}

/// What a connector's attempt gives back: the connector itself and the outcome.
type Attempt = (Box<dyn Connector>, std::io::Result<Option<Connection>>);

/// The state of a backend's connector: idle, or busy making the next connection.
/// The connector moves into its future so that the wait survives the driver's
/// other work (a reconnect delay is not restarted by every chunk).
enum Connecting {
    Idle(Box<dyn Connector>),
    Busy(BoxFuture<'static, Attempt>),
    /// The connector said it will never connect again.
    Done,
}

impl Connecting {
    fn start(connector: Box<dyn Connector>) -> Connecting {
        Connecting::Busy(Box::pin(async move {
            let mut connector = connector;
            let result = connector.connect().await;
            (connector, result)
        }))
    }
}

/// A peer that is connected now.
struct Live {
    peer: String,
    writer: BoxWriter,
    /// The task reading what the peer types; it ends when the peer hangs up.
    reader: Option<JoinHandle<()>>,
    /// For a peer that records the console's input: where it goes, and the
    /// hub's copy of it.
    typed: Option<Typed>,
}

/// A recording peer's view of the console's input.
struct Typed {
    writer: BoxWriter,
    heard: broadcast::Receiver<Bytes>,
}

/// Drives one backend: writes or drops each delivered chunk, keeps a peer
/// connected, reads what it types.
pub(super) struct Driver {
    id: String,
    shared: Shared,
    logfile: Option<BoxWriter>,
    /// The last bytes delivered, for the next peer that connects.
    replay: Replay,
    /// How far behind the console it is, and the hub's word to cut off.
    backlog: Arc<Backlog>,
    stats: BackendStats,
    /// `stats.dropped` when the last peer left, to say how much it missed.
    dropped_while_away: u64,
    first_connect: Option<oneshot::Sender<()>>,
}

impl Driver {
    /// A driver for backend `id`; `first_connect` fires when its first peer has connected.
    pub(super) fn new(
        id: &str,
        shared: Shared,
        options: AttachOptions,
        backlog: Arc<Backlog>,
        first_connect: oneshot::Sender<()>,
    ) -> Driver {
        Driver {
            id: id.to_string(),
            shared,
            logfile: options.logfile,
            replay: Replay::new(options.replay),
            backlog,
            stats: BackendStats::default(),
            dropped_while_away: 0,
            first_connect: Some(first_connect),
        }
    }

    /// Runs until the hub closes `inbox` (at its end, or when it detaches the
    /// backend): then the peer is closed, the logfile shut down, and the
    /// figures returned.
    pub(super) async fn run(
        mut self,
        connector: Box<dyn Connector>,
        mut inbox: mpsc::UnboundedReceiver<Delivery>,
    ) -> BackendStats {
        let mut connecting = Connecting::start(connector);
        let mut live: Option<Live> = None;
        let backlog = self.backlog.clone();
        loop {
            // A cut comes first: the hub has already told of it. A connection
            // that is ready is taken before the next chunk, so that a log or a
            // terminal is there from the console's first byte.
            tokio::select! {
                biased;
                () = backlog.cut_off() => self.cut(&mut live, &mut inbox).await,
                (connector, result) = busy(&mut connecting) => {
                    connecting = match result {
                        Ok(Some(connection)) => {
                            live = Some(self.opened(connection));
                            if self.send_replay(&mut live).await == Outcome::CutOff {
                                self.cut(&mut live, &mut inbox).await;
                            }
                            Connecting::Idle(connector)
                        }
                        Ok(None) => Connecting::Done,
                        Err(e) => {
                            warn!("{}: cannot connect any more: {e}", self.id);
                            Connecting::Done
                        }
                    };
                }
                // Before the next chunk: a typed chunk's echo may be in it.
                event = peer_event(&mut live) => match event {
                    PeerEvent::HungUp => {
                        if let Some(gone) = live.take() {
                            info!("{}: {} disconnected", self.id, gone.peer);
                            self.closed(gone, Farewell::Graceful).await;
                        }
                    }
                    PeerEvent::Typed(heard) => self.record_typed(&mut live, heard).await,
                },
                delivery = inbox.recv() => {
                    let Some(delivery) = delivery else { break };
                    if self.finish(&mut live, delivery).await == Outcome::CutOff {
                        self.cut(&mut live, &mut inbox).await;
                    }
                }
            }
            if live.is_none()
                && let Connecting::Idle(_) = connecting
                && let Connecting::Idle(connector) = std::mem::replace(&mut connecting, Connecting::Done)
            {
                connecting = Connecting::start(connector);
            }
        }
        if let Some(live) = live.take() {
            self.closed(live, Farewell::Graceful).await;
        }
        if let Some(log) = self.logfile.as_mut() {
            let _ = log.shutdown().await;
        }
        self.stats.dropped += self.backlog.take_skipped();
        self.stats
    }

    /// Writes or drops one delivered chunk, then says so: to the backlog, and
    /// to the hub if it waits.
    async fn finish(&mut self, live: &mut Option<Live>, delivery: Delivery) -> Outcome {
        let Delivery { data, done } = delivery;
        let outcome = self.deliver(live, &data).await;
        self.backlog.finished(data.len());
        drop(data);
        if let Some(done) = done {
            let _ = done.send(());
        }
        outcome
    }

    /// The hub cut this backend off: the peer is let go at once (not flushed:
    /// it is not reading), every chunk still held is dropped, and the hub may
    /// hand chunks again. The peer may connect again at the current position.
    async fn cut(&mut self, live: &mut Option<Live>, inbox: &mut mpsc::UnboundedReceiver<Delivery>) {
        if let Some(gone) = live.take() {
            self.closed(gone, Farewell::Abrupt).await;
        }
        while let Ok(delivery) = inbox.try_recv() {
            self.finish(live, delivery).await;
        }
        let skipped = self.backlog.cut_done();
        if skipped > 0 {
            self.stats.dropped += skipped;
            // The bytes kept for the next peer no longer lead up to the live
            // stream: a replay would hide the gap.
            self.replay.clear();
        }
    }

    /// Writes one chunk to the peer, or counts it dropped when there is none or
    /// the write fails (then the peer is let go) or the hub cuts the backend
    /// off meanwhile (then the caller cuts). Either way it is kept for replay.
    async fn deliver(&mut self, live: &mut Option<Live>, data: &Bytes) -> Outcome {
        let len = data.len() as u64;
        self.replay.record(data);
        if let Some(log) = self.logfile.as_mut()
            && let Err(e) = log.write_all(data).await.and(log.flush().await)
        {
            warn!("{}: logfile failed, no longer logging: {e}", self.id);
            self.logfile = None;
        }
        let Some(peer) = live.as_mut() else {
            self.stats.dropped += len;
            return Outcome::Done;
        };
        match write_chunk(peer, data, &self.backlog).await {
            Ok(()) => {
                self.stats.written += len;
                Outcome::Done
            }
            Err((sent, stop)) => {
                self.stats.written += sent as u64;
                self.stats.dropped += len - sent as u64;
                match stop {
                    Stop::CutOff => Outcome::CutOff,
                    Stop::Failed(e) => {
                        if let Some(gone) = live.take() {
                            info!(
                                "{}: {} disconnected ({e}); skipping it until it is back",
                                self.id, gone.peer
                            );
                            self.closed(gone, Farewell::Graceful).await;
                        }
                        Outcome::Done
                    }
                }
            }
        }
    }

    /// Takes a new peer: it starts at the current position, after the replay.
    fn opened(&mut self, connection: Connection) -> Live {
        let missed = self.stats.dropped - self.dropped_while_away;
        let mut notes = Vec::new();
        if missed > 0 {
            notes.push(format!("{missed} bytes dropped while no one was"));
        }
        if !self.replay.is_empty() {
            notes.push(format!("replaying the last {} bytes", self.replay.len()));
        }
        if notes.is_empty() {
            info!("{}: {} connected", self.id, connection.peer);
        } else {
            info!("{}: {} connected ({})", self.id, connection.peer, notes.join("; "));
        }
        if let Some(first) = self.first_connect.take() {
            let _ = first.send(());
        }
        if self.shared.open.fetch_add(1, Ordering::SeqCst) == 0 {
            info!("{}: OPENED ({} is the first backend connected)", self.shared.hub, self.id);
        }
        let reader = connection
            .reader
            .map(|r| tokio::spawn(read_input(r, self.shared.input.clone(), connection.eof_is_hangup)));
        let typed = connection.typed.map(|writer| Typed { writer, heard: self.shared.typed.subscribe() });
        Live { peer: connection.peer, writer: connection.writer, reader, typed }
    }

    /// Writes one typed chunk to a recording peer. Chunks it fell too far
    /// behind to get are skipped and said so; a failed write lets the peer go,
    /// as a failed output write does.
    async fn record_typed(&mut self, live: &mut Option<Live>, heard: Result<Bytes, RecvError>) {
        let Some(Typed { writer, .. }) = live.as_mut().and_then(|l| l.typed.as_mut()) else { return };
        let chunk = match heard {
            Ok(chunk) => chunk,
            Err(RecvError::Lagged(skipped)) => {
                warn!("{}: fell behind the console's input, {skipped} typed chunks not recorded", self.id);
                return;
            }
            // The hub keeps the sender as long as it runs.
            Err(RecvError::Closed) => return,
        };
        if let Err(e) = writer.write_all(&chunk).await.and(writer.flush().await)
            && let Some(gone) = live.take()
        {
            info!("{}: {} disconnected ({e}); skipping it until it is back", self.id, gone.peer);
            self.closed(gone, Farewell::Graceful).await;
        }
    }

    /// Sends a new peer the last bytes delivered before it came, before any
    /// further chunk; a peer that fails meanwhile is let go. Replayed bytes
    /// were counted when they were delivered, and are not counted again. A
    /// cut meanwhile is the caller's to carry out.
    async fn send_replay(&mut self, live: &mut Option<Live>) -> Outcome {
        let Some(peer) = live.as_mut() else { return Outcome::Done };
        let mut failure = None;
        for part in self.replay.contents() {
            if part.is_empty() {
                continue;
            }
            match write_chunk(peer, part, &self.backlog).await {
                Ok(()) => {}
                Err((_, Stop::CutOff)) => return Outcome::CutOff,
                Err((_, Stop::Failed(e))) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = failure
            && let Some(gone) = live.take()
        {
            info!("{}: {} disconnected during the replay ({e})", self.id, gone.peer);
            self.closed(gone, Farewell::Graceful).await;
        }
        Outcome::Done
    }

    /// Lets a peer go: flushes what it has (unless it is being cut off for not
    /// taking it), stops reading it, reports CLOSED.
    async fn closed(&mut self, mut gone: Live, farewell: Farewell) {
        if farewell == Farewell::Graceful {
            if let Some(mut typed) = gone.typed.take() {
                let _ = typed.writer.shutdown().await;
            }
            let _ = gone.writer.shutdown().await;
        }
        if let Some(reader) = gone.reader.take() {
            reader.abort();
        }
        self.dropped_while_away = self.stats.dropped;
        if self.shared.open.fetch_sub(1, Ordering::SeqCst) == 1 {
            info!("{}: CLOSED ({} was the last backend connected)", self.shared.hub, self.id);
        }
    }
}

/// Whether a chunk was finished, or the hub cut the backend off meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Done,
    CutOff,
}

/// How a peer is let go: flushed and shut down, or dropped at once (a peer cut
/// off for not reading would never take the flush).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Farewell {
    Graceful,
    Abrupt,
}

/// Why a write stopped before the whole chunk was taken.
enum Stop {
    /// The write failed or the peer hung up.
    Failed(std::io::Error),
    /// The hub cut the backend off.
    CutOff,
}

/// Resolves when the connector has a result; never while it is idle or done.
async fn busy(connecting: &mut Connecting) -> Attempt {
    match connecting {
        Connecting::Busy(future) => future.await,
        _ => std::future::pending().await,
    }
}

/// What the live peer needs from its driver besides the next chunk.
enum PeerEvent {
    /// It hung up.
    HungUp,
    /// A chunk was typed into the console, for a peer that records input.
    Typed(Result<Bytes, RecvError>),
}

/// Resolves when the live peer hangs up or, for a peer that records input,
/// when a chunk is typed; never when there is no peer.
async fn peer_event(live: &mut Option<Live>) -> PeerEvent {
    let Some(Live { reader, typed, .. }) = live else { return std::future::pending().await };
    let heard = async {
        match typed {
            Some(typed) => typed.heard.recv().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        biased;
        () = reader_ended(reader) => PeerEvent::HungUp,
        heard = heard => PeerEvent::Typed(heard),
    }
}

/// Writes `data` whole to the peer, giving up if it hangs up or the hub cuts
/// the backend off meanwhile. On failure, says how many bytes it had taken.
async fn write_chunk(live: &mut Live, data: &[u8], backlog: &Backlog) -> Result<(), (usize, Stop)> {
    let Live { writer, reader, .. } = live;
    let gone = || Stop::Failed(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "peer hung up"));
    let mut sent = 0;
    while sent < data.len() {
        let n = tokio::select! {
            n = writer.write(&data[sent..]) => n.map_err(|e| (sent, Stop::Failed(e)))?,
            () = reader_ended(reader) => return Err((sent, gone())),
            () = backlog.cut_off() => return Err((sent, Stop::CutOff)),
        };
        if n == 0 {
            return Err((sent, Stop::Failed(std::io::ErrorKind::WriteZero.into())));
        }
        sent += n;
    }
    // A flush that fails lost the chunk (a log on a full disk); a hang-up now came
    // after the kernel had taken it all.
    tokio::select! {
        r = writer.flush() => r.map_err(|e| (0, Stop::Failed(e))),
        () = reader_ended(reader) => Err((sent, gone())),
        () = backlog.cut_off() => Err((sent, Stop::CutOff)),
    }
}

async fn reader_ended(reader: &mut Option<JoinHandle<()>>) {
    match reader {
        Some(handle) => {
            let _ = handle.await;
        }
        None => std::future::pending().await,
    }
}

/// Reads what a peer types and sends it up in the chunks it arrived in. Ends when
/// the peer hangs up; a reader whose end of file is no hang-up (stdin) just stops.
async fn read_input(mut reader: BoxReader, input: mpsc::Sender<Bytes>, eof_is_hangup: bool) {
    let mut buffer = vec![0u8; INPUT_CHUNK];
    loop {
        match reader.read(&mut buffer).await {
            Ok(0) if !eof_is_hangup => std::future::pending().await,
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if input.send(Bytes::copy_from_slice(&buffer[..n])).await.is_err() {
                    std::future::pending().await
                }
            }
        }
    }
}
