//! The hub: QEMU's mux-be core, fanning one frontend out to 1..=4 backends.
//!
//! **Output** (frontend → backends): the hub reads a chunk from the frontend and
//! hands the same chunk to every backend's driver, which writes it whole to its
//! peer, in order, each byte once. A driver with no peer (a socket with no
//! client, a PTY nobody opened, a failed log) counts the chunk as dropped at
//! once: a missing viewer never stalls the console. A peer that (re)connects
//! starts with the next chunk: the current position, with no replay unless its
//! backend asked for one.
//!
//! **Pace and lag** (`lag=SIZE`, [`AttachOptions::lag`]): the hub reads the
//! next chunk once every backend with a lag of 0 has finished with this one, so
//! the slowest of those sets the pace (QEMU's hub; the vc is always one). A
//! backend with a lag is not waited for: it may fall up to SIZE bytes behind
//! the console. One that falls further (a peer that stopped reading) is cut
//! off: its peer let go at once, the bytes it held dropped, one warning logged
//! and a [`CutOff`] told to [`Hub::cut_offs`]; its connector may connect again,
//! at the current position. So a stuck peer never holds back the console, and
//! a backend holds at most twice its lag (`hub/lag.rs`).
//!
//! **Replay** (`replay=SIZE`, [`AttachOptions::replay`]): a backend attached
//! with a replay size keeps the last SIZE bytes of the chunks delivered to it,
//! written or dropped, and writes them to each newly connected peer before any
//! further chunk, so that the peer sees them and then the live stream with
//! nothing missing or doubled in between. Like any connected peer, one that
//! reads its replay slowly sets the pace. Replayed bytes are not counted again
//! in [`BackendStats`]; a backend keeps at most SIZE bytes.
//!
//! **Hot-plug** ([`HubHandle`], from [`Hub::handle`]): backends are attached and
//! detached while the hub runs. The pump carries each request out between two
//! chunks (and while it waits for a frontend), never inside one: at that point
//! every backend already attached has been handed every byte read so far (one
//! with a lag may still be writing them). So an attached backend's first byte is
//! the console's next one, and a detached one was handed every byte up to that
//! boundary and nothing after; its driver writes what it still holds, then ends. Each answer
//! carries the boundary's console offset (the bytes read from the frontend so
//! far), which lets a caller prove against a full log which bytes a backend had.
//! A detached backend's driver finishes as every driver does at the hub's end:
//! its peer closed, its logfile shut down, OPENED/CLOSED kept right, its figures
//! handed back. The limit of [`MAX_BACKENDS`] and unique ids hold throughout.
//!
//! **Input** (backends → frontend): each driver reads its peer in a task of its
//! own and sends each read chunk up a channel; one forwarder writes every chunk
//! whole to the frontend before taking the next, so chunks from two backends
//! never interleave. While no frontend is connected, typed input waits for one.
//!
//! **Hearing input** ([`port::Connection::typed`]): a peer that records the
//! console (an asciicast recording with `input=on`) asks for its input too. The
//! forwarder broadcasts each chunk as it takes it for the frontend, and the
//! driver of each such peer writes it to the peer's second writer between
//! output chunks. The broadcast never waits: a recorder that falls more than
//! [`INPUT_QUEUE`] chunks behind loses the oldest (and says so), so it can hold
//! back neither the typing nor the console. The hub still knows no kind: it
//! only sees a connection that asked.
//!
//! **Events**: as in QEMU, the hub reports OPENED when its first backend's peer
//! connects and CLOSED when its last one hangs up. Where the frontend is
//! ([`FrontendStatus`]) is there for backends that show it: the vc draws a
//! status line while the console is away.

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

mod attach;
mod backends;
mod driver;
mod error;
mod handle;
mod lag;
pub mod port;
mod replay;
#[cfg(test)]
mod tests;

