//! Jump scroll: a flood of whole lines at the bottom margin, scrolled at once.
//!
//! `yes`, `cat` of a log, a build: line after line of plain text, each ending
//! in CR LF at the bottom of the scroll region. Done one line feed at a time,
//! every line costs a full scroll (blank a row, turn the ring, record damage),
//! many times what parsing the line costs. xterm's answer is its jump scroll
//! (the `jumpScroll` resource): scroll by many lines at once. Here the lines
//! are first recognised, then the screen gets the state the one-at-a-time
//! path would have left: lines that stay inside the region are written into
//! their final rows, lines that leave it go to the scrollback (whole-screen
//! region of the primary screen) or are never written at all (any other
//! region, the alternate screen).

use super::Screen;
use crate::bytes::{plain_line, text_lines};
use crate::cell::Cell;

impl Screen {
    /// Whether a line feed here may start a jump scroll: the cursor is at the
    /// left edge of the bottom margin of a full-width region, in plain
    /// replace mode with identity charsets, and the view is not scrolled back.
    #[inline]
    pub(super) fn can_jump_scroll(&self) -> bool {
        self.cursor.y == self.region.bottom()
            && self.cursor.x == 0
            && self.region.is_full_width(self.cols)
            && !self.modes.insert
            && self.cursor.charsets.is_identity()
            && (self.alt || self.display_offset == 0)
    }

    /// Does the line feed just consumed (with [`Self::can_jump_scroll`]
    /// true) and then every following whole line `TEXT \r \n` where TEXT is
    /// printable ASCII that fits the row. Returns how many bytes of `rest`
    /// (the input after that line feed) it consumed.
    pub(super) fn jump_scroll(&mut self, rest: &[u8]) -> usize {
        let whole_screen = self.region.top() == 0 && self.region.bottom() == self.rows - 1;
        let consumed = if !self.alt && whole_screen && self.primary.max_history() > 0 {
            self.jump_into_history(rest)
        } else {
            self.jump_within_region(rest)
        };
        self.cursor.x = 0;
        self.cursor.y = self.region.bottom();
        self.cursor.pending_wrap = false;
        consumed
    }

    /// The whole primary screen with scrollback. Fewer lines than the screen
    /// has rows all end up on it: one scroll, then each is written into its
    /// row. More go to the history as they are found, without passing
    /// through the screen (whose rows all leave it first), and the last ones
    /// come back from there onto the screen.
    fn jump_into_history(&mut self, rest: &[u8]) -> usize {
        let (rows, cols) = (self.rows, self.cols);
        let mut at = 0;
        let mut count = 0;
        while count < rows
            && let Some((_, next)) = plain_line(rest, at, cols)
        {
            at = next;
            count += 1;
        }
        if count < rows {
            self.scroll_region_up(0, rows - 1, count + 1);
            return self.write_lines(rest, 0, rows - 1 - count);
        }
        self.scroll_region_up(0, rows - 1, rows);
        let pen = self.cursor.pen;
        let blank = self.blank();
        let at = if blank == Cell::BLANK {
            // The history keeps them as text until it needs their cells.
            let (len, count) = text_lines(rest, cols);
            self.primary.push_history_text(&rest[..len], count, pen.cell(' '));
            len
        } else {
            // A line on a coloured blank is as wide as the screen, as the
            // row it would have been.
            let mut at = 0;
            while let Some((len, next)) = plain_line(rest, at, cols) {
                let text = &rest[at..at + len];
                let cells = text.iter().map(|&b| pen.cell(char::from(b))).chain(std::iter::repeat(blank));
                self.primary.push_history(cols, cells, rows - 1);
                at = next;
            }
            at
        };
        for y in (0..rows - 1).rev() {
            self.primary.history_to_row(y);
        }
        self.primary.trim_history();
        self.last_char_of(&rest[..at]);
        at
    }

    /// Any other region: lines that scroll out of it are lost, so they are
    /// only found, and the last ones (as many as fit above the bottom row)
    /// written after one scroll of the region by the number of line feeds.
    fn jump_within_region(&mut self, rest: &[u8]) -> usize {
        let (top, bottom) = (self.region.top(), self.region.bottom());
        let (end, count) = text_lines(rest, self.cols);
        self.scroll_region_up(top, bottom, count + 1);
        let shown = count.min(bottom - top);
        let from = last_lines(&rest[..end], shown);
        if count > shown {
            // REP repeats the last character printed, even off the screen.
            self.last_char_of(&rest[..from]);
        }
        self.write_lines(rest, from, bottom - shown);
        end
    }

    /// Writes the lines of `rest` from offset `at` into the rows from `y`
    /// down to just above the bottom margin, which were blanked by the
    /// scroll. Returns the offset after the last line written.
    fn write_lines(&mut self, rest: &[u8], mut at: usize, mut y: usize) -> usize {
        let pen = self.cursor.pen;
        while y < self.region.bottom()
            && let Some((len, next)) = plain_line(rest, at, self.cols)
        {
            let text = &rest[at..at + len];
            let cells = self.row_mut(y).cells_upto(len);
            for (c, &b) in cells.iter_mut().zip(text) {
                *c = pen.cell(b as char);
            }
            self.last_char_of(text);
            at = next;
            y += 1;
        }
        at
    }

    /// Notes the last printable character of `text` (lines and their CR
    /// LF), if it has one, for REP.
    fn last_char_of(&mut self, text: &[u8]) {
        if let Some(&b) = text.iter().rev().find(|b| (0x20..=0x7e).contains(*b)) {
            self.last_char = Some(b as char);
        }
    }
}

/// Where the last `n` of `lines` (whole lines, each ending in a line feed) start.
fn last_lines(lines: &[u8], n: usize) -> usize {
    let Some(before_last) = lines.len().checked_sub(1) else { return 0 };
    if n == 0 {
        return lines.len();
    }
    // Just past the line feed that ends the line before them.
    lines[..before_last]
        .iter()
        .enumerate()
        .rev()
        .filter(|&(_, &b)| b == b'\n')
        .nth(n - 1)
        .map_or(0, |(i, _)| i + 1)
}
