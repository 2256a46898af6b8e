//! The scrollback: lines that left the top of the screen, stored compactly.
//!
//! A line keeps only the cells it had written (a row remembers how far that
//! is), appended to large blocks of cells, so that a flood of short lines
//! fills a few hot blocks in order instead of touching a whole row per line,
//! and a history of short lines costs a small fraction of full rows (the
//! figures are in README.md, "Performance"). A line never
//! straddles two blocks, so it reads back as one slice.
//!
//! The newest lines, when a jump scroll sent them here as a flood of plain
//! text (`yes`, `cat` of a log), stay the bytes they came in ([`Text`]) until
//! something needs their cells: a line of `y` is then 3 bytes, not a cell and
//! a line record, and the lines the flood pushes out again before anyone
//! looks are never made into cells at all.

use std::borrow::Cow;
use std::collections::VecDeque;

use super::bytes::line_feeds;
use super::cell::Cell;

/// Cells per block (256 KB): large enough that starting a block is rare,
/// small enough that the one being filled stays in the cache.
const BLOCK_CELLS: usize = 16 * 1024;
const _: () = assert!(BLOCK_CELLS <= 1 << 16);

/// Where one line's cells are, in 8 bytes.
#[derive(Clone, Copy, Debug)]
struct Line {
    /// Number of the block (counted over every block started, wrapping at
    /// 2^31) and, in the top bit, whether the line continues on the next
    /// one (autowrap), for reflow.
    block_wrapped: u32,
    /// Offset in the block: blocks hold at most 2^16 cells (a longer line has
    /// a block of its own, at 0).
    start: u16,
    /// Columns are `u16`.
    len: u16,
}

const WRAPPED: u32 = 1 << 31;

impl Line {
    fn block(self) -> u32 {
        self.block_wrapped & !WRAPPED
    }
}

/// Lines of plain text as they came: each printable ASCII then CR LF, every
/// character a cell like `template`.
#[derive(Clone, Debug, Default)]
struct Text {
    /// The lines, from `front` on.
    bytes: Vec<u8>,
    front: usize,
    /// How many.
    count: usize,
    /// The cell each character stands for, but for the character.
    template: Cell,
}

impl Text {
    /// Each line's characters, oldest first.
    fn lines(&self) -> impl Iterator<Item = &[u8]> {
        self.bytes[self.front..].split(|&b| b == b'\n').take(self.count).map(|line| &line[..line.len() - 1])
    }

    /// Where the newest line starts.
    fn newest_start(&self) -> usize {
        let before_crlf = self.bytes.len() - 2;
        self.bytes[self.front..before_crlf]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(self.front, |i| self.front + i + 1)
    }

    /// Whether `cells` are a line of printable ASCII in cells like `template`.
    fn holds(&self, cells: &[Cell]) -> bool {
        cells.iter().all(|cell| matches!(cell.c, ' '..='~') && Cell { c: cell.c, ..self.template } == *cell)
    }

    fn cells(&self, text: &[u8]) -> Vec<Cell> {
        text.iter().map(|&b| Cell { c: char::from(b), ..self.template }).collect()
    }

    /// Drops the `n` oldest lines (at most all).
    fn drop_oldest(&mut self, n: usize) {
        if n >= self.count {
            self.clear();
            return;
        }
        self.front += after_line_feeds(&self.bytes[self.front..], n);
        self.count -= n;
        // Cut off what was dropped once it is most of the buffer.
        if self.front > self.bytes.len() / 2 + 4096 {
            self.bytes.drain(..self.front);
            self.front = 0;
        }
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.front = 0;
        self.count = 0;
    }
}

/// Up to `max` lines, oldest first: lines of cells, then lines of text.
#[derive(Clone, Debug)]
pub(crate) struct History {
    /// Full blocks still holding lines, oldest first.
    full: VecDeque<Vec<Cell>>,
    /// The block being filled, as long as its capacity (blank past `used`),
    /// so that appending is plain stores.
    current: Vec<Cell>,
    /// How much of `current` lines use.
    used: usize,
    /// The number of `current`; `full[i]` is `current_block - full.len() + i`.
    current_block: u32,
    /// The lines of cells from `first` on, oldest first. Dropping the oldest
    /// only moves `first`, and the dropped ones are cut off once they are
    /// half of `lines`.
    lines: Vec<Line>,
    first: usize,
    /// The newest lines, when they are plain text not yet made into cells.
    text: Text,
    max: usize,
    /// A block emptied by trimming, kept to be filled again.
    spare: Vec<Cell>,
    /// How many lines ever left the oldest end (trimmed, cleared): line `i`
    /// is the `dropped + i`th line the history ever kept, a number that
    /// stays with it as lines come and go.
    dropped: u64,
}