pub use attach::{AttachOptions, BackendStats, CutOff, MAX_BACKENDS};
use backends::Backends;
pub use error::HubError;
use handle::Request;
pub use handle::{Attached, Detached, HubHandle};
use port::{BoxReader, BoxWriter, Connection, Connector};

/// The most the hub reads from the frontend at once. A read returns what is
/// there, so this adds no latency; under a flood, bigger chunks mean fewer
/// wake-ups per byte for every backend (measured with `cargo bench --bench hub`:
/// 4 backends went from a third to a half of 1 backend's throughput going from
/// 64 KiB to 1 MiB).
const OUTPUT_CHUNK: usize = 1 << 20;

/// Input chunks queued towards the frontend before backends' readers wait.
const INPUT_QUEUE: usize = 64;

/// A summary of a hub's run, for the log and for callers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubReport {
    /// The hub's id.
    pub id: String,
    /// Bytes read from the frontend.
    pub read: u64,
    /// Each backend's id and figures, in the hub's order: those attached when
    /// the hub stopped (a detached one's went to whoever detached it).
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

/// The multiplexer: one frontend, up to [`MAX_BACKENDS`] backends.
pub struct Hub {
    id: String,
    backends: Backends,
    /// Chunks typed by backends' peers, on their way to the frontend.
    input: mpsc::Receiver<Bytes>,
    /// Where the forwarder tells recording peers what was typed.
    typed: broadcast::Sender<Bytes>,
    /// Where the frontend is.
    frontend_status: watch::Sender<FrontendStatus>,
    /// What [`Hub::handle`] clones.
    handle: HubHandle,
    /// Where the handles' requests arrive.
    requests: mpsc::Receiver<Request>,
}

