//! The hostile-viewer suite: the real `vcmux` binary, its console a fake QEMU
//! on a unix socket, a vc with a file log, served on TCP and WebSocket, and
//! for each case a well-behaved vnc-rs viewer connected throughout while
//! hostile clients do what broke other VNC servers (QEMU, LibVNCServer,
//! TigerVNC) over real sockets.
//!
//! Each case asserts that the offending connections close (or, where the
//! protocol allows what they sent, are served and bounded), that the good
//! viewer still shows the console's newest output as `vcmux render` draws it,
//! that the file log holds every byte the console sent, and that the count of
//! open file descriptors and the resident memory return to their baseline
//! (within [`RSS_ALLOWANCE`]). Each records its peak resident memory (VmHWM)
//! under `target/tmp/hostile/` for README's "Reliability" table, and fails
//! past [`PEAK_LIMIT`].

mod common;
mod rfb_support;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::{
    FakeQemu, STEP, Vcmux, assert_same, file_len, free_port, path_in, start_on_fake_qemu, temp_dir,
};
use rfb_support::{Mirror, RawClient};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};
use vcmux::frame::Framebuffer;
use vcmux::render::{FontConfig, Renderer};
use vcmux::term::Terminal;
use vnc::{PixelFormat, VncClient, VncEncoding, X11Event};

/// The peak resident memory no hostile case may push vcmux past.
const PEAK_LIMIT_KIB: u64 = 128 * 1024;

/// How far above its baseline vcmux's resident memory may stay once a case
/// is over: the allocator keeps some freed memory for reuse, and the terminal's
/// history grows with the output each case sends.
const RSS_ALLOWANCE_KIB: u64 = 24 * 1024;

/// The password of the server the wrong-password case knocks on.
const PASSWORD: &str = "s3cret";

/// What `/proc` says of a process: resident memory now and at its peak, and open files.
#[derive(Debug, Clone, Copy)]
struct Usage {
    rss_kib: u64,
    peak_kib: u64,
    fds: usize,
}

fn usage(pid: u32) -> Usage {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("vcmux is running");
    let field = |name: &str| -> u64 {
        let line = status.lines().find(|l| l.starts_with(name)).expect("a /proc status field");
        line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("a number of kB")
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).expect("vcmux's fds").count();
    Usage { rss_kib: field("VmRSS:"), peak_kib: field("VmHWM:"), fds }
}

/// Polls `condition` until it holds, failing with `what` after [`STEP`].
async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + STEP;
    let mut ticks = tokio::time::interval(Duration::from_millis(10));
    while !condition() {
        assert!(Instant::now() < deadline, "{what}: not within {STEP:?}");
        ticks.tick().await;
    }
}

/// How a case's vcmux is set up.
#[derive(Default)]
struct Setup {
    /// The VNC server asks for [`PASSWORD`].
    password: bool,
    /// The fake QEMU never reads what is typed into the console.
    console_stalls: bool,
}

/// vcmux under attack, and the good viewer watching it.
struct Target {
    name: &'static str,
    vcmux: Vcmux,
    _qemu: FakeQemu,
    _dir: tempfile::TempDir,
    /// The fake QEMU's end of the console.
    console: UnixStream,
    /// Everything the console has sent, in order.
    sent: Vec<u8>,
    /// Lines sent so far, to number them.
    lines: u64,
    log: PathBuf,
    vnc: SocketAddr,
    websocket: SocketAddr,
    good: VncClient,
    mirror: Mirror,
    baseline: Usage,
    /// Bytes typed into the console (keys and pastes), as the fake QEMU read them.
    typed: Arc<AtomicU64>,
}

