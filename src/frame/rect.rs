//! Rectangles of pixels and the moves between them: the geometry every
//! damage, encoder and viewer speaks.

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
}
