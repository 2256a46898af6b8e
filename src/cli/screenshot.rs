//! `vcmux screenshot`: a VNC client that grabs one whole frame from any VNC
//! server (vcmux's own, QEMU's) and writes it as PNG, for CI artifacts.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use tokio::net::{TcpStream, UnixStream};
use vnc::{PixelFormat, VncConnector, VncEncoding, VncEvent};

use crate::render::frame::{Framebuffer, Move, Rect};

/// `vcmux screenshot`'s options.
#[derive(Debug, Args)]
#[command(about = "Grab one frame from a VNC server as PNG")]
pub struct ScreenshotArgs {
    /// The server: HOST:PORT (5900 is display 0) or unix:PATH.
    pub server: String,
    /// The PNG to write.
    #[arg(short, long, value_name = "OUT.png")]
    pub output: PathBuf,
    /// A file holding the VNC password (its first line).
    #[arg(long, value_name = "F")]
    pub password_file: Option<PathBuf>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
}

/// Why a screenshot failed.
#[derive(Debug, thiserror::Error)]
pub enum ScreenshotError {
    /// The password file could not be read.
    #[error("cannot read the password file {path}: {source}")]
    Password {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The server could not be reached.
    #[error("cannot connect to {server}: {source}")]
    Connect {
        /// The server as given.
        server: String,
        /// Why.
        source: std::io::Error,
    },
    /// The VNC conversation failed (handshake, authentication, a bad message).
    #[error("{server}: {message}")]
    Vnc {
        /// The server as given.
        server: String,
        /// What the client said.
        message: String,
    },
    /// No whole frame arrived in time.
    #[error("{0}: no whole frame within the timeout")]
    Timeout(String),
    /// The PNG could not be written.
    #[error("cannot write {path}: {message}")]
    Write {
        /// The output.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// Runs `vcmux screenshot`.
pub fn run(args: &ScreenshotArgs) -> Result<(), ScreenshotError> {
    let password = match &args.password_file {
        Some(path) => Some(read_password(path)?),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ScreenshotError::Runtime)?;
    let frame = runtime
        .block_on(async {
            tokio::time::timeout(Duration::from_secs(args.timeout), grab(&args.server, password)).await
        })
        .map_err(|_| ScreenshotError::Timeout(args.server.clone()))??;
    let write_error = |message: String| ScreenshotError::Write { path: args.output.clone(), message };
    let png = crate::render::png::encode(&frame).map_err(|e| write_error(e.to_string()))?;
    std::fs::write(&args.output, png).map_err(|e| write_error(e.to_string()))
}

fn read_password(path: &PathBuf) -> Result<String, ScreenshotError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ScreenshotError::Password { path: path.clone(), source })?;
    Ok(text.lines().next().unwrap_or_default().to_string())
}

/// Connects, and paints what the server sends until every pixel has arrived.
async fn grab(server: &str, password: Option<String>) -> Result<Framebuffer, ScreenshotError> {
    let connect_error = |source| ScreenshotError::Connect { server: server.to_string(), source };
    match server.strip_prefix("unix:") {
        Some(path) => {
            let stream = UnixStream::connect(path).await.map_err(connect_error)?;
            receive(server, stream, password).await
        }
        None => {
            let stream = TcpStream::connect(server).await.map_err(connect_error)?;
            receive(server, stream, password).await
        }
    }
}

async fn receive<S>(server: &str, stream: S, password: Option<String>) -> Result<Framebuffer, ScreenshotError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + Sync + 'static,
{
    let vnc_error =
        |e: vnc::VncError| ScreenshotError::Vnc { server: server.to_string(), message: e.to_string() };
    let client = VncConnector::new(stream)
        .set_auth_method(async move { Ok(password.unwrap_or_default()) })
        .add_encoding(VncEncoding::Tight)
        .add_encoding(VncEncoding::Zrle)
        .add_encoding(VncEncoding::CopyRect)
        .add_encoding(VncEncoding::Raw)
        .allow_shared(true)
        .set_pixel_format(PixelFormat::bgra())
        .build()
        .map_err(vnc_error)?
        .try_start()
        .await
        .map_err(vnc_error)?
        .finish()
        .map_err(vnc_error)?;

    let mut canvas = Canvas::default();
    while !canvas.is_complete() {
        match client.recv_event().await.map_err(vnc_error)? {
            VncEvent::SetResolution(screen) => canvas.resize(screen.width, screen.height),
            VncEvent::RawImage(rect, data) => canvas.paint(rect, &data),
            VncEvent::Copy(dst, src) => canvas.copy(dst, src),
            VncEvent::Error(message) => {
                return Err(ScreenshotError::Vnc { server: server.to_string(), message });
            }
            _ => {}
        }
    }
    let _ = client.close().await;
    Ok(canvas.frame)
}

/// The frame being received, and which of its pixels have arrived.
struct Canvas {
    frame: Framebuffer,
    /// Whether each pixel has been painted at least once, row after row.
    painted: Vec<bool>,
    /// How many have not.
    missing: usize,
}

impl Default for Canvas {
    fn default() -> Canvas {
        Canvas { frame: Framebuffer::new(0, 0), painted: Vec::new(), missing: 1 }
    }
}

impl Canvas {
    fn resize(&mut self, width: u16, height: u16) {
        self.frame = Framebuffer::new(width, height);
        self.painted = vec![false; usize::from(width) * usize::from(height)];
        self.missing = usize::from(width) * usize::from(height);
    }

    fn is_complete(&self) -> bool {
        self.missing == 0
    }

    /// Pixels in the client's format: 32 bits, little-endian B, G, R, X.
    fn paint(&mut self, rect: vnc::Rect, data: &[u8]) {
        let (fw, fh) = (self.frame.width(), self.frame.height());
        let width = usize::from(fw);
        let pixels = self.frame.pixels_mut();
        for (row, line) in
            data.chunks_exact(usize::from(rect.width) * 4).enumerate().take(usize::from(rect.height))
        {
            let y = usize::from(rect.y) + row;
            if y >= usize::from(fh) {
                break;
            }
            for (col, px) in line.chunks_exact(4).enumerate() {
                let x = usize::from(rect.x) + col;
                if x >= width {
                    break;
                }
                pixels[y * width + x] = u32::from_le_bytes([px[0], px[1], px[2], 0]);
                if !std::mem::replace(&mut self.painted[y * width + x], true) {
                    self.missing -= 1;
                }
            }
        }
    }

    fn copy(&mut self, dst: vnc::Rect, src: vnc::Rect) {
        self.frame.apply_move(&Move {
            dst: Rect::new(dst.x, dst.y, dst.width, dst.height),
            src_x: src.x,
            src_y: src.y,
        });
    }
}
