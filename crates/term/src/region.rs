//! The scroll region: the margins that scrolling, editing and origin mode
//! keep to.

use std::ops::RangeInclusive;

/// The four margins, 0-based and inclusive: DECSTBM's top and bottom rows,
/// DECSLRM's left and right columns. The whole screen unless a program set
/// them; `top <= bottom` and `left <= right` always.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Region {
    top: usize,
    bottom: usize,
    left: usize,
    right: usize,
}

impl Region {
    /// The whole screen of `cols` x `rows` cells (each at least 1).
    pub fn full(cols: usize, rows: usize) -> Region {
        Region { top: 0, bottom: rows - 1, left: 0, right: cols - 1 }
    }

    /// The top margin's row.
    #[inline]
    pub fn top(&self) -> usize {
        self.top
    }

    /// The bottom margin's row.
    #[inline]
    pub fn bottom(&self) -> usize {
        self.bottom
    }

    /// The left margin's column.
    #[inline]
    pub fn left(&self) -> usize {
        self.left
    }

    /// The right margin's column.
    #[inline]
    pub fn right(&self) -> usize {
        self.right
    }

    /// Sets the top and bottom margins (`top <= bottom`).
    pub fn set_rows(&mut self, top: usize, bottom: usize) {
        debug_assert!(top <= bottom);
        (self.top, self.bottom) = (top, bottom);
    }

    /// Sets the left and right margins (`left <= right`).
    pub fn set_cols(&mut self, left: usize, right: usize) {
        debug_assert!(left <= right);
        (self.left, self.right) = (left, right);
    }

    /// The rows from the top margin to the bottom one.
    #[inline]
    pub fn rows(&self) -> RangeInclusive<usize> {
        self.top..=self.bottom
    }

    /// The columns from the left margin to the right one.
    #[inline]
    pub fn cols(&self) -> RangeInclusive<usize> {
        self.left..=self.right
    }

    /// Whether column `x` is between the left and right margins.
    #[inline]
    pub fn contains_col(&self, x: usize) -> bool {
        self.cols().contains(&x)
    }

    /// Whether row `y` is between the top and bottom margins.
    #[inline]
    pub fn contains_row(&self, y: usize) -> bool {
        self.rows().contains(&y)
    }

    /// Whether the left and right margins are the edges of a screen `cols` wide.
    #[inline]
    pub fn is_full_width(&self, cols: usize) -> bool {
        self.left == 0 && self.right == cols - 1
    }
}
