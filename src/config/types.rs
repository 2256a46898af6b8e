//! The validated graph's types: hubs, their frontend and backends, and each
//! kind's options, as the rest of vcmux reads them. Made only by
//! [`Config::from_options`](super::Config::from_options) (in `parse.rs`).

use std::path::PathBuf;
use std::time::Duration;

use super::address::SocketAddress;
use super::qmp::QmpConfig;
use super::vnc::VncConfig;
pub use crate::hub::MAX_BACKENDS;
use crate::term::Theme;

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
    /// The control sockets (`-qmp`).
    pub qmp: Vec<QmpConfig>,
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
    /// `replay=SIZE` (sockets, PTYs, files): a newly connected peer is first
    /// sent the last SIZE bytes of output; 0, QEMU's way, sends nothing.
    pub replay: usize,
    /// `lag=SIZE` (every kind but the vc, which is never cut off): how far the
    /// backend may fall behind the console before it is cut off, its peer let
    /// go to connect again at the current position; 0 waits for it however
    /// long, as QEMU's hub does. [`BackendKind::default_lag`] unless given.
    pub lag: usize,
}

/// The most `replay=` may ask for: a backend holds that many bytes in memory.
pub const MAX_REPLAY: usize = 64 << 20;

/// `lag=` when not given, for a socket or a PTY: enough for a burst of output
/// to a peer that reads a moment late, small enough that a stuck peer costs
/// little memory and never stalls the console.
pub const DEFAULT_LAG: usize = 8 << 20;

/// The most `lag=` may ask for: a backend may hold up to twice that in memory.
pub const MAX_LAG: usize = 64 << 20;

impl BackendKind {
    /// `lag=` when not given: [`DEFAULT_LAG`] for the kinds whose peers come
    /// and go and may come back (a socket's client, a PTY's reader), so that a
    /// stuck one never stalls the console; 0 (waited for, lossless) for the
    /// vc, which is never cut off, and for the records and the terminal that
    /// cannot take a peer again (a file log, which must be whole and whose
    /// local disk does not hang, an asciicast recording, stdio).
    pub fn default_lag(&self) -> usize {
        match self {
            BackendKind::Socket(_) | BackendKind::Pty(_) => DEFAULT_LAG,
            BackendKind::File(_)
            | BackendKind::Asciicast(_)
            | BackendKind::Stdio(_)
            | BackendKind::Null
            | BackendKind::Vc(_) => 0,
        }
    }
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
    /// An asciicast v2 recording of the console, for asciinema and `vcmux render`.
    Asciicast(AsciicastConfig),
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

/// An asciicast chardev: the console recorded with the time of each chunk,
/// so that a CI run's console can be played back or rendered as a GIF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsciicastConfig {
    /// The recording's path; created, or truncated if it exists.
    pub path: PathBuf,
    /// `input=on`: record what is typed into the console too (`"i"` events).
    pub input: bool,
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
    /// Each `-qmp` value.
    pub qmp: Vec<String>,
    /// Each `-object` value (`tls-creds-x509`).
    pub objects: Vec<String>,
    /// Each `-mon` value: a `-chardev socket` made a control socket.
    pub mon: Vec<String>,
    /// The words after `--`, if any.
    pub command: Vec<String>,
}
