//! What this server sends a viewer, encoded as the protocol lays it out:
//! ServerInit at the end of the handshake (RFC 6143 7.3.2), then
//! FramebufferUpdate with its rectangles and pseudo-rectangles, and
//! ServerCutText (RFC 6143 7.6, rfbproto's extensions). What viewers send is
//! [`client_message`](super::client_message)'s.

use super::client_message::MAX_CUT_TEXT;
use super::encoding::number;
use super::pixel_format::PixelFormat;
use crate::frame::Rect;

/// The longest ServerCutText sent, in characters, as for ClientCutText.
const MAX_SERVER_CUT_TEXT: usize = MAX_CUT_TEXT as usize;

/// Message type numbers.
mod kind {
    pub const FRAMEBUFFER_UPDATE: u8 = 0;
    pub const SERVER_CUT_TEXT: u8 = 3;
}

/// How a viewer's SetDesktopSize went: ExtendedDesktopSize's status codes
/// (rfbproto 7.8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResizeStatus {
    /// The screen was resized (or will be: the resize is asked of the desktop).
    Done = 0,
    /// The viewer may not resize the desktop (it is view-only).
    Prohibited = 1,
    /// The size cannot be served (empty, or past the framebuffer's bound).
    InvalidLayout = 3,
}

/// A message to a viewer, or a piece of one: a FramebufferUpdate is its
/// header, then as many rectangles as it announces, each a rectangle header
/// and its encoding's data, or a pseudo-rectangle that is all header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerMessage<'a> {
    /// ServerInit, the end of the handshake: the framebuffer's size, the
    /// server's pixel format and the desktop's name.
    ServerInit {
        /// Framebuffer width.
        width: u16,
        /// Framebuffer height.
        height: u16,
        /// The server's pixel format.
        format: PixelFormat,
        /// The desktop name.
        name: &'a str,
    },
    /// FramebufferUpdate's header: type, padding and the number of rectangles
    /// that follow.
    FramebufferUpdate {
        /// The rectangles (pseudo-rectangles included) that follow.
        rectangles: u16,
    },
    /// The header each rectangle of an update starts with: where it is and
    /// in which encoding its data follows.
    Rectangle {
        /// Where the pixels go.
        rect: Rect,
        /// The encoding number ([`number`]).
        encoding: i32,
    },
    /// The DesktopSize pseudo-rectangle: the framebuffer is now this size.
    DesktopSize {
        /// New width.
        width: u16,
        /// New height.
        height: u16,
    },
    /// The ExtendedDesktopSize pseudo-rectangle with the one screen this
    /// server has: the framebuffer's layout, told when it changed, when the
    /// viewer first announced the pseudo-encoding, or answering its
    /// SetDesktopSize.
    ExtendedDesktopSize {
        /// `None` when the server tells of its own accord (reason 0); how the
        /// viewer's SetDesktopSize went when answering it (reason 1).
        answer: Option<ResizeStatus>,
        /// Framebuffer width.
        width: u16,
        /// Framebuffer height.
        height: u16,
    },
    /// The QEMU extended key event pseudo-rectangle: the viewer may send
    /// QEMU extended key events from now on.
    QemuExtendedKey,
    /// ServerCutText: the console's clipboard, in Latin-1 (other characters
    /// become `?`), cut at [`MAX_CUT_TEXT`] characters.
    ServerCutText(&'a str),
}

