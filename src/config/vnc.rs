//! The `-vnc` option, in QEMU's syntax: where a vc is served and to whom.
//!
//! `-vnc HOST:DISPLAY|unix:PATH[,display=VCID][,password-file=F]
//! [,viewonly-password-file=F][,view-only=on][,websocket=PORT][,share=POLICY]
//! [,connections=N][,auth=none]`, TCP port 5900+DISPLAY as in QEMU. Unlike
//! QEMU, an empty HOST means loopback, and a listener anyone else can reach
//! needs a password unless `auth=none` says otherwise.

use std::net::IpAddr;
use std::path::PathBuf;

use super::ConfigError;
use super::opts::Opts;

/// QEMU's VNC base port: display N listens on 5900+N.
pub const VNC_BASE_PORT: u16 = 5900;

/// Where a VNC server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VncListen {
    /// TCP on this host and port.
    Tcp {
        /// Host name or address; loopback when `-vnc :N` leaves it empty.
        host: String,
        /// 5900 + the display number.
        port: u16,
    },
    /// A unix socket.
    Unix(PathBuf),
}

impl std::fmt::Display for VncListen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VncListen::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            VncListen::Tcp { host, port } => write!(f, "{host}:{port}"),
            VncListen::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// One `-vnc`: a VNC server for one vc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VncConfig {
    /// Where viewers connect.
    pub listen: VncListen,
    /// The vc it shows (`display=`); the first vc when not given.
    pub vc: String,
    /// `password-file=`: viewers must know the password in it.
    pub password_file: Option<PathBuf>,
    /// `viewonly-password-file=`: a second password that only lets a viewer watch.
    pub viewonly_password_file: Option<PathBuf>,
    /// `view-only=on`: nobody types.
    pub view_only: bool,
    /// `websocket=PORT` or `websocket=HOST:PORT`: RFB over WebSocket, for noVNC.
    pub websocket: Option<(String, u16)>,
    /// `share=allow-exclusive|force-shared|ignore`, as QEMU.
    pub share: String,
    /// `connections=N`: most viewers at once (QEMU's default 32).
    pub connections: usize,
}

/// Parses one `-vnc`; `first_vc` is the vc it shows when `display=` is not given.
pub(super) fn parse(text: &str, vcs: &[&str]) -> Result<VncConfig, ConfigError> {
    let opts = Opts::parse("-vnc", text, "address")?;
    let address = opts.required("address")?;
    let listen = listen_address(&opts, &address)?;
    let vc = match opts.string("display")? {
        Some(id) if vcs.contains(&id.as_str()) => id,
        Some(id) => return Err(ConfigError::VncNotAVc { vnc: text.to_string(), id }),
        None => match vcs.first() {
            Some(first) => first.to_string(),
            None => return Err(ConfigError::VncWithoutVc(text.to_string())),
        },
    };
    let websocket = match opts.string("websocket")? {
        None => None,
        Some(value) => Some(websocket(&opts, &value, &listen)?),
    };
    let share = opts.string("share")?.unwrap_or_else(|| "allow-exclusive".to_string());
    if !["allow-exclusive", "force-shared", "ignore"].contains(&share.as_str()) {
        return Err(opts.error(format!("'share={share}' is not allow-exclusive, force-shared or ignore")));
    }
    let connections = match opts.number("connections")? {
        None => 32,
        Some(0) => return Err(opts.error("'connections' must be at least 1")),
        Some(n) => usize::try_from(n).map_err(|_| opts.error("'connections' is too large"))?,
    };
    let auth_none = match opts.string("auth")?.as_deref() {
        None => false,
        Some("none") => true,
        Some(other) => return Err(opts.error(format!("'auth={other}': the only value is none"))),
    };
    let config = VncConfig {
        listen,
        vc,
        password_file: opts.path("password-file")?,
        viewonly_password_file: opts.path("viewonly-password-file")?,
        view_only: opts.flag("view-only")?.unwrap_or(false),
        websocket,
        share,
        connections,
    };
    opts.finish(
        "-vnc",
        &[
            "display",
            "password-file",
            "viewonly-password-file",
            "view-only",
            "websocket",
            "share",
            "connections",
            "auth",
        ],
    )?;
    let exposed = match &config.listen {
        VncListen::Tcp { host, .. } => !is_loopback(host),
        VncListen::Unix(_) => false,
    } || config.websocket.as_ref().is_some_and(|(host, _)| !is_loopback(host));
    if exposed && config.password_file.is_none() && !auth_none {
        return Err(ConfigError::VncOpenToAll(text.to_string()));
    }
    Ok(config)
}

