//! Text into the grid: printing a character as the parser hands it over,
//! and the text path that does the same for whole runs of the input while
//! the parser is known to be in its ground state (printable ASCII a row
//! segment at a time, UTF-8 decoded in place, C0 controls, plain CSI
//! sequences), with what both need: autowrap, wide characters and
//! combining marks.

use super::{RUN_MAX, Screen};
use crate::args::Args;
use crate::bytes;
use crate::cell::{Cell, Flags, Marks};
use crate::width::char_width;

impl Screen {
    /// Prints one character. Printable ASCII is only queued here (the
    /// common case costs a store); [`Self::flush`] writes queued runs into
    /// the grid a row segment at a time.
    #[inline(always)]
    pub(super) fn print(&mut self, c: char) {
        if (' '..='~').contains(&c) && self.run.len() < RUN_MAX {
            self.run.push(c as u8);
            return;
        }
        self.flush();
        self.print_slow(c);
    }

    /// Writes the queued ASCII run. Every operation other than printing
    /// calls this first, so nothing ever sees the grid without the run.
    #[inline]
    pub(crate) fn flush(&mut self) {
        if !self.run.is_empty() {
            let run = std::mem::take(&mut self.run);
            self.write_ascii(&run);
            self.run = run;
            self.run.clear();
        }
    }

