//! Bytes on the wire and encoding time of the VNC server's encodings for a full
//! 80x24 text screen (a kernel log, and prose) and for a one-line scroll, next
//! to QEMU 7.2's figures for the same screen (ANCHORS.md).
//!
//! The text is real: DejaVu Sans Mono rasterised by fontdue, anti-aliased at
//! the renderer's coverage levels (`frame::coverage`) as the vc draws it, in
//! 8x16 cells (640x384, QEMU's vc size) and 10x20 cells (800x480); and, to
//! compare like with like, thresholded to two colours as QEMU's 1-bit VGA
//! font is. The encoders know the cell size, as the vc's screen tells them. The bytes
//! are those the server writes for the update: the 4-byte FramebufferUpdate
//! header, then each rectangle as `rfb::encoding` encodes it (headers included),
//! for the region `rfb::pending` hands over after the change.
//!
//! Then keypress-to-pixels latency: vcmux (the real binary) runs `cat` under
//! its PTY with a vc served on loopback; a viewer with an update request
//! outstanding sends a key and reads the whole update that shows its echo.
//! The PTY's echo is the round trip a shell's would be.
//!
//! `cargo bench --bench rfb` (needs `apt-get install fonts-dejavu-core`); the
//! tables are printed first (with QEMU 7.2's VNC server measured on the same
//! text by `benches/qemu/measure.py` when QEMU is installed), then criterion's
//! timings.

#[path = "../tests/rfb_support/mod.rs"]
mod rfb_support;

use criterion::{Criterion, criterion_group, criterion_main};
use fontdue::{Font, FontSettings};
use vcmux::frame::coverage;
use vcmux::frame::{FrameDamage, Framebuffer, Move, Rect};
use vcmux::rfb::encoding::{Effort, Encoders, Encoding, Patch};
use vcmux::rfb::pending::Pending;
use vcmux::rfb::pixel_format::PixelFormat;

const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";
const COLS: usize = 80;
const ROWS: usize = 24;
const FOREGROUND: u32 = 0x00aaaaaa;
const BACKGROUND: u32 = 0x00000000;

