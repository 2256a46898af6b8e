//! What every encoder takes: framebuffer pixels copied out for one rectangle,
//! so that encoding runs without the screen's lock.

use crate::frame::Rect;

/// Framebuffer pixels (`0x00RRGGBB`) copied out for one rectangle, row after row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    /// Where they go.
    pub rect: Rect,
    /// `rect.width * rect.height` pixels.
    pub pixels: Vec<u32>,
}

impl Patch {
    /// Copies the pixels of `tile` (relative to the patch, inside it) into `out`.
    pub(crate) fn tile(&self, x: usize, y: usize, width: usize, height: usize, out: &mut Vec<u32>) {
        out.clear();
        let stride = usize::from(self.rect.width);
        for row in y..y + height {
            out.extend_from_slice(&self.pixels[row * stride + x..row * stride + x + width]);
        }
    }

    /// The part of the patch at (`x`, `y`) of this size, relative to the patch.
    pub(crate) fn sub_rect(&self, x: usize, y: usize, width: usize, height: usize) -> Rect {
        Rect::new(self.rect.x + x as u16, self.rect.y + y as u16, width as u16, height as u16)
    }
}
