//! The command line's `-chardev` and `-frontend` options, parsed and validated into
//! a graph of hubs, each with one frontend and 1 to 4 backends.
//!
//! Both of QEMU's ways of building a hub are accepted and give the same graph:
//! the mux-be patch's (`-chardev mux-be,id=HUB` plus `mux-be-id=HUB` on each
//! backend) and QEMU 10's (`-chardev hub,id=HUB,chardevs.0=ID,…`). Every error is
//! found here, before anything is opened or started, and reads as one line that
//! names the ids involved.

mod error;
mod opts;
mod vnc;

use std::path::PathBuf;
use std::time::Duration;

use crate::frame;
use crate::term::Theme;

pub use error::ConfigError;
use opts::Opts;
pub use vnc::{AddressError, PortRule, VNC_BASE_PORT, VncConfig, VncListen, parse_address};

/// QEMU's MAX_MUX: a hub has at most this many backends.
pub const MAX_BACKENDS: usize = 4;

/// The id of the vc vcmux adds when no `-chardev` is given.
pub const DEFAULT_BACKEND: &str = "vc0";

/// The id of the hub vcmux makes when chardevs are given but no hub is.
pub const IMPLICIT_HUB: &str = "hub0";

/// A validated configuration: every hub with its frontend and backends.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The hubs, in the order they were defined.
    pub hubs: Vec<HubConfig>,
    /// The VNC servers, each showing one vc.
    pub vnc: Vec<VncConfig>,
}

/// One hub: a console stream (the frontend) and the backends it fans out to.
#[derive(Debug, Clone, PartialEq)]
pub struct HubConfig {
    /// The hub's id (`mux-be,id=…` or `hub,id=…`).
    pub id: String,
    /// Where the console stream comes from.
    pub frontend: FrontendConfig,
    /// The backends, in the hub's order: command-line order for `mux-be-id`, index
    /// order for `chardevs.N`.
    pub backends: Vec<BackendConfig>,
}

/// The source of a hub's console stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontendConfig {
    /// What kind of source it is.
    pub kind: FrontendKind,
    /// QEMU's `logfile=`: a copy of the console output that passes through.
    pub logfile: Option<LogfileConfig>,
}

/// The kinds of console source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrontendKind {
    /// A command run under a new PTY (`-- COMMAND …`, default `$SHELL`).
    Command(Vec<String>),
    /// A unix or TCP socket: QEMU's `-serial unix:P,server=on` on the other side.
    Socket(SocketConfig),
    /// vcmux's own stdin and stdout.
    Stdio,
}

/// One backend of a hub.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendConfig {
    /// The chardev id.
    pub id: String,
    /// What kind of backend.
    pub kind: BackendKind,
    /// QEMU's `logfile=`: a copy of every byte the hub sends this backend,
    /// written whether or not the backend is connected.
    pub logfile: Option<LogfileConfig>,
}

/// The kinds of backend.
#[derive(Debug, Clone, PartialEq)]
pub enum BackendKind {
    /// A unix or TCP socket, listening or connecting.
    Socket(SocketConfig),
    /// A console log file.
    File(FileConfig),
    /// A new PTY pair for screen or minicom.
    Pty(PtyConfig),
    /// vcmux's own stdin and stdout.
    Stdio(StdioConfig),
    /// Discards output, never types.
    Null,
    /// A terminal emulator whose screen the VNC server shows.
    Vc(VcConfig),
}

/// Where a socket lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketAddress {
    /// A unix socket path.
    Unix(PathBuf),
    /// A TCP host and port.
    Tcp {
        /// Host name or address.
        host: String,
        /// Port; 0 lets the system pick one when listening (the log tells which).
        port: u16,
    },
}

impl std::fmt::Display for SocketAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SocketAddress::Unix(path) => write!(f, "unix:{}", path.display()),
            SocketAddress::Tcp { host, port } => write!(f, "tcp:{host}:{port}"),
        }
    }
}

