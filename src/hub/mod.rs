//! The hub: QEMU's mux-be core, fanning one frontend out to 1..=4 backends.
//!
//! **Output** (frontend → backends): the hub reads a chunk from the frontend and
//! hands the same chunk to every backend's driver; it reads the next chunk only
//! when every driver has finished with this one. A driver whose peer is
//! connected writes the chunk whole before it answers, so the slowest *working*
//! backend sets the pace and a faster one is never sent a byte twice. A driver
//! with no peer (a socket with no client, a PTY nobody opened, a failed log)
//! answers at once and counts the chunk as dropped: a missing viewer never stalls
//! the console. A peer that (re)connects starts with the next chunk: the current
//! position, no replay.
//!
//! **Input** (backends → frontend): each driver reads its peer in a task of its
//! own and sends each read chunk up a channel; one forwarder writes every chunk
//! whole to the frontend before taking the next, so chunks from two backends
//! never interleave. While no frontend is connected, typed input waits for one.
//!
//! **Events**: as in QEMU, the hub reports OPENED when its first backend's peer
//! connects and CLOSED when its last one hangs up. Where the frontend is
//! ([`FrontendStatus`]) is there for backends that show it: the vc draws a
//! status line while the console is away.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

pub mod port;

use port::{BoxFuture, BoxReader, BoxWriter, Connection, Connector};

/// QEMU's MAX_HUB (MAX_MUX before it): a hub has at most this many backends,
/// so that a backend's index fits the mux's focus and event bookkeeping.
pub const MAX_BACKENDS: usize = 4;

/// The most the hub reads from the frontend at once. A read returns what is
/// there, so this adds no latency; under a flood, bigger chunks mean fewer
/// wake-ups per byte for every backend (measured with `cargo bench --bench hub`:
/// 4 backends went from a third to a half of 1 backend's throughput going from
/// 64 KiB to 1 MiB).
const OUTPUT_CHUNK: usize = 1 << 20;

/// The most a driver reads from its peer at once (QEMU's READ_BUF_LEN).
const INPUT_CHUNK: usize = 4096;

/// Input chunks queued towards the frontend before backends' readers wait.
const INPUT_QUEUE: usize = 64;

/// Why a backend could not be attached.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HubError {
    /// QEMU's MAX_MUX.
    #[error("hub '{hub}' cannot take backend '{id}': the limit is {MAX_BACKENDS} backends")]
    TooManyBackends {
        /// The hub.
        hub: String,
        /// The refused backend.
        id: String,
    },
}

/// What each backend received over the hub's life.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BackendStats {
    /// Bytes written to a connected peer.
    pub written: u64,
    /// Bytes skipped because no peer was connected or its write failed.
    pub dropped: u64,
}

/// A summary of a hub's run, for the log and for callers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubReport {
    /// The hub's id.
    pub id: String,
    /// Bytes read from the frontend.
    pub read: u64,
    /// Each backend's id and figures, in the hub's order.
    pub backends: Vec<(String, BackendStats)>,
}

/// Where a hub's console is, for backends that tell their users (the vc's
/// status line): output stops while it is away, and nobody should wonder why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum FrontendStatus {
    /// Not connected yet (a socket frontend waiting for QEMU to listen).
    #[default]
    Waiting,
    /// Connected.
    Connected,
    /// This peer (`unix:/tmp/ttyS0`, `'sh' on /dev/pts/3`) went away; the hub
    /// waits for the console to come back.
    Lost(String),
}

/// A backend as the hub holds it: the way to hand it chunks, and its driver.
struct BackendHandle {
    id: String,
    deliveries: mpsc::Sender<Delivery>,
    driver: JoinHandle<BackendStats>,
}

/// One output chunk for one backend; the driver answers on `done` when it has
/// written the chunk or dropped it.
struct Delivery {
    data: Bytes,
    done: oneshot::Sender<()>,
}

/// The multiplexer: one frontend, up to [`MAX_BACKENDS`] backends.
pub struct Hub {
    id: String,
    backends: Vec<BackendHandle>,
    /// Chunks typed by backends' peers, on their way to the frontend.
    input_tx: mpsc::Sender<Bytes>,
    input_rx: mpsc::Receiver<Bytes>,
    /// How many backends have a peer connected, for OPENED/CLOSED.
    open: Arc<AtomicUsize>,
    /// Where the frontend is.
    frontend_status: watch::Sender<FrontendStatus>,
}

