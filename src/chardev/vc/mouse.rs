//! The pointer as xterm reports it: a VNC viewer's pointer events (a pixel
//! position and a button mask) turned into the mouse reports a program asked
//! for with DECSET 9/1000/1002/1003, in its encoding (default, UTF-8, SGR 1006,
//! urxvt 1015).

use crate::term::{Modes, MouseEncoding, MouseTracking};

use super::keys::Modifiers;

/// RFB's button mask bits.
const LEFT: u8 = 1;
const MIDDLE: u8 = 2;
const RIGHT: u8 = 4;
/// Wheel up and down arrive as a press and a release of these.
pub const WHEEL_UP: u8 = 8;
/// See [`WHEEL_UP`].
pub const WHEEL_DOWN: u8 = 16;

/// One viewer's pointer as last reported, to tell presses, releases and motion.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pointer {
    /// RFB button mask last seen.
    pub buttons: u8,
    /// Cell last seen (column, row).
    pub cell: (u16, u16),
}

/// What a pointer event means for the terminal.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PointerOutcome {
    /// Mouse reports to send to the program.
    pub reports: Vec<u8>,
    /// Wheel steps when the program takes no mouse reports: negative is up
    /// (towards history).
    pub wheel: i32,
    /// The middle button went down while the program takes no reports: paste.
    pub paste: bool,
}

/// Handles a pointer event at `cell` with RFB button mask `buttons`.
pub fn pointer_event(
    pointer: &mut Pointer,
    cell: (u16, u16),
    buttons: u8,
    mods: Modifiers,
    modes: &Modes,
) -> PointerOutcome {
    let pressed = buttons & !pointer.buttons;
    let released = pointer.buttons & !buttons;
    let moved = cell != pointer.cell;
    *pointer = Pointer { buttons, cell };
    let mut outcome = PointerOutcome::default();

    if modes.mouse == MouseTracking::Off {
        outcome.wheel = i32::from(pressed & WHEEL_DOWN != 0) - i32::from(pressed & WHEEL_UP != 0);
        outcome.paste = pressed & MIDDLE != 0;
        return outcome;
    }

    let x10 = modes.mouse == MouseTracking::X10;
    let modifier_bits =
        if x10 { 0 } else { 4 * u8::from(mods.shift) + 8 * u8::from(mods.alt) + 16 * u8::from(mods.ctrl) };
    let mut report = |code: u8, release: bool| {
        encode(&mut outcome.reports, code | modifier_bits, cell, release, modes.mouse_encoding)
    };

    for (bit, code) in [(LEFT, 0), (MIDDLE, 1), (RIGHT, 2), (WHEEL_UP, 64), (WHEEL_DOWN, 65)] {
        if pressed & bit != 0 {
            report(code, false);
        }
        // Wheel "buttons" have no release; X10 reports presses only.
        if released & bit != 0 && code < 64 && !x10 {
            report(code, true);
        }
    }
    let held = buttons & (LEFT | MIDDLE | RIGHT);
    let report_motion = match modes.mouse {
        MouseTracking::AnyMotion => true,
        MouseTracking::ButtonMotion => held != 0,
        _ => false,
    };
    if moved && report_motion && pressed == 0 && released == 0 {
        let code = match held {
            0 => 3,
            b if b & LEFT != 0 => 0,
            b if b & MIDDLE != 0 => 1,
            _ => 2,
        };
        report(32 + code, false);
    }
    outcome
}

