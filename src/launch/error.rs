//! Why vcmux could not run a configuration: the one error [`run`](super::run)
//! returns, in a file of its own so that the steps (`open`, `vnc`) and the
//! runner all name it without importing each other.

use crate::chardev::OpenError;

/// Why vcmux could not run a configuration. Each is found before the console
/// starts, and vcmux exits 2 with its one line.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// A chardev could not be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The signal handlers could not be installed.
    #[error("cannot watch for signals: {0}")]
    Signals(std::io::Error),
    /// A VNC server could not start (a listener, a password).
    #[error("{0}")]
    Vnc(String),
    /// A control socket could not listen.
    #[error("-qmp {address}: cannot listen: {cause}")]
    Control {
        /// Where it was to listen.
        address: String,
        /// Why it could not (in the message, so not a `source` the error
        /// chain would print twice).
        cause: std::io::Error,
    },
}