/// A socket chardev (QEMU's `socket` backend).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketConfig {
    /// Where.
    pub address: SocketAddress,
    /// Listen (`server=on`) or connect (`server=off`, the default).
    pub server: bool,
    /// For a listening backend: start-up waits for the first client (QEMU's default).
    pub wait: bool,
    /// For a connecting socket: retry this long after a failure or a hang-up.
    pub reconnect: Option<Duration>,
}

/// A file chardev.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileConfig {
    /// The log's path.
    pub path: PathBuf,
    /// Append instead of truncating.
    pub append: bool,
    /// Prefix each line with an RFC 3339 UTC time with milliseconds.
    pub timestamps: bool,
}

/// A pty chardev.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtyConfig {
    /// A symlink to make to the new `/dev/pts/N`.
    pub link: Option<PathBuf>,
}

/// A stdio chardev.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StdioConfig {
    /// Keep Ctrl-C and friends as signals to vcmux (QEMU's `signal=on`, the default)
    /// when stdin is a terminal; off passes them to the console.
    pub signal: bool,
}

/// A vc chardev: the terminal's geometry and memory, and how it is drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct VcConfig {
    /// Width in cells (QEMU's `cols=`, default 80).
    pub cols: u16,
    /// Height in cells (QEMU's `rows=`, default 24).
    pub rows: u16,
    /// Lines of history kept above the screen (default 10000).
    pub scrollback: usize,
    /// `font=`: a font file instead of the shipped ones.
    pub font: Option<PathBuf>,
    /// `font-size=`: pixels per em.
    pub font_size: f32,
    /// `theme=dark|xterm`: the default colours.
    pub theme: Theme,
}

impl Default for VcConfig {
    fn default() -> VcConfig {
        VcConfig {
            cols: 80,
            rows: 24,
            scrollback: 10_000,
            font: None,
            font_size: crate::render::DEFAULT_SIZE,
            theme: Theme::default(),
        }
    }
}

/// The largest terminal a vc may have, in cells each way.
pub const MAX_VC_CELLS: u16 = 1000;

/// QEMU's common `logfile=PATH[,logappend=on]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogfileConfig {
    /// The log's path.
    pub path: PathBuf,
    /// Append instead of truncating.
    pub append: bool,
}

/// The command line's parts that make the graph, as given.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Each `-chardev` value.
    pub chardevs: Vec<String>,
    /// Each `-frontend` value.
    pub frontends: Vec<String>,
    /// Each `-vnc` value.
    pub vnc: Vec<String>,
    /// The words after `--`, if any.
    pub command: Vec<String>,
}

/// What one `-chardev` defines before the graph is known.
#[derive(Debug)]
struct Chardev {
    id: String,
    kind: ChardevKind,
    /// `mux-be-id=`: the hub this chardev joins.
    mux_be_id: Option<String>,
    logfile: Option<LogfileConfig>,
}

#[derive(Debug)]
enum ChardevKind {
    /// The patch's `mux-be`: backends name it.
    MuxBe,
    /// QEMU 10's `hub`: it names its backends.
    Hub(Vec<String>),
    Backend(BackendKind),
}

impl Chardev {
    fn is_hub(&self) -> bool {
        matches!(self.kind, ChardevKind::MuxBe | ChardevKind::Hub(_))
    }

    fn kind_name(&self) -> &'static str {
        match &self.kind {
            ChardevKind::MuxBe => "mux-be",
            ChardevKind::Hub(_) => "hub",
            ChardevKind::Backend(b) => backend_kind_name(b),
        }
    }
}

fn backend_kind_name(kind: &BackendKind) -> &'static str {
    match kind {
        BackendKind::Socket(_) => "socket",
        BackendKind::File(_) => "file",
        BackendKind::Pty(_) => "pty",
        BackendKind::Stdio(_) => "stdio",
        BackendKind::Null => "null",
        BackendKind::Vc(_) => "vc",
    }
}

