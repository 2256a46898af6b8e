//! The VNC servers as QMP shows them, in QEMU's shapes (`qapi/ui.json`):
//! `query-vnc` (`VncInfo`), `query-vnc-servers` (`VncInfo2`), and the
//! `VNC_CONNECTED`, `VNC_INITIALIZED` and `VNC_DISCONNECTED` events.
//!
//! As QEMU: an address is `host`, `service` (the port, as a string) and
//! `family` (`ipv4`, `ipv6`, `unix`); a unix listener's `host` is "" and its
//! `service` the path, and a unix client's both are "" (its socket has no
//! name). The server in an event is the display's first listener. What QEMU
//! has no field for, a client's being view-only, is `x-vcmux-view-only`, and
//! the share link it came through is `x-vcmux-share`, and a `reverse=on`
//! display's viewer address is `x-vcmux-reverse`; tools made for QEMU
//! ignore fields they do not know. A client that showed a certificate
//! (`verify-peer=on`) has its subject in `x509_dname`, as in QEMU.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::rfb::{Peer, Shares, ViewerEvent, ViewerInfo};

/// Where a VNC server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VncAddress {
    /// A TCP address, as bound (the port a `HOST::0`-style bind got included).
    Tcp(SocketAddr),
    /// A unix socket's path.
    Unix(PathBuf),
}

/// One listener of a VNC server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VncListener {
    /// Where it listens.
    pub address: VncAddress,
    /// Whether it speaks RFB inside WebSocket (noVNC).
    pub websocket: bool,
}

/// How a VNC server's viewers authenticate, QEMU's `VncPrimaryAuth` as far
/// as vcmux goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VncAuth {
    /// Anyone who connects.
    None,
    /// VNC authentication (a password, or a view-only password).
    Vnc,
    /// VeNCrypt's X509None: TLS with the server's certificate, no password.
    X509None,
    /// VeNCrypt's X509Vnc: TLS, then VNC authentication inside it.
    X509Vnc,
}

impl VncAuth {
    /// QEMU's name for it.
    pub fn name(self) -> &'static str {
        match self {
            VncAuth::None => "none",
            VncAuth::Vnc => "vnc",
            VncAuth::X509None | VncAuth::X509Vnc => "vencrypt",
        }
    }

    /// QEMU's `vencrypt` member: the subtype, for VeNCrypt only.
    pub fn vencrypt(self) -> Option<&'static str> {
        match self {
            VncAuth::X509None => Some("x509-none"),
            VncAuth::X509Vnc => Some("x509-vnc"),
            VncAuth::None | VncAuth::Vnc => None,
        }
    }

    /// What a WebSocket listener does: its TLS is the transport's (wss), so
    /// inside it the plain type, as QEMU's `ws_auth`.
    pub fn inside_tls(self) -> VncAuth {
        match self {
            VncAuth::X509None => VncAuth::None,
            VncAuth::X509Vnc => VncAuth::Vnc,
            plain => plain,
        }
    }

    /// Adds `auth` (and `vencrypt`) to a QAPI object.
    fn insert(self, into: &mut Map<String, Value>) {
        into.insert("auth".into(), json!(self.name()));
        if let Some(subtype) = self.vencrypt() {
            into.insert("vencrypt".into(), json!(subtype));
        }
    }
}

/// The connections a server has open now (the RFB server's snapshot).
pub type ViewerList = Arc<dyn Fn() -> Vec<ViewerInfo> + Send + Sync>;

/// A change to a server's password, as QEMU's `set_password` and
/// `expire_password` ask for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordChange {
    /// A new password; `disconnect`: the viewers connected now leave.
    Set {
        /// The password.
        password: String,
        /// Whether viewers connected now are disconnected.
        disconnect: bool,
    },
    /// No password lets anyone in after this long from now; `None`: never.
    Expire(Option<std::time::Duration>),
}

/// Carries a password change to a display's RFB server (launch wires it),
/// or says why it cannot be made.
pub type ChangePassword = Arc<dyn Fn(PasswordChange) -> Result<(), String> + Send + Sync>;

