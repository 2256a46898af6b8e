//! Why `vcmux ctl` failed, in one line each (a wait's timeout excepted: the
//! server's answer carries the screen, which is the point of it).

use std::io;
use std::path::PathBuf;

/// Why `vcmux ctl` could not run its command, or what the server answered
/// instead of a result.
#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    /// The control socket could not be reached.
    #[error("cannot connect to {target}: {}", io_text(.source))]
    Connect {
        /// The target as written back (`unix:PATH`, `HOST:PORT`).
        target: String,
        /// Why.
        source: io::Error,
    },
    /// Reading or writing the socket failed after connecting.
    #[error("{target}: {}", io_text(.source))]
    Io {
        /// The target.
        target: String,
        /// Why.
        source: io::Error,
    },
    /// The server hung up before answering.
    #[error("{target} closed the connection before answering")]
    Closed {
        /// The target.
        target: String,
    },
    /// The server said nothing for longer than it could need.
    #[error("{target} did not answer within {seconds} s")]
    NoAnswer {
        /// The target.
        target: String,
        /// How long the client waited.
        seconds: u64,
    },
    /// The server's first words were not a QMP greeting.
    #[error("{target} is not a QMP server: it greeted with {greeting}")]
    NotQmp {
        /// The target.
        target: String,
        /// The greeting, shortened.
        greeting: String,
    },
    /// The server sent a line that is not a JSON object.
    #[error("{target} sent what is not QMP: {line}")]
    Protocol {
        /// The target.
        target: String,
        /// The line, shortened.
        line: String,
    },
    /// The server answered with a QMP error: its `desc` is the message.
    #[error("{desc}")]
    Qmp {
        /// QMP's error class (`GenericError`, `CommandNotFound`, …).
        class: String,
        /// The server's description.
        desc: String,
    },
    /// The screendump's directory cannot be resolved here.
    #[error("cannot resolve the directory of {path}: {}", io_text(.source))]
    OutputPath {
        /// OUT as given.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The command line names something that cannot be sent (a usage error
    /// clap could not see, such as OUT's extension).
    #[error("{0}")]
    Usage(String),
    /// The result could not be written to stdout.
    #[error("cannot write the result: {}", io_text(.0))]
    Output(io::Error),
}

impl CtlError {
    /// The exit status: 2 for a usage error, 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            CtlError::Usage(_) => 2,
            _ => 1,
        }
    }
}

/// An I/O error as people read it: `No such file or directory`, without
/// Rust's ` (os error 2)`.
fn io_text(e: &io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_read_without_the_os_code() {
        let e = CtlError::Connect { target: "unix:/x".into(), source: io::Error::from_raw_os_error(2) };
        assert_eq!(e.to_string(), "cannot connect to unix:/x: No such file or directory");
        assert_eq!(e.exit_code(), 1);
        assert_eq!(CtlError::Usage("u".into()).exit_code(), 2);
    }
}
