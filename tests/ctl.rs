//! `vcmux ctl` against the real binary: a vcmux runs `sh -c …` under a vc
//! with a control socket, and each test drives it with `vcmux ctl` runs as a
//! script would, checking exit statuses, stdout and stderr.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;
use serde_json::{Value, json};
use vcmux::frame::png;

/// A vcmux running `script` in a 40x8 vc, its control socket in a fresh directory.
struct Console {
    dir: tempfile::TempDir,
    vcmux: Vcmux,
    target: String,
}

impl Console {
    fn start(script: &str) -> Console {
        let dir = temp_dir();
        let socket = path_in(&dir, "q.sock");
        let qmp = format!("unix:{socket},server=on,wait=off");
        // Not the default VNC display: tests run in parallel.
        let vnc = format!("unix:{},websocket=127.0.0.1:0", path_in(&dir, "vnc.sock"));
        let vcmux = Vcmux::start(&[
            "-chardev",
            "vc,id=v,cols=40,rows=8",
            "-vnc",
            &vnc,
            "-qmp",
            &qmp,
            "--",
            "sh",
            "-c",
            script,
        ]);
        vcmux.wait_log("control socket (QMP): listening on");
        Console { dir, vcmux, target: format!("unix:{socket}") }
    }

    /// `vcmux ctl TARGET ARGS…`, run in the console's directory.
    fn ctl(&self, args: &[&str]) -> Output {
        ctl_in(self.dir.path(), &self.target, args)
    }

    /// `vcmux ctl … ARGS`, which must succeed; its stdout.
    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let output = self.ctl(args);
        assert!(output.status.success(), "{args:?}: {}\nlog:\n{}", describe(&output), self.vcmux.log());
        String::from_utf8(output.stdout).expect("stdout is UTF-8")
    }

    /// Stops vcmux with `vcmux ctl quit`: exit status 0, as QEMU's, though
    /// the command it hung up ended with 129.
    fn quit(mut self) {
        assert_eq!(self.ok(&["quit"]), "");
        assert_eq!(self.vcmux.wait_exit(), 0, "{}", self.vcmux.log());
    }
}

fn ctl_in(dir: &Path, target: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vcmux"))
        .arg("ctl")
        .arg(target)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("vcmux ctl runs")
}

