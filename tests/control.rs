//! The QMP control socket (`-qmp`) through the real binary, over a real unix
//! socket, with a fake QEMU as the console so that every byte on it is known:
//! every command, every error (each a QMP error object, the connection still
//! usable after it), screendumps equal to what a viewer and `vcmux render`
//! get, typing as a keyboard types, and waits for text; and what it tells:
//! VNC viewers coming and going (real RFB clients over TCP and unix sockets)
//! and the console's frontend going away and coming back, as events and in
//! `query-vnc`/`query-vnc-servers`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;
use serde_json::{Value, json};
use vcmux::frame::png;

/// A QMP client over a unix socket, as `qemu.qmp` or socat would be.
struct Qmp {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    /// Events that arrived while waiting for an answer.
    events: Vec<Value>,
}

impl Qmp {
    /// Connects and reads the greeting; `negotiate` sends `qmp_capabilities`.
    fn connect(path: &str, negotiate: bool) -> Qmp {
        let stream = connect(Path::new(path));
        let mut qmp =
            Qmp { reader: BufReader::new(stream.try_clone().unwrap()), writer: stream, events: Vec::new() };
        let greeting = qmp.read();
        assert!(greeting["QMP"]["version"]["qemu"].is_object(), "{greeting}");
        assert_eq!(greeting["QMP"]["capabilities"], json!([]));
        if negotiate {
            assert_eq!(qmp.execute("qmp_capabilities", json!({})), json!({"return": {}}));
        }
        qmp
    }

    fn read(&mut self) -> Value {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("vcmux answers");
        assert!(line.ends_with("\r\n"), "a QMP message is a line ending in CR LF: {line:?}");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
    }

    /// Everything until vcmux closes the connection (within 10 s).
    fn rest(&mut self) -> String {
        self.writer.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let mut rest = String::new();
        self.reader.read_to_string(&mut rest).expect("vcmux closes the connection");
        rest
    }

    /// Sends raw bytes and returns the next answer (events set aside).
    fn send_raw(&mut self, bytes: &[u8]) -> Value {
        self.writer.write_all(bytes).unwrap();
        loop {
            let message = self.read();
            if message.get("event").is_some() {
                self.events.push(message);
            } else {
                return message;
            }
        }
    }

    /// Runs a command; the answer without its `id`, which must echo the request's.
    fn execute(&mut self, command: &str, arguments: Value) -> Value {
        let request = json!({"execute": command, "arguments": arguments, "id": command});
        let mut answer = self.send_raw(format!("{request}\n").as_bytes());
        let id = answer.as_object_mut().unwrap().remove("id");
        assert_eq!(id, Some(json!(command)), "{answer}");
        answer
    }

    /// Waits for the event `name` (looking first among those set aside) and
    /// returns it; events before it are set aside.
    fn wait_event(&mut self, name: &str) -> Value {
        if let Some(at) = self.events.iter().position(|e| e["event"] == name) {
            return self.events.remove(at);
        }
        loop {
            let message = self.read();
            assert!(message.get("event").is_some(), "an answer nobody asked for: {message}");
            assert!(message["timestamp"]["seconds"].is_u64(), "an event has a timestamp: {message}");
            if message["event"] == name {
                return message;
            }
            self.events.push(message);
        }
    }

    /// Runs a command that must fail; its error class and description.
    fn error(&mut self, command: &str, arguments: Value) -> (String, String) {
        let answer = self.execute(command, arguments);
        let error = &answer["error"];
        assert!(error.is_object(), "{command} should have failed: {answer}");
        (error["class"].as_str().unwrap().to_string(), error["desc"].as_str().unwrap().to_string())
    }
}

/// Writes `bytes` to the console and waits until the vc has parsed them (it
/// answers a cursor position report only after everything before it).
fn feed_and_sync(console: &mut UnixStream, bytes: &[u8]) {
    console.write_all(bytes).unwrap();
    console.write_all(b"\x1b[6n").unwrap();
    let mut reply = Vec::new();
    let mut byte = [0u8; 1];
    while !reply.ends_with(b"R") {
        console.read_exact(&mut byte).expect("the vc answers the cursor position report");
        reply.push(byte[0]);
    }
}

/// A vc of 40x8 behind a fake QEMU, with a control socket and a VNC socket.
struct Setup {
    dir: tempfile::TempDir,
    console: UnixStream,
    vcmux: Vcmux,
    qmp_path: String,
}

fn setup() -> Setup {
    let dir = temp_dir();
    let qmp_path = path_in(&dir, "qmp.sock");
    let qmp = format!("unix:{qmp_path},server=on,wait=off");
    let vnc = format!("unix:{}", path_in(&dir, "vnc.sock"));
    let (qemu, vcmux) =
        start_on_fake_qemu(&dir, &["-chardev", "vc,id=v,cols=40,rows=8", "-vnc", &vnc, "-qmp", &qmp]);
    let console = qemu.accept();
    vcmux.wait_log("control socket (QMP): listening on");
    Setup { dir, console, vcmux, qmp_path }
}

