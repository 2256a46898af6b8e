//! What the renderer remembers of what it painted (a shadow copy of the
//! cells, with the cursor and blink state they were painted in), and the
//! rectangles it reports as repainted.

use crate::term::{Cell, CursorShape, Flags};

use crate::frame::Rect;

/// A cell as it was painted: the cell, and what else decided its pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Painted {
    /// The terminal's cell.
    pub cell: Cell,
    /// The cursor drawn on it and the blink phase it was painted in (the
    /// constants below).
    pub extra: u8,
}

/// `extra`: a block cursor is drawn on the cell.
const CURSOR_BLOCK: u8 = 1;
/// `extra`: an underline cursor.
const CURSOR_UNDERLINE: u8 = 2;
/// `extra`: a bar cursor.
const CURSOR_BAR: u8 = 3;
/// `extra`: blinking text painted in its off phase.
const BLINK_OFF: u8 = 4;
/// `extra`: nothing known was painted; equal to no cell.
const UNKNOWN: u8 = 0x80;

impl Painted {
    /// A cell whose pixels are unknown, so that it is painted next time.
    pub const UNKNOWN: Painted = Painted { cell: Cell::BLANK, extra: UNKNOWN };

    /// `cell` with `cursor` on it, painted in blink phase `blink_on`.
    pub fn new(cell: Cell, cursor: Option<CursorShape>, blink_on: bool) -> Painted {
        let mut extra = match cursor {
            None => 0,
            Some(CursorShape::Block) => CURSOR_BLOCK,
            Some(CursorShape::Underline) => CURSOR_UNDERLINE,
            Some(CursorShape::Bar) => CURSOR_BAR,
        };
        if !blink_on && cell.flags.contains(Flags::BLINK) {
            extra |= BLINK_OFF;
        }
        Painted { cell, extra }
    }

    /// The cursor this was painted with.
    pub fn cursor(&self) -> Option<CursorShape> {
        match self.extra & 3 {
            CURSOR_BLOCK => Some(CursorShape::Block),
            CURSOR_UNDERLINE => Some(CursorShape::Underline),
            CURSOR_BAR => Some(CursorShape::Bar),
            _ => None,
        }
    }

    /// The left half of a wide character.
    pub fn is_wide(&self) -> bool {
        self.cell.flags.contains(Flags::WIDE)
    }

    /// The right half of a wide character.
    pub fn is_spacer(&self) -> bool {
        self.cell.flags.contains(Flags::WIDE_SPACER)
    }
}

/// The painted cells, row after row.
pub struct Shadow {
    /// Width in cells.
    pub cols: u16,
    /// Height in cells.
    pub rows: u16,
    cells: Vec<Painted>,
}

impl Shadow {
    /// A shadow of a screen whose pixels are all unknown.
    pub fn new(cols: u16, rows: u16) -> Shadow {
        Shadow { cols, rows, cells: vec![Painted::UNKNOWN; usize::from(cols) * usize::from(rows)] }
    }

    /// Forgets everything painted (the colours changed).
    pub fn forget(&mut self) {
        self.cells.fill(Painted::UNKNOWN);
    }

    /// Row `y`.
    pub fn row(&self, y: u16) -> &[Painted] {
        let start = usize::from(y) * usize::from(self.cols);
        &self.cells[start..start + usize::from(self.cols)]
    }

    /// Every row, to record what was painted.
    pub fn cells_mut(&mut self) -> &mut [Painted] {
        &mut self.cells
    }

    /// Moves `rows` rows from row `from` to row `to`, as the pixels move.
    pub fn copy_rows(&mut self, from: u16, to: u16, rows: u16) {
        let cols = usize::from(self.cols);
        let src = usize::from(from) * cols;
        self.cells.copy_within(src..src + usize::from(rows) * cols, usize::from(to) * cols);
    }
}

/// Repainted rectangles, merged as they come: runs in a row a few cells
/// apart become one, and a run exactly below another extends it.
#[derive(Default)]
pub struct Rects {
    rects: Vec<Rect>,
    /// The run of the row being painted: pixel columns `start..end`.
    run: Option<(u16, u16)>,
    row_top: u16,
    row_height: u16,
}

/// Runs closer than this many pixels in a row are reported as one.
const GAP: u16 = 24;

impl Rects {
    /// Starts a row of pixels `top..top + height`.
    pub fn start_row(&mut self, top: u16, height: u16) {
        self.end_run();
        (self.row_top, self.row_height) = (top, height);
    }

    /// Pixel columns `x..x + width` of the current row were repainted.
    pub fn add(&mut self, x: u16, width: u16) {
        let end = x + width;
        match &mut self.run {
            Some((_, run_end)) if x <= *run_end + GAP => *run_end = end,
            _ => {
                self.end_run();
                self.run = Some((x, end));
            }
        }
    }

    fn end_run(&mut self) {
        let Some((start, end)) = self.run.take() else { return };
        let rect = Rect::new(start, self.row_top, end - start, self.row_height);
        add_below(&mut self.rects, rect);
    }

    /// The rectangles.
    pub fn finish(mut self) -> Vec<Rect> {
        self.end_run();
        self.rects
    }

    /// The rectangles of `self` and then of `below` (a band further down),
    /// a rectangle of `below` that continues one of `self` joined to it.
    pub fn join(self, below: Rects) -> Vec<Rect> {
        let mut rects = self.finish();
        for rect in below.finish() {
            add_below(&mut rects, rect);
        }
        rects
    }
}

/// Appends `rect`, or grows the recent rectangle it continues straight down
/// (same columns, starting where that one ends).
fn add_below(rects: &mut Vec<Rect>, rect: Rect) {
    let above = rects
        .iter_mut()
        .rev()
        .take(8)
        .find(|r| r.x == rect.x && r.width == rect.width && r.bottom() == u32::from(rect.y));
    match above {
        Some(r) => r.height += rect.height,
        None => rects.push(rect),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_merge_along_rows_and_down_columns() {
        let mut rects = Rects::default();
        rects.start_row(0, 10);
        rects.add(0, 10);
        rects.add(20, 10);
        rects.add(100, 10);
        rects.start_row(10, 10);
        rects.add(0, 10);
        rects.add(20, 10);
        rects.start_row(30, 10);
        rects.add(0, 30);
        assert_eq!(
            rects.finish(),
            [Rect::new(0, 0, 30, 20), Rect::new(100, 0, 10, 10), Rect::new(0, 30, 30, 10)]
        );
    }
}
