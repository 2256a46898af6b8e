//! The terminal's state and the editing operations control functions use:
//! cursor, margins, tab stops, the two screens, erasing, inserting, scrolling.
//! Printing text is in `text.rs` below, mode switches in `mode_switch.rs`.
//!
//! The vte [`Perform`](vte::Perform) layer in `handler.rs` decodes sequences
//! into calls of these methods; `reply.rs` answers queries from this state.

use super::cell::{Cell, Flags, Marks, Pen};
use super::charset::Charsets;
use super::damage::Tracker;
use super::modes::{INERT_DEFAULT_ON, Modes};
use super::palette::{Rgb16, Theme};
use super::storage::{Row, Storage};

mod mode_switch;
mod text;

/// The cursor's shape (DECSCUSR).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CursorShape {
    /// A full cell.
    #[default]
    Block,
    /// A line under the cell.
    Underline,
    /// A vertical bar left of the cell.
    Bar,
}

/// A clipboard write or query by OSC 52, for the VNC server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClipboardEvent {
    /// The selection letters the program named (`c`, `p`, `s`, `0`-`7`).
    pub selection: String,
    /// The decoded payload.
    pub data: Vec<u8>,
}

/// Where the cursor is and what it writes with.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Cursor {
    pub x: usize,
    pub y: usize,
    /// A character was written in the last column: the next one wraps first.
    pub pending_wrap: bool,
    pub pen: Pen,
    pub charsets: Charsets,
}

/// What DECSC saves.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Saved {
    pub cursor: Cursor,
    pub origin: bool,
}

/// A device control string being collected.
#[derive(Debug, Default)]
pub(crate) enum Dcs {
    #[default]
    None,
    /// DECRQSS (`DCS $ q … ST`).
    Decrqss(Vec<u8>),
    /// XTGETTCAP (`DCS + q … ST`).
    Termcap(Vec<u8>),
}

/// Which erases keep protected cells: xterm keeps one protection flag per
/// cell and remembers whether DECSCA (DEC: only selective erases) or SPA
/// (ISO: every erase) set it last.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Protection {
    #[default]
    Off,
    Dec,
    Iso,
}

/// Palette entries plus special colours.
pub(crate) const PALETTE_LEN: usize = 256 + 5;

/// Longest run of ASCII characters queued before it is written.
pub(crate) const RUN_MAX: usize = 512;

/// Longest DCS payload we collect.
pub(crate) const DCS_MAX: usize = 1024;

/// Largest size a program may ask for with XTWINOPS or DECCOLM (the
/// "display" it is told about), which bounds what a guest can make us allocate.
pub(crate) const MAX_COLS: usize = 400;
/// See [`MAX_COLS`].
pub(crate) const MAX_ROWS: usize = 200;

