//! One FramebufferUpdate: the viewer's pending region cut out of the
//! framebuffer under the desktop's lock ([`Cut`]), then written ([`send`]) in
//! the viewer's pixel format and encoding, off the runtime's threads, with the
//! pseudo-rectangles it is owed.

use std::cmp::Reverse;
use std::sync::Mutex;

use super::dispatch::Asked;
use super::encoding::{Encoders, Encoding, Patch, copyrect, number, plans_copies};
use super::outgoing::Outgoing;
use super::pending::{Pending, Taken};
use super::pixel_format::PixelFormat;
use super::server_message::ServerMessage;
use super::viewers::lock;
use crate::frame::{Framebuffer, Move, Rect};
use crate::memory;

/// Why an update could not be sent; the connection ends.
#[derive(Debug, thiserror::Error)]
pub(super) enum UpdateError {
    /// The framebuffer's size changed and the viewer cannot be told.
    #[error("the screen was resized and the viewer takes no DesktopSize")]
    CannotResize,
    /// The encoding task panicked.
    #[error("encoding an update failed")]
    EncoderFailed,
}

/// What one update sends, copied out of the framebuffer so that encoding
/// runs without the desktop's lock.
pub(super) struct Cut {
    /// The viewer's pending region, taken.
    pub taken: Taken,
    /// The pixels of its rectangles.
    patches: Vec<Patch>,
    /// The whole framebuffer, when repeated cells may go as copies (they
    /// read the screen outside the damage too).
    screen: Option<Framebuffer>,
}

impl Cut {
    /// Takes `pending` and copies its rectangles out of `framebuffer` (into
    /// buffers from `spare`), and the framebuffer itself when a viewer in
    /// `copies` (its encoding, if it takes CopyRect) would be sent cell
    /// copies on a screen of `cell_size` cells ([`plans_copies`]).
    pub fn take(
        framebuffer: &Framebuffer,
        pending: &Mutex<Pending>,
        cell_size: Option<(u16, u16)>,
        copies: Option<Encoding>,
        spare: &mut Spare,
    ) -> Cut {
        let taken = lock(pending).take();
        let area = |rect: &Rect| usize::from(rect.width) * usize::from(rect.height);
        // The largest rectangles choose their buffers first.
        let mut order: Vec<usize> = (0..taken.rects.len()).collect();
        order.sort_by_key(|&i| Reverse(area(&taken.rects[i])));
        let mut buffers: Vec<Vec<u32>> = vec![Vec::new(); taken.rects.len()];
        for i in order {
            buffers[i] = spare.pixels(area(&taken.rects[i]));
        }
        let patches: Vec<Patch> = taken
            .rects
            .iter()
            .zip(buffers)
            .map(|(&rect, mut pixels)| {
                framebuffer.copy_rect(rect, &mut pixels);
                Patch { rect, pixels }
            })
            .collect();
        let plans = match (cell_size, copies) {
            (Some(cell), Some(encoding)) => plans_copies(encoding, cell, &taken.rects),
            _ => false,
        };
        let screen = plans.then(|| match spare.screen.take() {
            Some(mut screen) => {
                screen.clone_from(framebuffer);
                screen
            }
            None => framebuffer.clone(),
        });
        Cut { taken, patches, screen }
    }

    /// The region taken, and its pixels.
    pub fn into_parts(self) -> (Taken, Pixels) {
        let Cut { mut taken, patches, screen } = self;
        let moves = std::mem::take(&mut taken.moves);
        (taken, Pixels { moves, patches, screen })
    }

    /// Whether nothing changed: no move, no rectangle, no resize.
    pub fn is_empty(&self) -> bool {
        self.taken.moves.is_empty() && self.patches.is_empty() && !self.taken.resized
    }
}

/// Buffers an update is done with, kept for the next by a group's task
/// ([`group`](super::group)): the pixels cut out and the copy of the screen
/// are up to a screenful each, and glibc maps every buffer of 256 KiB and
/// more afresh (`return_large_buffers` in main.rs), so that taking new ones
/// for each frame faulted new pages in every frame.
#[derive(Default)]
pub(super) struct Spare {
    /// Cleared pixel buffers.
    pixels: Vec<Vec<u32>>,
    /// The last copy of the screen.
    screen: Option<Framebuffer>,
}

