//! Keys as xterm sends them: an X11 keysym (what a VNC viewer reports) and the
//! modifiers held, turned into the bytes a program under the terminal expects,
//! honouring the terminal's modes (application cursor keys, application keypad,
//! LNM, DECBKM).

use crate::term::Modes;

/// The modifier keys one viewer holds down.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Modifiers {
    /// Either Shift.
    pub shift: bool,
    /// Either Control.
    pub ctrl: bool,
    /// Either Alt or Meta: sends an ESC prefix.
    pub alt: bool,
}

impl Modifiers {
    /// Notes a modifier key going down or up; returns whether `keysym` was one.
    pub fn update(&mut self, keysym: u32, down: bool) -> bool {
        let held = match keysym {
            SHIFT_L | SHIFT_R => &mut self.shift,
            CONTROL_L | CONTROL_R => &mut self.ctrl,
            ALT_L | ALT_R | META_L | META_R => &mut self.alt,
            _ => return false,
        };
        *held = down;
        true
    }

    /// xterm's modifier parameter: 1 + shift + 2·alt + 4·ctrl (1 means none).
    fn parameter(self) -> u8 {
        1 + u8::from(self.shift) + 2 * u8::from(self.alt) + 4 * u8::from(self.ctrl)
    }
}

const SHIFT_L: u32 = 0xffe1;
const SHIFT_R: u32 = 0xffe2;
const CONTROL_L: u32 = 0xffe3;
const CONTROL_R: u32 = 0xffe4;
const META_L: u32 = 0xffe7;
const META_R: u32 = 0xffe8;
const ALT_L: u32 = 0xffe9;
const ALT_R: u32 = 0xffea;

/// X11 keysyms of the keys with their own sequences.
pub mod keysym {
    /// BackSpace.
    pub const BACKSPACE: u32 = 0xff08;
    /// Tab.
    pub const TAB: u32 = 0xff09;
    /// Return.
    pub const RETURN: u32 = 0xff0d;
    /// Escape.
    pub const ESCAPE: u32 = 0xff1b;
    /// Home.
    pub const HOME: u32 = 0xff50;
    /// Left arrow.
    pub const LEFT: u32 = 0xff51;
    /// Up arrow.
    pub const UP: u32 = 0xff52;
    /// Right arrow.
    pub const RIGHT: u32 = 0xff53;
    /// Down arrow.
    pub const DOWN: u32 = 0xff54;
    /// Page Up (Prior).
    pub const PAGE_UP: u32 = 0xff55;
    /// Page Down (Next).
    pub const PAGE_DOWN: u32 = 0xff56;
    /// End.
    pub const END: u32 = 0xff57;
    /// Insert.
    pub const INSERT: u32 = 0xff63;
    /// Delete.
    pub const DELETE: u32 = 0xffff;
    /// Shift-Tab as X11 names it.
    pub const ISO_LEFT_TAB: u32 = 0xfe20;
    /// F1; F2…F12 follow.
    pub const F1: u32 = 0xffbe;
    /// The keypad's Enter.
    pub const KP_ENTER: u32 = 0xff8d;
}

