//! Many viewers of one busy console: an 80x24 console whose program
//! (`flood.py`) redraws a full screen of random prose as fast as it can,
//! watched by N viewers, each a process of its own that asks for the next
//! update as soon as one arrives and decodes every rectangle to its last
//! byte. The same run measures TigerVNC's Xvnc serving xterm running the same
//! program (`apt-get install tigervnc-standalone-server xterm`).
//!
//! Reported per server, encoding and N: each viewer's updates a second
//! (median and minimum over the viewers), bytes per update, the server's CPU
//! (utime + stime from /proc over the measured seconds; for Xvnc, Xvnc and
//! xterm together, since xterm is its terminal emulator) and its peak RSS
//! (VmHWM; Xvnc's plus xterm's), and the viewers' own CPU per update (their
//! decoding, which shares the machine's cores with the server). At one N
//! (16 by default) a probe viewer beside the others also types keys, each
//! toggling a marker cell, and times key to pixels, counting the keys shown
//! by the first update after them (the others by a later one: the update in
//! flight, or encoded before the key, came first).
//!
//! `cargo bench --bench viewers`. Environment (defaults in brackets):
//! `VIEWERS_N` [1,4,16,64], `VIEWERS_ENCODINGS` [zrle,tight,raw],
//! `VIEWERS_SERVERS` [vcmux,xvnc], `VIEWERS_SECONDS` [5] measured after
//! `VIEWERS_WARMUP` [2], `VIEWERS_FORMATS` [32] (a list of 32, 16, 8 given to
//! the viewers in turn), `VIEWERS_LATENCY_AT` [16] (the N with the key probe,
//! or `none`), `VIEWERS_VNC_OPTIONS` (appended to vcmux's `-vnc`),
//! `VIEWERS_LOG` [warn] (vcmux's `RUST_LOG`, e.g. `info,vcmux::rfb::group=debug`
//! to see viewers join and leave groups),
//! `VIEWERS_VCMUX` (another vcmux binary, to compare builds).

mod client;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use client::{Format, Viewer};

const FLOOD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/viewers/flood.py");

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn list(name: &str, default: &str) -> Vec<String> {
    env_or(name, default).split(',').filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("a clock after 1970").as_millis() as u64
}

fn sleep_until_ms(at: u64) {
    let now = now_ms();
    if at > now {
        std::thread::sleep(Duration::from_millis(at - now));
    }
}

fn encoding_number(name: &str) -> i32 {
    match name {
        "zrle" => client::ZRLE,
        "tight" => client::TIGHT,
        "raw" => client::RAW,
        other => panic!("VIEWERS_ENCODINGS: {other} is not zrle, tight or raw"),
    }
}

fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    probe.local_addr().expect("its address").port()
}

/// Waits until something listens on `port`.
fn wait_listening(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} does not listen on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // After the name: state is field 0, utime 11, stime 12.
    field(11) + field(12)
}

/// Peak resident memory, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Clock ticks a second in /proc's CPU times (`getconf CLK_TCK`).
fn ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100)
}