/// The whole emulator state behind [`Terminal`](super::Terminal).
pub(crate) struct Screen {
    pub cols: usize,
    pub rows: usize,
    pub primary: Storage,
    pub alternate: Storage,
    pub alt: bool,
    pub cursor: Cursor,
    /// DECSC slots of the primary and the alternate screen.
    pub saved: [Saved; 2],
    pub top: usize,
    pub bottom: usize,
    pub left: usize,
    pub right: usize,
    pub tabs: Vec<bool>,
    pub modes: Modes,
    /// Inert DEC private modes currently set (see `INERT_PRIVATE_MODES`).
    pub inert_on: Vec<u16>,
    /// XTSAVE'd private modes.
    pub saved_modes: Vec<(u16, bool)>,
    pub marks: Marks,
    pub replies: Vec<u8>,
    pub damage: Tracker,
    pub title: String,
    pub icon_title: String,
    pub title_stack: Vec<(String, String)>,
    pub title_changed: bool,
    /// XTSMTITLE/XTRMTITLE bits: 0 set hex, 1 query hex, 2 set UTF-8, 3 query UTF-8.
    pub title_modes: u8,
    pub clipboard_events: Vec<ClipboardEvent>,
    /// Last payload per selection letter, for OSC 52 queries.
    pub clipboard: Vec<(char, Vec<u8>)>,
    /// OSC 4 overrides: 256 palette entries, then xterm's 5 special colours
    /// (bold, underline, blink, reverse, italic; also OSC 5).
    pub palette: Vec<Option<Rgb16>>,
    /// OSC 10–19 overrides: foreground, background, cursor colour, …
    pub dynamic: [Option<Rgb16>; 10],
    /// The default colours the palette and the dynamic colours start from.
    pub theme: Theme,
    /// DECSCUSR value, 0–6.
    pub cursor_style: u8,
    /// xterm's att610 blink mode (DECSET 12).
    pub cursor_blink_mode: bool,
    pub last_char: Option<char>,
    pub dcs: Dcs,
    /// DECSCL level, 61–65.
    pub conformance: u8,
    /// S8C1T: replies use 8-bit C1 controls.
    pub c1_8bit: bool,
    /// DECSACE value: 2 makes DECCARA/DECRARA act on a rectangle (else a stream).
    pub attr_extent: u16,
    pub protection: Protection,
    /// DECSSDT value (status line type), reported by DECRQSS.
    pub status_display: u16,
    /// DECCOLM was set by a program (RIS goes back to 80 columns).
    pub deccolm: bool,
    /// XTWINOPS window state: iconified, position, size before maximizing.
    pub iconified: bool,
    pub window_pos: (u16, u16),
    pub restore_size: Option<(usize, usize)>,
    /// Pixel size of one cell, for XTWINOPS pixel reports.
    pub cell_px: (usize, usize),
    /// How far the view is scrolled back into history.
    pub display_offset: usize,
    pub bells: usize,
    /// Set when a program resized the terminal itself (XTWINOPS, DECCOLM).
    pub size_requested: bool,
    pub reflow: bool,
    /// Queued printable ASCII, see [`Screen::print`].
    pub run: Vec<u8>,
    /// Set by CSI and ESC dispatches: the parser is back in its ground state,
    /// see [`Terminal::advance`](super::Terminal::advance).
    pub dispatched: bool,
}

impl Screen {
    pub fn new(cols: usize, rows: usize, scrollback: usize) -> Screen {
        let cols = cols.max(1);
        let rows = rows.max(1);
        let mut s = Screen {
            cols,
            rows,
            primary: Storage::new(cols, rows, scrollback),
            alternate: Storage::new(cols, rows, 0),
            alt: false,
            cursor: Cursor::default(),
            saved: [Saved::default(); 2],
            top: 0,
            bottom: rows - 1,
            left: 0,
            right: cols - 1,
            tabs: Vec::new(),
            modes: Modes::default(),
            inert_on: INERT_DEFAULT_ON.to_vec(),
            saved_modes: Vec::new(),
            marks: Marks::default(),
            replies: Vec::new(),
            damage: Tracker::new(rows),
            title: String::new(),
            icon_title: String::new(),
            title_stack: Vec::new(),
            title_changed: false,
            title_modes: 0,
            clipboard_events: Vec::new(),
            clipboard: Vec::new(),
            palette: vec![None; PALETTE_LEN],
            dynamic: [None; 10],
            theme: Theme::default(),
            cursor_style: 0,
            cursor_blink_mode: false,
            last_char: None,
            dcs: Dcs::None,
            conformance: 65,
            c1_8bit: false,
            attr_extent: 0,
            protection: Protection::Off,
            status_display: 0,
            deccolm: false,
            iconified: false,
            window_pos: (0, 0),
            restore_size: None,
            cell_px: (8, 16),
            display_offset: 0,
            bells: 0,
            size_requested: false,
            reflow: true,
            run: Vec::with_capacity(RUN_MAX),
            dispatched: false,
        };
        s.reset_tabs();
        s
    }

    // ---- access -------------------------------------------------------

    #[inline]
    pub fn grid(&self) -> &Storage {
        if self.alt { &self.alternate } else { &self.primary }
    }

