//! `vcmux ctl TARGET COMMAND`: one command to a running vcmux's control
//! socket (`-qmp`), for people and shell scripts, without socat and
//! hand-written JSON.
//!
//! Each subcommand is planned into one QMP request, how long its answer may
//! take, and how to show the answer ([`Plan`]); [`client`] sends it. The
//! client is its own: it imports nothing of `control`, the server, and
//! speaks to it only through the wire, as any QMP client would (`chardev-add`
//! reads its option with `config`'s `-chardev` parser, so that it takes what
//! the command line takes). A new
//! subcommand is a variant of [`CtlCommand`] and an arm of
//! [`CtlCommand::plan`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Map, Value, json};

mod chardev;
mod client;
mod error;
mod keys;
mod print;
mod target;

pub use error::CtlError;
pub use keys::Keys;
pub use target::Target;

/// How long any answer may take when the command does not wait on purpose:
/// generous, as a screendump on a loaded machine takes a while.
const ANSWER_WAIT: Duration = Duration::from_secs(60);

/// What the client adds to a wait's own timeout before it gives up on the
/// server, so that the server's answer (with the screen) always comes first.
const WAIT_SLACK: Duration = Duration::from_secs(30);

/// The server's own longest wait; a longer `--timeout` is the server's to refuse.
const MAX_WAIT_SECONDS: f64 = 86_400.0;

/// `vcmux ctl`'s options.
#[derive(Debug, Args)]
#[command(
    about = "Run one command on a running vcmux's control socket (-qmp)",
    after_help = "\
Each command connects, negotiates (qmp_capabilities), runs, prints its result and
exits: 0 when done; 1 when the socket cannot be reached, the server answers with an
error (its description on stderr) or a wait times out (the screen on stderr); 2 for a
bad command line. --device ID picks a vc other than the first.

A shell driven from a script:
  vcmux -qmp unix:/tmp/q.sock,server=on,wait=off -- bash &
  vcmux ctl unix:/tmp/q.sock wait-for '\\$ $'            # the prompt: '$ ' at a line's end
  vcmux ctl unix:/tmp/q.sock send-text 'uname -a' --enter
  vcmux ctl unix:/tmp/q.sock wait-for 'Linux.*'         # prints what matched
  vcmux ctl unix:/tmp/q.sock screendump console.png     # also .txt, .ansi, .ppm
  vcmux ctl unix:/tmp/q.sock send-key ctrl-d

screendump's file is written by the server: OUT is resolved against this directory,
and over tcp to another machine it is a path on that machine."
)]
pub struct CtlArgs {
    /// The control socket, as -qmp names it: unix:PATH (or a path with a '/'),
    /// HOST:PORT or tcp:HOST:PORT.
    #[arg(value_name = "TARGET", value_parser = Target::parse)]
    pub target: Target,
    /// What to run.
    #[command(subcommand)]
    pub command: CtlCommand,
}

/// The commands `vcmux ctl` runs, one QMP command each.
#[derive(Debug, Subcommand)]
pub enum CtlCommand {
    /// Write the vc's screen to a file: PNG, text, text with colours (ANSI) or PPM.
    Screendump(ScreendumpArgs),
    /// Wait until a regex matches the console's output (or the screen); print the match.
    WaitFor(WaitForArgs),
    /// Type TEXT as a keyboard would.
    SendText(SendTextArgs),
    /// Press keys together, named as QEMU's sendkey names them (ctrl-alt-delete).
    SendKey(SendKeyArgs),
    /// Make the next stream wait see only output that comes after now.
    Mark(DeviceArg),
    /// What runs: chardevs, VNC, status, version, commands.
    Query(QueryArgs),
    /// Send a QMP request as written, and print its return value as JSON.
    Raw(RawArgs),
    /// Add a backend to the running hub, written as a -chardev option
    /// (file,id=log2,path=x.log[,mux-be-id=HUB]); a pty prints its path.
    #[command(after_help = "Kinds: file, socket (wait=off), pty, null; logfile=, replay= and lag= as on \
the command line. Its first byte is the console's next one. mux-be-id= names the hub when there are \
several. A hub takes at most four backends.")]
    ChardevAdd(ChardevAddArgs),
    /// Take a backend out of its hub and close it (a vc stays).
    ChardevRemove(ChardevRemoveArgs),
    /// Print a link that opens the console in a browser (view-only, expiring,
    /// one-use if asked); --list lists the links.
    Share(ShareArgs),
    /// Revoke a share link: its viewers are disconnected at once.
    Unshare(UnshareArgs),
    /// Stop vcmux, as SIGTERM does.
    Quit,
}

