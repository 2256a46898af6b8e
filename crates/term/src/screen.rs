//! The terminal's state and the editing operations control functions use:
//! cursor, margins, tab stops, the two screens, erasing, inserting, scrolling.
//!
//! The state's fields are private to this module and its children, each of
//! which adds one family of operations: `handler` (the vte
//! [`Perform`](vte::Perform) layer) decodes sequences into calls of these
//! methods, `text` prints, `mode_switch` sets and reports modes, `reply`
//! answers queries, `rect` does the rectangle operations and `jump_scroll`
//! scrolls floods of lines at once.

use super::cell::{Cell, Flags, Marks, Pen};
use super::charset::Charsets;
use super::clipboard::{Clipboard, ClipboardEvent};
use super::colors::Colors;
use super::cursor_style::CursorStyle;
use super::damage::{Damage, Tracker};
use super::modes::{INERT_DEFAULT_ON, Modes};
use super::palette::Theme;
use super::region::Region;
use super::storage::{Row, Storage};
use super::titles::Titles;
use super::window::Window;

mod handler;
mod jump_scroll;
mod mode_switch;
mod rect;
mod reply;
mod text;

/// Where the cursor is and what it writes with.
#[derive(Clone, Copy, Debug, Default)]
struct Cursor {
    /// Column, 0-based.
    x: usize,
    /// Row of the screen, 0-based.
    y: usize,
    /// A character was written in the last column: the next one wraps first.
    pending_wrap: bool,
    /// The colours and attributes characters are written with (SGR).
    pen: Pen,
    /// G0–G3 and which of them are invoked.
    charsets: Charsets,
}

/// What DECSC saves.
#[derive(Clone, Copy, Debug, Default)]
struct Saved {
    cursor: Cursor,
    /// DECOM, which DECSC saves with the cursor.
    origin: bool,
}

