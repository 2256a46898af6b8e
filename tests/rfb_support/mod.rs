//! Shared helpers of the VNC server tests: a server on a free port serving a
//! [`PaintedDesktop`], a vnc-rs viewer that mirrors what it is sent, and a raw RFB
//! client for the messages vnc-rs would never send.

#![allow(dead_code)] // each test binary uses its own subset

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, timeout_at};
use vcmux::frame::{Framebuffer, Move, Rect};
use vcmux::render::{FontConfig, Renderer};
use vcmux::rfb::painted_desktop::PaintedDesktop;
use vcmux::rfb::pixel_format::PixelFormat as ServerFormat;
use vcmux::rfb::{Server, ServerSettings};
use vcmux::term::Terminal;
use vnc::{ClientKeyEvent, PixelFormat, VncClient, VncConnector, VncEncoding, VncError, VncEvent, X11Event};

/// How long any one step may take: generous, for a loaded 2-core machine.
pub const STEP: Duration = Duration::from_secs(60);

/// A server for `canvas` listening on a free loopback port.
/// The server's log goes to the test's output, shown when it fails.
pub async fn start(canvas: &Arc<PaintedDesktop>, config: ServerSettings) -> (Server, SocketAddr) {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let server = Server::new(canvas.clone(), config).expect("a valid configuration");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
    let addr = listener.local_addr().expect("a bound address");
    let serving = server.clone();
    tokio::spawn(async move { serving.serve_tcp(listener).await });
    (server, addr)
}

/// A canvas with something on it: bands, a gradient, text-like specks.
pub fn busy_canvas(width: u16, height: u16) -> Arc<PaintedDesktop> {
    let canvas = Arc::new(PaintedDesktop::new("test screen", width, height));
    canvas.fill(Rect::new(0, 0, width, height), 0x00202020);
    canvas.fill(Rect::new(10, 10, width / 2, 16), 0x00ff0000);
    draw_specks(&canvas, Rect::new(0, height / 3, width, height / 3), 7);
    canvas
}

/// Paints glyph-like specks (few colours, short runs) into `area`.
pub fn draw_specks(canvas: &PaintedDesktop, area: Rect, seed: u32) {
    canvas.paint(|fb| {
        let width = usize::from(fb.width());
        let mut state = seed.wrapping_mul(2654435761) | 1;
        for y in area.y..area.y + area.height {
            for x in area.x..area.x + area.width {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let colour = match state % 11 {
                    0 => 0x00ffffff,
                    1 => 0x00808080,
                    2 => 0x0000ff00 | (state >> 24),
                    _ => 0x00202020,
                };
                fb.pixels_mut()[usize::from(y) * width + usize::from(x)] = colour;
            }
        }
        vcmux::frame::FrameDamage { moves: vec![], rects: vec![area] }
    });
}

/// Paints `text` into cell row `row` of a screen of `cell`-sized character
/// cells: each character a glyph of three colours on the background, the same
/// pixels wherever it appears, a space blank.
pub fn draw_text(canvas: &PaintedDesktop, cell: (u16, u16), row: u16, text: &str) {
    let (cw, ch) = cell;
    let area = Rect::new(0, row * ch, text.len() as u16 * cw, ch);
    canvas.paint(|fb| {
        let width = usize::from(fb.width());
        for (col, glyph) in text.bytes().enumerate() {
            for y in 0..usize::from(ch) {
                for x in 0..usize::from(cw) {
                    let ink = (x * 7 + y * usize::from(glyph)) % 5;
                    let colour = match ink {
                        _ if glyph == b' ' => 0x00202020,
                        0 => 0x00ffffff,
                        1 => 0x00808080,
                        _ => 0x00202020,
                    };
                    let at = (usize::from(row * ch) + y) * width + col * usize::from(cw) + x;
                    fb.pixels_mut()[at] = colour;
                }
            }
        }
        vcmux::frame::FrameDamage { moves: vec![], rects: vec![area] }
    });
}

/// Connects a vnc-rs viewer.
pub async fn connect(
    addr: SocketAddr,
    password: Option<&str>,
    encodings: &[VncEncoding],
    format: PixelFormat,
    shared: bool,
) -> Result<VncClient, VncError> {
    let tcp = TcpStream::connect(addr).await?;
    connect_over(tcp, password, encodings, format, shared).await
}