/// The bytes for `keysym` pressed with `mods`, or `None` for keys that send
/// nothing (modifiers alone, unknown keysyms).
pub fn encode_key(keysym: u32, mods: Modifiers, modes: &Modes) -> Option<Vec<u8>> {
    use keysym::*;
    let param = mods.parameter();
    let bytes = match keysym {
        KP_ENTER if modes.app_keypad => b"\x1bOM".to_vec(),
        RETURN | KP_ENTER => with_alt(mods, if modes.newline { b"\r\n" } else { b"\r" }),
        BACKSPACE => {
            let bs = modes.backarrow_sends_bs != mods.ctrl;
            with_alt(mods, if bs { b"\x08" } else { b"\x7f" })
        }
        TAB if mods.shift => b"\x1b[Z".to_vec(),
        ISO_LEFT_TAB => b"\x1b[Z".to_vec(),
        TAB => with_alt(mods, b"\t"),
        ESCAPE => with_alt(mods, b"\x1b"),
        UP | DOWN | RIGHT | LEFT | HOME | END => {
            let letter = match keysym {
                UP => b'A',
                DOWN => b'B',
                RIGHT => b'C',
                LEFT => b'D',
                HOME => b'H',
                _ => b'F',
            };
            cursor_key(letter, param, modes.app_cursor)
        }
        INSERT => tilde(2, param),
        DELETE => tilde(3, param),
        PAGE_UP => tilde(5, param),
        PAGE_DOWN => tilde(6, param),
        F1..=0xffc9 => function_key((keysym - F1) as u8, param),
        0xff95..=0xff9f => keypad_navigation(keysym, mods, modes)?,
        0xffaa..=0xffb9 | 0xffbd => keypad_key(keysym, mods, modes)?,
        _ => return printable(keysym, mods),
    };
    Some(bytes)
}

/// A paste as xterm sends it: line ends as CR, control characters other than
/// tab and CR dropped (so pasted text cannot smuggle escape sequences), wrapped in
/// `CSI 200~` … `CSI 201~` when the program asked for bracketed paste (2004).
pub fn encode_paste(text: &str, modes: &Modes) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 12);
    if modes.bracketed_paste {
        out.extend_from_slice(b"\x1b[200~");
    }
    let text = text.replace("\r\n", "\r");
    for c in text.chars() {
        match c {
            '\n' => out.push(b'\r'),
            '\t' | '\r' => out.push(c as u8),
            c if c.is_control() => {}
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    if modes.bracketed_paste {
        out.extend_from_slice(b"\x1b[201~");
    }
    out
}

/// ESC prefix when Alt is held.
fn with_alt(mods: Modifiers, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 1);
    if mods.alt {
        out.push(0x1b);
    }
    out.extend_from_slice(bytes);
    out
}

/// Arrows, Home, End: `CSI x`, `SS3 x` in application mode, `CSI 1;m x` with modifiers.
fn cursor_key(letter: u8, param: u8, app: bool) -> Vec<u8> {
    match (param, app) {
        (1, true) => vec![0x1b, b'O', letter],
        (1, false) => vec![0x1b, b'[', letter],
        (m, _) => format!("\x1b[1;{m}{}", letter as char).into_bytes(),
    }
}

/// Editing keys: `CSI n ~`, `CSI n;m ~` with modifiers.
fn tilde(n: u8, param: u8) -> Vec<u8> {
    match param {
        1 => format!("\x1b[{n}~").into_bytes(),
        m => format!("\x1b[{n};{m}~").into_bytes(),
    }
}

/// F1…F12 (index 0…11) as xterm sends them.
fn function_key(index: u8, param: u8) -> Vec<u8> {
    const TILDE_CODES: [u8; 8] = [15, 17, 18, 19, 20, 21, 23, 24];
    match index {
        0..=3 => {
            let letter = (b'P' + index) as char;
            match param {
                1 => format!("\x1bO{letter}").into_bytes(),
                m => format!("\x1b[1;{m}{letter}").into_bytes(),
            }
        }
        _ => tilde(TILDE_CODES[usize::from(index - 4)], param),
    }
}

/// The keypad's Home, arrows, PgUp… with NumLock off: as the main keys.
fn keypad_navigation(keysym: u32, mods: Modifiers, modes: &Modes) -> Option<Vec<u8>> {
    use keysym::*;
    let main = match keysym {
        0xff95 => HOME,
        0xff96 => LEFT,
        0xff97 => UP,
        0xff98 => RIGHT,
        0xff99 => DOWN,
        0xff9a => PAGE_UP,
        0xff9b => PAGE_DOWN,
        0xff9c => END,
        0xff9e => INSERT,
        0xff9f => DELETE,
        // KP_Begin (the keypad's 5) sends nothing.
        _ => return None,
    };
    encode_key(main, mods, modes)
}

