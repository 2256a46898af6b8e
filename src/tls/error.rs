//! Why TLS credentials could not be read or made: one line, naming the file.

use std::path::PathBuf;

/// Why TLS credentials could not be read, made or written.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read (missing, unreadable).
    #[error("cannot read {}: {cause}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// A file holds no PEM item of the kind expected, or broken PEM.
    #[error("{}: {what}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        what: String,
    },
    /// rustls refused the credentials (a key that does not match its
    /// certificate, a CA certificate it cannot use).
    #[error("{context}: {cause}")]
    Rejected {
        /// What was being set up, naming the files.
        context: String,
        /// rustls's reason.
        cause: String,
    },
    /// A certificate could not be made.
    #[error("cannot make a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// A file could not be written, or would be overwritten.
    #[error("cannot write {}: {cause}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
}