impl ServerMessage<'_> {
    /// Appends the message's bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            ServerMessage::ServerInit { width, height, format, name } => {
                out.extend_from_slice(&width.to_be_bytes());
                out.extend_from_slice(&height.to_be_bytes());
                out.extend_from_slice(&format.to_bytes());
                out.extend_from_slice(&(name.len() as u32).to_be_bytes());
                out.extend_from_slice(name.as_bytes());
            }
            ServerMessage::FramebufferUpdate { rectangles } => {
                out.extend_from_slice(&[kind::FRAMEBUFFER_UPDATE, 0]);
                out.extend_from_slice(&rectangles.to_be_bytes());
            }
            ServerMessage::Rectangle { rect, encoding } => {
                for v in [rect.x, rect.y, rect.width, rect.height] {
                    out.extend_from_slice(&v.to_be_bytes());
                }
                out.extend_from_slice(&encoding.to_be_bytes());
            }
            ServerMessage::DesktopSize { width, height } => {
                let rect = Rect::new(0, 0, width, height);
                ServerMessage::Rectangle { rect, encoding: number::DESKTOP_SIZE }.encode(out);
            }
            ServerMessage::ExtendedDesktopSize { answer, width, height } => {
                // x is the reason, y the status.
                let (reason, status) = match answer {
                    None => (0, ResizeStatus::Done),
                    Some(status) => (1, status),
                };
                let rect = Rect::new(reason, status as u16, width, height);
                ServerMessage::Rectangle { rect, encoding: number::EXTENDED_DESKTOP_SIZE }.encode(out);
                // One screen and padding; the screen: id 0 at (0, 0), the
                // framebuffer's size, no flags.
                out.extend_from_slice(&[1, 0, 0, 0]);
                out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
                out.extend_from_slice(&width.to_be_bytes());
                out.extend_from_slice(&height.to_be_bytes());
                out.extend_from_slice(&[0, 0, 0, 0]);
            }
            ServerMessage::QemuExtendedKey => {
                let rect = Rect::new(0, 0, 0, 0);
                ServerMessage::Rectangle { rect, encoding: number::QEMU_EXTENDED_KEY }.encode(out);
            }
            ServerMessage::ServerCutText(text) => {
                let latin1: Vec<u8> = text
                    .chars()
                    .take(MAX_SERVER_CUT_TEXT)
                    .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                    .collect();
                out.extend_from_slice(&[kind::SERVER_CUT_TEXT, 0, 0, 0]);
                out.extend_from_slice(&(latin1.len() as u32).to_be_bytes());
                out.extend_from_slice(&latin1);
            }
        }
    }

    /// The message's bytes alone.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(message: ServerMessage<'_>) -> Vec<u8> {
        message.to_bytes()
    }

    #[test]
    fn server_init_is_size_format_and_name() {
        let init = bytes(ServerMessage::ServerInit {
            width: 640,
            height: 384,
            format: PixelFormat::SERVER,
            name: "vc0",
        });
        let mut expected = vec![0x02, 0x80, 0x01, 0x80];
        expected.extend_from_slice(&PixelFormat::SERVER.to_bytes());
        expected.extend_from_slice(&[0, 0, 0, 3, b'v', b'c', b'0']);
        assert_eq!(init, expected);
    }

    #[test]
    fn update_and_rectangle_headers_are_rfc_6143_7_6_1() {
        assert_eq!(bytes(ServerMessage::FramebufferUpdate { rectangles: 0x0102 }), [0, 0, 1, 2]);
        let rect = Rect::new(1, 2, 0x0300, 4);
        assert_eq!(
            bytes(ServerMessage::Rectangle { rect, encoding: number::ZRLE }),
            [0, 1, 0, 2, 3, 0, 0, 4, 0, 0, 0, 16]
        );
    }

    #[test]
    fn pseudo_rectangles_are_headers_with_their_numbers() {
        // -223, -258 and -308 as big-endian two's complement.
        assert_eq!(
            bytes(ServerMessage::DesktopSize { width: 640, height: 384 }),
            [0, 0, 0, 0, 0x02, 0x80, 0x01, 0x80, 0xff, 0xff, 0xff, 0x21]
        );
        assert_eq!(bytes(ServerMessage::QemuExtendedKey), [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xfe, 0xfe]);
        let layout = |answer| bytes(ServerMessage::ExtendedDesktopSize { answer, width: 640, height: 384 });
        #[rustfmt::skip]
        let told = [
            0, 0, 0, 0, 0x02, 0x80, 0x01, 0x80, 0xff, 0xff, 0xfe, 0xcc, // reason 0, status 0
            1, 0, 0, 0, // one screen, padding
            0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x80, 0x01, 0x80, 0, 0, 0, 0, // id, x, y, size, flags
        ];
        assert_eq!(layout(None), told);
        let answered = layout(Some(ResizeStatus::InvalidLayout));
        assert_eq!(answered[..4], [0, 1, 0, 3]);
        assert_eq!(answered[4..], told[4..]);
        assert_eq!(layout(Some(ResizeStatus::Prohibited))[..4], [0, 1, 0, 1]);
        assert_eq!(layout(Some(ResizeStatus::Done))[..4], [0, 1, 0, 0]);
    }

    #[test]
    fn server_cut_text_is_latin1_and_bounded() {
        assert_eq!(bytes(ServerMessage::ServerCutText("hé€")), [3, 0, 0, 0, 0, 0, 0, 3, b'h', 0xe9, b'?']);
        let long = "x".repeat(MAX_SERVER_CUT_TEXT + 10);
        let message = bytes(ServerMessage::ServerCutText(&long));
        assert_eq!(message[4..8], (MAX_SERVER_CUT_TEXT as u32).to_be_bytes());
        assert_eq!(message.len(), 8 + MAX_SERVER_CUT_TEXT);
    }
}
