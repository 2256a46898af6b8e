//! The vte [`Perform`] layer: decodes control functions into [`Screen`]
//! operations. Anything unknown or malformed is skipped.

use vte::{Params, Perform};

use super::{DCS_MAX, Dcs, MAX_COLS, MAX_ROWS, Protection, Screen};
use crate::args::Args;
use crate::cell::{Color, Flags};
use crate::charset::Charset;

impl Perform for Screen {
    /// Stops the parser after a CSI or ESC sequence: it is then in its
    /// ground state and the text that follows can skip it.
    #[inline(always)]
    fn terminated(&self) -> bool {
        self.dispatched
    }

    #[inline]
    fn print(&mut self, c: char) {
        Screen::print(self, c);
    }

    fn execute(&mut self, byte: u8) {
        self.flush();
        match byte {
            0x07 => self.bells += 1,
            0x08 => self.backspace(),
            0x09 => self.tab(1),
            0x0a..=0x0c => {
                self.index();
                if self.modes.newline {
                    self.carriage_return();
                }
            }
            0x0d => self.carriage_return(),
            0x0e => self.cursor.charsets.gl = 1,
            0x0f => self.cursor.charsets.gl = 0,
            // C1 controls as bytes are not controls in UTF-8 (xterm agrees).
            _ => {}
        }
    }

    fn hook(&mut self, _params: &Params, intermediates: &[u8], ignore: bool, action: char) {
        self.flush();
        self.dcs = match (intermediates, action) {
            _ if ignore => Dcs::None,
            (b"$", 'q') => Dcs::Decrqss(Vec::new()),
            (b"+", 'q') => Dcs::Termcap(Vec::new()),
            _ => Dcs::None,
        };
    }

    fn put(&mut self, byte: u8) {
        match &mut self.dcs {
            Dcs::Decrqss(buf) | Dcs::Termcap(buf) if buf.len() < DCS_MAX => buf.push(byte),
            _ => {}
        }
    }

    fn unhook(&mut self) {
        match std::mem::take(&mut self.dcs) {
            Dcs::Decrqss(buf) => self.report_decrqss(&buf),
            Dcs::Termcap(buf) => self.report_termcap(&buf),
            Dcs::None => {}
        }
    }

    fn osc_dispatch(&mut self, params: &[&[u8]], bell_terminated: bool) {
        self.flush();
        self.osc(params, bell_terminated);
    }

    fn csi_dispatch(&mut self, params: &Params, intermediates: &[u8], ignore: bool, action: char) {
        self.flush();
        self.dispatched = true;
        if ignore {
            return;
        }
        match (intermediates, action) {
            (b"", 'm') => self.sgr(params.iter()),
            (b"$", 'r') => self.change_attributes(params, false),
            (b"$", 't') => self.change_attributes(params, true),
            _ => self.csi(&Args::new(params), intermediates, action),
        }
    }

    fn esc_dispatch(&mut self, intermediates: &[u8], ignore: bool, byte: u8) {
        self.flush();
        self.dispatched = true;
        if ignore {
            return;
        }
        match (intermediates, byte) {
            (b"", b'7') => self.save_cursor(),
            (b"", b'8') => self.restore_cursor(),
            (b"", b'6') => self.back_index(),
            (b"", b'9') => self.forward_index(),
            (b"", b'D') => self.index(),
            (b"", b'E') => {
                self.index();
                self.carriage_return();
            }
            (b"", b'H') => self.set_tab(),
            (b"", b'M') => self.reverse_index(),
            (b"", b'N') => self.cursor.charsets.single = Some(2),
            (b"", b'O') => self.cursor.charsets.single = Some(3),
            (b"", b'Z') => self.report_da1(),
            (b"", b'c') => self.full_reset(),
            (b"", b'n') => self.cursor.charsets.gl = 2,
            (b"", b'o') => self.cursor.charsets.gl = 3,
            (b"", b'V') => {
                self.cursor.pen.flags.insert(Flags::PROTECTED);
                self.protection = Protection::Iso;
            }
            (b"", b'W') => self.cursor.pen.flags.remove(Flags::PROTECTED),
            (b"", b'=') => self.modes.app_keypad = true,
            (b"", b'>') => self.modes.app_keypad = false,
            (b"#", b'8') => self.alignment_test(),
            (b" ", b'F') => self.c1_8bit = false,
            (b" ", b'G') => self.c1_8bit = self.conformance > 61,
            ([i @ b'('..=b'+'], f) => self.designate((i - b'(') as usize, f),
            ([i @ b'-'..=b'/'], f) => self.designate((i - b',') as usize, f),
            _ => {}
        }
    }
}