impl Hub {
    /// A hub with no backends yet.
    pub fn new(id: &str) -> Hub {
        let (input_tx, input_rx) = mpsc::channel(INPUT_QUEUE);
        Hub {
            id: id.to_string(),
            backends: Vec::new(),
            input_tx,
            input_rx,
            open: Arc::default(),
            frontend_status: watch::Sender::new(FrontendStatus::Waiting),
        }
    }

    /// The hub's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Where the frontend is now and as it comes and goes.
    pub fn frontend_status(&self) -> watch::Receiver<FrontendStatus> {
        self.frontend_status.subscribe()
    }

    /// Attaches a backend and starts its driver, which begins connecting at once.
    /// The returned receiver fires when its first peer has connected (what QEMU's
    /// `wait=on` waits for).
    pub fn attach(
        &mut self,
        id: &str,
        connector: Box<dyn Connector>,
        logfile: Option<BoxWriter>,
    ) -> Result<oneshot::Receiver<()>, HubError> {
        if self.backends.len() >= MAX_BACKENDS {
            return Err(HubError::TooManyBackends { hub: self.id.clone(), id: id.to_string() });
        }
        let (deliveries, inbox) = mpsc::channel(1);
        let (connected_tx, connected_rx) = oneshot::channel();
        let driver = Driver {
            id: id.to_string(),
            hub: self.id.clone(),
            input: self.input_tx.clone(),
            open: self.open.clone(),
            logfile,
            stats: BackendStats::default(),
            dropped_while_away: 0,
            first_connect: Some(connected_tx),
        };
        let driver = tokio::spawn(driver.run(connector, inbox));
        self.backends.push(BackendHandle { id: id.to_string(), deliveries, driver });
        Ok(connected_rx)
    }

    /// Runs the hub until the frontend has ended for good (its connector says so)
    /// or `shutdown` fires, then flushes every backend and reports.
    pub async fn run(
        self,
        mut frontend: Box<dyn Connector>,
        mut logfile: Option<BoxWriter>,
        shutdown: CancellationToken,
    ) -> HubReport {
        let Hub { id, backends, input_tx, input_rx, frontend_status, .. } = self;
        // Only the drivers' readers send input from here on.
        drop(input_tx);
        let (writer_tx, writer_rx) = mpsc::unbounded_channel();
        let forwarder = tokio::spawn(forward_input(id.clone(), input_rx, writer_rx));

        let mut read = 0u64;
        loop {
            let connection = tokio::select! {
                c = frontend.connect() => c,
                () = shutdown.cancelled() => break,
            };
            let Connection { peer, writer, reader, .. } = match connection {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => {
                    warn!("{id}: frontend failed: {e}");
                    break;
                }
            };
            let Some(reader) = reader else { break };
            let _ = writer_tx.send(Some(writer));
            info!("{id}: frontend connected: {peer}");
            frontend_status.send_replace(FrontendStatus::Connected);
            let end = pump(&backends, reader, &mut logfile, &mut read, &shutdown).await;
            let _ = writer_tx.send(None);
            frontend_status.send_replace(FrontendStatus::Lost(peer.clone()));
            match end {
                Ok(PumpEnd::Eof) => info!("{id}: frontend closed: {peer}"),
                Ok(PumpEnd::Shutdown) => break,
                Err(e) => warn!("{id}: frontend failed: {peer}: {e}"),
            }
        }

        // Flush: every driver finishes the chunk it holds, closes its peer, and ends.
        if let Some(log) = logfile.as_mut() {
            let _ = log.shutdown().await;
        }
        let report = HubReport { id, read, backends: flush(backends).await };
        forwarder.abort();
        report
    }

    /// Stops a hub that never ran (its frontend could not start): every backend
    /// lets its peer go and closes.
    pub async fn close(self) {
        flush(self.backends).await;
    }
}

/// Lets every driver finish the chunk it holds and close; returns their figures.
async fn flush(backends: Vec<BackendHandle>) -> Vec<(String, BackendStats)> {
    let mut figures = Vec::with_capacity(backends.len());
    for BackendHandle { id, deliveries, driver } in backends {
        drop(deliveries);
        figures.push((id, driver.await.unwrap_or_default()));
    }
    figures
}