impl Target {
    async fn start(name: &'static str, setup: Setup) -> Target {
        let dir = temp_dir();
        let log = path_in(&dir, "console.log");
        let vnc_port = free_port();
        let ws_port = std::iter::repeat_with(free_port).find(|&p| p != vnc_port).unwrap_or_default();
        let mut vnc = format!("127.0.0.1::{vnc_port},websocket=127.0.0.1:{ws_port}");
        if setup.password {
            let file = path_in(&dir, "password");
            std::fs::write(&file, PASSWORD).unwrap();
            vnc.push_str(&format!(",password-file={file}"));
        }
        let file = format!("file,id=log,path={log}");
        let (qemu, vcmux) =
            start_on_fake_qemu(&dir, &["-chardev", "vc,id=vc0", "-chardev", &file, "-vnc", &vnc]);
        let console = qemu.accept();
        vcmux.wait_log("VNC viewers welcome");
        vcmux.wait_log("WebSocket (noVNC) viewers welcome");
        let typed = Arc::new(AtomicU64::new(0));
        if !setup.console_stalls {
            let mut reader = console.try_clone().unwrap();
            reader.set_read_timeout(None).unwrap();
            let count = typed.clone();
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 1 << 16];
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    count.fetch_add(n as u64, Ordering::SeqCst);
                }
            });
        }
        let vnc = SocketAddr::from(([127, 0, 0, 1], vnc_port));
        let password = setup.password.then_some(PASSWORD);
        let encodings =
            [VncEncoding::Zrle, VncEncoding::CopyRect, VncEncoding::Raw, VncEncoding::DesktopSizePseudo];
        let good = rfb_support::connect(vnc, password, &encodings, PixelFormat::bgra(), true)
            .await
            .expect("the good viewer connects");
        let mut target = Target {
            name,
            baseline: usage(vcmux.pid()),
            vcmux,
            _qemu: qemu,
            _dir: dir,
            console,
            sent: Vec::new(),
            lines: 0,
            log: PathBuf::from(log),
            vnc,
            websocket: SocketAddr::from(([127, 0, 0, 1], ws_port)),
            good,
            mirror: Mirror::new(&PixelFormat::bgra()),
            typed,
        };
        target.still_serves().await;
        target.baseline = usage(target.vcmux.pid());
        target
    }

    /// The console prints `count` more numbered lines.
    fn print_lines(&mut self, count: u64) {
        let mut text = Vec::new();
        for _ in 0..count {
            self.lines += 1;
            text.extend_from_slice(
                format!("{} line {} of the console\r\n", self.name, self.lines).as_bytes(),
            );
        }
        self.console.write_all(&text).expect("vcmux reads the console");
        self.sent.extend_from_slice(&text);
    }

    /// New output reaches the log in full and the good viewer's screen.
    async fn still_serves(&mut self) {
        self.print_lines(30);
        let log = self.log.clone();
        let want = self.sent.len() as u64;
        until("the log holds all the console sent", || file_len(log.to_str().unwrap()) >= want).await;
        assert_same("the file log", &std::fs::read(&self.log).unwrap(), &self.sent);
        let expected = render_tail(&self.sent);
        let deadline = Instant::now() + STEP;
        while !self.mirror.shows(&expected) {
            self.good.input(X11Event::Refresh).await.expect("the good viewer takes input");
            match timeout_at(deadline, self.good.recv_event()).await {
                Ok(Ok(event)) => self.mirror.apply(event),
                Ok(Err(e)) => panic!("{}: the good viewer failed: {e}", self.name),
                Err(_) => {
                    let log = self.vcmux.log();
                    let tail = &log[log.len().saturating_sub(3000)..];
                    let (w, h) = (self.mirror.width, self.mirror.height);
                    panic!(
                        "{}: the good viewer never showed the newest output ({w}x{h}); vcmux's log ends:\n{tail}",
                        self.name
                    )
                }
            }
        }
    }

    /// A raw client through the handshake (security None).
    async fn raw(&self) -> RawClient {
        let mut raw = RawClient::connect(self.vnc).await;
        raw.handshake().await;
        raw
    }

    /// The case is over: the good viewer still follows the console, the log is
    /// complete, file descriptors and memory are back to their baseline.
    /// Records and checks the peak.
    async fn finish(mut self) {
        self.still_serves().await;
        let pid = self.vcmux.pid();
        let baseline = self.baseline;
        until(&format!("{}: open fds back to the baseline {}", self.name, baseline.fds), || {
            usage(pid).fds <= baseline.fds
        })
        .await;
        let limit = baseline.rss_kib + RSS_ALLOWANCE_KIB;
        let rss = std::cell::Cell::new(0);
        let settled = timeout_at(
            Instant::now() + STEP,
            until("", || {
                rss.set(usage(pid).rss_kib);
                rss.get() <= limit
            }),
        );
        let after = usage(pid);
        let record = format!(
            "{} baseline_rss_kib={} peak_kib={} rss_after_kib={} fds={} typed={}\n",
            self.name,
            baseline.rss_kib,
            after.peak_kib,
            after.rss_kib,
            after.fds,
            self.typed.load(Ordering::SeqCst)
        );
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(self.name), &record).unwrap();
        eprint!("{record}");
        if settled.await.is_err() {
            panic!("{}: resident memory stayed at {} KiB, over {limit} KiB", self.name, rss.get());
        }
        assert!(after.peak_kib < PEAK_LIMIT_KIB, "{}: peak {} KiB", self.name, after.peak_kib);
        assert_eq!(self.vcmux.count_log("panicked"), 0, "vcmux panicked:\n{}", self.vcmux.log());
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.vcmux.log();
            eprintln!("{}: vcmux's log ends:\n{}", self.name, &log[log.len().saturating_sub(4000)..]);
        }
    }
}