/// `chardev-add`'s option.
#[derive(Debug, Args)]
pub struct ChardevAddArgs {
    /// The backend as -chardev takes it: KIND,id=ID,…
    #[arg(value_name = "OPTION")]
    pub option: String,
}

/// `chardev-remove`'s id.
#[derive(Debug, Args)]
pub struct ChardevRemoveArgs {
    /// The backend's id.
    #[arg(value_name = "ID")]
    pub id: String,
}

/// `share`'s options.
#[derive(Debug, Args)]
#[command(after_help = "The link opens noVNC served on the display's websocket port \
(-vnc ...,websocket=PORT) and connects at once, without the console's password: \
anyone holding it gets in, until it expires or is revoked (unshare). A view-only \
link's keys, pointer buttons, clipboard and resizes are dropped by the server. \
The token rides in the link's #fragment, which browsers never send in a request.

  vcmux ctl unix:/tmp/q.sock share --view-only --expires 1h
  vcmux ctl unix:/tmp/q.sock share --list
  vcmux ctl unix:/tmp/q.sock unshare share1")]
pub struct ShareArgs {
    /// The link's viewers only watch.
    #[arg(long, conflicts_with = "list")]
    pub view_only: bool,
    /// The link ends after this long (30s, 15m, 1h, 2days); its viewers leave then.
    #[arg(long, value_name = "DURATION", value_parser = duration, conflicts_with = "list")]
    pub expires: Option<Duration>,
    /// The link lets in one connection only.
    #[arg(long, conflicts_with = "list")]
    pub once: bool,
    /// The host name the link uses (default: the websocket port's address,
    /// or this machine's name if it listens on every address).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["list", "page"])]
    pub host: Option<String>,
    /// The page's URL as people reach it, for a console behind a proxy
    /// (https://consoles.example.org/console/a/, ending in /): the link is
    /// that URL and the token's fragment.
    #[arg(long, value_name = "URL", conflicts_with = "list")]
    pub page: Option<String>,
    /// The VNC display (QEMU's id: default, vnc2…; default: the first with a websocket port).
    #[arg(long, value_name = "ID", conflicts_with = "list")]
    pub display: Option<String>,
    /// List the links instead (no tokens: they are shown only when made).
    #[arg(long)]
    pub list: bool,
    /// Print the answer as JSON, as the server sent it.
    #[arg(long)]
    pub json: bool,
}

/// `unshare`'s argument.
#[derive(Debug, Args)]
pub struct UnshareArgs {
    /// The link's token, its id (share1, as share --list shows) or the link itself.
    #[arg(value_name = "TOKEN")]
    pub token: String,
}

/// `--device ID`, shared by the commands that act on a vc.
#[derive(Debug, Args)]
pub struct DeviceArg {
    /// The vc's id (default: the first vc).
    #[arg(long, value_name = "ID")]
    pub device: Option<String>,
}

/// `screendump`'s options.
#[derive(Debug, Args)]
#[command(after_help = "The server writes the file: OUT is made absolute here (its directory must \
exist), so over tcp to another machine give an absolute path on that machine.")]
pub struct ScreendumpArgs {
    /// The file to write; its extension (.png, .txt, .ansi, .ppm) is the format.
    #[arg(value_name = "OUT")]
    pub output: PathBuf,
    /// The format, whatever OUT's extension.
    #[arg(long, value_enum)]
    pub format: Option<DumpFormat>,
    #[command(flatten)]
    pub device: DeviceArg,
}