/// Why the output pump stopped.
enum PumpEnd {
    Eof,
    Shutdown,
}

/// Copies the frontend's output to every backend until end of file or shutdown.
/// Shutdown is only looked at between chunks: a chunk read is delivered to all.
async fn pump(
    backends: &[BackendHandle],
    mut reader: BoxReader,
    logfile: &mut Option<BoxWriter>,
    read: &mut u64,
    shutdown: &CancellationToken,
) -> std::io::Result<PumpEnd> {
    let mut buffer = BytesMut::with_capacity(OUTPUT_CHUNK);
    loop {
        // Reuses the same allocation once every backend has let go of the last chunk.
        buffer.reserve(OUTPUT_CHUNK);
        let n = tokio::select! {
            n = reader.read_buf(&mut buffer) => n?,
            () = shutdown.cancelled() => return Ok(PumpEnd::Shutdown),
        };
        if n == 0 {
            return Ok(PumpEnd::Eof);
        }
        *read += n as u64;
        let chunk = buffer.split().freeze();
        if let Some(log) = logfile.as_mut()
            && let Err(e) = log.write_all(&chunk).await
        {
            warn!("frontend logfile failed, no longer logging: {e}");
            *logfile = None;
        }
        deliver(backends, chunk).await;
    }
}

/// Hands `chunk` to every backend and waits until each has written or dropped it.
async fn deliver(backends: &[BackendHandle], chunk: Bytes) {
    let mut answers = Vec::with_capacity(backends.len());
    for backend in backends {
        let (done, answer) = oneshot::channel();
        if backend.deliveries.send(Delivery { data: chunk.clone(), done }).await.is_ok() {
            answers.push(answer);
        }
    }
    drop(chunk);
    for answer in answers {
        let _ = answer.await;
    }
}

/// Writes what backends type to the frontend, one whole chunk at a time; the
/// frontend's writer arrives on `writers` with each connection (`None`: lost).
/// While there is no frontend, typed input waits (and, once the queue is full,
/// so do the backends' readers), as QEMU holds back a chardev its frontend
/// cannot read.
async fn forward_input(
    hub: String,
    mut input: mpsc::Receiver<Bytes>,
    mut writers: mpsc::UnboundedReceiver<Option<BoxWriter>>,
) {
    let mut writer: Option<BoxWriter> = None;
    loop {
        tokio::select! {
            biased;
            w = writers.recv() => match w {
                Some(w) => writer = w,
                None => return,
            },
            bytes = input.recv(), if writer.is_some() => match (bytes, writer.as_mut()) {
                (Some(bytes), Some(w)) => {
                    if let Err(e) = w.write_all(&bytes).await.and(w.flush().await) {
                        warn!("{hub}: typing into the frontend failed, {} bytes lost: {e}", bytes.len());
                        writer = None;
                    }
                }
                _ => return,
            },
        }
    }
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
}

/// Drives one backend: writes or drops each delivered chunk, keeps a peer
/// connected, reads what it types.
struct Driver {
    id: String,
    hub: String,
    input: mpsc::Sender<Bytes>,
    open: Arc<AtomicUsize>,
    logfile: Option<BoxWriter>,
    stats: BackendStats,
    /// `stats.dropped` when the last peer left, to say how much it missed.
    dropped_while_away: u64,
    first_connect: Option<oneshot::Sender<()>>,
}

