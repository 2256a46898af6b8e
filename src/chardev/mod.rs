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
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};

use tokio::sync::watch;

use crate::config::{BackendConfig, BackendKind, FrontendConfig, FrontendKind, LogfileConfig};

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

/// Why a chardev could not be opened at start-up.
#[derive(Debug, thiserror::Error)]
#[error("chardev '{id}': {what}: {source}")]
pub struct OpenError {
    /// The chardev id (or `frontend`).
    pub id: String,
    /// What was being done (`cannot listen on unix:/run/a.sock`).
    pub what: String,
    /// The system's reason.
    #[source]
    pub source: io::Error,
}

impl OpenError {
    /// Wraps an I/O error with the chardev and the action.
    pub fn new(id: &str, what: impl Into<String>, source: io::Error) -> OpenError {
        OpenError { id: id.to_string(), what: what.into(), source }
    }
}

/// An opened backend: its connector and, for `wait=on` sockets, the first
/// connection, which start-up waits for before the frontend starts.
pub struct OpenedBackend {
    /// The chardev id.
    pub id: String,
    /// Yields its connections.
    pub connector: Box<dyn Connector>,
    /// QEMU's `wait=on`: the first client must be there before the console starts.
    pub wait: bool,
    /// Its `logfile=` copy, if any.
    pub logfile: Option<BoxWriter>,
    /// For a vc: the terminal, which a VNC server shows and whose size a
    /// command frontend's window follows.
    pub vc: Option<Arc<vc::Vc>>,
}

/// Opens a backend (binds its socket, creates its file or PTY) without waiting for
/// any peer.
pub async fn open_backend(config: &BackendConfig) -> Result<OpenedBackend, OpenError> {
    let id = config.id.as_str();
    let mut shown = None;
    let (connector, wait): (Box<dyn Connector>, bool) = match &config.kind {
        BackendKind::Socket(socket) => {
            (Box::new(socket::SocketConnector::open(id, socket).await?), socket.wait)
        }
        BackendKind::File(file) => (Box::new(file::FileConnector::open(id, file).await?), false),
        BackendKind::Pty(pty) => (Box::new(pty::PtyBackend::open(id, pty)?), false),
        BackendKind::Stdio(stdio) => (Box::new(stdio::StdioConnector::backend(id, stdio)?), false),
        BackendKind::Null => (Box::new(null::NullConnector::default()), false),
        BackendKind::Vc(config) => {
            let (vc, connector) = vc::Vc::open(id, config)?;
            shown = Some(vc);
            (Box::new(connector), false)
        }
    };
    let logfile = open_logfile(id, config.logfile.as_ref()).await?;
    Ok(OpenedBackend { id: id.to_string(), connector, wait, logfile, vc: shown })
}

/// An opened frontend: its connector, its `logfile=` copy, and for a command, the
/// way to learn its exit status.
pub struct OpenedFrontend {
    /// Yields the console connection(s).
    pub connector: Box<dyn Connector>,
    /// Its `logfile=` copy, if any.
    pub logfile: Option<BoxWriter>,
    /// For a command under a PTY: resolves to its exit status once it has exited.
    pub exit: Option<pty::ExitStatusReceiver>,
}

/// Opens a frontend: starts the command, connects to or listens on the socket.
/// A command's window follows `window` (a vc's size) when there is one.
pub async fn open_frontend(
    hub: &str,
    config: &FrontendConfig,
    window: Option<watch::Receiver<vc::WindowSize>>,
) -> Result<OpenedFrontend, OpenError> {
    let id = format!("{hub} frontend");
    let (connector, exit): (Box<dyn Connector>, _) = match &config.kind {
        FrontendKind::Command(argv) => {
            let (command, exit) = pty::CommandFrontend::spawn(&id, argv, window)?;
            (Box::new(command), Some(exit))
        }
        FrontendKind::Socket(socket) => (Box::new(socket::SocketConnector::open(&id, socket).await?), None),
        FrontendKind::Stdio => (Box::new(stdio::StdioConnector::frontend()), None),
    };
    let logfile = open_logfile(&id, config.logfile.as_ref()).await?;
    Ok(OpenedFrontend { connector, logfile, exit })
}

async fn open_logfile(id: &str, config: Option<&LogfileConfig>) -> Result<Option<BoxWriter>, OpenError> {
    let Some(config) = config else { return Ok(None) };
    let file = open_for_writing(&config.path, config.append)
        .await
        .map_err(|e| OpenError::new(id, format!("cannot open logfile {}", config.path.display()), e))?;
    Ok(Some(Box::new(file)))
}

/// Opens a log for writing: created if missing, truncated unless appending.
pub(crate) async fn open_for_writing(path: &Path, append: bool) -> io::Result<tokio::fs::File> {
    tokio::fs::OpenOptions::new().create(true).write(true).append(append).truncate(!append).open(path).await
}