    #[inline]
    pub fn grid_mut(&mut self) -> &mut Storage {
        if self.alt { &mut self.alternate } else { &mut self.primary }
    }

    #[inline]
    pub fn row_mut(&mut self, y: usize) -> &mut Row {
        self.damage.row(y);
        self.grid_mut().row_mut(y)
    }

    /// The blank an erase leaves: the pen's background.
    #[inline]
    pub fn blank(&self) -> Cell {
        Cell::erased(self.cursor.pen.bg)
    }

    /// The right edge the cursor obeys: the right margin when the cursor is
    /// left of it, else the screen edge.
    #[inline]
    pub fn right_edge(&self) -> usize {
        if self.cursor.x <= self.right { self.right } else { self.cols - 1 }
    }

    /// The left edge the cursor obeys (see [`Self::right_edge`]).
    #[inline]
    pub fn left_edge(&self) -> usize {
        if self.cursor.x >= self.left { self.left } else { 0 }
    }

    fn inside_margins(&self) -> bool {
        (self.top..=self.bottom).contains(&self.cursor.y) && (self.left..=self.right).contains(&self.cursor.x)
    }

    fn full_width(&self) -> bool {
        self.left == 0 && self.right == self.cols - 1
    }

    // ---- cursor motion ------------------------------------------------

    /// Moves to absolute screen coordinates, clamped.
    pub fn goto(&mut self, x: usize, y: usize) {
        self.cursor.x = x.min(self.cols - 1);
        self.cursor.y = y.min(self.rows - 1);
        self.cursor.pending_wrap = false;
    }

    /// CUP: moves to 0-based `(x, y)`, relative to the margins in origin mode.
    pub fn goto_origin(&mut self, x: usize, y: usize) {
        if self.modes.origin {
            let x = (self.left + x).min(self.right);
            let y = (self.top + y).min(self.bottom);
            self.goto(x, y);
        } else {
            self.goto(x, y);
        }
    }

    /// CHA/HPA: column only.
    pub fn goto_col(&mut self, x: usize) {
        if self.modes.origin {
            self.goto((self.left + x).min(self.right), self.cursor.y);
        } else {
            self.goto(x, self.cursor.y);
        }
    }

    /// VPA: row only.
    pub fn goto_row(&mut self, y: usize) {
        if self.modes.origin {
            self.goto(self.cursor.x, (self.top + y).min(self.bottom));
        } else {
            self.goto(self.cursor.x, y);
        }
    }

    /// CUU: up, stopping at the top margin when starting below it.
    pub fn up(&mut self, n: usize) {
        let limit = if self.cursor.y >= self.top { self.top } else { 0 };
        let y = self.cursor.y.saturating_sub(n).max(limit);
        self.goto(self.cursor.x, y);
    }

    /// CUD: down, stopping at the bottom margin when starting above it.
    pub fn down(&mut self, n: usize) {
        let limit = if self.cursor.y <= self.bottom { self.bottom } else { self.rows - 1 };
        let y = self.cursor.y.saturating_add(n).min(limit);
        self.goto(self.cursor.x, y);
    }

    /// CUF: right, stopping at the right margin.
    pub fn forward(&mut self, n: usize) {
        let limit = self.right_edge();
        let x = self.cursor.x.saturating_add(n).min(limit);
        self.goto(x, self.cursor.y);
    }

    /// CUB: left, stopping at the left margin; with reverse wraparound
    /// (DECSET 45 and DECAWM) it continues at the end of the previous row.
    pub fn backward(&mut self, n: usize) {
        if !(self.modes.reverse_wrap && self.modes.autowrap) {
            let limit = self.left_edge();
            let x = self.cursor.x.saturating_sub(n).max(limit);
            return self.goto(x, self.cursor.y);
        }
        let mut n = n.min(self.cols * self.rows);
        if self.cursor.pending_wrap {
            self.cursor.pending_wrap = false;
            n -= 1;
        }
        for _ in 0..n {
            let left = self.left_edge();
            if self.cursor.x > left {
                self.cursor.x -= 1;
                continue;
            }
            let top = if self.cursor.y >= self.top { self.top } else { 0 };
            if self.cursor.y > top {
                self.cursor.y -= 1;
            } else if self.cursor.y == self.top {
                // xterm wraps from the top margin to the bottom one.
                self.cursor.y = self.bottom;
            } else {
                break;
            }
            self.cursor.x = self.right_edge();
        }
    }

