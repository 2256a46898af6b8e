//! The distinct colours of a tile or piece, which ZRLE and Tight send as a
//! palette when there are few.

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
