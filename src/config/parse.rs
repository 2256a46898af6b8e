//! From the command line's words to the graph: each `-chardev` and
//! `-frontend` parsed, the backends assigned to their hubs, and the graph
//! checked as a whole, every error one line naming the ids involved.

use super::address::SocketAddress;
use super::error::ConfigError;
use super::object::{self, TlsCredsConfig};
use super::opts::Opts;
use super::qmp::{self, QmpConfig};
use super::types::{
    AsciicastConfig, BackendConfig, BackendKind, Config, DEFAULT_BACKEND, FileConfig, FrontendConfig,
    FrontendKind, HubConfig, IMPLICIT_HUB, LogfileConfig, MAX_BACKENDS, MAX_LAG, MAX_REPLAY, MAX_VC_CELLS,
    Options, PtyConfig, SocketConfig, StdioConfig, VcConfig,
};
use super::vnc;
use crate::frame;

/// What one `-chardev` defines before the graph is known.
#[derive(Debug)]
struct Chardev {
    id: String,
    kind: ChardevKind,
    /// `mux-be-id=`: the hub this chardev joins.
    mux_be_id: Option<String>,
    logfile: Option<LogfileConfig>,
    /// `replay=SIZE`, 0 when not given.
    replay: usize,
    /// `lag=SIZE`, when given.
    lag: Option<usize>,
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
        BackendKind::Asciicast(_) => "asciicast",
    }
}

/// Keys every chardev takes (QEMU's ChardevCommon plus the hub link).
const COMMON_KEYS: &[&str] = &["id", "mux-be-id", "mux", "logfile", "logappend"];

/// The kinds whose peers come and go, so that a newcomer may be shown what it
/// missed (`replay=SIZE`).
const REPLAY_KINDS: &[&str] = &["socket", "file", "pty"];