    /// BS: CUB 1.
    pub fn backspace(&mut self) {
        self.backward(1);
    }

    /// CR: to the left margin (or column 0 when left of it).
    pub fn carriage_return(&mut self) {
        let x = self.left_edge();
        self.goto(x, self.cursor.y);
    }

    /// IND and LF: down one row, scrolling the region at the bottom margin.
    pub fn index(&mut self) {
        self.cursor.pending_wrap = false;
        if self.cursor.y == self.bottom {
            if (self.left..=self.right).contains(&self.cursor.x) {
                self.scroll_up(1);
            }
        } else if self.cursor.y + 1 < self.rows {
            self.cursor.y += 1;
        }
    }

    /// RI: up one row, scrolling the region down at the top margin.
    pub fn reverse_index(&mut self) {
        self.cursor.pending_wrap = false;
        if self.cursor.y == self.top {
            if (self.left..=self.right).contains(&self.cursor.x) {
                self.scroll_down(1);
            }
        } else if self.cursor.y > 0 {
            self.cursor.y -= 1;
        }
    }

    /// DECFI: right one column, scrolling the margins' columns left at the
    /// right margin.
    pub fn forward_index(&mut self) {
        if self.cursor.x == self.right {
            if (self.top..=self.bottom).contains(&self.cursor.y) {
                self.shift_columns(self.left, -1);
            }
        } else if self.cursor.x + 1 < self.cols {
            self.goto(self.cursor.x + 1, self.cursor.y);
        }
    }

    /// DECBI: left one column, scrolling right at the left margin.
    pub fn back_index(&mut self) {
        if self.cursor.x == self.left {
            if (self.top..=self.bottom).contains(&self.cursor.y) {
                self.shift_columns(self.left, 1);
            }
        } else if self.cursor.x > 0 {
            self.goto(self.cursor.x - 1, self.cursor.y);
        }
    }

    /// HT and CHT: to the n-th next tab stop, stopping at the right edge.
    pub fn tab(&mut self, n: usize) {
        if self.cursor.pending_wrap && self.modes.autowrap && self.inert_on.contains(&41) {
            // xterm's more(1) fix: a tab after the last column wraps first.
            self.wrap();
        }
        let right = self.right_edge();
        let mut x = self.cursor.x;
        for _ in 0..n {
            if x >= right {
                break;
            }
            x += 1;
            while x < right && !self.tabs[x] {
                x += 1;
            }
        }
        if x != self.cursor.x {
            // A tab that cannot move keeps a pending wrap, as in xterm.
            self.cursor.x = x;
            self.cursor.pending_wrap = false;
        }
    }

    /// CBT: to the n-th previous tab stop, stopping at column 0 (CBT
    /// ignores the margins).
    pub fn back_tab(&mut self, n: usize) {
        let left = 0;
        let mut x = self.cursor.x;
        for _ in 0..n {
            if x <= left {
                break;
            }
            x -= 1;
            while x > left && !self.tabs[x] {
                x -= 1;
            }
        }
        self.goto(x, self.cursor.y);
    }

    pub fn reset_tabs(&mut self) {
        self.tabs = (0..self.cols).map(|x| x % 8 == 0 && x > 0).collect();
    }

    // ---- scrolling ----------------------------------------------------

    /// SU: scrolls the margin region up by `n` rows.
    pub fn scroll_up(&mut self, n: usize) {
        self.scroll_region_up(self.top, self.bottom, n);
    }

    /// SD: scrolls the margin region down by `n` rows.
    pub fn scroll_down(&mut self, n: usize) {
        self.scroll_region_down(self.top, self.bottom, n);
    }

