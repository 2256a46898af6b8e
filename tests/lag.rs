//! `lag=SIZE` with real peers: a real `socat` reading a socket backend is
//! stopped (SIGSTOP) while a command prints 64 MiB through vcmux, with a vc,
//! a file log and a control socket. By default the console runs on and the
//! stopped client is cut off; with `lag=0` it holds the console back, as in
//! QEMU.

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use common::*;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// What these tests ask of the console over QMP.
impl Qmp {
    /// Types `text` into the console through the vc's keyboard.
    fn type_text(&mut self, text: &str) {
        assert_eq!(self.execute("x-vcmux-send-text", json!({"text": text})), json!({"return": {}}));
    }

    /// Waits until the vc has shown `pattern` in its output; the answer.
    fn wait_for_text(&mut self, pattern: &str, timeout: u64) -> Value {
        self.execute(
            "x-vcmux-wait-for-text",
            json!({"pattern": pattern, "mode": "stream", "timeout": timeout}),
        )
    }
}

/// The console: a command that says `READY` once its terminal is set, waits
/// for a line, prints `mib` MiB of base64
/// (random, so every run differs; printable, so the vc answers no queries)
/// and keeps a copy in `truth`, says `FLOOD-DONE`, then echoes one typed line
/// and ends at the next. Its terminal passes bytes as they are (no CR added).
fn flood_script(mib: usize, truth: &str) -> String {
    let random = mib * 3 / 4;
    format!(
        "stty -opost -echo; echo READY; read go; head -c {random}M /dev/urandom | base64 -w 76 | tee {truth}; \
         echo FLOOD-DONE; read x; echo AFTER-$x; read end"
    )
}

/// A real `socat` that copies the socket backend at `sock` into `out`, and
/// only that way (`-u`), so that stopping it stops the socket being read.
fn start_socat(sock: &str, out: &str) -> Child {
    Command::new("socat")
        .args(["-u", &format!("UNIX-CONNECT:{sock}"), "STDOUT"])
        .stdin(Stdio::null())
        .stdout(File::create(out).unwrap())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("socat is installed (apt-get install socat)")
}

fn signal(child: &Child, signal: Signal) {
    kill(Pid::from_raw(child.id() as i32), signal).expect("signal socat");
}

/// Waits for `child` to exit, within [`STEP`].
fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let mut status = None;
    poll_until("socat exits", || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    status.unwrap()
}

/// vcmux with a socket backend `s` (its extra options `socket_opts`), a file
/// log, a vc on a unix VNC socket and a control socket, running `script`.
fn start(dir: &tempfile::TempDir, socket_opts: &str, script: &str) -> Vcmux {
    let vcmux = Vcmux::start(&[
        "-chardev",
        &format!("socket,id=s,path={},server=on,wait=off{socket_opts}", path_in(dir, "s.sock")),
        "-chardev",
        &format!("file,id=log,path={}", path_in(dir, "console.log")),
        "-chardev",
        "vc,id=vc0",
        "-vnc",
        &format!("unix:{}", path_in(dir, "vnc.sock")),
        "-qmp",
        &format!("unix:{},server=on,wait=off", path_in(dir, "qmp.sock")),
        "--",
        "sh",
        "-c",
        script,
    ]);
    vcmux.wait_log("control socket (QMP): listening on");
    vcmux.wait_log("s: listening on");
    vcmux
}

/// Connects a real socat and stops it once vcmux has taken it as the peer.
fn stopped_socat(vcmux: &Vcmux, sock: &str, out: &str) -> Child {
    let socat = start_socat(sock, out);
    vcmux.wait_log(&format!("s: unix:{sock} connected"));
    signal(&socat, Signal::SIGSTOP);
    socat
}