const KERNEL_LOG: &str = "\
[    0.000000] Linux version 6.1.0-13-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0)
[    0.000000] Command line: BOOT_IMAGE=/boot/vmlinuz-6.1.0-13-amd64 root=/dev/vda1 ro console=ttyS0,115200n8
[    0.000000] BIOS-provided physical RAM map:
[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable
[    0.000000] BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved
[    0.000000] NX (Execute Disable) protection: active
[    0.000000] SMBIOS 2.8 present.
[    0.000000] DMI: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
[    0.000000] tsc: Fast TSC calibration using PIT
[    0.004122] e820: update [mem 0x00000000-0x00000fff] usable ==> reserved
[    0.012380] ACPI: Early table checksum verification disabled
[    0.018112] Zone ranges:
[    0.018114]   DMA      [mem 0x0000000000001000-0x0000000000ffffff]
[    0.052331] Memory: 1987604K/2096632K available (14342K kernel code, 2331K rwdata)
[    0.061220] rcu: Hierarchical RCU implementation.
[    0.110843] Console: colour VGA+ 80x25
[    0.114702] printk: console [ttyS0] enabled
[    0.221904] pid_max: default: 32768 minimum: 301
[    0.301177] smpboot: CPU0: AMD EPYC-Milan Processor (family: 0x19, model: 0x1, stepping: 0x1)
[    0.482010] PCI: Using configuration type 1 for base access
[    0.911337] virtio_blk virtio2: [vda] 20971520 512-byte logical blocks (10.7 GB/10.0 GiB)
[    0.923415]  vda: vda1 vda2 < vda5 >
[    1.204981] EXT4-fs (vda1): mounted filesystem with ordered data mode. Quota mode: none.
[    1.733200] systemd[1]: Inserted module 'autofs4'
[    1.901123] systemd[1]: Reached target local-fs.target - Local File Systems.
[    2.004412] virtio_net virtio0 enp0s3: renamed from eth0";

const PROSE: &str = "vcmux is one process that takes one console byte stream, a guest's serial or virtio \
console or a command running under a PTY, and multiplexes it to several backends at once, exactly as \
QEMU's mux-be chardev does inside QEMU. The star backend is vc: a real terminal emulator whose screen is \
rasterised and served over VNC, so that people can watch and type into the console with any VNC viewer. \
Next to it sit a unix-socket backend for raw bidirectional access, a log file, stdio. Who uses it: an \
engineer who connects a VNC viewer to see a guest's console; who shares that console with a remote \
colleague (several viewers, passwords, view-only); a CI job that takes screenshots and text dumps of \
consoles as artifacts. The vc backend never holds the hub back: it parses every byte as it arrives, so \
the slowest backend is a real consumer, never the console's own screen. Rendering is lazy: the \
framebuffer is brought up to date only when someone looks, so a flood of output costs one render per \
viewer frame, not one per byte. Each viewer keeps its own pending region: the damage and scrolls \
accumulated since its last update. A fast viewer gets small updates often; a slow one gets one merged \
update later. Nothing per viewer grows without bound. Keys typed in a viewer go back to the console as \
xterm would send them, arrows honouring cursor-key mode, Alt as an escape prefix, and a paste is bracketed \
when the application asked for it. A viewer that stops reading is throttled as QEMU throttles it: it gets \
fewer and larger updates, and past a hard cap on its unsent output it is dropped with a line in the log, \
while the console and the other viewers go on at full speed. Screenshots for a CI job come from the same \
renderer, as PNG or as text, so that an artifact shows exactly what a viewer would have seen at that \
moment. The terminal keeps ten thousand lines of scrollback in compact blocks; the wheel of a viewer \
scrolls back through them unless the application asked for mouse reports, which then go to it instead.";

/// A text screen: a font at a cell size, painting lines into a framebuffer.
struct TextScreen {
    font: Font,
    /// Coverage thresholded to on/off, as QEMU's 1-bit VGA font draws.
    one_bit: bool,
    size: f32,
    cell: (usize, usize),
    ascent: f32,
}

impl TextScreen {
    fn new(cell: (usize, usize), one_bit: bool) -> TextScreen {
        let bytes =
            std::fs::read(FONT).unwrap_or_else(|e| panic!("{FONT}: {e} (apt-get install fonts-dejavu-core)"));
        let font = Font::from_bytes(bytes, FontSettings::default()).expect("DejaVu Sans Mono parses");
        // The font size whose advance fills the cell's width.
        let advance = font.metrics('M', 100.0).advance_width / 100.0;
        let size = cell.0 as f32 / advance;
        let ascent = font.horizontal_line_metrics(size).map_or(size * 0.8, |m| m.ascent);
        // Centre the font's line in the cell.
        let line = font.horizontal_line_metrics(size).map_or(size, |m| m.new_line_size);
        let ascent = ascent + (cell.1 as f32 - line) / 2.0;
        TextScreen { font, one_bit, size, cell, ascent }
    }

    fn width(&self) -> u16 {
        (COLS * self.cell.0) as u16
    }

    fn height(&self) -> u16 {
        (ROWS * self.cell.1) as u16
    }

    fn blank(&self) -> Framebuffer {
        let mut fb = Framebuffer::new(self.width(), self.height());
        fb.pixels_mut().fill(BACKGROUND);
        fb
    }

    /// Paints `text` on `row`, clearing the row first.
    fn draw_line(&self, fb: &mut Framebuffer, row: usize, text: &str) {
        let width = usize::from(fb.width());
        let (cw, ch) = self.cell;
        for y in row * ch..(row + 1) * ch {
            fb.pixels_mut()[y * width..(y + 1) * width].fill(BACKGROUND);
        }
        for (col, c) in text.chars().take(COLS).enumerate() {
            let (m, cov) = self.font.rasterize(c, self.size);
            let left = (col * cw) as i32 + m.xmin;
            let top = (row * ch) as i32 + self.ascent.round() as i32 - m.height as i32 - m.ymin;
            for gy in 0..m.height {
                for gx in 0..m.width {
                    let (x, y) = (left + gx as i32, top + gy as i32);
                    let in_cell = y >= (row * ch) as i32 && y < ((row + 1) * ch) as i32;
                    if x < 0 || x >= width as i32 || !in_cell {
                        continue;
                    }
                    let a = match cov[gy * m.width + gx] {
                        a if !self.one_bit => coverage::quantise(a),
                        a if a >= 128 => 255,
                        _ => 0,
                    };
                    fb.pixels_mut()[y as usize * width + x as usize] =
                        coverage::blend(FOREGROUND, BACKGROUND, a);
                }
            }
        }
    }

    /// A full screen of `lines`.
    fn screen(&self, lines: &[String]) -> Framebuffer {
        let mut fb = self.blank();
        for (row, line) in lines.iter().take(ROWS).enumerate() {
            self.draw_line(&mut fb, row, line);
        }
        fb
    }
}

fn kernel_lines() -> Vec<String> {
    KERNEL_LOG.lines().map(|l| l.chars().take(COLS).collect()).collect()
}

fn prose_lines() -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in PROSE.split(' ') {
        let last = lines.last_mut().expect("a line");
        if last.len() + word.len() + 1 > COLS {
            lines.push(word.to_string());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    while lines.len() < ROWS + 1 {
        lines.extend(lines.clone());
    }
    lines
}

/// Bytes of one FramebufferUpdate carrying what `pending` holds, over `fb`.
fn update_bytes(
    pending: &mut Pending,
    fb: &Framebuffer,
    encoding: Encoding,
    encoders: &mut Encoders,
    copy_rect: bool,
) -> usize {
    let taken = pending.take();
    let mut out = vec![0u8; 4];
    out.extend(std::iter::repeat_n(0u8, 16 * taken.moves.len()));
    let mut patches: Vec<Patch> = taken
        .rects
        .iter()
        .map(|&rect| {
            let mut pixels = Vec::new();
            fb.copy_rect(rect, &mut pixels);
            Patch { rect, pixels }
        })
        .collect();
    let copies = if copy_rect {
        encoders.copy_cells(encoding, fb, &mut patches, &PixelFormat::SERVER)
    } else {
        Vec::new()
    };
    for patch in &patches {
        encoders.encode(encoding, patch, &PixelFormat::SERVER, &mut out);
    }
    out.len() + 16 * copies.len()
}

/// The full screen, then a one-line scroll with a new line, in one encoding;
/// with or without CopyRect. Returns (full screen, scroll) in bytes.
fn measure(
    text: &TextScreen,
    lines: &[String],
    encoding: Encoding,
    effort: Effort,
    copy_rect: bool,
) -> (usize, usize) {
    let mut encoders = Encoders::new();
    encoders.set_cell_size(Some((text.cell.0 as u16, text.cell.1 as u16)));
    encoders.set_effort(effort);
    let fb = text.screen(&lines[..ROWS]);
    let (w, h) = (fb.width(), fb.height());
    let mut pending = Pending::everything(w, h, copy_rect);
    let full = update_bytes(&mut pending, &fb, encoding, &mut encoders, copy_rect);

    // Scroll by one text line and draw the next line at the bottom, as the
    // renderer reports it: the move, then the new row.
    let mut scrolled = fb.clone();
    let row = text.cell.1 as u16;
    let mv = Move { dst: Rect::new(0, 0, w, h - row), src_x: 0, src_y: row };
    scrolled.apply_move(&mv);
    text.draw_line(&mut scrolled, ROWS - 1, &lines[ROWS]);
    pending.add(w, h, &FrameDamage { moves: vec![mv], rects: vec![Rect::new(0, h - row, w, row)] });
    let scroll = update_bytes(&mut pending, &scrolled, encoding, &mut encoders, copy_rect);
    (full, scroll)
}

fn kb(bytes: usize) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}

fn print_table() {
    let encodings = [
        (Encoding::Raw, Effort::Best, "Raw", "983 KB", "280-490 KB"),
        (Encoding::Hextile, Effort::Best, "Hextile", "30-40 KB", "23-40 KB"),
        (Encoding::Zrle, Effort::Best, "ZRLE", "5.5-7 KB", "5-17 KB"),
        (Encoding::Zrle, Effort::Fast, "ZRLE (fast effort)", "5.5-7 KB", "5-17 KB"),
        (Encoding::Tight, Effort::Best, "Tight", "-", "-"),
    ];
    println!();
    println!("Bytes on the wire, 80x24 text screen, 32 bpp (QEMU 7.2: 640x384, no CopyRect)");
    println!(
        "| cells | text | encoding | full screen | QEMU full | scroll + CopyRect | scroll, no CopyRect | QEMU scroll |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (cell, one_bit) in [((8, 16), false), ((10, 20), false), ((8, 16), true)] {
        let text = TextScreen::new(cell, one_bit);
        let kind = if one_bit { ", 1-bit" } else { "" };
        for (name, lines) in
            [(format!("kernel log{kind}"), kernel_lines()), (format!("prose{kind}"), prose_lines())]
        {
            for (encoding, effort, label, qemu_full, qemu_scroll) in encodings {
                let (full, scroll) = measure(&text, &lines, encoding, effort, true);
                let (_, scroll_without) = measure(&text, &lines, encoding, effort, false);
                println!(
                    "| {}x{} ({}x{}) | {name} | {label} | {} | {qemu_full} | {} | {} | {qemu_scroll} |",
                    cell.0,
                    cell.1,
                    text.width(),
                    text.height(),
                    kb(full),
                    kb(scroll),
                    kb(scroll_without)
                );
            }
        }
    }
    println!();
}

/// QEMU's VNC server on the same text, in the same run, when QEMU is installed
/// (`benches/qemu/measure.py` boots a tiny guest that prints it on a serial vc).
fn print_qemu_table() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/qemu/measure.py");
    match std::process::Command::new("python3").arg(script).status() {
        Ok(status) if status.success() => println!(),
        Ok(status) => {
            println!("(QEMU not measured: {script} {status}; it needs gcc, ld and qemu-system-i386)\n")
        }
        Err(e) => println!("(QEMU not measured: python3: {e})\n"),
    }
}

