//! The vc chardev: a terminal emulator fed with the console's output.
//!
//! It parses every byte as it arrives (so it never holds the hub back), and what
//! the terminal answers (DA, CPR, DECRQCRA…) goes back to the console through the
//! hub like anything a peer types. Its geometry is the console's window size: a
//! command under vcmux's PTY gets the vc's columns and rows.

pub mod keys;
pub mod mouse;

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{mpsc, watch};
use tracing::warn;

use super::{BoxFuture, Connection, Connector};
use crate::config::VcConfig;
use crate::term::Terminal;

/// The most console output parsed under one lock, so that whoever reads the
/// screen (a viewer's update) never waits long.
const PARSE_SLICE: usize = 64 * 1024;

/// Replies and keystrokes queued towards the console; past this, replies are
/// dropped with a warning rather than letting memory grow.
const REPLY_QUEUE: usize = 256;

/// A terminal's size in cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSize {
    /// Columns.
    pub cols: u16,
    /// Rows.
    pub rows: u16,
}

/// A vc: the terminal, and the ways to watch it.
pub struct VcConnector {
    label: String,
    /// The connection, until the hub takes it (a vc never disconnects).
    connection: Option<Connection>,
    window: watch::Receiver<WindowSize>,
}

impl VcConnector {
    /// Makes the terminal with the configured geometry.
    pub fn open(label: &str, config: &VcConfig) -> VcConnector {
        let terminal = Arc::new(Mutex::new(Terminal::new(config.cols, config.rows, config.scrollback)));
        let (window_tx, window) = watch::channel(WindowSize { cols: config.cols, rows: config.rows });
        let (replies_tx, replies_rx) = mpsc::channel(REPLY_QUEUE);
        let writer =
            TerminalWriter { label: label.to_string(), terminal, replies: replies_tx, window: window_tx };
        let connection = Connection {
            peer: format!("terminal {}x{}", config.cols, config.rows),
            writer: Box::new(writer),
            reader: Some(Box::new(ChannelReader { chunks: replies_rx, current: Bytes::new() })),
            eof_is_hangup: false,
        };
        VcConnector { label: label.to_string(), connection: Some(connection), window }
    }

    /// The terminal's size now and as it changes: a PTY frontend follows it.
    pub fn window(&self) -> watch::Receiver<WindowSize> {
        self.window.clone()
    }
}

impl Connector for VcConnector {
    fn connect(&mut self) -> BoxFuture<'_, io::Result<Option<Connection>>> {
        let connection = self.connection.take();
        let label = self.label.clone();
        Box::pin(async move {
            match connection {
                Some(connection) => Ok(Some(connection)),
                None => {
                    // Parsing cannot fail, so there is never a second connection.
                    warn!("{label}: the terminal was asked to reconnect");
                    std::future::pending().await
                }
            }
        })
    }
}

/// Console output into the terminal; its replies out to the console.
struct TerminalWriter {
    label: String,
    terminal: Arc<Mutex<Terminal>>,
    replies: mpsc::Sender<Bytes>,
    window: watch::Sender<WindowSize>,
}

impl AsyncWrite for TerminalWriter {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let taken = buf.len().min(PARSE_SLICE);
        let (replies, resized) = {
            let Ok(mut terminal) = self.terminal.lock() else {
                return Poll::Ready(Err(io::Error::other("the terminal's lock is poisoned")));
            };
            terminal.advance(&buf[..taken]);
            (terminal.take_replies(), terminal.take_size_request())
        };
        if !replies.is_empty() && self.replies.try_send(Bytes::from(replies)).is_err() {
            warn!("{}: the console is not reading; a terminal reply was dropped", self.label);
        }
        if let Some((cols, rows)) = resized {
            self.window.send_replace(WindowSize { cols, rows });
        }
        Poll::Ready(Ok(taken))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Chunks from a channel as a byte stream; ends when every sender is gone.
struct ChannelReader {
    chunks: mpsc::Receiver<Bytes>,
    /// What is left of the chunk being read.
    current: Bytes,
}

impl AsyncRead for ChannelReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        while self.current.is_empty() {
            match self.chunks.poll_recv(cx) {
                Poll::Ready(Some(chunk)) => self.current = chunk,
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = self.current.len().min(buf.remaining());
        buf.put_slice(&self.current[..n]);
        self.current.advance(n);
        Poll::Ready(Ok(()))
    }
}
