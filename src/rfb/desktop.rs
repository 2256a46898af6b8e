//! What the RFB server serves, and what it hands back: the boundary between the
//! VNC server and the terminal it shows.
//!
//! Viewers share one framebuffer, except those the desktop gives one of their
//! own for a while (the vc does while a viewer is scrolled back into the
//! history): a [`Desktop::refresh`] says whose pending regions its damage
//! belongs to ([`Audience`]), and when a viewer switched framebuffers, so
//! that it is sent everything anew. The server knows nothing of why.

use tokio::sync::watch;

use crate::frame::{FrameDamage, Framebuffer};

/// Identifies one viewer connection for as long as it lasts.
pub type ViewerId = u64;

/// Something a viewer did, for the desktop to act on. The server has already
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
    /// The viewer disconnected: forget its clipboard, pressed keys and
    /// framebuffer of its own.
    Left {
        /// Who.
        viewer: ViewerId,
    },
}

/// Whose pending regions a refresh's damage goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience<'a> {
    /// The shared framebuffer: every viewer's but these, which have a
    /// framebuffer of their own (it would corrupt theirs).
    AllBut(&'a [ViewerId]),
    /// The asking viewer's own framebuffer: its pending region only.
    Asker,
}

/// What one [`Desktop::refresh`] hands over.
#[derive(Debug, Clone, Copy)]
pub struct Refreshed<'a> {
    /// The framebuffer the asking viewer sees, up to date.
    pub framebuffer: &'a Framebuffer,
    /// What changed in it since it was last refreshed.
    pub damage: &'a FrameDamage,
    /// Whose the damage is.
    pub audience: Audience<'a>,
    /// The asking viewer sees another framebuffer than at its previous
    /// refresh (the shared one, or one of its own): none of what it was sent
    /// holds, everything is to be sent again.
    pub switched: bool,
}

impl<'a> Refreshed<'a> {
    /// The shared framebuffer and its damage, for every viewer: what a
    /// desktop without framebuffers of viewers' own always hands over.
    pub fn shared(framebuffer: &'a Framebuffer, damage: &'a FrameDamage) -> Refreshed<'a> {
        Refreshed { framebuffer, damage, audience: Audience::AllBut(&[]), switched: false }
    }
}

/// What an RFB server shows and where its viewers' input goes: RFB's desktop,
/// whose name ServerInit sends (not the terminal's screen, which the vc draws
/// on it). The vc backend implements it over its terminal and renderer; tests
/// implement it over a plain framebuffer.
pub trait Desktop: Send + Sync + 'static {
    /// The desktop name sent in ServerInit, such as `vcmux vc0`.
    fn name(&self) -> String;

    /// Brings the framebuffer `viewer` sees up to date (renders what changed)
    /// and calls `f` with it, the damage since its previous refresh and whose
    /// that damage is, all under one lock, so that no other render slips in
    /// between. `f` must be quick: the console's output waits while it runs
    /// (copy pixels out, encode later). A desktop that shows every viewer the
    /// same passes [`Refreshed::shared`].
    fn refresh(&self, viewer: ViewerId, f: &mut dyn FnMut(Refreshed<'_>));

    /// Grows whenever the desktop may have changed (output arrived, a resize): a
    /// viewer waiting for an incremental update waits for it to change.
    fn changes(&self) -> watch::Receiver<u64>;

    /// Text the console put on the clipboard (OSC 52), to send to every viewer
    /// as ServerCutText; `None` until there is some.
    fn clipboard(&self) -> watch::Receiver<Option<String>>;

    /// A viewer's input.
    fn input(&self, event: ViewerInput);

    /// The size in pixels of the character cells the desktop is drawn in, if it
    /// is: the encoders then cut text along cell columns, which roughly halves
    /// a text screen in ZRLE. Pixels are exact either way.
    fn cell_size(&self) -> Option<(u16, u16)> {
        None
    }
}
