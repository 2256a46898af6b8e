//! Column widths per code point, as the guest's glibc `wcwidth` counts them.
//!
//! The guest moves its cursor by code points, so widths are per code point,
//! never per grapheme cluster: an emoji with VS16 or a ZWJ sequence takes the
//! sum of its code points' widths, exactly as the program expects.
//!
//! Every printed character needs its width, so the first two planes (all
//! living scripts, symbols and emoji) are looked up in a two-level table
//! built once from [`glibc_width`]; only rarer code points take the long way.

use std::sync::LazyLock;

use unicode_width::UnicodeWidthChar;

/// Code points below this are in [`TABLE`].
const TABLE_END: u32 = 0x20000;

/// Code points per block of [`TABLE`].
const BLOCK: u32 = 128;

/// Blocks of [`TABLE`].
const BLOCKS: usize = (TABLE_END / BLOCK) as usize;

/// The widths of the first two planes.
static TABLE: LazyLock<Table> = LazyLock::new(Table::build);

/// Widths of `0..TABLE_END`, 2 bits per code point, in blocks of [`BLOCK`]
/// code points; identical blocks (most of them) are stored once.
struct Table {
    /// For each block, its index into `blocks`.
    index: Box<[u16; BLOCKS]>,
    /// The distinct blocks, 32 code points to a word.
    blocks: Vec<[u64; 4]>,
}

impl Table {
    fn build() -> Table {
        let mut index = Box::new([0u16; BLOCKS]);
        let mut blocks: Vec<[u64; 4]> = Vec::new();
        for (b, slot) in index.iter_mut().enumerate() {
            let mut block = [0u64; 4];
            for i in 0..BLOCK {
                let u = b as u32 * BLOCK + i;
                let width = char::from_u32(u).map_or(0, glibc_width) as u64;
                block[(i / 32) as usize] |= width << (i % 32 * 2);
            }
            let id = match blocks.iter().position(|known| *known == block) {
                Some(id) => id,
                None => {
                    blocks.push(block);
                    blocks.len() - 1
                }
            };
            // At most BLOCKS (1024) distinct blocks, so this always fits.
            *slot = id as u16;
        }
        Table { index, blocks }
    }

    /// The width of code point `u`, below [`TABLE_END`].
    #[inline(always)]
    fn get(&self, u: u32) -> usize {
        let block = self.index[(u / BLOCK) as usize] as usize;
        let word = self.blocks[block][(u % BLOCK / 32) as usize];
        (word >> (u % 32 * 2)) as usize & 3
    }
}

/// 0 for combining and other zero-width characters, 2 for East Asian wide and
/// fullwidth ones, 1 otherwise.
#[inline(always)]
pub(crate) fn char_width(c: char) -> usize {
    let u = c as u32;
    if u < 0x300 {
        // Latin-1 and before the combining block: glibc says 1 (U+00AD too).
        1
    } else if u < TABLE_END {
        TABLE.get(u)
    } else {
        glibc_width(c)
    }
}

/// What [`char_width`] answers, computed the long way.
fn glibc_width(c: char) -> usize {
    let u = c as u32;
    if u < 0x300 {
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
        assert_eq!(char_width('\u{1160}'), 0);
        assert_eq!(char_width('\u{feff}'), 0);
        assert_eq!(char_width('\u{20000}'), 2);
        assert_eq!(char_width('\u{e0001}'), 0);
    }

    #[test]
    fn table_agrees_with_the_long_way() {
        for c in (0..=char::MAX as u32).filter_map(char::from_u32) {
            assert_eq!(char_width(c), glibc_width(c), "U+{:04X}", c as u32);
        }
    }
}
