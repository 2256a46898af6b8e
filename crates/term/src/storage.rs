//! The rows of one screen, kept in a ring, plus its scrollback.
//!
//! Scrolling the whole screen up moves the ring's zero instead of moving rows:
//! the top row's written cells are appended to the [`History`] and the row,
//! blanked, comes back as the new bottom row, so a scroll costs one append
//! and one row clear, no row copying or allocation, and touches nothing but
//! the screen's own rows and the end of the history.

use std::borrow::Cow;

use super::cell::{Cell, Flags};

use super::history::History;

/// One line of cells.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    cells: Vec<Cell>,
    /// Cells from here on are all [`Cell::BLANK`], so that blanking a row
    /// that held a short line (a scroll) touches only what was written.
    /// (A `u32` keeps `Row` at 32 bytes, which the compiler swaps inline.)
    occupied: u32,
    /// The line continues on the next row (autowrap happened here); resize
    /// joins such rows when it reflows.
    pub wrapped: bool,
}

impl Row {
    pub fn new(cols: usize, blank: Cell) -> Row {
        Row::from_cells(vec![blank; cols], false)
    }

    /// A row of `cells`, as far occupied as its last non-blank cell.
    fn from_cells(cells: Vec<Cell>, wrapped: bool) -> Row {
        let occupied = cells.iter().rposition(|c| *c != Cell::BLANK).map_or(0, |x| x + 1) as u32;
        Row { occupied, cells, wrapped }
    }

    /// The cells, for reading.
    #[inline]
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// The cells, for writing anywhere.
    #[inline]
    pub fn cells_mut(&mut self) -> &mut [Cell] {
        let len = self.cells.len() as u32;
        if self.occupied != len {
            // Only stored when it changes: a store on every character would
            // chain each one to the previous through memory.
            self.occupied = len;
        }
        &mut self.cells
    }

    /// The cells, for writing below column `end` only.
    #[inline]
    pub fn cells_upto(&mut self, end: usize) -> &mut [Cell] {
        self.occupied = self.occupied.max(end.min(self.cells.len()) as u32);
        &mut self.cells
    }

    /// Sets cells `from..` to [`Cell::BLANK`], blanking a wide character cut
    /// in half at `from`.
    pub fn clear_from(&mut self, from: usize) {
        if from > 0 && from < self.cells.len() && self.cells[from].flags.contains(Flags::WIDE_SPACER) {
            self.cells[from - 1] = Cell::erased(self.cells[from - 1].bg);
        }
        let occupied = self.occupied as usize;
        if from < occupied {
            super::cell::fill(&mut self.cells[from..occupied], Cell::BLANK);
            self.occupied = from as u32;
        }
    }

    /// Blanks the whole row, keeping its width.
    #[inline]
    pub fn reset(&mut self, blank: Cell) {
        if blank == Cell::BLANK {
            super::cell::fill(&mut self.cells[..self.occupied as usize], blank);
            self.occupied = 0;
        } else {
            super::cell::fill(&mut self.cells, blank);
            self.occupied = self.cells.len() as u32;
        }
        self.wrapped = false;
    }
}

/// The screen's rows in a ring, plus the scrollback.
#[derive(Clone, Debug)]
pub(crate) struct Storage {
    /// Physical rows; visible row `y` is `inner[(zero + y) % inner.len()]`.
    inner: Vec<Row>,
    zero: usize,
    history: History,
    cols: usize,
}

impl Storage {
    pub fn new(cols: usize, visible: usize, max_history: usize) -> Storage {
        Storage {
            inner: (0..visible).map(|_| Row::new(cols, Cell::BLANK)).collect(),
            zero: 0,
            history: History::new(max_history),
            cols,
        }
    }

    #[inline]
    fn physical(&self, y: usize) -> usize {
        let i = self.zero + y;
        if i >= self.inner.len() { i - self.inner.len() } else { i }
    }

    /// How many scrollback rows this storage keeps at most.
    pub fn max_history(&self) -> usize {
        self.history.max()
    }

    /// Number of scrollback rows currently held.
    pub fn history(&self) -> usize {
        self.history.len()
    }

    /// How many scrollback rows ever left the oldest end: scrollback row `i`
    /// is for good the `history_dropped() + i`th.
    pub fn history_dropped(&self) -> u64 {
        self.history.dropped()
    }

    /// Visible row `y` (0 = top of the screen). `y` must be below `visible`.
    #[inline]
    pub fn row(&self, y: usize) -> &Row {
        &self.inner[self.physical(y)]
    }

