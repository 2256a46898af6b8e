//! Chardevs: the endpoints a hub connects, one module per kind, each
//! implementing the hub's port ([`crate::hub::port`]): a `Connector` that
//! yields one `Connection` at a time. What the kinds share lives here: the
//! error of opening one, and the window size a terminal and a PTY agree on.

pub mod asciicast;
pub mod file;
pub mod null;
pub mod pty;
pub mod socket;
pub mod stdio;
pub mod vc;

use std::io;
use std::path::Path;

/// A terminal's size in cells: a vc's, which a command's PTY window follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSize {
    /// Columns.
    pub cols: u16,
    /// Rows.
    pub rows: u16,
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
