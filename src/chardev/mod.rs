//! Chardevs: the endpoints a hub connects, one module per kind.
//!
//! Every kind, frontend or backend, is seen by the hub the same way: a
//! [`Connector`] that yields one [`Connection`] at a time (a socket client, a
//! screen session on a PTY, an open file) and, when that connection ends, waits
//! for the next. The hub never learns which kind it drives.

pub mod file;
pub mod null;
pub mod pty;
pub mod socket;
pub mod stdio;
pub mod vc;

use std::future::Future;
use std::io;
use std::path::Path;
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
}

/// A source of connections: what each chardev kind provides to the hub.
pub trait Connector: Send {
    /// Waits for the next connection. `Ok(None)` means this chardev will never
    /// connect again (a socket client without `reconnect=`, a finished command).
    /// The future may be dropped before it finishes (shutdown); nothing is lost then.
    fn connect(&mut self) -> BoxFuture<'_, io::Result<Option<Connection>>>;
}

/// Why a chardev could not be opened at start-up: one line that names the
/// chardev, what was being done and the system's reason, once (the reason is
/// part of the message, not a separate source, so no error chain repeats it).
#[derive(Debug, thiserror::Error)]
#[error("{id}: {what}: {cause}")]
pub struct OpenError {
    /// The chardev id (or `hub0 frontend`).
    pub id: String,
    /// What was being done (`cannot listen on unix:/run/a.sock`).
    pub what: String,
    /// The system's reason.
    pub cause: io::Error,
}

impl OpenError {
    /// Wraps an I/O error with the chardev and the action.
    pub fn new(id: &str, what: impl Into<String>, cause: io::Error) -> OpenError {
        OpenError { id: id.to_string(), what: what.into(), cause }
    }
}

/// Opens a log for writing: created if missing, truncated unless appending.
pub async fn open_for_writing(path: &Path, append: bool) -> io::Result<tokio::fs::File> {
    tokio::fs::OpenOptions::new().create(true).write(true).append(append).truncate(!append).open(path).await
}