    /// Visible row `y`, mutable.
    #[inline]
    pub fn row_mut(&mut self, y: usize) -> &mut Row {
        let p = self.physical(y);
        &mut self.inner[p]
    }

    /// The cells of row `y` of the view scrolled back by `offset` rows
    /// (`offset` at most `history`). A history row may be shorter than the
    /// screen: the cells after it are [`Cell::BLANK`].
    pub fn view_cells(&self, offset: usize, y: usize) -> Cow<'_, [Cell]> {
        let logical = self.history.len() - offset.min(self.history.len()) + y;
        match logical.checked_sub(self.history.len()) {
            Some(y) => Cow::Borrowed(self.row(y).cells()),
            None => self.history.line(logical).0,
        }
    }

    /// Two distinct visible rows at once.
    pub fn two_rows_mut(&mut self, a: usize, b: usize) -> (&mut Row, &mut Row) {
        let pa = self.physical(a);
        let pb = self.physical(b);
        debug_assert_ne!(pa, pb);
        if pa < pb {
            let (lo, hi) = self.inner.split_at_mut(pb);
            (&mut lo[pa], &mut hi[0])
        } else {
            let (lo, hi) = self.inner.split_at_mut(pa);
            (&mut hi[0], &mut lo[pb])
        }
    }

    /// Swaps visible rows `a` and `b`.
    #[inline]
    pub fn swap(&mut self, a: usize, b: usize) {
        let pa = self.physical(a);
        let pb = self.physical(b);
        self.inner.swap(pa, pb);
    }

    /// Moves visible rows `top..=bottom` up by `n` (`n` at most the region's
    /// height); the `n` rows that fell off the top end up, in some order, at
    /// the bottom. (Reading a moved row header right after the move stalls
    /// the CPU, so callers blank the leaving rows before, not after.)
    pub fn rotate_up(&mut self, top: usize, bottom: usize, n: usize) {
        let (pt, pb) = (self.physical(top), self.physical(bottom));
        if pt <= pb {
            self.inner[pt..=pb].rotate_left(n);
        } else {
            for y in top..=bottom - n {
                self.swap(y, y + n);
            }
        }
    }

    /// Like `rotate_up(0, bottom, n)`, in O(rows below the region): the ring
    /// turns and the fixed rows below the region are swapped back into place.
    pub fn rotate_top_region_up(&mut self, bottom: usize, n: usize) {
        self.zero = self.physical(n);
        for y in (bottom + 1..self.inner.len()).rev() {
            self.swap(y, y - n);
        }
    }

    /// Moves visible rows `top..=bottom` down by `n`, the `n` rows that fell
    /// off the bottom ending up at the top.
    pub fn rotate_down(&mut self, top: usize, bottom: usize, n: usize) {
        let (pt, pb) = (self.physical(top), self.physical(bottom));
        if pt <= pb {
            self.inner[pt..=pb].rotate_right(n);
        } else {
            for y in (top + n..=bottom).rev() {
                self.swap(y, y - n);
            }
        }
    }

    /// Scrolls the whole screen up by one row: the top row goes to history
    /// (or is dropped when there is none), a blank row appears at the bottom.
    #[inline]
    pub fn scroll_up_into_history(&mut self, blank: Cell) {
        let top = self.zero;
        let row = &mut self.inner[top];
        self.history.push(&row.cells[..row.occupied as usize], row.wrapped);
        row.reset(blank);
        self.zero = self.physical(1);
    }

    /// Appends a line of `len` cells to the history without it passing
    /// through the screen, keeping up to `extra` lines beyond the maximum
    /// until [`Self::trim_history`]: the end of a
    /// [`jump_scroll`](super::screen::Screen::jump_scroll), which takes its
    /// last lines back with [`Self::history_to_row`].
    #[inline]
    pub fn push_history(&mut self, len: usize, cells: impl Iterator<Item = Cell>, extra: usize) {
        let limit = if self.history.max() == 0 { 0 } else { self.history.max() + extra };
        self.history.push_iter(len, cells, false, limit);
    }

    /// Appends `count` whole lines of plain text (each printable ASCII then
    /// CR LF), characters in cells like `template`, to the history as
    /// [`Self::push_history`] does, keeping them all until
    /// [`Self::trim_history`]. The history keeps them as text until their
    /// cells are needed.
    pub fn push_history_text(&mut self, bytes: &[u8], count: usize, template: Cell) {
        self.history.push_text(bytes, count, template);
    }

    /// Moves the newest history line onto visible row `y`, which is blank.
    pub fn history_to_row(&mut self, y: usize) {
        let p = self.physical(y);
        let Some(cells) = self.history.newest() else { return };
        let len = cells.len().min(self.cols);
        self.inner[p].cells_upto(len)[..len].copy_from_slice(&cells[..len]);
        self.history.drop_newest();
    }

    /// Makes the history's lines of text into cells, before the view shows
    /// them: reading a line of text makes its cells anew each time.
    pub fn make_history_cells(&mut self) {
        self.history.make_cells();
    }

    /// Drops the oldest history lines beyond the maximum.
    pub fn trim_history(&mut self) {
        self.history.trim(self.history.max());
    }

    /// Drops all scrollback rows.
    pub fn clear_history(&mut self) {
        self.history.clear();
    }

    /// All rows, oldest history first, leaving the storage empty; with
    /// `with_history` false only the visible ones.
    fn take_rows(&mut self, with_history: bool) -> Vec<Row> {
        let mut rows = Vec::with_capacity(self.history.len() + self.inner.len());
        self.history.make_cells();
        if with_history {
            for i in 0..self.history.len() {
                // As long as it was written, not padded to the width: the
                // history costs what it holds, whatever the width.
                let (cells, wrapped) = self.history.line(i);
                rows.push(Row::from_cells(cells.into_owned(), wrapped));
            }
        }
        self.history.clear();
        let mut inner = std::mem::take(&mut self.inner);
        inner.rotate_left(self.zero);
        self.zero = 0;
        rows.extend(inner);
        rows
    }

    /// Takes `rows` (history then visible, each at most `cols` wide) as the
    /// new content; the visible ones are padded to `cols`.
    fn rebuild(&mut self, mut rows: Vec<Row>, cols: usize, visible: usize) {
        while rows.len() < visible {
            rows.push(Row::new(cols, Cell::BLANK));
        }
        let mut inner = rows.split_off(rows.len() - visible);
        for row in &mut inner {
            row.cells.resize(cols, Cell::BLANK);
        }
        for row in &rows {
            self.history.push(&row.cells[..row.occupied as usize], row.wrapped);
        }
        self.inner = inner;
        self.zero = 0;
        self.cols = cols;
    }

    /// Resizes to `cols` x `visible`, keeping the content.
    ///
    /// With `reflow`, wrapped lines are re-joined and re-wrapped at the new
    /// width. Rows leave the top of the screen into history when the screen
    /// gets shorter (after dropping blank rows below `cursor_y`), and come
    /// back from history when it gets taller. Returns the cursor's new row.
    pub fn resize(&mut self, cols: usize, visible: usize, reflow: bool, cursor_y: usize) -> usize {
        let old_history = self.history.len();
        let old_end = self.history.dropped() + old_history as u64;
        let mut rows = self.take_rows(true);
        let mut cursor_line = old_history + cursor_y;
        if reflow && cols != self.cols {
            (rows, cursor_line) = reflow_rows(rows, cols, cursor_line);
        } else {
            for row in rows.iter_mut().filter(|row| row.cells.len() >= cols) {
                row.cells.truncate(cols);
                row.occupied = row.occupied.min(cols as u32);
                fix_wide_at_edge(&mut row.cells);
            }
        }
        while rows.len() > visible
            && rows.len() > cursor_line + 1
            && rows.last().is_some_and(|r| r.cells.iter().all(|c| *c == Cell::BLANK))
        {
            rows.pop();
        }
        let top = rows.len().saturating_sub(visible);
        let new_y = cursor_line.saturating_sub(top).min(visible - 1);
        self.rebuild(rows, cols, visible);
        // The rows were taken out and put back, not dropped: numbered so that
        // a view into the history keeps its distance from the screen,
        // whatever the rewrapping did.
        self.history.renumber(old_end);
        new_y
    }
}