/// The keypad's digits and operators: characters, or `SS3 x` in application
/// keypad mode (DECKPAM).
fn keypad_key(keysym: u32, mods: Modifiers, modes: &Modes) -> Option<Vec<u8>> {
    let (plain, app) = match keysym {
        0xffb0..=0xffb9 => (b'0' + (keysym - 0xffb0) as u8, b'p' + (keysym - 0xffb0) as u8),
        0xffaa => (b'*', b'j'),
        0xffab => (b'+', b'k'),
        0xffac => (b',', b'l'),
        0xffad => (b'-', b'm'),
        0xffae => (b'.', b'n'),
        0xffaf => (b'/', b'o'),
        0xffbd => (b'=', b'X'),
        _ => return None,
    };
    Some(if modes.app_keypad { vec![0x1b, b'O', app] } else { with_alt(mods, &[plain]) })
}

/// Latin-1 and Unicode keysyms as UTF-8, with Ctrl making C0 controls and Alt
/// an ESC prefix.
fn printable(keysym: u32, mods: Modifiers) -> Option<Vec<u8>> {
    let c = match keysym {
        0x20..=0x7e | 0xa0..=0xff => char::from_u32(keysym)?,
        0x0100_0100..=0x0110_ffff => char::from_u32(keysym - 0x0100_0000)?,
        _ => return None,
    };
    if mods.ctrl
        && let Some(control) = control_code(c)
    {
        return Some(with_alt(mods, &[control]));
    }
    let mut utf8 = [0u8; 4];
    Some(with_alt(mods, c.encode_utf8(&mut utf8).as_bytes()))
}

