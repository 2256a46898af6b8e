//! The command line: QEMU-style options (`-chardev`, `-frontend`) read with clap,
//! and a help text that teaches by example.
//!
//! QEMU's options are long names with one dash; clap wants two. Before clap sees
//! the arguments, `-chardev` becomes `--chardev` (both spellings work, as in QEMU),
//! and any other one-dash word is refused by name rather than read as a cluster of
//! short flags.

use std::ffi::OsString;

use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError, Options};

mod animation;
mod asciicast;
pub mod certs;
pub mod ctl;
pub mod render;
pub mod screenshot;

/// The options vcmux takes, long names that QEMU spells with one dash.
const LONG_OPTIONS: &[&str] = &["chardev", "frontend", "vnc", "qmp", "mon", "object", "help", "version"];

const HELP: &str = "\
vcmux fans one console out to several places at once, as QEMU's mux-be / hub
chardev does inside QEMU: one console stream (the frontend) is copied, byte for
byte, to up to four backends (a terminal served over VNC, log files, asciicast
recordings, sockets, PTYs, stdio), and whatever a backend types goes back to the
console.

With no options at all, vcmux runs your shell in a terminal that any VNC viewer
shows on localhost:5900:  vcmux   then   vncviewer localhost:5900

Usage: vcmux [OPTIONS] [-- COMMAND [ARGS]...]
       vcmux render INPUT|- [-o OUT] [--cols N] [--rows N] [--format txt|ansi|png|gif]
       vcmux screenshot [HOST]:DISPLAY|HOST::PORT|unix:PATH -o OUT.png [--password-file F]
       vcmux ctl unix:PATH|HOST:PORT COMMAND [ARGS]...
       vcmux certs DIR [--name HOST...]

The frontend (where the console comes from), one per hub:
  -- COMMAND [ARGS]...      run COMMAND under a new PTY (default: $SHELL, else /bin/sh);
                            vcmux exits with its exit status once every backend is flushed
  -frontend socket,path=P[,server=on][,reconnect=S]
  -frontend socket,host=H,port=N[,server=on][,reconnect=S]
                            connect to (or, with server=on, listen for) the console's
                            socket, e.g. QEMU's -serial unix:P,server=on,wait=off;
                            reconnect=S retries every S seconds, else its end ends vcmux
  -frontend stdio           the console arrives on stdin; typed input goes to stdout
  (a -frontend takes chardev=HUB when there are several hubs, and logfile=F)

