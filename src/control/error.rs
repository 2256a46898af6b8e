//! Why a command failed, as the QMP error object the client reads.

use super::wire::ErrorClass;

/// A command's failure: its class and QEMU's kind of one-line description.
/// The connection goes on after any of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// No such command.
    #[error("The command {0} has not been found")]
    NotFound(String),
    /// A command before `qmp_capabilities`.
    #[error("Expecting capabilities negotiation with 'qmp_capabilities'")]
    NotNegotiated,
    /// `qmp_capabilities` a second time.
    #[error("Capabilities negotiation is already complete, command ignored")]
    AlreadyNegotiated,
    /// A required argument is absent.
    #[error("Parameter '{0}' is missing")]
    Missing(String),
    /// An argument of the wrong JSON type.
    #[error("Invalid parameter type for '{name}', expected: {expected}")]
    WrongType {
        /// The argument.
        name: String,
        /// What QMP's schema calls the type it wants.
        expected: &'static str,
    },
    /// An argument the command does not take.
    #[error("Parameter '{0}' is unexpected")]
    Unexpected(String),
    /// A `device` that names no device of that kind.
    #[error("Device '{0}' not found")]
    DeviceNotFound(String),
    /// Anything else, in its own words.
    #[error("{0}")]
    Failed(String),
}

impl CommandError {
    /// The QMP class the client sees, as QEMU would send it.
    pub fn class(&self) -> ErrorClass {
        match self {
            CommandError::NotFound(_) | CommandError::NotNegotiated | CommandError::AlreadyNegotiated => {
                ErrorClass::CommandNotFound
            }
            CommandError::DeviceNotFound(_) => ErrorClass::DeviceNotFound,
            _ => ErrorClass::GenericError,
        }
    }
}