/// Blanks a wide character cut in half at the right edge.
fn fix_wide_at_edge(cells: &mut [Cell]) {
    if let Some(last) = cells.last_mut()
        && last.flags.contains(Flags::WIDE)
    {
        *last = Cell { c: ' ', flags: Flags::empty(), marks: 0, ..*last };
    }
}

/// Re-wraps logical lines (runs of rows joined by `wrapped`) at `cols`.
/// Returns the new rows and the new index of `cursor_line`.
fn reflow_rows(rows: Vec<Row>, cols: usize, cursor_line: usize) -> (Vec<Row>, usize) {
    let mut out: Vec<Row> = Vec::with_capacity(rows.len());
    let mut line: Vec<Cell> = Vec::new();
    let mut new_cursor = None;
    let mut line_start = 0;
    let total = rows.len();
    for (i, row) in rows.into_iter().enumerate() {
        let wrapped = row.wrapped && i + 1 < total;
        let mut cells = row.cells;
        if !wrapped {
            while cells.last().is_some_and(|c| *c == Cell::BLANK) {
                cells.pop();
            }
        }
        line.extend(cells);
        if wrapped {
            continue;
        }
        let start = out.len();
        push_wrapped(&mut out, std::mem::take(&mut line), cols);
        if (line_start..=i).contains(&cursor_line) {
            new_cursor = Some((start + cursor_line - line_start).min(out.len() - 1));
        }
        line_start = i + 1;
    }
    let last = out.len().saturating_sub(1);
    (out, new_cursor.unwrap_or(last))
}