impl Spare {
    /// An empty buffer for `len` pixels: the smallest kept that holds them,
    /// else the largest kept (growing it keeps the pages it has), else a new one.
    fn pixels(&mut self, len: usize) -> Vec<u32> {
        let capacity = |i: &usize| self.pixels[*i].capacity();
        let fit = (0..self.pixels.len()).filter(|i| capacity(i) >= len).min_by_key(capacity);
        let chosen = fit.or_else(|| (0..self.pixels.len()).max_by_key(capacity));
        chosen.map_or_else(Vec::new, |i| self.pixels.swap_remove(i))
    }

    /// Keeps the buffers `used` by an update, the largest first, up to
    /// `limit` pixels in all (a screenful), and its copy of the screen.
    pub fn keep(&mut self, used: Spare, limit: usize) {
        self.pixels.extend(used.pixels);
        self.pixels.sort_by_key(|pixels| Reverse(pixels.capacity()));
        let mut total = 0;
        self.pixels.retain(|pixels| {
            total += pixels.capacity();
            total <= limit
        });
        if used.screen.is_some() {
            self.screen = used.screen;
        }
    }
}

/// What an update of a screen of `width` x `height` may take while it is cut
/// and encoded: the pixels copied out, the encoded body and the message
/// (three screenfuls of 32-bit pixels), at most an eighth of the budget, so
/// that a large screen is updated at all.
pub(super) fn update_cost(width: u16, height: u16) -> usize {
    (usize::from(width) * usize::from(height) * 4 * 3).min(memory::PROCESS_BUDGET / 8)
}

/// Sends `cut` to `out` as `asked` wants it, with the pseudo-rectangles it
/// owes (clearing them): the moves first, then the patches, then the cell
/// copies that replace some of their pixels. `encoders` are the connection's,
/// told the desktop's `cell_size`.
pub(super) async fn send(
    cut: Cut,
    asked: &mut Asked,
    encoders: &mut Encoders,
    cell_size: Option<(u16, u16)>,
    out: &Outgoing,
) -> Result<(), UpdateError> {
    let Cut { taken, patches, screen } = cut;
    let (width, height) = (taken.width, taken.height);
    let extended = asked.takes(number::EXTENDED_DESKTOP_SIZE);
    if taken.resized && !extended && !asked.takes(number::DESKTOP_SIZE) {
        return Err(UpdateError::CannotResize);
    }
    announce_layout(asked, taken.resized, width, height, out);

    let mut body = Vec::new();
    let mut count: u32 = 0;
    if taken.resized && !extended {
        ServerMessage::DesktopSize { width, height }.encode(&mut body);
        count += 1;
    }
    if std::mem::take(&mut asked.announce_qemu_key) {
        ServerMessage::QemuExtendedKey.encode(&mut body);
        count += 1;
    }
    let pixels = Pixels { moves: taken.moves, patches, screen };
    let encoded = encode(pixels, asked.encoding, asked.format, encoders, cell_size, body).await?;
    count += encoded.count;
    if count > 0 {
        // Past 65535 rectangles the count would not fit: it cannot get there.
        // The pending rectangles (at most 32) add up to at most the screen,
        // Tight cuts them into pieces of 65536 pixels (a few thousand for
        // the largest screen), ZRLE into at most 256 cell columns each;
        // cell copies are at most 16384.
        let rectangles = count.min(u32::from(u16::MAX)) as u16;
        let mut message = ServerMessage::FramebufferUpdate { rectangles }.to_bytes();
        message.extend_from_slice(&encoded.body);
        out.send(message);
    }
    Ok(())
}

/// Sends the ExtendedDesktopSize `asked` is owed, alone (vnc-rs refuses
/// pixels in its update), and forgets a resize answer a viewer without it
/// cannot be sent.
fn announce_layout(asked: &mut Asked, resized: bool, width: u16, height: u16, out: &Outgoing) {
    let extended = asked.takes(number::EXTENDED_DESKTOP_SIZE);
    if extended && (resized || asked.announce_layout || asked.resize_answer.is_some()) {
        let answer = asked.resize_answer.take();
        let mut message = ServerMessage::FramebufferUpdate { rectangles: 1 }.to_bytes();
        ServerMessage::ExtendedDesktopSize { answer, width, height }.encode(&mut message);
        out.send(message);
        asked.announce_layout = false;
    }
    asked.resize_answer = None;
}

