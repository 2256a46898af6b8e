//! The 256-colour palette, the dynamic colours, and the colour specs of
//! OSC 4/10/11 (`rgb:RR/GG/BB`, `#RGB`, a few X11 names).

/// An RGB triple.
pub type Rgb = (u8, u8, u8);

/// A colour with 16 bits per channel, as X11 specs carry and xterm reports.
pub(crate) type Rgb16 = [u16; 3];

/// Widens an 8-bit colour (0xab -> 0xabab).
pub(crate) fn widen((r, g, b): Rgb) -> Rgb16 {
    [r as u16 * 257, g as u16 * 257, b as u16 * 257]
}

/// Narrows a 16-bit colour to 8 bits per channel.
pub(crate) fn narrow(c: Rgb16) -> Rgb {
    ((c[0] >> 8) as u8, (c[1] >> 8) as u8, (c[2] >> 8) as u8)
}

/// xterm's default colour for palette entry `i`.
pub fn default_color(i: u8) -> Rgb {
    const BASE: [Rgb; 16] = [
        (0x00, 0x00, 0x00),
        (0xcd, 0x00, 0x00),
        (0x00, 0xcd, 0x00),
        (0xcd, 0xcd, 0x00),
        (0x00, 0x00, 0xee),
        (0xcd, 0x00, 0xcd),
        (0x00, 0xcd, 0xcd),
        (0xe5, 0xe5, 0xe5),
        (0x7f, 0x7f, 0x7f),
        (0xff, 0x00, 0x00),
        (0x00, 0xff, 0x00),
        (0xff, 0xff, 0x00),
        (0x5c, 0x5c, 0xff),
        (0xff, 0x00, 0xff),
        (0x00, 0xff, 0xff),
        (0xff, 0xff, 0xff),
    ];
    match i {
        0..=15 => BASE[i as usize],
        16..=231 => {
            let i = i - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + 40 * v };
            (level(i / 36), level((i / 6) % 6), level(i % 6))
        }
        _ => {
            let v = 8 + 10 * (i - 232);
            (v, v, v)
        }
    }
}

/// xterm's default foreground (10) and background (11).
pub const DEFAULT_FG: Rgb = (0x00, 0x00, 0x00);
/// See [`DEFAULT_FG`].
pub const DEFAULT_BG: Rgb = (0xff, 0xff, 0xff);

/// Formats a colour as xterm reports it: `rgb:rrrr/gggg/bbbb`.
pub(crate) fn format_rgb([r, g, b]: Rgb16) -> String {
    format!("rgb:{r:04x}/{g:04x}/{b:04x}")
}

/// Parses an X11 colour spec (`rgb:`, `#`, a few names) into the 8-bit
/// colour xterm allocates for it (reported widened); `None` when it is not
/// one we know.
pub(crate) fn parse_spec(spec: &[u8]) -> Option<Rgb16> {
    parse_spec16(spec).map(|c| widen(narrow(c)))
}

fn parse_spec16(spec: &[u8]) -> Option<Rgb16> {
    let s = std::str::from_utf8(spec).ok()?.trim();
    if let Some(rest) = s.strip_prefix("rgb:") {
        let mut parts = rest.split('/');
        let r = scale_hex(parts.next()?)?;
        let g = scale_hex(parts.next()?)?;
        let b = scale_hex(parts.next()?)?;
        return parts.next().is_none().then_some([r, g, b]);
    }
    if let Some(hex) = s.strip_prefix('#') {
        let n = hex.len();
        if n == 0 || n % 3 != 0 || n > 12 {
            return None;
        }
        let w = n / 3;
        return Some([shift_hex(&hex[..w])?, shift_hex(&hex[w..2 * w])?, shift_hex(&hex[2 * w..])?]);
    }
    named(&s.to_ascii_lowercase()).map(widen)
}

/// Scales 1–4 hex digits to 16 bits, as X11 does for `rgb:`.
fn scale_hex(h: &str) -> Option<u16> {
    if h.is_empty() || h.len() > 4 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let v = u32::from_str_radix(h, 16).ok()?;
    let max = (1u32 << (4 * h.len())) - 1;
    Some((v * 65535 / max) as u16)
}

/// Takes 1–4 hex digits as the high bits of 16, as X11 does for `#`.
fn shift_hex(h: &str) -> Option<u16> {
    if !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let v = u32::from_str_radix(h, 16).ok()?;
    Some((v << (16 - 4 * h.len())) as u16)
}

fn named(name: &str) -> Option<Rgb> {
    Some(match name {
        "black" => (0, 0, 0),
        "white" => (255, 255, 255),
        "red" => (255, 0, 0),
        "green" => (0, 255, 0),
        "blue" => (0, 0, 255),
        "yellow" => (255, 255, 0),
        "cyan" => (0, 255, 255),
        "magenta" => (255, 0, 255),
        "gray" | "grey" => (190, 190, 190),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(parse_spec(b"rgb:ff/80/0"), Some([0xffff, 0x8080, 0]));
        assert_eq!(parse_spec(b"rgb:ffff/0000/8000"), Some([0xffff, 0, 0x8080]));
        assert_eq!(parse_spec(b"#fff"), Some([0xf0f0, 0xf0f0, 0xf0f0]));
        assert_eq!(parse_spec(b"#800800800"), Some([0x8080, 0x8080, 0x8080]));
        assert_eq!(parse_spec(b"#aaaabbbbcccc"), Some([0xaaaa, 0xbbbb, 0xcccc]));
        assert_eq!(parse_spec(b"bogus"), None);
        assert_eq!(format_rgb(widen((0xcd, 0, 0x5c))), "rgb:cdcd/0000/5c5c");
    }

    #[test]
    fn cube_and_grays() {
        assert_eq!(default_color(16), (0, 0, 0));
        assert_eq!(default_color(231), (255, 255, 255));
        assert_eq!(default_color(232), (8, 8, 8));
        assert_eq!(default_color(255), (238, 238, 238));
    }
}