/// A screendump's format, as the server names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DumpFormat {
    /// The pixels a viewer sees.
    Png,
    /// The screen's text, a line a row.
    Txt,
    /// The text with its colours as SGR escapes.
    Ansi,
    /// The pixels as binary PPM, QEMU's default.
    Ppm,
}

impl DumpFormat {
    fn name(self) -> &'static str {
        match self {
            DumpFormat::Png => "png",
            DumpFormat::Txt => "txt",
            DumpFormat::Ansi => "ansi",
            DumpFormat::Ppm => "ppm",
        }
    }

    /// The format a file's extension names.
    fn of(path: &Path) -> Option<DumpFormat> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        DumpFormat::value_variants().iter().copied().find(|f| f.name() == extension)
    }
}

/// `wait-for`'s options.
#[derive(Debug, Args)]
#[command(after_help = "By default a wait reads the console's output (escapes stripped) from just past \
the last match or mark, so two waits never match the same text; --screen reads what is on the \
screen now. ^ and $ are a line's ends. On a timeout the server's message, with the screen, goes \
to stderr and the exit status is 1.")]
pub struct WaitForArgs {
    /// Regexes (Rust's regex syntax); the first to match ends the wait.
    #[arg(value_name = "REGEX", required = true)]
    pub patterns: Vec<String>,
    /// How long the server waits, in seconds (fractions allowed).
    #[arg(long, value_name = "S", default_value = "30", value_parser = seconds)]
    pub timeout: f64,
    /// Look at the visible screen instead of the output stream.
    #[arg(long)]
    pub screen: bool,
    #[command(flatten)]
    pub device: DeviceArg,
}

/// `send-text`'s options.
#[derive(Debug, Args)]
#[command(after_help = "TEXT is typed as given: a newline or a carriage return in it is the Return \
key (CR LF is one Return), a tab is Tab, other control characters are their Ctrl keys. A shell's \
'ls\\n' is a backslash and an n; write $'ls\\n', or 'ls' --enter.")]
pub struct SendTextArgs {
    /// The text to type.
    #[arg(value_name = "TEXT")]
    pub text: String,
    /// Press Return after TEXT.
    #[arg(long)]
    pub enter: bool,
    #[command(flatten)]
    pub device: DeviceArg,
}

/// `send-key`'s options.
#[derive(Debug, Args)]
#[command(after_help = "KEYS are QEMU's key names (qcodes) joined by '-', as HMP's sendkey takes them: \
ctrl-alt-delete, ret, shift-a, ctrl-c, esc, up, f1, kp_enter, minus, spc. Key numbers (0x..) are not \
supported.")]
pub struct SendKeyArgs {
    /// The keys pressed together, e.g. ctrl-c.
    #[arg(value_name = "KEYS", value_parser = keys::parse)]
    pub keys: Keys,
    /// How long the keys are held, in milliseconds (a terminal has no use for it; QEMU's option).
    #[arg(long, value_name = "MS")]
    pub hold_time: Option<u32>,
    #[command(flatten)]
    pub device: DeviceArg,
}

/// `query`'s options.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// What to ask.
    #[arg(value_enum)]
    pub what: QueryKind,
    /// Print the answer as JSON, as the server sent it.
    #[arg(long)]
    pub json: bool,
}

/// The `query-*` commands `query` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueryKind {
    /// The chardevs: id, what they are, whether open.
    Chardev,
    /// The VNC servers (query-vnc).
    Vnc,
    /// The VNC servers and their clients (query-vnc-servers).
    VncServers,
    /// Whether it runs.
    Status,
    /// vcmux's version.
    Version,
    /// The commands the server takes.
    Commands,
}

/// `raw`'s options.
#[derive(Debug, Args)]
#[command(after_help = "Example: vcmux ctl unix:/tmp/q.sock raw '{\"execute\": \"query-chardev\"}'")]
pub struct RawArgs {
    /// A request, {"execute": NAME, "arguments": {…}}; an id is added when it has none.
    #[arg(value_name = "JSON", value_parser = json_object)]
    pub request: Map<String, Value>,
}

