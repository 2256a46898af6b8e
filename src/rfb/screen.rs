//! What the RFB server serves, and what it hands back: the boundary between the
//! VNC server and the terminal it shows.

use tokio::sync::watch;

use crate::render::frame::{Damage, Framebuffer};

/// Identifies one viewer connection for as long as it lasts.
pub type ViewerId = u64;

/// Something a viewer did, for the screen to act on. The server has already
/// dropped the input of view-only viewers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewerInput {
    /// RFB KeyEvent: an X11 keysym pressed or released.
    Key {
        /// Who.
        viewer: ViewerId,
        /// The X11 keysym.
        keysym: u32,
        /// Pressed (true) or released.
        down: bool,
    },
    /// RFB PointerEvent: where the pointer is and which buttons are down
    /// (bit 0 left, 1 middle, 2 right, 3/4 wheel up/down).
    Pointer {
        /// Who.
        viewer: ViewerId,
        /// Pixel column.
        x: u16,
        /// Pixel row.
        y: u16,
        /// The button mask.
        buttons: u8,
    },
    /// RFB ClientCutText: the viewer's clipboard, sent whenever it changes. Never
    /// typed on its own: kept for that viewer's paste.
    Clipboard {
        /// Who.
        viewer: ViewerId,
        /// The text (Latin-1 on the wire, converted).
        text: String,
    },
    /// ExtendedDesktopSize's SetDesktopSize: the viewer's window wants this size.
    Resize {
        /// Who.
        viewer: ViewerId,
        /// Wanted width in pixels.
        width: u16,
        /// Wanted height in pixels.
        height: u16,
    },
    /// The viewer disconnected: forget its clipboard and pressed keys.
    Left {
        /// Who.
        viewer: ViewerId,
    },
}

/// What an RFB server shows and where its viewers' input goes. The vc backend
/// implements it over its terminal and renderer; tests implement it over a
/// plain framebuffer.
pub trait Screen: Send + Sync + 'static {
    /// The desktop name sent in ServerInit, such as `vcmux vc0`.
    fn name(&self) -> String;

    /// Brings the framebuffer up to date (renders what changed) and calls `f` with
    /// it and the damage since the previous call, both under one lock, so that no
    /// other render slips in between. `f` must be quick: the console's output
    /// waits while it runs (copy pixels out, encode later).
    fn refresh(&self, f: &mut dyn FnMut(&Framebuffer, &Damage));

    /// Grows whenever the screen may have changed (output arrived, a resize): a
    /// viewer waiting for an incremental update waits for it to change.
    fn changes(&self) -> watch::Receiver<u64>;

    /// Text the console put on the clipboard (OSC 52), to send to every viewer
    /// as ServerCutText; `None` until there is some.
    fn clipboard(&self) -> watch::Receiver<Option<String>>;

    /// A viewer's input.
    fn input(&self, event: ViewerInput);

    /// The size in pixels of the character cells the screen is drawn in, if it
    /// is: the encoders then cut text along cell columns, which roughly halves
    /// a text screen in ZRLE. Pixels are exact either way.
    fn cell_size(&self) -> Option<(u16, u16)> {
        None
    }
}