/// What the vc shows after `sent`, from its last lines (each case prints 30
/// fresh ones before it looks, so that nothing older is on the screen).
fn render_tail(sent: &[u8]) -> Framebuffer {
    let from = sent.len().saturating_sub(4096);
    let start = if from == 0 { 0 } else { from + sent[from..].iter().position(|&b| b == b'\n').unwrap() + 1 };
    let mut terminal = Terminal::new(80, 24, 100);
    terminal.advance(&sent[start..]);
    let mut renderer = Renderer::new(&FontConfig::default()).unwrap();
    renderer.render(&mut terminal, true);
    renderer.framebuffer().clone()
}

/// Writes `bytes` (the peer may close half-way: that is the point) and waits
/// for the server to close the connection.
async fn closes_after(mut raw: RawClient, bytes: &[u8]) {
    let _ = raw.stream.write_all(bytes).await;
    raw.closed().await;
}

/// SetPixelFormat: bpp, depth, big-endian, true colour; maxes; shifts.
fn set_pixel_format(head: [u8; 4], max: [u16; 3], shift: [u8; 3]) -> Vec<u8> {
    let mut m = vec![0u8, 0, 0, 0];
    m.extend_from_slice(&head);
    for v in max {
        m.extend_from_slice(&v.to_be_bytes());
    }
    m.extend_from_slice(&shift);
    m.extend_from_slice(&[0, 0, 0]);
    m
}

/// A KeyEvent.
fn key(down: bool, keysym: u32) -> [u8; 8] {
    let k = keysym.to_be_bytes();
    [4, u8::from(down), 0, 0, k[0], k[1], k[2], k[3]]
}

/// A PointerEvent.
fn pointer(buttons: u8, x: u16, y: u16) -> [u8; 6] {
    let (x, y) = (x.to_be_bytes(), y.to_be_bytes());
    [5, buttons, x[0], x[1], y[0], y[1]]
}

/// A ClientCutText of `text`.
fn cut_text(text: &[u8]) -> Vec<u8> {
    let mut m = vec![6, 0, 0, 0];
    m.extend_from_slice(&(text.len() as u32).to_be_bytes());
    m.extend_from_slice(text);
    m
}

