//! The VNC server against clients that misbehave (the hostile inputs that broke
//! other servers), each closing only its own connection while a good viewer
//! carries on; and the wire details real viewers depend on: old protocol
//! versions, zero padding, byte counts of a scroll.

mod rfb_support;

use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use rfb_support::{Mirror, RawClient, STEP, busy_canvas, connect, draw_specks, start, sync};
use vcmux::frame::Rect;
use vcmux::rfb::painted_desktop::PaintedDesktop;
use vcmux::rfb::{Server, ServerSettings};
use vnc::{PixelFormat, VncClient, VncEncoding};

/// A server with a good viewer in sync, for the hostile ones to try.
struct Victim {
    canvas: Arc<PaintedDesktop>,
    server: Server,
    addr: std::net::SocketAddr,
    good: VncClient,
    mirror: Mirror,
}

impl Victim {
    async fn new(config: ServerSettings) -> Victim {
        let canvas = busy_canvas(120, 80);
        let (server, addr) = start(&canvas, config).await;
        let good =
            connect(addr, None, &[VncEncoding::Zrle, VncEncoding::CopyRect], PixelFormat::bgra(), true)
                .await
                .expect("the good viewer connects");
        let mut mirror = Mirror::new(&PixelFormat::bgra());
        sync(&good, &mut mirror, &canvas).await;
        Victim { canvas, server, addr, good, mirror }
    }

    /// The good viewer still follows the screen.
    async fn still_serves(&mut self) {
        draw_specks(&self.canvas, Rect::new(0, 0, 120, 40), 99);
        sync(&self.good, &mut self.mirror, &self.canvas).await;
    }

    /// A raw client through the handshake.
    async fn raw(&self) -> RawClient {
        let mut raw = RawClient::connect(self.addr).await;
        raw.handshake().await;
        raw
    }
}

/// SetPixelFormat: bpp, depth, big-endian and true-colour flags; maxes; shifts.
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

