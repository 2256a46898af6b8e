//! Why `vcmux screenshot` got no frame from a server.

use crate::frame;

/// Why a frame could not be had from the server.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server hung up.
    #[error("the server closed the connection")]
    Closed,
    /// Reading or writing failed.
    #[error("{0}")]
    Io(std::io::Error),
    /// The server's first words were not an RFB version.
    #[error("not a VNC server: it greeted with {0:?}")]
    NotRfb(String),
    /// The server refused the connection, saying why.
    #[error("the server refused the connection: {0}")]
    Refused(String),
    /// None of the security types offered is one spoken here.
    #[error(
        "the server offers security types {0:?}; vcmux screenshot speaks 1 (None) and 2 (VNC authentication)"
    )]
    NoSecurityType(Vec<u32>),
    /// VNC authentication without a password to give.
    #[error("the server asks for a password: give --password-file F")]
    NeedsPassword,
    /// The server did not take the password.
    #[error("authentication failed: {0}")]
    AuthenticationFailed(String),
    /// The server's screen is past the bound a vc has too.
    #[error(
        "the server's screen is {width}x{height}, past what vcmux screenshot takes ({})",
        frame::MAX_SIZE_TEXT
    )]
    TooLarge {
        /// Its width.
        width: u16,
        /// Its height.
        height: u16,
    },
    /// The server sent something RFB does not allow, or that was not asked for.
    #[error("protocol error: {0}")]
    Protocol(String),
}

impl From<std::io::Error> for ClientError {
    fn from(e: std::io::Error) -> ClientError {
        if e.kind() == std::io::ErrorKind::UnexpectedEof { ClientError::Closed } else { ClientError::Io(e) }
    }
}
