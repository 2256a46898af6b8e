//! Shared helpers for the black-box tests: run the real `vcmux` binary, read its
//! log as it is written, stand in for QEMU on a unix socket, and wait for
//! conditions with deadlines (never for fixed times).

#![allow(dead_code)] // each test binary uses its own subset

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rand::Rng;

/// How long any one step of a test may take before it fails; generous, because
/// CI is a loaded 2-core machine.
pub const STEP: Duration = Duration::from_secs(60);

/// vcmux's stderr as read so far.
#[derive(Default)]
struct Log {
    lines: Vec<String>,
    /// stderr reached its end: vcmux has exited and every line is here.
    closed: bool,
}

/// A running `vcmux` with its log captured line by line.
pub struct Vcmux {
    pid: u32,
    log: Arc<(Mutex<Log>, Condvar)>,
    exit: mpsc::Receiver<ExitStatus>,
    status: Option<ExitStatus>,
}

impl Vcmux {
    /// Starts `vcmux ARGS…` with logs at info level.
    pub fn start(args: &[&str]) -> Vcmux {
        Self::start_with(args, |_| {})
    }

    /// Starts vcmux after letting `setup` adjust the command (stdin, environment).
    pub fn start_with(args: &[&str], setup: impl FnOnce(&mut Command)) -> Vcmux {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vcmux"));
        command.args(args).env("RUST_LOG", "info").stdin(Stdio::null()).stdout(Stdio::null());
        command.stderr(Stdio::piped());
        setup(&mut command);
        let mut child = command.spawn().expect("vcmux starts");
        let pid = child.id();
        let log = Arc::new((Mutex::new(Log::default()), Condvar::new()));
        let stderr = child.stderr.take().expect("stderr is piped");
        let sink = log.clone();
        thread::spawn(move || {
            let (log, changed) = &*sink;
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                log.lock().unwrap().lines.push(line);
                changed.notify_all();
            }
            log.lock().unwrap().closed = true;
            changed.notify_all();
        });
        let (exit_tx, exit) = mpsc::channel();
        thread::spawn(move || {
            if let Ok(status) = wait_child(&mut child) {
                let _ = exit_tx.send(status);
            }
        });
        Vcmux { pid, log, exit, status: None }
    }

    /// The process id, to read its memory and open files in `/proc`.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Waits for a log line containing `needle` and returns it.
    pub fn wait_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + STEP;
        let (log, changed) = &*self.log;
        let mut guard = log.lock().unwrap();
        loop {
            if let Some(line) = guard.lines.iter().find(|l| l.contains(needle)) {
                return line.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let hopeless = left.is_zero() || guard.closed;
            assert!(!hopeless, "no log line with {needle:?}; log:\n{}", guard.lines.join("\n"));
            guard = changed.wait_timeout(guard, left).unwrap().0;
        }
    }

    /// Counts the log lines containing `needle` so far.
    pub fn count_log(&self, needle: &str) -> usize {
        self.log.0.lock().unwrap().lines.iter().filter(|l| l.contains(needle)).count()
    }

    /// The whole log so far.
    pub fn log(&self) -> String {
        self.log.0.lock().unwrap().lines.join("\n")
    }

    /// Waits for vcmux to exit and returns its exit code.
    pub fn wait_exit(&mut self) -> i32 {
        let status = self.wait_status();
        status.code().unwrap_or_else(|| panic!("vcmux was killed: {status:?}; log:\n{}", self.log()))
    }

    /// Waits for vcmux to end, exited or killed, and returns how.
    pub fn wait_status(&mut self) -> ExitStatus {
        let status = match self.status {
            Some(status) => status,
            None => {
                let status = self
                    .exit
                    .recv_timeout(STEP)
                    .unwrap_or_else(|_| panic!("vcmux did not exit within {STEP:?}; log:\n{}", self.log()));
                self.status = Some(status);
                status
            }
        };
        // Every log line is read before anyone looks at them.
        self.wait_log_closed();
        status
    }

    fn wait_log_closed(&self) {
        let deadline = Instant::now() + STEP;
        let (log, changed) = &*self.log;
        let mut guard = log.lock().unwrap();
        while !guard.closed {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "vcmux's stderr stayed open after it exited");
            guard = changed.wait_timeout(guard, left).unwrap().0;
        }
    }

    /// Sends a signal to vcmux.
    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid as i32), signal);
    }

    /// The figures of a backend from the exit summary: (written, dropped).
    pub fn backend_figures(&self, id: &str) -> (u64, u64) {
        let line = self.wait_log(&format!("backend {id}: "));
        let numbers: Vec<u64> = line
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        // "...Z  INFO hub: backend ID: W bytes written, D dropped (of R read)": the
        // last three numbers.
        let n = numbers.len();
        (numbers[n - 3], numbers[n - 2])
    }
}

