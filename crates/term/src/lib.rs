//! The terminal emulator behind the vc backend: bytes in (the vte parser),
//! a grid of cells out, plus the replies programs wait for.
//!
//! The aim is xterm's behaviour cell for cell: scroll regions and left/right
//! margins, the alternate screen, xterm's pending wrap, DEC line drawing,
//! 256 and direct colours, rectangle operations, and answers to DA, DSR/CPR,
//! DECRQM, DECRQSS, XTWINOPS, DECRQCRA and colour queries.
//!
//! Pure library code: no I/O, no async, no pixels. [`Terminal`] is the whole
//! interface; the modules below each do one job.

mod args;
mod bytes;
mod cell;
mod charset;
mod clipboard;
mod colors;
mod cursor_style;
mod damage;
mod dump;
mod hex;
mod history;
mod modes;
mod palette;
mod region;
mod screen;
mod storage;
mod titles;
mod width;
mod window;

pub use cell::{Cell, Color, Flags};
pub use clipboard::ClipboardEvent;
pub use cursor_style::CursorShape;
pub use damage::{Damage, Scroll};
pub use modes::{Modes, MouseEncoding, MouseTracking};
pub use palette::{Rgb, Theme};

use std::borrow::Cow;

use screen::Screen;

/// Where the cursor is and how to draw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CursorState {
    /// Column, 0-based.
    pub col: u16,
    /// Row of the view, 0-based (moves down while the view is scrolled back).
    pub row: u16,
    /// Block, underline or bar (DECSCUSR).
    pub shape: CursorShape,
    /// Whether it blinks (DECSCUSR, DECSET 12).
    pub blinking: bool,
    /// DECTCEM is set and the cursor's row is in view.
    pub visible: bool,
}

/// A row of the history, or of the screen below it, named for good: lines
/// scrolled into the history and lines falling off its end leave the name
/// on the same line. A view scrolled back into the history is anchored to the
/// line at its top, so that new output does not move it (as in xterm).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineMark(u64);

/// A terminal emulator: feed it the console's output with [`advance`], read
/// the screen, send [`take_replies`] back to the console.
///
/// [`advance`]: Terminal::advance
/// [`take_replies`]: Terminal::take_replies
pub struct Terminal {
    parser: vte::Parser,
    screen: Screen,
    /// The parser is in its ground state with nothing pending, so plain
    /// text can be handled without it.
    ground: bool,
    /// In the ground state, the start of a UTF-8 character that the last
    /// input ended in the middle of.
    cut: CutChar,
}

/// The first bytes of a UTF-8 character split between two inputs, kept
/// while the parser is bypassed (the parser keeps its own otherwise).
#[derive(Default)]
struct CutChar {
    bytes: [u8; 4],
    len: usize,
}

impl Terminal {
    /// A terminal of `cols` x `rows` cells (at least 1 each) keeping up to
    /// `scrollback` lines of history.
    pub fn new(cols: u16, rows: u16, scrollback: usize) -> Terminal {
        Terminal {
            parser: vte::Parser::new(),
            screen: Screen::new(cols as usize, rows as usize, scrollback),
            ground: true,
            cut: CutChar::default(),
        }
    }

    /// Parses `bytes` and applies them to the screen. Any input is accepted;
    /// sequences split across calls are joined.
    pub fn advance(&mut self, bytes: &[u8]) {
        // Text (valid UTF-8) and C0 controls are handled directly while the
        // parser is known to be in its ground state; everything from an ESC
        // or an invalid byte on goes through vte, which is stopped again
        // right after the next CSI or ESC sequence (then it is in ground).
        // A character cut off at the end waits in `cut` for the next input.
        let mut i = if self.cut.len > 0 { self.finish_cut_char(bytes) } else { 0 };
        while i < bytes.len() {
            if self.ground {
                i += self.screen.ground_text(&bytes[i..]);
                if i == bytes.len() {
                    break;
                }
                if is_cut_off(&bytes[i..]) {
                    self.cut.bytes[..bytes.len() - i].copy_from_slice(&bytes[i..]);
                    self.cut.len = bytes.len() - i;
                    break;
                }
                self.ground = false;
            }
            self.screen.clear_dispatched();
            i += self.parser.advance_until_terminated(&mut self.screen, &bytes[i..]);
            self.ground = self.screen.take_dispatched();
        }
        self.screen.flush();
    }