/// Connects a vnc-rs viewer over any byte stream.
pub async fn connect_over<S>(
    stream: S,
    password: Option<&str>,
    encodings: &[VncEncoding],
    format: PixelFormat,
    shared: bool,
) -> Result<VncClient, VncError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + Sync + 'static,
{
    let password = password.unwrap_or("").to_string();
    let mut connector = VncConnector::new(stream)
        .set_auth_method(async move { Ok(password) })
        .allow_shared(shared)
        .set_pixel_format(format);
    for &e in encodings {
        connector = connector.add_encoding(e);
    }
    let state = tokio::time::timeout(STEP, connector.build()?.try_start())
        .await
        .map_err(|_| VncError::ConnectError)?;
    state?.finish()
}

/// The 16-bit RGB565 format, big-endian.
pub fn rgb565() -> PixelFormat {
    let mut f = PixelFormat::bgra();
    f.bits_per_pixel = 16;
    f.depth = 16;
    f.big_endian_flag = 1;
    f.red_max = 31;
    f.green_max = 63;
    f.blue_max = 31;
    f.red_shift = 11;
    f.green_shift = 5;
    f.blue_shift = 0;
    f
}

/// Our view of a vnc-rs pixel format, to convert the canvas for comparison.
pub fn server_view(f: &PixelFormat) -> ServerFormat {
    ServerFormat {
        bits_per_pixel: f.bits_per_pixel,
        depth: f.depth,
        big_endian: f.big_endian_flag != 0,
        red_max: f.red_max,
        green_max: f.green_max,
        blue_max: f.blue_max,
        red_shift: f.red_shift,
        green_shift: f.green_shift,
        blue_shift: f.blue_shift,
    }
}

/// What a viewer shows: pixel values in its format, built from vnc-rs's events.
pub struct Mirror {
    pub format: ServerFormat,
    pub width: u16,
    pub height: u16,
    pub pixels: Vec<u32>,
    pub texts: Vec<String>,
    pub events: usize,
}

impl Mirror {
    pub fn new(format: &PixelFormat) -> Mirror {
        Mirror {
            format: server_view(format),
            width: 0,
            height: 0,
            pixels: Vec::new(),
            texts: Vec::new(),
            events: 0,
        }
    }

    fn mask(&self) -> u32 {
        let f = &self.format;
        (u32::from(f.red_max) << f.red_shift)
            | (u32::from(f.green_max) << f.green_shift)
            | (u32::from(f.blue_max) << f.blue_shift)
    }

    fn resize(&mut self, width: u16, height: u16) {
        self.width = width;
        self.height = height;
        self.pixels = vec![0; usize::from(width) * usize::from(height)];
    }

    pub fn apply(&mut self, event: VncEvent) {
        self.events += 1;
        match event {
            VncEvent::SetResolution(screen) => self.resize(screen.width, screen.height),
            VncEvent::DesktopUpdate(update) => {
                if let Some(layout) = update.layout
                    && (layout.width, layout.height) != (self.width, self.height)
                {
                    self.resize(layout.width, layout.height);
                }
            }
            VncEvent::RawImage(rect, data) => {
                let bpp = usize::from(self.format.bits_per_pixel / 8);
                let mask = self.mask();
                for (i, chunk) in data.chunks(bpp).enumerate() {
                    let (x, y) = (
                        usize::from(rect.x) + i % usize::from(rect.width),
                        usize::from(rect.y) + i / usize::from(rect.width),
                    );
                    let value = match (bpp, self.format.big_endian) {
                        (1, _) => u32::from(chunk[0]),
                        (2, false) => u32::from(u16::from_le_bytes([chunk[0], chunk[1]])),
                        (2, true) => u32::from(u16::from_be_bytes([chunk[0], chunk[1]])),
                        (_, false) => u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]),
                        (_, true) => u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]),
                    };
                    self.pixels[y * usize::from(self.width) + x] = value & mask;
                }
            }
            VncEvent::Copy(dst, src) => {
                let mut fb = Framebuffer::new(self.width, self.height);
                fb.pixels_mut().copy_from_slice(&self.pixels);
                fb.apply_move(&Move {
                    dst: Rect::new(dst.x, dst.y, dst.width, dst.height),
                    src_x: src.x,
                    src_y: src.y,
                });
                self.pixels.copy_from_slice(fb.pixels());
            }
            VncEvent::Text(text) => self.texts.push(text),
            VncEvent::Error(e) => panic!("vnc-rs reports an error: {e}"),
            _ => {}
        }
    }

    /// Whether it shows `fb` (converted to its format).
    pub fn shows(&self, fb: &Framebuffer) -> bool {
        (self.width, self.height) == (fb.width(), fb.height())
            && self.pixels.iter().zip(fb.pixels()).all(|(&m, &p)| m == self.format.convert(p))
    }
}

