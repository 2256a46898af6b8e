//! Text screens sent column by column of character cells, for the encoders
//! whose compression is zlib's (ZRLE and Tight).
//!
//! What compresses text is zlib finding the same glyph again. A rectangle one
//! cell wide holds its cells one after the other, so a glyph's bytes are
//! contiguous wherever it is on the screen. zlib sees back only 32 KB, a dozen
//! or so columns of a text screen, so the columns go in the order that has
//! the fewest glyphs gone from that window ([`column_order`]): glyphs sent
//! once are used again while zlib still sees them.

use std::collections::HashMap;

use super::patch::Patch;
use crate::frame::Rect;

/// How far back zlib finds a repeat: deflate's window, in uncompressed bytes.
pub(super) const WINDOW: usize = 32 * 1024;

/// The most cell columns a rectangle is cut into (a terminal 256 columns wide),
/// which bounds the rectangles of one update; wider ones go whole.
const MAX_COLUMNS: u16 = 256;

/// The character cell (`cell`, the screen's, if it has one) by whose columns
/// `rect` goes: when it is aligned to the cells, more than one column wide (at
/// most [`MAX_COLUMNS`]) and at least two cells tall. A shorter rectangle
/// (an echoed key, a new line) gains nothing from it.
pub(super) fn cell_columns(rect: Rect, cell: Option<(u16, u16)>) -> Option<(u16, u16)> {
    cell.filter(|&(w, h)| {
        w > 0
            && h > 0
            && rect.x.is_multiple_of(w)
            && rect.width.is_multiple_of(w)
            && rect.width > w
            && rect.width / w <= MAX_COLUMNS
            && rect.height >= 2 * h
    })
}

/// The columns of `patch`, `cell_width` pixels wide each, left to right.
pub(super) fn cut(patch: &Patch, cell_width: u16) -> Vec<Patch> {
    let (width, height) = (usize::from(cell_width), usize::from(patch.rect.height));
    (0..patch.rect.width / cell_width)
        .map(|column| {
            let x = usize::from(column) * width;
            let mut pixels = Vec::with_capacity(width * height);
            patch.tile(x, 0, width, height, &mut pixels);
            Patch { rect: patch.sub_rect(x, 0, width, height), pixels }
        })
        .collect()
}

