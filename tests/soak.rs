//! The soak test: the real binary fed at full speed for a while, with everything
//! a busy console has at once: 8 vnc-rs viewers of different encodings and pixel
//! formats, 2 socket clients, a file backend and a control socket, viewers and
//! clients joining and leaving as it runs.
//!
//! The console is a stand-in for QEMU's serial socket that writes cycles of
//! output as fast as vcmux takes them: text lines (some coloured, some CJK),
//! then a full screen of colour and CJK, then a marker line. At the end of each
//! cycle, with the source quiet, it checks that every viewer's frame equals the
//! server's (the control socket's screendump), that each socket client got
//! exactly the source's bytes since it joined, and that the log has them all;
//! it samples vcmux's RSS and open file descriptors. At the end the log's
//! SHA-256 equals the source's, the descriptors are back to their count after
//! the first cycle, and RSS has not grown by more than [`RSS_GROWTH_ALLOWANCE_KIB`].
//!
//! How long: `VCMUX_SOAK_SECS` (at least three cycles); by default a few
//! seconds, so that `cargo test` runs the machinery without slowing the suite;
//! `.ci/run` runs it for 120 s on its own, and locally `VCMUX_SOAK_SECS=1800`.
//! It prints its figures (cycles, bytes, RSS, descriptors).

mod common;
mod rfb_support;

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream as StdUnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc as std_mpsc};
use std::thread;
use std::time::{Duration, Instant};

use common::{STEP, Vcmux, path_in, poll_until, temp_dir};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rfb_support::{Mirror, connect_over, rgb565};
use sha2::{Digest, Sha256};
use tokio::net::UnixStream;
use tokio::sync::{mpsc, oneshot};
use tokio::time::timeout_at;
use vcmux::frame::{Framebuffer, png};
use vnc::{PixelFormat, VncClient, VncEncoding, VncEvent, X11Event};

/// How long the soak runs without `VCMUX_SOAK_SECS`.
const DEFAULT_SECS: u64 = 5;
/// Text lines per cycle, before its screen of colour and CJK.
const FLOOD_BYTES: usize = 2 << 20;
/// How much vcmux's RSS may grow from the first quarter of the run to the
/// last (the most of each): room for what buffers hold at a given moment
/// (viewers' updates under way, the allocator's slack), not for a leak: a
/// leak of 1 KiB per viewer connection or 20 KiB per cycle passes it in a
/// 30-minute run.
const RSS_GROWTH_ALLOWANCE_KIB: u64 = 32 << 10;

/// The bytes of cycle `k`: the same every time they are asked for, so that a
/// client can check what it reads without the test keeping gigabytes.
fn cycle_bytes(k: u64) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "console",
        "kernel:",
        "eth0",
        "link",
        "up",
        "systemd[1]:",
        "Started",
        "0x7f3a",
        "漢字",
        "テスト",
        "한국어",
        "中文输出",
        "ok",
        "[  OK  ]",
        "└─",
        "▒▒▒",
    ];
    let mut rng = StdRng::seed_from_u64(k);
    let mut out = Vec::with_capacity(FLOOD_BYTES + (16 << 10));
    let mut line = 0u64;
    while out.len() < FLOOD_BYTES {
        line += 1;
        write!(out, "{k:06}.{line:06} ").unwrap();
        for _ in 0..rng.random_range(0..24) {
            let word = WORDS[rng.random_range(0..WORDS.len())];
            match rng.random_range(0..10) {
                0 => write!(out, "\x1b[1;3{}m{word}\x1b[0m ", rng.random_range(1..8)).unwrap(),
                1 => write!(out, "\x1b[38;5;{}m{word}\x1b[39m ", rng.random_range(16..256)).unwrap(),
                _ => write!(out, "{word} ").unwrap(),
            }
        }
        out.extend_from_slice(b"\r\n");
    }
    // A screen of colour and CJK, different each cycle.
    out.extend_from_slice(b"\x1b[H\x1b[2J");
    for row in 0..20u64 {
        for col in 0..40u64 {
            let n = (k * 7 + row * 40 + col) % 256;
            if row % 2 == 0 {
                write!(out, "\x1b[48;5;{n}m  ").unwrap();
            } else {
                let (r, g, b) = ((col * 6 + k) % 256, (row * 12) % 256, (255 - n) % 256);
                write!(out, "\x1b[48;2;{r};{g};{b}m\x1b[38;5;{}m字", 255 - n).unwrap();
            }
        }
        out.extend_from_slice(b"\x1b[0m\r\n");
    }
    write!(out, "\x1b[1;4;33m漢字かなカナ한글 cycle {k}\x1b[0m \x1b[7mreverse\x1b[0m\r\n").unwrap();
    write!(out, "soak-cycle-{k}-end ").unwrap();
    out
}