/// One `-vnc`, as the control socket lists it.
pub struct VncDisplay {
    /// QEMU's display id: `default` for the first `-vnc`, then `vnc2`, `vnc3`….
    pub id: String,
    /// The vc it shows.
    pub vc: String,
    /// How viewers authenticate.
    pub auth: VncAuth,
    /// Its listeners, the RFB one first, then the WebSocket one if any
    /// (none with `reverse=on`).
    pub listeners: Vec<VncListener>,
    /// With `reverse=on`, the viewer it dials (`HOST:PORT`, `unix:PATH`):
    /// `x-vcmux-reverse` in `query-vnc` and `query-vnc-servers`.
    pub reverse: Option<String>,
    /// Who is connected now.
    pub viewers: ViewerList,
    /// Its share links (used through its WebSocket listener).
    pub shares: Arc<Shares>,
    /// Changes its password.
    pub change_password: ChangePassword,
}

impl VncDisplay {
    /// QEMU's display id of the `index`th `-vnc` (from 0).
    pub fn qemu_id(index: usize) -> String {
        if index == 0 { "default".to_string() } else { format!("vnc{}", index + 1) }
    }
}

/// `query-vnc`: the first display, or `{"enabled": false}` if there is none.
pub fn query_vnc(displays: &[VncDisplay]) -> Value {
    let Some(display) = displays.first() else { return json!({"enabled": false}) };
    let mut info = Map::new();
    info.insert("enabled".into(), json!(true));
    if let Some(listener) = display.listeners.first() {
        let (host, service, family) = listener_address(&listener.address);
        info.insert("host".into(), json!(host));
        info.insert("service".into(), json!(service));
        info.insert("family".into(), json!(family));
    }
    display.auth.insert(&mut info);
    if let Some(target) = &display.reverse {
        info.insert("x-vcmux-reverse".into(), json!(target));
    }
    info.insert("clients".into(), clients(display));
    Value::Object(info)
}

/// `query-vnc-servers`: every display, each with every listener.
pub fn query_vnc_servers(displays: &[VncDisplay]) -> Value {
    displays
        .iter()
        .map(|display| {
            let servers: Vec<Value> = display
                .listeners
                .iter()
                .map(|listener| {
                    let mut server = listener_info(listener);
                    let auth = if listener.websocket { display.auth.inside_tls() } else { display.auth };
                    auth.insert(&mut server);
                    Value::Object(server)
                })
                .collect();
            let mut info = Map::new();
            info.insert("id".into(), json!(display.id));
            display.auth.insert(&mut info);
            info.insert("server".into(), Value::Array(servers));
            if let Some(target) = &display.reverse {
                info.insert("x-vcmux-reverse".into(), json!(target));
            }
            info.insert("clients".into(), clients(display));
            info.insert("display".into(), json!(display.vc));
            Value::Object(info)
        })
        .collect()
}

/// A viewer event as QEMU's event: its name and data.
pub fn event(display: &VncDisplay, event: &ViewerEvent) -> (&'static str, Value) {
    let server = server_info(display);
    match event {
        ViewerEvent::Connected(viewer) => {
            ("VNC_CONNECTED", json!({"server": server, "client": Value::Object(basic_client(viewer))}))
        }
        ViewerEvent::Initialized(viewer) => {
            ("VNC_INITIALIZED", json!({"server": server, "client": client_info(viewer)}))
        }
        ViewerEvent::Disconnected(viewer) => {
            ("VNC_DISCONNECTED", json!({"server": server, "client": client_info(viewer)}))
        }
    }
}

/// `VncServerInfo`: the display's first listener and its auth.
fn server_info(display: &VncDisplay) -> Value {
    let mut server = display.listeners.first().map(listener_info).unwrap_or_default();
    display.auth.insert(&mut server);
    Value::Object(server)
}

fn clients(display: &VncDisplay) -> Value {
    (display.viewers)().iter().map(client_info).collect()
}

/// `VncClientInfo` (`x509_dname`: the subject of the client certificate
/// it showed, as QEMU's), with `x-vcmux-view-only` and, for a viewer that
/// came through a share link, `x-vcmux-share` (the share's id).
fn client_info(viewer: &ViewerInfo) -> Value {
    let mut client = basic_client(viewer);
    if let Some(subject) = &viewer.x509_dname {
        client.insert("x509_dname".into(), json!(subject));
    }
    client.insert("x-vcmux-view-only".into(), json!(viewer.view_only));
    if let Some(share) = &viewer.share {
        client.insert("x-vcmux-share".into(), json!(share));
    }
    Value::Object(client)
}

/// `VncBasicInfo` of a client.
fn basic_client(viewer: &ViewerInfo) -> Map<String, Value> {
    let (host, service, family) = match &viewer.peer {
        Peer::Tcp(addr) => socket_address(addr),
        Peer::Local(_) => (String::new(), String::new(), "unix"),
    };
    basic(host, service, family, viewer.websocket)
}

