//! Column widths per code point, as the guest's glibc `wcwidth` counts them.
//!
//! The guest moves its cursor by code points, so widths are per code point,
//! never per grapheme cluster: an emoji with VS16 or a ZWJ sequence takes the
//! sum of its code points' widths, exactly as the program expects.

use unicode_width::UnicodeWidthChar;

/// 0 for combining and other zero-width characters, 2 for East Asian wide and
/// fullwidth ones, 1 otherwise.
#[inline(always)]
pub(crate) fn char_width(c: char) -> usize {
    let u = c as u32;
    if u < 0x300 {
        // Latin-1 and before the combining block: glibc says 1 (U+00AD too).
        return 1;
    }
    match u {
        // Hangul Jungseong/Jongseong: glibc joins them (0).
        0x1160..=0x11ff | 0xd7b0..=0xd7ff => 0,
        // ZERO WIDTH SPACE and the BOM are 0 in glibc.
        0x200b | 0xfeff => 0,
        _ => c.width().unwrap_or(0).min(2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_like_glibc() {
        assert_eq!(char_width('a'), 1);
        assert_eq!(char_width('\u{301}'), 0);
        assert_eq!(char_width('中'), 2);
        assert_eq!(char_width('\u{ff21}'), 2);
        assert_eq!(char_width('\u{200d}'), 0);
        assert_eq!(char_width('\u{fe0f}'), 0);
        assert_eq!(char_width('😀'), 2);
        assert_eq!(char_width('\u{ad}'), 1);
        assert_eq!(char_width('─'), 1);
    }
}
