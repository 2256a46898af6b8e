//! One cell of the grid: a character, its colours and attribute flags.
//!
//! A [`Cell`] is `Copy` and 16 bytes, so that filling and moving rows is a plain
//! memory copy. Combining marks do not live in the cell: a cell that has some
//! holds a small index into the terminal's [`Marks`] table.

use std::collections::HashMap;

/// A colour as the program chose it; the renderer maps it through its palette.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Color {
    /// The terminal's default foreground or background (SGR 39/49).
    #[default]
    Default,
    /// An entry of the 256-colour palette (SGR 30-37, 90-97, 38;5;N …).
    Indexed(u8),
    /// A direct colour (SGR 38;2;R;G;B).
    Rgb(u8, u8, u8),
}

/// Attribute flags of a cell, a set of the constants below.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flags(u16);

impl Flags {
    /// SGR 1.
    pub const BOLD: Flags = Flags(1);
    /// SGR 2 (faint).
    pub const DIM: Flags = Flags(1 << 1);
    /// SGR 3.
    pub const ITALIC: Flags = Flags(1 << 2);
    /// SGR 4 (single underline).
    pub const UNDERLINE: Flags = Flags(1 << 3);
    /// SGR 21 or 4:2.
    pub const DOUBLE_UNDERLINE: Flags = Flags(1 << 4);
    /// SGR 4:3 (and the dotted/dashed styles, drawn alike).
    pub const CURLY_UNDERLINE: Flags = Flags(1 << 5);
    /// SGR 5/6.
    pub const BLINK: Flags = Flags(1 << 6);
    /// SGR 7.
    pub const INVERSE: Flags = Flags(1 << 7);
    /// SGR 8 (concealed).
    pub const HIDDEN: Flags = Flags(1 << 8);
    /// SGR 9.
    pub const STRIKE: Flags = Flags(1 << 9);
    /// SGR 53.
    pub const OVERLINE: Flags = Flags(1 << 10);
    /// The left half of a double-width character.
    pub const WIDE: Flags = Flags(1 << 11);
    /// The right half of a double-width character: draw nothing here.
    pub const WIDE_SPACER: Flags = Flags(1 << 12);
    /// DECSCA protection: selective erases (DECSED, DECSEL, DECSERA) keep it.
    pub const PROTECTED: Flags = Flags(1 << 13);

    /// All underline styles.
    pub const ANY_UNDERLINE: Flags =
        Flags(Self::UNDERLINE.0 | Self::DOUBLE_UNDERLINE.0 | Self::CURLY_UNDERLINE.0);
    /// The flags that SGR sets (everything but layout and protection).
    pub(crate) const SGR: Flags = Flags((1 << 11) - 1);

    /// No flag.
    pub const fn empty() -> Flags {
        Flags(0)
    }

    /// Whether every flag of `other` is set.
    #[inline]
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any flag of `other` is set.
    #[inline]
    pub const fn intersects(self, other: Flags) -> bool {
        self.0 & other.0 != 0
    }

    /// Sets the flags of `other`.
    #[inline]
    pub fn insert(&mut self, other: Flags) {
        self.0 |= other.0;
    }

    /// Clears the flags of `other`.
    #[inline]
    pub fn remove(&mut self, other: Flags) {
        self.0 &= !other.0;
    }

    /// Flips the flags of `other`.
    #[inline]
    pub(crate) fn toggle(&mut self, other: Flags) {
        self.0 ^= other.0;
    }

    /// Union of two flag sets, for constants (`|` is not `const`).
    #[inline]
    pub const fn or(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    /// The flags set in both.
    #[inline]
    pub(crate) const fn and(self, other: Flags) -> Flags {
        Flags(self.0 & other.0)
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;

    /// Union, to test several flags at once.
    fn bitor(self, other: Flags) -> Flags {
        self.or(other)
    }
}

/// One character cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    /// The base character (`' '` for an empty cell; unused on a wide spacer).
    pub c: char,
    /// Foreground colour.
    pub fg: Color,
    /// Background colour.
    pub bg: Color,
    /// Attributes and layout flags.
    pub flags: Flags,
    /// Index into [`Marks`] of this cell's combining marks, 0 for none.
    pub(crate) marks: u16,
}

impl Default for Cell {
    fn default() -> Cell {
        Cell::BLANK
    }
}

impl Cell {
    /// An empty cell with default colours.
    pub const BLANK: Cell =
        Cell { c: ' ', fg: Color::Default, bg: Color::Default, flags: Flags::empty(), marks: 0 };

    /// Character `c` in colours `fg` on `bg` with `flags` and no combining
    /// marks: a cell of the caller's own, such as a status line drawn like
    /// the screen's cells.
    pub const fn new(c: char, fg: Color, bg: Color, flags: Flags) -> Cell {
        Cell { c, fg, bg, flags, marks: 0 }
    }

    /// An empty cell as an erase leaves it: the pen's background, nothing else
    /// (xterm's background colour erase).
    #[inline]
    pub(crate) fn erased(bg: Color) -> Cell {
        Cell { bg, ..Cell::BLANK }
    }

