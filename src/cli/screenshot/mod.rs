//! `vcmux screenshot`: a VNC client that grabs one whole frame from any VNC
//! server (vcmux's own, QEMU's) and writes it as PNG, for CI artifacts.
//!
//! [`client`] speaks RFB, [`zrle`] decodes the pixels.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use tokio::net::{TcpStream, UnixStream};

use crate::config::{AddressError, PortRule, VncListen, parse_address};
use crate::frame::Framebuffer;

mod client;
mod error;
mod partial_frame;
mod zrle;

/// `vcmux screenshot`'s options.
#[derive(Debug, Args)]
#[command(
    about = "Grab one frame from a VNC server as PNG",
    after_help = "Examples:
  vcmux screenshot :0 -o console.png                 display 0 here: 127.0.0.1:5900
  vcmux screenshot build-host:1 -o console.png       port 5901 of build-host
  vcmux screenshot localhost::5999 -o console.png    port 5999
  vcmux screenshot unix:/run/vc.sock -o console.png  a -vnc unix:PATH socket"
)]
pub struct ScreenshotArgs {
    /// The server, as -vnc names it: :DISPLAY (this machine), HOST:DISPLAY
    /// (TCP port 5900+DISPLAY), or unix:PATH; as vncviewer, HOST:N with N
    /// of 100 or more is port N, and HOST::PORT is always a port.
    #[arg(value_name = "SERVER", value_parser = server_address)]
    pub server: VncListen,
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

/// Reads SERVER: [`parse_address`] with a viewer's [`PortRule`].
fn server_address(text: &str) -> Result<VncListen, AddressError> {
    parse_address(text, PortRule::Viewer)
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
    #[error("{server}: {source}")]
    Rfb {
        /// The server as given.
        server: String,
        /// What went wrong.
        source: error::ClientError,
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
        .map_err(|_| ScreenshotError::Timeout(args.server.to_string()))??;
    let write_error = |message: String| ScreenshotError::Write { path: args.output.clone(), message };
    let png = crate::frame::png::encode(&frame).map_err(|e| write_error(e.to_string()))?;
    std::fs::write(&args.output, png).map_err(|e| write_error(e.to_string()))
}

fn read_password(path: &PathBuf) -> Result<String, ScreenshotError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ScreenshotError::Password { path: path.clone(), source })?;
    Ok(text.lines().next().unwrap_or_default().to_string())
}

/// Connects, and receives frames until every pixel has arrived.
async fn grab(server: &VncListen, password: Option<String>) -> Result<Framebuffer, ScreenshotError> {
    let connect_error = |source| ScreenshotError::Connect { server: server.to_string(), source };
    let rfb_error = |source| ScreenshotError::Rfb { server: server.to_string(), source };
    let password = password.as_deref();
    match server {
        VncListen::Unix(path) => {
            let stream = UnixStream::connect(path).await.map_err(connect_error)?;
            client::grab(stream, password).await.map_err(rfb_error)
        }
        VncListen::Tcp { host, port } => {
            let stream = TcpStream::connect((host.as_str(), *port)).await.map_err(connect_error)?;
            client::grab(stream, password).await.map_err(rfb_error)
        }
    }
}
