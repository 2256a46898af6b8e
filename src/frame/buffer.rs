//! The framebuffer itself, and how large vcmux lets one be.

use super::rect::{Move, Rect};

/// The widest and tallest framebuffer vcmux makes or takes, in pixels (the
/// vc's, a viewer's SetDesktopSize, a server `vcmux screenshot` reads): what
/// common viewers take, TigerVNC's and vnc-rs's included.
pub const MAX_SIDE: u16 = 8192;

/// The most pixels a framebuffer of vcmux's may have: an 8K screen's
/// (7680x4320), 127 MiB of pixels. Past it a vc costs more memory than any
/// monitor can show (a 1000x1000-cell vc took 835 MB), and one viewer's full
/// update copies and encodes all of it.
pub const MAX_PIXELS: u32 = 7680 * 4320;

/// The bound [`MAX_SIDE`] and [`MAX_PIXELS`] set, as one line for errors and help.
pub const MAX_SIZE_TEXT: &str = "8192 pixels a side and 7680x4320 pixels in all";

/// Whether a framebuffer of `width` x `height` pixels is within
/// [`MAX_SIDE`] and [`MAX_PIXELS`].
pub fn fits(width: u32, height: u32) -> bool {
    width <= u32::from(MAX_SIDE) && height <= u32::from(MAX_SIDE) && width * height <= MAX_PIXELS
}

/// 32-bit pixels, `0x00RRGGBB`, row after row.
#[derive(Debug, PartialEq, Eq)]
pub struct Framebuffer {
    width: u16,
    height: u16,
    pixels: Vec<u32>,
}

impl Clone for Framebuffer {
    fn clone(&self) -> Framebuffer {
        Framebuffer { width: self.width, height: self.height, pixels: self.pixels.clone() }
    }

    /// Copies `source` into the pixels `self` has: a copy of the screen taken
    /// for every update reuses its memory.
    fn clone_from(&mut self, source: &Framebuffer) {
        self.width = source.width;
        self.height = source.height;
        self.pixels.clone_from(&source.pixels);
    }
}

impl Framebuffer {
    /// A black framebuffer.
    pub fn new(width: u16, height: u16) -> Framebuffer {
        Framebuffer { width, height, pixels: vec![0; usize::from(width) * usize::from(height)] }
    }

    /// Width in pixels.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u16 {
        self.height
    }

    /// The whole framebuffer as a rectangle.
    pub fn bounds(&self) -> Rect {
        Rect::new(0, 0, self.width, self.height)
    }

    /// Every pixel, row after row.
    pub fn pixels(&self) -> &[u32] {
        &self.pixels
    }

    /// Every pixel, for painting.
    pub fn pixels_mut(&mut self) -> &mut [u32] {
        &mut self.pixels
    }

    /// One row of pixels.
    pub fn row(&self, y: u16) -> &[u32] {
        let start = usize::from(y) * usize::from(self.width);
        &self.pixels[start..start + usize::from(self.width)]
    }

    /// Appends the pixels of `rect` (clipped to the framebuffer), row after row, to `out`.
    pub fn copy_rect(&self, rect: Rect, out: &mut Vec<u32>) {
        let Some(rect) = rect.intersection(&self.bounds()) else { return };
        out.reserve(usize::from(rect.width) * usize::from(rect.height));
        for y in rect.y..rect.y + rect.height {
            let row = self.row(y);
            out.extend_from_slice(&row[usize::from(rect.x)..usize::from(rect.x) + usize::from(rect.width)]);
        }
    }

    /// Applies a move (as a viewer applies CopyRect); a move that does not lie
    /// wholly inside the framebuffer is ignored.
    pub fn apply_move(&mut self, mv: &Move) {
        let bounds = self.bounds();
        let dst = mv.dst;
        if dst.intersection(&bounds) != Some(dst) || mv.src().intersection(&bounds) != Some(mv.src()) {
            return;
        }
        let width = usize::from(self.width);
        let (w, h) = (usize::from(dst.width), usize::from(dst.height));
        let rows: Box<dyn Iterator<Item = usize>> =
            if mv.src_y < dst.y { Box::new((0..h).rev()) } else { Box::new(0..h) };
        for row in rows {
            let from = (usize::from(mv.src_y) + row) * width + usize::from(mv.src_x);
            let to = (usize::from(dst.y) + row) * width + usize::from(dst.x);
            self.pixels.copy_within(from..from + w, to);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scroll_up_moves_rows_up() {
        let mut fb = Framebuffer::new(2, 4);
        for (i, p) in fb.pixels_mut().iter_mut().enumerate() {
            *p = i as u32;
        }
        // Rows 1..4 go to rows 0..3: a one-row scroll of the whole screen.
        fb.apply_move(&Move { dst: Rect::new(0, 0, 2, 3), src_x: 0, src_y: 1 });
        assert_eq!(fb.pixels(), &[2, 3, 4, 5, 6, 7, 6, 7]);
        // And back down, overlapping the other way.
        fb.apply_move(&Move { dst: Rect::new(0, 1, 2, 3), src_x: 0, src_y: 0 });
        assert_eq!(fb.pixels(), &[2, 3, 2, 3, 4, 5, 6, 7]);
        let mut out = Vec::new();
        fb.copy_rect(Rect::new(1, 1, 1, 2), &mut out);
        assert_eq!(out, [3, 5]);
    }

    #[test]
    fn clone_from_copies_another_size_into_the_same_memory() {
        let mut source = Framebuffer::new(3, 2);
        source.pixels_mut()[4] = 9;
        let mut copy = Framebuffer::new(4, 4);
        let memory = copy.pixels().as_ptr();
        copy.clone_from(&source);
        assert_eq!(copy, source);
        assert_eq!(copy.pixels().as_ptr(), memory, "the copy's pixels were reallocated");
    }
}