/// The order in which to send the columns of cells of `patch` (`cell` pixels
/// each), whose encodings take `lengths` bytes before compression: each time
/// the column with the fewest cells zlib cannot match (a glyph not among the
/// last [`WINDOW`] bytes, as far as where each cell lies in a column can be
/// told), the next column to the right on a tie. A full screen of text is
/// 250-400 KB of ZRLE tiles and zlib sees back only 32 KB, about ten columns;
/// going where the glyphs just sent are used again sends fewer of them again.
pub(super) fn column_order(patch: &Patch, cell: (u16, u16), lengths: &[usize]) -> Vec<usize> {
    let (cell_width, cell_height) = (usize::from(cell.0), usize::from(cell.1));
    let (stride, height) = (usize::from(patch.rect.width), usize::from(patch.rect.height));
    // Whole cells of each column, from the first framebuffer row a cell row starts on.
    let top = (cell_height - usize::from(patch.rect.y) % cell_height) % cell_height;
    let rows = height.saturating_sub(top) / cell_height;
    // Each cell's glyph as a number, or none for a blank cell.
    let mut glyphs: HashMap<u64, usize> = HashMap::new();
    let mut cells = Vec::with_capacity(lengths.len() * rows);
    for column in 0..lengths.len() {
        for row in 0..rows {
            let mut hash = 0xcbf2_9ce4_8422_2325u64;
            let first = patch.pixels[(top + row * cell_height) * stride + column * cell_width];
            let mut blank = true;
            for y in top + row * cell_height..top + (row + 1) * cell_height {
                let at = y * stride + column * cell_width;
                for &p in &patch.pixels[at..at + cell_width] {
                    hash = (hash ^ u64::from(p)).wrapping_mul(0x0000_0100_0000_01b3);
                    blank &= p == first;
                }
            }
            let next = glyphs.len();
            cells.push((!blank).then(|| *glyphs.entry(hash).or_insert(next)));
        }
    }
    // Where each glyph was last sent, in uncompressed bytes.
    let mut sent: Vec<Option<usize>> = vec![None; glyphs.len()];
    let mut at = 0;
    let mut left: Vec<usize> = (0..lengths.len()).collect();
    let mut order = Vec::with_capacity(lengths.len());
    while !left.is_empty() {
        let after = order.last().map_or(0, |&c| c + 1);
        let unmatched = |column: usize| {
            let per_cell = lengths[column] / rows.max(1);
            let column_cells = &cells[column * rows..(column + 1) * rows];
            column_cells
                .iter()
                .enumerate()
                .filter(|&(row, glyph)| {
                    glyph.is_some_and(|g| sent[g].is_none_or(|s| at + row * per_cell - s > WINDOW))
                })
                .count()
        };
        let (i, _) = left
            .iter()
            .enumerate()
            .min_by_key(|&(_, &column)| (unmatched(column), column != after, column))
            .expect("a column is left");
        let column = left.remove(i);
        let per_cell = lengths[column] / rows.max(1);
        for (row, glyph) in cells[column * rows..(column + 1) * rows].iter().enumerate() {
            if let Some(g) = glyph {
                sent[*g] = Some(at + row * per_cell);
            }
        }
        at += lengths[column];
        order.push(column);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A patch of cells 1x2, one glyph a column: 0 is the background and
    /// glyph `g` a cell with `g` on its top pixel.
    fn columns_of(glyphs: &[u32]) -> Patch {
        let width = glyphs.len();
        let mut pixels = vec![0; width * 4];
        for (x, &g) in glyphs.iter().enumerate() {
            pixels[x] = g;
            pixels[2 * width + x] = g;
        }
        Patch { rect: Rect::new(0, 0, width as u16, 4), pixels }
    }

    #[test]
    fn columns_whose_glyphs_were_just_sent_go_first() {
        // Column 2 repeats column 0: it goes before column 1's new glyph.
        assert_eq!(column_order(&columns_of(&[5, 6, 5]), (1, 2), &[10; 3]), [0, 2, 1]);
        // Nothing to gain: left to right.
        assert_eq!(column_order(&columns_of(&[5, 5, 5, 5]), (1, 2), &[10; 4]), [0, 1, 2, 3]);
        // Column 0 is so long that its glyphs have left zlib's window by the
        // end of it: column 2 is as new as column 1.
        assert_eq!(column_order(&columns_of(&[5, 6, 5]), (1, 2), &[3 * WINDOW, 10, 10]), [0, 1, 2]);
        // Each is sent once.
        let mut order = column_order(&columns_of(&[1, 2, 3, 2, 1, 4, 4, 3]), (1, 2), &[10; 8]);
        order.sort();
        assert_eq!(order, (0..8).collect::<Vec<_>>());
    }

    #[test]
    fn only_tall_aligned_rectangles_go_by_columns() {
        let cell = Some((10, 20));
        assert_eq!(cell_columns(Rect::new(0, 0, 800, 480), cell), cell);
        assert_eq!(cell_columns(Rect::new(0, 0, 800, 480), None), None);
        // One cell row tall, one column wide, or off the cells' grid.
        assert_eq!(cell_columns(Rect::new(0, 0, 800, 20), cell), None);
        assert_eq!(cell_columns(Rect::new(0, 0, 10, 480), cell), None);
        assert_eq!(cell_columns(Rect::new(5, 0, 800, 480), cell), None);
        assert_eq!(cell_columns(Rect::new(0, 0, 805, 480), cell), None);
    }

    #[test]
    fn a_patch_cuts_into_its_columns() {
        let patch = columns_of(&[1, 2, 3]);
        let columns = cut(&patch, 1);
        assert_eq!(columns.len(), 3);
        assert_eq!(columns[1].rect, Rect::new(1, 0, 1, 4));
        assert_eq!(columns[1].pixels, [2, 0, 2, 0]);
    }
}