#[test]
fn a_stopped_socat_is_cut_off_and_the_console_runs_on_then_it_rejoins_at_the_current_position() {
    let dir = temp_dir();
    let (sock, log, truth) = (path_in(&dir, "s.sock"), path_in(&dir, "console.log"), path_in(&dir, "truth"));
    let mut vcmux = start(&dir, "", &flood_script(64, &truth));
    let mut qmp = Qmp::connect(path_in(&dir, "qmp.sock"));
    let mut socat = stopped_socat(&vcmux, &sock, &path_in(&dir, "socat.out"));

    // 64 MiB while socat reads nothing.
    assert!(qmp.wait_for_text("READY", STEP.as_secs() - 10)["return"].is_object());
    let started = Instant::now();
    qmp.type_text("go\n");
    let lagged = qmp.wait_event("X_VCMUX_BACKEND_LAGGED");
    assert_eq!(lagged["data"]["id"], "s", "{lagged}");
    assert_eq!(lagged["data"]["lag"], 8 << 20, "{lagged}");
    let dropped = lagged["data"]["dropped"].as_u64().unwrap();
    assert!(dropped > 0 && dropped <= 8 << 20, "{lagged}");

    // The vc sees the end, and the log has every byte, with socat still stopped.
    let answer = qmp.wait_for_text("FLOOD-DONE", STEP.as_secs() - 10);
    assert!(answer["return"].is_object(), "the vc never saw the end: {answer}");
    let truth_bytes = std::fs::read(&truth).unwrap();
    assert!(truth_bytes.len() >= 64 << 20, "the command printed {} bytes", truth_bytes.len());
    let mut want = b"READY\n".to_vec();
    want.extend_from_slice(&truth_bytes);
    want.extend_from_slice(b"FLOOD-DONE\n");
    let deadline = Instant::now() + STEP;
    while file_len(&log) < want.len() as u64 {
        assert!(
            Instant::now() < deadline,
            "the log has {} of {} bytes; vcmux's log:\n{}",
            file_len(&log),
            want.len(),
            vcmux.log()
        );
        std::thread::park_timeout(std::time::Duration::from_millis(5));
    }
    let logged = std::fs::read(&log).unwrap();
    assert_eq!(Sha256::digest(&logged), Sha256::digest(&want), "the log's SHA-256");
    assert!(socat.try_wait().unwrap().is_none(), "socat is still there, stopped");
    eprintln!("64 MiB reached the vc and the log in {:?} with socat stopped", started.elapsed());
    assert_eq!(vcmux.count_log("s fell"), 1, "one warning: {}", vcmux.log());
    let warning = vcmux.wait_log("s fell");
    assert!(warning.contains("WARN") && warning.contains("lag=8388608"), "{warning}");

    // Resumed, socat finds its connection closed: it gets what the kernel held
    // for it, a start of the stream, and ends.
    signal(&socat, Signal::SIGCONT);
    assert!(wait_exit(&mut socat).success());
    let got = std::fs::read(path_in(&dir, "socat.out")).unwrap();
    assert!(got.len() < want.len() - (8 << 20), "socat got {} of {} bytes", got.len(), want.len());
    // It connected just before or just after the command said READY.
    let from = if got.starts_with(b"READY\n") { 0 } else { b"READY\n".len() };
    assert_same("what socat got before it was cut off", &got, &want[from..from + got.len()]);

    // A client that connects again starts at the current position: the next
    // line the console prints, and nothing of the flood.
    let mut again = connect(Path::new(&sock));
    poll_until("vcmux takes the new client", || vcmux.count_log(&format!("s: unix:{sock} connected")) == 2);
    again.write_all(b"again\n").unwrap();
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    while !seen.ends_with(b"AFTER-again\n") {
        let n = again.read(&mut buffer).expect("the new client reads the console");
        assert!(n > 0, "the new client's connection ended after {seen:?}");
        seen.extend_from_slice(&buffer[..n]);
    }
    assert_eq!(seen, b"AFTER-again\n", "the new client gets only what came after it connected");

    again.write_all(b"end\n").unwrap();
    assert_eq!(vcmux.wait_exit(), 0);
    want.extend_from_slice(b"AFTER-again\n");
    assert_same("the log", &std::fs::read(&log).unwrap(), &want);
    let (written, dropped_in_all) = vcmux.backend_figures("s");
    assert_eq!(written, (got.len() + seen.len()) as u64, "written: what the two clients got");
    assert!(dropped_in_all >= dropped, "{written} written, {dropped_in_all} dropped");
    assert_eq!(written + dropped_in_all, want.len() as u64, "every byte written or dropped, once");
}