/// `VncBasicInfo` of a listener.
fn listener_info(listener: &VncListener) -> Map<String, Value> {
    let (host, service, family) = listener_address(&listener.address);
    basic(host, service, family, listener.websocket)
}

fn listener_address(address: &VncAddress) -> (String, String, &'static str) {
    match address {
        VncAddress::Tcp(addr) => socket_address(addr),
        VncAddress::Unix(path) => (String::new(), path.display().to_string(), "unix"),
    }
}

fn socket_address(addr: &SocketAddr) -> (String, String, &'static str) {
    let family = if addr.is_ipv4() { "ipv4" } else { "ipv6" };
    (addr.ip().to_string(), addr.port().to_string(), family)
}

fn basic(host: String, service: String, family: &str, websocket: bool) -> Map<String, Value> {
    let mut info = Map::new();
    info.insert("host".into(), json!(host));
    info.insert("service".into(), json!(service));
    info.insert("family".into(), json!(family));
    info.insert("websocket".into(), json!(websocket));
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    fn display(viewers: Vec<ViewerInfo>) -> VncDisplay {
        VncDisplay {
            id: VncDisplay::qemu_id(0),
            vc: "v".into(),
            auth: VncAuth::Vnc,
            listeners: vec![
                VncListener { address: VncAddress::Unix("/run/vnc".into()), websocket: false },
                VncListener { address: VncAddress::Tcp("[::1]:5700".parse().unwrap()), websocket: true },
            ],
            reverse: None,
            viewers: Arc::new(move || viewers.clone()),
            shares: Arc::default(),
            change_password: Arc::new(|_| Ok(())),
        }
    }

    fn viewer() -> ViewerInfo {
        ViewerInfo {
            id: 1,
            peer: Peer::Tcp("127.0.0.1:40000".parse().unwrap()),
            websocket: true,
            view_only: true,
            initialized: true,
            share: None,
            x509_dname: None,
        }
    }

    #[test]
    fn the_answers_have_qemus_shapes() {
        let displays = [display(vec![viewer()])];
        let client = json!({"host": "127.0.0.1", "service": "40000", "family": "ipv4", "websocket": true, "x-vcmux-view-only": true});
        assert_eq!(
            query_vnc(&displays),
            json!({"enabled": true, "host": "", "service": "/run/vnc", "family": "unix", "auth": "vnc", "clients": [client]})
        );
        assert_eq!(
            query_vnc_servers(&displays),
            json!([{
                "id": "default",
                "auth": "vnc",
                "server": [
                    {"host": "", "service": "/run/vnc", "family": "unix", "websocket": false, "auth": "vnc"},
                    {"host": "::1", "service": "5700", "family": "ipv6", "websocket": true, "auth": "vnc"},
                ],
                "clients": [client],
                "display": "v",
            }])
        );
        assert_eq!(query_vnc(&[]), json!({"enabled": false}));
        assert_eq!(VncDisplay::qemu_id(1), "vnc2");
    }

    #[test]
    fn events_carry_the_server_and_the_client() {
        let display = display(Vec::new());
        let server =
            json!({"host": "", "service": "/run/vnc", "family": "unix", "websocket": false, "auth": "vnc"});
        let local = ViewerInfo { peer: Peer::Local("unix:/run/vnc".into()), websocket: false, ..viewer() };
        let (name, data) = event(&display, &ViewerEvent::Connected(local.clone()));
        assert_eq!(name, "VNC_CONNECTED");
        assert_eq!(
            data,
            json!({"server": server, "client": {"host": "", "service": "", "family": "unix", "websocket": false}})
        );
        let (name, data) = event(&display, &ViewerEvent::Disconnected(local));
        assert_eq!(name, "VNC_DISCONNECTED");
        assert_eq!(data["client"]["x-vcmux-view-only"], json!(true));
        let certified =
            ViewerInfo { x509_dname: Some("CN=alice".into()), share: Some("share1".into()), ..viewer() };
        let (name, data) = event(&display, &ViewerEvent::Initialized(certified));
        assert_eq!(name, "VNC_INITIALIZED");
        assert_eq!(data["client"]["x509_dname"], json!("CN=alice"));
        assert_eq!(data["client"]["x-vcmux-share"], json!("share1"));
    }
}