/// Seconds: a number, not negative (clap's value parser for `--timeout`).
fn seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s >= 0.0 => Ok(s),
        _ => Err(format!("'{text}' is not a number of seconds")),
    }
}

/// A duration as humantime reads it (`90s`, `1h 30m`), not zero (clap's
/// value parser for `share --expires`).
fn duration(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err("a share cannot expire at once".to_string()),
        Err(e) => Err(format!("'{text}' is not a duration (30s, 15m, 1h, 2days): {e}")),
    }
}

/// The token in `text`: the text itself, or what follows `token=` (or its
/// escaped `token%3D`) in a share link.
fn token_of(text: &str) -> &str {
    let after = text.split_once("token%3D").or_else(|| text.split_once("token=")).map(|(_, t)| t);
    match after {
        Some(rest) => rest.split(['&', '#', '%']).next().unwrap_or(rest),
        None => text,
    }
}

/// A JSON object (clap's value parser for `raw`'s request).
fn json_object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err("a QMP request is a JSON object: {\"execute\": NAME}".to_string()),
        Err(e) => Err(format!("not JSON: {e}")),
    }
}

/// One command's request, its patience and how its answer is shown.
struct Plan {
    /// The request, without its `id` unless `raw` gave one.
    request: Map<String, Value>,
    /// How long the answer may take.
    wait: Duration,
    /// How the answer is shown.
    show: Show,
}

/// How an answer is shown on stdout.
enum Show {
    /// Nothing: exit 0 says it is done.
    Nothing,
    /// A wait's `match`.
    Match,
    /// A query, for people or as JSON.
    Query(QueryKind, bool),
    /// The `return` value as JSON.
    Json,
    /// A new pty's path, when the answer has one.
    Pty,
    /// A new share's link, or the answer as JSON.
    ShareLink(bool),
    /// The share links as a table, or as JSON.
    Shares(bool),
}