/// `HOST:DISPLAY`, `:DISPLAY`, `[IPV6]:DISPLAY` or `unix:PATH`.
fn listen_address(opts: &Opts, address: &str) -> Result<VncListen, ConfigError> {
    if let Some(path) = address.strip_prefix("unix:") {
        return Ok(VncListen::Unix(PathBuf::from(path)));
    }
    let bad = || opts.error(format!("'{address}' is not HOST:DISPLAY or unix:PATH"));
    let (host, display) = address.rsplit_once(':').ok_or_else(bad)?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let display: u16 = display.parse().map_err(|_| bad())?;
    let port = VNC_BASE_PORT
        .checked_add(display)
        .ok_or_else(|| opts.error(format!("display {display} is past the last port")))?;
    let host = if host.is_empty() { "127.0.0.1".to_string() } else { host.to_string() };
    Ok(VncListen::Tcp { host, port })
}

/// `websocket=PORT` (on the VNC host) or `websocket=HOST:PORT`.
fn websocket(opts: &Opts, value: &str, listen: &VncListen) -> Result<(String, u16), ConfigError> {
    let (host, port) = match value.rsplit_once(':') {
        Some((host, port)) => (host.trim_start_matches('[').trim_end_matches(']').to_string(), port),
        None => match listen {
            VncListen::Tcp { host, .. } => (host.clone(), value),
            VncListen::Unix(_) => ("127.0.0.1".to_string(), value),
        },
    };
    let port =
        port.parse().map_err(|_| opts.error(format!("'websocket={value}' is not PORT or HOST:PORT")))?;
    Ok((host, port))
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vnc(text: &str) -> Result<VncConfig, String> {
        parse(text, &["v0", "v1"]).map_err(|e| e.to_string())
    }

    #[test]
    fn displays_are_ports_from_5900_on_loopback_by_default() {
        let c = vnc(":0").unwrap();
        assert_eq!(c.listen, VncListen::Tcp { host: "127.0.0.1".into(), port: 5900 });
        assert_eq!(c.vc, "v0");
        assert_eq!(
            vnc("localhost:3,display=v1").unwrap().listen,
            VncListen::Tcp { host: "localhost".into(), port: 5903 }
        );
        assert_eq!(vnc("[::1]:1").unwrap().listen, VncListen::Tcp { host: "::1".into(), port: 5901 });
        assert_eq!(vnc("unix:/run/vc.sock").unwrap().listen, VncListen::Unix("/run/vc.sock".into()));
        assert_eq!(vnc(":0,websocket=5700").unwrap().websocket, Some(("127.0.0.1".into(), 5700)));
    }

    #[test]
    fn open_listeners_need_a_password_or_auth_none() {
        let e = vnc("0.0.0.0:0").unwrap_err();
        assert!(e.contains("password") && e.contains("auth=none"), "{e}");
        vnc("0.0.0.0:0,auth=none").unwrap();
        vnc("0.0.0.0:0,password-file=/p").unwrap();
        assert!(vnc(":0,websocket=0.0.0.0:5700").is_err());
    }

    #[test]
    fn mistakes_are_named() {
        assert!(vnc(":0,display=v9").unwrap_err().contains("display=v9 names no vc"));
        assert!(vnc(":x").unwrap_err().contains("HOST:DISPLAY"));
        assert!(vnc(":0,share=maybe").unwrap_err().contains("share=maybe"));
        assert!(vnc(":0,colour=blue").unwrap_err().contains("unknown option 'colour'"));
        assert!(vnc(":0,connections=0").unwrap_err().contains("at least 1"));
        assert!(parse(":0", &[]).unwrap_err().to_string().contains("no vc"));
    }
}