    /// Handles text in the parser's ground state without the parser:
    /// printable characters, C0 controls and DEL. Stops at ESC or at bytes
    /// that are not a whole valid UTF-8 character, and returns how many
    /// bytes it consumed.
    pub(crate) fn ground_text(&mut self, bytes: &[u8]) -> usize {
        self.flush();
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            match b {
                0x20..=0x7e => {
                    let len = bytes::printable_prefix(&bytes[i..]);
                    self.write_ascii(&bytes[i..i + len]);
                    i += len;
                }
                0x1b => match Args::plain_csi(&bytes[i..]) {
                    Some((args, action, len)) => {
                        self.plain_csi(&args, action);
                        i += len;
                    }
                    None => break,
                },
                b'\r' => {
                    self.carriage_return();
                    i += 1;
                }
                b'\n' if !self.modes.newline => {
                    i += 1;
                    if self.can_jump_scroll() {
                        i += self.jump_scroll(&bytes[i..]);
                    } else {
                        self.index();
                    }
                }
                0x00..=0x1f => {
                    vte::Perform::execute(self, b);
                    i += 1;
                }
                0x7f => i += 1,
                0x80..=0xff => match self.write_utf8(&bytes[i..]) {
                    0 => break,
                    len => i += len,
                },
            }
        }
        i
    }

    /// Writes the non-ASCII characters that start `bytes` as the parser's
    /// `print` would, row segments at a time. Stops at an ASCII byte or at
    /// bytes that are not a whole valid UTF-8 character (left to the
    /// parser), and returns how many bytes it consumed. (Kept out of line,
    /// so that the ASCII loop of `ground_text` stays small.)
    #[inline(never)]
    fn write_utf8(&mut self, bytes: &[u8]) -> usize {
        let mut i = 0;
        while let Some((c, len)) = decode_utf8(&bytes[i..]) {
            i += len;
            if c < '\u{a0}' {
                // A C1 control in UTF-8, which the parser would execute.
                vte::Perform::execute(self, c as u8);
                continue;
            }
            let width = char_width(c);
            let plain = !self.cursor.pending_wrap && !self.modes.insert && self.cursor.charsets.is_identity();
            if plain && width > 0 && self.cursor.x + width <= self.region.right() {
                i += self.write_segment(c, width, &bytes[i..]);
            } else {
                self.print_slow(c);
            }
        }
        i
    }

    /// Writes `c` of `width` and the non-ASCII characters that follow it in
    /// `rest` while they fit left of the right margin, on one borrow of the
    /// row. The caller checked that `c` is not a mark and fits, and that no
    /// wrap is pending, insert mode is off and no charset maps characters.
    /// Returns how many bytes of `rest` it consumed.
    fn write_segment(&mut self, c: char, width: usize, rest: &[u8]) -> usize {
        let (y, right, pen) = (self.cursor.y, self.region.right(), self.cursor.pen);
        let (mut c, mut width, mut x, mut i) = (c, width, self.cursor.x, 0);
        let mut last = self.last_char;
        let grid = if self.alt { &mut self.alternate } else { &mut self.primary };
        let row = grid.row_mut(y).cells_mut();
        loop {
            if width == 0 {
                // A mark, after at least the segment's first character.
                join_mark(row, x - 1, &mut self.marks, c);
            } else {
                place(row, x, pen.cell(c), width);
                x += width;
                last = Some(c);
            }
            let Some((next, len)) = decode_utf8(&rest[i..]) else { break };
            let next_width = char_width(next);
            if next < '\u{a0}' || x + next_width > right {
                break;
            }
            (c, width) = (next, next_width);
            i += len;
        }
        self.cursor.x = x;
        self.last_char = last;
        self.damage.row(y);
        i
    }

    /// Writes printable ASCII at the cursor as [`Self::put_char`] would,
    /// whole row segments at a time.
    fn write_ascii(&mut self, run: &[u8]) {
        let len = run.len();
        let mut i = 0;
        while i < len {
            if self.cursor.pending_wrap && self.modes.autowrap {
                self.wrap();
            }
            let x = self.cursor.x;
            let fast = x <= self.region.right() && !self.modes.insert && self.cursor.charsets.is_identity();
            if !fast {
                self.print_slow(run[i] as char);
                i += 1;
                continue;
            }
            // Characters up to the right margin go in at once, as
            // `put_char` would put them one by one.
            let n = (len - i).min(self.region.right() + 1 - x);
            let y = self.cursor.y;
            let pen = self.cursor.pen;
            let grid = if self.alt { &mut self.alternate } else { &mut self.primary };
            let row = grid.row_mut(y).cells_upto(x + n + 1);
            if row[x].flags.contains(Flags::WIDE_SPACER) {
                clear_wide_pair(row, x);
            }
            if row[x + n - 1].flags.contains(Flags::WIDE) {
                clear_wide_pair(row, x + n - 1);
            }
            for (cell, &b) in row[x..x + n].iter_mut().zip(&run[i..i + n]) {
                *cell = pen.cell(b as char);
            }
            if x + n > self.region.right() {
                // The last one went into the margin's column: the cursor
                // stays there, to wrap before the next character.
                self.cursor.x = self.region.right();
                self.cursor.pending_wrap = self.modes.autowrap;
            } else {
                self.cursor.x = x + n;
            }
            self.last_char = Some(run[i + n - 1] as char);
            self.damage.row(y);
            i += n;
        }
    }

    #[inline(never)]
    fn print_slow(&mut self, c: char) {
        if ('\x7f'..='\u{9f}').contains(&c) {
            // DEL is ignored, as in xterm. C1 controls get here only when vte
            // completes one split between two inputs (it executes them
            // otherwise, which does nothing).
            return;
        }
        let c = if self.cursor.charsets.is_identity() { c } else { self.cursor.charsets.map(c) };
        let width = char_width(c);
        if width == 0 {
            self.add_mark(c);
            return;
        }
        self.put_char(c, width);
    }

    /// Writes a character of width 1 or 2 at the cursor and advances it.
    #[inline]
    fn put_char(&mut self, c: char, width: usize) {
        if self.cursor.pending_wrap && self.modes.autowrap {
            self.wrap();
        }
        let mut right = self.right_edge();
        if width == 2 && self.cursor.x + 1 > right {
            if self.modes.autowrap && self.cursor.x > self.left_edge() {
                self.wrap();
                right = self.right_edge();
            }
            if self.cursor.x + 1 > right {
                // No room for a wide character even on a fresh line.
                return;
            }
        }
        let x = self.cursor.x;
        let y = self.cursor.y;
        if self.modes.insert {
            self.shift_right(y, x, right, width);
        }
        let pen = self.cursor.pen;
        let cell = pen.cell(c);
        self.damage.row(y);
        let row = self.grid_mut().row_mut(y).cells_mut();
        place(row, x, cell, width);
        self.last_char = Some(c);
        let nx = x + width;
        if nx > right {
            self.cursor.x = right;
            self.cursor.pending_wrap = self.modes.autowrap;
        } else {
            self.cursor.x = nx;
        }
    }

    /// Joins a zero-width character to the cell before the cursor.
    fn add_mark(&mut self, c: char) {
        let x = if self.cursor.pending_wrap {
            self.cursor.x
        } else if self.cursor.x > 0 {
            self.cursor.x - 1
        } else {
            return;
        };
        let y = self.cursor.y;
        let grid = if self.alt { &mut self.alternate } else { &mut self.primary };
        join_mark(grid.row_mut(y).cells_mut(), x, &mut self.marks, c);
        self.damage.row(y);
    }

    /// Moves to the start of the next line for autowrap, scrolling if needed.
    pub(super) fn wrap(&mut self) {
        let y = self.cursor.y;
        self.grid_mut().row_mut(y).wrapped = true;
        self.index();
        self.cursor.x = self.left_edge();
    }

    /// REP: repeats the last printed character.
    pub(super) fn repeat(&mut self, n: usize) {
        if let Some(c) = self.last_char {
            let width = char_width(c).max(1);
            for _ in 0..n.min(self.cols * self.rows) {
                self.put_char(c, width);
            }
        }
    }
}

