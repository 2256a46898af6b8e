//! Terminal modes set by SM/RM and DECSET/DECRST, as the VNC server's key and
//! mouse mapping and the renderer read them.

/// Which mouse events the program asked for (DECSET 9/1000/1002/1003).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MouseTracking {
    /// No reports.
    #[default]
    Off,
    /// X10 compatibility (9): button presses only.
    X10,
    /// Normal tracking (1000): presses and releases.
    Normal,
    /// Button-event tracking (1002): also motion while a button is down.
    ButtonMotion,
    /// Any-event tracking (1003): all motion.
    AnyMotion,
}

/// How mouse reports are encoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MouseEncoding {
    /// `CSI M Cb Cx Cy`, coordinates as bytes.
    #[default]
    Default,
    /// 1005: coordinates as UTF-8.
    Utf8,
    /// 1006: `CSI < b ; x ; y M/m`.
    Sgr,
    /// 1015: `CSI b ; x ; y M`.
    Urxvt,
}

/// Modes that change what the terminal sends or how it is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Modes {
    /// DECCKM (1): cursor keys send `ESC O A` instead of `ESC [ A`.
    pub app_cursor: bool,
    /// DECKPAM (`ESC =`) or DECNKM (66): the keypad sends application sequences.
    pub app_keypad: bool,
    /// DECSCNM (5): the whole screen is shown in reverse video.
    pub reverse_video: bool,
    /// DECOM (6): cursor addressing relative to the margins.
    pub origin: bool,
    /// DECAWM (7): wrap at the right margin.
    pub autowrap: bool,
    /// DECTCEM (25): the cursor is shown.
    pub cursor_visible: bool,
    /// Mouse tracking mode.
    pub mouse: MouseTracking,
    /// Mouse report encoding.
    pub mouse_encoding: MouseEncoding,
    /// 1004: send focus in/out.
    pub focus_events: bool,
    /// 1007: the wheel sends cursor keys on the alternate screen.
    pub alternate_scroll: bool,
    /// 2004: wrap pastes in `ESC [200~` … `ESC [201~`.
    pub bracketed_paste: bool,
    /// 2026: the program is drawing a frame; the renderer may wait for its end.
    pub synchronized_output: bool,
    /// IRM (4): printing inserts instead of replacing.
    pub insert: bool,
    /// LNM (20): LF also returns the carriage; Return sends CR LF.
    pub newline: bool,
    /// DECBKM (67): the backarrow key sends BS instead of DEL.
    pub backarrow_sends_bs: bool,
    /// DECLRMM (69): DECSLRM may set left/right margins.
    pub left_right_margins: bool,
    /// 45: backspace at the left margin goes to the end of the previous line.
    pub reverse_wrap: bool,
    /// 40: DECCOLM may switch between 80 and 132 columns.
    pub allow_column_switch: bool,
    /// 95 (DECNCSM): DECCOLM does not clear the screen.
    pub no_clear_on_column_switch: bool,
    /// SRM (12): local echo off (xterm reports it set).
    pub send_receive: bool,
    /// KAM (2): keyboard locked.
    pub keyboard_locked: bool,
}

impl Default for Modes {
    fn default() -> Modes {
        Modes {
            app_cursor: false,
            app_keypad: false,
            reverse_video: false,
            origin: false,
            autowrap: true,
            cursor_visible: true,
            mouse: MouseTracking::Off,
            mouse_encoding: MouseEncoding::Default,
            focus_events: false,
            alternate_scroll: false,
            bracketed_paste: false,
            synchronized_output: false,
            insert: false,
            newline: false,
            backarrow_sends_bs: false,
            left_right_margins: false,
            reverse_wrap: false,
            allow_column_switch: false,
            no_clear_on_column_switch: false,
            send_receive: true,
            keyboard_locked: false,
        }
    }
}

/// DEC private modes that are accepted and reported by DECRQM but change
/// nothing we emulate (smooth scroll, autorepeat, meta keys …).
pub(crate) const INERT_PRIVATE_MODES: &[u16] = &[
    2, 4, 10, 18, 19, 30, 35, 38, 41, 42, 44, 46, 80, 117, 1010, 1011, 1014, 1034, 1035, 1036, 1037, 1039,
    1040, 1041, 1042, 1043, 1044, 1045, 1046, 1050, 1051, 1052, 1053, 1060, 1061, 1070, 1243, 2001, 2002,
    2003, 2005, 2006, 8452,
];

/// Inert private modes that are set by default (xterm's defaults).
pub(crate) const INERT_DEFAULT_ON: &[u16] = &[2, 1040, 1046];

/// ANSI modes that exist but are permanently reset (DECRQM answers 4).
pub(crate) const PERMANENTLY_RESET_ANSI: &[u16] = &[1, 5, 7, 10, 11, 13, 14, 15, 16, 17, 18, 19];

/// DEC private modes that exist but are permanently reset (DECRQM answers 4).
pub(crate) const PERMANENTLY_RESET_PRIVATE: &[u16] = &[60];
