//! How coverage becomes colour: glyphs are drawn at [`LEVELS`] evenly spaced
//! coverage levels, each blended from the cell's two colours.
//!
//! A cell of one foreground on one background then holds at most four
//! colours, and always the same four ([`ramp`]): an encoder can send each
//! pixel's level rather than its colour (ZRLE's packed palettes, two bits a
//! pixel), and the same glyph gives the same bytes wherever it is. Four levels
//! make a full anti-aliased text screen in ZRLE smaller than QEMU's 1-bit one;
//! sixteen look the same as 256 but take half as much again (the README's
//! "The VNC server"). At text sizes four levels are hard to tell from 256:
//! edges are a little harder, and the faintest pixels (under a sixth) go.
//! Lines and blocks drawn by code keep their exact coverage (the shades
//! need it), so they are not on the ramp.

/// How many coverage levels glyphs are drawn with, from none to full.
pub const LEVELS: usize = 4;

/// The coverage step between two levels.
const STEP: u8 = (255 / (LEVELS - 1)) as u8;

/// The drawn coverage nearest to `a` (0–255): a multiple of 255 / ([`LEVELS`] - 1).
pub fn quantise(a: u8) -> u8 {
    ((u16::from(a) + u16::from(STEP / 2)) / u16::from(STEP)) as u8 * STEP
}

/// `fg` over `bg` (`0x00RRGGBB`) at coverage `a` (0–255), rounded, channel by channel.
pub fn blend(fg: u32, bg: u32, a: u8) -> u32 {
    let a = i32::from(a);
    let channel = |shift: u32| {
        let (f, b) = ((fg >> shift & 0xff) as i32, (bg >> shift & 0xff) as i32);
        ((b + ((f - b) * a + if f >= b { 127 } else { -127 }) / 255) as u32 & 0xff) << shift
    };
    channel(16) | channel(8) | channel(0)
}

/// Every colour a glyph in `fg` on `bg` is drawn with, level by level: `bg` first, `fg` last.
pub fn ramp(fg: u32, bg: u32) -> [u32; LEVELS] {
    std::array::from_fn(|level| blend(fg, bg, level as u8 * STEP))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_goes_to_the_nearest_level() {
        assert_eq!(usize::from(STEP) * (LEVELS - 1), 255, "the levels reach full coverage");
        assert_eq!((quantise(0), quantise(STEP / 2), quantise(STEP / 2 + 1)), (0, 0, STEP));
        assert_eq!((quantise(255 - STEP / 2), quantise(255)), (255, 255));
        let levels: std::collections::BTreeSet<u8> = (0..=255).map(quantise).collect();
        assert_eq!(levels.len(), LEVELS);
    }

    #[test]
    fn the_ramp_runs_from_background_to_foreground() {
        let ramp = ramp(0xaaaaaa, 0x000000);
        assert_eq!((ramp[0], ramp[LEVELS - 1]), (0x000000, 0xaaaaaa));
        assert_eq!(ramp[1], blend(0xaaaaaa, 0, STEP));
        assert_eq!(blend(0xffffff, 0x000000, 128), 0x808080);
    }
}