/// Appends `line` to `out` as rows of `cols` cells, marking all but the last
/// as wrapped and never splitting a wide character.
fn push_wrapped(out: &mut Vec<Row>, line: Vec<Cell>, cols: usize) {
    let mut rest = &line[..];
    loop {
        let mut take = rest.len().min(cols);
        if take < rest.len() && take > 0 && rest[take - 1].flags.contains(Flags::WIDE) {
            take -= 1;
        }
        if take == 0 && !rest.is_empty() {
            // A single wide char on a 1-column screen: drop it.
            rest = &rest[1..];
            continue;
        }
        // Not padded: the visible rows are when rebuilt, and the history's
        // never need to be.
        let cells = rest[..take].to_vec();
        rest = &rest[take..];
        let more = !rest.is_empty();
        out.push(Row::from_cells(cells, more));
        if !more {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(c: char) -> Cell {
        Cell { c, ..Cell::BLANK }
    }

    fn put(s: &mut Storage, y: usize, text: &str) {
        for (x, c) in text.chars().enumerate() {
            s.row_mut(y).cells_mut()[x] = cell(c);
        }
    }

    fn text(r: &Row) -> String {
        r.cells.iter().map(|c| c.c).collect::<String>().trim_end().to_string()
    }

    #[test]
    fn row_is_small() {
        assert_eq!(std::mem::size_of::<Row>(), 32);
    }

    #[test]
    fn scroll_rotates_without_losing_rows() {
        let mut s = Storage::new(4, 3, 2);
        for i in 0..10 {
            put(&mut s, 2, &i.to_string());
            s.scroll_up_into_history(Cell::BLANK);
        }
        assert_eq!(s.history(), 2);
        assert_eq!(text(s.row(1)), "9");
        assert_eq!(text(s.row(0)), "8");
        assert_eq!(s.view_cells(2, 0).iter().map(|c| c.c).collect::<String>().trim_end(), "6");
        assert_eq!(text(s.row(2)), "");
    }

    #[test]
    fn top_region_rotation_keeps_the_rows_below() {
        let mut s = Storage::new(2, 5, 0);
        for y in 0..5 {
            put(&mut s, y, &y.to_string());
        }
        s.rotate_top_region_up(2, 2);
        let got: Vec<String> = (0..5).map(|y| text(s.row(y))).collect();
        // Rows 0 and 1 left the region (in some order at 1..=2), 3 and 4 stay.
        assert_eq!(got[0], "2");
        assert_eq!(&got[3..], ["3", "4"]);
    }

    #[test]
    fn no_history_still_scrolls() {
        let mut s = Storage::new(4, 2, 0);
        put(&mut s, 0, "a");
        put(&mut s, 1, "b");
        s.scroll_up_into_history(Cell::BLANK);
        assert_eq!(text(s.row(0)), "b");
        assert_eq!(text(s.row(1)), "");
    }

    #[test]
    fn reflow_joins_and_splits() {
        let mut s = Storage::new(4, 3, 10);
        put(&mut s, 0, "abcd");
        s.row_mut(0).wrapped = true;
        put(&mut s, 1, "ef");
        let y = s.resize(6, 3, true, 1);
        assert_eq!(text(s.row(0)), "abcdef");
        assert_eq!(y, 0);
        s.resize(3, 3, true, 0);
        assert_eq!(text(s.row(0)), "abc");
        assert_eq!(text(s.row(1)), "def");
    }
}