#[test]
fn every_command_answers_in_qemus_shapes() {
    let mut s = setup();
    feed_and_sync(&mut s.console, b"\x1b[?25lboot\r\nlogin: ");
    let mut qmp = Qmp::connect(&s.qmp_path, false);

    // Nothing before negotiation, as QEMU.
    assert_eq!(qmp.error("query-status", json!({})).0, "CommandNotFound");
    assert_eq!(qmp.execute("qmp_capabilities", json!({})), json!({"return": {}}));
    assert_eq!(qmp.error("qmp_capabilities", json!({})).0, "CommandNotFound");

    let version = qmp.execute("query-version", json!({}));
    assert!(version["return"]["package"].as_str().unwrap().starts_with("vcmux "), "{version}");
    assert_eq!(
        qmp.execute("query-status", json!({}))["return"],
        json!({"running": true, "status": "running"})
    );
    let commands = qmp.execute("query-commands", json!({}));
    for name in ["screendump", "send-key", "x-vcmux-wait-for-text", "query-vnc", "query-vnc-servers", "quit"]
    {
        assert!(
            commands["return"].as_array().unwrap().contains(&json!({"name": name})),
            "{name}: {commands}"
        );
    }
    let chardevs = qmp.execute("query-chardev", json!({}));
    assert!(
        chardevs["return"]
            .as_array()
            .unwrap()
            .contains(&json!({"label": "v", "filename": "vc", "frontend-open": true})),
        "{chardevs}"
    );

    let txt = path_in(&s.dir, "screen.txt");
    assert_eq!(qmp.execute("screendump", json!({"filename": txt, "format": "txt"})), json!({"return": {}}));
    assert_eq!(std::fs::read_to_string(&txt).unwrap(), "boot\nlogin:\n\n\n\n\n\n\n");
    let ansi = path_in(&s.dir, "screen.ansi");
    assert_eq!(
        qmp.execute("screendump", json!({"filename": ansi, "format": "ansi", "device": "v"})),
        json!({"return": {}})
    );
    assert!(std::fs::read_to_string(&ansi).unwrap().starts_with("boot"));
    let ppm = path_in(&s.dir, "screen.ppm");
    assert_eq!(qmp.execute("screendump", json!({"filename": ppm})), json!({"return": {}}));
    let ppm = std::fs::read(&ppm).unwrap();
    assert!(ppm.starts_with(b"P6\n400 152\n255\n"), "{:?}", &ppm[..16]);
    assert_eq!(ppm.len(), "P6\n400 152\n255\n".len() + 400 * 152 * 3);

    let found =
        qmp.execute("x-vcmux-wait-for-text", json!({"pattern": ["password:", "log(in):"], "timeout": 5}));
    assert_eq!(
        found["return"],
        json!({"pattern": 1, "regex": "log(in):", "match": "login:", "before": "boot\n"})
    );
    let on_screen = qmp.execute("x-vcmux-wait-for-text", json!({"pattern": "^boot$", "mode": "screen"}));
    assert!(on_screen["return"].is_object(), "{on_screen}");
}