    /// Moves rows `top..=bottom` (within the left/right margins) up by `n`.
    pub fn scroll_region_up(&mut self, top: usize, bottom: usize, n: usize) {
        let n = n.min(bottom + 1 - top);
        if n == 0 {
            return;
        }
        let blank = self.blank();
        if !self.full_width() {
            let (l, r) = (self.left, self.right);
            for y in top..bottom + 1 - n {
                let (dst, src) = self.grid_mut().two_rows_mut(y, y + n);
                dst.cells_mut()[l..=r].copy_from_slice(&src.cells()[l..=r]);
            }
            for y in bottom + 1 - n..=bottom {
                super::cell::fill(&mut self.grid_mut().row_mut(y).cells_mut()[l..=r], blank);
            }
            self.damage.rows(top, bottom);
            return;
        }
        if top == 0 && bottom == self.rows - 1 {
            let history_before = self.primary.history();
            for _ in 0..n {
                self.grid_mut().scroll_up_into_history(blank);
            }
            if !self.alt && self.display_offset > 0 {
                let grown = self.primary.history() - history_before;
                let pinned = self.display_offset + grown;
                self.display_offset = pinned.min(self.primary.history());
                self.damage.all();
                return;
            }
        } else {
            // Blank the rows that leave at the top before the rotation moves
            // them to the bottom (reading them right after the move is slow).
            let grid = self.grid_mut();
            for y in top..top + n {
                grid.row_mut(y).reset(blank);
            }
            if top == 0 {
                grid.rotate_top_region_up(bottom, n);
            } else {
                grid.rotate_up(top, bottom, n);
            }
        }
        self.damage.scroll(top, bottom, -(n as i32));
    }

    /// Moves rows `top..=bottom` (within the left/right margins) down by `n`.
    pub fn scroll_region_down(&mut self, top: usize, bottom: usize, n: usize) {
        let n = n.min(bottom + 1 - top);
        if n == 0 {
            return;
        }
        let blank = self.blank();
        if !self.full_width() {
            let (l, r) = (self.left, self.right);
            for y in (top + n..=bottom).rev() {
                let (dst, src) = self.grid_mut().two_rows_mut(y, y - n);
                dst.cells_mut()[l..=r].copy_from_slice(&src.cells()[l..=r]);
            }
            for y in top..top + n {
                super::cell::fill(&mut self.grid_mut().row_mut(y).cells_mut()[l..=r], blank);
            }
            self.damage.rows(top, bottom);
            return;
        }
        let grid = self.grid_mut();
        for y in bottom + 1 - n..=bottom {
            grid.row_mut(y).reset(blank);
        }
        grid.rotate_down(top, bottom, n);
        self.damage.scroll(top, bottom, n as i32);
    }

    /// Shifts the columns `from..=right` of the margin rows by `delta` (one
    /// column, DECBI/DECFI/DECIC/DECDC): positive right, negative left.
    pub fn shift_columns(&mut self, from: usize, delta: isize) {
        let blank = self.blank();
        let right = self.right;
        if from > right {
            return;
        }
        let n = delta.unsigned_abs().min(right + 1 - from);
        for y in self.top..=self.bottom {
            let cells = &mut self.row_mut(y).cells_mut()[from..=right];
            if delta > 0 {
                cells.rotate_right(n);
                cells[..n].fill(blank);
            } else {
                cells.rotate_left(n);
                let len = cells.len();
                cells[len - n..].fill(blank);
            }
        }
    }

    // ---- editing ------------------------------------------------------

    /// Shifts cells `x..=right` of row `y` right by `n`, blanking the gap.
    fn shift_right(&mut self, y: usize, x: usize, right: usize, n: usize) {
        let blank = self.blank();
        let row = self.row_mut(y).cells_mut();
        if x > right {
            return;
        }
        let n = n.min(right + 1 - x);
        let span = &mut row[x..=right];
        span.rotate_right(n);
        span[..n].fill(blank);
        fix_split_wide(row, x, right);
    }