/// A device control string being collected.
#[derive(Debug, Default)]
enum Dcs {
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
enum Protection {
    #[default]
    Off,
    Dec,
    Iso,
}

/// Longest run of ASCII characters queued before it is written.
const RUN_MAX: usize = 512;

/// Longest DCS payload we collect.
const DCS_MAX: usize = 1024;

/// Largest size a program may ask for with XTWINOPS or DECCOLM (the
/// "display" it is told about), which bounds what a guest can make us allocate.
const MAX_COLS: usize = 400;
/// See [`MAX_COLS`].
const MAX_ROWS: usize = 200;

/// The whole emulator state behind [`Terminal`](super::Terminal): the two
/// screens and everything control functions set. Its fields are its own and
/// its child modules' (each a family of operations); [`Terminal`](super::Terminal)
/// reads and drives it through methods.
pub(crate) struct Screen {
    cols: usize,
    rows: usize,
    primary: Storage,
    alternate: Storage,
    /// The alternate screen is shown.
    alt: bool,
    cursor: Cursor,
    /// DECSC slots of the primary and the alternate screen.
    saved: [Saved; 2],
    /// The scroll region.
    region: Region,
    /// A tab stop per column.
    tabs: Vec<bool>,
    modes: Modes,
    /// Inert DEC private modes currently set (see `INERT_PRIVATE_MODES`).
    inert_on: Vec<u16>,
    /// XTSAVE'd private modes.
    saved_modes: Vec<(u16, bool)>,
    /// The combining marks of the cells of both screens and the history.
    marks: Marks,
    /// Bytes for the program, see [`Screen::take_replies`].
    replies: Vec<u8>,
    damage: Tracker,
    titles: Titles,
    clipboard: Clipboard,
    colors: Colors,
    cursor_style: CursorStyle,
    /// The last character printed, for REP.
    last_char: Option<char>,
    /// The device control string being collected.
    dcs: Dcs,
    /// DECSCL level, 61–65.
    conformance: u8,
    /// S8C1T: replies use 8-bit C1 controls.
    c1_8bit: bool,
    /// DECSACE value: 2 makes DECCARA/DECRARA act on a rectangle (else a stream).
    attr_extent: u16,
    protection: Protection,
    /// DECSSDT value (status line type), reported by DECRQSS.
    status_display: u16,
    window: Window,
    /// How far the view is scrolled back into history.
    display_offset: usize,
    /// BELs since the owner last looked.
    bells: usize,
    /// Queued printable ASCII, see [`Screen::print`].
    run: Vec<u8>,
    /// Set by CSI and ESC dispatches: the parser is back in its ground state,
    /// see [`Terminal::advance`](super::Terminal::advance).
    dispatched: bool,
}

impl Screen {
    /// A screen of `cols` x `rows` cells (at least 1 each) keeping up to
    /// `scrollback` lines of history.
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
            region: Region::full(cols, rows),
            tabs: Vec::new(),
            modes: Modes::default(),
            inert_on: INERT_DEFAULT_ON.to_vec(),
            saved_modes: Vec::new(),
            marks: Marks::default(),
            replies: Vec::new(),
            damage: Tracker::new(rows),
            titles: Titles::default(),
            clipboard: Clipboard::default(),
            colors: Colors::default(),
            cursor_style: CursorStyle::default(),
            last_char: None,
            dcs: Dcs::None,
            conformance: 65,
            c1_8bit: false,
            attr_extent: 0,
            protection: Protection::Off,
            status_display: 0,
            window: Window::default(),
            display_offset: 0,
            bells: 0,
            run: Vec::with_capacity(RUN_MAX),
            dispatched: false,
        };
        s.reset_tabs();
        s
    }

    // ---- what the terminal reads and takes -----------------------------

    /// Width in cells.
    #[inline]
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Height in cells.
    #[inline]
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Whether the alternate screen is shown.
    #[inline]
    pub fn is_alt(&self) -> bool {
        self.alt
    }

    /// The primary screen with its history.
    #[inline]
    pub fn primary(&self) -> &Storage {
        &self.primary
    }

    /// The combining marks cells refer to.
    #[inline]
    pub fn marks(&self) -> &Marks {
        &self.marks
    }

    /// The modes set by SM/RM and DECSET/DECRST.
    #[inline]
    pub fn modes(&self) -> &Modes {
        &self.modes
    }

    /// The colours: theme, palette and dynamic colours.
    #[inline]
    pub fn colors(&self) -> &Colors {
        &self.colors
    }

    /// The window and icon titles.
    #[inline]
    pub fn titles(&self) -> &Titles {
        &self.titles
    }

    /// The cursor's column and row on the screen.
    #[inline]
    pub fn cursor_position(&self) -> (usize, usize) {
        (self.cursor.x, self.cursor.y)
    }

    /// How the cursor is drawn.
    #[inline]
    pub fn cursor_style(&self) -> CursorStyle {
        self.cursor_style
    }

    /// How many rows the view is scrolled back (0 on the alternate screen,
    /// which has no history).
    #[inline]
    pub fn view_offset(&self) -> usize {
        if self.alt { 0 } else { self.display_offset }
    }

    /// How many rows the view of the primary screen is scrolled back.
    #[inline]
    pub fn display_offset(&self) -> usize {
        self.display_offset
    }

    /// Scrolls the view into history by `delta` rows (positive: back in
    /// time), clamped; the primary screen only.
    pub fn scroll_display(&mut self, delta: isize) {
        if self.alt {
            return;
        }
        let max = self.primary.history() as isize;
        let new = (self.display_offset as isize + delta).clamp(0, max) as usize;
        if new != self.display_offset {
            self.primary.make_history_cells();
            self.display_offset = new;
            self.damage.all();
        }
    }

    /// Scrolls the view of the primary screen back `offset` rows (clamped)
    /// without recording damage, for a look at another view; returns the
    /// offset to put back with [`Screen::put_display_offset`].
    pub fn look_back(&mut self, offset: usize) -> usize {
        let own = self.display_offset;
        if !self.alt {
            self.display_offset = offset.min(self.primary.history());
            if self.display_offset > 0 {
                self.primary.make_history_cells();
            }
        }
        own
    }

    /// Puts back the offset [`Screen::look_back`] returned.
    pub fn put_display_offset(&mut self, own: usize) {
        self.display_offset = own;
    }

    /// Sets the theme and repaints everything.
    pub fn set_theme(&mut self, theme: Theme) {
        self.colors.set_theme(theme);
        self.damage.all();
    }

    /// Sets the pixel size of a cell that XTWINOPS reports.
    pub fn set_cell_pixels(&mut self, width: u16, height: u16) {
        self.window.set_cell_pixels(width, height);
    }

    /// Bytes for the program since the last call.
    pub fn take_replies(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.replies)
    }

    /// Whether a program resized the terminal since the last call.
    pub fn take_size_request(&mut self) -> bool {
        self.window.take_size_request()
    }

    /// Rows changed and regions scrolled since the last call.
    pub fn take_damage(&mut self) -> Damage {
        self.damage.take()
    }

    /// The window title, if it changed since the last call.
    pub fn take_title_change(&mut self) -> Option<String> {
        self.titles.take_change()
    }

    /// Clipboard writes (OSC 52) since the last call.
    pub fn take_clipboard(&mut self) -> Vec<ClipboardEvent> {
        self.clipboard.take_events()
    }

    /// BELs since the last call.
    pub fn take_bells(&mut self) -> usize {
        std::mem::take(&mut self.bells)
    }

    /// Forgets earlier CSI and ESC dispatches, before the parser runs.
    #[inline]
    pub fn clear_dispatched(&mut self) {
        self.dispatched = false;
    }

    /// Whether the parser dispatched a CSI or ESC sequence since
    /// [`Screen::clear_dispatched`] (it is then in its ground state); clears it.
    #[inline]
    pub fn take_dispatched(&mut self) -> bool {
        std::mem::take(&mut self.dispatched)
    }

    // ---- access -------------------------------------------------------

    #[inline]
    pub fn grid(&self) -> &Storage {
        if self.alt { &self.alternate } else { &self.primary }
    }

    #[inline]
    fn grid_mut(&mut self) -> &mut Storage {
        if self.alt { &mut self.alternate } else { &mut self.primary }
    }

    #[inline]
    fn row_mut(&mut self, y: usize) -> &mut Row {
        self.damage.row(y);
        self.grid_mut().row_mut(y)
    }

    /// The blank an erase leaves: the pen's background.
    #[inline]
    fn blank(&self) -> Cell {
        Cell::erased(self.cursor.pen.bg)
    }

    /// The right edge the cursor obeys: the right margin when the cursor is
    /// left of it, else the screen edge.
    #[inline]
    fn right_edge(&self) -> usize {
        if self.cursor.x <= self.region.right() { self.region.right() } else { self.cols - 1 }
    }

    /// The left edge the cursor obeys (see [`Self::right_edge`]).
    #[inline]
    fn left_edge(&self) -> usize {
        if self.cursor.x >= self.region.left() { self.region.left() } else { 0 }
    }

    fn inside_margins(&self) -> bool {
        self.region.contains_row(self.cursor.y) && self.region.contains_col(self.cursor.x)
    }

    fn full_width(&self) -> bool {
        self.region.is_full_width(self.cols)
    }

    // ---- cursor motion ------------------------------------------------

    /// Moves to absolute screen coordinates, clamped.
    fn goto(&mut self, x: usize, y: usize) {
        self.cursor.x = x.min(self.cols - 1);
        self.cursor.y = y.min(self.rows - 1);
        self.cursor.pending_wrap = false;
    }

    /// CUP: moves to 0-based `(x, y)`, relative to the margins in origin mode.
    fn goto_origin(&mut self, x: usize, y: usize) {
        if self.modes.origin {
            let x = (self.region.left() + x).min(self.region.right());
            let y = (self.region.top() + y).min(self.region.bottom());
            self.goto(x, y);
        } else {
            self.goto(x, y);
        }
    }

    /// CHA/HPA: column only.
    fn goto_col(&mut self, x: usize) {
        if self.modes.origin {
            self.goto((self.region.left() + x).min(self.region.right()), self.cursor.y);
        } else {
            self.goto(x, self.cursor.y);
        }
    }

    /// VPA: row only.
    fn goto_row(&mut self, y: usize) {
        if self.modes.origin {
            self.goto(self.cursor.x, (self.region.top() + y).min(self.region.bottom()));
        } else {
            self.goto(self.cursor.x, y);
        }
    }

    /// CUU: up, stopping at the top margin when starting below it.
    fn up(&mut self, n: usize) {
        let limit = if self.cursor.y >= self.region.top() { self.region.top() } else { 0 };
        let y = self.cursor.y.saturating_sub(n).max(limit);
        self.goto(self.cursor.x, y);
    }

    /// CUD: down, stopping at the bottom margin when starting above it.
    fn down(&mut self, n: usize) {
        let limit = if self.cursor.y <= self.region.bottom() { self.region.bottom() } else { self.rows - 1 };
        let y = self.cursor.y.saturating_add(n).min(limit);
        self.goto(self.cursor.x, y);
    }

    /// CUF: right, stopping at the right margin.
    fn forward(&mut self, n: usize) {
        let limit = self.right_edge();
        let x = self.cursor.x.saturating_add(n).min(limit);
        self.goto(x, self.cursor.y);
    }

    /// CUB: left, stopping at the left margin; with reverse wraparound
    /// (DECSET 45 and DECAWM) it continues at the end of the previous row.
    fn backward(&mut self, n: usize) {
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
            let top = if self.cursor.y >= self.region.top() { self.region.top() } else { 0 };
            if self.cursor.y > top {
                self.cursor.y -= 1;
            } else if self.cursor.y == self.region.top() {
                // xterm wraps from the top margin to the bottom one.
                self.cursor.y = self.region.bottom();
            } else {
                break;
            }
            self.cursor.x = self.right_edge();
        }
    }

    /// BS: CUB 1.
    fn backspace(&mut self) {
        self.backward(1);
    }

    /// CR: to the left margin (or column 0 when left of it).
    fn carriage_return(&mut self) {
        let x = self.left_edge();
        self.goto(x, self.cursor.y);
    }

    /// IND and LF: down one row, scrolling the region at the bottom margin.
    fn index(&mut self) {
        self.cursor.pending_wrap = false;
        if self.cursor.y == self.region.bottom() {
            if self.region.contains_col(self.cursor.x) {
                self.scroll_up(1);
            }
        } else if self.cursor.y + 1 < self.rows {
            self.cursor.y += 1;
        }
    }

    /// RI: up one row, scrolling the region down at the top margin.
    fn reverse_index(&mut self) {
        self.cursor.pending_wrap = false;
        if self.cursor.y == self.region.top() {
            if self.region.contains_col(self.cursor.x) {
                self.scroll_down(1);
            }
        } else if self.cursor.y > 0 {
            self.cursor.y -= 1;
        }
    }

    /// DECFI: right one column, scrolling the margins' columns left at the
    /// right margin.
    fn forward_index(&mut self) {
        if self.cursor.x == self.region.right() {
            if self.region.contains_row(self.cursor.y) {
                self.shift_columns(self.region.left(), -1);
            }
        } else if self.cursor.x + 1 < self.cols {
            self.goto(self.cursor.x + 1, self.cursor.y);
        }
    }

    /// DECBI: left one column, scrolling right at the left margin.
    fn back_index(&mut self) {
        if self.cursor.x == self.region.left() {
            if self.region.contains_row(self.cursor.y) {
                self.shift_columns(self.region.left(), 1);
            }
        } else if self.cursor.x > 0 {
            self.goto(self.cursor.x - 1, self.cursor.y);
        }
    }

    /// HT and CHT: to the n-th next tab stop, stopping at the right edge.
    fn tab(&mut self, n: usize) {
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
    fn back_tab(&mut self, n: usize) {
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

    fn reset_tabs(&mut self) {
        self.tabs = (0..self.cols).map(|x| x % 8 == 0 && x > 0).collect();
    }

    // ---- scrolling ----------------------------------------------------

    /// SU: scrolls the margin region up by `n` rows.
    fn scroll_up(&mut self, n: usize) {
        self.scroll_region_up(self.region.top(), self.region.bottom(), n);
    }

    /// SD: scrolls the margin region down by `n` rows.
    fn scroll_down(&mut self, n: usize) {
        self.scroll_region_down(self.region.top(), self.region.bottom(), n);
    }

    /// Moves rows `top..=bottom` (within the left/right margins) up by `n`.
    fn scroll_region_up(&mut self, top: usize, bottom: usize, n: usize) {
        let n = n.min(bottom + 1 - top);
        if n == 0 {
            return;
        }
        let blank = self.blank();
        if !self.full_width() {
            let (l, r) = (self.region.left(), self.region.right());
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
    fn scroll_region_down(&mut self, top: usize, bottom: usize, n: usize) {
        let n = n.min(bottom + 1 - top);
        if n == 0 {
            return;
        }
        let blank = self.blank();
        if !self.full_width() {
            let (l, r) = (self.region.left(), self.region.right());
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
    fn shift_columns(&mut self, from: usize, delta: isize) {
        let blank = self.blank();
        let right = self.region.right();
        if from > right {
            return;
        }
        let n = delta.unsigned_abs().min(right + 1 - from);
        for y in self.region.top()..=self.region.bottom() {
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
    fn insert_chars(&mut self, n: usize) {
        if !self.region.contains_col(self.cursor.x) {
            return;
        }
        let (x, y, right) = (self.cursor.x, self.cursor.y, self.region.right());
        self.shift_right(y, x, right, n);
        self.cursor.pending_wrap = false;
    }

    /// DCH: deletes `n` characters at the cursor, pulling the rest left.
    fn delete_chars(&mut self, n: usize) {
        if !self.region.contains_col(self.cursor.x) {
            return;
        }
        let (x, y, right) = (self.cursor.x, self.cursor.y, self.region.right());
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
    fn erase_chars(&mut self, n: usize) {
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
    fn insert_lines(&mut self, n: usize) {
        if !self.inside_margins() {
            return;
        }
        self.scroll_region_down(self.cursor.y, self.region.bottom(), n);
        self.cursor.x = self.region.left();
        self.cursor.pending_wrap = false;
    }

    /// DL: deletes `n` lines at the cursor row within the margins.
    fn delete_lines(&mut self, n: usize) {
        if !self.inside_margins() {
            return;
        }
        self.scroll_region_up(self.cursor.y, self.region.bottom(), n);
        self.cursor.x = self.region.left();
        self.cursor.pending_wrap = false;
    }

    /// Erases cells `from..to` of row `y`; `selective` keeps protected ones.
    fn erase_span(&mut self, y: usize, from: usize, to: usize, selective: bool) {
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
    fn erase_line(&mut self, mode: u16, selective: bool) {
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
    fn erase_display(&mut self, mode: u16, selective: bool) {
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
    fn alignment_test(&mut self) {
        self.region = Region::full(self.cols, self.rows);
        self.modes.origin = false;
        let e = Cell { c: 'E', ..Cell::BLANK };
        for y in 0..self.rows {
            super::cell::fill(self.row_mut(y).cells_mut(), e);
        }
        self.goto(0, 0);
    }

    // ---- margins ------------------------------------------------------

    /// DECSTBM with 1-based bounds (0 = default); ignored unless top < bottom.
    fn set_top_bottom(&mut self, top: usize, bottom: usize) {
        let top = top.max(1) - 1;
        let bottom = if bottom == 0 { self.rows } else { bottom.min(self.rows) } - 1;
        if top < bottom {
            self.region.set_rows(top, bottom);
            self.goto_origin(0, 0);
        }
    }

    /// DECSLRM with 1-based bounds; only while DECLRMM is set.
    fn set_left_right(&mut self, left: usize, right: usize) {
        if !self.modes.left_right_margins {
            return;
        }
        let left = left.max(1) - 1;
        let right = if right == 0 { self.cols } else { right.min(self.cols) } - 1;
        if left < right {
            self.region.set_cols(left, right);
            self.goto_origin(0, 0);
        }
    }

    fn reset_margins(&mut self) {
        self.region = Region::full(self.cols, self.rows);
    }

    // ---- save / restore, screens --------------------------------------

    /// DECSC.
    fn save_cursor(&mut self) {
        self.saved[self.alt as usize] = Saved { cursor: self.cursor, origin: self.modes.origin };
    }

    /// DECRC: restores what DECSC saved (or homes the cursor with default
    /// attributes when nothing was saved).
    fn restore_cursor(&mut self) {
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
    fn enter_alt(&mut self, clear: bool) {
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
    fn leave_alt(&mut self, clear: bool) {
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
    fn soft_reset(&mut self) {
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
    fn full_reset(&mut self) {
        if self.window.deccolm() {
            self.resize(80, self.rows);
            self.window.note_size_request();
        }
        let (cols, rows) = (self.cols, self.rows);
        let primary = std::mem::replace(&mut self.primary, Storage::new(1, 1, 0));
        let mut window = self.window;
        window.reset();
        let replies = std::mem::take(&mut self.replies);
        let mut clipboard = std::mem::take(&mut self.clipboard);
        clipboard.forget_stored();
        *self = Screen::new(cols, rows, 0);
        self.primary = primary;
        let blank = Cell::BLANK;
        for y in 0..rows {
            self.primary.row_mut(y).reset(blank);
        }
        self.window = window;
        self.replies = replies;
        self.clipboard = clipboard;
        self.titles.mark_changed();
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
        let new_main_y = self.primary.resize(cols, rows, true, main_y.min(self.rows - 1));
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