fn encoding_time(c: &mut Criterion) {
    print_table();
    print_qemu_table();
    let text = TextScreen::new((8, 16), false);
    let fb = text.screen(&kernel_lines()[..ROWS]);
    let patch = Patch { rect: fb.bounds(), pixels: fb.pixels().to_vec() };
    let mut group = c.benchmark_group("encode a 640x384 kernel-log screen");
    for (encoding, effort, label) in [
        (Encoding::Raw, Effort::Best, "raw"),
        (Encoding::Hextile, Effort::Best, "hextile"),
        (Encoding::Zrle, Effort::Best, "zrle"),
        (Encoding::Zrle, Effort::Fast, "zrle fast effort"),
        (Encoding::Tight, Effort::Best, "tight"),
    ] {
        let mut encoders = Encoders::new();
        encoders.set_cell_size(Some((8, 16)));
        encoders.set_effort(effort);
        group.bench_function(label, |b| {
            b.iter(|| {
                let mut out = Vec::new();
                encoders.encode(encoding, &patch, &PixelFormat::SERVER, &mut out);
                out.len()
            })
        });
    }
    let mut encoders = Encoders::new();
    encoders.set_cell_size(Some((8, 16)));
    group.bench_function("hextile with cell copies", |b| {
        b.iter(|| {
            let mut patches = vec![patch.clone()];
            let copies = encoders.copy_cells(Encoding::Hextile, &fb, &mut patches, &PixelFormat::SERVER);
            let mut out = Vec::new();
            encoders.encode(Encoding::Hextile, &patches[0], &PixelFormat::SERVER, &mut out);
            out.len() + 16 * copies.len()
        })
    });
    group.finish();

    // A flood (`benches/viewers`): every update a full screen of prose not
    // seen before, the words the same, so that only glyphs repeat.
    let text = TextScreen::new((10, 20), false);
    let screens: Vec<Framebuffer> = (0..8).map(|k| text.screen(&flood_lines(k * 37))).collect();
    let mut group = c.benchmark_group("encode 800x480 screens of new prose, one after another");
    for (effort, label) in [(Effort::Best, "zrle"), (Effort::Fast, "zrle fast effort")] {
        let mut encoders = Encoders::new();
        encoders.set_cell_size(Some((10, 20)));
        encoders.set_effort(effort);
        let mut next = screens.iter().cycle();
        let mut bytes = 0;
        let mut count = 0;
        group.bench_function(label, |b| {
            b.iter(|| {
                let fb = next.next().expect("screens");
                let patch = Patch { rect: fb.bounds(), pixels: fb.pixels().to_vec() };
                let mut out = Vec::new();
                encoders.encode(Encoding::Zrle, &patch, &PixelFormat::SERVER, &mut out);
                bytes += out.len();
                count += 1;
                out.len()
            })
        });
        println!("{label}: {:.0} bytes a screen of new prose", bytes as f64 / count.max(1) as f64);
    }
    group.finish();
}