#[test]
fn every_error_is_a_qmp_error_and_the_connection_goes_on() {
    let s = setup();
    let mut qmp = Qmp::connect(&s.qmp_path, true);
    let file = path_in(&s.dir, "x.png");
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        ("no-such-command", json!({}), "CommandNotFound", "The command no-such-command has not been found"),
        ("screendump", json!({}), "GenericError", "Parameter 'filename' is missing"),
        (
            "screendump",
            json!({"filename": 7}),
            "GenericError",
            "Invalid parameter type for 'filename', expected: string",
        ),
        (
            "screendump",
            json!({"filename": file, "device": "nope"}),
            "DeviceNotFound",
            "Device 'nope' not found",
        ),
        (
            "screendump",
            json!({"filename": file, "format": "gif"}),
            "GenericError",
            "'format' does not accept value 'gif'",
        ),
        ("screendump", json!({"filename": file, "head": 1}), "GenericError", "no head 1"),
        (
            "screendump",
            json!({"filename": "/nonexistent/dir/x.png"}),
            "GenericError",
            "cannot write /nonexistent/dir/x.png",
        ),
        (
            "screendump",
            json!({"filename": file, "bogus": 1}),
            "GenericError",
            "Parameter 'bogus' is unexpected",
        ),
        ("query-status", json!({"bogus": 1}), "GenericError", "Parameter 'bogus' is unexpected"),
        ("query-vnc", json!({"bogus": 1}), "GenericError", "Parameter 'bogus' is unexpected"),
        ("query-vnc-servers", json!({"display": "v"}), "GenericError", "Parameter 'display' is unexpected"),
        ("send-key", json!({}), "GenericError", "Parameter 'keys' is missing"),
        ("send-key", json!({"keys": []}), "GenericError", "Parameter 'keys' is empty"),
        ("send-key", json!({"keys": [{"type": "qcode", "data": "nokey"}]}), "GenericError", "no key 'nokey'"),
        ("send-key", json!({"keys": [{"type": "number", "data": 28}]}), "GenericError", "scancodes"),
        ("send-key", json!({"keys": "ret"}), "GenericError", "Invalid parameter type for 'keys'"),
        ("x-vcmux-send-text", json!({}), "GenericError", "Parameter 'text' is missing"),
        (
            "x-vcmux-send-text",
            json!({"text": "x", "device": "nope"}),
            "DeviceNotFound",
            "Device 'nope' not found",
        ),
        ("x-vcmux-wait-for-text", json!({}), "GenericError", "Parameter 'pattern' is missing"),
        ("x-vcmux-wait-for-text", json!({"pattern": "("}), "GenericError", "pattern '(' is not a regex"),
        (
            "x-vcmux-wait-for-text",
            json!({"pattern": "x", "timeout": -1}),
            "GenericError",
            "'timeout' must be",
        ),
        (
            "x-vcmux-wait-for-text",
            json!({"pattern": "x", "timeout": "1"}),
            "GenericError",
            "expected: number",
        ),
        (
            "x-vcmux-wait-for-text",
            json!({"pattern": "x", "mode": "pixels"}),
            "GenericError",
            "'mode' does not accept",
        ),
        (
            "x-vcmux-wait-for-text",
            json!({"pattern": "never", "timeout": 0.2}),
            "GenericError",
            "timed out after 0.2 s",
        ),
    ];
    for (command, arguments, class, desc) in cases {
        let (got_class, got_desc) = qmp.error(command, arguments.clone());
        assert_eq!(got_class, class, "{command} {arguments}: {got_desc}");
        assert!(got_desc.contains(desc), "{command} {arguments}: {got_desc:?} lacks {desc:?}");
        // The connection is still good after every error.
        assert_eq!(qmp.execute("query-status", json!({}))["return"]["running"], json!(true));
    }
    // Requests that are not requests, in QEMU's words, without an id to echo.
    for (raw, desc) in [
        (&b"{\"execute\": ]\n"[..], "JSON parse error"),
        (b"[1, 2]\n", "QMP input must be a JSON object"),
        (b"{\"arguments\": {}}\n", "QMP input lacks member 'execute'"),
        (b"{\"execute\": \"quit\", \"extra\": 1}\n", "QMP input member 'extra' is unexpected"),
    ] {
        let answer = qmp.send_raw(raw);
        assert_eq!(answer["error"]["class"], json!("GenericError"), "{answer}");
        assert!(answer["error"]["desc"].as_str().unwrap().contains(desc), "{answer}");
    }
    assert_eq!(qmp.execute("query-status", json!({}))["return"]["running"], json!(true));
}

#[test]
fn a_screendump_is_the_pixels_a_viewer_gets_and_render_gives() {
    let mut s = setup();
    let bytes = b"\x1b[?25l\x1b[1;33mvcmux\x1b[0m screendump \x1b[44m box \x1b[0m\r\n\xe2\x94\x80\xe2\x94\xbc \xc3\xa4 \xce\xbb";
    feed_and_sync(&mut s.console, bytes);
    let mut qmp = Qmp::connect(&s.qmp_path, true);
    let dumped = path_in(&s.dir, "dump.png");
    assert_eq!(
        qmp.execute("screendump", json!({"filename": dumped, "format": "png"})),
        json!({"return": {}})
    );
    let dumped = png::decode(&std::fs::read(&dumped).unwrap()).unwrap().unwrap();

    let shot = path_in(&s.dir, "shot.png");
    let vnc = format!("unix:{}", path_in(&s.dir, "vnc.sock"));
    let status = Command::new(env!("CARGO_BIN_EXE_vcmux"))
        .args(["screenshot", &vnc, "-o", &shot])
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let shot = png::decode(&std::fs::read(&shot).unwrap()).unwrap().unwrap();
    assert_eq!((dumped.width(), dumped.height()), (shot.width(), shot.height()));
    assert!(dumped.pixels() == shot.pixels(), "screendump and the VNC screenshot differ");

    let input = path_in(&s.dir, "console.bin");
    std::fs::write(&input, bytes).unwrap();
    let rendered = path_in(&s.dir, "render.png");
    let status = Command::new(env!("CARGO_BIN_EXE_vcmux"))
        .args(["render", &input, "--cols", "40", "--rows", "8", "-o", &rendered])
        .status()
        .unwrap();
    assert!(status.success());
    let rendered = png::decode(&std::fs::read(&rendered).unwrap()).unwrap().unwrap();
    assert!(dumped.pixels() == rendered.pixels(), "screendump and vcmux render differ");
}

