//! The asciicast chardev: the console recorded as asciicast v2 (asciinema's
//! format), so that a CI run's console can be played back (`asciinema play`)
//! or drawn (`vcmux render REC.cast -o out.gif`).
//!
//! The file is a JSON header line, then one JSON event a line: each chunk of
//! console output as `[t, "o", "text"]`, each change of the console's window as
//! `[t, "r", "COLSxROWS"]`, and with `input=on` each chunk typed into the
//! console as `[t, "i", "text"]`; `t` is in seconds since the recording began.
//!
//! JSON strings must be UTF-8, and a console chunk may end inside a character:
//! the incomplete bytes are carried over to the next event of the same kind,
//! and only bytes that are really invalid become U+FFFD.
//!
//! The driver's writes only queue an event with its time (so a slow disk adds
//! no error to the times); a task of its own encodes the events and writes
//! them, many at a time when they come fast, and flushes as soon as none is
//! waiting, so that a crash loses at most what was in the queue. A full queue
//! makes the driver wait, which is the hub's usual rule: a connected backend
//! that writes sets the pace.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use tokio::fs::File;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::PollSender;
use tracing::warn;

use super::{OpenError, WindowSize};
use crate::config::AsciicastConfig;
use crate::hub::port::{BoxFuture, BoxWriter, Connection, Connector};

/// The window a recording has when the hub has no vc: what a command's PTY gets then.
pub const DEFAULT_WINDOW: WindowSize = WindowSize { cols: 80, rows: 24 };

/// Events queued towards the recording task before the driver waits.
const EVENT_QUEUE: usize = 256;

/// The most the task gathers before it writes, when events come fast.
const WRITE_BATCH: usize = 256 << 10;

/// Where a recording learns the console's window (the first vc's size, which a
/// command's PTY follows), set by whoever attaches it once the hub's vcs are
/// known. Without one, the recording is 80x24 and has no resizes.
#[derive(Clone, Default)]
pub struct ConsoleWindow(Arc<Mutex<Option<watch::Receiver<WindowSize>>>>);

impl ConsoleWindow {
    /// Follows `window`: the header takes its size, and each change is a resize event.
    pub fn follow(&self, window: watch::Receiver<WindowSize>) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(window);
        }
    }

    fn get(&self) -> Option<watch::Receiver<WindowSize>> {
        self.0.lock().ok().and_then(|slot| slot.clone())
    }
}

/// A recording's source of connections: one, made when the hub starts
/// driving it; after a failure (a full disk) the recording ends, since a
/// second header in one file would make it unreadable.
pub struct AsciicastConnector {
    id: String,
    /// The path, for messages.
    path: String,
    /// Created at open time, so that a bad path is a start-up error.
    file: Option<File>,
    input: bool,
    window: ConsoleWindow,
}

impl AsciicastConnector {
    /// Creates (or truncates) the recording.
    pub async fn open(id: &str, config: &AsciicastConfig) -> Result<AsciicastConnector, OpenError> {
        let file = super::open_for_writing(&config.path, false)
            .await
            .map_err(|e| OpenError::new(id, format!("cannot create {}", config.path.display()), e))?;
        Ok(AsciicastConnector {
            id: id.to_string(),
            path: config.path.display().to_string(),
            file: Some(file),
            input: config.input,
            window: ConsoleWindow::default(),
        })
    }

    /// Where to tell this recording the console's window.
    pub fn console_window(&self) -> ConsoleWindow {
        self.window.clone()
    }
}

impl Connector for AsciicastConnector {
    fn connect(&mut self) -> BoxFuture<'_, io::Result<Option<Connection>>> {
        Box::pin(async move {
            let Some(file) = self.file.take() else { return Ok(None) };
            let mut window = self.window.get();
            let size = window.as_mut().map_or(DEFAULT_WINDOW, |w| *w.borrow_and_update());
            let unix = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            let encoder = Encoder::new(Instant::now(), size);
            let (events, inbox) = mpsc::channel(EVENT_QUEUE);
            let (finished, finishing) = oneshot::channel();
            let task = Task { id: self.id.clone(), path: self.path.clone(), file, encoder, window };
            tokio::spawn(task.run(header(size, unix), inbox, finished));
            let typed: Option<BoxWriter> = self
                .input
                .then(|| Box::new(EventWriter::new(Kind::Input, events.clone(), None)) as BoxWriter);
            let writer = Box::new(EventWriter::new(Kind::Output, events, Some(finishing)));
            Ok(Some(Connection {
                peer: self.path.clone(),
                writer,
                reader: None,
                eof_is_hangup: false,
                typed,
            }))
        })
    }
}