impl Driver {
    async fn run(
        mut self,
        connector: Box<dyn Connector>,
        mut inbox: mpsc::Receiver<Delivery>,
    ) -> BackendStats {
        let mut connecting = Connecting::start(connector);
        let mut live: Option<Live> = None;
        loop {
            // A connection that is ready is taken before the next chunk, so that a
            // log or a terminal is there from the console's first byte.
            tokio::select! {
                biased;
                (connector, result) = busy(&mut connecting) => {
                    connecting = match result {
                        Ok(Some(connection)) => {
                            live = Some(self.opened(connection));
                            Connecting::Idle(connector)
                        }
                        Ok(None) => Connecting::Done,
                        Err(e) => {
                            warn!("{}: cannot connect any more: {e}", self.id);
                            Connecting::Done
                        }
                    };
                }
                () = hangup(&mut live) => {
                    if let Some(gone) = live.take() {
                        info!("{}: {} disconnected", self.id, gone.peer);
                        self.closed(gone).await;
                    }
                }
                delivery = inbox.recv() => {
                    let Some(Delivery { data, done }) = delivery else { break };
                    self.deliver(&mut live, &data).await;
                    drop(data);
                    let _ = done.send(());
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
            self.closed(live).await;
        }
        if let Some(log) = self.logfile.as_mut() {
            let _ = log.shutdown().await;
        }
        self.stats
    }

    /// Writes one chunk to the peer, or counts it dropped when there is none or
    /// the write fails (then the peer is let go).
    async fn deliver(&mut self, live: &mut Option<Live>, data: &Bytes) {
        let len = data.len() as u64;
        if let Some(log) = self.logfile.as_mut()
            && let Err(e) = log.write_all(data).await.and(log.flush().await)
        {
            warn!("{}: logfile failed, no longer logging: {e}", self.id);
            self.logfile = None;
        }
        let Some(peer) = live.as_mut() else {
            self.stats.dropped += len;
            return;
        };
        match write_chunk(peer, data).await {
            Ok(()) => self.stats.written += len,
            Err((sent, e)) => {
                self.stats.written += sent as u64;
                self.stats.dropped += len - sent as u64;
                if let Some(gone) = live.take() {
                    info!("{}: {} disconnected ({e}); skipping it until it is back", self.id, gone.peer);
                    self.closed(gone).await;
                }
            }
        }
    }

    /// Takes a new peer: it starts at the current position.
    fn opened(&mut self, connection: Connection) -> Live {
        let missed = self.stats.dropped - self.dropped_while_away;
        if missed > 0 {
            info!("{}: {} connected ({missed} bytes dropped while no one was)", self.id, connection.peer);
        } else {
            info!("{}: {} connected", self.id, connection.peer);
        }
        if let Some(first) = self.first_connect.take() {
            let _ = first.send(());
        }
        if self.open.fetch_add(1, Ordering::SeqCst) == 0 {
            info!("{}: OPENED ({} is the first backend connected)", self.hub, self.id);
        }
        let reader = connection
            .reader
            .map(|r| tokio::spawn(read_input(r, self.input.clone(), connection.eof_is_hangup)));
        Live { peer: connection.peer, writer: connection.writer, reader }
    }

    /// Lets a peer go: flushes what it has, stops reading it, reports CLOSED.
    async fn closed(&mut self, mut gone: Live) {
        let _ = gone.writer.shutdown().await;
        if let Some(reader) = gone.reader.take() {
            reader.abort();
        }
        self.dropped_while_away = self.stats.dropped;
        if self.open.fetch_sub(1, Ordering::SeqCst) == 1 {
            info!("{}: CLOSED ({} was the last backend connected)", self.hub, self.id);
        }
    }
}

/// Resolves when the connector has a result; never while it is idle or done.
async fn busy(connecting: &mut Connecting) -> Attempt {
    match connecting {
        Connecting::Busy(future) => future.await,
        _ => std::future::pending().await,
    }
}

/// Resolves when the live peer hangs up; never when there is none.
async fn hangup(live: &mut Option<Live>) {
    match live {
        Some(live) => reader_ended(&mut live.reader).await,
        None => std::future::pending().await,
    }
}

/// Writes `data` whole to the peer, giving up if it hangs up meanwhile. On
/// failure, says how many bytes it had taken.
async fn write_chunk(live: &mut Live, data: &[u8]) -> Result<(), (usize, std::io::Error)> {
    let Live { writer, reader, .. } = live;
    let gone = || std::io::Error::new(std::io::ErrorKind::BrokenPipe, "peer hung up");
    let mut sent = 0;
    while sent < data.len() {
        let n = tokio::select! {
            n = writer.write(&data[sent..]) => n.map_err(|e| (sent, e))?,
            () = reader_ended(reader) => return Err((sent, gone())),
        };
        if n == 0 {
            return Err((sent, std::io::ErrorKind::WriteZero.into()));
        }
        sent += n;
    }
    // A flush that fails lost the chunk (a log on a full disk); a hang-up now came
    // after the kernel had taken it all.
    tokio::select! {
        r = writer.flush() => r.map_err(|e| (0, e)),
        () = reader_ended(reader) => Err((sent, gone())),
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