#[test]
fn text_and_keys_reach_the_console_as_a_keyboard_types_them() {
    let mut s = setup();
    let mut qmp = Qmp::connect(&s.qmp_path, true);
    assert_eq!(qmp.execute("x-vcmux-send-text", json!({"text": "ls -l\n"})), json!({"return": {}}));
    let keys = |names: &[&str]| json!({"keys": names.iter().map(|n| json!({"type": "qcode", "data": n})).collect::<Vec<_>>()});
    for combo in [&["ctrl", "c"][..], &["shift", "a"], &["up"], &["alt", "x"]] {
        assert_eq!(qmp.execute("send-key", keys(combo)), json!({"return": {}}));
    }
    let want = b"ls -l\r\x03A\x1b[A\x1bx";
    let mut got = vec![0u8; want.len()];
    s.console.read_exact(&mut got).expect("the typed bytes reach the console");
    assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&got));
}

#[test]
fn two_waits_in_a_row_for_text_printed_once_match_once() {
    let mut s = setup();
    feed_and_sync(&mut s.console, b"\x1b[32mready\x1b[0m\r\n");
    // Two clients one after the other, as two `vcmux ctl wait-for` runs: the
    // position belongs to the vc, not to the connection.
    let mut first = Qmp::connect(&s.qmp_path, true);
    let found = first.execute("x-vcmux-wait-for-text", json!({"pattern": "ready", "timeout": 5}));
    assert_eq!(found["return"]["match"], json!("ready"));
    drop(first);
    let mut second = Qmp::connect(&s.qmp_path, true);
    let (_, desc) = second.error("x-vcmux-wait-for-text", json!({"pattern": "ready", "timeout": 0.3}));
    assert!(desc.contains("timed out") && desc.contains("ready"), "{desc}");

    // Printed again, it matches again; text before a mark does not.
    feed_and_sync(&mut s.console, b"ready\r\n");
    assert!(
        second.execute("x-vcmux-wait-for-text", json!({"pattern": "ready", "timeout": 5}))["return"]
            .is_object()
    );
    feed_and_sync(&mut s.console, b"done\r\n");
    assert_eq!(second.execute("x-vcmux-mark-output", json!({})), json!({"return": {}}));
    assert!(
        second
            .error("x-vcmux-wait-for-text", json!({"pattern": "done", "timeout": 0.2}))
            .1
            .contains("timed out")
    );
    // A wait sees text that arrives while it waits (or just before it starts).
    let path = s.qmp_path.clone();
    let waiter = std::thread::spawn(move || {
        let mut third = Qmp::connect(&path, true);
        third.execute("x-vcmux-wait-for-text", json!({"pattern": "late (\\d+)", "timeout": 30}))
    });
    s.console.write_all(b"late 42\r\n").unwrap();
    assert_eq!(waiter.join().unwrap()["return"]["match"], json!("late 42"));
}

#[test]
fn many_clients_at_once_and_one_that_never_reads_holds_no_one_back() {
    let mut s = setup();
    // A client that connects and then neither reads nor writes.
    let _stuck = connect(Path::new(&s.qmp_path));
    let mut a = Qmp::connect(&s.qmp_path, true);
    let mut b = Qmp::connect(&s.qmp_path, false);
    assert_eq!(b.error("query-status", json!({})).0, "CommandNotFound");
    assert_eq!(a.execute("query-status", json!({}))["return"]["running"], json!(true));
    feed_and_sync(&mut s.console, b"still flowing\r\n");
    assert!(
        a.execute("x-vcmux-wait-for-text", json!({"pattern": "still flowing", "timeout": 5}))["return"]
            .is_object()
    );

    // quit answers, then vcmux stops cleanly.
    assert_eq!(a.execute("quit", json!({})), json!({"return": {}}));
    assert_eq!(s.vcmux.wait_exit(), 0);
}

#[test]
fn quit_answers_then_every_negotiated_client_gets_shutdown_then_the_end() {
    let mut s = setup();
    let mut quitter = Qmp::connect(&s.qmp_path, true);
    let mut other = Qmp::connect(&s.qmp_path, true);
    let mut unnegotiated = Qmp::connect(&s.qmp_path, false);
    // As QEMU (and as qemu.qmp's users wait for it): the answer, then the event.
    assert_eq!(quitter.execute("quit", json!({})), json!({"return": {}}));
    for (who, client) in [("the client that quit", &mut quitter), ("another client", &mut other)] {
        // (The frontend's OPENED may come first, from when it connected.)
        let event = loop {
            let event = client.read();
            if event["event"] != json!("X_VCMUX_FRONTEND_OPENED") {
                break event;
            }
        };
        assert_eq!(event["event"], json!("SHUTDOWN"), "{who}: {event}");
        assert_eq!(event["data"], json!({"guest": false, "reason": "host-qmp-quit"}), "{who}: {event}");
        assert!(event["timestamp"]["seconds"].as_u64().unwrap() > 0, "{who}: {event}");
        assert!(event["timestamp"]["microseconds"].is_u64(), "{who}: {event}");
        assert_eq!(client.rest(), "", "{who}: nothing after SHUTDOWN but the end");
    }
    assert_eq!(unnegotiated.rest(), "", "no event before negotiation, as QEMU");
    assert_eq!(s.vcmux.wait_exit(), 0);
}

