//! RFB over WebSocket (RFC 6455, binary frames), so that noVNC connects with no
//! websockify in between. The HTTP side (`http`) reads the upgrade request
//! and sends this module's answer; tungstenite then does the framing and
//! refuses what broke other servers (unmasked client frames, oversized frames
//! and messages); this module turns its messages into a byte stream. Its
//! write buffer is bounded too, so that a client flooding pings and never
//! reading the pongs costs one pending pong, not a buffer of them.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt, future};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::http::{HeaderValue, Request, Response, StatusCode, header};
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_util::io::{CopyToBytes, SinkWriter, StreamReader};

/// The largest frame and message a viewer may send: a ClientCutText of 1 MiB
/// and change. Longer ones (64-bit lengths included) close the connection.
const MAX_MESSAGE: usize = (1 << 20) + 4096;

/// The most bytes tungstenite buffers unwritten (its default has no bound).
const MAX_WRITE_BUFFER: usize = 4 << 20;

/// The most bytes of the RFB stream in one WebSocket message, so that each
/// fits in the write buffer whatever the size of an update.
const MAX_WRITE: usize = 64 * 1024;

/// The only subprotocol spoken.
const BINARY: &str = "binary";

/// The `101 Switching Protocols` answer to a WebSocket upgrade `request`,
/// or why it is not one (a missing key, a version other than 13). A
/// `Sec-WebSocket-Protocol` is answered only if the client sent one, with
/// `binary` if it offered it: Chromium drops a connection whose answer names
/// a protocol it did not ask for.
pub(crate) fn switching_protocols<B>(request: &Request<B>) -> Result<Response<()>, &'static str> {
    let headers = request.headers();
    if headers.get("Sec-WebSocket-Version").and_then(|v| v.to_str().ok()) != Some("13") {
        return Err("a WebSocket upgrade needs Sec-WebSocket-Version: 13");
    }
    let key = headers.get("Sec-WebSocket-Key").ok_or("a WebSocket upgrade needs a Sec-WebSocket-Key")?;
    let mut response = Response::new(());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let answer = response.headers_mut();
    answer.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    answer.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    let accept = HeaderValue::from_str(&derive_accept_key(key.as_bytes())).map_err(|_| "a bad key")?;
    answer.insert("Sec-WebSocket-Accept", accept);
    let binary = headers
        .get_all("Sec-WebSocket-Protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case(BINARY));
    if binary {
        answer.insert("Sec-WebSocket-Protocol", HeaderValue::from_static(BINARY));
    }
    Ok(response)
}

/// Whether `request` asks to upgrade to WebSocket.
pub(crate) fn is_upgrade<B>(request: &Request<B>) -> bool {
    let has = |name: header::HeaderName, token: &str| {
        request
            .headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|v| v.trim().eq_ignore_ascii_case(token))
    };
    has(header::CONNECTION, "upgrade") && has(header::UPGRADE, "websocket")
}

/// The RFB byte stream inside a connection whose upgrade was answered with
/// [`switching_protocols`]; its frames are bounded by [`MAX_MESSAGE`].
/// Public for the websocket fuzz target, which feeds it frames directly.
pub async fn byte_stream<S>(stream: S) -> impl AsyncRead + AsyncWrite + Unpin + Send + 'static
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let config = WebSocketConfig::default()
        .max_frame_size(Some(MAX_MESSAGE))
        .max_message_size(Some(MAX_MESSAGE))
        .max_write_buffer_size(MAX_WRITE_BUFFER);
    let socket = WebSocketStream::from_raw_socket(stream, Role::Server, Some(config)).await;
    let (sink, messages) = socket.split();
    let bytes_in = messages.filter_map(|message| {
        future::ready(match message {
            Ok(Message::Binary(data)) => Some(Ok(data)),
            Ok(Message::Text(_)) => {
                Some(Err(io::Error::new(io::ErrorKind::InvalidData, "text frame in RFB")))
            }
            // Pings are answered by tungstenite; a close ends the stream after it.
            Ok(_) => None,
            Err(e) => Some(Err(io::Error::other(e))),
        })
    });
    let bytes_out = sink
        .sink_map_err(io::Error::other)
        .with(|data: Bytes| future::ready(Ok::<_, io::Error>(Message::Binary(data))));
    let writer = Chunked(SinkWriter::new(CopyToBytes::new(bytes_out)));
    tokio::io::join(StreamReader::new(bytes_in), writer)
}

/// A writer that takes at most [`MAX_WRITE`] bytes a call: each call is one
/// WebSocket message.
struct Chunked<W>(W);

impl<W: AsyncWrite + Unpin> AsyncWrite for Chunked<W> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let n = buf.len().min(MAX_WRITE);
        Pin::new(&mut self.0).poll_write(cx, &buf[..n])
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