impl Drop for Vcmux {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // What vcmux saw is half of why a test failed.
            eprintln!("vcmux's log:\n{}", self.log());
        }
        if self.status.is_none() && self.exit.try_recv().is_err() {
            self.signal(nix::sys::signal::Signal::SIGKILL);
        }
    }
}

fn wait_child(child: &mut Child) -> io::Result<ExitStatus> {
    child.wait()
}

/// Waits until `condition` holds, checking it every few milliseconds, and fails
/// the test with `what` if it does not within [`STEP`].
pub fn poll_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + STEP;
    while !condition() {
        assert!(Instant::now() < deadline, "{what}: not within {STEP:?}");
        thread::park_timeout(Duration::from_millis(5));
    }
}

/// A loopback TCP port nobody listens on now, for vcmux to bind. Drawn at
/// random below Linux's ephemeral range (32768 and up), so that no client
/// socket of this test or of one running beside it holds it as its local
/// port (a port from `bind(0)` is in that range, and a test's own viewers
/// could take it first); another test drawing the same one is 1 in 12 000.
pub fn free_port() -> u16 {
    loop {
        let port = rand::random_range(20_000..32_768);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// `n` random bytes.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut data = vec![0u8; n];
    rand::rng().fill_bytes(&mut data);
    data
}

/// A unix socket listener standing in for QEMU's `-serial unix:P,server=on`.
pub struct FakeQemu {
    listener: UnixListener,
}

impl FakeQemu {
    /// Listens on `path`.
    pub fn listen(path: &Path) -> FakeQemu {
        FakeQemu { listener: UnixListener::bind(path).expect("bind the fake QEMU socket") }
    }

    /// Waits for vcmux to connect.
    pub fn accept(&self) -> UnixStream {
        let listener = self.listener.try_clone().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let _ = tx.send(listener.accept().map(|(s, _)| s));
        });
        let stream = rx.recv_timeout(STEP).expect("vcmux connects to the fake QEMU").unwrap();
        stream.set_read_timeout(Some(STEP)).unwrap();
        stream.set_write_timeout(Some(STEP)).unwrap();
        stream
    }
}

/// Starts vcmux with a fake QEMU in `dir` as its console
/// (`-frontend socket,path=DIR/qemu.sock`) and `args` after it.
pub fn start_on_fake_qemu(dir: &tempfile::TempDir, args: &[&str]) -> (FakeQemu, Vcmux) {
    let path = dir.path().join("qemu.sock");
    let qemu = FakeQemu::listen(&path);
    let frontend = format!("socket,path={}", path.display());
    let all: Vec<&str> = ["-frontend", frontend.as_str()].into_iter().chain(args.iter().copied()).collect();
    (qemu, Vcmux::start(&all))
}

/// Connects a client to a unix socket backend, with deadlines on its reads and writes.
pub fn connect(path: &Path) -> UnixStream {
    let stream = UnixStream::connect(path).unwrap_or_else(|e| panic!("connect to {}: {e}", path.display()));
    stream.set_read_timeout(Some(STEP)).unwrap();
    stream.set_write_timeout(Some(STEP)).unwrap();
    stream
}

/// Reads everything until the peer closes, in a thread.
pub fn read_to_end_in_thread(mut stream: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut data = Vec::new();
        stream.read_to_end(&mut data).expect("read until vcmux closes");
        data
    })
}

/// Writes `data` and closes the writing side, in a thread.
pub fn write_and_close_in_thread(mut stream: UnixStream, data: Arc<Vec<u8>>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        stream.write_all(&data).expect("write the console stream");
        let _ = stream.shutdown(std::net::Shutdown::Write);
    })
}

/// A fresh directory for one test's sockets and files.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("vcmux-test").tempdir().unwrap()
}

/// `dir/name` as a string, for command lines.
pub fn path_in(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).display().to_string()
}