    /// Whether this cell has combining marks (look them up with
    /// [`Terminal::marks`](super::Terminal::marks)).
    pub fn has_marks(&self) -> bool {
        self.marks != 0
    }
}

/// Sets every cell of `cells` to `cell`, with wide memory copies (the
/// compiler writes a `Cell` field by field, which makes plain `fill` slow).
#[inline]
pub(crate) fn fill(cells: &mut [Cell], cell: Cell) {
    if cells.len() <= 8 {
        for c in cells {
            *c = cell;
        }
        return;
    }
    let Some(first) = cells.first_mut() else {
        return;
    };
    *first = cell;
    let mut done = 1;
    while done < cells.len() {
        let n = done.min(cells.len() - done);
        cells.copy_within(0..n, done);
        done += n;
    }
}

/// The colours and attributes new characters are written with (SGR state).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pen {
    pub fg: Color,
    pub bg: Color,
    pub flags: Flags,
}

impl Pen {
    /// `c` as this pen writes it, with no combining marks.
    #[inline(always)]
    pub fn cell(self, c: char) -> Cell {
        Cell { c, fg: self.fg, bg: self.bg, flags: self.flags, marks: 0 }
    }
}

/// Interned combining-mark sequences, shared by all cells of a terminal.
///
/// Cells stay `Copy` by pointing here with a `u16`; identical sequences are
/// stored once, as a trie: (sequence id, next mark) -> sequence id. When the
/// table is full, further new sequences are dropped (the base character is
/// still shown).
#[derive(Debug)]
pub(crate) struct Marks {
    seqs: Vec<Vec<char>>,
    children: HashMap<(u16, char), u16>,
    /// In front of `children` (which hashes with SipHash, as a guest picks
    /// the keys), the last append to each sequence, as (mark, result):
    /// `first` for the empty sequence, by the mark's low bits, and
    /// `last_child` for the others, by id.
    first: Box<[(char, u16); FIRST]>,
    last_child: Vec<(char, u16)>,
}

/// Size of [`Marks`]' cache of first marks: the combining marks of all
/// scripts up to U+0FFF go to distinct entries.
const FIRST: usize = 4096;

/// Longest sequence of marks kept on one cell.
const MAX_MARKS: usize = 16;

impl Default for Marks {
    fn default() -> Marks {
        Marks {
            seqs: Vec::new(),
            children: HashMap::new(),
            first: Box::new([('\0', 0); FIRST]),
            last_child: Vec::new(),
        }
    }
}

impl Marks {
    /// The marks stored under `id` (empty for 0 or an unknown id).
    pub fn get(&self, id: u16) -> &[char] {
        match (id as usize).checked_sub(1) {
            Some(i) => self.seqs.get(i).map(Vec::as_slice).unwrap_or(&[]),
            None => &[],
        }
    }

    /// The id of `existing`'s marks followed by `mark`, or `existing` when the
    /// table is full or the sequence is absurdly long.
    #[inline]
    pub fn append(&mut self, existing: u16, mark: char) -> u16 {
        if let Some(&mut (m, id)) = self.last_append(existing, mark)
            && m == mark
            && id != 0
        {
            return id;
        }
        let id = self.intern(existing, mark);
        if let Some(slot) = self.last_append(existing, mark) {
            *slot = (mark, id);
        }
        id
    }

    /// Where the last append of `mark` to `existing` would be cached.
    #[inline]
    fn last_append(&mut self, existing: u16, mark: char) -> Option<&mut (char, u16)> {
        match (existing as usize).checked_sub(1) {
            None => Some(&mut self.first[mark as usize % FIRST]),
            Some(i) => self.last_child.get_mut(i),
        }
    }

    #[cold]
    fn intern(&mut self, existing: u16, mark: char) -> u16 {
        if let Some(&id) = self.children.get(&(existing, mark)) {
            return id;
        }
        let base = self.get(existing);
        if base.len() >= MAX_MARKS || self.seqs.len() >= u16::MAX as usize {
            return existing;
        }
        let mut seq = Vec::with_capacity(base.len() + 1);
        seq.extend_from_slice(base);
        seq.push(mark);
        self.seqs.push(seq);
        self.last_child.push(('\0', 0));
        let id = self.seqs.len() as u16;
        self.children.insert((existing, mark), id);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_is_small_and_copy() {
        assert_eq!(std::mem::size_of::<Cell>(), 16);
    }

    #[test]
    fn marks_are_interned() {
        let mut m = Marks::default();
        let a = m.append(0, '\u{301}');
        let b = m.append(0, '\u{301}');
        assert_eq!(a, b);
        let c = m.append(a, '\u{302}');
        assert_eq!(m.get(c), &['\u{301}', '\u{302}']);
        assert_eq!(m.get(0), &[] as &[char]);
        let mut id = 0;
        for _ in 0..40 {
            id = m.append(id, '\u{303}');
        }
        assert_eq!(m.get(id).len(), MAX_MARKS);
    }
}
