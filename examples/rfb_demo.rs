//! A VNC server showing a test screen, for trying real viewers against the
//! `rfb` module before a terminal sits behind it (`tests/interop/` drives it).
//!
//! The screen is fixed: coloured bands, a gradient of more colours than any
//! palette, and anti-aliased text. Each key pressed scrolls it up by one text
//! line (a CopyRect for viewers that take it) and paints, at the bottom, a bar
//! whose colour is the keysym. With `--expect FILE` the screen is written there
//! as PPM after every change, for comparing with what a viewer captured.
//!
//! ```text
//! cargo run --release --example rfb_demo -- --port 5900 [--websocket-port 5700]
//!     [--password-file F] [--expect screen.ppm] [--size 640x384]
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use tokio::net::TcpListener;
use tracing::info;
use vcmux::render::frame::{Damage, Framebuffer, Rect};
use vcmux::rfb::canvas::Canvas;
use vcmux::rfb::screen::ViewerInput;
use vcmux::rfb::{Config, Server};

const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";
const LINE: u16 = 16;

struct Options {
    port: u16,
    websocket_port: Option<u16>,
    password: Option<String>,
    expect: Option<PathBuf>,
    size: (u16, u16),
}

fn options() -> Result<Options> {
    let mut o = Options { port: 5900, websocket_port: None, password: None, expect: None, size: (640, 384) };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--port" => o.port = value()?.parse()?,
            "--websocket-port" => o.websocket_port = Some(value()?.parse()?),
            "--password-file" => o.password = Some(std::fs::read_to_string(value()?)?.trim_end().to_string()),
            "--expect" => o.expect = Some(value()?.into()),
            "--size" => {
                let v = value()?;
                let (w, h) = v.split_once('x').context("--size WxH")?;
                o.size = (w.parse()?, h.parse()?);
            }
            other => bail!("unknown option {other}"),
        }
    }
    Ok(o)
}

/// Paints the test screen.
fn paint_screen(canvas: &Canvas) {
    let text = [
        "vcmux rfb demo: the VNC server's test screen",
        "[    0.000000] Linux version 6.1.0-13-amd64 (debian-kernel@lists.debian.org)",
        "[    0.923415]  vda: vda1 vda2 < vda5 >",
        "The quick brown fox jumps over the lazy dog. 0123456789 {}[]()<>",
    ];
    let font = std::fs::read(FONT)
        .ok()
        .and_then(|bytes| fontdue::Font::from_bytes(bytes, fontdue::FontSettings::default()).ok());
    canvas.paint(|fb| {
        let (w, h) = (usize::from(fb.width()), usize::from(fb.height()));
        for y in 0..h {
            for x in 0..w {
                let p = &mut fb.pixels_mut()[y * w + x];
                *p = match y * 8 / h {
                    0 | 1 => 0x00101010,
                    2 => ((x * 255 / w) as u32) << 16 | ((y * 255 / h) as u32) << 8 | 0x40,
                    3 => [0x00cc0000, 0x0000cc00, 0x000000cc, 0x00cccc00][x * 4 / w],
                    _ => 0x00000000,
                };
            }
        }
        if let Some(font) = &font {
            for (row, line) in text.iter().enumerate() {
                draw_text(fb, font, line, 4, row * usize::from(LINE) + 2);
            }
        }
        Damage { moves: Vec::new(), rects: vec![fb.bounds()] }
    });
}

/// Anti-aliased light grey text with its top-left corner at (x, y).
fn draw_text(fb: &mut Framebuffer, font: &fontdue::Font, text: &str, x: usize, y: usize) {
    let size = 13.0;
    let ascent = font.horizontal_line_metrics(size).map_or(10.0, |m| m.ascent).round() as i32;
    let width = usize::from(fb.width());
    let height = usize::from(fb.height());
    let mut pen = x as f32;
    for c in text.chars() {
        let (m, coverage) = font.rasterize(c, size);
        let left = pen.round() as i32 + m.xmin;
        let top = y as i32 + ascent - m.height as i32 - m.ymin;
        for gy in 0..m.height {
            for gx in 0..m.width {
                let (px, py) = (left + gx as i32, top + gy as i32);
                if px < 0 || py < 0 || px as usize >= width || py as usize >= height {
                    continue;
                }
                let a = u32::from(coverage[gy * m.width + gx]);
                let old = fb.pixels()[py as usize * width + px as usize];
                let blend = |shift: u32| ((0xdd * a + ((old >> shift) & 0xff) * (255 - a)) / 255) << shift;
                fb.pixels_mut()[py as usize * width + px as usize] = blend(16) | blend(8) | blend(0);
            }
        }
        pen += m.advance_width;
    }
}

fn write_expected(canvas: &Canvas, path: &PathBuf) -> Result<()> {
    let fb = canvas.framebuffer();
    let mut ppm = format!("P6\n{} {}\n255\n", fb.width(), fb.height()).into_bytes();
    for p in fb.pixels() {
        ppm.extend_from_slice(&[(p >> 16) as u8, (p >> 8) as u8, *p as u8]);
    }
    let partial = path.with_extension("partial");
    std::fs::write(&partial, ppm)?;
    std::fs::rename(&partial, path)?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let o = options()?;
    let canvas = Arc::new(Canvas::new("vcmux rfb demo", o.size.0, o.size.1));
    canvas.set_cell_size(Some((8, LINE)));
    paint_screen(&canvas);
    if let Some(path) = &o.expect {
        write_expected(&canvas, path)?;
    }
    let config = Config { password: o.password.clone(), ..Config::default() };
    let server = Server::new(canvas.clone(), config)?;

    let listener = TcpListener::bind(("127.0.0.1", o.port)).await?;
    info!("listening on {}", listener.local_addr()?);
    let tcp = server.clone();
    tokio::spawn(async move { tcp.serve_tcp(listener).await });
    if let Some(port) = o.websocket_port {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        info!("websocket listening on {}", listener.local_addr()?);
        let ws = server.clone();
        tokio::spawn(async move { ws.serve_websocket(listener).await });
    }

    // Keys scroll the screen and paint their keysym.
    let mut inputs = canvas.inputs();
    let mut seen = 0;
    loop {
        tokio::select! {
            changed = inputs.changed() => changed?,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
        let events: Vec<ViewerInput> = inputs.borrow_and_update()[seen..].to_vec();
        seen += events.len();
        for event in events {
            if let ViewerInput::Key { keysym, down: true, .. } = event {
                info!("key {keysym:#x}");
                let (w, h) = (canvas.framebuffer().width(), canvas.framebuffer().height());
                canvas.scroll_up(Rect::new(0, 0, w, h), LINE, 0);
                let bar = (keysym.wrapping_mul(0x9e3779b1) & 0x00ffffff) | 0x00404040;
                canvas.fill(Rect::new(0, h - LINE, (keysym % 64 + 1) as u16 * 8, LINE), bar);
                if let Some(path) = &o.expect {
                    write_expected(&canvas, path)?;
                }
            }
        }
    }
}
