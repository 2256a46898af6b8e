//! CSI parameters as the screen acts on them: vte's [`Params`] flattened to
//! their first sub-parameters, or read straight from the input by the text
//! path for plain sequences.

use vte::Params;

/// CSI parameters, flattened to their first sub-parameter.
pub(crate) struct Args {
    vals: [u16; 16],
    len: usize,
}

impl Args {
    /// The parameters of a sequence vte dispatched: at most 16, each its
    /// first sub-parameter (0 when empty).
    pub(crate) fn new(params: &Params) -> Args {
        let mut vals = [0u16; 16];
        let mut len = 0;
        for p in params.iter().take(16) {
            vals[len] = p.first().copied().unwrap_or(0);
            len += 1;
        }
        Args { vals, len }
    }

    /// `ESC [ parameters final` at the start of `bytes`, when it is plain
    /// enough for the screen to act on without the parser: parameters of
    /// digits and `;` only (at most 16; no sub-parameters), no private
    /// marker, no intermediates, nothing else inside. Returns the
    /// parameters as vte gives them, the final byte and the sequence's
    /// length; anything else is left to the parser. A cursor position and a
    /// character, or a colour and a character, over and over (a full-screen
    /// program redrawing) then never leaves the text path.
    pub(crate) fn plain_csi(bytes: &[u8]) -> Option<(Args, char, usize)> {
        let rest = bytes.strip_prefix(b"\x1b[")?;
        let mut args = Args { vals: [0; 16], len: 0 };
        let mut value: u16 = 0;
        for (i, &b) in rest.iter().enumerate() {
            match b {
                b'0'..=b'9' => value = value.saturating_mul(10).saturating_add(u16::from(b - b'0')),
                b';' if args.len < 15 => {
                    args.vals[args.len] = value;
                    args.len += 1;
                    value = 0;
                }
                // vte ends every sequence with the parameter being read.
                0x40..=0x7e => {
                    args.vals[args.len] = value;
                    args.len += 1;
                    return Some((args, char::from(b), i + 3));
                }
                _ => return None,
            }
        }
        None
    }

    /// Parameter `i` as given, 0 when absent.
    #[inline]
    pub fn get(&self, i: usize) -> u16 {
        if i < self.len { self.vals[i] } else { 0 }
    }

    /// Parameter `i`, with 0 or absent meaning `default`.
    #[inline]
    pub fn or(&self, i: usize, default: u16) -> usize {
        match self.get(i) {
            0 => default as usize,
            v => v as usize,
        }
    }

    /// A count: parameter `i`, at least 1.
    #[inline]
    pub fn n(&self, i: usize) -> usize {
        self.or(i, 1)
    }

    /// How many parameters were given.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The parameters in order (for modes that take a list: SM, DECSET …).
    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        self.vals[..self.len].iter().copied()
    }

    /// Each parameter as a parameter with no sub-parameters, the shape
    /// SGR takes from vte (sub-parameters and all).
    pub(crate) fn as_params(&self) -> impl Iterator<Item = &[u16]> {
        self.vals[..self.len].chunks(1)
    }
}
