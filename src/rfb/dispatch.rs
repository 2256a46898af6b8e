//! What a viewer's messages do: its input goes to the desktop (unless it only
//! watches), and what it asks of its updates (pixel format, encodings, an
//! update, a new desktop size) is kept in [`Asked`] until the session sends
//! the next one.

use std::sync::Mutex;

use tracing::debug;

use super::client_message::ClientMessage;
use super::desktop::{Desktop, ViewerId, ViewerInput};
use super::encoding::{Encoding, number};
use super::pending::Pending;
use super::pixel_format::PixelFormat;
use super::server_message::ResizeStatus;
use super::viewers::lock;
use crate::frame;

/// What a viewer asked of its updates, and what it is owed in the next one.
pub(super) struct Asked {
    /// The pixel format updates go in.
    pub format: PixelFormat,
    /// SetEncodings, in the viewer's order.
    announced: Vec<i32>,
    /// The pixel encoding updates go in: the first announced that we write.
    pub encoding: Encoding,
    /// An update was asked for and not sent yet: Some(true) if every request
    /// since the last update was incremental.
    pub request: Option<bool>,
    /// Tell the viewer our screen layout (it just announced ExtendedDesktopSize).
    pub announce_layout: bool,
    /// Tell the viewer it may send QEMU extended key events.
    pub announce_qemu_key: bool,
    /// Answer a SetDesktopSize with this status.
    pub resize_answer: Option<ResizeStatus>,
}

/// Where one viewer's messages go.
pub(super) struct Dispatch<'a> {
    /// Who sent them.
    pub viewer: ViewerId,
    /// Its input is dropped.
    pub view_only: bool,
    /// Where its input goes.
    pub desktop: &'a dyn Desktop,
    /// Its pending region, told whether moves may go as CopyRect.
    pub pending: &'a Mutex<Pending>,
}

impl Asked {
    /// A new viewer's: the server's pixel format, Raw, nothing asked yet.
    pub fn new() -> Asked {
        Asked {
            format: PixelFormat::SERVER,
            announced: Vec::new(),
            encoding: Encoding::Raw,
            request: None,
            announce_layout: false,
            announce_qemu_key: false,
            resize_answer: None,
        }
    }

    /// Whether the viewer announced `encoding` (a [`number`]).
    pub fn takes(&self, encoding: i32) -> bool {
        self.announced.contains(&encoding)
    }

    /// Whether the next update owes the viewer a pseudo-rectangle, whatever
    /// changed on the desktop.
    pub fn owes_announcement(&self) -> bool {
        self.announce_layout || self.announce_qemu_key || self.resize_answer.is_some()
    }

    /// Acts on one of the viewer's messages.
    pub fn dispatch(&mut self, message: ClientMessage, to: &Dispatch<'_>) {
        let viewer = to.viewer;
        match message {
            ClientMessage::SetPixelFormat(format) => self.format = format,
            ClientMessage::SetEncodings(encodings) => {
                let had_layout = self.takes(number::EXTENDED_DESKTOP_SIZE);
                let had_qemu_key = self.takes(number::QEMU_EXTENDED_KEY);
                self.announced = encodings;
                self.encoding = Encoding::preferred(&self.announced);
                debug!(
                    "vnc: viewer {viewer} announced encodings {:?}: pixels go as {:?}",
                    self.announced, self.encoding
                );
                let moves = self.takes(number::COPY_RECT);
                lock(to.pending).set_moves_allowed(moves);
                self.announce_layout |= !had_layout && self.takes(number::EXTENDED_DESKTOP_SIZE);
                self.announce_qemu_key |= !had_qemu_key && self.takes(number::QEMU_EXTENDED_KEY);
            }
            ClientMessage::UpdateRequest { incremental, area } => {
                if !incremental {
                    lock(to.pending).add_rect(area);
                }
                self.request = Some(self.request.unwrap_or(true) && incremental);
            }
            ClientMessage::Key { down, keysym } => {
                // keysym 0: a QEMU extended key event with only a keycode.
                if !to.view_only && keysym != 0 {
                    to.desktop.input(ViewerInput::Key { viewer, keysym, down });
                }
            }
            ClientMessage::Pointer { buttons, x, y } => {
                if !to.view_only {
                    to.desktop.input(ViewerInput::Pointer { viewer, x, y, buttons });
                }
            }
            ClientMessage::CutText(text) => {
                if !to.view_only {
                    to.desktop.input(ViewerInput::Clipboard { viewer, text });
                }
            }
            ClientMessage::SetDesktopSize { width, height } => {
                if to.view_only {
                    self.resize_answer = Some(ResizeStatus::Prohibited);
                } else if width == 0 || height == 0 || !frame::fits(width.into(), height.into()) {
                    // As TigerVNC answers a size past its limit.
                    self.resize_answer = Some(ResizeStatus::InvalidLayout);
                } else {
                    to.desktop.input(ViewerInput::Resize { viewer, width, height });
                    self.resize_answer = Some(ResizeStatus::Done);
                }
            }
        }
    }
}