impl Screen {
    /// A plain CSI sequence that the text path found ([`Args::plain_csi`]).
    pub(super) fn plain_csi(&mut self, a: &Args, action: char) {
        match action {
            'm' => self.sgr(a.as_params()),
            _ => self.csi(a, b"", action),
        }
    }

    /// A CSI sequence other than those that take sub-parameters (SGR,
    /// DECCARA, DECRARA), its parameters flattened: from the parser, or
    /// straight from the ground state's text path ([`Self::plain_csi`]).
    pub(super) fn csi(&mut self, a: &Args, intermediates: &[u8], action: char) {
        match (intermediates, action) {
            (b"", '@') => self.insert_chars(a.n(0)),
            (b" ", '@') => self.scroll_columns(-(a.n(0) as isize)),
            (b" ", 'A') => self.scroll_columns(a.n(0) as isize),
            (b"", 'A') => self.up(a.n(0)),
            (b"", 'B') => self.down(a.n(0)),
            (b"", 'C') => self.forward(a.n(0)),
            (b"", 'D') => self.backward(a.n(0)),
            (b"", 'E') => {
                self.down(a.n(0));
                self.carriage_return();
            }
            (b"", 'F') => {
                self.up(a.n(0));
                self.carriage_return();
            }
            (b"", 'G') | (b"", '`') => self.goto_col(a.n(0) - 1),
            (b"", 'H') | (b"", 'f') => self.goto_origin(a.n(1) - 1, a.n(0) - 1),
            (b"", 'I') => self.tab(a.n(0)),
            (b"", 'J') => self.erase_display(a.get(0), false),
            (b"?", 'J') => self.erase_display(a.get(0), true),
            (b"", 'K') => self.erase_line(a.get(0), false),
            (b"?", 'K') => self.erase_line(a.get(0), true),
            (b"", 'L') => self.insert_lines(a.n(0)),
            (b"", 'M') => self.delete_lines(a.n(0)),
            (b"", 'P') => self.delete_chars(a.n(0)),
            (b"", 'S') => self.scroll_up(a.n(0)),
            (b"", 'T') if a.len() <= 1 => self.scroll_down(a.n(0)),
            (b"", 'X') => self.erase_chars(a.n(0)),
            (b"", 'Z') => self.back_tab(a.n(0)),
            (b"", 'a') => self.forward_unbounded(a.n(0)),
            (b"", 'b') => self.repeat(a.n(0)),
            (b"", 'c') if a.get(0) == 0 => self.report_da1(),
            (b">", 'c') if a.get(0) == 0 => self.report_da2(),
            (b"=", 'c') if a.get(0) == 0 => self.report_da3(),
            (b"", 'd') => self.goto_row(a.n(0) - 1),
            (b"", 'e') => self.down_unbounded(a.n(0)),
            (b"", 'g') => self.clear_tabs(a.get(0)),
            (b"?", 'W') if a.get(0) == 5 => self.reset_tabs(),
            (b"", 'h') => a.iter().for_each(|m| self.set_ansi_mode(m, true)),
            (b"", 'l') => a.iter().for_each(|m| self.set_ansi_mode(m, false)),
            (b"?", 'h') => a.iter().for_each(|m| self.set_private_mode(m, true)),
            (b"?", 'l') => a.iter().for_each(|m| self.set_private_mode(m, false)),
            (b"?", 's') => a.iter().for_each(|m| self.save_private_mode(m)),
            (b"?", 'r') => a.iter().for_each(|m| self.restore_private_mode(m)),
            (b"", 'n') => self.report_dsr(a.get(0)),
            (b"?", 'n') if a.get(0) == 63 => self.report_memory_checksum(a.get(1)),
            (b"?", 'n') => self.report_dec_dsr(a.get(0)),
            (b"!", 'p') => self.soft_reset(),
            (b"\"", 'p') => self.set_conformance(a.get(0), a.get(1)),
            (b"$", 'p') if self.conformance >= 63 => self.report_ansi_mode(a.get(0)),
            (b"?$", 'p') if self.conformance >= 63 => self.report_private_mode(a.get(0)),
            (b"\"", 'q') => self.set_protection(a.get(0)),
            (b" ", 'q') if a.get(0) <= 6 => self.cursor_style.set_decscusr(a.get(0) as u8),
            (b"", 'r') => self.set_top_bottom(a.get(0) as usize, a.get(1) as usize),
            (b"", 's') => {
                if self.modes.left_right_margins && self.conformance >= 64 {
                    self.set_left_right(a.get(0) as usize, a.get(1) as usize);
                } else {
                    self.save_cursor();
                }
            }
            (b"", 't') => self.window_op(a),
            (b">", 't') => a.iter().for_each(|m| self.titles.set_mode(m, true)),
            (b">", 'T') => a.iter().for_each(|m| self.titles.set_mode(m, false)),
            (b"", 'u') => self.restore_cursor(),
            (b"$", 'v') => self.copy_rect(a),
            (b"$", 'x') => self.fill_rect(a),
            (b"$", 'z') => self.erase_rect(a, false),
            (b"$", '{') => self.erase_rect(a, true),
            (b"*", 'x') if a.get(0) <= 2 => self.attr_extent = a.get(0),
            (b"$", '~') if a.get(0) <= 2 => self.status_display = a.get(0),
            (b"*", '|') => self.request_size(self.cols, a.or(0, self.rows as u16)),
            (b"$", '|') if self.modes.allow_column_switch => {
                self.request_size(if a.get(0) == 132 { 132 } else { 80 }, self.rows)
            }
            (b"*", 'y') => self.report_checksum(a),
            (b"'", '}') => self.insert_columns(a.n(0)),
            (b"'", '~') => self.delete_columns(a.n(0)),
            _ => {}
        }
    }
    fn designate(&mut self, slot: usize, final_byte: u8) {
        if let Some(g) = self.cursor.charsets.g.get_mut(slot) {
            *g = Charset::from_final(final_byte);
        }
    }

