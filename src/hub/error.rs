//! Why a backend could not be attached or detached, in one line naming the
//! hub and the id.

use super::attach::MAX_BACKENDS;

/// Why a backend could not be attached or detached.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HubError {
    /// QEMU's MAX_MUX.
    #[error("hub '{hub}' cannot take backend '{id}': the limit is {MAX_BACKENDS} backends")]
    TooManyBackends {
        /// The hub.
        hub: String,
        /// The refused backend.
        id: String,
    },
    /// Ids name one backend each, as chardev ids do.
    #[error("hub '{hub}' already has a backend '{id}'")]
    AlreadyAttached {
        /// The hub.
        hub: String,
        /// The id given twice.
        id: String,
    },
    /// A detach naming no attached backend.
    #[error("hub '{hub}' has no backend '{id}'")]
    NotAttached {
        /// The hub.
        hub: String,
        /// The id named.
        id: String,
    },
    /// The hub no longer runs: its console ended or vcmux is stopping.
    #[error("hub '{hub}' has stopped")]
    Stopped {
        /// The hub.
        hub: String,
    },
}
