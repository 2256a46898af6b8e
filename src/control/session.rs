//! One control client: the greeting, capabilities negotiation, then its
//! requests answered in order while events reach it in between.
//!
//! Everything the client is sent goes through one bounded queue, written by a
//! task of its own. A command's answer waits for room in it (so a client that
//! does not read only holds up its own commands); an event finding no room
//! means the client has stopped reading, and it is let go rather than let it
//! hold memory or anyone else back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

use super::args::Args;
use super::commands;
use super::console::Console;
use super::error::CommandError;
use super::wire::{self, Request, RequestDecoder};

/// Messages queued for a client before it counts as not reading.
const OUTGOING_QUEUE: usize = 64;

/// Serves one client until it hangs up, stops reading, or vcmux stops.
pub async fn serve<R, W>(
    peer: String,
    mut reader: R,
    writer: W,
    console: Arc<Console>,
    stop: CancellationToken,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (outgoing, queue) = mpsc::channel(OUTGOING_QUEUE);
    // Cancelled when the client must be let go at once (it stopped reading);
    // otherwise the writer sends everything queued before it ends.
    let gone = CancellationToken::new();
    let writer_task = tokio::spawn(write_out(writer, queue, gone.clone()));
    let negotiated = Arc::new(AtomicBool::new(false));
    let events = tokio::spawn(forward_events(
        console.subscribe(),
        outgoing.clone(),
        negotiated.clone(),
        gone.clone(),
        stop.clone(),
    ));
    info!("control: {peer} connected");

    let mut session = Session { console: console.clone(), outgoing, negotiated };
    let end = if session.send(wire::greeting()).await {
        session.serve_requests(&mut reader, &gone, &stop).await
    } else {
        End::Gone
    };
    if end == End::Quit {
        // As QEMU: quit's answer, then SHUTDOWN to every client, this one
        // included, then the end. The event goes out before vcmux is asked to
        // stop, so every session has it queued by the time it sees the stop.
        console.emit("SHUTDOWN", Some(json!({"guest": false, "reason": "host-qmp-quit"})));
        console.quit();
    }
    if end == End::Quit || stop.is_cancelled() {
        // vcmux is stopping (or about to, after quit): the events sent before
        // the stop (SHUTDOWN) still go out.
        let _ = events.await;
    } else {
        events.abort();
    }
    drop(session);
    let _ = writer_task.await;
    info!("control: {peer} disconnected");
}

/// Why a session's requests ended.
#[derive(PartialEq, Eq)]
enum End {
    /// The client hung up or was let go, or vcmux is stopping.
    Gone,
    /// The client asked vcmux to stop (`quit`).
    Quit,
}

/// A client's state: whether it has negotiated, and its queue.
struct Session {
    console: Arc<Console>,
    outgoing: mpsc::Sender<String>,
    negotiated: Arc<AtomicBool>,
}

impl Session {
    /// Reads requests and queues their answers until the client hangs up or
    /// must be let go, or vcmux stops.
    async fn serve_requests<R: AsyncRead + Unpin>(
        &mut self,
        reader: &mut R,
        gone: &CancellationToken,
        stop: &CancellationToken,
    ) -> End {
        let mut decoder = RequestDecoder::default();
        let mut buffer = vec![0u8; 8192];
        loop {
            let n = tokio::select! {
                n = reader.read(&mut buffer) => n,
                () = gone.cancelled() => return End::Gone,
                () = stop.cancelled() => return End::Gone,
            };
            match n {
                Ok(0) | Err(_) => return End::Gone,
                Ok(n) => decoder.push(&buffer[..n]),
            }
            while let Some(value) = decoder.next_value() {
                let (answer, quit) = match value {
                    Ok(value) => self.answer(value).await,
                    Err(desc) => (wire::failure(None, wire::ErrorClass::GenericError, &desc), false),
                };
                if !self.send(answer).await {
                    return End::Gone;
                }
                if quit {
                    return End::Quit;
                }
            }
        }
    }

    /// Queues a message; false once the client is gone.
    async fn send(&self, message: Value) -> bool {
        self.outgoing.send(wire::line(&message)).await.is_ok()
    }

    /// The answer to one request, and whether it was a `quit` that succeeded.
    async fn answer(&mut self, value: Value) -> (Value, bool) {
        let Request { command, arguments, id } = match Request::from_value(value) {
            Ok(request) => request,
            Err((id, desc)) => return (wire::failure(id, wire::ErrorClass::GenericError, &desc), false),
        };
        debug!("control: {command}");
        match self.run(&command, Args::new(arguments)).await {
            Ok(value) => (wire::success(id, value), command == "quit"),
            Err(e) => (wire::failure(id, e.class(), &e.to_string()), false),
        }
    }

    async fn run(&mut self, command: &str, args: Args) -> Result<Value, CommandError> {
        let negotiated = self.negotiated.load(Ordering::SeqCst);
        match (command, negotiated) {
            ("qmp_capabilities", true) => Err(CommandError::AlreadyNegotiated),
            ("qmp_capabilities", false) => {
                // QEMU's only capability is out-of-band execution, which vcmux
                // does not offer: `enable` may list nothing.
                let mut args = args;
                if let Some(enable) = args.strings("enable").ok().filter(|e| !e.is_empty()) {
                    return Err(CommandError::Failed(format!("Capability '{}' not available", enable[0])));
                }
                args.finish()?;
                self.negotiated.store(true, Ordering::SeqCst);
                Ok(json!({}))
            }
            (_, false) => Err(CommandError::NotNegotiated),
            (command, true) => commands::execute(&self.console, command, args).await,
        }
    }
}

/// Passes events to a negotiated client until vcmux stops (after those sent
/// before the stop: quit's SHUTDOWN); lets the client go when it has fallen
/// too far behind to take them.
async fn forward_events(
    mut events: broadcast::Receiver<Value>,
    outgoing: mpsc::Sender<String>,
    negotiated: Arc<AtomicBool>,
    gone: CancellationToken,
    stop: CancellationToken,
) {
    loop {
        let received = tokio::select! {
            // An event sent before the stop is ready before the stop is seen.
            biased;
            r = events.recv() => r,
            () = stop.cancelled() => return,
        };
        match received {
            Ok(event) if negotiated.load(Ordering::SeqCst) => {
                if outgoing.try_send(wire::line(&event)).is_err() {
                    info!("control: a client stopped reading its events; letting it go");
                    gone.cancel();
                    return;
                }
            }
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(_)) => {
                gone.cancel();
                return;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Writes queued messages until the queue closes or the client is let go.
async fn write_out<W: AsyncWrite + Unpin>(
    mut writer: W,
    mut queue: mpsc::Receiver<String>,
    gone: CancellationToken,
) {
    loop {
        let message = tokio::select! {
            m = queue.recv() => m,
            () = gone.cancelled() => None,
        };
        let Some(message) = message else { break };
        let written = tokio::select! {
            r = writer.write_all(message.as_bytes()) => r.and(Ok(())),
            () = gone.cancelled() => break,
        };
        if written.is_err() {
            gone.cancel();
            break;
        }
    }
    let _ = writer.shutdown().await;
}