impl CtlCommand {
    /// The request this command sends, and how its answer is read.
    fn plan(&self) -> Result<Plan, CtlError> {
        let request = |command: &str, arguments: Value| {
            let mut request = Map::new();
            request.insert("execute".to_string(), json!(command));
            if let Value::Object(arguments) = arguments
                && !arguments.is_empty()
            {
                request.insert("arguments".to_string(), Value::Object(arguments));
            }
            request
        };
        let quick = |request, show| Ok(Plan { request, wait: ANSWER_WAIT, show });
        match self {
            CtlCommand::Screendump(args) => {
                let format = match args.format.or_else(|| DumpFormat::of(&args.output)) {
                    Some(format) => format,
                    None => {
                        return Err(CtlError::Usage(format!(
                            "cannot tell a format from '{}': name it .png, .txt, .ansi or .ppm, or give --format",
                            args.output.display()
                        )));
                    }
                };
                let filename = absolute(&args.output)?;
                let mut arguments = json!({"filename": filename.to_string_lossy(), "format": format.name()});
                with_device(&mut arguments, &args.device);
                quick(request("screendump", arguments), Show::Nothing)
            }
            CtlCommand::WaitFor(args) => {
                let mode = if args.screen { "screen" } else { "stream" };
                let mut arguments = json!({"pattern": args.patterns, "timeout": args.timeout, "mode": mode});
                with_device(&mut arguments, &args.device);
                Ok(Plan {
                    request: request("x-vcmux-wait-for-text", arguments),
                    wait: wait_for(args.timeout),
                    show: Show::Match,
                })
            }
            CtlCommand::SendText(args) => {
                let mut text = args.text.clone();
                if args.enter {
                    text.push('\r');
                }
                let mut arguments = json!({"text": text});
                with_device(&mut arguments, &args.device);
                quick(request("x-vcmux-send-text", arguments), Show::Nothing)
            }
            CtlCommand::SendKey(args) => {
                let mut arguments = json!({"keys": keys::qcodes(&args.keys)});
                if let (Some(ms), Value::Object(object)) = (args.hold_time, &mut arguments) {
                    object.insert("hold-time".to_string(), json!(ms));
                }
                with_device(&mut arguments, &args.device);
                quick(request("send-key", arguments), Show::Nothing)
            }
            CtlCommand::Mark(device) => {
                let mut arguments = json!({});
                with_device(&mut arguments, device);
                quick(request("x-vcmux-mark-output", arguments), Show::Nothing)
            }
            CtlCommand::Query(args) => {
                let command = match args.what {
                    QueryKind::Chardev => "query-chardev",
                    QueryKind::Vnc => "query-vnc",
                    QueryKind::VncServers => "query-vnc-servers",
                    QueryKind::Status => "query-status",
                    QueryKind::Version => "query-version",
                    QueryKind::Commands => "query-commands",
                };
                quick(request(command, json!({})), Show::Query(args.what, args.json))
            }
            CtlCommand::Raw(args) => {
                // A raw wait gets the same patience as `wait-for`.
                let timeout =
                    args.request.get("arguments").and_then(|a| a.get("timeout")).and_then(Value::as_f64);
                let wait = match timeout {
                    Some(s) if s.is_finite() && s >= 0.0 => wait_for(s).max(ANSWER_WAIT),
                    _ => ANSWER_WAIT,
                };
                Ok(Plan { request: args.request.clone(), wait, show: Show::Json })
            }
            CtlCommand::ChardevAdd(args) => {
                let arguments =
                    chardev::add_arguments(&args.option).map_err(|e| CtlError::Usage(e.to_string()))?;
                quick(request("chardev-add", arguments), Show::Pty)
            }
            CtlCommand::ChardevRemove(args) => {
                quick(request("chardev-remove", json!({"id": args.id})), Show::Nothing)
            }
            CtlCommand::Share(args) if args.list => {
                quick(request("x-vcmux-query-shares", json!({})), Show::Shares(args.json))
            }
            CtlCommand::Share(args) => {
                let mut arguments = Map::new();
                arguments.insert("view-only".into(), json!(args.view_only));
                arguments.insert("once".into(), json!(args.once));
                if let Some(expires) = args.expires {
                    arguments.insert("expires".into(), json!(expires.as_secs_f64()));
                }
                if let Some(host) = &args.host {
                    arguments.insert("host".into(), json!(host));
                }
                if let Some(page) = &args.page {
                    arguments.insert("page".into(), json!(page));
                }
                if let Some(display) = &args.display {
                    arguments.insert("display".into(), json!(display));
                }
                quick(request("x-vcmux-share", Value::Object(arguments)), Show::ShareLink(args.json))
            }
            CtlCommand::Unshare(args) => {
                quick(request("x-vcmux-unshare", json!({"token": token_of(&args.token)})), Show::Nothing)
            }
            CtlCommand::Quit => quick(request("quit", json!({})), Show::Nothing),
        }
    }
}

/// How long the client waits for a wait of `seconds`: the server's own
/// timeout and then some, so the server always answers first.
fn wait_for(seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds.clamp(0.0, MAX_WAIT_SECONDS)) + WAIT_SLACK
}

/// Adds `device` to the arguments when it was given.
fn with_device(arguments: &mut Value, device: &DeviceArg) {
    if let (Some(id), Value::Object(object)) = (&device.device, arguments) {
        object.insert("device".to_string(), json!(id));
    }
}

/// OUT as an absolute path for the server: a relative one is resolved
/// against this process's directory (its directory made canonical, so it
/// must exist); an absolute one is sent as written, as it may name a path
/// on another machine.
fn absolute(output: &Path) -> Result<PathBuf, CtlError> {
    if output.is_absolute() {
        return Ok(output.to_path_buf());
    }
    let name = output
        .file_name()
        .ok_or_else(|| CtlError::Usage(format!("'{}' does not name a file", output.display())))?;
    let parent = match output.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let directory = std::fs::canonicalize(parent)
        .map_err(|source| CtlError::OutputPath { path: output.to_path_buf(), source })?;
    Ok(directory.join(name))
}