#[test]
fn chardev_add_and_remove_mistakes_are_qmp_errors() {
    let s = setup();
    let mut qmp = Qmp::connect(&s.qmp_path, true);
    let log = |name: &str| path_in(&s.dir, name);
    let file = |id: &str, path: String| json!({"id": id, "backend": {"type": "file", "data": {"out": path}}});

    // A hub of one vc takes three more backends, and no fourth.
    for n in 1..=3 {
        let answer = qmp.execute("chardev-add", file(&format!("log{n}"), log(&format!("{n}.log"))));
        assert!(answer["return"]["x-vcmux-offset"].is_u64(), "{answer}");
    }
    let (class, desc) = qmp.error("chardev-add", file("log4", log("4.log")));
    assert_eq!(class, "GenericError");
    assert!(desc.contains("4 backends"), "{desc}");
    assert!(!Path::new(&log("4.log")).exists(), "a refused backend opens nothing");

    let mistakes = [
        (file("log1", log("again.log")), "Duplicate ID 'log1'"),
        (file("v", log("v.log")), "Duplicate ID 'v'"),
        (json!({"backend": {"type": "null"}}), "Parameter 'id' is missing"),
        (json!({"id": "x"}), "Parameter 'backend' is missing"),
        (
            json!({"id": "x", "backend": {"type": "file", "data": {"out": 7}}}),
            "'backend.data.out', expected: string",
        ),
        (json!({"id": "x", "backend": {"type": "teletype"}}), "'teletype'"),
        (
            json!({"id": "x", "backend": {"type": "null", "data": {"mux-be-id": "nohub"}}}),
            "'nohub' names no hub",
        ),
        (
            json!({"id": "x", "backend": {"type": "file", "data": {"out": "/nonexistent/dir/x.log"}}}),
            "/nonexistent/dir/x.log",
        ),
    ];
    // The hub is full: make room so that only the mistake can be refused.
    qmp.execute("chardev-remove", json!({"id": "log3"}));
    for (arguments, want) in mistakes {
        let (class, desc) = qmp.error("chardev-add", arguments.clone());
        assert_eq!(class, "GenericError", "{arguments}");
        assert!(desc.contains(want), "{arguments}: {desc}");
    }
    for (id, want) in
        [("log3", "'log3' not found"), ("nothing", "not found"), ("v", "busy"), ("hub0", "is a hub")]
    {
        let (class, desc) = qmp.error("chardev-remove", json!({"id": id}));
        assert_eq!(class, "GenericError");
        assert!(desc.contains(want), "{id}: {desc}");
    }
    assert_eq!(qmp.error("chardev-remove", json!({})).1, "Parameter 'id' is missing");

    // Still usable, and the list follows what was added and removed.
    let labels: Vec<String> = qmp.execute("query-chardev", json!({}))["return"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(labels, ["hub0", "v", "log1", "log2"]);
    let pty = qmp.execute("chardev-add", json!({"id": "p", "backend": {"type": "pty", "data": {}}}));
    let path = pty["return"]["pty"].as_str().unwrap_or_else(|| panic!("{pty}"));
    assert!(path.starts_with("/dev/pts/"), "{pty}");
    assert_eq!(qmp.execute("chardev-remove", json!({"id": "p"}))["return"]["x-vcmux-offset"], json!(0));
}

/// Everything between two console offsets of `whole`, checked against what a
/// hot-plugged backend got.
#[track_caller]
fn assert_between(what: &str, got: &[u8], whole: &[u8], attach: &Value, detach: &Value) {
    let (from, to) = (attach.as_u64().unwrap() as usize, detach.as_u64().unwrap() as usize);
    assert!(from <= to && to <= whole.len(), "{what}: offsets {from}..{to} of {}", whole.len());
    assert_same(what, got, &whole[from..to]);
}

#[test]
fn backends_added_and_removed_while_a_command_writes_64_mib_get_exactly_their_share() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    const TOTAL: usize = 64 << 20;
    const ROUNDS: usize = 10;
    /// How far the console may run ahead between two steps of a round.
    const STEP_BYTES: usize = 3 << 20;
    let dir = temp_dir();
    let qmp_path = path_in(&dir, "qmp.sock");
    let keep_path = path_in(&dir, "keep.sock");
    let all_path = path_in(&dir, "all.log");
    let source = path_in(&dir, "source.bin");
    // A raw terminal passes bytes as they are; the command ends once it is
    // told to (a line typed on the kept socket), after every byte was read.
    let script = format!("stty raw -echo; head -c {TOTAL} /dev/urandom | tee {source}; read end");
    let mut vcmux = Vcmux::start(&[
        "-chardev",
        &format!("socket,id=keep,path={keep_path},server=on,wait=on,lag=0"),
        "-chardev",
        &format!("file,id=all,path={all_path}"),
        "-qmp",
        &format!("unix:{qmp_path},server=on,wait=off"),
        "--",
        "sh",
        "-c",
        &script,
    ]);
    vcmux.wait_log("control socket (QMP): listening on");
    vcmux.wait_log("keep: listening on");
    let mut qmp = Qmp::connect(&qmp_path, true);
    let mut keep = connect(Path::new(&keep_path));

    // The kept socket's reader takes only what the test allows: the hub
    // waits for it, and the command for the hub, so that each attach and
    // detach lands while the command is writing.
    let allowed = Arc::new(AtomicUsize::new(STEP_BYTES));
    let kept = Arc::new(AtomicUsize::new(0));
    let keep_reader = {
        let (allowed, kept) = (allowed.clone(), kept.clone());
        let mut keep = keep.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut copy = Vec::with_capacity(TOTAL);
            let mut buffer = vec![0u8; 1 << 16];
            while copy.len() < TOTAL {
                poll_until("the test allows more", || allowed.load(Ordering::Acquire) > copy.len());
                let room = (allowed.load(Ordering::Acquire) - copy.len()).min(buffer.len());
                let n = keep.read(&mut buffer[..room]).expect("read the kept socket");
                assert!(n > 0, "the kept socket ended after {} bytes", copy.len());
                copy.extend_from_slice(&buffer[..n]);
                kept.store(copy.len(), Ordering::Release);
            }
            copy
        })
    };
    let step = |target: usize| {
        allowed.store(target.min(TOTAL), Ordering::Release);
        // Reached, less what a chunk or two in flight may hold back.
        poll_until("the kept socket reads on", || {
            kept.load(Ordering::Acquire) + (2 << 20) >= target.min(TOTAL)
        });
    };

    let mut plugged = Vec::new();
    for round in 0..ROUNDS {
        let file = path_in(&dir, &format!("added{round}.log"));
        let socket = path_in(&dir, &format!("added{round}.sock"));
        let (file_id, socket_id) = (format!("file{round}"), format!("sock{round}"));
        let file_add = qmp.execute(
            "chardev-add",
            json!({"id": file_id, "backend": {"type": "file", "data": {"out": file}}}),
        );
        let socket_add = qmp.execute(
            "chardev-add",
            json!({"id": socket_id, "backend": {"type": "socket", "data": {
                "addr": {"type": "unix", "data": {"path": socket}}, "server": true, "wait": false,
                "lag": 0}}}),
        );
        let client = read_to_end_in_thread(connect(Path::new(&socket)));
        step((2 * round + 2) * STEP_BYTES);
        let file_remove = qmp.execute("chardev-remove", json!({"id": file_id}));
        let socket_remove = qmp.execute("chardev-remove", json!({"id": socket_id}));
        plugged.push((file, file_add, file_remove, client, socket_add, socket_remove));
        step((2 * round + 3) * STEP_BYTES);
    }
    allowed.store(TOTAL, Ordering::Release);
    let copy = keep_reader.join().unwrap();
    keep.write_all(b"\n").unwrap();
    assert_eq!(vcmux.wait_exit(), 0, "{}", vcmux.log());

    let data = std::fs::read(&source).unwrap();
    assert_eq!(data.len(), TOTAL);
    assert_same("the socket attached throughout", &copy, &data);
    assert_same("the file attached throughout", &std::fs::read(&all_path).unwrap(), &data);
    for (round, (file, file_add, file_remove, client, socket_add, socket_remove)) in
        plugged.into_iter().enumerate()
    {
        let (attach, detach) =
            (&file_add["return"]["x-vcmux-offset"], &file_remove["return"]["x-vcmux-offset"]);
        assert_between(&format!("added file {round}"), &std::fs::read(&file).unwrap(), &data, attach, detach);
        assert!(detach.as_u64() > attach.as_u64(), "round {round}: bytes flowed while attached");
        assert!(detach.as_u64() < Some(TOTAL as u64), "round {round}: detached before the end");
        // A socket drops what comes before its client: it holds a tail of its share.
        let (attach, detach) =
            (&socket_add["return"]["x-vcmux-offset"], &socket_remove["return"]["x-vcmux-offset"]);
        let got = client.join().unwrap();
        let (from, to) = (attach.as_u64().unwrap() as usize, detach.as_u64().unwrap() as usize);
        assert!(got.len() <= to - from, "added socket {round}: more than its share");
        assert_same(&format!("added socket {round}"), &got, &data[to - got.len()..to]);
    }
}

