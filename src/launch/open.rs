//! Opening a configuration's chardevs, in the order that makes a failure cost
//! nothing: first everything that only reads, creates or connects (password
//! files, fonts, logs, PTYs, outgoing connections, the command's program), then
//! every listener; only once all of them are bound does the log say where
//! vcmux listens. A mistake in the configuration is therefore one line, with
//! nothing listening or running before it.

use std::sync::Arc;

use tokio::sync::watch;
use tracing::info;

use super::error::LaunchError;
use super::vnc::{self, BoundVnc};
use crate::chardev::asciicast::{self, ConsoleWindow};
use crate::chardev::pty::{self, CommandSession};
use crate::chardev::{OpenError, WindowSize, file, null, socket, stdio, vc};
use crate::config::{BackendConfig, BackendKind, Config, FrontendConfig, FrontendKind, LogfileConfig};
use crate::control::ControlListener;
use crate::hub::port::{BoxWriter, Connector};

/// A configuration with every chardev opened and every listener bound, but
/// nothing running yet: no command started, no connection accepted.
pub(super) struct Opened {
    /// Each hub's id, backends and frontend, in the configuration's order.
    pub hubs: Vec<OpenedHub>,
    /// Each `-vnc`'s listeners, bound.
    pub vnc: Vec<BoundVnc>,
    /// Each `-qmp`'s listener, bound.
    pub control: Vec<ControlListener>,
}

/// One hub's chardevs, opened.
pub(super) struct OpenedHub {
    /// The hub's id.
    pub id: String,
    /// Its backends, in the hub's order.
    pub backends: Vec<OpenedBackend>,
    /// Its console source.
    pub frontend: Frontend,
}

/// An opened backend: its connector and, for `wait=on` sockets, whether the
/// first connection must come before the frontend starts.
pub(super) struct OpenedBackend {
    /// The chardev id.
    pub id: String,
    /// Yields its connections.
    pub connector: Box<dyn Connector>,
    /// QEMU's `wait=on`: the first client must be there before the console starts.
    pub wait: bool,
    /// Its `logfile=` copy, if any.
    pub logfile: Option<BoxWriter>,
    /// `replay=SIZE`: what a newly connected peer is sent first (0: nothing).
    pub replay: usize,
    /// `lag=SIZE`: how far it may fall behind before it is cut off (0: never).
    pub lag: usize,
    /// For a vc: the terminal, which a VNC server shows and whose size a
    /// command frontend's window follows.
    pub vc: Option<Arc<vc::Vc>>,
    /// For a listening socket: where, for the start-up log.
    pub listening_on: Option<String>,
    /// For a pty: its slave's path, which `chardev-add` answers with.
    pub pty: Option<String>,
    /// For a recording: where to tell it the console's window (the hub's
    /// first vc's), before it is attached; left alone, it records 80x24.
    pub console_window: Option<ConsoleWindow>,
}

/// A hub's console source, opened as far as it can be before the console runs.
pub(super) enum Frontend {
    /// A socket or stdio: connected or listening already.
    Ready(OpenedFrontend),
    /// A command: its program was found; it starts once every `wait=on` backend
    /// has its client, so that the client sees its first byte.
    Command {
        /// The command line.
        argv: Vec<String>,
        /// Its `logfile=` copy, if any.
        logfile: Option<BoxWriter>,
    },
}

/// A running frontend: its connector, its `logfile=` copy, and for a command,
/// its session.
pub(super) struct OpenedFrontend {
    /// Yields the console connection(s).
    pub connector: Box<dyn Connector>,
    /// Its `logfile=` copy, if any.
    pub logfile: Option<BoxWriter>,
    /// For a command under a PTY: its processes and exit status.
    pub session: Option<CommandSession>,
    /// For a listening socket: where, for the start-up log.
    pub listening_on: Option<String>,
}

/// Opens every chardev of `config` and binds every listener, in the order the
/// module doc gives.
pub(super) async fn open(config: &Config) -> Result<Opened, LaunchError> {
    let vnc_servers = config
        .vnc
        .iter()
        .map(|vnc| vnc::prepare(vnc).map(|server| (vnc, server)))
        .collect::<Result<Vec<_>, _>>()?;

    // What only reads, creates or connects, in each hub's order.
    let mut hubs = Vec::with_capacity(config.hubs.len());
    for hub in &config.hubs {
        let mut backends = Vec::with_capacity(hub.backends.len());
        for backend in &hub.backends {
            backends.push(if listens(backend) { None } else { Some(open_backend(backend).await?) });
        }
        let frontend_listens = matches!(&hub.frontend.kind, FrontendKind::Socket(s) if s.server);
        let frontend =
            if frontend_listens { None } else { Some(open_frontend(&hub.id, &hub.frontend).await?) };
        hubs.push((hub, backends, frontend));
    }

    // Then the listeners.
    let mut opened = Vec::with_capacity(hubs.len());
    for (hub, backends, frontend) in hubs {
        let mut all = Vec::with_capacity(backends.len());
        for (config, backend) in hub.backends.iter().zip(backends) {
            all.push(match backend {
                Some(backend) => backend,
                None => open_backend(config).await?,
            });
        }
        let frontend = match frontend {
            Some(frontend) => frontend,
            None => open_frontend(&hub.id, &hub.frontend).await?,
        };
        opened.push(OpenedHub { id: hub.id.clone(), backends: all, frontend });
    }
    let mut vnc = Vec::with_capacity(vnc_servers.len());
    for (config, server) in vnc_servers {
        vnc.push(vnc::bind(config, server).await?);
    }

    let mut control = Vec::with_capacity(config.qmp.len());
    for qmp in &config.qmp {
        let listener = ControlListener::bind(&qmp.address)
            .await
            .map_err(|cause| LaunchError::Control { address: qmp.address.to_string(), cause })?;
        info!("control socket (QMP): listening on {}", listener.address);
        control.push(listener);
    }

    for hub in &opened {
        for backend in &hub.backends {
            if let Some(address) = &backend.listening_on {
                info!("{}: listening on {address}", backend.id);
            }
        }
        if let Frontend::Ready(OpenedFrontend { listening_on: Some(address), .. }) = &hub.frontend {
            info!("{}: listening on {address}", frontend_label(&hub.id));
        }
    }
    Ok(Opened { hubs: opened, vnc, control })
}

