//! RFB over WebSocket (RFC 6455, binary frames), so that noVNC connects with no
//! websockify in between. tungstenite does the framing and refuses what broke
//! other servers (unmasked client frames, oversized frames and messages,
//! endless headers); this module turns its messages into a byte stream. Its
//! write buffer is bounded too, so that a client flooding pings and never
//! reading the pongs costs one pending pong, not a buffer of them.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt, future};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
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

/// Completes the WebSocket handshake on `stream` and returns the RFB byte
/// stream inside it. A `Sec-WebSocket-Protocol` is answered only if the client
/// sent one, with `binary` if it offered it: Chromium drops a connection whose
/// answer names a protocol it did not ask for.
pub async fn accept<S>(stream: S) -> Result<impl AsyncRead + AsyncWrite + Unpin + Send + 'static, WsError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let config = WebSocketConfig::default()
        .max_frame_size(Some(MAX_MESSAGE))
        .max_message_size(Some(MAX_MESSAGE))
        .max_write_buffer_size(MAX_WRITE_BUFFER);
    // The signature is tungstenite's: its error is an HTTP response, large by nature.
    #[allow(clippy::result_large_err)]
    let choose_protocol = |request: &Request, mut response: Response| -> Result<Response, ErrorResponse> {
        let offered = request.headers().get_all("Sec-WebSocket-Protocol");
        let binary = offered
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|p| p.trim().eq_ignore_ascii_case(BINARY));
        if binary {
            response.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static(BINARY));
        }
        Ok(response)
    };
    let socket =
        tokio_tungstenite::accept_hdr_async_with_config(stream, choose_protocol, Some(config)).await?;
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
    Ok(tokio::io::join(StreamReader::new(bytes_in), writer))
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
