//! The `-vnc` option, in QEMU's syntax: where a vc is served and to whom.
//!
//! `-vnc [HOST]:DISPLAY|HOST::PORT|unix:PATH[,display=VCID][,password-file=F]
//! [,viewonly-password-file=F][,view-only=on][,websocket=PORT][,share=POLICY]
//! [,connections=N][,rate=N][,auth=none][,tls-creds=ID|auto][,reverse=on]`, TCP port
//! 5900+DISPLAY as in QEMU. With `reverse=on` (QEMU's), vcmux listens for no
//! one and connects out to a viewer listening (`vncviewer -listen`) at
//! `HOST:PORT`, where the number is a TCP port, as QEMU reads it then. Unlike
//! QEMU, an empty HOST means loopback, `HOST::PORT` names a port (as
//! vncviewer does), and a listener anyone else can reach needs a password
//! unless `auth=none` says otherwise. `vcmux screenshot` reads its server
//! with the same [`parse_address`].

use std::net::IpAddr;
use std::path::PathBuf;

use super::error::ConfigError;
use super::object::TlsCredsConfig;
use super::opts::Opts;

/// QEMU's VNC base port: display N listens on 5900+N.
pub const VNC_BASE_PORT: u16 = 5900;

/// Where a VNC server listens, or where a viewer connects.
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
    /// `rate=N`: most updates a second a viewer is sent (60).
    pub rate: u32,
    /// `tls-creds=`: TLS on every listener (VeNCrypt, wss).
    pub tls: Option<VncTls>,
    /// `reverse=on`: `listen` is a viewer listening, which vcmux connects
    /// to (and again whenever that connection fails or ends) instead of
    /// listening itself.
    pub reverse: bool,
}

/// Where a VNC server's TLS credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VncTls {
    /// `tls-creds=ID`: an `-object tls-creds-x509`'s directory.
    Creds(TlsCredsConfig),
    /// `tls-creds=auto`: a self-signed certificate made at start-up.
    Auto,
}

/// Parses one `-vnc`; the first of `vcs` is the vc it shows when `display=`
/// is not given, and `tls-creds=ID` names one of `objects`.
pub(super) fn parse(text: &str, vcs: &[&str], objects: &[TlsCredsConfig]) -> Result<VncConfig, ConfigError> {
    let opts = Opts::parse("-vnc", text, "address")?;
    let address = opts.required("address")?;
    let reverse = opts.flag("reverse")?.unwrap_or(false);
    let rule = if reverse { PortRule::Port } else { PortRule::Display };
    let listen = parse_address(&address, rule).map_err(|e| opts.error(e.to_string()))?;
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
        Some(_) if reverse => {
            return Err(opts.error(
                "'websocket=' cannot be used with reverse=on (as in QEMU): a reverse -vnc listens for \
                 no one; give a second -vnc with the same display= to listen as well",
            ));
        }
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
    let rate = match opts.number("rate")? {
        None => 60,
        Some(n) if (1..=1000).contains(&n) => n as u32,
        Some(_) => return Err(opts.error("'rate' must be from 1 to 1000 updates a second")),
    };
    let auth_none = match opts.string("auth")?.as_deref() {
        None => false,
        Some("none") => true,
        Some(other) => return Err(opts.error(format!("'auth={other}': the only value is none"))),
    };
    let tls = match opts.string("tls-creds")? {
        None => None,
        Some(id) => match objects.iter().find(|o| o.id == id) {
            Some(object) => Some(VncTls::Creds(object.clone())),
            None if id == "auto" => Some(VncTls::Auto),
            None => {
                return Err(opts.error(format!(
                    "'tls-creds={id}' names no -object tls-creds-x509,id={id},… (or use tls-creds=auto)"
                )));
            }
        },
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
        rate,
        tls,
        reverse,
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
            "rate",
            "auth",
            "tls-creds",
            "reverse",
        ],
    )?;
    // A reverse connection goes only where the command line says: nobody
    // else can come in, so it needs no password.
    let exposed = !config.reverse
        && match &config.listen {
            VncListen::Tcp { host, .. } => !is_loopback(host),
            VncListen::Unix(_) => false,
        }
        || config.websocket.as_ref().is_some_and(|(host, _)| !is_loopback(host));
    // Client certificates (verify-peer=on) keep strangers out as a password does.
    let certified = matches!(&config.tls, Some(VncTls::Creds(c)) if c.verify_peer);
    if exposed && config.password_file.is_none() && !auth_none && !certified {
        return Err(ConfigError::VncOpenToAll(text.to_string()));
    }
    Ok(config)
}

/// What `HOST:N` means in [`parse_address`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortRule {
    /// `-vnc`, as QEMU: N is display N, port 5900+N.
    Display,
    /// A viewer (`vcmux screenshot`), as TigerVNC's and QEMU's vncviewer: N
    /// under 100 is a display, anything else a port (`host:5901`).
    Viewer,
    /// `-vnc …,reverse=on`, as QEMU: N is a TCP port (where `vncviewer
    /// -listen N` waits), whatever its number.
    Port,
}

/// Why an address is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Not one of the forms.
    #[error("'{0}' is not HOST:DISPLAY, :DISPLAY, HOST::PORT or unix:PATH")]
    Malformed(String),
    /// 5900+N does not fit a port.
    #[error("display {0} is past the last port")]
    PastLastPort(u16),
}