    /// ICH: inserts `n` blanks at the cursor.
    pub fn insert_chars(&mut self, n: usize) {
        if !(self.left..=self.right).contains(&self.cursor.x) {
            return;
        }
        let (x, y, right) = (self.cursor.x, self.cursor.y, self.right);
        self.shift_right(y, x, right, n);
        self.cursor.pending_wrap = false;
    }

    /// DCH: deletes `n` characters at the cursor, pulling the rest left.
    pub fn delete_chars(&mut self, n: usize) {
        if !(self.left..=self.right).contains(&self.cursor.x) {
            return;
        }
        let (x, y, right) = (self.cursor.x, self.cursor.y, self.right);
        let blank = self.blank();
        let row = self.row_mut(y).cells_mut();
        let n = n.min(right + 1 - x);
        let span = &mut row[x..=right];
        span.rotate_left(n);
        let len = span.len();
        span[len - n..].fill(blank);
        fix_split_wide(row, x, right);
        self.cursor.pending_wrap = false;
    }

    /// ECH: erases `n` characters from the cursor, not moving anything.
    pub fn erase_chars(&mut self, n: usize) {
        if self.cursor.pending_wrap {
            // The cursor is past the character it just wrote (see `erase_from`).
            return;
        }
        let (x, y) = (self.cursor.x, self.cursor.y);
        let end = x.saturating_add(n).min(self.cols);
        self.erase_span(y, x, end, false);
    }

    /// Where an erase "from the cursor" starts. With a wrap pending, the
    /// cursor is past the character just written in the last column, and
    /// erases leave the wrap pending: that is what tmux does and what
    /// programs that fill whole lines and then erase to the end (top) expect.
    /// (xterm erases that character and cancels the wrap.)
    fn erase_from(&self) -> usize {
        self.cursor.x + usize::from(self.cursor.pending_wrap)
    }

    /// IL: inserts `n` blank lines at the cursor row within the margins.
    pub fn insert_lines(&mut self, n: usize) {
        if !self.inside_margins() {
            return;
        }
        self.scroll_region_down(self.cursor.y, self.bottom, n);
        self.cursor.x = self.left;
        self.cursor.pending_wrap = false;
    }

    /// DL: deletes `n` lines at the cursor row within the margins.
    pub fn delete_lines(&mut self, n: usize) {
        if !self.inside_margins() {
            return;
        }
        self.scroll_region_up(self.cursor.y, self.bottom, n);
        self.cursor.x = self.left;
        self.cursor.pending_wrap = false;
    }

    /// Erases cells `from..to` of row `y`; `selective` keeps protected ones.
    pub fn erase_span(&mut self, y: usize, from: usize, to: usize, selective: bool) {
        let blank = self.blank();
        let keep_protected = selective || self.protection == Protection::Iso;
        let cols = self.cols;
        let to = to.min(cols);
        if from >= to {
            return;
        }
        if to == cols && blank == Cell::BLANK && !keep_protected {
            // To the end of the row with default colours: the common ED/EL.
            self.row_mut(y).clear_from(from);
            return;
        }
        let row = self.row_mut(y).cells_mut();
        if from > 0 && row[from].flags.contains(Flags::WIDE_SPACER) {
            row[from - 1] = Cell::erased(row[from - 1].bg);
        }
        if to < cols && row[to].flags.contains(Flags::WIDE_SPACER) {
            row[to] = Cell::erased(row[to].bg);
        }
        if keep_protected {
            for cell in &mut row[from..to] {
                if !cell.flags.contains(Flags::PROTECTED) {
                    *cell = blank;
                }
            }
        } else {
            super::cell::fill(&mut row[from..to], blank);
        }
    }

    /// EL (0 right, 1 left, 2 all) and DECSEL.
    pub fn erase_line(&mut self, mode: u16, selective: bool) {
        let (x, y) = (self.cursor.x, self.cursor.y);
        match mode {
            0 => self.erase_span(y, self.erase_from(), self.cols, selective),
            1 => self.erase_span(y, 0, x + 1, selective),
            2 => self.erase_span(y, 0, self.cols, selective),
            _ => return,
        }
        if mode != 1 {
            self.grid_mut().row_mut(y).wrapped = false;
        }
    }

