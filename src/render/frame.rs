//! A 32-bit framebuffer and the damage between two of its states.
//!
//! The renderer paints into a [`Framebuffer`] and reports a [`Damage`]: the
//! pixel moves it made (a terminal scroll becomes one move, which the VNC server
//! sends as CopyRect) followed by the rectangles it repainted. Applying a damage's
//! moves and then copying its rectangles from the new framebuffer takes any copy
//! of the previous state to the new one.

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

/// A rectangle of pixels; `width` and `height` are never zero in a damage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rect {
    /// Left edge.
    pub x: u16,
    /// Top edge.
    pub y: u16,
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
}

impl Rect {
    /// A rectangle from its corner and size.
    pub const fn new(x: u16, y: u16, width: u16, height: u16) -> Rect {
        Rect { x, y, width, height }
    }

    /// Whether it covers no pixel.
    pub fn is_empty(&self) -> bool {
        self.width == 0 || self.height == 0
    }

    /// One past the right edge.
    pub fn right(&self) -> u32 {
        u32::from(self.x) + u32::from(self.width)
    }

    /// One past the bottom edge.
    pub fn bottom(&self) -> u32 {
        u32::from(self.y) + u32::from(self.height)
    }

    /// The pixels both cover, if any.
    pub fn intersection(&self, other: &Rect) -> Option<Rect> {
        let x = self.x.max(other.x);
        let y = self.y.max(other.y);
        let right = self.right().min(other.right());
        let bottom = self.bottom().min(other.bottom());
        (u32::from(x) < right && u32::from(y) < bottom)
            .then(|| Rect::new(x, y, (right - u32::from(x)) as u16, (bottom - u32::from(y)) as u16))
    }

    /// The smallest rectangle covering both.
    pub fn union(&self, other: &Rect) -> Rect {
        let x = self.x.min(other.x);
        let y = self.y.min(other.y);
        let right = self.right().max(other.right());
        let bottom = self.bottom().max(other.bottom());
        Rect::new(x, y, (right - u32::from(x)) as u16, (bottom - u32::from(y)) as u16)
    }
}

/// Pixels copied within the framebuffer: `dst` takes what was at
/// (`src_x`, `src_y`) with `dst`'s size. RFB's CopyRect, exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    /// Where the pixels go, and how many.
    pub dst: Rect,
    /// Where they come from: left edge.
    pub src_x: u16,
    /// Where they come from: top edge.
    pub src_y: u16,
}

impl Move {
    /// The rectangle the pixels come from.
    pub fn src(&self) -> Rect {
        Rect::new(self.src_x, self.src_y, self.dst.width, self.dst.height)
    }
}

/// What changed between two states of a framebuffer: first the moves, in order,
/// then the rectangles to repaint from the new state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Damage {
    /// Pixel moves, applied in order before any repaint.
    pub moves: Vec<Move>,
    /// Rectangles whose pixels must be taken from the new state.
    pub rects: Vec<Rect>,
}

impl Damage {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.moves.is_empty() && self.rects.is_empty()
    }
}

/// 32-bit pixels, `0x00RRGGBB`, row after row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framebuffer {
    width: u16,
    height: u16,
    pixels: Vec<u32>,
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
    fn rects_intersect_and_unite() {
        let a = Rect::new(0, 0, 10, 10);
        let b = Rect::new(5, 5, 10, 10);
        assert_eq!(a.intersection(&b), Some(Rect::new(5, 5, 5, 5)));
        assert_eq!(a.union(&b), Rect::new(0, 0, 15, 15));
        assert_eq!(a.intersection(&Rect::new(10, 0, 5, 5)), None);
    }

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
}
