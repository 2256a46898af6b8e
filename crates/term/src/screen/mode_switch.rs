//! Mode switches: SM/RM (ANSI modes), DECSET/DECRST (DEC private modes),
//! XTSAVE/XTRESTORE, and the state DECRQM reports for each mode.

use super::Screen;
use crate::modes::{INERT_PRIVATE_MODES, MouseEncoding, MouseTracking};

impl Screen {
    /// SM (`on`) and RM: ANSI mode `mode`.
    pub(super) fn set_ansi_mode(&mut self, mode: u16, on: bool) {
        match mode {
            2 => self.modes.keyboard_locked = on,
            4 => self.modes.insert = on,
            12 => self.modes.send_receive = on,
            20 => self.modes.newline = on,
            _ => {}
        }
    }

    /// The state of ANSI mode `mode`, `None` when we do not know it.
    pub(super) fn ansi_mode(&self, mode: u16) -> Option<bool> {
        Some(match mode {
            2 => self.modes.keyboard_locked,
            4 => self.modes.insert,
            12 => self.modes.send_receive,
            20 => self.modes.newline,
            _ => return None,
        })
    }

    /// DECSET (`on`) and DECRST: DEC private mode `mode`, with what
    /// switching it does beyond the flag (the alternate screen, DECCOLM,
    /// margins …).
    pub(super) fn set_private_mode(&mut self, mode: u16, on: bool) {
        let m = &mut self.modes;
        match mode {
            1 => m.app_cursor = on,
            3 => self.column_switch(on),
            5 if m.reverse_video != on => {
                m.reverse_video = on;
                self.damage.all();
            }
            6 => {
                m.origin = on;
                self.goto_origin(0, 0);
            }
            7 => {
                m.autowrap = on;
                if !on {
                    self.cursor.pending_wrap = false;
                }
            }
            9 => m.mouse = if on { MouseTracking::X10 } else { MouseTracking::Off },
            12 => self.cursor_style.set_blink_mode(on),
            25 => m.cursor_visible = on,
            40 => m.allow_column_switch = on,
            45 => m.reverse_wrap = on,
            47 => {
                if on {
                    self.enter_alt(false)
                } else {
                    self.leave_alt(false)
                }
            }
            66 => m.app_keypad = on,
            67 => m.backarrow_sends_bs = on,
            69 => {
                m.left_right_margins = on;
                if !on {
                    self.region.set_cols(0, self.cols - 1);
                }
            }
            95 if self.conformance >= 65 => m.no_clear_on_column_switch = on,
            1000 => m.mouse = if on { MouseTracking::Normal } else { MouseTracking::Off },
            1002 => m.mouse = if on { MouseTracking::ButtonMotion } else { MouseTracking::Off },
            1003 => m.mouse = if on { MouseTracking::AnyMotion } else { MouseTracking::Off },
            1004 => m.focus_events = on,
            1005 | 1006 | 1015 => {
                let enc = match mode {
                    1005 => MouseEncoding::Utf8,
                    1006 => MouseEncoding::Sgr,
                    _ => MouseEncoding::Urxvt,
                };
                if on {
                    m.mouse_encoding = enc;
                } else if m.mouse_encoding == enc {
                    m.mouse_encoding = MouseEncoding::Default;
                }
            }
            1007 => m.alternate_scroll = on,
            1047 => {
                if on {
                    self.enter_alt(false)
                } else {
                    self.leave_alt(true)
                }
            }
            1048 => {
                if on {
                    self.save_cursor()
                } else {
                    self.restore_cursor()
                }
            }
            1049 => {
                if on {
                    if !self.alt {
                        self.save_cursor();
                    }
                    self.enter_alt(true);
                } else if self.alt {
                    self.leave_alt(false);
                    self.restore_cursor();
                }
            }
            2004 => m.bracketed_paste = on,
            2026 => m.synchronized_output = on,
            _ if INERT_PRIVATE_MODES.contains(&mode) => {
                self.inert_on.retain(|&x| x != mode);
                if on {
                    self.inert_on.push(mode);
                }
            }
            _ => {}
        }
    }

    /// The state of DEC private mode `mode`, `None` when we do not know it.
    pub(super) fn private_mode(&self, mode: u16) -> Option<bool> {
        let m = &self.modes;
        Some(match mode {
            1 => m.app_cursor,
            3 => self.cols == 132,
            5 => m.reverse_video,
            6 => m.origin,
            7 => m.autowrap,
            9 => m.mouse == MouseTracking::X10,
            12 => self.cursor_style.blink_mode(),
            25 => m.cursor_visible,
            40 => m.allow_column_switch,
            45 => m.reverse_wrap,
            47 | 1047 => self.alt,
            1049 => self.alt,
            66 => m.app_keypad,
            67 => m.backarrow_sends_bs,
            69 => m.left_right_margins,
            95 => m.no_clear_on_column_switch,
            1000 => m.mouse == MouseTracking::Normal,
            1002 => m.mouse == MouseTracking::ButtonMotion,
            1003 => m.mouse == MouseTracking::AnyMotion,
            1004 => m.focus_events,
            1005 => m.mouse_encoding == MouseEncoding::Utf8,
            1006 => m.mouse_encoding == MouseEncoding::Sgr,
            1015 => m.mouse_encoding == MouseEncoding::Urxvt,
            1007 => m.alternate_scroll,
            1048 => false,
            2004 => m.bracketed_paste,
            2026 => m.synchronized_output,
            _ if INERT_PRIVATE_MODES.contains(&mode) => self.inert_on.contains(&mode),
            _ => return None,
        })
    }

    /// XTSAVE.
    pub(super) fn save_private_mode(&mut self, mode: u16) {
        if let Some(on) = self.private_mode(mode) {
            self.saved_modes.retain(|&(m, _)| m != mode);
            if self.saved_modes.len() < 256 {
                self.saved_modes.push((mode, on));
            }
        }
    }

    /// XTRESTORE.
    pub(super) fn restore_private_mode(&mut self, mode: u16) {
        if let Some(&(_, on)) = self.saved_modes.iter().find(|&&(m, _)| m == mode) {
            self.set_private_mode(mode, on);
        }
    }

    /// DECCOLM: 132 (set) or 80 columns, when DECSET 40 allows it.
    fn column_switch(&mut self, wide: bool) {
        if !self.modes.allow_column_switch {
            return;
        }
        let cols = if wide { 132 } else { 80 };
        self.window.set_deccolm(wide);
        self.resize(cols, self.rows);
        self.window.note_size_request();
        self.reset_margins();
        if !self.modes.no_clear_on_column_switch {
            self.erase_display(2, false);
        }
        self.goto(0, 0);
    }
}
