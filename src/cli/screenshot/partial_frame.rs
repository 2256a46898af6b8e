//! A frame while it arrives: the pixels so far, and which are still missing.

use super::error::ClientError;
use crate::frame::{Framebuffer, Rect};

/// The frame being received, and which of its pixels have arrived.
pub struct PartialFrame {
    /// The pixels so far.
    pub(super) frame: Framebuffer,
    /// Whether each pixel has been painted at least once, row after row.
    painted: Vec<bool>,
    /// How many have not.
    missing: usize,
}

impl PartialFrame {
    /// A screen of `width` x `height` with nothing painted yet.
    pub fn new(width: u16, height: u16) -> PartialFrame {
        let pixels = usize::from(width) * usize::from(height);
        PartialFrame { frame: Framebuffer::new(width, height), painted: vec![false; pixels], missing: pixels }
    }

    /// Whether every pixel has arrived.
    pub fn is_complete(&self) -> bool {
        self.missing == 0
    }

    /// Refuses a rectangle that is not wholly on the screen.
    pub fn check(&self, rect: Rect) -> Result<(), ClientError> {
        let (width, height) = (self.frame.width(), self.frame.height());
        if rect.right() > u32::from(width) || rect.bottom() > u32::from(height) {
            return Err(ClientError::Protocol(format!(
                "a {}x{} rectangle at ({}, {}) on a {width}x{height} screen",
                rect.width, rect.height, rect.x, rect.y
            )));
        }
        Ok(())
    }

    /// Paints rows of `width` pixels from (`x`, `y`) down, which lie on the screen.
    pub fn paint(&mut self, x: usize, y: usize, width: usize, pixels: &[u32]) {
        if width == 0 {
            return;
        }
        let stride = usize::from(self.frame.width());
        for (row, line) in pixels.chunks_exact(width).enumerate() {
            let start = (y + row) * stride + x;
            self.frame.pixels_mut()[start..start + width].copy_from_slice(line);
            for painted in &mut self.painted[start..start + width] {
                if !std::mem::replace(painted, true) {
                    self.missing -= 1;
                }
            }
        }
    }
}