    /// ED (0 below, 1 above, 2 all, 3 scrollback) and DECSED.
    pub fn erase_display(&mut self, mode: u16, selective: bool) {
        let (x, y) = (self.cursor.x, self.cursor.y);
        match mode {
            0 => {
                self.erase_span(y, self.erase_from(), self.cols, selective);
                for yy in y + 1..self.rows {
                    self.erase_span(yy, 0, self.cols, selective);
                }
            }
            1 => {
                for yy in 0..y {
                    self.erase_span(yy, 0, self.cols, selective);
                }
                self.erase_span(y, 0, x + 1, selective);
            }
            2 => {
                for yy in 0..self.rows {
                    self.erase_span(yy, 0, self.cols, selective);
                }
            }
            3 if !self.alt => {
                self.primary.clear_history();
                self.display_offset = 0;
                self.damage.all();
            }
            _ => {}
        }
    }

    /// DECALN: fills the screen with `E`, resetting margins and the cursor.
    pub fn alignment_test(&mut self) {
        self.top = 0;
        self.bottom = self.rows - 1;
        self.left = 0;
        self.right = self.cols - 1;
        self.modes.origin = false;
        let e = Cell { c: 'E', ..Cell::BLANK };
        for y in 0..self.rows {
            super::cell::fill(self.row_mut(y).cells_mut(), e);
        }
        self.goto(0, 0);
    }

    // ---- margins ------------------------------------------------------

    /// DECSTBM with 1-based bounds (0 = default); ignored unless top < bottom.
    pub fn set_top_bottom(&mut self, top: usize, bottom: usize) {
        let top = top.max(1) - 1;
        let bottom = if bottom == 0 { self.rows } else { bottom.min(self.rows) } - 1;
        if top < bottom {
            self.top = top;
            self.bottom = bottom;
            self.goto_origin(0, 0);
        }
    }

    /// DECSLRM with 1-based bounds; only while DECLRMM is set.
    pub fn set_left_right(&mut self, left: usize, right: usize) {
        if !self.modes.left_right_margins {
            return;
        }
        let left = left.max(1) - 1;
        let right = if right == 0 { self.cols } else { right.min(self.cols) } - 1;
        if left < right {
            self.left = left;
            self.right = right;
            self.goto_origin(0, 0);
        }
    }

    pub fn reset_margins(&mut self) {
        self.top = 0;
        self.bottom = self.rows - 1;
        self.left = 0;
        self.right = self.cols - 1;
    }

    // ---- save / restore, screens --------------------------------------

    /// DECSC.
    pub fn save_cursor(&mut self) {
        self.saved[self.alt as usize] = Saved { cursor: self.cursor, origin: self.modes.origin };
    }

    /// DECRC: restores what DECSC saved (or homes the cursor with default
    /// attributes when nothing was saved).
    pub fn restore_cursor(&mut self) {
        let saved = self.saved[self.alt as usize];
        self.cursor = saved.cursor;
        self.modes.origin = saved.origin;
        self.cursor.x = self.cursor.x.min(self.cols - 1);
        self.cursor.y = self.cursor.y.min(self.rows - 1);
        if !self.modes.autowrap {
            self.cursor.pending_wrap = false;
        }
    }

    /// Switches to the alternate screen (47, 1047, 1049).
    pub fn enter_alt(&mut self, clear: bool) {
        if !self.alt {
            self.alt = true;
            self.display_offset = 0;
            self.damage.all();
        }
        if clear {
            let blank = self.blank();
            for y in 0..self.rows {
                self.alternate.row_mut(y).reset(blank);
            }
            self.damage.all();
        }
    }

    /// Switches back to the primary screen.
    pub fn leave_alt(&mut self, clear: bool) {
        if self.alt {
            if clear {
                let blank = self.blank();
                for y in 0..self.rows {
                    self.alternate.row_mut(y).reset(blank);
                }
            }
            self.alt = false;
            self.damage.all();
        }
    }