impl History {
    pub fn new(max: usize) -> History {
        History {
            full: VecDeque::new(),
            current: Vec::new(),
            used: 0,
            current_block: 0,
            lines: Vec::new(),
            first: 0,
            text: Text::default(),
            max,
            spare: Vec::new(),
            dropped: 0,
        }
    }

    /// How many lines ever left the oldest end: with [`Self::len`], where a
    /// line is for good (see [`Terminal::view_top`](super::Terminal::view_top)).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Numbers the lines anew so that the newest ends where `end` says (the
    /// numbers before a rebuild): a resize keeps views as far from the newest
    /// line as they were.
    pub fn renumber(&mut self, end: u64) {
        self.dropped = end.saturating_sub(self.len() as u64);
    }

    /// How many lines it keeps at most.
    pub fn max(&self) -> usize {
        self.max
    }

    /// How many lines it holds.
    pub fn len(&self) -> usize {
        self.cell_lines() + self.text.count
    }

    fn cell_lines(&self) -> usize {
        self.lines.len() - self.first
    }

    fn block(&self, number: u32) -> &[Cell] {
        match (self.current_block.wrapping_sub(number) & !WRAPPED) as usize {
            0 => &self.current,
            back => &self.full[self.full.len() - back],
        }
    }

    /// Line `i` (0 = oldest): its written cells (the rest of the row is
    /// [`Cell::BLANK`]) and whether it wrapped onto the next. A line still
    /// kept as text is made into cells for the occasion; [`Self::make_cells`]
    /// first when reading many.
    pub fn line(&self, i: usize) -> (Cow<'_, [Cell]>, bool) {
        let Some(i) = i.checked_sub(self.cell_lines()) else {
            let line = self.lines[self.first + i];
            let block = self.block(line.block());
            let start = usize::from(line.start);
            return (
                Cow::Borrowed(&block[start..start + usize::from(line.len)]),
                line.block_wrapped & WRAPPED != 0,
            );
        };
        let text = self.text.lines().nth(i).unwrap_or_default();
        (Cow::Owned(self.text.cells(text)), false)
    }