/// The header line: the window, the start in Unix seconds, and the terminal
/// type a player should emulate (the vc answers as an xterm).
fn header(size: WindowSize, unix: u64) -> String {
    format!(
        "{{\"version\": 2, \"width\": {}, \"height\": {}, \"timestamp\": {unix}, \"env\": {{\"TERM\": \"xterm-256color\"}}}}\n",
        size.cols, size.rows
    )
}

/// Which stream an event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Console output, `"o"`.
    Output,
    /// What was typed into the console, `"i"`.
    Input,
}

/// What the driver's writers hand the recording task.
enum Event {
    /// A chunk and the moment it was written.
    Chunk(Kind, Instant, Bytes),
    /// The recording ends: write what is left and close.
    End,
}

/// The writer the hub sees: each write queues one event, stamped now.
struct EventWriter {
    kind: Kind,
    events: PollSender<Event>,
    /// The output writer's: the task's answer once it has written everything.
    finished: Option<oneshot::Receiver<io::Result<()>>>,
    end_sent: bool,
}

impl EventWriter {
    fn new(
        kind: Kind,
        events: mpsc::Sender<Event>,
        finished: Option<oneshot::Receiver<io::Result<()>>>,
    ) -> Self {
        EventWriter { kind, events: PollSender::new(events), finished, end_sent: false }
    }
}

/// The recording task is gone: it failed and said why in the log.
fn stopped() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the recording stopped")
}

impl AsyncWrite for EventWriter {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.events.poll_reserve(cx)).map_err(|_| stopped())?;
        let event = Event::Chunk(self.kind, Instant::now(), Bytes::copy_from_slice(buf));
        self.events.send_item(event).map_err(|_| stopped())?;
        Poll::Ready(Ok(buf.len()))
    }

    /// A queued event is the task's to write; it flushes whenever its queue is empty.
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// The output writer ends the recording and waits until it is on disk; the
    /// input writer only stops adding to it.
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.kind == Kind::Input {
            self.events.close();
            return Poll::Ready(Ok(()));
        }
        if !self.end_sent {
            ready!(self.events.poll_reserve(cx)).map_err(|_| stopped())?;
            self.events.send_item(Event::End).map_err(|_| stopped())?;
            self.end_sent = true;
        }
        match self.finished.as_mut() {
            Some(finished) => {
                let result = ready!(Pin::new(finished).poll(cx)).unwrap_or_else(|_| Err(stopped()));
                self.finished = None;
                Poll::Ready(result)
            }
            None => Poll::Ready(Ok(())),
        }
    }
}

/// The recording task's state.
struct Task {
    id: String,
    path: String,
    file: File,
    encoder: Encoder,
    window: Option<watch::Receiver<WindowSize>>,
}

impl Task {
    /// Writes the header, then the events as they come, until the end or a
    /// failure (logged); answers on `finished` either way.
    async fn run(
        mut self,
        header: String,
        inbox: mpsc::Receiver<Event>,
        finished: oneshot::Sender<io::Result<()>>,
    ) {
        let result = self.record(header, inbox).await;
        if let Err(e) = &result {
            warn!("{}: recording to {} failed, it ends here: {e}", self.id, self.path);
        }
        let _ = finished.send(result);
    }

    async fn record(&mut self, header: String, mut inbox: mpsc::Receiver<Event>) -> io::Result<()> {
        let mut out = header.into_bytes();
        self.write(&mut out).await?;
        let mut ended = false;
        while !ended {
            tokio::select! {
                event = inbox.recv() => ended = self.take(event, &mut out),
                size = changed(&mut self.window) => match size {
                    Some(size) => self.encoder.resize(Instant::now(), size, &mut out),
                    None => self.window = None,
                },
            }
            // Whatever else is waiting goes in the same write.
            while !ended && out.len() < WRITE_BATCH {
                match inbox.try_recv() {
                    Ok(event) => ended = self.take(Some(event), &mut out),
                    Err(_) => break,
                }
            }
            if ended {
                self.encoder.finish(&mut out);
            }
            self.write(&mut out).await?;
        }
        self.file.shutdown().await
    }

