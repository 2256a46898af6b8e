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

/// The colours a terminal starts with: its default foreground and background
/// and the first 16 entries of its palette (the rest is xterm's colour cube
/// and grey ramp under every theme). The terminal answers colour queries (OSC
/// 4/10/11) with them, so programs pick colours that suit what is shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Theme {
    /// A VM console's: light grey on black, as QEMU's vc, the Linux console,
    /// virt-manager and Proxmox show one. The Linux console's colours, with its
    /// dark red, dark blue and dark grey lifted until each of the 16 reads on
    /// black (a contrast of at least 3:1; the VGA blue was 1.6:1).
    #[default]
    Dark,
    /// xterm's: black on white, xterm's palette.
    Xterm,
}

impl std::str::FromStr for Theme {
    type Err = String;

    fn from_str(s: &str) -> Result<Theme, String> {
        match s {
            "dark" => Ok(Theme::Dark),
            "xterm" => Ok(Theme::Xterm),
            other => Err(format!("unknown theme '{other}' (dark or xterm)")),
        }
    }
}

impl Theme {
    /// The default foreground (OSC 10).
    pub fn foreground(self) -> Rgb {
        match self {
            Theme::Dark => LINUX[7],
            Theme::Xterm => (0x00, 0x00, 0x00),
        }
    }

    /// The default background (OSC 11).
    pub fn background(self) -> Rgb {
        match self {
            Theme::Dark => LINUX[0],
            Theme::Xterm => (0xff, 0xff, 0xff),
        }
    }

    /// Palette entry `i` before any OSC 4.
    pub fn color(self, i: u8) -> Rgb {
        match (self, i) {
            (Theme::Dark, 0..=15) => LINUX[usize::from(i)],
            (Theme::Xterm, 0..=15) => XTERM[usize::from(i)],
            (_, 16..=231) => {
                let i = i - 16;
                let level = |v: u8| if v == 0 { 0 } else { 55 + 40 * v };
                (level(i / 36), level((i / 6) % 6), level(i % 6))
            }
            (_, 232..=255) => {
                let v = 8 + 10 * (i - 232);
                (v, v, v)
            }
        }
    }
}

/// The dark theme's 16 colours: the Linux console's (`vt.c`'s default_red,
/// default_grn, default_blu), with 1, 4 and 8 lifted to read on black.
const LINUX: [Rgb; 16] = [
    (0x00, 0x00, 0x00),
    (0xc0, 0x30, 0x30),
    (0x00, 0xaa, 0x00),
    (0xaa, 0x55, 0x00),
    (0x33, 0x55, 0xdd),
    (0xaa, 0x00, 0xaa),
    (0x00, 0xaa, 0xaa),
    (0xaa, 0xaa, 0xaa),
    (0x66, 0x66, 0x66),
    (0xff, 0x55, 0x55),
    (0x55, 0xff, 0x55),
    (0xff, 0xff, 0x55),
    (0x55, 0x55, 0xff),
    (0xff, 0x55, 0xff),
    (0x55, 0xff, 0xff),
    (0xff, 0xff, 0xff),
];

/// xterm's 16 colours.
const XTERM: [Rgb; 16] = [
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

    /// WCAG's contrast ratio of two colours.
    fn contrast(a: Rgb, b: Rgb) -> f64 {
        let channel = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.03928 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        let luminance = |(r, g, b): Rgb| 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
        let (x, y) = (luminance(a) + 0.05, luminance(b) + 0.05);
        x.max(y) / x.min(y)
    }

    #[test]
    fn every_dark_colour_reads_on_the_dark_background() {
        let dark = Theme::Dark;
        assert!(contrast(dark.foreground(), dark.background()) >= 7.0);
        for i in 1..16 {
            let ratio = contrast(dark.color(i), dark.background());
            assert!(ratio >= 3.0, "colour {i} {:?}: {ratio:.2}:1 on black", dark.color(i));
        }
    }

    #[test]
    fn themes_share_the_cube_and_the_grey_ramp() {
        for i in 16..=255 {
            assert_eq!(Theme::Dark.color(i), Theme::Xterm.color(i));
        }
        assert_eq!(Theme::Xterm.color(4), (0, 0, 0xee));
        assert_eq!(Theme::Xterm.color(196), (255, 0, 0));
        assert_eq!("dark".parse(), Ok(Theme::Dark));
        assert!("solarized".parse::<Theme>().is_err());
    }

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
        assert_eq!(Theme::Xterm.color(16), (0, 0, 0));
        assert_eq!(Theme::Xterm.color(231), (255, 255, 255));
        assert_eq!(Theme::Xterm.color(232), (8, 8, 8));
        assert_eq!(Theme::Xterm.color(255), (238, 238, 238));
    }
}