#[test]
fn with_lag_0_a_stopped_socat_holds_the_console_back_until_it_reads_again() {
    let dir = temp_dir();
    let (sock, log, truth) = (path_in(&dir, "s.sock"), path_in(&dir, "console.log"), path_in(&dir, "truth"));
    let mut vcmux = start(&dir, ",lag=0", &flood_script(16, &truth));
    let mut qmp = Qmp::connect(path_in(&dir, "qmp.sock"));
    let out = path_in(&dir, "socat.out");
    let mut socat = stopped_socat(&vcmux, &sock, &out);

    assert!(qmp.wait_for_text("READY", STEP.as_secs() - 10)["return"].is_object());
    qmp.type_text("go\n");
    // A bounded wait for the end, which must not come while socat is stopped.
    let answer = qmp.wait_for_text("FLOOD-DONE", 3);
    assert!(answer["error"].is_object(), "the flood ended past a stopped reader: {answer}");
    let held = file_len(&log);
    assert!(held < 8 << 20, "{held} bytes reached the log while socat read nothing");
    assert!(!qmp.heard("X_VCMUX_BACKEND_LAGGED"), "{:?}", qmp.events);

    // Reading again, socat gets everything, and so does everyone else.
    signal(&socat, Signal::SIGCONT);
    let answer = qmp.wait_for_text("FLOOD-DONE", STEP.as_secs() - 10);
    assert!(answer["return"].is_object(), "{answer}");
    qmp.type_text("x\n");
    qmp.type_text("end\n");
    assert_eq!(vcmux.wait_exit(), 0);
    assert!(wait_exit(&mut socat).success());
    let mut want = b"READY\n".to_vec();
    want.extend_from_slice(&std::fs::read(&truth).unwrap());
    want.extend_from_slice(b"FLOOD-DONE\nAFTER-x\n");
    assert_same("the log", &std::fs::read(&log).unwrap(), &want);
    // It connected just before or just after the command said READY, and
    // got everything from there on.
    let copy = std::fs::read(&out).unwrap();
    assert!(copy.len() + b"READY\n".len() >= want.len(), "socat got {} of {} bytes", copy.len(), want.len());
    assert_same("socat's copy", &copy, &want[want.len() - copy.len()..]);
    assert_eq!(vcmux.backend_figures("s"), (copy.len() as u64, (want.len() - copy.len()) as u64));
    assert!(!qmp.heard("X_VCMUX_BACKEND_LAGGED"));
    assert_eq!(vcmux.count_log("s fell"), 0);
}