/// SetDesktopSize of one screen.
fn set_desktop_size(width: u16, height: u16) -> Vec<u8> {
    let mut m = vec![251, 0];
    m.extend_from_slice(&width.to_be_bytes());
    m.extend_from_slice(&height.to_be_bytes());
    m.extend_from_slice(&[1, 0]);
    m.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
    m.extend_from_slice(&width.to_be_bytes());
    m.extend_from_slice(&height.to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]);
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_cut_text_declaring_4_gib() {
    let target = Target::start("cut-text-4GiB", Setup::default()).await;
    for length in [u32::MAX, 0xffff_fffe, 0x8000_0000, 0x7fff_ffff, (1 << 20) + 1] {
        let mut m = vec![6, 0, 0, 0];
        m.extend_from_slice(&length.to_be_bytes());
        m.extend_from_slice(&[b'x'; 4096]);
        closes_after(target.raw().await, &m).await;
    }
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_encodings_with_65535_entries() {
    let target = Target::start("set-encodings-65535", Setup::default()).await;
    let mut m = vec![2, 0, 0xff, 0xff];
    for i in 0..65535i32 {
        m.extend_from_slice(&(i % 300 - 280).to_be_bytes());
    }
    closes_after(target.raw().await, &m).await;
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_pixel_formats_no_viewer_can_mean() {
    let target = Target::start("set-pixel-format", Setup::default()).await;
    let formats = [
        set_pixel_format([0, 0, 0, 1], [255, 255, 255], [16, 8, 0]), // 0 bits per pixel
        set_pixel_format([7, 7, 0, 1], [3, 3, 1], [0, 2, 4]),        // 7 bits per pixel
        set_pixel_format([64, 48, 0, 1], [65535, 65535, 65535], [32, 16, 0]), // 64 bits per pixel
        set_pixel_format([8, 8, 0, 0], [0, 0, 0], [0, 0, 0]),        // a colour map
        set_pixel_format([32, 24, 0, 0], [255, 255, 255], [16, 8, 0]), // true colour 0 at 32 bpp
        set_pixel_format([32, 24, 0, 1], [255, 255, 255], [200, 8, 0]), // a shift of 200
        set_pixel_format([32, 24, 1, 1], [255, 255, 255], [255, 255, 255]), // every shift 255
    ];
    for m in formats {
        closes_after(target.raw().await, &m).await;
    }
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_message_types() {
    let target = Target::start("unknown-types", Setup::default()).await;
    for m in
        [&[1u8, 0, 0, 0][..], &[7], &[8, 0], &[42, 0, 0], &[150], &[250, 0], &[252], &[254], &[255, 7, 0]]
    {
        closes_after(target.raw().await, m).await;
    }
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_messages() {
    let target = Target::start("truncated", Setup::default()).await;
    let whole: Vec<Vec<u8>> = vec![
        set_pixel_format([32, 24, 0, 1], [255, 255, 255], [16, 8, 0]),
        vec![2, 0, 0, 3, 0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0],
        vec![3, 0, 0, 0, 0, 0, 0, 80, 0, 24],
        key(true, 0x61).to_vec(),
        pointer(0, 5, 5).to_vec(),
        cut_text(b"half of a clipboard"),
        set_desktop_size(800, 456),
        vec![255, 0, 0, 1, 0, 0, 0, 0x61, 0, 0, 0, 30],
    ];
    for m in whole {
        for cut in [1, m.len() / 2, m.len() - 1] {
            let mut raw = target.raw().await;
            raw.write(&m[..cut]).await;
            raw.stream.shutdown().await.unwrap();
            raw.closed().await;
        }
    }
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_requests_outside_the_screen() {
    let target = Target::start("requests-outside", Setup::default()).await;
    let mut raw = target.raw().await;
    raw.set_encodings(&[0]).await;
    for (x, y, w, h) in [
        (800, 0, 10, 10),
        (0, 456, 10, 10),
        (65535, 65535, 65535, 65535),
        (790, 450, 65535, 65535),
        (0, 0, 0, 0),
    ] {
        for incremental in [0u8, 1] {
            let mut m = vec![3, incremental];
            for v in [x, y, w, h] {
                m.extend_from_slice(&u16::to_be_bytes(v));
            }
            raw.write(&m).await;
        }
    }
    // Still served: a request inside the screen gets the screen, within its bounds.
    raw.request(false, 800, 456).await;
    loop {
        let (rects, _) = raw.read_update().await;
        assert!(rects.iter().all(|&(x, y, w, h, _)| x + w <= 800 && y + h <= 456), "{rects:?}");
        if rects.iter().any(|r| r.2 == 800 && r.3 == 456) {
            break;
        }
    }
    drop(raw);
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_stalled_in_the_handshake() {
    let target = Target::start("stalled-handshakes", Setup::default()).await;
    let mut stalled = Vec::new();
    for i in 0..200 {
        let mut stream = TcpStream::connect(target.vnc).await.expect("connect");
        // Some say nothing, some stop half-way through their version.
        if i % 2 == 1 {
            stream.write_all(b"RFB 003").await.unwrap();
        }
        stalled.push(stream);
    }
    // The honest viewer gets in at once, on its first try, while they hang.
    let encodings = [VncEncoding::Zrle, VncEncoding::CopyRect];
    let honest = rfb_support::connect(target.vnc, None, &encodings, PixelFormat::bgra(), true)
        .await
        .unwrap_or_else(|e| {
            panic!("the honest viewer could not connect while 200 others stall: {e}\n{}", target.vcmux.log())
        });
    honest.input(X11Event::Refresh).await.expect("it asks for an update");
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    rfb_support::wait_event(&honest, |event| {
        let done = matches!(event, vnc::VncEvent::RawImage(..));
        mirror.apply(event);
        done.then_some(())
    })
    .await;
    drop(honest);
    drop(stalled);
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_connects_and_disconnects() {
    let target = Target::start("500-connects", Setup::default()).await;
    for i in 0..500 {
        match i % 3 {
            0 => drop(TcpStream::connect(target.vnc).await.expect("connect")),
            1 => drop(target.raw().await),
            _ => {
                let mut raw = target.raw().await;
                raw.set_encodings(&[16, 0]).await;
                raw.request(false, 800, 456).await;
                raw.read(4).await;
            }
        }
    }
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_that_never_reads_while_100_mib_flow() {
    let mut target = Target::start("never-reads-100MiB", Setup::default()).await;
    let mut hog = target.raw().await;
    hog.set_encodings(&[0]).await;
    hog.request(false, 800, 456).await;
    for _ in 0..64 {
        hog.request(true, 800, 456).await;
    }
    // 100 MiB of lines, written by a thread as fast as vcmux takes them.
    let mut block = Vec::new();
    for n in 0..1000 {
        block.extend_from_slice(
            format!("{n:08} the quick brown fox jumps over the lazy dog 0123456789\r\n").as_bytes(),
        );
    }
    let blocks = (100 << 20) / block.len();
    let mut console = target.console.try_clone().unwrap();
    let chunk = block.clone();
    let writer = std::thread::spawn(move || {
        for _ in 0..blocks {
            console.write_all(&chunk).expect("vcmux takes the console's output");
        }
    });
    for _ in 0..blocks {
        target.sent.extend_from_slice(&block);
    }
    // The hog keeps asking, full updates too, and never reads.
    let request = [3u8, 0, 0, 0, 0, 0, 3, 32, 1, 200];
    while !writer.is_finished() {
        match tokio::time::timeout(Duration::from_millis(100), hog.stream.write_all(&request)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => break, // dropped: fine
            Err(_) => {}         // its socket is full: fine
        }
    }
    writer.join().unwrap();
    drop(hog);
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_in_a_loop() {
    let target = Target::start("wrong-passwords", Setup { password: true, ..Setup::default() }).await;
    for _ in 0..50 {
        let mut raw = RawClient::connect(target.vnc).await;
        raw.read(12).await;
        raw.write(b"RFB 003.008\n").await;
        let count = raw.read(1).await[0];
        if count == 0 {
            // Backing off: told why, then closed.
            raw.closed().await;
            continue;
        }
        assert_eq!(raw.read(usize::from(count)).await, [2], "VNC authentication only");
        raw.write(&[2]).await;
        let challenge: [u8; 16] = raw.read(16).await.try_into().unwrap();
        raw.write(&vcmux::rfb::auth::response(b"wrong", &challenge)).await;
        assert_eq!(raw.read(4).await, [0, 0, 0, 1], "SecurityResult failed");
        raw.closed().await;
    }
    assert!(
        target.vcmux.count_log("too many authentication failures") > 0
            || target.vcmux.count_log("backing off") > 0
            || target.vcmux.count_log("authentication") > 0
    );
    target.finish().await;
}

/// Upgrades `stream` to a WebSocket.
async fn upgrade(stream: &mut TcpStream) {
    use tokio::io::AsyncReadExt;
    let request = "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    stream.write_all(request.as_bytes()).await.expect("send the upgrade");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(STEP, stream.read(&mut byte)).await.expect("an answer").expect("read");
        assert!(n > 0, "closed during the upgrade");
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
}

/// A masked client frame (mask 0: the payload as it is), with the length
/// field as `len` says whatever the payload.
fn ws_frame(first: u8, len: u64, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![first];
    match len {
        0..126 => f.push(0x80 | len as u8),
        126..65536 => {
            f.push(0x80 | 126);
            f.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            f.push(0x80 | 127);
            f.extend_from_slice(&len.to_be_bytes());
        }
    }
    f.extend_from_slice(&[0, 0, 0, 0]);
    f.extend_from_slice(payload);
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_frames_that_broke_other_servers() {
    let target = Target::start("websocket", Setup::default()).await;
    let mut unmasked = vec![0x82, 12];
    unmasked.extend_from_slice(b"RFB 003.008\n");
    let mut fragments = ws_frame(0x02, 100, &[0; 100]);
    for _ in 0..40 {
        fragments.extend(ws_frame(0x00, 60000, &[0; 60000]));
    }
    let cases: Vec<Vec<u8>> = vec![
        ws_frame(0x82, 1 << 63, &[0; 1024]),
        ws_frame(0x82, (1 << 63) - 1, &[0; 1024]),
        ws_frame(0x82, 1 << 40, &[0; 1024]),
        unmasked,
        fragments,
    ];
    for bytes in cases {
        let mut stream = TcpStream::connect(target.websocket).await.unwrap();
        upgrade(&mut stream).await;
        closes_after(RawClient { stream }, &bytes).await;
    }
    // A ping flood from a client that never reads the pongs: a megabyte at a
    // time until the server stops taking them or closes; memory stays bounded.
    let mut stream = TcpStream::connect(target.websocket).await.unwrap();
    upgrade(&mut stream).await;
    let pings: Vec<u8> = (0..8000).flat_map(|_| ws_frame(0x89, 125, &[0x55; 125])).collect();
    for _ in 0..64 {
        match tokio::time::timeout(Duration::from_secs(2), stream.write_all(&pings)).await {
            Ok(Ok(())) => {}
            _ => break,
        }
    }
    drop(stream);
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_and_pointer_floods() {
    let target = Target::start("key-pointer-floods", Setup::default()).await;
    let mut raw = target.raw().await;
    // 100 000 presses and releases of 'a': 200 000 KeyEvents, typed.
    let keys: Vec<u8> = (0..100_000).flat_map(|_| [key(true, 0x61), key(false, 0x61)]).flatten().collect();
    raw.write(&keys).await;
    // 200 000 PointerEvents: moves, clicks, the wheel up and down (history views).
    let buttons = [0u8, 1, 0, 8, 0, 16, 0, 4, 0];
    let moves: Vec<u8> = (0..200_000u32)
        .flat_map(|i| pointer(buttons[i as usize % buttons.len()], (i % 800) as u16, (i % 456) as u16))
        .collect();
    raw.write(&moves).await;
    // QEMU extended key events, too.
    let qemu_keys: Vec<u8> =
        (0..50_000u32).flat_map(|i| [255, 0, 0, (i % 2) as u8, 0, 0, 0, 0x62, 0, 0, 0, 48]).collect();
    raw.write(&qemu_keys).await;
    // The connection is still served after it all.
    raw.set_encodings(&[0]).await;
    raw.request(false, 800, 456).await;
    raw.read_update().await;
    drop(raw);
    let typed = target.typed.clone();
    until("the 150 000 keys typed reach the console", || typed.load(Ordering::SeqCst) >= 100_000).await;
    target.finish().await;
}

/// A viewer pastes a mebibyte over and over into a console that does not read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pastes_into_a_console_that_does_not_read() {
    let target = Target::start("paste-flood", Setup { console_stalls: true, ..Setup::default() }).await;
    let mut raw = target.raw().await;
    raw.write(&cut_text(&vec![b'p'; 1 << 20])).await;
    const SHIFT: u32 = 0xffe1;
    const INSERT: u32 = 0xff63;
    let mut paste = Vec::new();
    for _ in 0..300 {
        paste.extend_from_slice(&key(true, SHIFT));
        paste.extend_from_slice(&key(true, INSERT));
        paste.extend_from_slice(&key(false, INSERT));
        paste.extend_from_slice(&key(false, SHIFT));
    }
    raw.write(&paste).await;
    raw.set_encodings(&[0]).await;
    raw.request(false, 800, 456).await;
    raw.read_update().await;
    drop(raw);
    target.finish().await;
}

/// A viewer asks for the largest screens there are, and more, in Raw: each
/// resize is made at most 1920x1200 (or refused), and memory stays bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_desktop_size_to_the_largest_screens() {
    let target = Target::start("huge-desktop-size", Setup::default()).await;
    let mut raw = target.raw().await;
    raw.set_encodings(&[0, -308]).await;
    // Ends back at the console's size, so that the good viewer's screen is the one it knows.
    for (w, h) in [(7680, 4320), (8192, 4050), (65535, 65535), (4000, 4000), (3840, 2160), (800, 456)] {
        raw.write(&set_desktop_size(w, h)).await;
        raw.request(false, w, h).await;
        // Read until the answer, whatever came before it.
        let size = loop {
            let (rects, _) = raw.read_update().await;
            for &(_, _, w, h, _) in &rects {
                assert!(w <= 1920 && h <= 1200, "a screen of {w}x{h}");
            }
            if let Some(&(_, _, w, h, _)) = rects.iter().find(|r| r.4 == -308) {
                break (w, h);
            }
        };
        // Then the pixels of the request (the answer goes alone, first).
        let (rects, _) = raw.read_update().await;
        assert!(rects.iter().all(|&(_, _, w, h, _)| w <= 1920 && h <= 1200), "{rects:?}");
        if (w, h) == (800, 456) {
            assert_eq!(size, (800, 456));
        }
    }
    drop(raw);
    target.finish().await;
}

/// Every connection the server allows, each asking for full Raw updates and
/// never reading, while the console prints: their unsent output together is
/// what the process's memory budget bounds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_one_viewers_that_never_read() {
    let mut target = Target::start("31-hogs", Setup::default()).await;
    let mut hogs = Vec::new();
    for _ in 0..31 {
        let mut hog = target.raw().await;
        hog.set_encodings(&[0]).await;
        hogs.push(hog);
    }
    let request = [3u8, 0, 0, 0, 0, 0, 3, 32, 1, 200];
    for round in 0..40 {
        target.print_lines(30);
        for hog in &mut hogs {
            let _ = tokio::time::timeout(Duration::from_millis(50), hog.stream.write_all(&request)).await;
        }
        if round % 10 == 0 {
            target.still_serves().await;
        }
    }
    drop(hogs);
    target.finish().await;
}
