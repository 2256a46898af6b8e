//! Starting a `-vnc`, in three steps that follow start-up's order: the password
//! files and TLS credentials read ([`prepare`]), the listeners bound
//! ([`bind`]), and once every chardev is open, the RFB server serving its vc
//! ([`BoundVnc::serve`]).

use std::path::Path;
use std::sync::Arc;

use tokio::net::{TcpListener, UnixListener};
use tokio::sync::broadcast;
use tracing::info;

use super::error::LaunchError;
use crate::chardev::vc::Vc;
use crate::config::{VNC_BASE_PORT, VncConfig, VncListen, VncTls};
use crate::control::vnc::{PasswordChange, VncAddress, VncAuth, VncDisplay, VncListener};
use crate::rfb::{self, SharePolicy, ViewerEvent};
use crate::tls;
use crate::unix_socket::{self, RemoveOnDrop};

/// Reads `config`'s password files and TLS credentials into the server's
/// settings and checks them.
pub(super) fn prepare(config: &VncConfig) -> Result<rfb::ServerSettings, LaunchError> {
    let server = rfb::ServerSettings {
        tls: read_tls(config)?,
        password: read_password(config.password_file.as_deref())?,
        view_only_password: read_password(config.viewonly_password_file.as_deref())?,
        view_only: config.view_only,
        // The policy names were checked when the command line was read.
        share: config.share.parse().unwrap_or(SharePolicy::AllowExclusive),
        connections: config.connections,
        frame_rate: config.rate,
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
    /// `reverse=on`: nothing listens; the server dials a viewer there.
    Reverse(rfb::Listening),
}

/// A `-vnc` serving its vc; its unix socket's path goes when this is dropped.
pub(super) struct ServingVnc {
    /// The vc it shows.
    pub vc: String,
    server: rfb::Server,
    auth: VncAuth,
    /// Where it listens, the RFB listener first (none with `reverse=on`).
    listeners: Vec<VncListener>,
    /// With `reverse=on`, the viewer it dials.
    reverse: Option<String>,
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
            reverse: self.reverse.clone(),
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
        VncListen::Tcp { host, port } if config.reverse => {
            Listener::Reverse(rfb::Listening::Tcp { host: host.clone(), port: *port })
        }
        VncListen::Unix(path) if config.reverse => Listener::Reverse(rfb::Listening::Unix(path.clone())),
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
        let wss = self.server.tls.is_some();
        let auth = match (wss, self.server.needs_password()) {
            (false, false) => VncAuth::None,
            (false, true) => VncAuth::Vnc,
            (true, false) => VncAuth::X509None,
            (true, true) => VncAuth::X509Vnc,
        };
        let server = rfb::Server::new(vc, self.server)
            .map_err(|e| LaunchError::Vnc(format!("-vnc for {}: {e}", self.vc)))?;
        // Before any viewer can arrive, so that none goes untold.
        let events = Some(server.subscribe());
        let mut listeners = Vec::with_capacity(2);
        let mut reverse = None;
        let socket = match self.listener {
            Listener::Reverse(target) => {
                info!(
                    "{}: VNC: dialling a viewer listening at {target} (reverse=on), again whenever that fails or ends{}",
                    self.vc,
                    tls_note(auth)
                );
                reverse = Some(target.to_string());
                let server = server.clone();
                tokio::spawn(async move { server.serve_reverse(target).await });
                None
            }
            Listener::Tcp(listener) => {
                if let Ok(local) = listener.local_addr() {
                    info!("{}: VNC viewers welcome on {local}{}", self.vc, tls_note(auth));
                    listeners.push(VncListener { address: VncAddress::Tcp(local), websocket: false });
                }
                let server = server.clone();
                tokio::spawn(async move { server.serve_tcp(listener).await });
                None
            }
            Listener::Unix(listener, path) => {
                info!("{}: VNC viewers welcome on unix:{}{}", self.vc, path.path().display(), tls_note(auth));
                let address = VncAddress::Unix(path.path().to_path_buf());
                listeners.push(VncListener { address, websocket: false });
                let server = server.clone();
                tokio::spawn(async move { server.serve_unix(listener).await });
                Some(path)
            }
        };
        if let Some(listener) = self.websocket {
            if let Ok(local) = listener.local_addr() {
                let (page, scheme) = if wss { ("https", "wss") } else { ("http", "ws") };
                info!(
                    "{}: WebSocket (noVNC) viewers welcome on {local}; in a browser: {page}://{local}/ ({scheme}://)",
                    self.vc
                );
                listeners.push(VncListener { address: VncAddress::Tcp(local), websocket: true });
            }
            let server = server.clone();
            tokio::spawn(async move { server.serve_websocket(listener).await });
        }
        Ok(ServingVnc { vc: self.vc, server, auth, listeners, reverse, events, _socket: socket })
    }
}

/// How viewers must connect, for the log line that says where.
fn tls_note(auth: VncAuth) -> &'static str {
    match auth {
        VncAuth::X509None => " (VeNCrypt X509None: TLS)",
        VncAuth::X509Vnc => " (VeNCrypt X509Vnc: TLS, then the password)",
        VncAuth::None | VncAuth::Vnc => "",
    }
}

/// The TLS credentials `tls-creds=` names: the object's directory read, or a
/// certificate made now whose fingerprint is logged for viewers to check.
fn read_tls(config: &VncConfig) -> Result<Option<rfb::Tls>, LaunchError> {
    let server_config = match &config.tls {
        None => return Ok(None),
        Some(VncTls::Creds(creds)) => tls::creds::load(&creds.dir, creds.verify_peer)
            .map_err(|e| LaunchError::Vnc(format!("-object tls-creds-x509,id={}: {e}", creds.id)))?,
        Some(VncTls::Auto) => {
            let (server_config, identity) = tls::creds::self_signed(certificate_names(&config.listen))
                .map_err(|e| LaunchError::Vnc(format!("-vnc for {}: tls-creds=auto: {e}", config.vc)))?;
            info!(
                "{}: TLS with a self-signed certificate made now, SHA-256 fingerprint {}, pin-sha256 {}",
                config.vc, identity.fingerprint, identity.pin_sha256
            );
            server_config
        }
    };
    Ok(Some(rfb::Tls::new(server_config)))
}

/// The names a self-signed certificate is made for: loopback, this
/// machine's host name, and the host the server listens on.
fn certificate_names(listen: &VncListen) -> Vec<String> {
    let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
    if let Ok(host) = nix::unistd::gethostname()
        && let Some(host) = host.to_str()
    {
        names.push(host.to_string());
    }
    if let VncListen::Tcp { host, .. } = listen
        && host.parse::<std::net::IpAddr>().map_or(true, |ip| !ip.is_unspecified())
    {
        names.push(host.clone());
    }
    names.sort();
    names.dedup();
    names.retain(|n| !n.is_empty());
    names
}

/// The password in a file: its first line.
fn read_password(path: Option<&Path>) -> Result<Option<String>, LaunchError> {
    let Some(path) = path else { return Ok(None) };
    let text = std::fs::read_to_string(path).map_err(|e| {
        LaunchError::Vnc(format!("cannot read the VNC password file {}: {e}", path.display()))
    })?;
    Ok(Some(text.lines().next().unwrap_or_default().to_string()))
}