/// A vc behind a fake QEMU with a control socket, a VNC server on a free
/// loopback port (`-vnc 127.0.0.1::PORT` and `tcp_options`, where `DIR` is
/// the test's directory) and another on a unix socket; and the port.
fn setup_tcp(tcp_options: &str, files: &[(&str, &str)]) -> (Setup, u16) {
    for _attempt in 0..5 {
        let dir = temp_dir();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let port = free_port();
        let qmp_path = path_in(&dir, "qmp.sock");
        let qmp = format!("unix:{qmp_path},server=on,wait=off");
        let tcp = format!("127.0.0.1::{port}{tcp_options}").replace("DIR", &dir.path().display().to_string());
        let unix = format!("unix:{}", path_in(&dir, "vnc.sock"));
        let (qemu, vcmux) = start_on_fake_qemu(
            &dir,
            &["-chardev", "vc,id=v,cols=40,rows=8", "-vnc", &tcp, "-vnc", &unix, "-qmp", &qmp],
        );
        poll_until("vcmux listens for viewers or says why not", || {
            vcmux.log().contains("VNC viewers welcome on 127.0.0.1") || vcmux.log().contains("cannot listen")
        });
        if vcmux.log().contains("cannot listen") {
            // Someone took the port meanwhile.
            continue;
        }
        let console = qemu.accept();
        vcmux.wait_log("control socket (QMP): listening on");
        return (Setup { dir, console, vcmux, qmp_path }, port);
    }
    panic!("no free loopback port in five tries");
}