impl Hub {
    /// A hub with no backends yet.
    pub fn new(id: &str) -> Hub {
        let (input_tx, input) = mpsc::channel(INPUT_QUEUE);
        let typed = broadcast::Sender::new(INPUT_QUEUE);
        let backends = Backends::new(id, input_tx, typed.clone());
        let (handle, requests) = handle::channel(id, &backends);
        Hub {
            id: id.to_string(),
            backends,
            input,
            typed,
            frontend_status: watch::Sender::new(FrontendStatus::Waiting),
            handle,
            requests,
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

    /// Each backend cut off from now on for falling further behind the
    /// console than its lag (a listener that falls behind loses the oldest).
    pub fn cut_offs(&self) -> broadcast::Receiver<CutOff> {
        self.backends.cut_offs()
    }

    /// A handle to attach and detach backends while [`Hub::run`] runs.
    pub fn handle(&self) -> HubHandle {
        self.handle.clone()
    }

    /// Attaches a backend before the hub runs and starts its driver, which
    /// begins connecting at once. The returned receiver fires when its first
    /// peer has connected (what QEMU's `wait=on` waits for).
    pub fn attach(
        &mut self,
        id: &str,
        connector: Box<dyn Connector>,
        options: AttachOptions,
    ) -> Result<oneshot::Receiver<()>, HubError> {
        self.backends.attach(id, connector, options)
    }

    /// Runs the hub until the frontend has ended for good (its connector says so)
    /// or `shutdown` fires, then flushes every backend and reports. Handles'
    /// requests are carried out meanwhile.
    pub async fn run(
        self,
        mut frontend: Box<dyn Connector>,
        mut logfile: Option<BoxWriter>,
        shutdown: CancellationToken,
    ) -> HubReport {
        let Hub { id, mut backends, input, typed, frontend_status, mut requests, .. } = self;
        let (writer_tx, writer_rx) = mpsc::unbounded_channel();
        let forwarder = tokio::spawn(forward_input(id.clone(), input, typed, writer_rx));

        let mut read = 0u64;
        loop {
            // The same attempt throughout, so that requests do not restart a
            // reconnect delay or drop a connection half made.
            let mut connecting = frontend.connect();
            let connection = loop {
                tokio::select! {
                    c = &mut connecting => break Some(c),
                    Some(request) = requests.recv() => request.serve(&mut backends, read),
                    () = shutdown.cancelled() => break None,
                }
            };
            drop(connecting);
            let Connection { peer, writer, reader, .. } = match connection {
                None => break,
                Some(Ok(Some(c))) => c,
                Some(Ok(None)) => break,
                Some(Err(e)) => {
                    warn!("{id}: frontend failed: {e}");
                    break;
                }
            };
            let Some(reader) = reader else { break };
            let _ = writer_tx.send(Some(writer));
            info!("{id}: frontend connected: {peer}");
            frontend_status.send_replace(FrontendStatus::Connected);
            let end = pump(&mut backends, &mut requests, reader, &mut logfile, &mut read, &shutdown).await;
            let _ = writer_tx.send(None);
            frontend_status.send_replace(FrontendStatus::Lost(peer.clone()));
            match end {
                Ok(PumpEnd::Eof) => info!("{id}: frontend closed: {peer}"),
                Ok(PumpEnd::Shutdown) => break,
                Err(e) => warn!("{id}: frontend failed: {peer}: {e}"),
            }
        }
        // Requests not carried out by now never will be: their handles hear
        // that the hub has stopped.
        drop(requests);

        // Flush: every driver finishes the chunk it holds, closes its peer, and ends.
        if let Some(log) = logfile.as_mut() {
            let _ = log.shutdown().await;
        }
        let report = HubReport { id, read, backends: backends.flush().await };
        forwarder.abort();
        report
    }

    /// Stops a hub that never ran (its frontend could not start): every backend
    /// lets its peer go and closes.
    pub async fn close(self) {
        self.backends.flush().await;
    }
}

/// Why the output pump stopped.
enum PumpEnd {
    Eof,
    Shutdown,
}

/// Copies the frontend's output to every backend until end of file or shutdown.
/// Shutdown and handles' requests are only looked at between chunks: a chunk
/// read is delivered to every backend attached when it was read.
async fn pump(
    backends: &mut Backends,
    requests: &mut mpsc::Receiver<Request>,
    mut reader: BoxReader,
    logfile: &mut Option<BoxWriter>,
    read: &mut u64,
    shutdown: &CancellationToken,
) -> std::io::Result<PumpEnd> {
    let mut buffer = BytesMut::with_capacity(OUTPUT_CHUNK);
    loop {
        // Reuses the same allocation once every backend has let go of the last chunk.
        buffer.reserve(OUTPUT_CHUNK);
        // A read that loses the race has read nothing (read_buf is cancel safe).
        let n = tokio::select! {
            biased;
            Some(request) = requests.recv() => {
                request.serve(backends, *read);
                continue;
            }
            () = shutdown.cancelled() => return Ok(PumpEnd::Shutdown),
            n = reader.read_buf(&mut buffer) => n?,
        };
        if n == 0 {
            return Ok(PumpEnd::Eof);
        }
        let offset = *read;
        *read += n as u64;
        let chunk = buffer.split().freeze();
        if let Some(log) = logfile.as_mut()
            && let Err(e) = log.write_all(&chunk).await
        {
            warn!("frontend logfile failed, no longer logging: {e}");
            *logfile = None;
        }
        backends.deliver(chunk, offset).await;
    }
}

/// Writes what backends type to the frontend, one whole chunk at a time, and
/// tells recording peers on `typed` as it takes each; the frontend's writer
/// arrives on `writers` with each connection (`None`: lost).
/// While there is no frontend, typed input waits (and, once the queue is full,
/// so do the backends' readers), as QEMU holds back a chardev its frontend
/// cannot read.
async fn forward_input(
    hub: String,
    mut input: mpsc::Receiver<Bytes>,
    typed: broadcast::Sender<Bytes>,
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
                    // Before the write, so that a recording has the keys before
                    // their echo. No recording peer is no error.
                    let _ = typed.send(bytes.clone());
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