/// Asks for updates and applies them until the mirror shows the canvas.
pub async fn sync(client: &VncClient, mirror: &mut Mirror, canvas: &PaintedDesktop) {
    let deadline = Instant::now() + STEP;
    let mut asked = false;
    loop {
        let want = canvas.framebuffer();
        if mirror.shows(&want) {
            return;
        }
        if !asked {
            client.input(X11Event::Refresh).await.expect("the viewer takes input");
            asked = true;
        }
        match timeout_at(deadline, client.recv_event()).await {
            Ok(Ok(event)) => {
                let ends_update = matches!(
                    event,
                    VncEvent::RawImage(..)
                        | VncEvent::Copy(..)
                        | VncEvent::DesktopUpdate(_)
                        | VncEvent::SetResolution(_)
                );
                mirror.apply(event);
                if ends_update {
                    asked = false;
                }
            }
            Ok(Err(e)) => panic!("the viewer failed before it showed the screen: {e}"),
            Err(_) => panic!("the viewer did not show the screen within {STEP:?} ({} events)", mirror.events),
        }
    }
}

/// Waits for the next event that `pick` selects, failing after [`STEP`].
pub async fn wait_event<T>(client: &VncClient, mut pick: impl FnMut(VncEvent) -> Option<T>) -> T {
    let deadline = Instant::now() + STEP;
    loop {
        match timeout_at(deadline, client.recv_event()).await {
            Ok(Ok(event)) => {
                if let Some(found) = pick(event) {
                    return found;
                }
            }
            Ok(Err(e)) => panic!("the viewer failed: {e}"),
            Err(_) => panic!("no such event within {STEP:?}"),
        }
    }
}

/// A hand-driven RFB client for what well-behaved viewers never send.
pub struct RawClient {
    pub stream: TcpStream,
}

impl RawClient {
    pub async fn connect(addr: SocketAddr) -> RawClient {
        RawClient { stream: TcpStream::connect(addr).await.expect("connect to the server") }
    }

    pub async fn read(&mut self, n: usize) -> Vec<u8> {
        let mut buf = vec![0u8; n];
        tokio::time::timeout(STEP, self.stream.read_exact(&mut buf))
            .await
            .expect("the server answers in time")
            .expect("the server keeps the connection");
        buf
    }

    pub async fn write(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("the server takes our bytes");
    }

    /// Version 3.8, security None, shared; returns ServerInit's width, height
    /// and the rest of ServerInit.
    pub async fn handshake(&mut self) -> (u16, u16, Vec<u8>) {
        assert_eq!(self.read(12).await, b"RFB 003.008\n");
        self.write(b"RFB 003.008\n").await;
        assert_eq!(self.read(2).await, [1, 1], "one security type, None");
        self.write(&[1]).await;
        assert_eq!(self.read(4).await, [0, 0, 0, 0], "SecurityResult OK");
        self.write(&[1]).await;
        self.server_init().await
    }

    pub async fn server_init(&mut self) -> (u16, u16, Vec<u8>) {
        let head = self.read(24).await;
        let name_len = u32::from_be_bytes([head[20], head[21], head[22], head[23]]) as usize;
        let name = self.read(name_len).await;
        let mut rest = head[4..].to_vec();
        rest.extend_from_slice(&name);
        (u16::from_be_bytes([head[0], head[1]]), u16::from_be_bytes([head[2], head[3]]), rest)
    }

    /// Waits until the server closes the connection (reading and dropping
    /// whatever it still sends); panics if it does not within [`STEP`].
    pub async fn closed(&mut self) {
        let deadline = Instant::now() + STEP;
        let mut buf = [0u8; 4096];
        loop {
            match timeout_at(deadline, self.stream.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return,
                Ok(Ok(_)) => {}
                Err(_) => panic!("the server kept the connection open for {STEP:?}"),
            }
        }
    }

    /// SetEncodings.
    pub async fn set_encodings(&mut self, encodings: &[i32]) {
        let mut m = vec![2, 0];
        m.extend_from_slice(&(encodings.len() as u16).to_be_bytes());
        for e in encodings {
            m.extend_from_slice(&e.to_be_bytes());
        }
        self.write(&m).await;
    }