/// A viewer speaking RFB 3.8 by hand: the server's version, then (with
/// [`finish_handshake`]) everything up to ServerInit.
fn start_handshake(stream: &mut (impl Read + Write)) {
    let mut version = [0u8; 12];
    stream.read_exact(&mut version).expect("the server's RFB version");
    assert_eq!(&version, b"RFB 003.008\n");
}

/// Security (None, or VNC authentication with `password`), ClientInit
/// (shared) and ServerInit.
fn finish_handshake(stream: &mut (impl Read + Write), password: Option<&str>) {
    stream.write_all(b"RFB 003.008\n").unwrap();
    let mut count = [0u8; 1];
    stream.read_exact(&mut count).unwrap();
    let mut types = vec![0u8; usize::from(count[0])];
    stream.read_exact(&mut types).unwrap();
    let wanted = if password.is_some() { 2 } else { 1 };
    assert!(types.contains(&wanted), "security types {types:?}");
    stream.write_all(&[wanted]).unwrap();
    if let Some(password) = password {
        let mut challenge = [0u8; 16];
        stream.read_exact(&mut challenge).unwrap();
        stream.write_all(&vcmux::rfb::auth::response(password.as_bytes(), &challenge)).unwrap();
    }
    let mut result = [0u8; 4];
    stream.read_exact(&mut result).unwrap();
    assert_eq!(result, [0; 4], "the security handshake failed");
    stream.write_all(&[1]).unwrap();
    let mut init = [0u8; 24];
    stream.read_exact(&mut init).unwrap();
    let mut name = vec![0u8; u32::from_be_bytes([init[20], init[21], init[22], init[23]]) as usize];
    stream.read_exact(&mut name).unwrap();
}

/// A TCP viewer with deadlines on its reads and writes, and its local port.
fn tcp_viewer(port: u16) -> (std::net::TcpStream, u16) {
    let stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(STEP)).unwrap();
    stream.set_write_timeout(Some(STEP)).unwrap();
    let local = stream.local_addr().unwrap().port();
    (stream, local)
}

/// The clients `query-vnc` lists, as (service, view-only).
fn listed(qmp: &mut Qmp) -> Vec<(String, bool)> {
    let answer = qmp.execute("query-vnc", json!({}));
    answer["return"]["clients"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|c| {
            assert_eq!(
                (&c["host"], &c["family"], &c["websocket"]),
                (&json!("127.0.0.1"), &json!("ipv4"), &json!(false))
            );
            (c["service"].as_str().unwrap().to_string(), c["x-vcmux-view-only"].as_bool().unwrap())
        })
        .collect()
}

