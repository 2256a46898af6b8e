//! The scrollback: lines that left the top of the screen, stored compactly.
//!
//! A line keeps only the cells it had written (a row remembers how far that
//! is), appended to large blocks of cells, so that a flood of short lines
//! (`yes`, a boot log) fills a few hot blocks in order instead of touching a
//! whole row per line, and 10 000 lines of `y` take 160 KB rather than 13 MB.
//! A line never straddles two blocks, so it reads back as one slice.

use std::collections::VecDeque;

use super::cell::Cell;

/// Cells per block (256 KB): large enough that starting a block is rare,
/// small enough that the one being filled stays in the cache.
const BLOCK_CELLS: usize = 16 * 1024;
const _: () = assert!(BLOCK_CELLS <= 1 << 16);

/// Where one line's cells are, in 8 bytes (the history of a flood of short
/// lines is mostly these).
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

/// Up to `max` lines, oldest first.
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
    lines: VecDeque<Line>,
    max: usize,
    /// A block emptied by trimming, kept to be filled again.
    spare: Vec<Cell>,
}

impl History {
    pub fn new(max: usize) -> History {
        History {
            full: VecDeque::new(),
            current: Vec::new(),
            used: 0,
            current_block: 0,
            lines: VecDeque::new(),
            max,
            spare: Vec::new(),
        }
    }

    /// How many lines it keeps at most.
    pub fn max(&self) -> usize {
        self.max
    }

    /// How many lines it holds.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    fn block(&self, number: u32) -> &[Cell] {
        match (self.current_block.wrapping_sub(number) & !WRAPPED) as usize {
            0 => &self.current,
            back => &self.full[self.full.len() - back],
        }
    }

    /// Line `i` (0 = oldest): its written cells (the rest of the row is
    /// [`Cell::BLANK`]) and whether it wrapped onto the next.
    pub fn line(&self, i: usize) -> (&[Cell], bool) {
        let line = self.lines[i];
        let block = self.block(line.block());
        let start = usize::from(line.start);
        (&block[start..start + usize::from(line.len)], line.block_wrapped & WRAPPED != 0)
    }

    /// Appends a line, dropping the oldest beyond `max`.
    pub fn push(&mut self, cells: &[Cell], wrapped: bool) {
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
        if self.current.len() - self.used < len {
            self.start_block(len);
        }
        let start = self.used;
        for (cell, c) in self.current[start..start + len].iter_mut().zip(cells) {
            *cell = c;
        }
        self.used += len;
        let block_wrapped = self.current_block | if wrapped { WRAPPED } else { 0 };
        self.lines.push_back(Line { block_wrapped, start: start as u16, len: len as u16 });
        if self.lines.len() > limit {
            // Blocks left without lines are dropped at the next block start.
            self.lines.pop_front();
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
        while self.lines.len() > limit {
            self.lines.pop_front();
        }
        self.drop_unused_blocks();
    }

    /// Frees the full blocks older than the oldest line's.
    fn drop_unused_blocks(&mut self) {
        let oldest = self.lines.front().map_or(self.current_block, |l| l.block());
        while self.current_block.wrapping_sub(oldest) & !WRAPPED < self.full.len() as u32 {
            if let Some(block) = self.full.pop_front() {
                self.spare = block;
            }
        }
    }

    /// Removes the newest line.
    pub fn drop_newest(&mut self) {
        if let Some(line) = self.lines.pop_back()
            && line.block() == self.current_block
        {
            self.used = usize::from(line.start);
        }
    }

    /// Drops every line.
    pub fn clear(&mut self) {
        self.full.clear();
        self.used = 0;
        self.lines.clear();
    }
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

    #[test]
    fn no_scrollback_keeps_nothing() {
        let mut h = History::new(0);
        h.push(&line_of('x', 3), false);
        assert_eq!(h.len(), 0);
    }
}