#[test]
fn a_client_that_connects_after_a_cut_with_replay_gets_the_last_bytes_then_the_stream() {
    const REPLAY: usize = 64 << 10;
    let dir = temp_dir();
    let (sock, log, truth) = (path_in(&dir, "s.sock"), path_in(&dir, "console.log"), path_in(&dir, "truth"));
    let mut vcmux = start(&dir, ",lag=1M,replay=64K", &flood_script(16, &truth));
    let mut qmp = Qmp::connect(path_in(&dir, "qmp.sock"));
    let mut socat = stopped_socat(&vcmux, &sock, &path_in(&dir, "socat.out"));
    assert!(qmp.wait_for_text("READY", STEP.as_secs() - 10)["return"].is_object());
    qmp.type_text("go\n");
    let lagged = qmp.wait_event("X_VCMUX_BACKEND_LAGGED");
    assert_eq!((&lagged["data"]["id"], &lagged["data"]["lag"]), (&json!("s"), &json!(1 << 20)), "{lagged}");
    assert!(qmp.wait_for_text("FLOOD-DONE", STEP.as_secs() - 10)["return"].is_object());

    // The bytes kept for replay are those the backend was handed, dropped by
    // the cut or not: the new client gets the last of them, then what follows.
    let mut again = connect(Path::new(&sock));
    poll_until("vcmux takes the new client", || vcmux.count_log(&format!("s: unix:{sock} connected")) == 2);
    again.write_all(b"again\n").unwrap();
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    while !seen.ends_with(b"AFTER-again\n") {
        let n = again.read(&mut buffer).expect("the new client reads the console");
        assert!(n > 0, "the new client's connection ended after {} bytes", seen.len());
        seen.extend_from_slice(&buffer[..n]);
    }
    again.write_all(b"end\n").unwrap();
    assert_eq!(vcmux.wait_exit(), 0);
    signal(&socat, Signal::SIGCONT);
    assert!(wait_exit(&mut socat).success());
    let logged = std::fs::read(&log).unwrap();
    assert!(logged.ends_with(b"FLOOD-DONE\nAFTER-again\n"));
    assert_eq!(seen.len(), REPLAY + b"AFTER-again\n".len(), "the replay, then the live line");
    assert_same("the new client's copy", &seen, &logged[logged.len() - seen.len()..]);
}

#[test]
fn a_stopped_socat_within_its_lag_does_not_hold_vcmuxs_exit() {
    let dir = temp_dir();
    let (sock, log, truth) = (path_in(&dir, "s.sock"), path_in(&dir, "console.log"), path_in(&dir, "truth"));
    // 4 MiB: far more than the socket's kernel buffer, less than the 8M lag,
    // so the stopped client is never cut off while the command runs.
    let mut vcmux = start(&dir, "", &flood_script(4, &truth));
    let mut qmp = Qmp::connect(path_in(&dir, "qmp.sock"));
    let mut socat = stopped_socat(&vcmux, &sock, &path_in(&dir, "socat.out"));
    assert!(qmp.wait_for_text("READY", STEP.as_secs() - 10)["return"].is_object());
    qmp.type_text("go\n");
    assert!(qmp.wait_for_text("FLOOD-DONE", STEP.as_secs() - 10)["return"].is_object());
    qmp.type_text("x\n");
    qmp.type_text("end\n");

    // The command has ended: vcmux waits a while for the stopped client, then
    // lets it go and exits, the log whole.
    assert_eq!(vcmux.wait_exit(), 0);
    assert!(socat.try_wait().unwrap().is_none(), "socat is still there, stopped");
    let warning = vcmux.wait_log("s took nothing for");
    assert!(warning.contains("WARN") && warning.contains("while closing"), "{warning}");
    assert!(!qmp.heard("X_VCMUX_BACKEND_LAGGED"), "never cut off for its lag: {:?}", qmp.events);
    let mut want = b"READY\n".to_vec();
    want.extend_from_slice(&std::fs::read(&truth).unwrap());
    want.extend_from_slice(b"FLOOD-DONE\nAFTER-x\n");
    assert_same("the log", &std::fs::read(&log).unwrap(), &want);
    let (written, dropped) = vcmux.backend_figures("s");
    assert!(dropped > 0, "what the stopped client held counts dropped: {written} written");
    assert!(written + dropped <= want.len() as u64, "{written} + {dropped} of {}", want.len());

    // Resumed, socat gets what the kernel held for it, a start of the stream.
    signal(&socat, Signal::SIGCONT);
    assert!(wait_exit(&mut socat).success());
    let got = std::fs::read(path_in(&dir, "socat.out")).unwrap();
    assert_eq!(got.len() as u64, written, "socat got what vcmux wrote");
}