/// The chardev kinds vcmux knows, for messages.
const CHARDEV_KINDS: &str = "mux-be, hub, socket, file, pty, stdio, null, vc, asciicast";

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
        let mut qmp = Vec::with_capacity(options.qmp.len() + options.mon.len());
        for text in &options.mon {
            qmp.push(take_monitor(text, &mut chardevs)?);
        }
        let default_graph = chardevs.is_empty();
        if default_graph {
            // The default graph: one vc, served over VNC.
            chardevs.push(Chardev {
                id: DEFAULT_BACKEND.to_string(),
                kind: ChardevKind::Backend(BackendKind::Vc(VcConfig::default())),
                mux_be_id: None,
                logfile: None,
                replay: 0,
                lag: None,
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
        let mut objects: Vec<TlsCredsConfig> = Vec::with_capacity(options.objects.len());
        for text in &options.objects {
            let object = object::parse(text)?;
            if objects.iter().any(|o| o.id == object.id) {
                return Err(ConfigError::option(
                    "-object",
                    text,
                    format!("id '{}' is given twice", object.id),
                ));
            }
            objects.push(object);
        }
        let vnc =
            vnc_options.iter().map(|text| vnc::parse(text, &vcs, &objects)).collect::<Result<Vec<_>, _>>()?;
        for text in &options.qmp {
            qmp.push(qmp::parse(text)?);
        }
        Ok(Config { hubs, vnc, qmp })
    }
}

/// QEMU's `-mon chardev=ID,mode=control`: takes chardev ID out of the
/// chardevs (it joins no hub) and makes it a control socket. It must be a
/// listening socket that does not wait: vcmux never holds the console for a
/// control client.
fn take_monitor(text: &str, chardevs: &mut Vec<Chardev>) -> Result<QmpConfig, ConfigError> {
    let opts = Opts::parse("-mon", text, "chardev")?;
    let id = opts.string("chardev")?.ok_or_else(|| opts.error("'chardev=' is required"))?;
    if opts.string("mode")?.as_deref() != Some("control") {
        return Err(
            opts.error("only mode=control (QMP) is served; QEMU's human monitor (mode=readline) is not")
        );
    }
    let _pretty = opts.flag("pretty")?;
    opts.finish("-mon", &["chardev", "mode", "pretty"])?;
    let index = chardevs
        .iter()
        .position(|c| c.id == id)
        .ok_or_else(|| opts.error(format!("chardev '{id}' is not defined (-chardev socket,id={id},…)")))?;
    let chardev = &chardevs[index];
    let socket = match &chardev.kind {
        ChardevKind::Backend(BackendKind::Socket(socket)) => socket,
        _ => {
            return Err(opts.error(format!(
                "chardev '{id}' is a {} chardev; a monitor needs a listening socket",
                chardev.kind_name()
            )));
        }
    };
    if !socket.server {
        return Err(
            opts.error(format!("chardev '{id}' connects out; a monitor's socket listens (server=on)"))
        );
    }
    if socket.wait {
        return Err(opts.error(format!(
            "chardev '{id}' waits for its client (QEMU's default); vcmux starts the console without one: add wait=off"
        )));
    }
    if chardev.mux_be_id.is_some() || chardev.logfile.is_some() || chardev.replay > 0 || chardev.lag.is_some()
    {
        return Err(opts.error(format!(
            "chardev '{id}' serves the monitor: mux-be-id, logfile, replay and lag are for console backends"
        )));
    }
    let address = socket.address.clone();
    chardevs.remove(index);
    Ok(QmpConfig { address })
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
                        replay: chardev.replay,
                        lag: backend_lag(kind, chardev.lag),
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

/// One backend's `-chardev` option on its own, with the hub its `mux-be-id`
/// names: what `vcmux ctl chardev-add` reads, checked as the command line
/// checks it. A hub (`mux-be`, `hub`) is refused: hubs are made at start-up.
pub fn parse_backend(text: &str) -> Result<(BackendConfig, Option<String>), ConfigError> {
    let chardev = parse_chardev(text)?;
    match chardev.kind {
        ChardevKind::Backend(kind) => Ok((
            BackendConfig {
                id: chardev.id,
                lag: backend_lag(&kind, chardev.lag),
                kind,
                logfile: chardev.logfile,
                replay: chardev.replay,
            },
            chardev.mux_be_id,
        )),
        ChardevKind::MuxBe | ChardevKind::Hub(_) => Err(ConfigError::Option {
            option: "-chardev",
            text: text.to_string(),
            problem: "a hub is made at start-up; add a backend to one with mux-be-id=HUB".to_string(),
        }),
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
    let replay = if REPLAY_KINDS.contains(&kind_name.as_str()) { replay_size(&opts)? } else { 0 };
    let lag = if LAG_KINDS.contains(&kind_name.as_str()) { lag_size(&opts)? } else { None };
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
            (
                ChardevKind::Backend(BackendKind::File(file)),
                &["path", "append", "timestamps", "replay", "lag"],
            )
        }
        "asciicast" => {
            let recording = AsciicastConfig {
                path: opts.path("path")?.ok_or_else(|| opts.error("'path=' is required"))?,
                input: opts.flag("input")?.unwrap_or(false),
            };
            (ChardevKind::Backend(BackendKind::Asciicast(recording)), &["path", "input", "lag"])
        }
        "pty" => (
            ChardevKind::Backend(BackendKind::Pty(PtyConfig { link: opts.path("path")? })),
            &["path", "replay", "lag"],
        ),
        "stdio" => {
            let stdio = StdioConfig { signal: opts.flag("signal")?.unwrap_or(true) };
            (ChardevKind::Backend(BackendKind::Stdio(stdio)), &["signal", "lag"])
        }
        "null" => (ChardevKind::Backend(BackendKind::Null), &["lag"]),
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
    Ok(Chardev { id, kind, mux_be_id, logfile, replay, lag })
}

const SOCKET_KEYS: &[&str] =
    &["path", "host", "port", "server", "wait", "reconnect", "reconnect-ms", "replay", "lag"];

/// The kinds that may be cut off for falling behind (`lag=SIZE`): all but the
/// vc, which is in-process and lossless.
const LAG_KINDS: &[&str] = &["socket", "file", "pty", "stdio", "null", "asciicast"];

/// `lag=SIZE`, bounded by [`MAX_LAG`] since a backend may hold twice that.
fn lag_size(opts: &Opts) -> Result<Option<usize>, ConfigError> {
    // MAX_LAG fits a usize, so any size within it does.
    Ok(opts.size("lag", MAX_LAG as u64)?.map(|size| size as usize))
}

/// A backend's lag: as given, else its kind's ([`BackendKind::default_lag`]).
fn backend_lag(kind: &BackendKind, given: Option<usize>) -> usize {
    given.unwrap_or_else(|| kind.default_lag())
}

/// `replay=SIZE`, bounded by [`MAX_REPLAY`] since it is kept in memory.
fn replay_size(opts: &Opts) -> Result<usize, ConfigError> {
    // MAX_REPLAY fits a usize, so any size within it does.
    Ok(opts.size("replay", MAX_REPLAY as u64)?.map_or(0, |size| size as usize))
}

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
