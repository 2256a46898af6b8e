//! QEMU's key names (QKeyCode, what `send-key` and HMP's `sendkey` take) as
//! the X11 keysyms a VNC viewer would send for them on a US keyboard, so that
//! a key sent through the control socket is typed exactly as a viewer types it.

/// The keysym of a QKeyCode name, the modifiers held taken into account for
/// keys Shift changes (`shift` + `a` is `A`, as a viewer sends it).
pub fn keysym(name: &str, shift: bool) -> Option<u32> {
    if let Some(c) = single(name) {
        let c = if shift { shifted(c) } else { c };
        return Some(u32::from(c));
    }
    if let Some(n) = name.strip_prefix("f").and_then(|n| n.parse::<u32>().ok())
        && (1..=24).contains(&n)
    {
        return Some(0xffbe + n - 1);
    }
    if let Some(n) = name.strip_prefix("kp_").and_then(|n| n.parse::<u32>().ok())
        && n <= 9
    {
        return Some(0xffb0 + n);
    }
    Some(match name {
        "shift" => 0xffe1,
        "shift_r" => 0xffe2,
        "ctrl" => 0xffe3,
        "ctrl_r" => 0xffe4,
        "meta_l" => 0xffe7,
        "meta_r" => 0xffe8,
        "alt" => 0xffe9,
        "alt_r" => 0xffea,
        "caps_lock" => 0xffe5,
        "esc" => 0xff1b,
        "backspace" => 0xff08,
        "tab" => 0xff09,
        "ret" => 0xff0d,
        "spc" => u32::from(' '),
        "home" => 0xff50,
        "left" => 0xff51,
        "up" => 0xff52,
        "right" => 0xff53,
        "down" => 0xff54,
        "pgup" => 0xff55,
        "pgdn" => 0xff56,
        "end" => 0xff57,
        "insert" => 0xff63,
        "delete" => 0xffff,
        "print" => 0xff61,
        "sysrq" => 0xff15,
        "pause" => 0xff13,
        "scroll_lock" => 0xff14,
        "num_lock" => 0xff7f,
        "menu" => 0xff67,
        "kp_divide" => 0xffaf,
        "kp_multiply" | "asterisk" => 0xffaa,
        "kp_subtract" => 0xffad,
        "kp_add" => 0xffab,
        "kp_enter" => 0xff8d,
        "kp_decimal" => 0xffae,
        _ => return None,
    })
}

/// Whether a name is one of the Shift keys.
pub fn is_shift(name: &str) -> bool {
    matches!(name, "shift" | "shift_r")
}

/// The character a one-character key types unshifted.
fn single(name: &str) -> Option<char> {
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.next())
        && (c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        return Some(c);
    }
    Some(match name {
        "minus" => '-',
        "equal" => '=',
        "bracket_left" => '[',
        "bracket_right" => ']',
        "semicolon" => ';',
        "apostrophe" => '\'',
        "grave_accent" => '`',
        "backslash" => '\\',
        "comma" => ',',
        "dot" => '.',
        "slash" => '/',
        "less" => '<',
        _ => return None,
    })
}

/// What Shift makes of a key on a US keyboard.
fn shifted(c: char) -> char {
    const DIGITS: &[u8; 10] = b")!@#$%^&*(";
    match c {
        'a'..='z' => c.to_ascii_uppercase(),
        '0'..='9' => char::from(DIGITS[usize::from(c as u8 - b'0')]),
        '-' => '_',
        '=' => '+',
        '[' => '{',
        ']' => '}',
        ';' => ':',
        '\'' => '"',
        '`' => '~',
        '\\' => '|',
        ',' => '<',
        '.' => '>',
        '/' => '?',
        '<' => '>',
        c => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_qemus_and_shift_is_applied() {
        assert_eq!(keysym("ret", false), Some(0xff0d));
        assert_eq!(keysym("a", false), Some(u32::from('a')));
        assert_eq!(keysym("a", true), Some(u32::from('A')));
        assert_eq!(keysym("1", true), Some(u32::from('!')));
        assert_eq!(keysym("f12", false), Some(0xffc9));
        assert_eq!(keysym("kp_7", false), Some(0xffb7));
        assert_eq!(keysym("delete", false), Some(0xffff));
        assert_eq!(keysym("nosuchkey", false), None);
        assert!(is_shift("shift_r"));
    }
}