/// The console: a thread writing cycles into vcmux's frontend socket, keeping
/// the SHA-256 and the length of everything it wrote.
struct Source {
    cycles: std_mpsc::Sender<u64>,
    written: std_mpsc::Receiver<u64>,
    done: thread::JoinHandle<(Vec<u8>, u64)>,
}

impl Source {
    fn start(mut guest: StdUnixStream) -> Source {
        let (cycles, todo) = std_mpsc::channel::<u64>();
        let (report, written) = std_mpsc::channel();
        let done = thread::spawn(move || {
            let mut hash = Sha256::new();
            let mut total = 0u64;
            for k in todo {
                let bytes = cycle_bytes(k);
                guest.write_all(&bytes).expect("vcmux takes the console's output");
                hash.update(&bytes);
                total += bytes.len() as u64;
                let _ = report.send(bytes.len() as u64);
            }
            // The console ends when the guest's socket closes.
            (hash.finalize().to_vec(), total)
        });
        Source { cycles, written, done }
    }

    /// Writes cycle `k`; returns once it is all written, with its length.
    fn write_cycle(&self, k: u64) -> u64 {
        self.cycles.send(k).expect("the source runs");
        match self.written.recv_timeout(STEP * 4) {
            Ok(len) => len,
            Err(e) => panic!("cycle {k} not written within {:?}: {e}", STEP * 4),
        }
    }

    /// Closes the console; the SHA-256 and length of all it wrote.
    fn finish(self) -> (Vec<u8>, u64) {
        drop(self.cycles);
        self.done.join().expect("the source thread")
    }
}

/// What a socket client is doing, shared with its thread.
#[derive(Default)]
struct ClientState {
    /// Bytes read in this session.
    received: AtomicU64,
    connected: AtomicBool,
    error: Mutex<Option<String>>,
}

enum ClientCommand {
    /// Connect; the next byte is the first of cycle `cycle`; leave on its own
    /// after `leave_after` bytes (inside a flood), if set.
    Join {
        cycle: u64,
        leave_after: Option<u64>,
    },
    Leave,
}

/// A client of a socket backend, in its own thread, checking each byte it
/// reads against the source as it comes.
struct SocketClient {
    id: &'static str,
    commands: std_mpsc::Sender<ClientCommand>,
    state: Arc<ClientState>,
    /// The bytes this session should have by now (cycles since it joined).
    expected: u64,
    /// Whether this session leaves on its own, within a flood.
    leaving: bool,
    sessions: u64,
}

impl SocketClient {
    fn start(id: &'static str, path: PathBuf, chunk: usize) -> SocketClient {
        let (commands, inbox) = std_mpsc::channel();
        let state = Arc::new(ClientState::default());
        let shared = state.clone();
        thread::spawn(move || {
            while let Ok(command) = inbox.recv() {
                let ClientCommand::Join { cycle, leave_after } = command else { continue };
                if let Err(e) = client_session(&path, chunk, cycle, leave_after, &inbox, &shared) {
                    *shared.error.lock().unwrap() = Some(e);
                }
                shared.connected.store(false, Ordering::SeqCst);
            }
        });
        SocketClient { id, commands, state, expected: 0, leaving: false, sessions: 0 }
    }

    fn check(&self) {
        if let Some(e) = self.state.error.lock().unwrap().as_ref() {
            panic!("socket client {}: {e}", self.id);
        }
    }
}