fn describe(output: &Output) -> String {
    format!(
        "status {:?}, stdout {:?}, stderr {:?}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Asserts `output` failed with `code` and one line of stderr containing every needle.
#[track_caller]
fn assert_failed(output: &Output, code: i32, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "{}", describe(output));
    assert_eq!(stderr.lines().count(), 1, "one line: {}", describe(output));
    for needle in needles {
        assert!(stderr.contains(needle), "{needle:?}: {}", describe(output));
    }
    assert!(output.stdout.is_empty(), "{}", describe(output));
}

/// A command that prints what it reads, a line at a time, until its terminal hangs up.
const ECHO_LINES: &str = "while read line; do echo \"got:$line\"; done";

#[test]
fn wait_for_prints_the_match_and_a_second_stream_wait_times_out_with_the_screen() {
    let console = Console::start(&format!("printf 'boot ok 42\\n'; {ECHO_LINES}"));
    assert_eq!(console.ok(&["wait-for", r"ok (\d+)", "--timeout", "60"]), "ok 42\n");

    // The text was printed once: the stream has moved past it.
    let again = console.ctl(&["wait-for", r"ok (\d+)", "--timeout", "1"]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(1), "{}", describe(&again));
    assert!(again.stdout.is_empty(), "{}", describe(&again));
    assert!(stderr.starts_with("vcmux ctl: timed out after 1 s"), "{stderr}");
    assert!(stderr.contains("\nboot ok 42"), "the screen: {stderr}");

    // The screen still shows it; of several patterns the first that matches wins.
    assert_eq!(console.ok(&["wait-for", "nowhere", "boot", "--screen", "--timeout", "0.5"]), "boot\n");
    // A fractional timeout is the server's.
    let short = console.ctl(&["wait-for", "never", "--timeout", "0.2"]);
    assert!(String::from_utf8_lossy(&short.stderr).contains("timed out after 0.2 s"), "{}", describe(&short));
    console.quit();
}

#[test]
fn text_and_keys_are_typed_into_the_command() {
    let console = Console::start(ECHO_LINES);
    // --enter is Return; so is a newline in TEXT.
    assert_eq!(console.ok(&["send-text", "hello", "--enter"]), "");
    assert_eq!(console.ok(&["wait-for", "^got:hello$"]), "got:hello\n");
    console.ok(&["send-text", "two\n", "--device", "v"]);
    assert_eq!(console.ok(&["wait-for", "^got:.*$"]), "got:two\n");
    // Keys in HMP's spelling: shift-a is A, ret is Return.
    console.ok(&["send-text", "x"]);
    console.ok(&["send-key", "shift-a"]);
    console.ok(&["send-key", "ret", "--hold-time", "50"]);
    assert_eq!(console.ok(&["wait-for", "^got:.*$"]), "got:xA\n");
    // Marked, older output is not waited for.
    console.ok(&["send-text", "three", "--enter"]);
    console.ok(&["wait-for", "--screen", "^got:three$"]);
    console.ok(&["mark"]);
    let missed = console.ctl(&["wait-for", "got:three", "--timeout", "0.5"]);
    assert_eq!(missed.status.code(), Some(1), "{}", describe(&missed));
    console.quit();
}

#[test]
fn screendumps_are_written_where_the_caller_means_in_the_extensions_format() {
    // The cursor hidden, so that two dumps are the same pixels whatever its blink.
    let console = Console::start(&format!("printf '\\033[?25lon the screen\\n'; {ECHO_LINES}"));
    console.ok(&["wait-for", "--screen", "on the screen"]);

    // A relative OUT is the caller's directory, not vcmux's.
    assert_eq!(console.ok(&["screendump", "shot.png"]), "");
    let shot = png::decode(&std::fs::read(console.dir.path().join("shot.png")).unwrap())
        .expect("a PNG")
        .expect("a PNG");
    assert_eq!((shot.width(), shot.height()), (400, 152), "40x8 cells of 10x19 pixels");
    // The same pixels as the server's own screendump of the moment.
    let own = path_in(&console.dir, "own.png");
    let request = json!({"execute": "screendump", "arguments": {"filename": own, "format": "png"}});
    assert_eq!(console.ok(&["raw", &request.to_string()]), "{}\n");
    let own = png::decode(&std::fs::read(&own).unwrap()).unwrap().unwrap();
    assert!(own.pixels() == shot.pixels(), "vcmux ctl's screendump differs from the server's");

    std::fs::create_dir(console.dir.path().join("sub")).unwrap();
    console.ok(&["screendump", "sub/screen.txt"]);
    let text = std::fs::read_to_string(console.dir.path().join("sub/screen.txt")).unwrap();
    assert!(text.starts_with("on the screen\n"), "{text:?}");
    console.ok(&["screendump", "screen.ansi"]);
    let ansi = std::fs::read_to_string(console.dir.path().join("screen.ansi")).unwrap();
    assert!(ansi.contains("on the screen"), "{ansi:?}");
    console.ok(&["screendump", "dump.bin", "--format", "ppm"]);
    assert!(std::fs::read(console.dir.path().join("dump.bin")).unwrap().starts_with(b"P6\n400 152\n255\n"));
    console.quit();
}

#[test]
fn queries_read_as_tables_or_as_json_and_raw_requests_return_json() {
    let console = Console::start(ECHO_LINES);
    let table = console.ok(&["query", "chardev"]);
    let lines: Vec<Vec<&str>> = table.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(lines[0], ["label", "filename", "frontend-open"], "{table}");
    assert!(lines.contains(&vec!["v", "vc", "true"]), "{table}");

    let json: Value = serde_json::from_str(&console.ok(&["query", "chardev", "--json"])).unwrap();
    assert!(
        json.as_array().unwrap().contains(&json!({"label": "v", "filename": "vc", "frontend-open": true})),
        "{json}"
    );
    assert_eq!(console.ok(&["query", "status"]), "status: running\n");
    assert!(console.ok(&["query", "version"]).starts_with("vcmux "));
    let commands = console.ok(&["query", "commands"]);
    assert!(commands.lines().any(|l| l == "x-vcmux-wait-for-text"), "{commands}");

    // raw: the return value as JSON, the request's own id or none.
    for request in [r#"{"execute": "query-status", "id": 7}"#, r#"{"execute": "query-status"}"#] {
        let got: Value = serde_json::from_str(&console.ok(&["raw", request])).unwrap();
        assert_eq!(got, json!({"running": true, "status": "running"}));
    }
    console.quit();
}

#[test]
fn failures_are_one_line_exit_1_and_usage_errors_exit_2() {
    let console = Console::start(ECHO_LINES);
    // The server says no: its description, exit 1.
    assert_failed(&console.ctl(&["mark", "--device", "nope"]), 1, &["vcmux ctl: Device 'nope' not found"]);
    assert_failed(&console.ctl(&["raw", r#"{"execute": "no-such-command"}"#]), 1, &["no-such-command"]);
    assert_failed(&console.ctl(&["send-key", "nosuchkey"]), 1, &["nosuchkey"]);
    assert_failed(
        &console.ctl(&["wait-for", "("]),
        1,
        &["vcmux ctl: pattern '(' is not a regex: unclosed group"],
    );
    assert_failed(&console.ctl(&["screendump", "no/such/dir/x.png"]), 1, &["no/such/dir/x.png"]);
    console.quit();

    // Nobody there.
    let dir = temp_dir();
    let gone = format!("unix:{}", path_in(&dir, "gone.sock"));
    assert_failed(
        &ctl_in(dir.path(), &gone, &["query", "status"]),
        1,
        &[&format!("vcmux ctl: cannot connect to {gone}: No such file or directory")],
    );

    // Usage errors: exit 2, one line, before anything connects.
    for args in [
        &["query"][..],
        &["query", "everything"],
        &["send-key", "ctrl-0x1d"],
        &["send-key", "ctrl--"],
        &["screendump", "shot.jpg"],
        &["wait-for"],
        &["wait-for", "x", "--timeout", "-1"],
        &["raw", "{not json"],
        &["nonsense"],
        &[],
    ] {
        let output = ctl_in(dir.path(), &gone, args);
        assert_failed(&output, 2, &["vcmux"]);
    }
    assert_failed(&ctl_in(dir.path(), "no-target", &["quit"]), 2, &["'no-target' is not unix:PATH"]);
}

#[test]
fn help_teaches_with_a_recipe() {
    let output = ctl_in(Path::new("."), "--help", &[]);
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", describe(&output));
    for needle in
        ["-qmp unix:/tmp/q.sock,server=on,wait=off -- bash", "wait-for '\\$ $'", "send-text", "screendump"]
    {
        assert!(help.contains(needle), "{needle:?} in:\n{help}");
    }
}

#[test]
fn a_log_added_and_removed_with_chardev_add_holds_what_came_between() {
    let console = Console::start(ECHO_LINES);
    let log = path_in(&console.dir, "late.log");
    console.ok(&["send-text", "before", "--enter"]);
    console.ok(&["wait-for", "^got:before$"]);
    assert_eq!(console.ok(&["chardev-add", &format!("file,id=late,path={log}")]), "");
    console.ok(&["send-text", "during", "--enter"]);
    console.ok(&["wait-for", "^got:during$"]);
    let table = console.ok(&["query", "chardev"]);
    assert!(table.lines().any(|l| l.starts_with("late ") && l.contains("file")), "{table}");
    assert_eq!(console.ok(&["chardev-remove", "late"]), "");
    console.ok(&["send-text", "after", "--enter"]);
    console.ok(&["wait-for", "^got:after$"]);
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "during\r\ngot:during\r\n");

    // A pty prints its path; mistakes are one line.
    let pty = console.ok(&["chardev-add", "pty,id=p"]);
    assert!(pty.starts_with("/dev/pts/") && pty.ends_with('\n'), "{pty:?}");
    assert_failed(&console.ctl(&["chardev-add", "file,id=p,path=x.log"]), 1, &["Duplicate ID 'p'"]);
    assert_failed(&console.ctl(&["chardev-remove", "nothing"]), 1, &["'nothing' not found"]);
    assert_failed(&console.ctl(&["chardev-add", "file,id=x"]), 2, &["'path=' is required"]);
    assert_failed(&console.ctl(&["chardev-add", "vc,id=x"]), 1, &["start-up"]);
    console.quit();
}

#[test]
fn a_recording_added_while_the_command_runs_has_the_vcs_size_and_what_came_after() {
    let console = Console::start(ECHO_LINES);
    let cast = path_in(&console.dir, "late.cast");
    console.ok(&["send-text", "before", "--enter"]);
    console.ok(&["wait-for", "^got:before$"]);
    assert_eq!(console.ok(&["chardev-add", &format!("asciicast,id=rec,path={cast},input=on")]), "");
    console.ok(&["send-text", "during", "--enter"]);
    console.ok(&["wait-for", "^got:during$"]);
    console.ok(&["chardev-remove", "rec"]);
    let text = std::fs::read_to_string(&cast).unwrap();
    let mut lines = text.lines().map(|l| serde_json::from_str::<Value>(l).expect("each line is JSON"));
    let header = lines.next().expect("a header");
    assert_eq!(
        (header["version"].as_u64(), header["width"].as_u64(), header["height"].as_u64()),
        (Some(2), Some(40), Some(8))
    );
    let events: Vec<Value> = lines.collect();
    let of = |kind: &str| -> String {
        events.iter().filter(|e| e[1] == kind).map(|e| e[2].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(of("o"), "during\r\ngot:during\r\n");
    assert_eq!(of("i"), "during\r");
    console.quit();
}

#[test]
fn share_prints_a_link_lists_it_and_unshare_takes_it_back() {
    let console = Console::start(ECHO_LINES);
    let line = console.vcmux.wait_log("WebSocket (noVNC) viewers welcome on 127.0.0.1:");
    let port = line.split("127.0.0.1:").nth(1).and_then(|r| r.split(';').next()).unwrap().to_string();
    let link = console.ok(&["share", "--view-only", "--expires", "1h", "--host", "console.example"]);
    let prefix = format!("http://console.example:{port}/#path=websockify%3Ftoken%3D");
    assert!(link.starts_with(&prefix) && link.ends_with("&view_only=true\n"), "{link:?}");
    let rw = console.ok(&["share", "--once"]);
    assert!(rw.starts_with(&format!("http://127.0.0.1:{port}/#path=")), "{rw:?}");
    let table = console.ok(&["share", "--list"]);
    let rows: Vec<Vec<&str>> = table.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows[0], ["id", "display", "access", "expires-in", "used", "viewers"], "{table}");
    assert_eq!((rows[1][0], rows[1][2], rows[1][4]), ("share1", "view-only", "0"), "{table}");
    assert!(rows[1][3].ends_with('s') && rows[1][3] != "never", "{table}");
    assert_eq!((rows[2][0], rows[2][2], rows[2][3]), ("share2", "read-write,once", "never"), "{table}");
    assert_eq!(console.ok(&["unshare", link.trim()]), "");
    assert_eq!(console.ok(&["unshare", "share2"]), "");
    assert_eq!(console.ok(&["share", "--list"]), "no share links\n");
    assert_failed(&console.ctl(&["unshare", "share2"]), 1, &["no share has this token or id"]);
    assert_failed(&console.ctl(&["share", "--expires", "soon"]), 2, &["--expires"]);
    assert_failed(&console.ctl(&["share", "--list", "--once"]), 2, &["--once"]);
    // Behind a proxy: the link starts with the page's URL as the proxy serves it.
    let proxied = console.ok(&["share", "--page", "https://gw.example/console/a/"]);
    assert!(proxied.starts_with("https://gw.example/console/a/#path=websockify%3Ftoken%3D"), "{proxied:?}");
    assert_failed(
        &console.ctl(&["share", "--page", "https://gw.example/console/a"]),
        1,
        &["must end with /"],
    );
    assert_failed(&console.ctl(&["share", "--page", "https://gw.example/a/", "--host", "x"]), 2, &["--host"]);
    console.quit();
}