    /// Encodes one event; says whether it was the last.
    fn take(&mut self, event: Option<Event>, out: &mut Vec<u8>) -> bool {
        match event {
            Some(Event::Chunk(kind, at, bytes)) => {
                self.encoder.chunk(kind, at, &bytes, out);
                false
            }
            Some(Event::End) | None => true,
        }
    }

    async fn write(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        if !out.is_empty() {
            self.file.write_all(out).await?;
            out.clear();
        }
        self.file.flush().await
    }
}

/// The window's next size; `None` once nobody can change it any more.
async fn changed(window: &mut Option<watch::Receiver<WindowSize>>) -> Option<WindowSize> {
    match window {
        Some(window) => window.changed().await.ok().map(|()| *window.borrow_and_update()),
        None => std::future::pending().await,
    }
}

/// Turns chunks into event lines: times relative to the start and never
/// going back, text that is valid UTF-8.
struct Encoder {
    start: Instant,
    /// The last event's time, so that times never decrease.
    last: f64,
    size: WindowSize,
    output: Utf8Carry,
    input: Utf8Carry,
}

impl Encoder {
    fn new(start: Instant, size: WindowSize) -> Encoder {
        Encoder { start, last: 0.0, size, output: Utf8Carry::default(), input: Utf8Carry::default() }
    }

    fn time(&mut self, at: Instant) -> f64 {
        self.last = self.last.max(at.saturating_duration_since(self.start).as_secs_f64());
        self.last
    }

    /// One chunk of output or input; nothing when it is only the start of a character.
    fn chunk(&mut self, kind: Kind, at: Instant, bytes: &[u8], out: &mut Vec<u8>) {
        let (carry, code) = match kind {
            Kind::Output => (&mut self.output, "o"),
            Kind::Input => (&mut self.input, "i"),
        };
        let text = carry.decode(bytes);
        if !text.is_empty() {
            let time = self.time(at);
            line(out, time, code, &text);
        }
    }

    /// A change of window; nothing when the size is the one recorded last.
    fn resize(&mut self, at: Instant, size: WindowSize, out: &mut Vec<u8>) {
        if size != self.size {
            self.size = size;
            let time = self.time(at);
            line(out, time, "r", &format!("{}x{}", size.cols, size.rows));
        }
    }

    /// The end: bytes still carried were never completed, and are invalid.
    fn finish(&mut self, out: &mut Vec<u8>) {
        let at = self.last;
        for (carry, code) in [(&mut self.output, "o"), (&mut self.input, "i")] {
            if carry.finish() {
                line(out, at, code, "\u{FFFD}");
            }
        }
    }
}

/// Appends `[time, "code", "text"]` and a newline.
fn line(out: &mut Vec<u8>, time: f64, code: &str, text: &str) {
    let text = serde_json::Value::from(text);
    out.extend_from_slice(format!("[{time:.6}, \"{code}\", {text}]\n").as_bytes());
}

/// The end of a stream that may stop inside a UTF-8 character.
#[derive(Default)]
struct Utf8Carry {
    /// The start of a character whose other bytes have not come yet.
    pending: Vec<u8>,
}

impl Utf8Carry {
    /// The text of the carried bytes and `bytes`, with U+FFFD for each invalid
    /// sequence (as `String::from_utf8_lossy`); a character cut off at the end
    /// is kept for the next call.
    fn decode(&mut self, bytes: &[u8]) -> String {
        let joined;
        let data = if self.pending.is_empty() {
            bytes
        } else {
            joined = [std::mem::take(&mut self.pending).as_slice(), bytes].concat();
            joined.as_slice()
        };
        let mut text = String::with_capacity(data.len());
        let mut chunks = data.utf8_chunks().peekable();
        while let Some(chunk) = chunks.next() {
            text.push_str(chunk.valid());
            let invalid = chunk.invalid();
            if invalid.is_empty() {
                continue;
            }
            if chunks.peek().is_none() && cut_off(invalid) {
                self.pending = invalid.to_vec();
            } else {
                text.push('\u{FFFD}');
            }
        }
        text
    }