/// Keys every chardev takes (QEMU's ChardevCommon plus the hub link).
const COMMON_KEYS: &[&str] = &["id", "mux-be-id", "mux", "logfile", "logappend"];

/// The chardev kinds vcmux knows, for messages.
const CHARDEV_KINDS: &str = "mux-be, hub, socket, file, pty, stdio, null, vc";

impl Config {
    /// Builds and validates the graph. `default_command` is the frontend for a hub
    /// that has no `-frontend` when no command was given (the user's shell).
    pub fn from_options(options: &Options, default_command: Vec<String>) -> Result<Config, ConfigError> {
        let mut chardevs = Vec::with_capacity(options.chardevs.len());
        for text in &options.chardevs {
            let chardev = parse_chardev(text)?;
            if chardevs.iter().any(|c: &Chardev| c.id == chardev.id) {
                return Err(ConfigError::DuplicateId(chardev.id));
            }
            chardevs.push(chardev);
        }
        let default_graph = chardevs.is_empty();
        if default_graph {
            // The default graph: one vc, served over VNC.
            chardevs.push(Chardev {
                id: DEFAULT_BACKEND.to_string(),
                kind: ChardevKind::Backend(BackendKind::Vc(VcConfig::default())),
                mux_be_id: None,
                logfile: None,
            });
        }

        let mut hubs = assign_backends(&chardevs)?;
        let frontends =
            options.frontends.iter().map(|text| parse_frontend(text)).collect::<Result<Vec<_>, _>>()?;
        let mut slots: Vec<Option<FrontendConfig>> = vec![None; hubs.len()];
        for (text, hub_id, frontend) in frontends {
            let index = match hub_id {
                Some(id) => match hubs.iter().position(|h| h.id == id) {
                    Some(i) => i,
                    None if chardevs.iter().any(|c| c.id == id) => {
                        return Err(ConfigError::FrontendNotOnHub { frontend: text, id });
                    }
                    None => return Err(ConfigError::FrontendUnknownHub { frontend: text, id }),
                },
                None if hubs.len() == 1 => 0,
                None => {
                    return Err(ConfigError::FrontendNeedsHub {
                        frontend: text,
                        hubs: hubs.iter().map(|h| h.id.clone()).collect(),
                    });
                }
            };
            if let Some(first) = &slots[index] {
                return Err(ConfigError::TwoFrontends {
                    hub: hubs[index].id.clone(),
                    first: frontend_name(first),
                    second: format!("-frontend {text}"),
                });
            }
            slots[index] = Some(frontend);
        }

        let without: Vec<usize> = (0..hubs.len()).filter(|i| slots[*i].is_none()).collect();
        let explicit = !options.command.is_empty();
        match (without.as_slice(), explicit) {
            ([], false) => {}
            ([], true) if hubs.len() == 1 => {
                return Err(ConfigError::TwoFrontends {
                    hub: hubs[0].id.clone(),
                    first: slots[0].as_ref().map(frontend_name).unwrap_or_default(),
                    second: "the command after --".to_string(),
                });
            }
            ([], true) => return Err(ConfigError::CommandWithoutHub),
            ([one], _) => {
                let argv = if explicit { options.command.clone() } else { default_command };
                slots[*one] = Some(FrontendConfig { kind: FrontendKind::Command(argv), logfile: None });
            }
            (many, _) => {
                return Err(ConfigError::HubsWithoutFrontend(
                    many.iter().map(|i| hubs[*i].id.clone()).collect(),
                ));
            }
        }

        for (hub, slot) in hubs.iter_mut().zip(slots) {
            // Every slot is filled above: a hub without a frontend is an error there.
            if let Some(frontend) = slot {
                hub.frontend = frontend;
            }
        }
        check_stdio(&hubs)?;
        check_listeners(&hubs)?;

        let vcs: Vec<&str> = hubs
            .iter()
            .flat_map(|h| &h.backends)
            .filter(|b| matches!(b.kind, BackendKind::Vc(_)))
            .map(|b| b.id.as_str())
            .collect();
        // A vc nobody serves would be a terminal nobody sees: without -vnc, each
        // vc is served on a display of its own, the first on :0.
        let default_vnc: Vec<String> =
            vcs.iter().enumerate().map(|(n, id)| format!(":{n},display={id}")).collect();
        let vnc_options = if options.vnc.is_empty() { &default_vnc[..] } else { &options.vnc[..] };
        let vnc = vnc_options.iter().map(|text| vnc::parse(text, &vcs)).collect::<Result<Vec<_>, _>>()?;
        Ok(Config { hubs, vnc })
    }
}