    /// The newest line's cells, if there is one.
    pub fn newest(&self) -> Option<Cow<'_, [Cell]>> {
        if self.text.count > 0 {
            let start = self.text.newest_start();
            return Some(Cow::Owned(self.text.cells(&self.text.bytes[start..self.text.bytes.len() - 2])));
        }
        Some(self.line(self.len().checked_sub(1)?).0)
    }

    /// Appends a line, dropping the oldest beyond `max`. After lines kept
    /// as text, a line that is plain text in their cells joins them (the
    /// screen's rows that a jump scroll pushes out are mostly such).
    pub fn push(&mut self, cells: &[Cell], wrapped: bool) {
        if self.text.count > 0 && !wrapped && self.text.holds(cells) {
            self.text.bytes.extend(cells.iter().map(|cell| cell.c as u8));
            self.text.bytes.extend_from_slice(b"\r\n");
            self.text.count += 1;
            self.trim(self.max);
            return;
        }
        self.push_iter(cells.len(), cells.iter().copied(), wrapped, self.max);
    }

    /// Appends a line of `len` cells made on the way, dropping the oldest
    /// beyond `limit` (which [`Screen::jump_scroll`](super::screen::Screen::jump_scroll)
    /// sets above `max` for a while, see [`Self::drop_newest`]).
    #[inline]
    pub fn push_iter(&mut self, len: usize, cells: impl Iterator<Item = Cell>, wrapped: bool, limit: usize) {
        if limit == 0 {
            return;
        }
        if self.text.count > 0 {
            self.make_cells();
        }
        if self.current.len() - self.used < len {
            self.start_block(len);
        }
        let start = self.used;
        for (cell, c) in self.current[start..start + len].iter_mut().zip(cells) {
            *cell = c;
        }
        self.used += len;
        let block_wrapped = self.current_block | if wrapped { WRAPPED } else { 0 };
        self.lines.push(Line { block_wrapped, start: start as u16, len: len as u16 });
        if self.len() > limit {
            // Blocks left without lines are dropped at the next block start.
            self.first += 1;
            self.dropped += 1;
            self.cut_dropped_lines();
        }
    }

    /// Appends `count` lines of plain text, `bytes` (each line printable
    /// ASCII then CR LF), every character a cell like `template`. They stay
    /// text, and all of them stay until [`Self::trim`].
    pub fn push_text(&mut self, bytes: &[u8], count: usize, template: Cell) {
        if self.max == 0 || count == 0 {
            return;
        }
        if self.text.count > 0 && self.text.template != template {
            self.make_cells();
        }
        self.text.template = template;
        self.text.bytes.extend_from_slice(bytes);
        self.text.count += count;
    }

    /// Makes the lines kept as text into lines of cells.
    #[cold]
    pub fn make_cells(&mut self) {
        let text = std::mem::take(&mut self.text);
        for line in text.lines() {
            let cells = line.iter().map(|&b| Cell { c: char::from(b), ..text.template });
            self.push_iter(line.len(), cells, false, usize::MAX);
        }
        // Keep the buffer for the next flood.
        let mut bytes = text.bytes;
        bytes.clear();
        self.text = Text { bytes, ..Text::default() };
    }

    /// Cuts off the lines of cells dropped from the front once they are most
    /// of `lines`.
    #[inline]
    fn cut_dropped_lines(&mut self) {
        if self.first * 2 > self.lines.len() + 1024 {
            self.lines.drain(..self.first);
            self.first = 0;
        }
    }

    /// Moves the block being filled to the full ones and starts another
    /// (first dropping the full ones without lines).
    #[cold]
    fn start_block(&mut self, len: usize) {
        self.drop_unused_blocks();
        let size = BLOCK_CELLS.max(len);
        let mut block = std::mem::take(&mut self.spare);
        if block.len() < size {
            block = vec![Cell::BLANK; size];
        }
        block.truncate(size);
        let full = std::mem::replace(&mut self.current, block);
        self.used = 0;
        // Even empty: lines of no cells may point at it.
        self.full.push_back(full);
        self.current_block = (self.current_block + 1) & !WRAPPED;
    }

    /// Drops the oldest lines beyond `limit`, and the blocks they leave empty.
    pub fn trim(&mut self, limit: usize) {
        if let Some(excess) = self.len().checked_sub(limit) {
            self.dropped += excess as u64;
            let cells = excess.min(self.cell_lines());
            self.first += cells;
            self.cut_dropped_lines();
            self.text.drop_oldest(excess - cells);
        }
        self.drop_unused_blocks();
    }

    /// Frees the full blocks older than the oldest line's.
    fn drop_unused_blocks(&mut self) {
        let oldest = self.lines.get(self.first).map_or(self.current_block, |l| l.block());
        while self.current_block.wrapping_sub(oldest) & !WRAPPED < self.full.len() as u32 {
            if let Some(block) = self.full.pop_front() {
                self.spare = block;
            }
        }
    }

    /// Removes the newest line.
    pub fn drop_newest(&mut self) {
        if self.text.count > 0 {
            let start = self.text.newest_start();
            self.text.bytes.truncate(start);
            self.text.count -= 1;
            if self.text.count == 0 {
                self.text.clear();
            }
            return;
        }
        if self.cell_lines() > 0
            && let Some(line) = self.lines.pop()
            && line.block() == self.current_block
        {
            self.used = usize::from(line.start);
        }
    }

    /// Drops every line.
    pub fn clear(&mut self) {
        self.dropped += self.len() as u64;
        self.full.clear();
        self.used = 0;
        self.lines.clear();
        self.first = 0;
        self.text.clear();
    }
}

