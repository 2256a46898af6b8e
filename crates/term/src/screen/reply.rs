//! Answers to the queries programs send and then wait on: device attributes,
//! status and cursor reports, mode and setting requests, window reports,
//! colour queries and the DECRQCRA checksum.

use std::fmt::Write as _;

use super::{MAX_COLS, MAX_ROWS, Screen};
use crate::args::Args;
use crate::cell::{Color, Flags};
use crate::colors::{DYNAMIC_LEN, PALETTE_LEN};
use crate::hex;
use crate::modes::{PERMANENTLY_RESET_ANSI, PERMANENTLY_RESET_PRIVATE};
use crate::palette;

/// xterm's patch level we claim in DA2.
const XTERM_VERSION: u32 = 379;

impl Screen {
    fn c1(&mut self, seven_bit: &[u8], eight_bit: u8) {
        if self.c1_8bit {
            self.replies.push(eight_bit);
        } else {
            self.replies.extend_from_slice(seven_bit);
        }
    }

    /// Appends `CSI body`.
    pub(super) fn reply_csi(&mut self, body: &str) {
        self.c1(b"\x1b[", 0x9b);
        self.replies.extend_from_slice(body.as_bytes());
    }

    fn string_terminator(&mut self, bel: bool) {
        if bel {
            self.replies.push(0x07);
        } else {
            self.c1(b"\x1b\\", 0x9c);
        }
    }

    /// Appends `DCS body ST`.
    fn reply_dcs(&mut self, body: &str) {
        self.c1(b"\x1bP", 0x90);
        self.replies.extend_from_slice(body.as_bytes());
        self.string_terminator(false);
    }

    /// Appends `OSC body ST` (or BEL when the query ended with BEL).
    fn reply_osc(&mut self, body: &str, bel: bool) {
        self.c1(b"\x1b]", 0x9d);
        self.replies.extend_from_slice(body.as_bytes());
        self.string_terminator(bel);
    }

    /// DA1: a VT520-class terminal with xterm's feature list.
    pub(super) fn report_da1(&mut self) {
        let body = match self.conformance {
            61 => "?1;2c".to_string(),
            62 | 63 => format!("?{};1;2;6;9;15;22;29c", self.conformance),
            l => format!("?{l};1;2;6;9;15;16;17;18;21;22;28;29c"),
        };
        self.reply_csi(&body);
    }

    /// DA2: xterm's identification.
    pub(super) fn report_da2(&mut self) {
        let id = match self.conformance {
            61 => 0,
            62 => 1,
            63 => 24,
            64 => 41,
            _ => 64,
        };
        self.reply_csi(&format!(">{id};{XTERM_VERSION};0c"));
    }

    /// DA3: the unit id.
    pub(super) fn report_da3(&mut self) {
        self.reply_dcs("!|00000000");
    }

    /// DSR 5 (status) and 6 (cursor position).
    pub(super) fn report_dsr(&mut self, ps: u16) {
        match ps {
            5 => self.reply_csi("0n"),
            6 => {
                let (x, y) = self.reported_cursor();
                self.reply_csi(&format!("{y};{x}R"));
            }
            _ => {}
        }
    }

    /// The cursor as CPR reports it: 1-based, relative to the margins in
    /// origin mode.
    fn reported_cursor(&self) -> (usize, usize) {
        let (mut x, mut y) = (self.cursor.x, self.cursor.y);
        if self.modes.origin {
            x = x.saturating_sub(self.region.left());
            y = y.saturating_sub(self.region.top());
        }
        (x + 1, y + 1)
    }

    /// DEC-private DSRs.
    pub(super) fn report_dec_dsr(&mut self, ps: u16) {
        match ps {
            6 => {
                let (x, y) = self.reported_cursor();
                self.reply_csi(&format!("?{y};{x};1R"));
            }
            15 => self.reply_csi("?13n"),
            25 => self.reply_csi("?20n"),
            26 => self.reply_csi("?27;1;0;0n"),
            53 | 55 => self.reply_csi("?50n"),
            56 => self.reply_csi("?57;0n"),
            62 => self.reply_csi("0*{"),
            75 => self.reply_csi("?70n"),
            85 => self.reply_csi("?83n"),
            _ => {}
        }
    }

    /// DECDSR 63 with its id (DECCKSR), handled apart because it has a
    /// second parameter.
    pub(super) fn report_memory_checksum(&mut self, pid: u16) {
        self.reply_dcs(&format!("{pid}!~0000"));
    }

    /// DECRQM for an ANSI mode.
    pub(super) fn report_ansi_mode(&mut self, mode: u16) {
        let state = match self.ansi_mode(mode) {
            Some(true) => 1,
            Some(false) => 2,
            None if PERMANENTLY_RESET_ANSI.contains(&mode) => 4,
            None => 0,
        };
        self.reply_csi(&format!("{mode};{state}$y"));
    }