    /// Ends the stream; says whether bytes were still carried (then invalid).
    fn finish(&mut self) -> bool {
        !std::mem::take(&mut self.pending).is_empty()
    }
}

/// Whether `bytes` are the start of a valid character that was cut off.
fn cut_off(bytes: &[u8]) -> bool {
    matches!(std::str::from_utf8(bytes), Err(e) if e.error_len().is_none())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn decode_all(chunks: &[&[u8]]) -> String {
        let mut carry = Utf8Carry::default();
        let mut text: String = chunks.iter().map(|c| carry.decode(c)).collect();
        if carry.finish() {
            text.push('\u{FFFD}');
        }
        text
    }

    #[test]
    fn a_character_cut_between_chunks_is_carried_over() {
        let mut carry = Utf8Carry::default();
        assert_eq!(carry.decode(b"a\xe2\x82"), "a");
        assert_eq!(carry.decode(b"\xac b"), "\u{20ac} b");
        assert_eq!(carry.decode(b"\xf0"), "");
        assert_eq!(carry.decode(b"\x9f"), "");
        assert_eq!(carry.decode(b"\x98\x80"), "\u{1f600}");
        assert!(!carry.finish());
    }

    #[test]
    fn only_really_invalid_bytes_become_replacement_characters() {
        assert_eq!(decode_all(&[b"a\xffb"]), "a\u{FFFD}b");
        assert_eq!(decode_all(&[b"\xe2\x82", b"x"]), "\u{FFFD}x");
        assert_eq!(decode_all(&[b"x\xe2\x82"]), "x\u{FFFD}");
        assert_eq!(decode_all(&[b"\xed\xa0\x80"]), String::from_utf8_lossy(b"\xed\xa0\x80"));
    }

    proptest::proptest! {
        #[test]
        fn any_split_decodes_as_the_whole_does(bytes in proptest::collection::vec(
            proptest::sample::select(b"a\x00\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xff\x80".to_vec()), 0..64),
            cuts in proptest::collection::vec(0usize..64, 0..6)) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut from = 0;
            for cut in cuts {
                chunks.push(&bytes[from..cut]);
                from = cut;
            }
            chunks.push(&bytes[from..]);
            proptest::prop_assert_eq!(decode_all(&chunks), String::from_utf8_lossy(&bytes).into_owned());
        }
    }

    #[test]
    fn events_are_json_lines_with_times_that_never_go_back() {
        let start = Instant::now();
        let mut encoder = Encoder::new(start, DEFAULT_WINDOW);
        let mut out = Vec::new();
        encoder.chunk(Kind::Output, start + Duration::from_millis(1500), b"hi \"x\"\r\n\x1b[1m", &mut out);
        encoder.resize(start + Duration::from_millis(1000), WindowSize { cols: 100, rows: 30 }, &mut out);
        encoder.resize(start + Duration::from_millis(2000), WindowSize { cols: 100, rows: 30 }, &mut out);
        encoder.chunk(Kind::Input, start + Duration::from_millis(2000), b"ls\r", &mut out);
        encoder.chunk(Kind::Output, start + Duration::from_millis(2500), b"\xc3", &mut out);
        encoder.finish(&mut out);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "[1.500000, \"o\", \"hi \\\"x\\\"\\r\\n\\u001b[1m\"]\n\
             [1.500000, \"r\", \"100x30\"]\n\
             [2.000000, \"i\", \"ls\\r\"]\n\
             [2.000000, \"o\", \"\u{FFFD}\"]\n"
        );
    }

    #[test]
    fn the_header_is_asciicast_v2() {
        let value: serde_json::Value = serde_json::from_str(&header(DEFAULT_WINDOW, 1_700_000_000)).unwrap();
        assert_eq!(value["version"], 2);
        assert_eq!(value["width"], 80);
        assert_eq!(value["height"], 24);
        assert_eq!(value["timestamp"], 1_700_000_000u64);
        assert_eq!(value["env"]["TERM"], "xterm-256color");
    }
}