    // ---- resets -------------------------------------------------------

    /// DECSTR: soft reset.
    pub fn soft_reset(&mut self) {
        self.modes.cursor_visible = true;
        self.modes.insert = false;
        self.modes.origin = false;
        self.modes.app_cursor = false;
        self.modes.app_keypad = false;
        self.modes.keyboard_locked = false;
        self.modes.left_right_margins = false;
        self.modes.reverse_wrap = false;
        self.protection = Protection::Off;
        self.reset_margins();
        self.cursor.pen = Pen::default();
        self.cursor.charsets = Charsets::default();
        self.cursor.pending_wrap = false;
        self.saved = [Saved::default(); 2];
        self.c1_8bit = false;
        self.attr_extent = 0;
    }

    /// RIS: everything back to power-on, keeping the size and the history.
    pub fn full_reset(&mut self) {
        if self.deccolm {
            self.resize(80, self.rows);
            self.size_requested = true;
        }
        let size_requested = self.size_requested;
        let (cols, rows) = (self.cols, self.rows);
        let primary = std::mem::replace(&mut self.primary, Storage::new(1, 1, 0));
        let cell_px = self.cell_px;
        let replies = std::mem::take(&mut self.replies);
        let events = std::mem::take(&mut self.clipboard_events);
        let reflow = self.reflow;
        *self = Screen::new(cols, rows, 0);
        self.primary = primary;
        let blank = Cell::BLANK;
        for y in 0..rows {
            self.primary.row_mut(y).reset(blank);
        }
        self.cell_px = cell_px;
        self.replies = replies;
        self.clipboard_events = events;
        self.reflow = reflow;
        self.size_requested = size_requested;
        self.title_changed = true;
    }

    // ---- resize -------------------------------------------------------

    pub fn resize(&mut self, cols: usize, rows: usize) {
        let cols = cols.max(1);
        let rows = rows.max(1);
        if cols == self.cols && rows == self.rows {
            return;
        }
        let alt_y = if self.alt { self.cursor.y } else { self.saved[1].cursor.y };
        let main_y = if self.alt { self.saved[0].cursor.y } else { self.cursor.y };
        let new_main_y = self.primary.resize(cols, rows, self.reflow, main_y.min(self.rows - 1));
        let new_alt_y = self.alternate.resize(cols, rows, false, alt_y.min(self.rows - 1));
        if self.alt {
            self.cursor.y = new_alt_y;
        } else {
            self.cursor.y = new_main_y;
        }
        self.cols = cols;
        self.rows = rows;
        self.cursor.x = self.cursor.x.min(cols - 1);
        self.cursor.pending_wrap = false;
        for s in &mut self.saved {
            s.cursor.x = s.cursor.x.min(cols - 1);
            s.cursor.y = s.cursor.y.min(rows - 1);
        }
        let old_tabs = std::mem::take(&mut self.tabs);
        self.reset_tabs();
        for (x, t) in old_tabs.into_iter().enumerate().take(cols) {
            self.tabs[x] = t;
        }
        self.reset_margins();
        self.display_offset = self.display_offset.min(self.primary.history());
        self.damage.resize(rows);
    }
}

/// After a shift inside `x..=right`, blanks halves of wide characters that
/// the shift separated.
fn fix_split_wide(row: &mut [Cell], x: usize, right: usize) {
    if row[right].flags.contains(Flags::WIDE) {
        row[right] = Cell::erased(row[right].bg);
    }
    if row[x].flags.contains(Flags::WIDE_SPACER) {
        row[x] = Cell::erased(row[x].bg);
    }
    if right + 1 < row.len() && row[right + 1].flags.contains(Flags::WIDE_SPACER) {
        row[right + 1] = Cell::erased(row[right + 1].bg);
    }
    if x > 0 && row[x - 1].flags.contains(Flags::WIDE) && !row[x].flags.contains(Flags::WIDE_SPACER) {
        row[x - 1] = Cell::erased(row[x - 1].bg);
    }
}
