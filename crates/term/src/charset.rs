//! G0–G3 character sets and the DEC Special Graphics (line drawing) set.

/// A 94-character set designated into one of G0–G3 (ESC ( ) * + F).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Charset {
    /// US ASCII (`B`), and every set we do not know.
    #[default]
    Ascii,
    /// DEC Special Graphics (`0`): the line-drawing set.
    DecSpecial,
    /// United Kingdom (`A`): `#` is `£`.
    Uk,
}

impl Charset {
    /// The set a designator's final byte names.
    pub fn from_final(byte: u8) -> Charset {
        match byte {
            b'0' => Charset::DecSpecial,
            b'A' => Charset::Uk,
            _ => Charset::Ascii,
        }
    }

    /// Maps a printable character through this set.
    #[inline]
    pub fn map(self, c: char) -> char {
        match self {
            Charset::Ascii => c,
            Charset::Uk => {
                if c == '#' {
                    '£'
                } else {
                    c
                }
            }
            Charset::DecSpecial => dec_special(c),
        }
    }
}

/// DEC Special Graphics, as xterm draws it (0x5f–0x7e).
fn dec_special(c: char) -> char {
    match c {
        '_' => ' ',
        '`' => '◆',
        'a' => '▒',
        'b' => '␉',
        'c' => '␌',
        'd' => '␍',
        'e' => '␊',
        'f' => '°',
        'g' => '±',
        'h' => '␤',
        'i' => '␋',
        'j' => '┘',
        'k' => '┐',
        'l' => '┌',
        'm' => '└',
        'n' => '┼',
        'o' => '⎺',
        'p' => '⎻',
        'q' => '─',
        'r' => '⎼',
        's' => '⎽',
        't' => '├',
        'u' => '┤',
        'v' => '┴',
        'w' => '┬',
        'x' => '│',
        'y' => '≤',
        'z' => '≥',
        '{' => 'π',
        '|' => '≠',
        '}' => '£',
        '~' => '·',
        _ => c,
    }
}

/// The four designated sets and which one is invoked into GL.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Charsets {
    pub g: [Charset; 4],
    /// Index of the set invoked into GL (SI = 0, SO = 1, LS2 = 2, LS3 = 3).
    pub gl: u8,
    /// A single shift (SS2/SS3) for the next character only.
    pub single: Option<u8>,
}

impl Charsets {
    /// Maps one printable character, consuming a pending single shift.
    #[inline]
    pub fn map(&mut self, c: char) -> char {
        let set = match self.single.take() {
            Some(i) => self.g[i as usize & 3],
            None => self.g[self.gl as usize & 3],
        };
        set.map(c)
    }

    /// Whether every character maps to itself (the fast path).
    #[inline]
    pub fn is_identity(&self) -> bool {
        self.single.is_none() && self.g[self.gl as usize & 3] == Charset::Ascii
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_drawing() {
        let mut cs = Charsets::default();
        cs.g[0] = Charset::from_final(b'0');
        assert_eq!(cs.map('q'), '─');
        assert_eq!(cs.map('A'), 'A');
        cs.gl = 1;
        assert_eq!(cs.map('q'), 'q');
    }

    #[test]
    fn single_shift_applies_once() {
        let mut cs = Charsets::default();
        cs.g[2] = Charset::Uk;
        cs.single = Some(2);
        assert_eq!(cs.map('#'), '£');
        assert_eq!(cs.map('#'), '#');
    }
}