/// One connection: reads and checks until told to leave or `leave_after` bytes.
fn client_session(
    path: &Path,
    chunk: usize,
    cycle: u64,
    leave_after: Option<u64>,
    inbox: &std_mpsc::Receiver<ClientCommand>,
    state: &ClientState,
) -> Result<(), String> {
    let mut stream = StdUnixStream::connect(path).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_millis(20))).map_err(|e| e.to_string())?;
    state.received.store(0, Ordering::SeqCst);
    state.connected.store(true, Ordering::SeqCst);
    let (mut k, mut expected, mut at) = (cycle, cycle_bytes(cycle), 0usize);
    let mut buf = vec![0u8; chunk];
    let mut received = 0u64;
    loop {
        if let Ok(ClientCommand::Leave) = inbox.try_recv() {
            return Ok(());
        }
        let want = leave_after.map_or(chunk as u64, |n| (n - received).min(chunk as u64)) as usize;
        if want == 0 {
            return Ok(());
        }
        let n = match stream.read(&mut buf[..want]) {
            Ok(0) => return Err(format!("vcmux closed the connection after {received} bytes")),
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) => return Err(format!("read: {e}")),
        };
        for &byte in &buf[..n] {
            if at == expected.len() {
                k += 1;
                (expected, at) = (cycle_bytes(k), 0);
            }
            if byte != expected[at] {
                return Err(format!(
                    "byte {received} of the session (cycle {k}, offset {at}) is not the source's"
                ));
            }
            at += 1;
            received += 1;
        }
        state.received.store(received, Ordering::SeqCst);
    }
}

/// A viewer's encodings and pixel format.
struct ViewerSpec {
    name: &'static str,
    encodings: &'static [VncEncoding],
    format: PixelFormat,
    /// Whether it leaves and comes back during floods.
    churns: bool,
}

/// 16-bit RGB555, little-endian (depth 15).
fn rgb555() -> PixelFormat {
    let mut f = rgb565();
    f.depth = 15;
    f.big_endian_flag = 0;
    f.green_max = 31;
    f.red_shift = 10;
    f
}

fn viewer_specs() -> Vec<ViewerSpec> {
    use VncEncoding::{CopyRect, Raw, Tight, Trle, Zrle};
    let spec = |name, encodings, format, churns| ViewerSpec { name, encodings, format, churns };
    vec![
        spec("raw/bgra", &[Raw][..], PixelFormat::bgra(), false),
        spec("copyrect/rgba", &[CopyRect, Raw], PixelFormat::rgba(), false),
        spec("tight/bgra", &[Tight, CopyRect, Raw], PixelFormat::bgra(), false),
        spec("zrle/bgra", &[Zrle, CopyRect, Raw], PixelFormat::bgra(), false),
        spec("zrle/rgb565", &[Zrle, Raw], rgb565(), true),
        spec("zrle/rgb555", &[Zrle, Raw], rgb555(), true),
        spec("raw/rgb565", &[Raw], rgb565(), true),
        // TRLE first: vcmux has none, so it is served the next one it offers.
        // (vnc-rs decodes Tight in 32 bits only.)
        spec("trle+tight/rgba", &[Trle, Tight, CopyRect, Raw], PixelFormat::rgba(), true),
    ]
}

enum ViewerCommand {
    /// Follow updates until the frame is this one; answer whether it came.
    Sync(Arc<Framebuffer>, oneshot::Sender<Result<(), String>>),
    /// Disconnect and connect again.
    Rejoin,
}

async fn connect_viewer(socket: &Path, spec: &ViewerSpec) -> Result<VncClient, String> {
    let stream = UnixStream::connect(socket).await.map_err(|e| format!("connect: {e}"))?;
    connect_over(stream, None, spec.encodings, spec.format, true).await.map_err(|e| format!("handshake: {e}"))
}

/// A viewer in its own task: it reads and asks for updates all the time (as a
/// viewer on screen does), and answers the test's commands.
async fn run_viewer(
    socket: PathBuf,
    spec: ViewerSpec,
    mut commands: mpsc::Receiver<ViewerCommand>,
) -> Result<u64, String> {
    let mut client = connect_viewer(&socket, &spec).await?;
    let mut mirror = Mirror::new(&spec.format);
    let mut sessions = 1;
    // One update request outstanding at a time, as a viewer on screen has.
    let mut asked = false;
    let mut ask = tokio::time::interval(Duration::from_millis(20));
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                Some(ViewerCommand::Sync(frame, answer)) => {
                    let _ = answer.send(follow_until(&client, &mut mirror, &frame, &mut asked).await);
                }
                Some(ViewerCommand::Rejoin) => {
                    let _ = client.close().await;
                    client = connect_viewer(&socket, &spec).await?;
                    mirror = Mirror::new(&spec.format);
                    asked = false;
                    sessions += 1;
                }
                None => {
                    let _ = client.close().await;
                    return Ok(sessions);
                }
            },
            event = client.recv_event() => {
                let event = event.map_err(|e| format!("{}: {e}", spec.name))?;
                asked &= !paints(&event);
                mirror.apply(event);
            }
            _ = ask.tick(), if !asked => {
                client.input(X11Event::Refresh).await.map_err(|e| format!("{}: {e}", spec.name))?;
                asked = true;
            }
        }
    }
}