/// Reads a VNC address, for `-vnc` and for `vcmux screenshot` alike:
/// `unix:PATH`, or `HOST:N` (`:N` on loopback, `[IPV6]:N`) whose N is read
/// by `rule`, or `HOST::PORT`, a TCP port whatever its number.
pub fn parse_address(address: &str, rule: PortRule) -> Result<VncListen, AddressError> {
    let malformed = || AddressError::Malformed(address.to_string());
    if let Some(path) = address.strip_prefix("unix:") {
        return if path.is_empty() { Err(malformed()) } else { Ok(VncListen::Unix(PathBuf::from(path))) };
    }
    let (host, number) = address.rsplit_once(':').ok_or_else(malformed)?;
    let number: u16 = number.parse().map_err(|_| malformed())?;
    let (host, port) = match host.strip_suffix(':') {
        Some(_) if number == 0 => return Err(malformed()),
        Some(host) => (host, number),
        None if rule == PortRule::Port && number == 0 => return Err(malformed()),
        None if rule == PortRule::Port => (host, number),
        None if rule == PortRule::Viewer && number >= 100 => (host, number),
        None => (host, VNC_BASE_PORT.checked_add(number).ok_or(AddressError::PastLastPort(number))?),
    };
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
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
        let objects = [
            TlsCredsConfig { id: "tls0".into(), dir: "/pki".into(), verify_peer: true },
            TlsCredsConfig { id: "open".into(), dir: "/pki".into(), verify_peer: false },
        ];
        parse(text, &["v0", "v1"], &objects).map_err(|e| e.to_string())
    }

    #[test]
    fn tls_creds_name_an_object_or_auto() {
        assert_eq!(vnc(":0").unwrap().tls, None);
        assert_eq!(vnc(":0,tls-creds=auto").unwrap().tls, Some(VncTls::Auto));
        let Some(VncTls::Creds(c)) = vnc(":0,tls-creds=tls0").unwrap().tls else { panic!("creds") };
        assert_eq!(c.dir, PathBuf::from("/pki"));
        assert!(vnc(":0,tls-creds=tls9").unwrap_err().contains("names no -object tls-creds-x509,id=tls9"));
        // Client certificates are a way in that needs no password; TLS alone is not.
        vnc("0.0.0.0:0,tls-creds=tls0").unwrap();
        assert!(vnc("0.0.0.0:0,tls-creds=open").is_err());
        assert!(vnc("0.0.0.0:0,tls-creds=auto").is_err());
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
        assert_eq!(vnc(":5901").unwrap().listen, VncListen::Tcp { host: "127.0.0.1".into(), port: 11801 });
        assert_eq!(vnc("[::1]::5999").unwrap().listen, VncListen::Tcp { host: "::1".into(), port: 5999 });
    }

    #[test]
    fn a_viewer_reads_small_numbers_as_displays_and_large_ones_as_ports() {
        let tcp = |host: &str, port| Ok(VncListen::Tcp { host: host.into(), port });
        let viewer = |text| parse_address(text, PortRule::Viewer);
        assert_eq!(viewer(":0"), tcp("127.0.0.1", 5900));
        assert_eq!(viewer("example.org:99"), tcp("example.org", 5999));
        assert_eq!(viewer("example.org:100"), tcp("example.org", 100));
        assert_eq!(viewer("localhost:5901"), tcp("localhost", 5901));
        assert_eq!(viewer("localhost::22"), tcp("localhost", 22));
        assert_eq!(viewer("::5901"), tcp("127.0.0.1", 5901));
        assert_eq!(viewer("[::1]:1"), tcp("::1", 5901));
        assert_eq!(viewer("unix:/run/vc.sock"), Ok(VncListen::Unix("/run/vc.sock".into())));
        for bad in ["", "localhost", "unix:", "host:x", "host:-1", "host::0", "host:65536", "host:::"] {
            assert_eq!(viewer(bad), Err(AddressError::Malformed(bad.into())), "{bad}");
        }
        assert_eq!(parse_address(":65000", PortRule::Display), Err(AddressError::PastLastPort(65000)));
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
    fn reverse_connections_name_a_port_and_need_no_password() {
        let c = vnc("example.org:5500,reverse=on").unwrap();
        assert!(c.reverse);
        assert_eq!(c.listen, VncListen::Tcp { host: "example.org".into(), port: 5500 });
        assert_eq!(
            vnc(":1,reverse=on").unwrap().listen,
            VncListen::Tcp { host: "127.0.0.1".into(), port: 1 }
        );
        assert_eq!(
            vnc("h::5500,reverse=on").unwrap().listen,
            VncListen::Tcp { host: "h".into(), port: 5500 }
        );
        assert_eq!(vnc("unix:/run/v,reverse=on").unwrap().listen, VncListen::Unix("/run/v".into()));
        assert!(!vnc(":1").unwrap().reverse);
        assert!(vnc("h:0,reverse=on").unwrap_err().contains("'h:0'"));
        assert!(vnc("h:5500,reverse=maybe").unwrap_err().contains("reverse"));
        let e = vnc("h:5500,reverse=on,websocket=5700").unwrap_err();
        assert!(e.contains("websocket=") && e.contains("reverse=on"), "{e}");
    }

    #[test]
    fn mistakes_are_named() {
        assert!(vnc(":0,display=v9").unwrap_err().contains("display=v9 names no vc"));
        assert!(vnc(":x").unwrap_err().contains("HOST:DISPLAY"));
        assert!(vnc(":0,share=maybe").unwrap_err().contains("share=maybe"));
        assert!(vnc(":0,colour=blue").unwrap_err().contains("unknown option 'colour'"));
        assert!(vnc(":0,connections=0").unwrap_err().contains("at least 1"));
        assert!(parse(":0", &[], &[]).unwrap_err().to_string().contains("no vc"));
    }
}