/// Sends a group's encoded updates (see [`group`](super::group)) to one of
/// its viewers, as one FramebufferUpdate, after the pseudo-rectangles that
/// viewer is owed (each in an update of its own: the frames' bytes are the
/// same for every viewer of the group). `size` is the framebuffer's.
pub(super) fn send_frames<'a>(
    frames: impl Iterator<Item = (&'a [u8], u32)> + Clone,
    asked: &mut Asked,
    size: (u16, u16),
    out: &Outgoing,
) {
    announce_layout(asked, false, size.0, size.1, out);
    if std::mem::take(&mut asked.announce_qemu_key) {
        let mut message = ServerMessage::FramebufferUpdate { rectangles: 1 }.to_bytes();
        ServerMessage::QemuExtendedKey.encode(&mut message);
        out.send(message);
    }
    let count: u32 = frames.clone().map(|(_, count)| count).sum();
    // The group's log holds a bounded number of frames, each under 65536
    // rectangles; the caller takes no more than fit (`group::Membership`).
    let rectangles = count.min(u32::from(u16::MAX)) as u16;
    let mut message = ServerMessage::FramebufferUpdate { rectangles }.to_bytes();
    for (body, _) in frames {
        message.extend_from_slice(body);
    }
    out.send(message);
}

/// What an update's pixels are made of, copied out of the framebuffer.
pub(super) struct Pixels {
    /// CopyRect moves, sent first.
    pub moves: Vec<Move>,
    /// The rectangles repainted after them.
    pub patches: Vec<Patch>,
    /// The whole screen, when cell copies are planned over it.
    pub screen: Option<Framebuffer>,
}

/// Rectangles encoded, after whatever was given before them.
pub(super) struct Encoded {
    /// The rectangles, headers included.
    pub body: Vec<u8>,
    /// How many (those given before not counted).
    pub count: u32,
    /// The buffers the pixels were in, for the next update to reuse.
    pub spare: Spare,
}

/// Encodes `pixels` in `encoding` and `format` after `body` (off the
/// runtime's threads: zlib takes milliseconds a screenful), with `encoders`
/// told the desktop's `cell_size`: moves, then patches, then cell copies.
pub(super) async fn encode(
    pixels: Pixels,
    encoding: Encoding,
    format: PixelFormat,
    encoders: &mut Encoders,
    cell_size: Option<(u16, u16)>,
    mut body: Vec<u8>,
) -> Result<Encoded, UpdateError> {
    let Pixels { moves, mut patches, screen } = pixels;
    let mut count = 0u32;
    for mv in &moves {
        copyrect::encode(mv, &mut body);
        count += 1;
    }
    let mut moved = std::mem::take(encoders);
    moved.set_cell_size(cell_size);
    let encoded = tokio::task::spawn_blocking(move || {
        let copies = screen
            .as_ref()
            .map_or_else(Vec::new, |screen| moved.copy_cells(encoding, screen, &mut patches, &format));
        for patch in &patches {
            count += u32::from(moved.encode(encoding, patch, &format, &mut body));
        }
        for mv in &copies {
            copyrect::encode(mv, &mut body);
            count += 1;
        }
        let pixels = patches
            .into_iter()
            .map(|patch| {
                let mut pixels = patch.pixels;
                pixels.clear();
                pixels
            })
            .collect();
        (moved, body, count, Spare { pixels, screen })
    })
    .await;
    let Ok((moved, body, count, spare)) = encoded else { return Err(UpdateError::EncoderFailed) };
    *encoders = moved;
    Ok(Encoded { body, count, spare })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spare_buffers_are_reused_best_fit_first_and_kept_up_to_the_limit() {
        let mut spare = Spare::default();
        let used = Spare { pixels: vec![Vec::with_capacity(100), Vec::with_capacity(10)], screen: None };
        let (big, small) = (used.pixels[0].as_ptr(), used.pixels[1].as_ptr());
        spare.keep(used, 110);
        // The smallest that holds 8 pixels is the small one; 50 takes the big one.
        let (eight, fifty) = (spare.pixels(8), spare.pixels(50));
        assert_eq!((eight.as_ptr(), fifty.as_ptr()), (small, big));
        assert!(spare.pixels.is_empty());

        // Past the limit the smaller buffers go; a request larger than any
        // kept takes the largest, to grow it.
        let used = Spare { pixels: vec![Vec::with_capacity(10), Vec::with_capacity(100)], screen: None };
        let big = used.pixels[1].as_ptr();
        spare.keep(used, 105);
        assert_eq!(spare.pixels.len(), 1);
        let grown = spare.pixels(500);
        assert_eq!(grown.as_ptr(), big);
    }
}