/// Builds the hubs with their backends from the chardevs, checking membership.
fn assign_backends(chardevs: &[Chardev]) -> Result<Vec<HubConfig>, ConfigError> {
    // The hub each chardev belongs to, and how it was named there.
    let mut owner: Vec<Option<&str>> = vec![None; chardevs.len()];
    let find = |id: &str| chardevs.iter().position(|c| c.id == id);
    // First each chardev's mux-be-id, then each hub's chardevs.N list.
    let mut members: Vec<(usize, Vec<usize>)> = Vec::new();
    for (i, chardev) in chardevs.iter().enumerate() {
        if chardev.is_hub() {
            members.push((i, Vec::new()));
        }
    }
    for (i, chardev) in chardevs.iter().enumerate() {
        let Some(hub_id) = chardev.mux_be_id.as_deref() else { continue };
        let Some(h) = find(hub_id) else {
            return Err(ConfigError::UnknownMuxBe { id: chardev.id.clone(), hub: hub_id.to_string() });
        };
        if !chardevs[h].is_hub() {
            return Err(ConfigError::NotAMuxBe {
                id: chardev.id.clone(),
                target: hub_id.to_string(),
                kind: chardevs[h].kind_name(),
            });
        }
        claim(chardevs, &mut owner, i, hub_id)?;
        if let Some((_, list)) = members.iter_mut().find(|(hub, _)| *hub == h) {
            list.push(i);
        }
    }
    for (h, list) in members.iter_mut() {
        let ChardevKind::Hub(names) = &chardevs[*h].kind else { continue };
        let hub_id = chardevs[*h].id.as_str();
        for (n, name) in names.iter().enumerate() {
            let Some(member) = find(name) else {
                return Err(ConfigError::UnknownInList {
                    hub: hub_id.to_string(),
                    index: n,
                    id: name.clone(),
                });
            };
            claim(chardevs, &mut owner, member, hub_id)?;
            list.push(member);
        }
    }

    // Chardevs in no hub: with no hub defined at all they form one implicit hub.
    let orphans: Vec<usize> =
        (0..chardevs.len()).filter(|i| owner[*i].is_none() && !chardevs[*i].is_hub()).collect();
    if members.is_empty() {
        members.push((usize::MAX, orphans));
    } else if let Some(orphan) = orphans.first() {
        return Err(ConfigError::Orphan(chardevs[*orphan].id.clone()));
    }

    let mut hubs = Vec::with_capacity(members.len());
    for (h, list) in members {
        let id = if h == usize::MAX { IMPLICIT_HUB.to_string() } else { chardevs[h].id.clone() };
        if list.is_empty() {
            return Err(ConfigError::EmptyHub(id));
        }
        if list.len() > MAX_BACKENDS {
            return Err(ConfigError::TooManyBackends {
                hub: id,
                ids: list.iter().map(|i| chardevs[*i].id.clone()).collect(),
            });
        }
        let backends = list
            .iter()
            .map(|i| {
                let chardev = &chardevs[*i];
                match &chardev.kind {
                    ChardevKind::Backend(kind) => Ok(BackendConfig {
                        id: chardev.id.clone(),
                        kind: kind.clone(),
                        logfile: chardev.logfile.clone(),
                    }),
                    // Hubs were refused as members above.
                    _ => Err(ConfigError::StackedHub { inner: chardev.id.clone(), outer: id.clone() }),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        hubs.push(HubConfig {
            id,
            frontend: FrontendConfig { kind: FrontendKind::Stdio, logfile: None },
            backends,
        });
    }
    Ok(hubs)
}

/// Records that `hub` has `member` as a backend, refusing hubs as members and
/// chardevs claimed twice.
fn claim<'a>(
    chardevs: &'a [Chardev],
    owner: &mut [Option<&'a str>],
    member: usize,
    hub: &'a str,
) -> Result<(), ConfigError> {
    let member_id = chardevs[member].id.clone();
    if chardevs[member].is_hub() {
        return Err(if member_id == hub {
            ConfigError::HubInItself(member_id)
        } else {
            ConfigError::StackedHub { inner: member_id, outer: hub.to_string() }
        });
    }
    match owner[member] {
        Some(first) if first == hub => Err(ConfigError::ListedTwice { id: member_id, hub: hub.to_string() }),
        Some(first) => {
            Err(ConfigError::InTwoHubs { id: member_id, first: first.to_string(), second: hub.to_string() })
        }
        None => {
            owner[member] = Some(hub);
            Ok(())
        }
    }
}

/// stdin and stdout can serve one chardev only.
fn check_stdio(hubs: &[HubConfig]) -> Result<(), ConfigError> {
    let mut users: Vec<String> = Vec::new();
    for hub in hubs {
        if hub.frontend.kind == FrontendKind::Stdio {
            users.push(format!("the frontend of hub '{}'", hub.id));
        }
        for backend in &hub.backends {
            if matches!(backend.kind, BackendKind::Stdio(_)) {
                users.push(format!("chardev '{}'", backend.id));
            }
        }
    }
    match users.as_slice() {
        [first, second, ..] => Err(ConfigError::StdioTwice { first: first.clone(), second: second.clone() }),
        _ => Ok(()),
    }
}

/// Two chardevs cannot listen on one address (a fixed TCP port or a unix path).
fn check_listeners(hubs: &[HubConfig]) -> Result<(), ConfigError> {
    let mut seen: Vec<(&SocketAddress, String)> = Vec::new();
    for hub in hubs {
        let frontend = match &hub.frontend.kind {
            FrontendKind::Socket(s) if s.server => Some((s, format!("the frontend of hub '{}'", hub.id))),
            _ => None,
        };
        let backends = hub.backends.iter().filter_map(|b| match &b.kind {
            BackendKind::Socket(s) if s.server => Some((s, format!("chardev '{}'", b.id))),
            _ => None,
        });
        for (socket, user) in frontend.into_iter().chain(backends) {
            let ephemeral = matches!(socket.address, SocketAddress::Tcp { port: 0, .. });
            if let Some((_, first)) = seen.iter().find(|(a, _)| **a == socket.address && !ephemeral) {
                return Err(ConfigError::SameAddress {
                    first: first.clone(),
                    second: user,
                    address: socket.address.to_string(),
                });
            }
            seen.push((&socket.address, user));
        }
    }
    Ok(())
}

fn frontend_name(frontend: &FrontendConfig) -> String {
    match &frontend.kind {
        FrontendKind::Command(argv) => format!("the command '{}'", argv.join(" ")),
        FrontendKind::Socket(s) => format!("-frontend socket ({})", s.address),
        FrontendKind::Stdio => "-frontend stdio".to_string(),
    }
}

fn parse_chardev(text: &str) -> Result<Chardev, ConfigError> {
    let opts = Opts::parse("-chardev", text, "backend")?;
    let kind_name = opts.required("backend")?;
    let id = opts.string("id")?.ok_or_else(|| opts.error("'id=' is required"))?;
    let mux_be_id = opts.string("mux-be-id")?;
    if opts.flag("mux")? == Some(true) {
        return Err(match mux_be_id {
            Some(hub) => ConfigError::MuxAndMuxBe { id, hub },
            None => ConfigError::MuxUnsupported(id),
        });
    }
    let logfile = logfile(&opts)?;
    let (kind, keys): (ChardevKind, &[&str]) = match kind_name.as_str() {
        "mux-be" => (ChardevKind::MuxBe, &[]),
        "hub" => (ChardevKind::Hub(opts.list("chardevs")?), &["chardevs.N"]),
        "socket" => {
            let socket = socket(&opts, true)?;
            (ChardevKind::Backend(BackendKind::Socket(socket)), SOCKET_KEYS)
        }
        "file" => {
            let file = FileConfig {
                path: opts.path("path")?.ok_or_else(|| opts.error("'path=' is required"))?,
                append: opts.flag("append")?.unwrap_or(false),
                timestamps: opts.flag("timestamps")?.unwrap_or(false),
            };
            (ChardevKind::Backend(BackendKind::File(file)), &["path", "append", "timestamps"])
        }
        "pty" => (ChardevKind::Backend(BackendKind::Pty(PtyConfig { link: opts.path("path")? })), &["path"]),
        "stdio" => {
            let stdio = StdioConfig { signal: opts.flag("signal")?.unwrap_or(true) };
            (ChardevKind::Backend(BackendKind::Stdio(stdio)), &["signal"])
        }
        "null" => (ChardevKind::Backend(BackendKind::Null), &[]),
        "vc" => (
            ChardevKind::Backend(BackendKind::Vc(vc(&opts)?)),
            &["cols", "rows", "scrollback", "font", "font-size", "theme"],
        ),
        other => {
            return Err(opts.error(format!("unknown chardev kind '{other}' (vcmux knows {CHARDEV_KINDS})")));
        }
    };
    let known: Vec<&str> = COMMON_KEYS.iter().chain(keys).copied().collect();
    opts.finish(&kind_name, &known)?;
    Ok(Chardev { id, kind, mux_be_id, logfile })
}

const SOCKET_KEYS: &[&str] = &["path", "host", "port", "server", "wait", "reconnect", "reconnect-ms"];

/// The socket keys shared by `-chardev socket` and `-frontend socket`.
fn socket(opts: &Opts, backend: bool) -> Result<SocketConfig, ConfigError> {
    let path = opts.path("path")?;
    let host = opts.string("host")?;
    let port = opts.port("port")?;
    let server = opts.flag("server")?.unwrap_or(false);
    let address = match (path, host, port) {
        (Some(path), None, None) => SocketAddress::Unix(path),
        (None, host, Some(port)) => SocketAddress::Tcp {
            host: host.unwrap_or_else(|| if server { "127.0.0.1" } else { "localhost" }.to_string()),
            port,
        },
        (None, Some(_), None) => return Err(opts.error("'host=' needs 'port='")),
        (None, None, None) => return Err(opts.error("a socket needs 'path=' (unix) or 'port=' (tcp)")),
        (Some(_), _, _) => {
            return Err(opts.error("'path=' (unix) and 'host=/port=' (tcp) exclude each other"));
        }
    };
    let wait = if backend { opts.flag("wait")? } else { None };
    if wait.is_some() && !server {
        return Err(opts.error("'wait' is for listening sockets (server=on)"));
    }
    let reconnect = opts.reconnect()?;
    if reconnect.is_some() && server {
        return Err(opts.error("'reconnect' is for connecting sockets (server=off)"));
    }
    Ok(SocketConfig { address, server, wait: wait.unwrap_or(server), reconnect })
}

fn vc(opts: &Opts) -> Result<VcConfig, ConfigError> {
    let cells = |key: &str, default: u16| -> Result<u16, ConfigError> {
        match opts.number(key)? {
            None => Ok(default),
            Some(n) if (2..=u64::from(MAX_VC_CELLS)).contains(&n) => Ok(n as u16),
            Some(n) => Err(opts.error(format!("'{key}={n}' is outside 2-{MAX_VC_CELLS}"))),
        }
    };
    let defaults = VcConfig::default();
    let scrollback = opts.number("scrollback")?.map_or(Ok(defaults.scrollback), usize::try_from);
    let scrollback = scrollback.map_err(|_| opts.error("'scrollback' is too large"))?;
    let sizes = crate::render::FONT_SIZES;
    let font_size = match opts.string("font-size")? {
        None => defaults.font_size,
        Some(text) => match text.parse::<f32>() {
            Ok(px) if sizes.contains(&px) => px,
            _ => {
                return Err(opts.error(format!(
                    "'font-size={text}' is not a size in pixels from {} to {}",
                    sizes.start(),
                    sizes.end()
                )));
            }
        },
    };
    let theme = match opts.string("theme")? {
        None => defaults.theme,
        Some(name) => name.parse().map_err(|e: String| opts.error(e))?,
    };
    let config = VcConfig {
        cols: cells("cols", defaults.cols)?,
        rows: cells("rows", defaults.rows)?,
        scrollback,
        font: opts.path("font")?,
        font_size,
        theme,
    };
    check_frame(opts, &config)?;
    Ok(config)
}

/// Refuses a vc whose screen would be past [`frame::MAX_SIDE`] or
/// [`frame::MAX_PIXELS`]: its cells times the cell its font gives.
fn check_frame(opts: &Opts, config: &VcConfig) -> Result<(), ConfigError> {
    let font = crate::render::FontConfig { size: config.font_size, path: config.font.clone() };
    let (cell_w, cell_h) = font.cell_size().map_err(|e| opts.error(e.to_string()))?;
    let (width, height) =
        (u32::from(config.cols) * u32::from(cell_w), u32::from(config.rows) * u32::from(cell_h));
    if frame::fits(width, height) {
        return Ok(());
    }
    Err(opts.error(format!(
        "{}x{} cells of {cell_w}x{cell_h} pixels make a {width}x{height} screen; a vc's is at most {}: \
         take fewer cols/rows or a smaller font-size",
        config.cols,
        config.rows,
        frame::MAX_SIZE_TEXT
    )))
}

fn logfile(opts: &Opts) -> Result<Option<LogfileConfig>, ConfigError> {
    let path = opts.path("logfile")?;
    let append = opts.flag("logappend")?.unwrap_or(false);
    Ok(path.map(|path| LogfileConfig { path, append }))
}

/// Parses one `-frontend`: its text, the hub it names (`chardev=`), and the frontend.
fn parse_frontend(text: &str) -> Result<(String, Option<String>, FrontendConfig), ConfigError> {
    let opts = Opts::parse("-frontend", text, "kind")?;
    let kind_name = opts.required("kind")?;
    let hub = opts.string("chardev")?;
    let logfile = logfile(&opts)?;
    let (kind, keys): (FrontendKind, &[&str]) = match kind_name.as_str() {
        "socket" => (
            FrontendKind::Socket(socket(&opts, false)?),
            &["path", "host", "port", "server", "reconnect", "reconnect-ms"],
        ),
        "stdio" => (FrontendKind::Stdio, &[]),
        other => {
            return Err(opts.error(format!(
                "unknown frontend kind '{other}' (use socket or stdio; a command goes after --)"
            )));
        }
    };
    let known: Vec<&str> = ["chardev", "logfile", "logappend"].iter().chain(keys).copied().collect();
    opts.finish(&kind_name, &known)?;
    Ok((text.to_string(), hub, FrontendConfig { kind, logfile }))
}

#[cfg(test)]
mod tests;
