//! The hub's port: how the hub sees anything it connects, frontend or backend.
//!
//! Every chardev kind is, to the hub, a [`Connector`] that yields one
//! [`Connection`] at a time (a socket client, a screen session on a PTY, an
//! open file) and, when that connection ends, waits for the next. The kinds
//! live in `chardev`, which implements this port; the hub never learns which
//! kind it drives.

use std::future::Future;
use std::io;
use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncWrite};

/// A boxed future, for the object-safe [`Connector`] trait.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The reading half of a connection.
pub type BoxReader = Box<dyn AsyncRead + Send + Unpin>;

/// The writing half of a connection.
pub type BoxWriter = Box<dyn AsyncWrite + Send + Unpin>;

/// One live link to a peer: a socket client, a PTY with its reader, a file.
pub struct Connection {
    /// Who is on the other end, for logs (`unix:/run/a.sock`, `127.0.0.1:40112`, `/dev/pts/4`).
    pub peer: String,
    /// Where console output goes (for a frontend: where typed input goes).
    pub writer: BoxWriter,
    /// What the peer types (for a frontend: the console output); `None` for
    /// output-only kinds such as a file.
    pub reader: Option<BoxReader>,
    /// Whether the end of `reader` means the peer is gone (a socket, a PTY) or
    /// only that it has nothing more to type (stdin at end of file).
    pub eof_is_hangup: bool,
    /// For a peer that records the console's input as well as its output (an
    /// asciicast recording with `input=on`): where the hub copies every chunk
    /// typed into the console, by any backend, as it goes to the frontend.
    /// `None` for every other kind: a backend hears only the output.
    pub typed: Option<BoxWriter>,
}

/// A source of connections: what each chardev kind provides to the hub.
pub trait Connector: Send {
    /// Waits for the next connection. `Ok(None)` means this chardev will never
    /// connect again (a socket client without `reconnect=`, a finished command).
    /// The future may be dropped before it finishes (shutdown); nothing is lost then.
    fn connect(&mut self) -> BoxFuture<'_, io::Result<Option<Connection>>>;
}