/// How far into `bytes` the first `n` line feeds reach (just past the
/// `n`th), counted eight bytes at a time; all of `bytes` if it has fewer.
fn after_line_feeds(bytes: &[u8], mut n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let mut at = 0;
    while let Some(word) = bytes.get(at..at + 8) {
        let mut feeds = line_feeds(word);
        let here = feeds.count_ones() as usize;
        if here >= n {
            for _ in 1..n {
                feeds &= feeds - 1;
            }
            return at + (feeds.trailing_zeros() / 8) as usize + 1;
        }
        n -= here;
        at += 8;
    }
    for (i, &b) in bytes[at..].iter().enumerate() {
        if b == b'\n' {
            n -= 1;
            if n == 0 {
                return at + i + 1;
            }
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_of(c: char, n: usize) -> Vec<Cell> {
        vec![Cell { c, ..Cell::BLANK }; n]
    }

    #[test]
    fn keeps_the_newest_lines_in_order() {
        let mut h = History::new(3);
        for (i, c) in "abcde".chars().enumerate() {
            h.push(&line_of(c, i), i % 2 == 0);
        }
        assert_eq!(h.len(), 3);
        let got: Vec<(usize, bool)> = (0..3).map(|i| (h.line(i).0.len(), h.line(i).1)).collect();
        assert_eq!(got, [(2, true), (3, false), (4, true)]);
        assert!(h.line(2).0.iter().all(|c| c.c == 'e'));
    }

    #[test]
    fn long_floods_reuse_blocks_and_stay_bounded() {
        let mut h = History::new(100);
        for i in 0..200_000 {
            h.push(&line_of(char::from(b'a' + (i % 26) as u8), 80), false);
        }
        assert_eq!(h.len(), 100);
        assert!(h.full.len() <= 1, "{} full blocks", h.full.len());
        assert_eq!(h.line(99).0[0].c, char::from(b'a' + (199_999 % 26) as u8));
    }

    #[test]
    fn empty_lines_before_the_first_block_still_read_back() {
        let mut h = History::new(5);
        h.push(&[], false);
        h.push(&line_of('a', 2), false);
        assert_eq!(h.line(0).0.len(), 0);
        assert_eq!(h.line(1).0.len(), 2);
    }

    fn text_of(h: &History, i: usize) -> String {
        h.line(i).0.iter().map(|c| c.c).collect()
    }

    #[test]
    fn lines_of_text_read_back_trim_and_turn_into_cells_in_order() {
        let mut h = History::new(5);
        h.push(&line_of('a', 2), true);
        h.push_text(b"one\r\n\r\nthree\r\n", 3, Cell::BLANK);
        // A plain line joins the text.
        h.push(&line_of('b', 1), false);
        assert_eq!(h.len(), 5);
        let all: Vec<String> = (0..5).map(|i| text_of(&h, i)).collect();
        assert_eq!(all, ["aa", "one", "", "three", "b"]);
        assert_eq!(h.newest().as_deref().map(|c| c.len()), Some(1));
        h.drop_newest();
        h.push_text(b"x\r\ny\r\nz\r\n", 3, Cell::BLANK);
        h.trim(5);
        let all: Vec<String> = (0..5).map(|i| text_of(&h, i)).collect();
        assert_eq!(all, ["", "three", "x", "y", "z"]);
        // A wrapped one makes the text cells first.
        h.push(&line_of('c', 3), true);
        assert_eq!(h.len(), 5);
        assert_eq!(h.text.count, 0);
        let all: Vec<(String, bool)> = (0..5).map(|i| (text_of(&h, i), h.line(i).1)).collect();
        assert_eq!(all[0], ("three".to_string(), false));
        assert_eq!(all[4], ("ccc".to_string(), true));
    }

    #[test]
    fn a_long_flood_of_text_stays_bounded() {
        let mut h = History::new(100);
        let flood = b"y\r\n".repeat(1000);
        for _ in 0..500 {
            h.push_text(&flood, 1000, Cell::BLANK);
            h.trim(100);
        }
        assert_eq!(h.len(), 100);
        assert!(h.text.bytes.len() < 2 * flood.len() + 8192, "{} bytes kept", h.text.bytes.len());
        assert_eq!(text_of(&h, 99), "y");
    }

    #[test]
    fn no_scrollback_keeps_nothing() {
        let mut h = History::new(0);
        h.push(&line_of('x', 3), false);
        assert_eq!(h.len(), 0);
    }
}
