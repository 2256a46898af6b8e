//! The file chardev: a console log, optionally with a timestamp on each line.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, SystemTime};

use tokio::fs::File;
use tokio::io::AsyncWrite;

use super::OpenError;
use crate::config::FileConfig;
use crate::hub::port::{BoxFuture, BoxWriter, Connection, Connector};

/// How long a log that failed (a full disk) rests before the hub tries it again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// A log file's source of connections: the open file, handed out again after a
/// write failed so that the log re-joins at the current position.
pub struct FileConnector {
    /// The log's path, for messages.
    path: String,
    file: File,
    timestamps: bool,
    /// The first connection, made while opening so that the log is connected
    /// from the console's first byte.
    first: Option<File>,
}

impl FileConnector {
    /// Creates (or, with `append=on`, opens for appending) the log.
    pub async fn open(label: &str, config: &FileConfig) -> Result<FileConnector, OpenError> {
        let file = super::open_for_writing(&config.path, config.append)
            .await
            .map_err(|e| OpenError::new(label, format!("cannot open {}", config.path.display()), e))?;
        let first = file
            .try_clone()
            .await
            .map_err(|e| OpenError::new(label, format!("cannot open {}", config.path.display()), e))?;
        Ok(FileConnector {
            path: config.path.display().to_string(),
            file,
            timestamps: config.timestamps,
            first: Some(first),
        })
    }
}

impl Connector for FileConnector {
    fn connect(&mut self) -> BoxFuture<'_, io::Result<Option<Connection>>> {
        Box::pin(async move {
            let file = match self.first.take() {
                Some(file) => file,
                None => {
                    tokio::time::sleep(RETRY_AFTER).await; // allow-sleep: a failed log rests before the retry
                    self.file.try_clone().await?
                }
            };
            let writer: BoxWriter =
                if self.timestamps { Box::new(Timestamped::new(file)) } else { Box::new(file) };
            Ok(Some(Connection {
                peer: self.path.clone(),
                writer,
                reader: None,
                eof_is_hangup: false,
                typed: None,
            }))
        })
    }
}

/// The length of the stamp [`Timestamped`] puts at a line start,
/// `2026-11-25T19:43:43.123Z ` (RFC 3339 in UTC with milliseconds, and a space).
pub const STAMP_LEN: usize = 25;

/// Whether `bytes` start with a stamp as [`Timestamped`] writes it.
fn starts_with_stamp(bytes: &[u8]) -> bool {
    // `d` stands for any ASCII digit; every other byte is itself.
    const PATTERN: &[u8; STAMP_LEN] = b"dddd-dd-ddTdd:dd:dd.dddZ ";
    bytes.len() >= STAMP_LEN
        && PATTERN.iter().zip(bytes).all(|(&p, &b)| if p == b'd' { b.is_ascii_digit() } else { b == p })
}

/// A `timestamps=on` log without its stamps: the one [`Timestamped`] put at the
/// start of the log and after each `\n` is dropped; everything else, a stamp-like
/// text the console itself printed included, is kept as it was.
pub fn strip_timestamps(log: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(log.len());
    for line in log.split_inclusive(|&b| b == b'\n') {
        let line = if starts_with_stamp(line) { &line[STAMP_LEN..] } else { line };
        out.extend_from_slice(line);
    }
    out
}

/// Prefixes every line written through it with the UTC time at which the line's
/// first byte arrived, in RFC 3339 with milliseconds (`2026-11-25T19:43:43.123Z `).
pub struct Timestamped<W> {
    inner: W,
    at_line_start: bool,
    /// Stamped bytes not yet taken by `inner`.
    pending: Vec<u8>,
    taken: usize,
}

impl<W: AsyncWrite + Unpin> Timestamped<W> {
    /// Wraps `inner`; the first byte written starts a line.
    pub fn new(inner: W) -> Self {
        Timestamped { inner, at_line_start: true, pending: Vec::new(), taken: 0 }
    }

    /// Appends `data` to `pending`, stamping each line start with `now`.
    fn stamp(&mut self, data: &[u8], now: SystemTime) {
        let stamp = format!("{} ", humantime::format_rfc3339_millis(now));
        for line in data.split_inclusive(|b| *b == b'\n') {
            if self.at_line_start {
                self.pending.extend_from_slice(stamp.as_bytes());
            }
            self.pending.extend_from_slice(line);
            self.at_line_start = line.ends_with(b"\n");
        }
    }

    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.taken < self.pending.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.taken..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.taken += n;
        }
        self.pending.clear();
        self.taken = 0;
        Poll::Ready(Ok(()))
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for Timestamped<W> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.poll_drain(cx))?;
        self.stamp(buf, SystemTime::now());
        // The stamped copy is taken whole; `inner` gets it on the next write or flush.
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[test]
    fn stamps_each_line_once_across_writes() {
        let mut t = Timestamped::new(Vec::new());
        let now = SystemTime::UNIX_EPOCH + Duration::from_millis(1_764_099_823_123);
        t.stamp(b"boot\r\nker", now);
        t.stamp(b"nel\n\nlast", now);
        let text = String::from_utf8(t.pending).unwrap();
        let s = "2025-11-25T19:43:43.123Z ";
        assert_eq!(text, format!("{s}boot\r\n{s}kernel\n{s}\n{s}last"));
    }

    #[test]
    fn stripping_gives_back_what_was_stamped() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_millis(1_764_099_823_123);
        // A stamp-like text the console printed itself, at a line start and
        // inside a line, is the console's and stays.
        let console: &[&[u8]] = &[
            b"boot\r\nker",
            b"nel\n\n",
            b"2025-11-25T19:43:43.123Z x\nat 2025-11-25T19:43:43.123Z ",
            b"\rlast",
        ];
        let mut t = Timestamped::new(Vec::new());
        for chunk in console {
            t.stamp(chunk, now);
        }
        assert_eq!(strip_timestamps(&t.pending), console.concat());
    }

    #[test]
    fn only_whole_stamps_at_line_starts_are_stripped() {
        let log = b"2025-11-25T19:43:43.123Z a\n2025-11-25T19:43:43Z b\nc 2025-11-25T19:43:43.123Z d\n2025-11-25T19:4";
        assert_eq!(
            strip_timestamps(log),
            b"a\n2025-11-25T19:43:43Z b\nc 2025-11-25T19:43:43.123Z d\n2025-11-25T19:4"
        );
        assert_eq!(strip_timestamps(b""), b"");
    }

    proptest::proptest! {
        #[test]
        fn stripping_undoes_stamping(chunks in proptest::collection::vec(proptest::collection::vec(
            proptest::sample::select(b"ab\r\n\x1b0123456789-:.TZ ".to_vec()), 0..40), 0..8), millis in 0u64..253_402_300_799_999) {
            let now = SystemTime::UNIX_EPOCH + Duration::from_millis(millis);
            let mut t = Timestamped::new(Vec::new());
            for chunk in &chunks {
                t.stamp(chunk, now);
            }
            proptest::prop_assert_eq!(strip_timestamps(&t.pending), chunks.concat());
        }
    }

    #[tokio::test]
    async fn writes_reach_the_inner_writer() {
        let mut t = Timestamped::new(Vec::new());
        t.write_all(b"a\nb").await.unwrap();
        t.flush().await.unwrap();
        let text = String::from_utf8(t.inner).unwrap();
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].ends_with("Z a") && lines[1].ends_with("Z b"), "{text}");
        assert_eq!(lines[0].len(), "2025-11-25T19:43:43.123Z a".len());
    }
}