/// Runs `vcmux ctl`: the answer goes to `out`, as the subcommand shows it.
pub fn run(args: &CtlArgs, out: &mut dyn Write) -> Result<(), CtlError> {
    let plan = args.command.plan()?;
    let mut client = client::Client::connect(&args.target, ANSWER_WAIT)?;
    let answer = client.request(plan.request, plan.wait)?;
    let text = match plan.show {
        Show::Nothing => String::new(),
        Show::Match => match answer.get("match").and_then(Value::as_str) {
            Some(matched) => format!("{matched}\n"),
            None => pretty(&answer),
        },
        Show::Query(_, true) | Show::Json | Show::ShareLink(true) | Show::Shares(true) => pretty(&answer),
        Show::ShareLink(false) => match answer.get("url").and_then(Value::as_str) {
            Some(url) => format!("{url}\n"),
            None => pretty(&answer),
        },
        Show::Shares(false) => print::shares(&answer),
        Show::Pty => match answer.get("pty").and_then(Value::as_str) {
            Some(path) => format!("{path}\n"),
            None => String::new(),
        },
        Show::Query(kind, false) => match kind {
            QueryKind::Chardev => print::chardevs(&answer),
            QueryKind::Status => print::status(&answer),
            QueryKind::Version => print::version(&answer),
            QueryKind::Commands => print::commands(&answer),
            QueryKind::Vnc | QueryKind::VncServers => print::generic(&answer),
        },
    };
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(CtlError::Output)
}

/// JSON, indented, with a final newline.
fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_follow_the_extension_and_paths_become_absolute() {
        assert_eq!(DumpFormat::of(Path::new("a/b.PNG")), Some(DumpFormat::Png));
        assert_eq!(DumpFormat::of(Path::new("b.ansi")), Some(DumpFormat::Ansi));
        assert_eq!(DumpFormat::of(Path::new("b.jpg")), None);
        assert_eq!(DumpFormat::of(Path::new("b")), None);
        let here = std::fs::canonicalize(".").unwrap();
        assert_eq!(absolute(Path::new("x.png")).unwrap(), here.join("x.png"));
        assert_eq!(absolute(Path::new("/elsewhere/x.png")).unwrap(), Path::new("/elsewhere/x.png"));
        assert!(matches!(absolute(Path::new("no/such/dir/x.png")), Err(CtlError::OutputPath { .. })));
    }

    #[test]
    fn waits_outlast_the_servers_timeout() {
        assert!(wait_for(1.5) > Duration::from_secs_f64(1.5));
        assert!(wait_for(1e12) < Duration::from_secs(2 * 86_400));
        let raw = CtlCommand::Raw(RawArgs {
            request: json_object(
                r#"{"execute": "x-vcmux-wait-for-text", "arguments": {"pattern": "x", "timeout": 300}}"#,
            )
            .unwrap(),
        });
        assert!(raw.plan().unwrap().wait > Duration::from_secs(300));
    }

    #[test]
    fn unshare_takes_a_token_an_id_or_the_link() {
        assert_eq!(token_of("share3"), "share3");
        assert_eq!(token_of("00ff"), "00ff");
        assert_eq!(token_of("http://h:1/#path=websockify%3Ftoken%3D00ff&view_only=true"), "00ff");
        assert_eq!(token_of("ws://h:1/websockify?token=00ff"), "00ff");
        assert!(duration("0s").is_err());
        assert_eq!(duration("1h").unwrap(), Duration::from_secs(3600));
    }

    #[test]
    fn send_text_enter_is_a_carriage_return() {
        let command = CtlCommand::SendText(SendTextArgs {
            text: "ls".into(),
            enter: true,
            device: DeviceArg { device: Some("vc1".into()) },
        });
        let plan = command.plan().unwrap();
        assert_eq!(
            Value::Object(plan.request),
            json!({"execute": "x-vcmux-send-text", "arguments": {"text": "ls\r", "device": "vc1"}})
        );
    }
}