/// A server under test: the processes whose CPU and memory count, killed on drop.
struct Server {
    children: Vec<Child>,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Server {
    fn vcmux(viewers: usize) -> Server {
        let dir = tempfile::tempdir().expect("a temp dir");
        let port = free_port();
        // The viewers, the probe, and room for one more.
        let mut vnc = format!("127.0.0.1::{port},connections={}", viewers + 2);
        if let Ok(options) = std::env::var("VIEWERS_VNC_OPTIONS") {
            vnc.push(',');
            vnc.push_str(&options);
        }
        let binary =
            std::env::var("VIEWERS_VCMUX").unwrap_or_else(|_| env!("CARGO_BIN_EXE_vcmux").to_string());
        let child = Command::new(binary)
            .args(["-chardev", "vc,id=vc0,cols=80,rows=24", "-vnc", &vnc, "--", "python3", FLOOD])
            .env("RUST_LOG", std::env::var("VIEWERS_LOG").unwrap_or("warn".into()))
            .stdin(Stdio::null())
            .spawn()
            .expect("vcmux starts");
        wait_listening(port, "vcmux");
        Server { children: vec![child], port, _dir: dir }
    }

    fn xvnc() -> Server {
        let dir = tempfile::tempdir().expect("a temp dir");
        let port = free_port();
        let display = (100..1000)
            .find(|d| {
                !Path::new(&format!("/tmp/.X{d}-lock")).exists()
                    && !Path::new(&format!("/tmp/.X11-unix/X{d}")).exists()
            })
            .expect("a free X display");
        let xvnc = Command::new("Xvnc")
            .args([&format!(":{display}"), "-SecurityTypes", "None", "-rfbport", &port.to_string()])
            .args(["-geometry", "1024x768", "-depth", "24", "-AlwaysShared", "-nolisten", "tcp"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvnc starts (apt-get install tigervnc-standalone-server)");
        wait_listening(port, "Xvnc");
        let xterm = Command::new("xterm")
            .args(["-geometry", "80x24+0+0", "-e", "python3", FLOOD])
            .env("DISPLAY", format!(":{display}"))
            .stdin(Stdio::null())
            .spawn()
            .expect("xterm starts (apt-get install xterm)");
        Server { children: vec![xvnc, xterm], port, _dir: dir }
    }

    fn cpu_ticks(&self) -> u64 {
        self.children.iter().map(|c| cpu_ticks(c.id())).sum()
    }

    fn peak_rss_kib(&self) -> u64 {
        self.children.iter().map(|c| peak_rss_kib(c.id())).sum()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One viewer process: connects, takes its first update, says `ready` and
/// reads `FROM TO` (times in ms) on stdin; then reads updates until `to`,
/// counting those that end in [`from`, `to`) and their bytes; prints
/// `updates bytes cpu` (its own CPU over them, in clock ticks). The bench
/// starts the clock once every viewer is ready: a server busy with its flood
/// may take seconds to greet each one (Xvnc with 64), which would otherwise
/// count as its viewers' slowness.
fn viewer_process() {
    let address = env_or("VIEWERS_ADDRESS", "");
    let encoding: i32 = env_or("VIEWERS_ENCODING", "16").parse().expect("an encoding number");
    let format = Format::by_bits(&env_or("VIEWERS_FORMAT", "32"));
    let mut viewer = Viewer::connect(&address, format, encoding).expect("the viewer connects");
    viewer.request(false).expect("a request");
    viewer.next_update().expect("the first update");
    let (from, to) = wait_for_start();
    let (mut updates, mut bytes) = (0u64, 0u64);
    // Its own CPU over the measured window, in clock ticks.
    let mut cpu_from = None;
    loop {
        let before = viewer.read.load(std::sync::atomic::Ordering::Relaxed);
        if viewer.request(true).and_then(|()| viewer.next_update()).is_err() {
            break;
        }
        let now = now_ms();
        if now >= to {
            break;
        }
        if now >= from {
            cpu_from.get_or_insert_with(|| cpu_ticks(std::process::id()));
            updates += 1;
            bytes += viewer.read.load(std::sync::atomic::Ordering::Relaxed) - before;
        }
    }
    let cpu = cpu_ticks(std::process::id()) - cpu_from.unwrap_or(0);
    println!("{updates} {bytes} {cpu}");
}

/// Says `ready` on stdout and reads the measured window, `FROM TO`, on stdin.
fn wait_for_start() -> (u64, u64) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready").and_then(|()| out.flush()).expect("the bench reads its viewers");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).expect("the bench says when to start");
    let mut times = line.split_whitespace().map(|t| t.parse::<u64>().expect("a time in ms"));
    (times.next().unwrap_or(0), times.next().unwrap_or(0))
}

/// Is the marker (a red cell at the top left) shown?
fn marked(viewer: &Viewer) -> bool {
    let p = viewer.pixel(3, 3);
    let (r, g, b) = (p >> 16 & 0xff, p >> 8 & 0xff, p & 0xff);
    r > 0x80 && g < 0x40 && b < 0x40
}

/// The key probe: types a key 50 to 70 ms (at random) after the last one
/// showed, between `from` and `to`, from a thread of its own, so that keys
/// come at any moment of the frame clock's cycle as a person's do (not just
/// after an update arrived), and returns each one's time until the marker it
/// toggles shows, and how many showed in the first update read after them
/// (not one in flight, or encoded before the key); the window comes on
/// `start` once every viewer is connected.
fn probe(
    address: String,
    encoding: i32,
    start: std::sync::mpsc::Receiver<(u64, u64)>,
) -> (Vec<Duration>, usize) {
    let mut viewer = Viewer::connect(&address, Format::RGB888, encoding).expect("the probe connects");
    viewer.point(20, 20).expect("the pointer over the terminal");
    viewer.request(false).expect("a request");
    // Reads updates while it waits, as a viewer does: one that did not would
    // fall out of its group and start with an update of its own.
    let (from, to) = loop {
        if viewer.next_update().and_then(|()| viewer.request(true)).is_err() {
            return (Vec::new(), 0);
        }
        match start.try_recv() {
            Ok(window) => break window,
            Err(std::sync::mpsc::TryRecvError::Empty) => {}
            Err(std::sync::mpsc::TryRecvError::Disconnected) => return (Vec::new(), 0),
        }
    };
    // The typist: given when to type, says when it did.
    let mut keyboard = viewer.keyboard().expect("a keyboard");
    let (arm, armed) = std::sync::mpsc::channel::<Instant>();
    let (typed_tx, typed_rx) = std::sync::mpsc::channel::<Instant>();
    std::thread::spawn(move || {
        for at in armed {
            std::thread::sleep(at.saturating_duration_since(Instant::now()));
            if keyboard.key(u32::from(b'k')).is_err() {
                return;
            }
            let _ = typed_tx.send(Instant::now());
        }
    });
    let mut rng = rand::rng();
    let mut latencies = Vec::new();
    while now_ms() < from {
        if viewer.next_update().and_then(|()| viewer.request(true)).is_err() {
            return (Vec::new(), 0);
        }
    }
    // The marker state the key being typed will show, and when it was typed.
    let mut want = !marked(&viewer);
    let mut typed: Option<Instant> = None;
    arm.send(Instant::now()).expect("the typist");
    // Updates read since the key, and keys shown by the first update after them.
    let (mut since_key, mut at_first) = (0, 0);
    loop {
        if viewer.next_update().and_then(|()| viewer.request(true)).is_err() {
            break;
        }
        if now_ms() >= to {
            break;
        }
        if typed.is_none() {
            typed = typed_rx.try_recv().ok();
            if typed.is_none() {
                continue;
            }
        }
        let Some(at) = typed else { continue };
        if marked(&viewer) == want {
            latencies.push(at.elapsed());
            at_first += usize::from(since_key == 0);
        } else if at.elapsed() > Duration::from_secs(2) {
            eprintln!("probe: no marker after 2 s, pixel {:06x}", viewer.pixel(3, 3));
        } else {
            since_key += 1;
            continue;
        }
        since_key = 0;
        typed = None;
        want = !marked(&viewer);
        let pause = Duration::from_millis(50 + rand::RngExt::random_range(&mut rng, 0..20));
        arm.send(Instant::now() + pause).expect("the typist");
    }
    (latencies, at_first)
}

struct Row {
    server: &'static str,
    encoding: String,
    viewers: usize,
    median: f64,
    min: f64,
    bytes_per_update: f64,
    cpu: f64,
    rss_mib: f64,
    /// Key to pixels: p50, p99, keys, keys shown by the first update after them.
    latency: Option<(Duration, Duration, usize, usize)>,
    /// The viewers' own CPU per update, in µs (their mean).
    viewer_cpu_us: f64,
}

fn run(server_name: &'static str, encoding: &str, n: usize, formats: &[String]) -> Row {
    let server = if server_name == "xvnc" { Server::xvnc() } else { Server::vcmux(n) };
    let address = format!("127.0.0.1:{}", server.port);
    let warmup: u64 = (env_or("VIEWERS_WARMUP", "2").parse::<f64>().expect("seconds") * 1000.0) as u64;
    let seconds: f64 = env_or("VIEWERS_SECONDS", "5").parse().expect("seconds");
    let number = encoding_number(encoding);
    let me = std::env::current_exe().expect("the bench's own path");
    // One at a time, each once the one before has its first frame: Xvnc
    // listens with a short backlog, and viewers connecting all at once
    // overflowed it (the kernel then retries the handshake for tens of
    // seconds). The clock starts when every viewer is ready.
    let latency_at = env_or("VIEWERS_LATENCY_AT", "16");
    let (start_probe, probe_start) = std::sync::mpsc::channel();
    let probe = (latency_at == n.to_string()).then(|| {
        let address = address.clone();
        std::thread::spawn(move || probe(address, number, probe_start))
    });
    let mut viewers = Vec::new();
    let mut outputs = Vec::new();
    for i in 0..n {
        let mut viewer = Command::new(&me)
            .env("VIEWERS_ROLE", "viewer")
            .env("VIEWERS_ADDRESS", &address)
            .env("VIEWERS_ENCODING", number.to_string())
            .env("VIEWERS_FORMAT", &formats[i % formats.len()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("a viewer process starts");
        let mut stdout = BufReader::new(viewer.stdout.take().expect("piped"));
        let mut line = String::new();
        if stdout.read_line(&mut line).is_err() || line.trim() != "ready" {
            eprintln!("a viewer of {server_name} did not connect");
        }
        viewers.push(viewer);
        outputs.push(stdout);
    }
    let from = now_ms() + warmup;
    let to = from + (seconds * 1000.0) as u64;
    for viewer in &mut viewers {
        if let Some(mut stdin) = viewer.stdin.take() {
            let _ = writeln!(stdin, "{from} {to}");
        }
    }
    let _ = start_probe.send((from, to));
    sleep_until_ms(from);
    let cpu_before = server.cpu_ticks();
    sleep_until_ms(to);
    let cpu_after = server.cpu_ticks();
    let mut rates: Vec<f64> = Vec::new();
    let (mut updates, mut bytes, mut viewer_ticks) = (0u64, 0u64, 0u64);
    for (mut viewer, mut stdout) in viewers.into_iter().zip(outputs) {
        let mut out = String::new();
        stdout.read_to_string(&mut out).expect("the viewer's figures");
        let status = viewer.wait().expect("the viewer ends");
        let mut fields = out.split_whitespace().map(|f| f.parse::<u64>().unwrap_or(0));
        let (u, b, t) = (fields.next().unwrap_or(0), fields.next().unwrap_or(0), fields.next().unwrap_or(0));
        if !status.success() {
            eprintln!("a viewer of {server_name} failed ({status})");
        }
        rates.push(u as f64 / seconds);
        updates += u;
        bytes += b;
        viewer_ticks += t;
    }
    rates.sort_by(f64::total_cmp);
    let latency = probe.map(|p| {
        let (mut l, at_first) = p.join().expect("the probe's latencies");
        l.sort();
        let at = |q: f64| l.get(((l.len() as f64 * q) as usize).min(l.len().saturating_sub(1))).copied();
        (at(0.5).unwrap_or_default(), at(0.99).unwrap_or_default(), l.len(), at_first)
    });
    Row {
        server: server_name,
        encoding: encoding.to_string(),
        viewers: n,
        median: rates[rates.len() / 2],
        min: rates[0],
        bytes_per_update: if updates > 0 { bytes as f64 / updates as f64 } else { 0.0 },
        viewer_cpu_us: if updates > 0 {
            viewer_ticks as f64 / ticks_per_second() as f64 * 1e6 / updates as f64
        } else {
            0.0
        },
        cpu: (cpu_after - cpu_before) as f64 / ticks_per_second() as f64 / seconds * 100.0,
        rss_mib: server.peak_rss_kib() as f64 / 1024.0,
        latency,
    }
}

fn main() {
    if std::env::var("VIEWERS_ROLE").is_ok_and(|r| r == "viewer") {
        viewer_process();
        return;
    }
    let ns: Vec<usize> =
        list("VIEWERS_N", "1,4,16,64").iter().map(|n| n.parse().expect("a number of viewers")).collect();
    let encodings = list("VIEWERS_ENCODINGS", "zrle,tight,raw");
    let servers = list("VIEWERS_SERVERS", "vcmux,xvnc");
    let formats = list("VIEWERS_FORMATS", "32");
    println!(
        "Many viewers: an 80x24 console redrawing a full screen of random prose as fast as it can; \
         each viewer a process asking for the next update as soon as one arrives (pixel formats {}), \
         {}s measured",
        formats.join("/"),
        env_or("VIEWERS_SECONDS", "5")
    );
    println!(
        "| server | encoding | viewers | updates/s per viewer (median) | (min) | bytes/update | server CPU | peak RSS | viewer CPU/update | key to pixels p50 / p99 (keys; in the first update after the key) |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for encoding in &encodings {
        for &n in &ns {
            for server in &servers {
                let name: &'static str = if server == "xvnc" { "Xvnc + xterm" } else { "vcmux" };
                let row = run(if server == "xvnc" { "xvnc" } else { "vcmux" }, encoding, n, &formats);
                let latency = row.latency.map_or(String::from("-"), |(p50, p99, keys, at_first)| {
                    format!(
                        "{:.1} / {:.1} ms ({keys}; {at_first})",
                        p50.as_secs_f64() * 1e3,
                        p99.as_secs_f64() * 1e3
                    )
                });
                let _ = row.server;
                println!(
                    "| {name} | {} | {} | {:.1} | {:.1} | {:.0} | {:.0} % | {:.0} MiB | {:.0} µs | {latency} |",
                    row.encoding,
                    row.viewers,
                    row.median,
                    row.min,
                    row.bytes_per_update,
                    row.cpu,
                    row.rss_mib,
                    row.viewer_cpu_us
                );
            }
        }
    }
}