    /// Completes the character the previous input was cut off in with the
    /// start of `bytes` and prints it; returns how many bytes that took.
    /// When the two do not make a valid character, the parser gets the cut
    /// bytes and takes over, as if it had seen them all along.
    fn finish_cut_char(&mut self, bytes: &[u8]) -> usize {
        let old = self.cut.len;
        let mut joined = self.cut.bytes;
        let taken = bytes.len().min(joined.len() - old);
        joined[old..old + taken].copy_from_slice(&bytes[..taken]);
        let joined = &joined[..old + taken];
        let valid = match std::str::from_utf8(joined) {
            Ok(s) => s,
            Err(e) if e.valid_up_to() > 0 => {
                std::str::from_utf8(&joined[..e.valid_up_to()]).unwrap_or_default()
            }
            Err(e) if e.error_len().is_none() => {
                // Still not whole: `bytes` was too short.
                self.cut.bytes[old..old + taken].copy_from_slice(&bytes[..taken]);
                self.cut.len = old + taken;
                return taken;
            }
            Err(_) => "",
        };
        self.cut.len = 0;
        match valid.chars().next() {
            Some(c) => {
                let len = c.len_utf8();
                self.screen.ground_text(&joined[..len]);
                len - old
            }
            None => {
                self.parser.advance(&mut self.screen, &joined[..old]);
                self.ground = false;
                0
            }
        }
    }

    /// Changes the size, keeping the content (wrapped lines are reflowed on
    /// the primary screen).
    pub fn resize(&mut self, cols: u16, rows: u16) {
        self.screen.resize(cols as usize, rows as usize);
    }

    /// Width in cells.
    pub fn cols(&self) -> u16 {
        self.screen.cols() as u16
    }

    /// Height in cells.
    pub fn rows(&self) -> u16 {
        self.screen.rows() as u16
    }

    /// Bytes the terminal wants sent back to the program (answers to DA, CPR,
    /// DECRQCRA …), in order; empties the queue.
    pub fn take_replies(&mut self) -> Vec<u8> {
        self.screen.take_replies()
    }

    /// A size the program set itself (XTWINOPS 8/4/DECSLPP, DECCOLM) since the
    /// last call: the owner should make the console's window size follow.
    pub fn take_size_request(&mut self) -> Option<(u16, u16)> {
        self.screen.take_size_request().then(|| (self.cols(), self.rows()))
    }

    /// The live screen as text: one line per row, each ending in `\n`,
    /// trailing blanks trimmed, a wide character once.
    pub fn screen_text(&self) -> String {
        let s = &self.screen;
        let mut out = String::with_capacity(s.rows() * (s.cols() + 1));
        let grid = s.grid();
        for y in 0..s.rows() {
            dump::row_text(grid.row(y).cells(), s.marks(), &mut out);
            out.push('\n');
        }
        out
    }

    /// The live screen as text with SGR colour and attribute sequences, one
    /// line per row, each ending in the default state and `\n`.
    pub fn screen_ansi(&self) -> String {
        let mut out = String::new();
        let s = &self.screen;
        let grid = s.grid();
        for y in 0..s.rows() {
            dump::row_ansi(grid.row(y).cells(), s.marks(), &mut out);
            out.push('\n');
        }
        out
    }

