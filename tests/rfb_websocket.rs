//! RFB over WebSocket, as noVNC speaks it: a real WebSocket client carrying
//! vnc-rs, the subprotocol answer browsers insist on, and the frames that broke
//! other servers (64-bit lengths, unmasked frames, fragment and header floods).

mod rfb_support;

use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use rfb_support::{Mirror, RawClient, STEP, busy_canvas, connect_over, draw_specks, sync};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use vcmux::frame::Rect;
use vcmux::rfb::painted_desktop::PaintedDesktop;
use vcmux::rfb::{Server, ServerSettings};
use vnc::{PixelFormat, VncEncoding};

async fn start_websocket(canvas: &Arc<PaintedDesktop>) -> SocketAddr {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let server = Server::new(canvas.clone(), ServerSettings::default()).expect("a valid configuration");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move { server.serve_websocket(listener).await });
    addr
}

/// A WebSocket client whose binary messages are carried to and from a byte
/// pipe, the other end of which is returned for vnc-rs.
async fn websocket_pipe(addr: SocketAddr) -> tokio::io::DuplexStream {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let (socket, _) =
        tokio_tungstenite::client_async(format!("ws://{addr}/"), tcp).await.expect("ws handshake");
    let (mut sink, mut messages) = socket.split();
    let (ours, theirs) = tokio::io::duplex(1 << 16);
    let (mut from_viewer, mut to_viewer) = tokio::io::split(ours);
    tokio::spawn(async move {
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match from_viewer.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if sink.send(Message::Binary(buf[..n].to_vec().into())).await.is_err() {
                        break;
                    }
                }
            }
        }
    });
    tokio::spawn(async move {
        while let Some(Ok(message)) = messages.next().await {
            if let Message::Binary(data) = message
                && to_viewer.write_all(&data).await.is_err()
            {
                break;
            }
        }
    });
    theirs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vnc_rs_over_websocket_shows_the_framebuffer() {
    let canvas = busy_canvas(200, 120);
    let addr = start_websocket(&canvas).await;
    let pipe = websocket_pipe(addr).await;
    let encodings = [VncEncoding::Tight, VncEncoding::CopyRect, VncEncoding::Raw];
    let client = connect_over(pipe, None, &encodings, PixelFormat::bgra(), true).await.expect("connects");
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    sync(&client, &mut mirror, &canvas).await;
    canvas.scroll_up(Rect::new(0, 0, 200, 120), 16, 0);
    draw_specks(&canvas, Rect::new(0, 104, 200, 16), 5);
    sync(&client, &mut mirror, &canvas).await;
}

/// Sends an HTTP upgrade with `extra` headers; returns the response head.
async fn upgrade(stream: &mut TcpStream, extra: &str) -> String {
    let request = format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("send the upgrade");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(STEP, stream.read(&mut byte)).await.expect("an answer").expect("read");
        assert!(n > 0, "closed during the upgrade: {}", String::from_utf8_lossy(&head));
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).to_lowercase()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subprotocol_is_answered_only_when_asked_for() {
    let canvas = busy_canvas(20, 20);
    let addr = start_websocket(&canvas).await;
    let mut plain = TcpStream::connect(addr).await.unwrap();
    let head = upgrade(&mut plain, "").await;
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(!head.contains("sec-websocket-protocol"), "answered a protocol nobody asked for: {head}");

    let mut asking = TcpStream::connect(addr).await.unwrap();
    let head = upgrade(&mut asking, "Sec-WebSocket-Protocol: base64, binary\r\n").await;
    assert!(head.contains("sec-websocket-protocol: binary\r\n"), "{head}");
}

/// A client frame: FIN + opcode, masked, with the given payload.
fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![opcode];
    if payload.len() < 126 {
        f.push(0x80 | payload.len() as u8);
    } else {
        f.push(0x80 | 126);
        f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    }
    let mask = [1u8, 2, 3, 4];
    f.extend_from_slice(&mask);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    f
}

async fn closes_after_upgrade(bytes: Vec<u8>) {
    let canvas = busy_canvas(20, 20);
    let addr = start_websocket(&canvas).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    upgrade(&mut stream, "").await;
    // Sending may fail half-way once the server has closed: that is the point.
    let _ = stream.write_all(&bytes).await;
    RawClient { stream }.closed().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_with_a_64_bit_length_closes_the_connection() {
    let mut f = vec![0x82, 0x80 | 127];
    f.extend_from_slice(&(1u64 << 40).to_be_bytes());
    f.extend_from_slice(&[1, 2, 3, 4]);
    f.extend_from_slice(&[0; 1024]);
    closes_after_upgrade(f).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmasked_frame_closes_the_connection() {
    closes_after_upgrade(vec![
        0x82, 12, b'R', b'F', b'B', b' ', b'0', b'0', b'3', b'.', b'0', b'0', b'8', b'\n',
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_fragments_closes_the_connection() {
    // A binary message that never ends: 40 fragments of 60000 bytes, over 2 MB.
    let chunk = vec![0u8; 60000];
    let mut bytes = frame(0x02, &chunk[..100]);
    for _ in 0..40 {
        let mut continuation = frame(0x00, &[]);
        continuation.truncate(0);
        continuation.push(0x00);
        continuation.push(0x80 | 126);
        continuation.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
        continuation.extend_from_slice(&[0, 0, 0, 0]);
        continuation.extend_from_slice(&chunk);
        bytes.extend_from_slice(&continuation);
    }
    closes_after_upgrade(bytes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_headers_closes_the_connection() {
    let canvas = busy_canvas(20, 20);
    let addr = start_websocket(&canvas).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut flood = b"GET / HTTP/1.1\r\nHost: localhost\r\n".to_vec();
    for i in 0..20000 {
        flood.extend_from_slice(format!("X-Junk-{i}: {}\r\n", "a".repeat(20)).as_bytes());
    }
    let _ = stream.write_all(&flood).await;
    RawClient { stream }.closed().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_well_framed_rfb_handshake_works_by_hand() {
    let canvas = busy_canvas(20, 20);
    let addr = start_websocket(&canvas).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    upgrade(&mut stream, "Sec-WebSocket-Protocol: binary\r\n").await;
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).await.unwrap();
    assert_eq!(head[0], 0x82, "a binary frame");
    let mut version = vec![0u8; usize::from(head[1])];
    stream.read_exact(&mut version).await.unwrap();
    assert_eq!(version, b"RFB 003.008\n");
}