    fn set_tab(&mut self) {
        let x = self.cursor.x;
        if let Some(t) = self.tabs.get_mut(x) {
            *t = true;
        }
    }

    /// TBC: 0 clears the stop at the cursor, 3 all of them.
    fn clear_tabs(&mut self, mode: u16) {
        match mode {
            0 => {
                let x = self.cursor.x;
                self.tabs[x] = false;
            }
            3 => self.tabs.fill(false),
            _ => {}
        }
    }

    /// HPR: right, ignoring the margins.
    fn forward_unbounded(&mut self, n: usize) {
        let x = self.cursor.x.saturating_add(n);
        self.goto(x, self.cursor.y);
    }

    /// VPR: down, ignoring the margins.
    fn down_unbounded(&mut self, n: usize) {
        let y = self.cursor.y.saturating_add(n);
        self.goto(self.cursor.x, y);
    }

    /// SL/SR: shifts the columns of the margin rectangle.
    fn scroll_columns(&mut self, delta: isize) {
        self.shift_columns(self.region.left(), delta);
    }

    /// DECIC: inserts columns at the cursor inside the margins.
    fn insert_columns(&mut self, n: usize) {
        if self.region.contains_col(self.cursor.x) && self.region.contains_row(self.cursor.y) {
            self.shift_columns(self.cursor.x, n as isize);
        }
    }