/// The name a hub's frontend goes by in logs and errors.
pub(super) fn frontend_label(hub: &str) -> String {
    format!("{hub} frontend")
}

/// Whether opening this backend binds a listener.
fn listens(backend: &BackendConfig) -> bool {
    matches!(&backend.kind, BackendKind::Socket(socket) if socket.server)
}

/// Opens a backend (binds its socket, creates its file or PTY) without waiting for
/// any peer.
pub(super) async fn open_backend(config: &BackendConfig) -> Result<OpenedBackend, OpenError> {
    let id = config.id.as_str();
    let mut shown = None;
    let mut listening_on = None;
    let mut pty_path = None;
    let mut console_window = None;
    let (connector, wait): (Box<dyn Connector>, bool) = match &config.kind {
        BackendKind::Socket(config) => {
            let socket = socket::SocketConnector::open(id, config).await?;
            listening_on = socket.listening_on();
            (Box::new(socket), config.wait)
        }
        BackendKind::File(file) => (Box::new(file::FileConnector::open(id, file).await?), false),
        BackendKind::Pty(pty) => {
            let pty = pty::PtyBackend::open(id, pty)?;
            pty_path = Some(pty.slave_name().to_string());
            (Box::new(pty), false)
        }
        BackendKind::Stdio(stdio) => (Box::new(stdio::StdioConnector::backend(id, stdio)?), false),
        BackendKind::Null => (Box::new(null::NullConnector::default()), false),
        BackendKind::Vc(config) => {
            let (vc, connector) = vc::Vc::open(id, config)?;
            shown = Some(vc);
            (Box::new(connector), false)
        }
        BackendKind::Asciicast(recording) => {
            let recording = asciicast::AsciicastConnector::open(id, recording).await?;
            console_window = Some(recording.console_window());
            (Box::new(recording), false)
        }
    };
    let logfile = open_logfile(id, config.logfile.as_ref()).await?;
    Ok(OpenedBackend {
        id: id.to_string(),
        connector,
        wait,
        logfile,
        replay: config.replay,
        lag: config.lag,
        vc: shown,
        listening_on,
        pty: pty_path,
        console_window,
    })
}

/// Opens a hub's frontend as far as it can be before the console runs: a
/// socket connects or listens, stdio is taken, a command's program is looked for.
async fn open_frontend(hub: &str, config: &FrontendConfig) -> Result<Frontend, OpenError> {
    let label = frontend_label(hub);
    let logfile = open_logfile(&label, config.logfile.as_ref()).await?;
    let (connector, listening_on): (Box<dyn Connector>, _) = match &config.kind {
        FrontendKind::Command(argv) => {
            pty::check_program(&label, argv)?;
            return Ok(Frontend::Command { argv: argv.clone(), logfile });
        }
        FrontendKind::Socket(socket) => {
            let socket = socket::SocketConnector::open(&label, socket).await?;
            let listening_on = socket.listening_on();
            (Box::new(socket), listening_on)
        }
        FrontendKind::Stdio => (Box::new(stdio::StdioConnector::frontend()), None),
    };
    Ok(Frontend::Ready(OpenedFrontend { connector, logfile, session: None, listening_on }))
}

/// Starts a command frontend under a new PTY whose window follows `window`
/// (a vc's size) when there is one.
pub(super) fn start_command(
    hub: &str,
    argv: &[String],
    logfile: Option<BoxWriter>,
    window: Option<watch::Receiver<WindowSize>>,
) -> Result<OpenedFrontend, OpenError> {
    let (command, session) = pty::CommandFrontend::spawn(&frontend_label(hub), argv, window)?;
    Ok(OpenedFrontend { connector: Box::new(command), logfile, session: Some(session), listening_on: None })
}

async fn open_logfile(id: &str, config: Option<&LogfileConfig>) -> Result<Option<BoxWriter>, OpenError> {
    let Some(config) = config else { return Ok(None) };
    let file = crate::chardev::open_for_writing(&config.path, config.append)
        .await
        .map_err(|e| OpenError::new(id, format!("cannot open logfile {}", config.path.display()), e))?;
    Ok(Some(Box::new(file)))
}
