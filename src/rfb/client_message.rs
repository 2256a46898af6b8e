//! The messages a viewer sends after the handshake, read with every length
//! checked before anything is allocated (RFC 6143 7.5, rfbproto's extensions).
//! What the server sends is [`server_message`](super::server_message)'s.

use tokio::io::{AsyncRead, AsyncReadExt};

use super::pixel_format::{PixelFormat, PixelFormatError};
use crate::frame::Rect;

/// The longest ClientCutText taken, as QEMU: 1 MiB.
pub const MAX_CUT_TEXT: u32 = 1 << 20;

/// Encodings kept from one SetEncodings; real viewers send a few dozen.
pub const MAX_ENCODINGS: u16 = 1024;

/// Why a viewer's message was refused; the connection is closed.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// The viewer hung up or the transport failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A message type this server does not know or did not offer.
    #[error("unknown message type {0}")]
    UnknownType(u8),
    /// An unknown QEMU client message subtype.
    #[error("unknown QEMU message subtype {0}")]
    UnknownQemuSubtype(u8),
    /// A SetPixelFormat we cannot serve.
    #[error("bad pixel format: {0}")]
    PixelFormat(#[from] PixelFormatError),
    /// A ClientCutText past [`MAX_CUT_TEXT`].
    #[error("ClientCutText of {0} bytes (the limit is {MAX_CUT_TEXT})")]
    CutTextTooLong(u32),
    /// A negative ClientCutText length: the extended clipboard, never offered.
    #[error("ClientCutText with a negative length (extended clipboard was not offered)")]
    ExtendedClipboard,
    /// A SetEncodings with more encodings than any viewer needs.
    #[error("SetEncodings with {0} encodings (the limit is {MAX_ENCODINGS})")]
    TooManyEncodings(u16),
}

/// One message from a viewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    /// Send pixels in this format from now on.
    SetPixelFormat(PixelFormat),
    /// The encodings the viewer takes, most wanted first.
    SetEncodings(Vec<i32>),
    /// Send an update of this area: only what changed (`incremental`) or all of it.
    UpdateRequest {
        /// Only changes.
        incremental: bool,
        /// The area.
        area: Rect,
    },
    /// A key pressed or released.
    Key {
        /// Pressed.
        down: bool,
        /// The X11 keysym.
        keysym: u32,
    },
    /// The pointer moved or a button changed.
    Pointer {
        /// The button mask.
        buttons: u8,
        /// Column.
        x: u16,
        /// Row.
        y: u16,
    },
    /// The viewer's clipboard (Latin-1).
    CutText(String),
    /// SetDesktopSize: the viewer's window wants this size (screens ignored).
    SetDesktopSize {
        /// Width.
        width: u16,
        /// Height.
        height: u16,
    },
}

/// Message type numbers.
mod kind {
    pub const SET_PIXEL_FORMAT: u8 = 0;
    pub const SET_ENCODINGS: u8 = 2;
    pub const UPDATE_REQUEST: u8 = 3;
    pub const KEY: u8 = 4;
    pub const POINTER: u8 = 5;
    pub const CUT_TEXT: u8 = 6;
    pub const SET_DESKTOP_SIZE: u8 = 251;
    pub const QEMU: u8 = 255;
    pub const QEMU_EXTENDED_KEY: u8 = 0;
}

