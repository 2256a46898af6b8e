//! Starting a `-vnc`, in three steps that follow start-up's order: the password
//! files read ([`prepare`]), the listeners bound ([`bind`]), and once every
//! chardev is open, the RFB server serving its vc ([`BoundVnc::serve`]).

use std::path::Path;
use std::sync::Arc;

use tokio::net::{TcpListener, UnixListener};
use tokio::sync::broadcast;
use tracing::info;

use super::error::LaunchError;
use crate::chardev::vc::Vc;
use crate::config::{VNC_BASE_PORT, VncConfig, VncListen};
use crate::control::vnc::{PasswordChange, VncAddress, VncAuth, VncDisplay, VncListener};
use crate::rfb::{self, SharePolicy, ViewerEvent};
use crate::unix_socket::{self, RemoveOnDrop};

/// Reads `config`'s password files into the server's settings and checks them.
pub(super) fn prepare(config: &VncConfig) -> Result<rfb::ServerSettings, LaunchError> {
    let server = rfb::ServerSettings {
        password: read_password(config.password_file.as_deref())?,
        view_only_password: read_password(config.viewonly_password_file.as_deref())?,
        view_only: config.view_only,
        // The policy names were checked when the command line was read.
        share: config.share.parse().unwrap_or(SharePolicy::AllowExclusive),
        connections: config.connections,
        ..rfb::ServerSettings::default()
    };
    server.validate().map_err(|e| LaunchError::Vnc(format!("-vnc for {}: {e}", config.vc)))?;
    Ok(server)
}

/// A `-vnc` with its listeners bound, not serving yet.
pub(super) struct BoundVnc {
    /// The vc it shows.
    pub vc: String,
    server: rfb::ServerSettings,
    listener: Listener,
    websocket: Option<TcpListener>,
}

enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener, RemoveOnDrop),
}

/// A `-vnc` serving its vc; its unix socket's path goes when this is dropped.
pub(super) struct ServingVnc {
    /// The vc it shows.
    pub vc: String,
    server: rfb::Server,
    auth: VncAuth,
    /// Where it listens, the RFB listener first.
    listeners: Vec<VncListener>,
    /// Its viewers' comings and goings since before it served anyone, until
    /// someone takes them.
    events: Option<broadcast::Receiver<ViewerEvent>>,
    _socket: Option<RemoveOnDrop>,
}

impl ServingVnc {
    /// Disconnects every viewer and stops listening.
    pub fn shutdown(&self) {
        self.server.shutdown();
    }

    /// The server as the control socket lists it (`id` is QEMU's display id).
    pub fn display(&self, id: String) -> VncDisplay {
        let server = self.server.clone();
        VncDisplay {
            id,
            vc: self.vc.clone(),
            auth: self.auth,
            listeners: self.listeners.clone(),
            viewers: std::sync::Arc::new(move || server.connected()),
            shares: self.server.shares(),
            change_password: {
                let server = self.server.clone();
                Arc::new(move |change| {
                    match change {
                        PasswordChange::Set { password, disconnect } => {
                            server.set_password(password, disconnect).map_err(|e| e.to_string())?;
                        }
                        PasswordChange::Expire(after) => server.expire_password(after),
                    }
                    Ok(())
                })
            },
        }
    }

    /// Every viewer event since the server started, once: whoever takes
    /// them tells of them.
    pub fn take_events(&mut self) -> Option<broadcast::Receiver<ViewerEvent>> {
        self.events.take()
    }
}

/// Binds every listener of `config`; a port already taken is one line naming
/// it (and the display).
pub(super) async fn bind(config: &VncConfig, server: rfb::ServerSettings) -> Result<BoundVnc, LaunchError> {
    let fail = |what: String, e: std::io::Error| LaunchError::Vnc(format!("{}: {what}: {e}", config.vc));
    let listener = match &config.listen {
        VncListen::Tcp { host, port } => {
            let display =
                port.checked_sub(VNC_BASE_PORT).map(|d| format!(" (display :{d})")).unwrap_or_default();
            let listener = TcpListener::bind((host.as_str(), *port)).await.map_err(|e| {
                fail(format!("cannot listen for VNC viewers on {}{display}", config.listen), e)
            })?;
            Listener::Tcp(listener)
        }
        VncListen::Unix(path) => {
            let (listener, path) = unix_socket::bind(path)
                .map_err(|e| fail(format!("cannot listen for VNC viewers on {}", config.listen), e))?;
            Listener::Unix(listener, path)
        }
    };
    let websocket = match &config.websocket {
        None => None,
        Some((host, port)) => Some(
            TcpListener::bind((host.as_str(), *port))
                .await
                .map_err(|e| fail(format!("cannot listen for WebSocket viewers on {host}:{port}"), e))?,
        ),
    };
    Ok(BoundVnc { vc: config.vc.clone(), server, listener, websocket })
}

impl BoundVnc {
    /// Serves `vc` on the bound listeners until [`ServingVnc::shutdown`], and
    /// logs where.
    pub fn serve(self, vc: Arc<Vc>) -> Result<ServingVnc, LaunchError> {
        let auth = if self.server.needs_password() { VncAuth::Vnc } else { VncAuth::None };
        let server = rfb::Server::new(vc, self.server)
            .map_err(|e| LaunchError::Vnc(format!("-vnc for {}: {e}", self.vc)))?;
        // Before any viewer can arrive, so that none goes untold.
        let events = Some(server.subscribe());
        let mut listeners = Vec::with_capacity(2);
        let socket = match self.listener {
            Listener::Tcp(listener) => {
                if let Ok(local) = listener.local_addr() {
                    info!("{}: VNC viewers welcome on {local}", self.vc);
                    listeners.push(VncListener { address: VncAddress::Tcp(local), websocket: false });
                }
                let server = server.clone();
                tokio::spawn(async move { server.serve_tcp(listener).await });
                None
            }
            Listener::Unix(listener, path) => {
                info!("{}: VNC viewers welcome on unix:{}", self.vc, path.path().display());
                let address = VncAddress::Unix(path.path().to_path_buf());
                listeners.push(VncListener { address, websocket: false });
                let server = server.clone();
                tokio::spawn(async move { server.serve_unix(listener).await });
                Some(path)
            }
        };
        if let Some(listener) = self.websocket {
            if let Ok(local) = listener.local_addr() {
                info!(
                    "{}: WebSocket (noVNC) viewers welcome on {local}; in a browser: http://{local}/",
                    self.vc
                );
                listeners.push(VncListener { address: VncAddress::Tcp(local), websocket: true });
            }
            let server = server.clone();
            tokio::spawn(async move { server.serve_websocket(listener).await });
        }
        Ok(ServingVnc { vc: self.vc, server, auth, listeners, events, _socket: socket })
    }
}

/// The password in a file: its first line.
fn read_password(path: Option<&Path>) -> Result<Option<String>, LaunchError> {
    let Some(path) = path else { return Ok(None) };
    let text = std::fs::read_to_string(path).map_err(|e| {
        LaunchError::Vnc(format!("cannot read the VNC password file {}: {e}", path.display()))
    })?;
    Ok(Some(text.lines().next().unwrap_or_default().to_string()))
}