    /// FramebufferUpdateRequest for the whole of `width` x `height`.
    pub async fn request(&mut self, incremental: bool, width: u16, height: u16) {
        let mut m = vec![3, u8::from(incremental), 0, 0, 0, 0];
        m.extend_from_slice(&width.to_be_bytes());
        m.extend_from_slice(&height.to_be_bytes());
        self.write(&m).await;
    }

    /// Reads one FramebufferUpdate of Raw (32 bpp), CopyRect, ZRLE, ExtendedDesktopSize,
    /// DesktopSize or QEMU-key rectangles; returns its rectangles (x, y, w, h, encoding)
    /// and its size in bytes.
    pub async fn read_update(&mut self) -> (Vec<(u16, u16, u16, u16, i32)>, usize) {
        let head = self.read(4).await;
        assert_eq!(head[0], 0, "a FramebufferUpdate");
        assert_eq!(head[1], 0, "padding is zero");
        let count = u16::from_be_bytes([head[2], head[3]]);
        let mut size = 4;
        let mut rects = Vec::new();
        for _ in 0..count {
            let h = self.read(12).await;
            size += 12;
            let at = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
            let (x, y, w, hh) = (at(0), at(2), at(4), at(6));
            let encoding = i32::from_be_bytes([h[8], h[9], h[10], h[11]]);
            let body = match encoding {
                0 => usize::from(w) * usize::from(hh) * 4,
                1 => 4,
                16 => {
                    let len = self.read(4).await;
                    size += 4;
                    u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize
                }
                -308 => {
                    let n = self.read(4).await;
                    size += 4;
                    usize::from(n[0]) * 16
                }
                -223 | -258 => 0,
                other => panic!("unexpected encoding {other}"),
            };
            self.read(body).await;
            size += body;
            rects.push((x, y, w, hh, encoding));
        }
        (rects, size)
    }
}

/// X11's Return key.
pub const RETURN: u32 = 0xff0d;

/// What `vcmux render` shows for these bytes at the vc's default geometry.
pub fn render(bytes: &[u8]) -> Framebuffer {
    let mut terminal = Terminal::new(80, 24, 10_000);
    terminal.advance(bytes);
    let mut renderer = Renderer::new(&FontConfig::default()).unwrap();
    renderer.render(&mut terminal, true);
    renderer.framebuffer().clone()
}

/// Types `text` and Return, a key press and release each.
pub async fn type_text(client: &VncClient, text: &str) {
    for keysym in text.chars().map(u32::from).chain([RETURN]) {
        for down in [true, false] {
            if let Err(e) = client.input(X11Event::KeyEvent(ClientKeyEvent { keycode: keysym, down })).await {
                panic!("the viewer takes no input ({e}): {}", why_closed(client).await);
            }
        }
    }
}

/// Why a vnc-rs viewer stopped: the error its decoder reported, if it did
/// (its input only says "Channel closed").
pub async fn why_closed(client: &VncClient) -> String {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        match tokio::time::timeout_at(deadline, client.recv_event()).await {
            Ok(Ok(_)) => continue,
            Ok(Err(e)) => return format!("the viewer failed: {e:?}"),
            Err(_) => return "the viewer reported no error (the server closed the connection?)".into(),
        }
    }
}

/// How long to wait for an update before reading the console log again.
const LOG_LAG: Duration = Duration::from_millis(200);

/// Asks for updates until the viewer shows the render of the console log at
/// `log` (a vc's console fed by the same hub).
pub async fn sync_with_log(client: &VncClient, mirror: &mut Mirror, log: &std::path::Path) {
    let deadline = Instant::now() + STEP;
    let mut rendered: Option<(usize, Framebuffer)> = None;
    loop {
        let bytes = std::fs::read(log).unwrap_or_default();
        if rendered.as_ref().is_none_or(|(len, _)| *len != bytes.len()) {
            rendered = Some((bytes.len(), render(&bytes)));
        }
        if rendered.as_ref().is_some_and(|(_, frame)| mirror.shows(frame)) {
            return;
        }
        client.input(X11Event::Refresh).await.expect("the viewer takes input");
        // The console log may be written a moment after the vc drew the same
        // bytes: with no update to wait for, read the log again.
        match tokio::time::timeout(LOG_LAG, client.recv_event()).await {
            Ok(Ok(event)) => mirror.apply(event),
            Ok(Err(e)) => panic!("the viewer failed: {e}"),
            Err(_) => assert!(
                Instant::now() < deadline,
                "the viewer never showed what vcmux render shows for the log"
            ),
        }
    }
}