/// Ctrl with a key: the C0 control xterm sends, if the key has one.
fn control_code(c: char) -> Option<u8> {
    Some(match c {
        'a'..='z' | 'A'..='Z' => (c as u8) & 0x1f,
        '@' | ' ' | '2' => 0x00,
        '[' | '3' => 0x1b,
        '\\' | '4' => 0x1c,
        ']' | '5' => 0x1d,
        '^' | '6' | '~' => 0x1e,
        '_' | '7' | '-' | '/' => 0x1f,
        '8' | '?' => 0x7f,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::keysym::*;
    use super::*;

    fn key(keysym: u32, mods: Modifiers, modes: &Modes) -> Vec<u8> {
        encode_key(keysym, mods, modes).unwrap_or_default()
    }

    const NONE: Modifiers = Modifiers { shift: false, ctrl: false, alt: false };
    const CTRL: Modifiers = Modifiers { shift: false, ctrl: true, alt: false };
    const ALT: Modifiers = Modifiers { shift: false, ctrl: false, alt: true };
    const SHIFT: Modifiers = Modifiers { shift: true, ctrl: false, alt: false };

    #[test]
    fn printable_keys_are_utf8() {
        let m = Modes::default();
        assert_eq!(key(b'a'.into(), NONE, &m), b"a");
        assert_eq!(key(0xe9, NONE, &m), "é".as_bytes());
        assert_eq!(key(0x0100_20ac, NONE, &m), "€".as_bytes());
        assert_eq!(key(0x0100_4e2d, NONE, &m), "中".as_bytes());
    }

    #[test]
    fn ctrl_makes_c0_and_alt_prefixes_escape() {
        let m = Modes::default();
        assert_eq!(key(b'c'.into(), CTRL, &m), [0x03]);
        assert_eq!(key(b'C'.into(), CTRL, &m), [0x03]);
        assert_eq!(key(b'['.into(), CTRL, &m), [0x1b]);
        assert_eq!(key(b' '.into(), CTRL, &m), [0x00]);
        assert_eq!(key(b'x'.into(), ALT, &m), b"\x1bx");
        assert_eq!(key(RETURN, ALT, &m), b"\x1b\r");
    }

    #[test]
    fn editing_keys_follow_xterm() {
        let mut m = Modes::default();
        assert_eq!(key(RETURN, NONE, &m), b"\r");
        assert_eq!(key(BACKSPACE, NONE, &m), b"\x7f");
        assert_eq!(key(TAB, NONE, &m), b"\t");
        assert_eq!(key(TAB, SHIFT, &m), b"\x1b[Z");
        assert_eq!(key(ISO_LEFT_TAB, SHIFT, &m), b"\x1b[Z");
        assert_eq!(key(ESCAPE, NONE, &m), b"\x1b");
        assert_eq!(key(INSERT, NONE, &m), b"\x1b[2~");
        assert_eq!(key(DELETE, NONE, &m), b"\x1b[3~");
        assert_eq!(key(PAGE_UP, NONE, &m), b"\x1b[5~");
        assert_eq!(key(PAGE_DOWN, CTRL, &m), b"\x1b[6;5~");
        m.newline = true;
        assert_eq!(key(RETURN, NONE, &m), b"\r\n");
        m.backarrow_sends_bs = true;
        assert_eq!(key(BACKSPACE, NONE, &m), b"\x08");
    }

    #[test]
    fn arrows_honour_application_cursor_mode_and_modifiers() {
        let mut m = Modes::default();
        assert_eq!(key(UP, NONE, &m), b"\x1b[A");
        assert_eq!(key(HOME, NONE, &m), b"\x1b[H");
        assert_eq!(key(END, NONE, &m), b"\x1b[F");
        m.app_cursor = true;
        assert_eq!(key(UP, NONE, &m), b"\x1bOA");
        assert_eq!(key(LEFT, NONE, &m), b"\x1bOD");
        assert_eq!(key(RIGHT, CTRL, &m), b"\x1b[1;5C");
        assert_eq!(key(DOWN, SHIFT, &m), b"\x1b[1;2B");
    }

    #[test]
    fn function_keys() {
        let m = Modes::default();
        let all: Vec<Vec<u8>> = (0..12).map(|i| key(F1 + i, NONE, &m)).collect();
        let want: [&[u8]; 12] = [
            b"\x1bOP",
            b"\x1bOQ",
            b"\x1bOR",
            b"\x1bOS",
            b"\x1b[15~",
            b"\x1b[17~",
            b"\x1b[18~",
            b"\x1b[19~",
            b"\x1b[20~",
            b"\x1b[21~",
            b"\x1b[23~",
            b"\x1b[24~",
        ];
        assert_eq!(all, want.map(<[u8]>::to_vec));
        assert_eq!(key(F1, SHIFT, &m), b"\x1b[1;2P");
        assert_eq!(key(F1 + 4, CTRL, &m), b"\x1b[15;5~");
    }

    #[test]
    fn the_keypad_has_an_application_mode() {
        let mut m = Modes::default();
        assert_eq!(key(0xffb7, NONE, &m), b"7");
        assert_eq!(key(KP_ENTER, NONE, &m), b"\r");
        assert_eq!(key(0xff97, NONE, &m), b"\x1b[A", "KP_Up");
        m.app_keypad = true;
        assert_eq!(key(0xffb7, NONE, &m), b"\x1bOw");
        assert_eq!(key(KP_ENTER, NONE, &m), b"\x1bOM");
        assert_eq!(key(0xffab, NONE, &m), b"\x1bOk");
    }

    #[test]
    fn pastes_are_sanitised_and_bracketed_on_request() {
        let mut m = Modes::default();
        assert_eq!(encode_paste("ls\r\nrm -rf /\x1b[201~\n", &m), b"ls\rrm -rf /[201~\r");
        m.bracketed_paste = true;
        assert_eq!(encode_paste("a\tb", &m), b"\x1b[200~a\tb\x1b[201~");
    }

    #[test]
    fn modifiers_are_tracked_and_send_nothing() {
        let mut mods = Modifiers::default();
        assert!(mods.update(CONTROL_L, true));
        assert!(mods.ctrl);
        assert!(mods.update(ALT_R, true));
        assert!(mods.update(CONTROL_L, false));
        assert_eq!(mods, ALT);
        assert!(!mods.update(b'a'.into(), true));
        assert_eq!(encode_key(SHIFT_L, NONE, &Modes::default()), None);
    }
}