async fn closes_after(message: &[u8]) {
    let mut victim = Victim::new(ServerSettings::default()).await;
    let mut raw = victim.raw().await;
    raw.write(message).await;
    raw.closed().await;
    victim.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_client_cut_text_closes_the_connection() {
    closes_after(&[6, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_negative_client_cut_text_closes_the_connection() {
    closes_after(&[6, 0, 0, 0, 0xff, 0xff, 0xff, 0xfe]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_text_just_over_a_mebibyte_closes_the_connection() {
    closes_after(&[6, 0, 0, 0, 0x00, 0x10, 0x00, 0x01]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_message_type_closes_the_connection() {
    closes_after(&[42, 0, 0, 0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_pixel_formats_close_the_connection() {
    let formats = [
        set_pixel_format([24, 24, 0, 1], [255, 255, 255], [16, 8, 0]), // 24 bpp
        set_pixel_format([32, 0, 0, 1], [255, 255, 255], [16, 8, 0]),  // depth 0
        set_pixel_format([32, 24, 0, 1], [0, 255, 255], [16, 8, 0]),   // red max 0
        set_pixel_format([16, 16, 0, 1], [255, 255, 255], [16, 8, 0]), // shifts past 16 bits
        set_pixel_format([32, 24, 0, 1], [255, 255, 255], [30, 8, 0]), // red past 32 bits
        set_pixel_format([8, 8, 0, 0], [0, 0, 0], [0, 0, 0]),          // colour map
    ];
    let mut victim = Victim::new(ServerSettings::default()).await;
    for m in formats {
        let mut raw = victim.raw().await;
        raw.write(&m).await;
        raw.closed().await;
    }
    victim.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_true_colour_format_is_served() {
    let victim = Victim::new(ServerSettings::default()).await;
    // 8-bit BGR233, 16-bit little-endian RGB555, 32-bit big-endian.
    let formats = [
        (set_pixel_format([8, 8, 0, 1], [7, 7, 3], [0, 3, 6]), 1),
        (set_pixel_format([16, 15, 0, 1], [31, 31, 31], [10, 5, 0]), 2),
        (set_pixel_format([32, 24, 1, 1], [255, 255, 255], [0, 8, 16]), 4),
    ];
    for (m, bytes) in formats {
        let mut raw = victim.raw().await;
        raw.write(&m).await;
        raw.set_encodings(&[0]).await;
        raw.request(false, 120, 80).await;
        let head = raw.read(4).await;
        assert_eq!(&head[..2], &[0, 0]);
        let rect = raw.read(12).await;
        assert_eq!(&rect[8..], &[0, 0, 0, 0], "Raw");
        assert_eq!(raw.read(120 * 80 * bytes).await.len(), 120 * 80 * bytes);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_security_type_not_offered_is_refused() {
    let mut victim = Victim::new(ServerSettings::default()).await;
    let mut raw = RawClient::connect(victim.addr).await;
    raw.read(12).await;
    raw.write(b"RFB 003.008\n").await;
    assert_eq!(raw.read(2).await, [1, 1]);
    raw.write(&[2]).await; // VNC authentication, never offered
    assert_eq!(raw.read(4).await, [0, 0, 0, 1], "SecurityResult failed");
    let len = raw.read(4).await;
    let reason = raw.read(u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize).await;
    assert!(String::from_utf8_lossy(&reason).contains("not offered"));
    raw.closed().await;

    // With a password set, None is not offered either.
    let canvas = busy_canvas(10, 10);
    let (_server, addr) =
        start(&canvas, ServerSettings { password: Some("pw".into()), ..ServerSettings::default() }).await;
    let mut raw = RawClient::connect(addr).await;
    raw.read(12).await;
    raw.write(b"RFB 003.007\n").await;
    assert_eq!(raw.read(2).await, [1, 2]);
    raw.write(&[1]).await;
    raw.closed().await;
    victim.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_handshake_is_dropped() {
    let config =
        ServerSettings { handshake_timeout: Duration::from_millis(300), ..ServerSettings::default() };
    let mut victim = Victim::new(config).await;
    // Says nothing after the server's version.
    let mut silent = RawClient::connect(victim.addr).await;
    silent.read(12).await;
    // Stops in the middle of its version.
    let mut halfway = RawClient::connect(victim.addr).await;
    halfway.write(b"RFB 003").await;
    silent.closed().await;
    halfway.closed().await;
    victim.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_instead_of_a_version_is_refused() {
    let mut victim = Victim::new(ServerSettings::default()).await;
    let mut raw = RawClient::connect(victim.addr).await;
    raw.write(b"GET / HTTP/1.1\r\n\r\n").await;
    raw.closed().await;
    victim.still_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_3_3_and_3_7_and_unknown_ones_are_spoken() {
    let canvas = busy_canvas(30, 20);
    let (_server, addr) = start(&canvas, ServerSettings::default()).await;
    // 3.3: the server names the security type as a 32-bit word; no result for None.
    let mut raw = RawClient::connect(addr).await;
    raw.read(12).await;
    raw.write(b"RFB 003.003\n").await;
    assert_eq!(raw.read(4).await, [0, 0, 0, 1]);
    raw.write(&[1]).await;
    assert_eq!(raw.server_init().await.0, 30);
    // 3.5 is 3.3 (RFC 6143 7.1.1).
    let mut raw = RawClient::connect(addr).await;
    raw.read(12).await;
    raw.write(b"RFB 003.005\n").await;
    assert_eq!(raw.read(4).await, [0, 0, 0, 1]);
    // 3.7: a list of types, no SecurityResult for None.
    let mut raw = RawClient::connect(addr).await;
    raw.read(12).await;
    raw.write(b"RFB 003.007\n").await;
    assert_eq!(raw.read(2).await, [1, 1]);
    raw.write(&[1, 1]).await;
    assert_eq!(raw.server_init().await.1, 20);
    // 3.9 and 4.0 get 3.8.
    let mut raw = RawClient::connect(addr).await;
    raw.read(12).await;
    raw.write(b"RFB 004.000\n").await;
    assert_eq!(raw.read(2).await, [1, 1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_init_carries_our_format_and_name_with_zero_padding() {
    let canvas = Arc::new(PaintedDesktop::new("vcmux vc0", 640, 384));
    let (_server, addr) = start(&canvas, ServerSettings::default()).await;
    let mut raw = RawClient::connect(addr).await;
    let (width, height, rest) = raw.handshake().await;
    assert_eq!((width, height), (640, 384));
    // 32 bpp, depth 24, little-endian, true colour, 255/255/255, shifts 16/8/0, padding.
    assert_eq!(&rest[..16], &[32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
    assert_eq!(&rest[20..], b"vcmux vc0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_limit_are_closed() {
    let canvas = busy_canvas(30, 20);
    let (_server, addr) =
        start(&canvas, ServerSettings { connections: 1, ..ServerSettings::default() }).await;
    let mut first = RawClient::connect(addr).await;
    first.handshake().await;
    let mut second = RawClient::connect(addr).await;
    second.closed().await;
    // The first is unaffected.
    first.set_encodings(&[0]).await;
    first.request(false, 30, 20).await;
    first.read_update().await;
}

/// A one-line scroll of a text screen costs a CopyRect and the new line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_line_scroll_is_a_copyrect_and_one_line_under_a_kilobyte() {
    let canvas = busy_canvas(640, 384);
    let (_server, addr) = start(&canvas, ServerSettings::default()).await;
    let mut raw = RawClient::connect(addr).await;
    raw.handshake().await;
    raw.set_encodings(&[1, 16]).await;
    raw.request(false, 640, 384).await;
    raw.read_update().await;
    canvas.scroll_up(Rect::new(0, 0, 640, 384), 16, 0x00202020);
    canvas.fill(Rect::new(0, 368, 80, 16), 0x00c0c0c0);
    raw.request(true, 640, 384).await;
    let (rects, bytes) = raw.read_update().await;
    assert_eq!(rects[0], (0, 0, 640, 368, 1), "a CopyRect first");
    assert!(rects[1..].iter().all(|r| r.4 == 16 && r.1 >= 368), "then the new line in ZRLE: {rects:?}");
    assert!(bytes < 1024, "{bytes} bytes for a one-line scroll");
}

/// A viewer that asks for full updates and never reads is dropped once its
/// unsent output passes five screenfuls (QEMU's rule), and nobody else notices.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_whose_output_piles_up_is_dropped() {
    let mut victim = Victim::new(ServerSettings::default()).await;
    let mut hog = victim.raw().await;
    hog.set_encodings(&[0]).await;
    // Each full Raw update is 38 KB; the throttle's floor is 1 MiB, so 5 MiB
    // of unread updates takes ~140 of them, plus what the socket buffers hold.
    // The hog never reads: it asks until the server lets it go.
    let request = [3u8, 0, 0, 0, 0, 0, 0, 120, 0, 80];
    let deadline = tokio::time::Instant::now() + STEP;
    while victim.server.viewers() > 1 {
        assert!(tokio::time::Instant::now() < deadline, "the hog was never dropped");
        let sent = tokio::time::timeout(STEP, hog.stream.write_all(&request)).await;
        if !matches!(sent, Ok(Ok(()))) {
            break;
        }
    }
    hog.closed().await;
    victim.still_serves().await;
    assert_eq!(victim.server.viewers(), 1);
}

/// Random bytes after the handshake, many times over: each connection ends or
/// carries on, nothing panics (a panic in a connection's task would only end
/// that task, so panics are counted), the good viewer keeps being served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_messages_break_nothing() {
    static PANICS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        default_hook(info);
    }));
    let mut victim = Victim::new(ServerSettings::default()).await;
    let mut state = 0x2545f4914f6cdd1du64;
    for round in 0..40 {
        let mut raw = victim.raw().await;
        let mut junk = vec![0u8; 512];
        for b in junk.iter_mut() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *b = state as u8;
        }
        // Start most of them with a real message type, so the parser goes deeper.
        junk[0] = [0u8, 2, 3, 4, 5, 6, 251, 255][round % 8];
        let _ = raw.stream.write_all(&junk).await;
        // If it survived, make it encode something in whatever it set up.
        let _ = raw.stream.write_all(&[3, 0, 0, 0, 0, 0, 0, 120, 0, 80]).await;
        drop(raw);
    }
    victim.still_serves().await;
    assert_eq!(PANICS.load(std::sync::atomic::Ordering::SeqCst), 0, "something panicked");
}