    /// DECRQM for a DEC private mode.
    pub(super) fn report_private_mode(&mut self, mode: u16) {
        let state = match self.private_mode(mode) {
            Some(true) => 1,
            Some(false) => 2,
            None if PERMANENTLY_RESET_PRIVATE.contains(&mode) => 4,
            None => 0,
        };
        self.reply_csi(&format!("?{mode};{state}$y"));
    }

    /// DECRQSS: the current value of a setting, as the sequence that sets it.
    pub(super) fn report_decrqss(&mut self, req: &[u8]) {
        let value = match req {
            b"m" => Some(format!("{}m", self.sgr_string())),
            b"r" => Some(format!("{};{}r", self.region.top() + 1, self.region.bottom() + 1)),
            b"s" => Some(format!("{};{}s", self.region.left() + 1, self.region.right() + 1)),
            b" q" => Some(format!("{} q", self.cursor_style.decscusr().max(1))),
            b"\"p" => Some(format!("{};{}\"p", self.conformance, if self.c1_8bit { 0 } else { 1 })),
            b"\"q" => Some(format!("{}\"q", u8::from(self.cursor.pen.flags.contains(Flags::PROTECTED)))),
            b"t" => Some(format!("{}t", self.rows)),
            b"$|" => Some(format!("{}$|", self.cols)),
            b"*|" => Some(format!("{}*|", self.rows)),
            b"*x" => Some(format!("{}*x", self.attr_extent)),
            b"$}" => Some("0$}".to_string()),
            b"$~" => Some(format!("{}$~", self.status_display)),
            _ => None,
        };
        match value {
            Some(v) => self.reply_dcs(&format!("1$r{v}")),
            None => self.reply_dcs("0$r"),
        }
    }

    /// The pen as SGR parameters, starting with 0.
    fn sgr_string(&self) -> String {
        let pen = self.cursor.pen;
        let mut s = String::from("0");
        for (flag, code) in [
            (Flags::BOLD, "1"),
            (Flags::DIM, "2"),
            (Flags::ITALIC, "3"),
            (Flags::UNDERLINE, "4"),
            (Flags::BLINK, "5"),
            (Flags::INVERSE, "7"),
            (Flags::HIDDEN, "8"),
            (Flags::STRIKE, "9"),
            (Flags::DOUBLE_UNDERLINE, "21"),
            (Flags::CURLY_UNDERLINE, "4:3"),
            (Flags::OVERLINE, "53"),
        ] {
            if pen.flags.contains(flag) {
                s.push(';');
                s.push_str(code);
            }
        }
        push_color(&mut s, pen.fg, 30, 90, 38);
        push_color(&mut s, pen.bg, 40, 100, 48);
        s
    }

    /// XTGETTCAP: answers the few capabilities programs ask for.
    pub(super) fn report_termcap(&mut self, req: &[u8]) {
        for name_hex in req.split(|&b| b == b';') {
            let name = hex::decode(name_hex);
            let value = match name.as_deref() {
                Some(b"Co") | Some(b"colors") => Some("256"),
                Some(b"TN") | Some(b"name") => Some("xterm-256color"),
                Some(b"RGB") => Some("8"),
                _ => None,
            };
            match value {
                Some(v) => {
                    let body =
                        format!("1+r{}={}", String::from_utf8_lossy(name_hex), hex::encode(v.as_bytes()));
                    self.reply_dcs(&body);
                }
                None => self.reply_dcs(&format!("0+r{}", String::from_utf8_lossy(name_hex))),
            }
        }
    }

    /// XTWINOPS reports (11, 13, 14, 15, 16, 18, 19, 20, 21).
    pub(super) fn report_window(&mut self, op: u16) {
        let (cw, ch) = self.window.cell_pixels();
        match op {
            11 => self.reply_csi(if self.window.is_iconified() { "2t" } else { "1t" }),
            13 => {
                let (x, y) = self.window.position();
                self.reply_csi(&format!("3;{x};{y}t"));
            }
            14 => self.reply_csi(&format!("4;{};{}t", self.rows * ch, self.cols * cw)),
            15 => self.reply_csi(&format!("5;{};{}t", MAX_ROWS * ch, MAX_COLS * cw)),
            16 => self.reply_csi(&format!("6;{ch};{cw}t")),
            18 => self.reply_csi(&format!("8;{};{}t", self.rows, self.cols)),
            19 => self.reply_csi(&format!("9;{MAX_ROWS};{MAX_COLS}t")),
            20 => {
                let t = self.titles.reported(true);
                self.reply_osc(&format!("L{t}"), false);
            }
            21 => {
                let t = self.titles.reported(false);
                self.reply_osc(&format!("l{t}"), false);
            }
            _ => {}
        }
    }