    /// DECDC: deletes columns at the cursor inside the margins.
    fn delete_columns(&mut self, n: usize) {
        if self.region.contains_col(self.cursor.x) && self.region.contains_row(self.cursor.y) {
            self.shift_columns(self.cursor.x, -(n as isize));
        }
    }

    /// DECSCA: 1 makes new characters protected from selective erase.
    fn set_protection(&mut self, ps: u16) {
        match ps {
            1 => {
                self.cursor.pen.flags.insert(Flags::PROTECTED);
                self.protection = Protection::Dec;
            }
            0 | 2 => self.cursor.pen.flags.remove(Flags::PROTECTED),
            _ => {}
        }
    }

    /// DECSCL: conformance level 61–65 and 7/8-bit replies; a soft reset.
    fn set_conformance(&mut self, level: u16, bits: u16) {
        if !(61..=65).contains(&level) {
            return;
        }
        self.soft_reset();
        self.conformance = level as u8;
        self.c1_8bit = level > 61 && bits != 1;
    }

    /// XTWINOPS: reports, title stack, window state and resizes. The
    /// "display" is `MAX_COLS` x `MAX_ROWS` cells.
    fn window_op(&mut self, a: &Args) {
        let (cw, ch) = self.window.cell_pixels();
        match a.get(0) {
            1 => self.window.iconify(false),
            2 => self.window.iconify(true),
            3 => self.window.move_to(a.get(1), a.get(2)),
            4 => {
                let rows = match a.get(1) {
                    0 => MAX_ROWS,
                    h => h as usize / ch,
                };
                let cols = match a.get(2) {
                    0 => MAX_COLS,
                    w => w as usize / cw,
                };
                self.request_size(cols, rows);
            }
            8 => {
                let rows = match a.get(1) {
                    0 => MAX_ROWS,
                    h => h as usize,
                };
                let cols = match a.get(2) {
                    0 => MAX_COLS,
                    w => w as usize,
                };
                self.request_size(cols, rows);
            }
            9 => match a.get(1) {
                0 => self.unmaximize(),
                1 => self.maximize(MAX_COLS, MAX_ROWS),
                2 => self.maximize(self.cols, MAX_ROWS),
                3 => self.maximize(MAX_COLS, self.rows),
                _ => {}
            },
            10 => match a.get(1) {
                0 => self.unmaximize(),
                1 => self.maximize(MAX_COLS, MAX_ROWS),
                2 if self.window.is_maximized() => self.unmaximize(),
                2 => self.maximize(MAX_COLS, MAX_ROWS),
                _ => {}
            },
            22 => self.titles.push(),
            23 => self.titles.pop(a.get(1)),
            n if n >= 24 => self.request_size(self.cols, n as usize),
            n => self.report_window(n),
        }
    }

    fn maximize(&mut self, cols: usize, rows: usize) {
        self.window.remember_size(self.cols, self.rows);
        self.request_size(cols, rows);
    }

    fn unmaximize(&mut self) {
        if let Some((cols, rows)) = self.window.take_restore_size() {
            self.request_size(cols, rows);
        }
    }

    fn request_size(&mut self, cols: usize, rows: usize) {
        let cols = cols.clamp(1, MAX_COLS);
        let rows = rows.clamp(1, MAX_ROWS);
        if (cols, rows) != (self.cols, self.rows) {
            self.resize(cols, rows);
            self.window.note_size_request();
        }
    }