/// A full screen of the prose's words from the `skip`th on, filling every
/// cell as the flood of `benches/viewers` does.
fn flood_lines(skip: usize) -> Vec<String> {
    let words: Vec<&str> = PROSE.split(' ').collect();
    let text: String =
        words.iter().cycle().skip(skip).take(COLS * ROWS).copied().collect::<Vec<_>>().join(" ");
    text.chars().collect::<Vec<_>>().chunks(COLS).take(ROWS).map(|c| c.iter().collect()).collect()
}

/// Keys typed for the latency figures, and how many are thrown away first.
const KEYPRESSES: usize = 400;
const WARM_UP: usize = 20;

/// vcmux with `cat` under its PTY and a vc served on a free loopback port.
struct EchoConsole {
    child: std::process::Child,
    address: std::net::SocketAddr,
}

impl EchoConsole {
    fn start() -> EchoConsole {
        // A free port above 5900, so that it is a VNC display number.
        let port = (|| {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").ok()?;
            probe.local_addr().ok().map(|a| a.port())
        })()
        .expect("a free port");
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_vcmux"))
            .args(["-chardev", "vc,id=vc0", "-vnc", &format!("127.0.0.1:{}", port - 5900), "--", "cat"])
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::null())
            .spawn()
            .expect("vcmux starts");
        EchoConsole { child, address: std::net::SocketAddr::from(([127, 0, 0, 1], port)) }
    }
}