    /// Row `y` of the view (the live screen, or history when scrolled back
    /// with [`scroll_display`](Terminal::scroll_display)), always `cols`
    /// cells; `None` past the last row. History keeps only the written part
    /// of a line, so a history row is padded into a new buffer.
    pub fn row(&self, y: u16) -> Option<Cow<'_, [Cell]>> {
        let (y, s) = (y as usize, &self.screen);
        if y >= s.rows() {
            return None;
        }
        let cells = s.grid().view_cells(s.view_offset(), y);
        Some(if cells.len() == s.cols() {
            cells
        } else {
            let mut row = cells.into_owned();
            row.resize(s.cols(), Cell::BLANK);
            Cow::Owned(row)
        })
    }

    /// The combining marks drawn on `cell`, in order.
    pub fn marks(&self, cell: &Cell) -> &[char] {
        self.screen.marks().get(cell.marks)
    }

    /// The cursor, in view coordinates.
    pub fn cursor(&self) -> CursorState {
        let s = &self.screen;
        let (x, y) = s.cursor_position();
        let row = y + s.view_offset();
        let style = s.cursor_style();
        CursorState {
            col: x as u16,
            row: row.min(s.rows() - 1) as u16,
            shape: style.shape(),
            blinking: style.blinking(),
            visible: s.modes().cursor_visible && row < s.rows(),
        }
    }

    /// The modes the key/mouse mapping and the renderer need (DECCKM,
    /// DECKPAM, mouse, bracketed paste, DECSCNM …).
    pub fn modes(&self) -> &Modes {
        self.screen.modes()
    }

    /// Whether the alternate screen is shown.
    pub fn is_alternate_screen(&self) -> bool {
        self.screen.is_alt()
    }

    /// Rows changed and regions scrolled since the last call.
    pub fn take_damage(&mut self) -> Damage {
        self.screen.take_damage()
    }

    /// Sets the default colours (a vc's `theme=`): what the palette and the
    /// default foreground and background are before a program changes them,
    /// and what colour queries answer.
    pub fn set_theme(&mut self, theme: Theme) {
        self.screen.set_theme(theme);
    }

    /// Palette entry `index` as it is now: the theme's, or what OSC 4 made it.
    pub fn palette_color(&self, index: u8) -> Rgb {
        self.screen.colors().palette_color(index)
    }

    /// The default foreground and background as they are now (the theme's,
    /// or what OSC 10/11 made them), and the cursor's colour if OSC 12 set one.
    pub fn default_colors(&self) -> (Rgb, Rgb, Option<Rgb>) {
        self.screen.colors().default_colors()
    }

    /// The window title (OSC 0/2).
    pub fn title(&self) -> &str {
        self.screen.titles().title()
    }

    /// The title, if it changed since the last call.
    pub fn take_title_change(&mut self) -> Option<String> {
        self.screen.take_title_change()
    }

    /// Clipboard writes (OSC 52) since the last call, for the VNC server.
    pub fn take_clipboard(&mut self) -> Vec<ClipboardEvent> {
        self.screen.take_clipboard()
    }

    /// Number of BELs since the last call.
    pub fn take_bells(&mut self) -> usize {
        self.screen.take_bells()
    }

    /// Scrolls the view into history by `delta` rows (positive: back in time),
    /// clamped; the primary screen only. New output keeps the view still.
    pub fn scroll_display(&mut self, delta: isize) {
        self.screen.scroll_display(delta);
    }

    /// How many rows the view is scrolled back.
    pub fn display_offset(&self) -> usize {
        self.screen.display_offset()
    }

    /// Number of history rows kept.
    pub fn history_len(&self) -> usize {
        self.screen.primary().history()
    }

    /// The row at the top of a view scrolled back `offset` rows (clamped to
    /// the history), named so that [`view_offset`](Terminal::view_offset)
    /// finds it again after more output.
    pub fn view_top(&self, offset: usize) -> LineMark {
        let primary = self.screen.primary();
        let history = primary.history();
        LineMark(primary.history_dropped() + (history - offset.min(history)) as u64)
    }

    /// How far back a view must be scrolled for `top` to be its top row:
    /// further back as output pushes lines into the history; all the way
    /// back (the oldest line) once `top` itself fell off the history's end;
    /// 0, the live screen, once the history was cleared (ED 3).
    pub fn view_offset(&self, top: LineMark) -> usize {
        let primary = self.screen.primary();
        let history = primary.history();
        let screen_top = primary.history_dropped() + history as u64;
        screen_top.saturating_sub(top.0).min(history as u64) as usize
    }

    /// Runs `f` with the view scrolled back `offset` rows (clamped; the
    /// primary screen only), then puts the view back as it was. Unlike
    /// [`scroll_display`](Terminal::scroll_display) it records no damage:
    /// the damage stays with the renderer of the terminal's own view, while
    /// another renderer shows a view of its own (one viewer's, scrolled back).
    pub fn with_display_offset<R>(&mut self, offset: usize, f: impl FnOnce(&Terminal) -> R) -> R {
        let own = self.screen.look_back(offset);
        let result = f(self);
        self.screen.put_display_offset(own);
        result
    }

    /// Sets the pixel size of a cell that XTWINOPS reports (default 8x16).
    pub fn set_cell_pixels(&mut self, width: u16, height: u16) {
        self.screen.set_cell_pixels(width, height);
    }
}

/// Whether `rest` is the start of a valid UTF-8 character cut off by the end
/// of the input.
fn is_cut_off(rest: &[u8]) -> bool {
    rest.len() < 4
        && std::str::from_utf8(rest).is_err_and(|e| e.valid_up_to() == 0 && e.error_len().is_none())
}