    /// SGR.
    /// SGR, each parameter with its sub-parameters (`38:2::r:g:b`).
    fn sgr<'a>(&mut self, params: impl Iterator<Item = &'a [u16]>) {
        let pen = &mut self.cursor.pen;
        let mut it = params.peekable();
        if it.peek().is_none() {
            pen.fg = Color::Default;
            pen.bg = Color::Default;
            pen.flags.remove(Flags::SGR);
            return;
        }
        while let Some(p) = it.next() {
            let code = p.first().copied().unwrap_or(0);
            match code {
                0 => {
                    pen.fg = Color::Default;
                    pen.bg = Color::Default;
                    pen.flags.remove(Flags::SGR);
                }
                1 => pen.flags.insert(Flags::BOLD),
                2 => pen.flags.insert(Flags::DIM),
                3 => pen.flags.insert(Flags::ITALIC),
                4 => {
                    pen.flags.remove(Flags::ANY_UNDERLINE);
                    match p.get(1).copied().unwrap_or(1) {
                        0 => {}
                        1 => pen.flags.insert(Flags::UNDERLINE),
                        2 => pen.flags.insert(Flags::DOUBLE_UNDERLINE),
                        _ => pen.flags.insert(Flags::CURLY_UNDERLINE),
                    }
                }
                5 | 6 => pen.flags.insert(Flags::BLINK),
                7 => pen.flags.insert(Flags::INVERSE),
                8 => pen.flags.insert(Flags::HIDDEN),
                9 => pen.flags.insert(Flags::STRIKE),
                21 => {
                    pen.flags.remove(Flags::ANY_UNDERLINE);
                    pen.flags.insert(Flags::DOUBLE_UNDERLINE);
                }
                22 => pen.flags.remove(Flags::BOLD.or(Flags::DIM)),
                23 => pen.flags.remove(Flags::ITALIC),
                24 => pen.flags.remove(Flags::ANY_UNDERLINE),
                25 => pen.flags.remove(Flags::BLINK),
                27 => pen.flags.remove(Flags::INVERSE),
                28 => pen.flags.remove(Flags::HIDDEN),
                29 => pen.flags.remove(Flags::STRIKE),
                30..=37 => pen.fg = Color::Indexed((code - 30) as u8),
                38 => {
                    if let Some(c) = extended_color(p, &mut it) {
                        pen.fg = c;
                    }
                }
                39 => pen.fg = Color::Default,
                40..=47 => pen.bg = Color::Indexed((code - 40) as u8),
                48 => {
                    if let Some(c) = extended_color(p, &mut it) {
                        pen.bg = c;
                    }
                }
                49 => pen.bg = Color::Default,
                53 => pen.flags.insert(Flags::OVERLINE),
                55 => pen.flags.remove(Flags::OVERLINE),
                58 => {
                    // Underline colour: parsed so that its arguments are not
                    // taken as attributes, not drawn.
                    let _ = extended_color(p, &mut it);
                }
                90..=97 => pen.fg = Color::Indexed((code - 90 + 8) as u8),
                100..=107 => pen.bg = Color::Indexed((code - 100 + 8) as u8),
                _ => {}
            }
        }
    }
}

/// The colour of SGR 38/48/58, in the colon form (sub-parameters of `p`) or
/// the semicolon form (the next parameters of `it`).
fn extended_color<'a>(p: &[u16], it: &mut impl Iterator<Item = &'a [u16]>) -> Option<Color> {
    let byte = |v: u16| v.min(255) as u8;
    if p.len() > 1 {
        return match p[1] {
            5 => p.get(2).map(|&i| Color::Indexed(byte(i))),
            2 => {
                // 38:2:R:G:B or 38:2:CS:R:G:B
                let rgb = if p.len() >= 6 { &p[3..6] } else { p.get(2..5)? };
                Some(Color::Rgb(byte(rgb[0]), byte(rgb[1]), byte(rgb[2])))
            }
            _ => None,
        };
    }
    let mut next = || it.next().and_then(|q| q.first().copied());
    match next()? {
        5 => next().map(|i| Color::Indexed(byte(i))),
        2 => {
            let r = next()?;
            let g = next()?;
            let b = next()?;
            Some(Color::Rgb(byte(r), byte(g), byte(b)))
        }
        _ => None,
    }
}