A hub and its backends (QEMU's syntax; up to 4 backends a hub):
  -chardev mux-be,id=HUB                           the mux-be patch's hub: each backend
                                                   joins it with mux-be-id=HUB
  -chardev hub,id=HUB,chardevs.0=ID[,chardevs.1=ID...]
                                                   QEMU 10's hub: it names its backends
  -chardev socket,id=ID,path=P|host=H,port=N[,server=on][,wait=off][,reconnect=S]
                 [,replay=SIZE][,lag=SIZE]
        raw access for socat, nc or a script; server=on listens (loopback by default,
        one client at a time) and waits for the first client unless wait=off
  -chardev file,id=ID,path=P[,append=on][,timestamps=on][,replay=SIZE][,lag=SIZE]
        a console log; timestamps=on starts each line with its UTC time
  -chardev pty,id=ID[,path=LINK][,replay=SIZE][,lag=SIZE]
        a new PTY for screen or minicom; its /dev/pts path is logged, LINK points at it
  -chardev stdio,id=ID[,signal=off]
        this terminal; Ctrl-C stops vcmux unless signal=off
  -chardev null,id=ID
  -chardev asciicast,id=ID,path=F.cast[,input=on]
        an asciicast v2 recording (asciinema's format; created or truncated) of the
        output, with the times and the window's resizes; input=on records what is
        typed into the console too; play it with asciinema play, or draw it with
        vcmux render (a PNG at a moment, or the whole as a GIF)
  -chardev vc,id=ID[,cols=N][,rows=N][,scrollback=LINES][,font-size=PX][,font=F][,theme=dark|xterm]
        a terminal emulator (80x24, 10000 lines of history by default) shown by -vnc,
        light grey on black with the Linux console's colours (theme=xterm: black on white);
        a command under vcmux's PTY gets its size, and it answers the command's queries;
        its screen is at most 8192 pixels a side and 7680x4320 pixels in all (cells are
        10x19 pixels at the default font-size=16: up to 768x227 cells, or 500x300)
  Every chardev takes logfile=F[,logappend=on]: a copy of all the output it is sent.
  Sockets, files and PTYs take replay=SIZE (bytes, or 64K, 1M; at most 64M, kept in
  memory): whoever connects is first sent the last SIZE bytes of output, then the
  live stream, nothing missing or twice in between (by default, as in QEMU, nothing
  from before).
  Every backend but the vc takes lag=SIZE (at most 64M): one that falls more than
  SIZE bytes behind the console (a peer that stopped reading) is cut off, its peer
  let go and those bytes dropped, and it may connect again at the current position;
  lag=0 waits for it however long, as QEMU's hub does. Sockets and PTYs have lag=8M
  unless they say; files, recordings and stdio lag=0 (a log stays whole: give a log
  on a network mount a lag); the vc is never cut off.
  With no mux-be or hub at all, the chardevs form one hub; with no -chardev at all,
  there is one vc, vc0, served on 127.0.0.1:5900. Without -vnc, every vc is served
  all the same: the first on :0 (127.0.0.1:5900), the next on :1, and so on.

A vc served to VNC viewers (QEMU's -vnc; TCP port 5900+DISPLAY):
  -vnc [HOST]:DISPLAY|HOST::PORT|unix:PATH[,display=VCID][,password-file=F]
       [,viewonly-password-file=F][,view-only=on][,websocket=PORT]
       [,share=allow-exclusive|force-shared|ignore][,connections=N][,rate=N]
       [,auth=none][,tls-creds=ID|auto][,reverse=on]
        :0 is 127.0.0.1:5900, HOST::PORT names the port itself; display= picks the vc
        (default: the first); a password file's first line is the VNC password (8
        characters at most); websocket=PORT serves noVNC directly; listening beyond
        loopback needs a password, auth=none, or client certificates (verify-peer=on);
        rate=N: at most N updates a second to each viewer (default 60; at once after
        a key or the pointer), viewers in the same encoding and pixel format sharing
        one encoding of each;
        reverse=on (QEMU's): listen for no one, connect out to a viewer listening at
        HOST:PORT (a TCP port here, not a display) or unix:PATH, for a colleague
        behind NAT who runs: vncviewer -listen PORT (TigerVNC); served as any viewer
        (password and tls-creds= apply), dialled again while the console runs when
        it fails or ends (after 1 s, doubling to 30 s), a line logged each time; no
        websocket=; a second -vnc with the same display= listens as well
  -object tls-creds-x509,id=ID,dir=DIR,endpoint=server[,verify-peer=on|off]
        TLS for -vnc ...,tls-creds=ID (QEMU's syntax and files: DIR/ca-cert.pem,
        server-cert.pem, server-key.pem; vcmux certs DIR makes them). Viewers must
        speak VeNCrypt: X509None is offered (X509Vnc with a password, which is then
        asked inside TLS); the websocket port is wss://. Anonymous TLS (TLSNone,
        TLSVnc) is never offered: nothing would prove the server is yours.
        verify-peer=on (QEMU's default) asks every viewer for a client certificate
        the CA signed: virt-viewer, remote-viewer and other gtk-vnc viewers can show
        one (DIR/client-cert.pem, client-key.pem); TigerVNC's viewer cannot, so
        for it use verify-peer=off (with a password if others can reach the port):
          xtigervncviewer -SecurityTypes=X509None -X509CA=DIR/ca-cert.pem HOST::PORT
        tls-creds=auto makes a self-signed certificate at start-up and logs its
        SHA-256 fingerprint and pin-sha256, for a viewer's user to compare before
        trusting it.
  On/off values accept on, off, yes, no, true, false.

A control socket for scripts and CI (QEMU's QMP, JSON; qemu.qmp, qmp-shell, socat):
  -qmp unix:PATH|tcp:HOST:PORT[,server=on][,wait=off]
        many clients at once; commands: qmp_capabilities, query-version,
        query-status, query-commands, query-chardev, query-vnc and
        query-vnc-servers (viewers, as QEMU's), screendump (filename, device,
        format=png|ppm|txt|ansi), send-key (QEMU's qcodes, device),
        x-vcmux-send-text (text, device), x-vcmux-wait-for-text (pattern or
        patterns as regexes, ^ and $ at line ends; timeout in seconds, 30 by
        default; mode=stream: output since the last match, or screen; device),
        x-vcmux-mark-output (device), chardev-add (QEMU's backend JSON: file,
        socket, pty, null; mux-be-id in data names the hub), chardev-remove (id),
        quit. device is a vc id (default: the first); vcmux ctl runs them from a
        shell.
        Events: VNC_CONNECTED, VNC_INITIALIZED, VNC_DISCONNECTED (as QEMU's),
        X_VCMUX_FRONTEND_CLOSED and X_VCMUX_FRONTEND_OPENED (data: the hub's id),
        X_VCMUX_BACKEND_LAGGED (a backend cut off: id, hub, lag, dropped, offset),
        SHUTDOWN
  -chardev socket,id=ID,path=P|port=N,server=on,wait=off -mon chardev=ID,mode=control
        the same, in QEMU's long form

How the hub behaves: every backend that is connected gets every byte, in order,
exactly once, until it falls more than its lag behind; the slowest of the vcs and
the backends with lag=0 sets the pace, so a stuck socket or PTY reader never stalls
the console; a
backend with nobody connected (or that fails, or was cut off) is skipped, its
missed bytes counted, and it rejoins at the current position when someone connects
(after the last SIZE bytes with replay=SIZE).

Stopping: on SIGINT, SIGTERM or SIGHUP, vcmux flushes every backend (a peer that
takes nothing for 5 s is let go, what it held dropped), then hangs up
the command's terminal as a terminal emulator does (SIGHUP to every process of its
session; SIGTERM, then SIGKILL, to whatever is still there 2 s later), so nothing
it started outlives it; a second signal exits at once.
Exit status: the command's (128+N when signal N ended it: 129 after a hang-up);
0 when a socket or stdio console ends or vcmux is stopped; 2 when vcmux cannot
start as configured (a bad option, a missing file, a port in use), after one line
naming the cause and before anything listens or runs.

Examples:
  Share a shell with a colleague who may only watch (passwords in files):
    vcmux -vnc 0.0.0.0:1,password-file=rw.pass,viewonly-password-file=ro.pass -- bash

  A QEMU guest's serial console in a browser (noVNC on port 5700) and in a log:
    vcmux -frontend socket,path=/tmp/ttyS0,reconnect=1 \\
          -chardev hub,id=hub0,chardevs.0=vc0,chardevs.1=log \\
          -chardev vc,id=vc0,cols=120,rows=40 -chardev file,id=log,path=guest.log \\
          -vnc :0,websocket=5700
    vcmux screenshot :0 -o console.png

  Log a shell and let a colleague watch and type through a socket:
    vcmux -chardev mux-be,id=mux0 \\
          -chardev file,id=log,path=console.log,mux-be-id=mux0 \\
          -chardev socket,id=s0,path=/tmp/console.sock,server=on,wait=off,mux-be-id=mux0 \\
          -- bash
    socat -,raw,echo=0 UNIX-CONNECT:/tmp/console.sock

  Watch a QEMU guest's serial port (QEMU: -serial unix:/tmp/ttyS0,server=on,wait=off),
  keep a timestamped log and open it in screen:
    vcmux -frontend socket,path=/tmp/ttyS0,reconnect=1 \\
          -chardev hub,id=hub0,chardevs.0=log,chardevs.1=con \\
          -chardev file,id=log,path=guest.log,timestamps=on \\
          -chardev pty,id=con,path=/tmp/guest-console
    screen /tmp/guest-console

  Serve a console on TCP for anyone on this machine (port 4555):
    vcmux -chardev socket,id=s0,port=4555,server=on,wait=off -- top

Tools:
  vcmux render INPUT|- [-o OUT] [--cols N] [--rows N] [--format txt|ansi|png|gif]
        the final screen of a byte stream (a console log, a `script` recording, an
        asciicast .cast) as text, text with colours (ANSI) or PNG; a whole .cast as
        an animated GIF (-o OUT.gif [--fps N] [--speed X] [--idle-limit S]); see
        vcmux render --help
  vcmux screenshot [HOST]:DISPLAY|HOST::PORT|unix:PATH -o OUT.png [--password-file F]
        one frame from any VNC server (vcmux's, QEMU's) as PNG, the server named as -vnc
        names it (:1 is 127.0.0.1:5901); as in vncviewer, HOST:N with N of 100 or more
        is port N (localhost:5901)
  vcmux certs DIR [--name HOST...] [--client NAME]
        a CA, a server certificate for the names (default: localhost, 127.0.0.1, ::1
        and this host's name) and a client certificate, in QEMU's layout for
        -object tls-creds-x509,dir=DIR; no file is overwritten, the CA's key is not kept
  vcmux ctl unix:PATH|HOST:PORT COMMAND [ARGS]...
        one command to a running vcmux's control socket (-qmp), its result on stdout:
        screendump OUT.png|.txt|.ansi|.ppm, wait-for REGEX... [--timeout S] [--screen],
        send-text TEXT [--enter], send-key KEYS (ctrl-alt-delete), mark,
        query chardev|vnc|vnc-servers|status|version|commands [--json], raw JSON, quit;
        see vcmux ctl --help

Options:
  -h, --help      this text
  -V, --version   the version

Logs go to stderr; RUST_LOG sets the level (default info).";

/// The parsed command line.
#[derive(Debug, Parser)]
#[command(
    name = "vcmux",
    version,
    override_help = HELP,
    disable_help_subcommand = true,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// An offline tool instead of running a console.
    #[command(subcommand)]
    pub tool: Option<Tool>,
    /// `-chardev KIND,id=ID,…`, repeatable.
    #[arg(long = "chardev")]
    pub chardev: Vec<String>,
    /// `-frontend KIND,…`, repeatable (one per hub).
    #[arg(long = "frontend")]
    pub frontend: Vec<String>,
    /// `-vnc HOST:DISPLAY|HOST::PORT|unix:PATH,…`, repeatable (one per vc).
    #[arg(long = "vnc")]
    pub vnc: Vec<String>,
    /// `-qmp unix:PATH|tcp:HOST:PORT,server=on,wait=off`, repeatable.
    #[arg(long = "qmp")]
    pub qmp: Vec<String>,
    /// `-mon chardev=ID,mode=control`: a `-chardev socket` as a control socket.
    #[arg(long = "mon")]
    pub mon: Vec<String>,
    /// `-object tls-creds-x509,id=ID,dir=DIR,endpoint=server,…`, repeatable.
    #[arg(long = "object")]
    pub object: Vec<String>,
    /// The command after `--`.
    #[arg(last = true)]
    pub command: Vec<String>,
}

/// The offline tools.
#[derive(Debug, Subcommand)]
pub enum Tool {
    /// The final screen of a byte stream, as text, ANSI or PNG; a whole
    /// asciicast recording as an animated GIF.
    Render(render::RenderArgs),
    /// One frame from a VNC server as PNG.
    Screenshot(screenshot::ScreenshotArgs),
    /// One command to a running vcmux's control socket, for scripts.
    Ctl(ctl::CtlArgs),
    /// A CA, a server and a client certificate for TLS, in QEMU's layout.
    Certs(certs::CertsArgs),
}

/// What the command line asks for, or why it cannot be read.
pub enum Parsed {
    /// Run vcmux with these options.
    Run(Box<Cli>),
    /// Print this (help, version) and exit 0.
    Print(String),
    /// A bad option: this one-line message, exit 2.
    Error(String),
}

/// Reads the command line (program name first).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed {
    let args = match qemu_style(args.into_iter().collect()) {
        Ok(args) => args,
        Err(message) => return Parsed::Error(message),
    };
    let tool = args.get(1).and_then(|a| a.to_str()).filter(|a| TOOLS.contains(a)).map(str::to_string);
    match Cli::try_parse_from(args) {
        Ok(cli) => Parsed::Run(Box::new(cli)),
        Err(e) if !e.use_stderr() => Parsed::Print(e.to_string()),
        Err(e) => {
            let help = match tool {
                Some(tool) => format!("vcmux {tool} --help"),
                None => "vcmux --help".to_string(),
            };
            Parsed::Error(format!("{} (see {help})", one_line(&e.to_string())))
        }
    }
}

/// The tools' names, as the first word after `vcmux`.
const TOOLS: &[&str] = &["render", "screenshot", "ctl", "certs"];

/// clap's error as one line: its first paragraph (a sentence, then any list
/// it announces, such as the missing arguments), without the usage after it.
fn one_line(text: &str) -> String {
    let mut lines = text.lines().map(str::trim).take_while(|l| !l.is_empty());
    let first = lines.next().unwrap_or("invalid arguments");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let listed: Vec<&str> = lines.collect();
    if listed.is_empty() { first.to_string() } else { format!("{first} {}", listed.join(", ")) }
}

/// Rewrites QEMU's `-chardev` spelling to `--chardev`, up to `--`, and refuses
/// one-dash words that are not options.
fn qemu_style(mut args: Vec<OsString>) -> Result<Vec<OsString>, String> {
    let mut expect_value = false;
    for arg in args.iter_mut().skip(1) {
        let Some(text) = arg.to_str() else { continue };
        if text == "--" {
            break;
        }
        if expect_value {
            expect_value = false;
            continue;
        }
        if !text.starts_with('-') {
            // A tool's name: its own options follow, in clap's spelling.
            break;
        }
        if let Some(name) = text.strip_prefix('-').filter(|n| !n.starts_with('-') && n.len() > 1) {
            if !LONG_OPTIONS.contains(&name) {
                return Err(format!("unknown option '{text}' (see vcmux --help)"));
            }
            expect_value = matches!(name, "chardev" | "frontend" | "vnc" | "qmp" | "mon" | "object");
            *arg = OsString::from(format!("--{name}"));
        } else if let Some(name) = text.strip_prefix("--") {
            expect_value = matches!(name, "chardev" | "frontend" | "vnc" | "qmp" | "mon" | "object");
        }
    }
    Ok(args)
}

impl Cli {
    /// The validated graph this command line describes.
    pub fn config(&self) -> Result<Config, ConfigError> {
        let options = Options {
            chardevs: self.chardev.clone(),
            frontends: self.frontend.clone(),
            vnc: self.vnc.clone(),
            qmp: self.qmp.clone(),
            mon: self.mon.clone(),
            objects: self.object.clone(),
            command: self.command.clone(),
        };
        Config::from_options(&options, default_command())
    }
}

/// `$SHELL`, else `/bin/sh`.
fn default_command() -> Vec<String> {
    let shell = std::env::var("SHELL").ok().filter(|s| !s.is_empty());
    vec![shell.unwrap_or_else(|| "/bin/sh".to_string())]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Parsed {
        parse(std::iter::once("vcmux").chain(words.iter().copied()).map(OsString::from))
    }

    #[test]
    fn qemu_and_gnu_spellings_agree() {
        let Parsed::Run(a) = parse_words(&["-chardev", "null,id=n", "--", "sh", "-c", "-chardev"]) else {
            panic!("should parse")
        };
        assert_eq!(a.chardev, ["null,id=n"]);
        assert_eq!(a.command, ["sh", "-c", "-chardev"]);
        let Parsed::Run(b) = parse_words(&["--chardev", "null,id=n", "--", "sh", "-c", "-chardev"]) else {
            panic!("should parse")
        };
        assert_eq!(a.chardev, b.chardev);
    }

    #[test]
    fn bad_options_are_one_line_naming_the_option() {
        for (words, needle) in [
            (&["-chardevv", "x"][..], "-chardevv"),
            (&["--nope"][..], "--nope"),
            (&["-chardev"][..], "chardev"),
        ] {
            let Parsed::Error(message) = parse_words(words) else { panic!("{words:?} should fail") };
            assert!(!message.contains('\n') && message.contains(needle), "{message}");
        }
    }

    #[test]
    fn missing_arguments_are_named_on_one_line() {
        for (words, want) in [
            (
                &["render"][..],
                "the following required arguments were not provided: <INPUT> (see vcmux render --help)",
            ),
            (
                &["screenshot"][..],
                "the following required arguments were not provided: --output <OUT.png>, <SERVER> (see vcmux screenshot --help)",
            ),
            (&["screenshot", ":0"][..], "--output <OUT.png> (see vcmux screenshot --help)"),
        ] {
            let Parsed::Error(message) = parse_words(words) else { panic!("{words:?} should fail") };
            assert!(message.ends_with(want), "{message}");
        }
        let Parsed::Error(message) = parse_words(&["screenshot", "nowhere", "-o", "x.png"]) else {
            panic!("a bad address should fail")
        };
        assert!(message.contains("'nowhere' is not HOST:DISPLAY") && !message.contains('\n'), "{message}");
    }

    #[test]
    fn help_is_printed_not_an_error() {
        assert!(matches!(parse_words(&["-help"]), Parsed::Print(text) if text.contains("Examples:")));
        assert!(matches!(parse_words(&["--version"]), Parsed::Print(_)));
    }
}