/// The file's length, 0 if it does not exist yet.
pub fn file_len(path: &str) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Asserts two byte streams are equal without printing megabytes.
#[track_caller]
pub fn assert_same(what: &str, got: &[u8], want: &[u8]) {
    if got != want {
        let first = got.iter().zip(want).position(|(a, b)| a != b).unwrap_or(got.len().min(want.len()));
        panic!("{what}: {} bytes, want {}; first difference at byte {first}", got.len(), want.len());
    }
}

/// A command for replay tests: numbered lines, a pause until a backend types a
/// line, more numbered lines, and a pause until a backend types another (so
/// that a test reads everything before the command ends: a PTY's reader loses
/// what it had not read when vcmux closes the PTY).
pub const COUNT_PAUSE_COUNT: &str = "seq 1 50000; read go; seq 50001 100000; read end";

/// The last line [`COUNT_PAUSE_COUNT`] prints before its second pause.
pub const COUNT_LAST_LINE: &[u8] = b"100000\r\n";

/// What [`COUNT_PAUSE_COUNT`] prints before its pause, as its terminal shows it.
pub fn count_before_pause() -> Vec<u8> {
    (1..=50000).map(|n| format!("{n}\r\n")).collect::<String>().into_bytes()
}

/// What [`COUNT_PAUSE_COUNT`] prints up to its second pause when `go` is typed
/// in its first.
pub fn count_with_go() -> Vec<u8> {
    let after: String = (50001..=100000).map(|n| format!("{n}\r\n")).collect();
    [count_before_pause(), b"go\r\n".to_vec(), after.into_bytes()].concat()
}

/// Asserts that a peer which connected once the first `before` bytes of `whole`
/// were out, and was replayed `replay` bytes, got a tail of `whole`: the bytes
/// before its live position and everything after, none missing, none twice.
#[track_caller]
pub fn assert_replayed_then_live(what: &str, copy: &[u8], whole: &[u8], before: usize, replay: usize) {
    assert!(
        copy.len() >= replay + (whole.len() - before),
        "{what}: {} bytes, fewer than the {replay} replayed and the {} after the pause",
        copy.len(),
        whole.len() - before
    );
    assert!(copy.len() <= whole.len(), "{what}: {} bytes, more than the {} output", copy.len(), whole.len());
    assert_same(what, copy, &whole[whole.len() - copy.len()..]);
}

/// A QMP client over a unix socket, as `socat` or `qemu.qmp` would be:
/// connected and negotiated, with the events that arrive while it waits for
/// an answer set aside until asked for.
pub struct Qmp {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    /// Events that arrived while waiting for an answer.
    pub events: Vec<serde_json::Value>,
}

impl Qmp {
    /// Connects to the control socket at `path`, reads the greeting and
    /// negotiates.
    pub fn connect(path: impl AsRef<Path>) -> Qmp {
        let stream = connect(path.as_ref());
        stream.set_read_timeout(Some(STEP)).expect("a read timeout");
        let reader = BufReader::new(stream.try_clone().expect("a second handle on the socket"));
        let mut qmp = Qmp { reader, writer: stream, events: Vec::new() };
        let greeting = qmp.read();
        assert!(greeting["QMP"].is_object(), "{greeting}");
        let negotiated = qmp.execute("qmp_capabilities", serde_json::json!({}));
        assert_eq!(negotiated, serde_json::json!({"return": {}}));
        qmp
    }

    /// The next message.
    pub fn read(&mut self) -> serde_json::Value {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("vcmux answers");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
    }

    /// Runs a command and returns its answer (events set aside).
    pub fn execute(&mut self, command: &str, arguments: serde_json::Value) -> serde_json::Value {
        let request = serde_json::json!({"execute": command, "arguments": arguments});
        self.writer.write_all(format!("{request}\n").as_bytes()).expect("vcmux takes the request");
        loop {
            let message = self.read();
            if message.get("event").is_none() {
                return message;
            }
            self.events.push(message);
        }
    }

    /// Waits for the event `name`, looking first among those set aside.
    pub fn wait_event(&mut self, name: &str) -> serde_json::Value {
        if let Some(at) = self.events.iter().position(|e| e["event"] == name) {
            return self.events.remove(at);
        }
        loop {
            let message = self.read();
            if message["event"] == name {
                return message;
            }
            self.events.push(message);
        }
    }

    /// Whether the event `name` was heard while waiting for answers.
    pub fn heard(&self, name: &str) -> bool {
        self.events.iter().any(|e| e["event"] == name)
    }
}
