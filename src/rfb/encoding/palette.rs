//! The distinct colours of a tile or piece, which ZRLE and Tight send as a
//! palette when there are few, and the palette they send for glyphs.

use crate::frame::coverage::{self, LEVELS};

/// Distinct colours of some pixels, in order of first appearance, counted up to a limit.
pub(crate) struct Palette {
    /// The colours seen, at most `limit`.
    pub colours: Vec<u32>,
    /// Whether more than `limit` distinct colours were seen.
    pub overflow: bool,
}

impl Palette {
    /// The palette of `pixels`, stopping once more than `limit` colours are seen.
    pub fn of(pixels: &[u32], limit: usize) -> Palette {
        let mut colours: Vec<u32> = Vec::new();
        let mut last = None;
        for &p in pixels {
            if last == Some(p) {
                continue;
            }
            last = Some(p);
            if !colours.contains(&p) {
                if colours.len() == limit {
                    return Palette { colours, overflow: true };
                }
                colours.push(p);
            }
        }
        Palette { colours, overflow: false }
    }

    /// The index of a colour known to be in the palette.
    pub fn index(&self, colour: u32) -> usize {
        self.colours.iter().position(|&c| c == colour).unwrap_or(0)
    }
}

/// The colours of a tile (or piece) of glyphs in one colour on another, as the
/// renderer draws them ([`coverage::ramp`]), when `palette` (the tile's, more
/// than two colours, at most [`LEVELS`]) is among them: every level, the background first, whichever the
/// tile uses. An index is then a coverage level, the same in every tile, so a
/// glyph gives the same bytes wherever it is. The background is the more
/// frequent of the two colours furthest apart.
pub(crate) fn ramp_of(palette: &Palette, pixels: &[u32]) -> Option<[u32; LEVELS]> {
    if palette.overflow || !(3..=LEVELS).contains(&palette.colours.len()) {
        return None;
    }
    let distance = |a: u32, b: u32| {
        [16, 8, 0].iter().map(|s| ((a >> s & 0xff) as i32 - (b >> s & 0xff) as i32).pow(2)).sum::<i32>()
    };
    let colours = &palette.colours;
    let (a, b) = colours
        .iter()
        .enumerate()
        .flat_map(|(i, &a)| colours[i + 1..].iter().map(move |&b| (a, b)))
        .max_by_key(|&(a, b)| distance(a, b))?;
    let count = |c: u32| pixels.iter().filter(|&&p| p == c).count();
    let (fg, bg) = if count(a) >= count(b) { (b, a) } else { (a, b) };
    let ramp = coverage::ramp(fg, bg);
    colours.iter().all(|c| ramp.contains(c)).then_some(ramp)
}
