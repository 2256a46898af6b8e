//! `chardev-add` and `chardev-remove` as requests to whoever runs the hubs
//! (launch), which opens the backend and attaches it: the control socket
//! reads and answers, but never opens a chardev or touches a hub itself.

use tokio::sync::oneshot;

use super::chardev::{ChardevInfo, NewChardev};
use super::error::CommandError;

/// What a control client asks of the running hubs.
pub enum PlugRequest {
    /// Open a backend and attach it to its hub.
    Add {
        /// The backend and the hub it joins.
        chardev: NewChardev,
        /// Where the outcome goes.
        reply: oneshot::Sender<Result<Plugged, CommandError>>,
    },
    /// Detach a backend from its hub and close it.
    Remove {
        /// The backend's id.
        id: String,
        /// Where the outcome goes.
        reply: oneshot::Sender<Result<Unplugged, CommandError>>,
    },
}

/// A backend added while the console ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plugged {
    /// How `query-chardev` lists it from now on.
    pub info: ChardevInfo,
    /// For a pty: the `/dev/pts/N` it made, which QEMU's answer names.
    pub pty: Option<String>,
    /// The console offset it joined at: its first byte is the console's byte
    /// at this offset.
    pub offset: u64,
}

/// A backend removed while the console ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unplugged {
    /// The console offset it left at: it was handed every byte before it,
    /// none after.
    pub offset: u64,
}