/// Appends one report: `code` is xterm's button code with modifier and motion bits.
fn encode(out: &mut Vec<u8>, code: u8, (col, row): (u16, u16), release: bool, encoding: MouseEncoding) {
    let (x, y) = (u32::from(col) + 1, u32::from(row) + 1);
    match encoding {
        MouseEncoding::Sgr => out
            .extend_from_slice(format!("\x1b[<{code};{x};{y}{}", if release { 'm' } else { 'M' }).as_bytes()),
        MouseEncoding::Urxvt => {
            let code = if release { 3 | (code & !3) } else { code };
            out.extend_from_slice(format!("\x1b[{};{x};{y}M", 32 + u32::from(code)).as_bytes());
        }
        MouseEncoding::Default | MouseEncoding::Utf8 => {
            let code = if release { 3 | (code & !3) } else { code };
            let utf8 = encoding == MouseEncoding::Utf8;
            // The default encoding cannot say a position past 223.
            let limit = if utf8 { 2015 } else { 223 };
            if x > limit || y > limit {
                return;
            }
            out.extend_from_slice(b"\x1b[M");
            out.push(32 + code);
            for v in [x, y] {
                let v = 32 + v;
                match char::from_u32(v) {
                    Some(c) if utf8 => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                    _ => out.push(v as u8),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modes(mouse: MouseTracking, mouse_encoding: MouseEncoding) -> Modes {
        Modes { mouse, mouse_encoding, ..Modes::default() }
    }

    fn send(p: &mut Pointer, cell: (u16, u16), buttons: u8, m: &Modes) -> PointerOutcome {
        pointer_event(p, cell, buttons, Modifiers::default(), m)
    }

    #[test]
    fn without_tracking_the_wheel_scrolls_and_the_middle_button_pastes() {
        let m = Modes::default();
        let mut p = Pointer::default();
        assert_eq!(send(&mut p, (0, 0), WHEEL_UP, &m).wheel, -1);
        assert_eq!(send(&mut p, (0, 0), 0, &m).wheel, 0, "a wheel release is nothing");
        assert_eq!(send(&mut p, (0, 0), WHEEL_DOWN, &m).wheel, 1);
        assert!(send(&mut p, (0, 0), MIDDLE, &m).paste);
        assert!(send(&mut p, (3, 3), MIDDLE, &m).reports.is_empty());
    }

    #[test]
    fn normal_tracking_reports_presses_and_releases() {
        let m = modes(MouseTracking::Normal, MouseEncoding::Default);
        let mut p = Pointer::default();
        assert_eq!(send(&mut p, (4, 2), LEFT, &m).reports, vec![0x1b, b'[', b'M', 32, 37, 35]);
        assert_eq!(send(&mut p, (5, 2), LEFT, &m).reports, b"", "no motion without 1002");
        assert_eq!(send(&mut p, (5, 2), 0, &m).reports, vec![0x1b, b'[', b'M', 35, 38, 35]);
        assert_eq!(send(&mut p, (0, 0), WHEEL_UP, &m).reports, vec![0x1b, b'[', b'M', 96, 33, 33]);
    }

    #[test]
    fn sgr_reports_say_which_button_was_released() {
        let m = modes(MouseTracking::ButtonMotion, MouseEncoding::Sgr);
        let mut p = Pointer::default();
        assert_eq!(send(&mut p, (9, 4), RIGHT, &m).reports, b"\x1b[<2;10;5M");
        assert_eq!(send(&mut p, (10, 4), RIGHT, &m).reports, b"\x1b[<34;11;5M", "drag");
        assert_eq!(send(&mut p, (10, 4), 0, &m).reports, b"\x1b[<2;11;5m");
        assert_eq!(send(&mut p, (11, 4), 0, &m).reports, b"", "no motion without a button in 1002");
        let ctrl = Modifiers { ctrl: true, ..Modifiers::default() };
        assert_eq!(pointer_event(&mut p, (0, 0), WHEEL_DOWN, ctrl, &m).reports, b"\x1b[<81;1;1M");
    }

    #[test]
    fn any_motion_reports_bare_moves() {
        let m = modes(MouseTracking::AnyMotion, MouseEncoding::Sgr);
        let mut p = Pointer::default();
        assert_eq!(send(&mut p, (1, 1), 0, &m).reports, b"\x1b[<35;2;2M");
    }

    #[test]
    fn x10_reports_presses_only() {
        let m = modes(MouseTracking::X10, MouseEncoding::Default);
        let mut p = Pointer::default();
        assert_eq!(send(&mut p, (0, 0), LEFT, &m).reports, vec![0x1b, b'[', b'M', 32, 33, 33]);
        assert!(send(&mut p, (0, 0), 0, &m).reports.is_empty());
    }
}