/// Reads the next message; `Ok(None)` when the viewer closed cleanly between messages.
pub async fn read<R: AsyncRead + Unpin>(reader: &mut R) -> Result<Option<ClientMessage>, MessageError> {
    let mut kind = [0u8; 1];
    if reader.read(&mut kind).await? == 0 {
        return Ok(None);
    }
    let message = match kind[0] {
        kind::SET_PIXEL_FORMAT => {
            let mut body = [0u8; 19];
            reader.read_exact(&mut body).await?;
            let format: [u8; 16] = body[3..].try_into().unwrap_or([0; 16]);
            ClientMessage::SetPixelFormat(PixelFormat::parse(&format)?)
        }
        kind::SET_ENCODINGS => {
            let mut head = [0u8; 3];
            reader.read_exact(&mut head).await?;
            let count = u16::from_be_bytes([head[1], head[2]]);
            if count > MAX_ENCODINGS {
                return Err(MessageError::TooManyEncodings(count));
            }
            let mut encodings = Vec::with_capacity(usize::from(count));
            for _ in 0..count {
                encodings.push(reader.read_i32().await?);
            }
            ClientMessage::SetEncodings(encodings)
        }
        kind::UPDATE_REQUEST => {
            let mut body = [0u8; 9];
            reader.read_exact(&mut body).await?;
            let at = |i: usize| u16::from_be_bytes([body[i], body[i + 1]]);
            ClientMessage::UpdateRequest {
                incremental: body[0] != 0,
                area: Rect::new(at(1), at(3), at(5), at(7)),
            }
        }
        kind::KEY => {
            let mut body = [0u8; 7];
            reader.read_exact(&mut body).await?;
            ClientMessage::Key {
                down: body[0] != 0,
                keysym: u32::from_be_bytes([body[3], body[4], body[5], body[6]]),
            }
        }
        kind::POINTER => {
            let mut body = [0u8; 5];
            reader.read_exact(&mut body).await?;
            ClientMessage::Pointer {
                buttons: body[0],
                x: u16::from_be_bytes([body[1], body[2]]),
                y: u16::from_be_bytes([body[3], body[4]]),
            }
        }
        kind::CUT_TEXT => {
            let mut head = [0u8; 7];
            reader.read_exact(&mut head).await?;
            let length = i32::from_be_bytes([head[3], head[4], head[5], head[6]]);
            if length < 0 {
                return Err(MessageError::ExtendedClipboard);
            }
            let length = length as u32;
            if length > MAX_CUT_TEXT {
                return Err(MessageError::CutTextTooLong(length));
            }
            let mut text = vec![0u8; length as usize];
            reader.read_exact(&mut text).await?;
            ClientMessage::CutText(text.iter().map(|&b| char::from(b)).collect())
        }
        kind::SET_DESKTOP_SIZE => {
            let mut head = [0u8; 7];
            reader.read_exact(&mut head).await?;
            let screens = head[5];
            // Each screen: id, x, y, width, height, flags; read and ignored.
            let mut layout = vec![0u8; usize::from(screens) * 16];
            reader.read_exact(&mut layout).await?;
            ClientMessage::SetDesktopSize {
                width: u16::from_be_bytes([head[1], head[2]]),
                height: u16::from_be_bytes([head[3], head[4]]),
            }
        }
        kind::QEMU => {
            let subtype = reader.read_u8().await?;
            if subtype != kind::QEMU_EXTENDED_KEY {
                return Err(MessageError::UnknownQemuSubtype(subtype));
            }
            let mut body = [0u8; 10];
            reader.read_exact(&mut body).await?;
            ClientMessage::Key {
                down: u16::from_be_bytes([body[0], body[1]]) != 0,
                keysym: u32::from_be_bytes([body[2], body[3], body[4], body[5]]),
            }
        }
        other => return Err(MessageError::UnknownType(other)),
    };
    Ok(Some(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(bytes: &[u8]) -> Result<Option<ClientMessage>, MessageError> {
        read(&mut &bytes[..]).await
    }

    #[tokio::test]
    async fn well_formed_messages_parse() {
        let m = parse(&[3, 1, 0, 1, 0, 2, 0, 3, 0, 4]).await.unwrap();
        assert_eq!(m, Some(ClientMessage::UpdateRequest { incremental: true, area: Rect::new(1, 2, 3, 4) }));
        let m = parse(&[4, 1, 0, 0, 0, 0, 0xff, 0x0d]).await.unwrap();
        assert_eq!(m, Some(ClientMessage::Key { down: true, keysym: 0xff0d }));
        let m = parse(&[6, 0, 0, 0, 0, 0, 0, 2, b'h', 0xe9]).await.unwrap();
        assert_eq!(m, Some(ClientMessage::CutText("hé".into())));
        let m = parse(&[255, 0, 0, 1, 0, 0, 0, 0x61, 0, 0, 0, 30]).await.unwrap();
        assert_eq!(m, Some(ClientMessage::Key { down: true, keysym: 0x61 }));
        assert!(parse(&[]).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn hostile_messages_are_errors() {
        assert!(matches!(
            parse(&[6, 0, 0, 0, 0xff, 0xff, 0xff, 0xf0]).await,
            Err(MessageError::ExtendedClipboard)
        ));
        assert!(matches!(
            parse(&[6, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff]).await,
            Err(MessageError::CutTextTooLong(_))
        ));
        assert!(matches!(parse(&[9]).await, Err(MessageError::UnknownType(9))));
        assert!(matches!(parse(&[2, 0, 0xff, 0xff]).await, Err(MessageError::TooManyEncodings(_))));
        // Truncated: the viewer hung up in the middle of a message.
        assert!(matches!(parse(&[3, 1, 0]).await, Err(MessageError::Io(_))));
        let mut bad_format = vec![0u8, 0, 0, 0, 24, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0];
        assert!(matches!(parse(&bad_format).await, Err(MessageError::PixelFormat(_))));
        bad_format[4] = 32;
        bad_format[7] = 0;
        assert!(matches!(
            parse(&bad_format).await,
            Err(MessageError::PixelFormat(PixelFormatError::ColourMap))
        ));
    }
}
