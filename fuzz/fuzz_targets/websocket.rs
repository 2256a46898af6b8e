//! Arbitrary bytes from a WebSocket client (the HTTP upgrade, then frames)
//! into vcmux's WebSocket layer: it must never panic, and must end when the
//! bytes end or break the protocol.
//!
//! The first byte chooses the way in: even, frames straight into the
//! WebSocket layer (`vcmux::rfb::websocket::byte_stream`, as after an
//! upgrade), read to their end, and the stream must carry no more bytes than
//! the frames did; odd, a whole connection (`Server::handle_http`, security
//! None): the HTTP request, the upgrade, and payloads that meet the RFB
//! handshake and the client messages behind it.
//!
//! `cargo +nightly fuzz run websocket` (from the repository root).

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use vcmux::rfb::painted_desktop::PaintedDesktop;
use vcmux::rfb::websocket::byte_stream;
use vcmux::rfb::{Peer, Server, ServerSettings};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else { return };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime");
    runtime.block_on(connection(mode & 1 == 1, bytes));
});

async fn connection(rfb: bool, bytes: &[u8]) {
    let (client, server_end) = tokio::io::duplex(64 * 1024);
    let serve = async {
        if rfb {
            let desktop = Arc::new(PaintedDesktop::new("fuzz", 64, 32));
            let server = Server::new(desktop, ServerSettings::default()).expect("valid settings");
            server.handle_http(server_end, Peer::Local("fuzz".to_string())).await;
        } else {
            let carried = drain(byte_stream(server_end).await).await;
            assert!(carried <= bytes.len(), "{carried} bytes out of {} in", bytes.len());
        }
    };
    let (mut from_server, mut to_server) = tokio::io::split(client);
    let write = async {
        // The server may hang up first: then the rest is not taken.
        let _ = to_server.write_all(bytes).await;
        let _ = to_server.shutdown().await;
    };
    tokio::join!(serve, write, drain(&mut from_server));
}

/// Reads `from` until it ends or fails; the bytes it gave.
async fn drain<R: AsyncRead + Unpin>(mut from: R) -> usize {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut total = 0;
    while let Ok(n) = from.read(&mut buffer).await {
        if n == 0 {
            break;
        }
        total += n;
    }
    total
}