    /// DECRQCRA: xterm's checksum of a rectangle (the negated sum of the
    /// characters, empty cells counting as spaces).
    pub(super) fn report_checksum(&mut self, a: &Args) {
        let pid = a.get(0);
        let mut sum: u32 = 0;
        if let Some((t, l, b, r)) = self.rect_from(a, 2) {
            for y in t..=b {
                let row = self.grid().row(y).cells();
                for cell in &row[l..=r] {
                    if cell.flags.contains(Flags::WIDE_SPACER) {
                        continue;
                    }
                    sum = sum.wrapping_add(cell.c as u32);
                    for &m in self.marks.get(cell.marks) {
                        sum = sum.wrapping_add(m as u32);
                    }
                }
            }
        }
        let checksum = (sum as u16).wrapping_neg();
        self.reply_dcs(&format!("{pid}!~{checksum:04X}"));
    }

    /// OSC: titles, colours, clipboard.
    pub(super) fn osc(&mut self, params: &[&[u8]], bel: bool) {
        let Some(code) = params.first().and_then(|p| parse_num(p)) else {
            return;
        };
        let rest = &params[1..];
        match code {
            0..=2 => {
                self.titles.set(code, &join(rest));
            }
            4 | 5 => {
                let base = if code == 5 { 256 } else { 0 };
                for pair in rest.chunks(2) {
                    let (Some(n), Some(spec)) = (pair.first().and_then(|p| parse_num(p)), pair.get(1)) else {
                        break;
                    };
                    let idx = base + n as usize;
                    if idx >= PALETTE_LEN {
                        continue;
                    }
                    if *spec == b"?" {
                        let rgb = self.colors.entry(idx);
                        self.reply_osc(&format!("{code};{n};{}", palette::format_rgb(rgb)), bel);
                    } else if let Some(rgb) = palette::parse_spec(spec) {
                        self.colors.set_entry(idx, rgb);
                        self.damage.all();
                    }
                }
            }
            10..=19 => {
                // Each further parameter moves on to the next dynamic colour.
                for (i, spec) in rest.iter().enumerate() {
                    let which = code as usize - 10 + i;
                    if which >= DYNAMIC_LEN {
                        break;
                    }
                    if *spec == b"?" {
                        let rgb = self.colors.dynamic(which);
                        self.reply_osc(&format!("{};{}", 10 + which, palette::format_rgb(rgb)), bel);
                    } else if let Some(rgb) = palette::parse_spec(spec) {
                        self.colors.set_dynamic(which, rgb);
                        self.damage.all();
                    }
                }
            }
            104 | 105 => {
                let entries = if code == 104 { 0..256 } else { 256..PALETTE_LEN };
                if rest.iter().all(|p| p.is_empty()) {
                    self.colors.reset_entries(entries);
                } else {
                    for n in rest.iter().filter_map(|p| parse_num(p)) {
                        self.colors.reset_entry(entries.clone(), n as usize);
                    }
                }
                self.damage.all();
            }
            110..=119 => {
                self.colors.reset_dynamic(code as usize - 110);
                self.damage.all();
            }
            52 => self.clipboard_op(rest, bel),
            _ => {}
        }
    }

    /// OSC 52: stores a clipboard payload (and passes it on as an event), or
    /// answers a query with the stored one.
    fn clipboard_op(&mut self, rest: &[&[u8]], bel: bool) {
        let (Some(sel), Some(data)) = (rest.first(), rest.get(1)) else {
            return;
        };
        let mut selection: String =
            sel.iter().filter(|b| b"cpqs01234567".contains(b)).map(|&b| b as char).collect();
        if selection.is_empty() {
            selection = "s0".to_string();
        }
        if *data == b"?" {
            let first = selection.chars().next().unwrap_or('s');
            let payload = self.clipboard.stored(first).map(base64_encode).unwrap_or_default();
            self.reply_osc(&format!("52;{selection};{payload}"), bel);
            return;
        }
        let decoded = base64_decode(data).unwrap_or_default();
        self.clipboard.store(selection, decoded);
    }
}

fn push_color(s: &mut String, c: Color, base: u16, bright: u16, ext: u16) {
    match c {
        Color::Default => {}
        Color::Indexed(i) if i < 8 => {
            let _ = write!(s, ";{}", base + i as u16);
        }
        Color::Indexed(i) if i < 16 => {
            let _ = write!(s, ";{}", bright + i as u16 - 8);
        }
        Color::Indexed(i) => {
            let _ = write!(s, ";{ext}:5:{i}");
        }
        Color::Rgb(r, g, b) => {
            let _ = write!(s, ";{ext}:2::{r}:{g}:{b}");
        }
    }
}

fn parse_num(p: &[u8]) -> Option<u32> {
    if p.is_empty() || p.len() > 9 {
        return None;
    }
    std::str::from_utf8(p).ok()?.parse().ok()
}

/// OSC parameters after the first, joined back with `;` (titles may contain it).
fn join(parts: &[&[u8]]) -> Vec<u8> {
    parts.join(&b';')
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &c in data {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip() {
        for s in [&b""[..], b"a", b"ab", b"abc", b"hello world"] {
            assert_eq!(base64_decode(base64_encode(s).as_bytes()).as_deref(), Some(s));
        }
        assert_eq!(base64_encode(b"hi"), "aGk=");
    }
}