#[test]
fn viewers_coming_and_going_are_qemus_events_and_query_vnc_lists_them_live() {
    let files = [("pw", "secret\n"), ("ro", "watch\n")];
    let (s, port) = setup_tcp(",password-file=DIR/pw,viewonly-password-file=DIR/ro", &files);
    let mut qmp = Qmp::connect(&s.qmp_path, true);
    let server = json!({"host": "127.0.0.1", "service": port.to_string(), "family": "ipv4", "websocket": false, "auth": "vnc"});
    assert_eq!(
        qmp.execute("query-vnc", json!({}))["return"],
        json!({"enabled": true, "host": "127.0.0.1", "service": port.to_string(), "family": "ipv4", "auth": "vnc", "clients": []})
    );

    // Connected: listed at once (as QEMU, before its handshake), told with its address.
    let (mut typist, typist_port) = tcp_viewer(port);
    start_handshake(&mut typist);
    let connected = qmp.wait_event("VNC_CONNECTED");
    let client = json!({"host": "127.0.0.1", "service": typist_port.to_string(), "family": "ipv4", "websocket": false});
    assert_eq!(connected["data"], json!({"server": server, "client": client}), "{connected}");
    assert_eq!(listed(&mut qmp), [(typist_port.to_string(), false)]);

    // Initialized once ServerInit is out, with whether it only watches.
    finish_handshake(&mut typist, Some("secret"));
    let initialized = qmp.wait_event("VNC_INITIALIZED");
    let mut client = client.as_object().unwrap().clone();
    client.insert("x-vcmux-view-only".into(), json!(false));
    assert_eq!(initialized["data"], json!({"server": server, "client": client}), "{initialized}");

    // A viewer with the view-only password shows as view-only.
    let (mut watcher, watcher_port) = tcp_viewer(port);
    start_handshake(&mut watcher);
    finish_handshake(&mut watcher, Some("watch"));
    let initialized = qmp.wait_event("VNC_INITIALIZED");
    assert_eq!(initialized["data"]["client"]["service"], json!(watcher_port.to_string()));
    assert_eq!(initialized["data"]["client"]["x-vcmux-view-only"], json!(true));
    assert_eq!(listed(&mut qmp), [(typist_port.to_string(), false), (watcher_port.to_string(), true)]);

    // Gone: told, and no longer listed.
    drop(typist);
    let disconnected = qmp.wait_event("VNC_DISCONNECTED");
    assert_eq!(disconnected["data"], json!({"server": server, "client": client}), "{disconnected}");
    assert_eq!(listed(&mut qmp), [(watcher_port.to_string(), true)]);
    drop(watcher);
    let disconnected = qmp.wait_event("VNC_DISCONNECTED");
    assert_eq!(disconnected["data"]["client"]["service"], json!(watcher_port.to_string()));
    assert_eq!(listed(&mut qmp), []);

    // Every -vnc, with QEMU's ids; a unix listener is its path, a unix client nameless.
    let unix_path = path_in(&s.dir, "vnc.sock");
    let mut local = connect(Path::new(&unix_path));
    start_handshake(&mut local);
    finish_handshake(&mut local, None);
    let initialized = qmp.wait_event("VNC_INITIALIZED");
    let unix_server =
        json!({"host": "", "service": unix_path, "family": "unix", "websocket": false, "auth": "none"});
    let unix_client =
        json!({"host": "", "service": "", "family": "unix", "websocket": false, "x-vcmux-view-only": false});
    assert_eq!(initialized["data"], json!({"server": unix_server, "client": unix_client}));
    assert_eq!(
        qmp.execute("query-vnc-servers", json!({}))["return"],
        json!([
            {"id": "default", "auth": "vnc", "server": [server], "clients": [], "display": "v"},
            {"id": "vnc2", "auth": "none", "server": [unix_server], "clients": [unix_client], "display": "v"},
        ])
    );
}

#[test]
fn the_frontend_going_away_and_coming_back_are_events() {
    let dir = temp_dir();
    let qemu_path = dir.path().join("qemu.sock");
    let qmp_path = path_in(&dir, "qmp.sock");
    // QEMU is not there yet: vcmux tries again every second (reconnect=1).
    let vcmux = Vcmux::start(&[
        "-frontend",
        &format!("socket,path={},reconnect=1", qemu_path.display()),
        "-chardev",
        "vc,id=v",
        "-vnc",
        &format!("unix:{}", path_in(&dir, "vnc.sock")),
        "-qmp",
        &format!("unix:{qmp_path},server=on,wait=off"),
    ]);
    vcmux.wait_log("control socket (QMP): listening on");
    let mut qmp = Qmp::connect(&qmp_path, true);
    let qemu = FakeQemu::listen(&qemu_path);
    let first = qemu.accept();
    let opened = qmp.wait_event("X_VCMUX_FRONTEND_OPENED");
    let hub = opened["data"]["hub"].clone();
    assert!(hub.as_str().is_some_and(|h| !h.is_empty()), "{opened}");
    assert_eq!(opened["data"], json!({"hub": hub}));

    // QEMU goes away…
    drop(first);
    assert_eq!(qmp.wait_event("X_VCMUX_FRONTEND_CLOSED")["data"], json!({"hub": hub}));
    // …and comes back.
    let _second = qemu.accept();
    assert_eq!(qmp.wait_event("X_VCMUX_FRONTEND_OPENED")["data"], json!({"hub": hub}));
}

#[test]
fn qemus_long_form_mon_with_a_socket_chardev_is_a_control_socket() {
    let dir = temp_dir();
    let path = path_in(&dir, "mon.sock");
    let vnc = format!("unix:{}", path_in(&dir, "vnc.sock"));
    let (qemu, vcmux) = start_on_fake_qemu(
        &dir,
        &[
            "-chardev",
            &format!("socket,id=mon0,path={path},server=on,wait=off"),
            "-mon",
            "chardev=mon0,mode=control",
            "-chardev",
            "vc,id=v,cols=40,rows=8",
            "-vnc",
            &vnc,
        ],
    );
    let _console = qemu.accept();
    vcmux.wait_log("control socket (QMP): listening on");
    let mut qmp = Qmp::connect(&path, true);
    // The monitor is no backend: the hub has the vc alone.
    let labels: Vec<Value> = qmp.execute("query-chardev", json!({}))["return"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].clone())
        .collect();
    assert_eq!(labels, [json!("hub0"), json!("v")]);
}