/// Whether an event is part of an update (the answer to a request).
fn paints(event: &VncEvent) -> bool {
    matches!(
        event,
        VncEvent::RawImage(..) | VncEvent::Copy(..) | VncEvent::DesktopUpdate(_) | VncEvent::SetResolution(_)
    )
}

/// Asks for updates until the mirror shows `frame`.
async fn follow_until(
    client: &VncClient,
    mirror: &mut Mirror,
    frame: &Framebuffer,
    asked: &mut bool,
) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + STEP;
    while !mirror.shows(frame) {
        if !*asked {
            client.input(X11Event::Refresh).await.map_err(|e| e.to_string())?;
            *asked = true;
        }
        match timeout_at(deadline, client.recv_event()).await {
            Ok(Ok(event)) => {
                *asked &= !paints(&event);
                mirror.apply(event);
            }
            Ok(Err(e)) => return Err(e.to_string()),
            Err(_) => return Err(format!("not the server's frame within {STEP:?}")),
        }
    }
    Ok(())
}

/// `vcmux ctl` against the control socket; its stdout.
async fn ctl(target: &str, args: &[&str]) -> String {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_vcmux"))
        .arg("ctl")
        .arg(target)
        .args(args)
        .output()
        .await
        .expect("vcmux ctl runs");
    assert!(out.status.success(), "vcmux ctl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// vcmux's resident set and its peak (VmRSS, VmHWM, KiB) and open descriptors.
fn process_figures(pid: u32) -> (u64, u64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("vcmux runs");
    let field = |name: &str| -> u64 {
        let line = status.lines().find(|l| l.starts_with(name)).expect("a /proc status field");
        line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("a number of kB")
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).expect("vcmux's fds").count();
    (field("VmRSS:"), field("VmHWM:"), fds)
}

/// The times vcmux's log says backend `id` got a client.
fn attached(vcmux: &Vcmux, id: &str) -> usize {
    let prefix = format!("{id}: ");
    vcmux.log().lines().filter(|l| l.contains(&prefix) && l.contains(" connected")).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak() {
    let secs = std::env::var("VCMUX_SOAK_SECS").ok().map_or(DEFAULT_SECS, |s| {
        s.parse().unwrap_or_else(|_| panic!("VCMUX_SOAK_SECS: not a number of seconds: {s:?}"))
    });
    let dir = temp_dir();
    let (guest_socket, vnc, control, log) = (
        path_in(&dir, "qemu.sock"),
        path_in(&dir, "vnc.sock"),
        path_in(&dir, "q.sock"),
        path_in(&dir, "console.log"),
    );
    let (s0, s1) = (path_in(&dir, "s0.sock"), path_in(&dir, "s1.sock"));
    let qemu = common::FakeQemu::listen(Path::new(&guest_socket));
    let mut vcmux = Vcmux::start(&[
        "-frontend",
        &format!("socket,path={guest_socket}"),
        "-qmp",
        &format!("unix:{control},server=on,wait=off"),
        "-chardev",
        "vc,id=vc0",
        "-chardev",
        &format!("file,id=log,path={log}"),
        "-chardev",
        &format!("socket,id=s0,path={s0},server=on,wait=off"),
        "-chardev",
        &format!("socket,id=s1,path={s1},server=on,wait=off"),
        "-vnc",
        &format!("unix:{vnc}"),
    ]);
    let source = Source::start(qemu.accept());
    vcmux.wait_log("VNC viewers welcome");
    vcmux.wait_log("control socket (QMP): listening on");
    let target = format!("unix:{control}");
    let pid = vcmux.pid();

    // 8 viewers, 2 socket clients (one reading 64 KiB at a time, one 1 KiB).
    let mut viewers = Vec::new();
    for spec in viewer_specs() {
        let (tx, rx) = mpsc::channel(4);
        let churns = spec.churns;
        let name = spec.name;
        viewers.push((name, churns, tx, tokio::spawn(run_viewer(PathBuf::from(&vnc), spec, rx))));
    }
    let mut clients = [
        SocketClient::start("s0", PathBuf::from(&s0), 64 << 10),
        SocketClient::start("s1", PathBuf::from(&s1), 1 << 10),
    ];
    let mut rng = StdRng::seed_from_u64(0x50a4);
    let join = |client: &mut SocketClient, vcmux: &Vcmux, cycle: u64, leave_after: Option<u64>| {
        let before = attached(vcmux, client.id);
        client.commands.send(ClientCommand::Join { cycle, leave_after }).unwrap();
        // Its first byte must be the cycle's first: wait until the hub has it.
        let deadline = Instant::now() + STEP;
        while attached(vcmux, client.id) == before {
            if Instant::now() > deadline {
                panic!("{} not attached within {STEP:?}; log:\n{}", client.id, vcmux.log());
            }
            thread::park_timeout(Duration::from_millis(5));
        }
        (client.expected, client.leaving) = (0, leave_after.is_some());
        client.sessions += 1;
    };
    for client in &mut clients {
        join(client, &vcmux, 0, None);
    }

    let started = Instant::now();
    let (mut total, mut cycle) = (0u64, 0u64);
    // RSS (KiB) at the end of each cycle; descriptors after the first.
    let mut rss_samples = Vec::new();
    let mut baseline_fds = None;
    let mut peak_fds = 0;
    let mut rejoins = 0u64;
    // Time spent writing, waiting for the quiet point, and syncing viewers.
    let mut times = [Duration::ZERO; 3];
    while cycle < 3 || started.elapsed() < Duration::from_secs(secs) {
        // The flood, with churning viewers leaving and coming back during it
        // (not in the first cycle, which ends with the baseline figures).
        let mut churn = Vec::new();
        for (_, churns, tx, _) in &viewers {
            if *churns && cycle > 0 && rng.random_bool(0.5) {
                let (tx, delay) = (tx.clone(), Duration::from_millis(rng.random_range(0..400)));
                rejoins += 1;
                churn.push(tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = tx.send(ViewerCommand::Rejoin).await;
                }));
            }
        }
        let phase = Instant::now();
        let len = tokio::task::block_in_place(|| source.write_cycle(cycle));
        times[0] += phase.elapsed();
        let phase = Instant::now();
        total += len;
        for client in &mut clients {
            client.expected += len;
        }

        // Quiet: the vc has read it all, the log has it all, each client all
        // of its session (or left where it wanted to).
        ctl(&target, &["wait-for", &format!("soak-cycle-{cycle}-end"), "--timeout", "120"]).await;
        poll_until("the log holds every byte", || common::file_len(&log) == total);
        for client in &mut clients {
            client.check();
            if client.leaving {
                poll_until(&format!("{} left", client.id), || !client.state.connected.load(Ordering::SeqCst));
            } else if client.state.connected.load(Ordering::SeqCst) {
                poll_until(&format!("{} has its {} bytes", client.id, client.expected), || {
                    client.state.received.load(Ordering::SeqCst) >= client.expected
                });
                client.check();
                assert_eq!(
                    client.state.received.load(Ordering::SeqCst),
                    client.expected,
                    "{} got more",
                    client.id
                );
            }
        }

        times[1] += phase.elapsed();
        let phase = Instant::now();
        for rejoin in churn {
            rejoin.await.expect("a rejoin");
        }
        // Every viewer's frame is the server's.
        let png_path = path_in(&dir, "screen.png");
        ctl(&target, &["screendump", &png_path]).await;
        let frame = Arc::new(png::decode(&std::fs::read(&png_path).unwrap()).unwrap().expect("a screendump"));
        for (name, _, tx, _) in &viewers {
            let (answer, synced) = oneshot::channel();
            tx.send(ViewerCommand::Sync(frame.clone(), answer))
                .await
                .unwrap_or_else(|_| panic!("viewer {name} ended"));
            match synced.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => panic!("viewer {name} after cycle {cycle}: {e}"),
                Err(_) => panic!("viewer {name} ended during cycle {cycle}"),
            }
        }

        times[2] += phase.elapsed();
        // Socket clients come and go; both are there after the first and the last cycle.
        let last = cycle >= 2 && started.elapsed() >= Duration::from_secs(secs);
        for client in &mut clients {
            let connected = client.state.connected.load(Ordering::SeqCst);
            if connected && cycle > 0 && !last && rng.random_bool(0.3) {
                client.commands.send(ClientCommand::Leave).unwrap();
                poll_until(&format!("{} left", client.id), || !client.state.connected.load(Ordering::SeqCst));
            } else if !connected {
                let leave_after =
                    (!last && rng.random_bool(0.3)).then(|| rng.random_range(1..FLOOD_BYTES as u64 / 2));
                join(client, &vcmux, cycle + 1, leave_after);
            }
        }
        let (rss, _, fds) = process_figures(pid);
        rss_samples.push(rss);
        println!(
            "soak: cycle {cycle} done at {:.0} s: {total} bytes, RSS {rss} KiB, {fds} fds",
            started.elapsed().as_secs_f64()
        );
        peak_fds = peak_fds.max(fds);
        if cycle == 0 {
            baseline_fds = Some(fds);
        }
        if last {
            break;
        }
        cycle += 1;
    }

    // The end: the same connections as after the first cycle, so the same
    // descriptors once vcmux has noticed every viewer that left.
    let fds0 = baseline_fds.expect("a first cycle");
    poll_until("vcmux's descriptors back to their count after the first cycle", || {
        process_figures(pid).2 <= fds0
    });
    let (_, peak, fds) = process_figures(pid);
    let elapsed = started.elapsed();
    for (name, _, tx, task) in viewers {
        drop(tx);
        task.await
            .unwrap_or_else(|e| panic!("viewer {name}: {e}"))
            .unwrap_or_else(|e| panic!("viewer {name}: {e}"));
    }
    let sessions: Vec<u64> = clients.iter().map(|c| c.sessions).collect();
    for client in &clients {
        client.check();
        client.commands.send(ClientCommand::Leave).unwrap();
    }
    let (source_hash, written) = source.finish();
    assert_eq!(vcmux.wait_exit(), 0, "vcmux exits when the console ends");
    let mut log_hash = Sha256::new();
    let mut file = std::fs::File::open(&log).unwrap();
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut chunk).unwrap() {
            0 => break,
            n => log_hash.update(&chunk[..n]),
        }
    }
    assert_eq!(written, total);
    assert_eq!(common::file_len(&log), written, "the log's length");
    assert!(log_hash.finalize().to_vec() == source_hash, "the log's SHA-256 is not the source's");
    assert_eq!(vcmux.backend_figures("log").1, 0, "the log dropped bytes");

    println!("soak: writing {:?}, until quiet {:?}, viewers' sync {:?}", times[0], times[1], times[2]);
    println!(
        "soak: {:.0} s, {} cycles, {} bytes ({:.1} MB/s); 8 viewers, {rejoins} rejoins; socket client sessions {sessions:?}",
        elapsed.as_secs_f64(),
        cycle + 1,
        written,
        written as f64 / elapsed.as_secs_f64() / 1e6,
    );
    // Growth: the most RSS of the last quarter of the cycles against the most
    // of the first quarter (at least the first two): a leak grows the one past
    // the other; what a moment's buffers hold does not.
    let n = rss_samples.len();
    let warm = *rss_samples[..(n / 4).max(2).min(n)].iter().max().expect("samples");
    let late = *rss_samples[n - (n / 4).max(1)..].iter().max().expect("samples");
    println!(
        "soak: RSS (KiB) after cycle 1 {}, most in the first quarter {warm}, most in the last quarter {late}, least {}, at the end {}, peak (VmHWM) {peak}",
        rss_samples[0],
        rss_samples.iter().min().expect("samples"),
        rss_samples[n - 1],
    );
    println!("soak: fds after cycle 1 {fds0}, at the end {fds}, most {peak_fds}");
    assert!(fds <= fds0, "descriptors grew: {fds0} after the first cycle, {fds} at the end");
    assert!(
        late <= warm + RSS_GROWTH_ALLOWANCE_KIB,
        "RSS grew past the allowance of {RSS_GROWTH_ALLOWANCE_KIB} KiB: {warm} KiB at most in the first quarter, {late} KiB in the last"
    );
}
