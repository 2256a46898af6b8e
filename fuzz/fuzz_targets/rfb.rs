//! Arbitrary client bytes into one VNC connection (`vcmux::rfb::Server::handle`
//! over an in-memory stream): the server must never panic, and must end the
//! connection when the bytes end or break the protocol.
//!
//! The first byte chooses the script. In raw mode every byte after it goes to
//! the server from the first one, so the handshake parser itself is fuzzed.
//! Otherwise this plays an honest viewer's handshake (RFB 3.3, 3.7 or 3.8;
//! security None, VNC authentication with the full password, or with the
//! view-only one; shared or exclusive) up to ServerInit, then sends the bytes
//! after it as client messages, while reading whatever the server sends. The
//! desktop is a plain painted framebuffer, or a real vc (a terminal and its
//! renderer), so keys, the pointer, pastes and resizes reach a terminal.
//!
//! `cargo +nightly fuzz run rfb` (from the repository root).

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use vcmux::chardev::vc::Vc;
use vcmux::config::VcConfig;
use vcmux::rfb::desktop::Desktop;
use vcmux::rfb::painted_desktop::PaintedDesktop;
use vcmux::rfb::{Peer, Server, ServerSettings, auth};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else { return };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime");
    runtime.block_on(connection(Script::from(mode), bytes));
});

const PASSWORD: &str = "secret";
const VIEW_ONLY_PASSWORD: &str = "watch";

/// What the first byte chose.
#[derive(Debug, Clone, Copy)]
struct Script {
    /// No handshake played: every byte is the client's from the start.
    raw: bool,
    /// The minor version announced: 3, 7 or 8.
    minor: u8,
    /// 0: no password (security None); 1: the full password; 2: the view-only one.
    auth: u8,
    /// ClientInit's shared flag.
    shared: bool,
    /// A real vc rather than a painted framebuffer.
    terminal: bool,
}

impl From<u8> for Script {
    fn from(b: u8) -> Script {
        Script {
            raw: b & 0x80 != 0,
            minor: [3, 7, 8][usize::from(b & 0x3) % 3],
            auth: (b >> 2 & 0x3) % 3,
            shared: b & 0x10 != 0,
            terminal: b & 0x20 != 0,
        }
    }
}

async fn connection(script: Script, bytes: &[u8]) {
    let settings = ServerSettings {
        password: (script.auth != 0).then(|| PASSWORD.to_string()),
        view_only_password: (script.auth != 0).then(|| VIEW_ONLY_PASSWORD.to_string()),
        ..ServerSettings::default()
    };
    let desktop: Arc<dyn Desktop> = if script.terminal {
        // Small, with a short history, so that each run is quick; the
        // connector (the hub's side) is dropped: what viewers type is lost.
        let config = VcConfig { cols: 20, rows: 6, scrollback: 20, ..VcConfig::default() };
        let (vc, _connector) = Vc::open("vc0", &config).expect("the shipped font loads");
        vc
    } else {
        Arc::new(PaintedDesktop::new("fuzz", 64, 32))
    };
    let server = Server::new(desktop, settings).expect("valid settings");
    let (client, server_end) = tokio::io::duplex(64 * 1024);
    let serve = server.handle(server_end, Peer::Local("fuzz".to_string()));
    tokio::join!(serve, viewer(client, script, bytes));
}

/// The viewer's side: the handshake (unless raw), then `bytes` written while
/// the server's output is read to its end.
async fn viewer(stream: tokio::io::DuplexStream, script: Script, bytes: &[u8]) {
    let (mut from_server, mut to_server) = tokio::io::split(stream);
    if !script.raw && handshake(&mut from_server, &mut to_server, script).await.is_err() {
        return;
    }
    let write = async {
        // The server may hang up first (a message it refuses): then the rest is not taken.
        let _ = to_server.write_all(bytes).await;
        let _ = to_server.shutdown().await;
    };
    tokio::join!(write, drain(from_server));
}

async fn handshake<R, W>(from: &mut R, to: &mut W, script: Script) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    let mut version = [0u8; 12];
    from.read_exact(&mut version).await?;
    assert_eq!(&version, b"RFB 003.008\n");
    to.write_all(format!("RFB 003.{:03}\n", script.minor).as_bytes()).await?;
    let offered = if script.minor == 3 {
        let offered = from.read_u32().await?;
        assert!(offered == 1 || offered == 2, "security type {offered}");
        offered as u8
    } else {
        let count = from.read_u8().await?;
        assert_eq!(count, 1);
        let offered = from.read_u8().await?;
        to.write_all(&[offered]).await?;
        offered
    };
    assert_eq!(offered == 2, script.auth != 0);
    if offered == 2 {
        let mut challenge = [0u8; auth::CHALLENGE_LEN];
        from.read_exact(&mut challenge).await?;
        let password = if script.auth == 1 { PASSWORD } else { VIEW_ONLY_PASSWORD };
        to.write_all(&auth::response(password.as_bytes(), &challenge)).await?;
    }
    if offered == 2 || script.minor == 8 {
        assert_eq!(from.read_u32().await?, 0, "SecurityResult");
    }
    to.write_all(&[u8::from(script.shared)]).await?;
    // ServerInit: the size, the pixel format, the name.
    let mut init = [0u8; 24];
    from.read_exact(&mut init).await?;
    let name_len = u32::from_be_bytes([init[20], init[21], init[22], init[23]]);
    let mut name = vec![0u8; name_len as usize];
    from.read_exact(&mut name).await?;
    Ok(())
}

/// Reads the server's output until it hangs up.
async fn drain<R: AsyncRead + Unpin>(mut from: R) {
    let mut buffer = vec![0u8; 64 * 1024];
    while let Ok(n) = from.read(&mut buffer).await {
        if n == 0 {
            return;
        }
    }
}