impl Drop for EchoConsole {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Types [`KEYPRESSES`] letters (no Return: each echo is one byte, one update;
/// the line wraps and scrolls on its own) and returns each one's time from the
/// key to the update that shows its echo.
async fn keypress_latencies(console: &EchoConsole) -> Vec<std::time::Duration> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let stream = loop {
        match tokio::net::TcpStream::connect(console.address).await {
            Ok(stream) => break stream,
            Err(_) if std::time::Instant::now() < deadline => tokio::task::yield_now().await,
            Err(e) => panic!("vcmux's VNC port: {e}"),
        }
    };
    stream.set_nodelay(true).expect("TCP_NODELAY");
    let mut viewer = rfb_support::RawClient { stream };
    let (width, height, _) = viewer.handshake().await;
    viewer.set_encodings(&[16, 1, 0]).await;
    viewer.request(false, width, height).await;
    viewer.read_update().await;
    let mut latencies = Vec::with_capacity(KEYPRESSES);
    for i in 0..KEYPRESSES + WARM_UP {
        viewer.request(true, width, height).await;
        let keysym = u32::from(b'a' + (i % 26) as u8);
        let start = std::time::Instant::now();
        for down in [1u8, 0] {
            let mut key = vec![4, down, 0, 0];
            key.extend_from_slice(&keysym.to_be_bytes());
            viewer.write(&key).await;
        }
        viewer.read_update().await;
        if i >= WARM_UP {
            latencies.push(start.elapsed());
        }
    }
    latencies
}

fn latency_table() {
    let console = EchoConsole::start();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let mut latencies = runtime.block_on(keypress_latencies(&console));
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!("Keypress to pixels through vcmux's PTY echo, {KEYPRESSES} keys, ZRLE over loopback TCP");
    println!("| p50 | p90 | p99 | max |");
    println!("|---|---|---|---|");
    println!("| {:.2?} | {:.2?} | {:.2?} | {:.2?} |", at(0.5), at(0.9), at(0.99), at(1.0));
    println!();
}

fn keypress_to_pixels(c: &mut Criterion) {
    latency_table();
    let _ = c;
}

criterion_group!(benches, encoding_time, keypress_to_pixels);
criterion_main!(benches);