/// The non-ASCII character that starts `bytes` and its length, or `None`
/// when `bytes` starts with ASCII or with anything but a whole valid UTF-8
/// sequence.
#[inline(always)]
fn decode_utf8(bytes: &[u8]) -> Option<(char, usize)> {
    let cont = |i: usize| bytes.get(i).filter(|&&b| b & 0xc0 == 0x80).map(|&b| (b & 0x3f) as u32);
    // Each form with the least value it may encode (less is overlong; the
    // lead bytes 0xc0 and 0xc1 can only start overlong forms).
    let (u, len, least) = match *bytes.first()? {
        b @ 0xc2..=0xdf => (((b & 0x1f) as u32) << 6 | cont(1)?, 2, 0x80),
        b @ 0xe0..=0xef => (((b & 0x0f) as u32) << 12 | cont(1)? << 6 | cont(2)?, 3, 0x800),
        b @ 0xf0..=0xf4 => {
            (((b & 0x07) as u32) << 18 | cont(1)? << 12 | cont(2)? << 6 | cont(3)?, 4, 0x10000)
        }
        _ => return None,
    };
    if u < least {
        return None;
    }
    // `from_u32` rejects surrogates and values past U+10FFFF.
    Some((char::from_u32(u)?, len))
}

/// Puts `cell` at column `x` as a character of `width` 1, or 2 with its
/// right half at `x + 1`, blanking wide characters it overwrites half of.
#[inline(always)]
fn place(row: &mut [Cell], x: usize, cell: Cell, width: usize) {
    const EITHER_HALF: Flags = Flags::WIDE.or(Flags::WIDE_SPACER);
    if width == 1 {
        if row[x].flags.intersects(EITHER_HALF) {
            clear_wide_pair(row, x);
        }
        row[x] = cell;
    } else {
        for i in x..x + 2 {
            if row[i].flags.intersects(EITHER_HALF) {
                clear_wide_pair(row, i);
            }
        }
        let mut wide = cell;
        wide.flags.insert(Flags::WIDE);
        row[x] = wide;
        let mut spacer = cell;
        spacer.c = ' ';
        spacer.flags.insert(Flags::WIDE_SPACER);
        row[x + 1] = spacer;
    }
}

/// Joins combining mark `c` to the character at column `x` (to its left
/// half when `x` is the right half of a wide one).
#[inline]
fn join_mark(row: &mut [Cell], x: usize, marks: &mut Marks, c: char) {
    let x = if x > 0 && row[x].flags.contains(Flags::WIDE_SPACER) { x - 1 } else { x };
    let cell = &mut row[x];
    cell.marks = marks.append(cell.marks, c);
}

/// Blanks both halves of the wide character that covers column `x`.
fn clear_wide_pair(row: &mut [Cell], x: usize) {
    let start = if row[x].flags.contains(Flags::WIDE_SPACER) && x > 0 { x - 1 } else { x };
    for cell in row.iter_mut().skip(start).take(2) {
        if cell.flags.intersects(Flags::WIDE.or(Flags::WIDE_SPACER)) {
            *cell = Cell::erased(cell.bg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::decode_utf8;

    #[test]
    fn decode_utf8_agrees_with_std() {
        // Every lead byte, with continuation bytes at the edges of the
        // ranges that overlong forms, surrogates and the end of Unicode use.
        let edges = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff];
        for b0 in 0x80..=0xffu8 {
            for b1 in edges {
                for b2 in edges {
                    for b3 in edges {
                        let bytes = [b0, b1, b2, b3];
                        for len in 1..=4 {
                            let bytes = &bytes[..len];
                            let expected = match std::str::from_utf8(bytes) {
                                Ok(s) => s.chars().next(),
                                Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()])
                                    .ok()
                                    .and_then(|s| s.chars().next()),
                            };
                            let got = decode_utf8(bytes);
                            assert_eq!(got.map(|(c, _)| c), expected, "{bytes:02x?}");
                            if let Some((c, n)) = got {
                                assert_eq!(n, c.len_utf8());
                            }
                        }
                    }
                }
            }
        }
        for c in '\u{80}'..=char::MAX {
            let mut buf = [0; 4];
            assert_eq!(decode_utf8(c.encode_utf8(&mut buf).as_bytes()), Some((c, c.len_utf8())));
        }
    }
}
