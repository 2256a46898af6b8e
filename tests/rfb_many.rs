//! Many viewers of one screen (encode once, send to many), vnc-rs viewers
//! over real sockets:
//! - a viewer on a throttled link beside fifteen fast ones. The fast ones see
//!   every frame while the slow one falls behind; once the screen stops
//!   changing, the slow one shows exactly the server's framebuffer;
//! - Tight viewers of the real binary's console joining its group one after
//!   another while a shell floods it: each shows what `vcmux render` shows
//!   for the console log.
//! - the group's frame clock giving way to a key, and a key's echo on a busy
//!   screen coming in the first update after it.

mod common;
mod rfb_support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{STEP, Vcmux, free_port, temp_dir};
use futures_util::future::join_all;
use rfb_support::{
    Mirror, RawClient, busy_canvas, connect_over, rgb565, start, sync, sync_with_log, type_text,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;
use vcmux::frame::Rect;
use vcmux::rfb::ServerSettings;
use vcmux::rfb::desktop::ViewerInput;
use vcmux::rfb::painted_desktop::PaintedDesktop;
use vnc::{PixelFormat, VncClient, VncEncoding, VncEvent, X11Event};

/// What the slow viewer's socket is read at: 64 KB a second.
const SLOW_RATE: usize = 64 * 1024;

/// A link to the server at `addr` whose server-to-viewer half is read at
/// most `rate` bytes a second (`None`: as fast as the viewer takes it);
/// counts the bytes it carried that way.
async fn link(addr: SocketAddr, rate: Option<usize>, carried: Arc<AtomicUsize>) -> TcpStream {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
    let near = listener.local_addr().expect("a bound address");
    tokio::spawn(async move {
        let (viewer, _) = listener.accept().await.expect("the viewer connects");
        let server = TcpStream::connect(addr).await.expect("the server accepts");
        let (mut from_viewer, mut to_viewer) = viewer.into_split();
        let (mut from_server, mut to_server) = server.into_split();
        tokio::spawn(async move { tokio::io::copy(&mut from_viewer, &mut to_server).await });
        let start = Instant::now();
        let mut buffer = vec![0u8; 4096];
        let mut total = 0usize;
        loop {
            let n = match from_server.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if to_viewer.write_all(&buffer[..n]).await.is_err() {
                break;
            }
            total += n;
            carried.fetch_add(n, Ordering::SeqCst);
            if let Some(rate) = rate {
                // The reader's pace: the next read once these bytes are due.
                tokio::time::sleep_until(start + Duration::from_secs_f64(total as f64 / rate as f64)).await;
            }
        }
    });
    TcpStream::connect(near).await.expect("connect to the link")
}

/// A vnc-rs viewer over a [`link`].
async fn viewer(
    addr: SocketAddr,
    rate: Option<usize>,
    encodings: &[VncEncoding],
    format: PixelFormat,
) -> (VncClient, Mirror, Arc<AtomicUsize>) {
    let carried = Arc::new(AtomicUsize::new(0));
    let stream = link(addr, rate, carried.clone()).await;
    let client = connect_over(stream, None, encodings, format, true).await.expect("the viewer connects");
    (client, Mirror::new(&format), carried)
}

/// Paints `area` with noise of every colour (about three bytes a pixel in
/// any encoding), different for each `seed`.
fn draw_noise(canvas: &PaintedDesktop, area: Rect, seed: u32) {
    canvas.paint(|fb| {
        let width = usize::from(fb.width());
        let mut state = seed.wrapping_mul(2654435761) | 1;
        for y in area.y..area.y + area.height {
            for x in area.x..area.x + area.width {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                fb.pixels_mut()[usize::from(y) * width + usize::from(x)] = state & 0x00ff_ffff;
            }
        }
        vcmux::frame::FrameDamage { moves: vec![], rects: vec![area] }
    });
}

/// Applies what `client` is sent, asking for the next update after each
/// piece of one (as a viewer that wants every frame), until `stop` is true.
async fn keep_asking(client: &VncClient, mirror: &mut Mirror, mut stop: watch::Receiver<bool>) {
    client.input(X11Event::Refresh).await.expect("the viewer takes input");
    loop {
        tokio::select! {
            // The flag's guard dropped inside, so the task is Send.
            () = async { drop(stop.wait_for(|stop| *stop).await) } => return,
            event = client.recv_event() => {
                let event = event.expect("the viewer keeps its connection");
                let asks = matches!(event, VncEvent::RawImage(..) | VncEvent::Copy(..));
                mirror.apply(event);
                if asks {
                    client.input(X11Event::Refresh).await.expect("the viewer takes input");
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_viewer_holds_back_none_of_fifteen_and_ends_on_the_last_frame() {
    let (w, h) = (320u16, 192u16);
    let canvas = busy_canvas(w, h);
    let (_server, addr) = start(&canvas, ServerSettings::default()).await;
    let zrle = [VncEncoding::Zrle, VncEncoding::CopyRect];
    let tight = [VncEncoding::Tight, VncEncoding::CopyRect];

    // Fifteen fast viewers: three groups (ZRLE in 32 and 16 bits, Tight),
    // the slow one in the largest.
    let mut fast = Vec::new();
    for i in 0..15 {
        let (encodings, format) = match i % 5 {
            0 => (&tight[..], PixelFormat::bgra()),
            1 => (&zrle[..], rgb565()),
            _ => (&zrle[..], PixelFormat::bgra()),
        };
        fast.push(viewer(addr, None, encodings, format).await);
    }
    let (slow, mut slow_mirror, slow_carried) =
        viewer(addr, Some(SLOW_RATE), &zrle, PixelFormat::bgra()).await;
    sync(&slow, &mut slow_mirror, &canvas).await;

    // A flood: each frame a new band of noise (about 46 KB in any encoding),
    // painted once every fast viewer shows the one before, while the slow
    // viewer asks for update after update.
    let (stop, stopped) = watch::channel(false);
    let flood = async {
        for step in 0..60u32 {
            draw_noise(&canvas, Rect::new(0, (step % 4) as u16 * 48, w, 48), step);
            join_all(fast.iter_mut().map(|(client, mirror, _)| sync(client, mirror, &canvas))).await;
        }
        stop.send_replace(true);
    };
    tokio::join!(flood, keep_asking(&slow, &mut slow_mirror, stopped));
    let slowest_fast = fast.iter().map(|(_, _, carried)| carried.load(Ordering::SeqCst)).min().unwrap_or(0);
    let slow_bytes = slow_carried.load(Ordering::SeqCst);
    assert!(
        slow_bytes * 2 < slowest_fast,
        "the slow viewer was sent {slow_bytes} bytes during the flood, the fast ones at least {slowest_fast}: \
         they waited for it"
    );

    // The console stops: the slow viewer catches up to the last frame.
    sync(&slow, &mut slow_mirror, &canvas).await;
    assert!(slow_mirror.shows(&canvas.framebuffer()));
    for (client, _, _) in fast {
        let _ = client.close().await;
    }
    let _ = slow.close().await;
}

/// A key cuts the wait for the clock's tick short: at one frame a second, a
/// change that came just after a frame goes out with the key that follows
/// it, not a second later (the echo of a key is such a change).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_sends_the_next_frame_without_waiting_for_the_tick() {
    let canvas = busy_canvas(64, 48);
    let config = ServerSettings { frame_rate: 1, ..ServerSettings::default() };
    let (_server, addr) = start(&canvas, config).await;
    let mut viewer = RawClient::connect(addr).await;
    let (w, h, _) = viewer.handshake().await;
    viewer.set_encodings(&[16]).await;
    viewer.request(false, w, h).await;
    viewer.read_update().await;
    // Its own update sent, it is in a group: the next frame is the group's,
    // on the clock.
    canvas.fill(Rect::new(0, 0, 8, 8), 0x00ff0000);
    viewer.request(true, w, h).await;
    viewer.read_update().await;
    // A change right after that frame waits for the next tick, a second
    // later, unless a key comes.
    canvas.fill(Rect::new(8, 0, 8, 8), 0x0000ff00);
    viewer.request(true, w, h).await;
    let typed = Instant::now();
    let mut key = vec![4, 1, 0, 0];
    key.extend_from_slice(&u32::from(b'k').to_be_bytes());
    viewer.write(&key).await;
    let (rects, _) = viewer.read_update().await;
    let waited = typed.elapsed();
    assert!(!rects.is_empty(), "the change is sent");
    assert!(waited < Duration::from_millis(500), "the frame waited {waited:?} after the key, for the tick");
}

/// On a busy screen a key's echo is in the first update after the key: the
/// change that came just before the key is not its echo, so the group cuts
/// its frame a moment after the key rather than at once. The "program"
/// answers each key 0.3 ms after it by painting the top-left corner; at one
/// frame a second, an echo the first frame missed would wait a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_busy_screen_the_first_update_after_a_key_shows_its_echo() {
    const KEYS: usize = 10;
    let canvas = busy_canvas(64, 48);
    let config = ServerSettings { frame_rate: 1, ..ServerSettings::default() };
    let (_server, addr) = start(&canvas, config).await;
    let mut inputs = canvas.inputs();
    let program = canvas.clone();
    tokio::spawn(async move {
        let mut answered = 0;
        while inputs.changed().await.is_ok() {
            let keys = inputs
                .borrow_and_update()
                .iter()
                .filter(|i| matches!(i, ViewerInput::Key { down: true, .. }))
                .count();
            if keys > answered {
                answered = keys;
                tokio::time::sleep(Duration::from_micros(300)).await;
                program.fill(Rect::new(0, 0, 8, 8), 0x00ff0000 + answered as u32);
            }
        }
    });
    let mut viewer = RawClient::connect(addr).await;
    let (w, h, _) = viewer.handshake().await;
    viewer.set_encodings(&[0]).await;
    viewer.request(false, w, h).await;
    viewer.read_update().await;
    // In the group from its second update.
    canvas.fill(Rect::new(40, 30, 8, 8), 0x0000ff00);
    viewer.request(true, w, h).await;
    viewer.read_update().await;
    let echoes = |rects: &[(u16, u16, u16, u16, i32)]| rects.iter().any(|&(x, y, _, _, _)| x == 0 && y == 0);
    let mut first = 0;
    for key in 0..KEYS {
        // Busy: the screen changed since the last frame when the key comes.
        canvas.fill(Rect::new(40, 30, 8, 8), 0x000000ff + key as u32);
        viewer.request(true, w, h).await;
        let mut message = vec![4, 1, 0, 0];
        message.extend_from_slice(&u32::from(b'k').to_be_bytes());
        viewer.write(&message).await;
        let (rects, _) = viewer.read_update().await;
        if echoes(&rects) {
            first += 1;
        } else {
            // The echo comes on the next tick.
            viewer.request(true, w, h).await;
            let (rects, _) = viewer.read_update().await;
            assert!(echoes(&rects), "the echo is sent at all: {rects:?}");
        }
    }
    // With the frame cut at once on the key, none is; a loaded machine may
    // hold the program back past the frame's time now and then.
    assert!(first >= KEYS / 2, "{first} of {KEYS} keys' echoes were in the first update after the key");
}

/// The real binary: a shell on a vc, its console log, VNC on a loopback port,
/// and the group's joins logged.
struct Console {
    vcmux: Vcmux,
    log: PathBuf,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Console {
    fn start() -> Console {
        let dir = temp_dir();
        let log = dir.path().join("console.log");
        let log_chardev = format!("file,id=log,path={}", log.display());
        let port = free_port();
        let vnc = format!("127.0.0.1:{}", port - 5900);
        let args = ["-chardev", "vc,id=vc0", "-chardev", &log_chardev, "-vnc", &vnc, "--", "sh"];
        let vcmux = Vcmux::start_with(&args, |c| {
            c.env("PS1", "$ ").env("ENV", "/dev/null").env("RUST_LOG", "info,vcmux::rfb::group=debug");
        });
        vcmux.wait_log("started 'sh'");
        Console { vcmux, log, addr: SocketAddr::from(([127, 0, 0, 1], port)), dir }
    }

    fn log_len(&self) -> usize {
        std::fs::metadata(&self.log).map_or(0, |m| m.len() as usize)
    }

    /// Waits (without holding up the runtime) until the console log holds
    /// `len` bytes or `needle`.
    async fn wait_log(&self, len: usize, needle: Option<&str>) {
        let deadline = Instant::now() + STEP;
        loop {
            let enough = match needle {
                Some(needle) => std::fs::read(&self.log)
                    .is_ok_and(|bytes| String::from_utf8_lossy(&bytes).contains(needle)),
                None => self.log_len() >= len,
            };
            if enough {
                return;
            }
            assert!(Instant::now() < deadline, "the console log never held {len} bytes or {needle:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// A Tight viewer of `addr` that asks for update after update until `stop`,
/// then hands itself back.
async fn tight_viewer(
    addr: SocketAddr,
    stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<(VncClient, Mirror)> {
    let stream = TcpStream::connect(addr).await.expect("vcmux accepts");
    let format = PixelFormat::bgra();
    let encodings = [VncEncoding::Tight, VncEncoding::CopyRect];
    let client = connect_over(stream, None, &encodings, format, true).await.expect("the viewer connects");
    let mut mirror = Mirror::new(&format);
    tokio::spawn(async move {
        keep_asking(&client, &mut mirror, stop).await;
        (client, mirror)
    })
}

/// Bytes of shell output between two joins.
const BETWEEN_JOINS: usize = 300_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tight_viewers_joining_one_by_one_during_a_flood_each_show_the_console() {
    let console = Console::start();
    let (stop, stopped) = watch::channel(false);
    let mut viewers = vec![tight_viewer(console.addr, stopped.clone()).await];

    // The flood: random hex until the test says stop, typed by a fifth viewer.
    let stop_file = console.dir.path().join("stop");
    let typist = connect_over(
        TcpStream::connect(console.addr).await.expect("vcmux accepts"),
        None,
        &[VncEncoding::Raw],
        PixelFormat::bgra(),
        true,
    )
    .await
    .expect("the typist connects");
    let flood = format!(
        "while [ ! -e {} ]; do od -An -tx1 -N 3000 /dev/urandom; done; echo flood-$((6 * 7))",
        stop_file.display()
    );
    type_text(&typist, &flood).await;

    // Three more join, each after another 300 KB of output.
    for joined in 1..=3 {
        console.wait_log(console.log_len() + BETWEEN_JOINS, None).await;
        viewers.push(tight_viewer(console.addr, stopped.clone()).await);
        assert_eq!(viewers.len(), joined + 1);
    }
    console.wait_log(console.log_len() + BETWEEN_JOINS, None).await;
    std::fs::write(&stop_file, b"").expect("write the stop file");
    console.wait_log(0, Some("flood-42\r\n")).await;
    stop.send_replace(true);

    for viewer in viewers {
        let (client, mut mirror) = viewer.await.expect("the viewer's task ends");
        sync_with_log(&client, &mut mirror, &console.log).await;
        let _ = client.close().await;
    }
    // They shared one encoding: the first started the group, the others
    // joined it (each at least once; one that lagged may have left and joined again).
    let log = console.vcmux.log();
    assert_eq!(console.vcmux.count_log("started a Tight group"), 1, "{log}");
    let joins = console.vcmux.count_log("joined a Tight group at a keyframe");
    assert!(joins >= 3, "{joins} joins:\n{log}");
    let _ = typist.close().await;
}
