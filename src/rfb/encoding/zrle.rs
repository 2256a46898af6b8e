//! ZRLE: 64x64 tiles, each solid, palette-packed, run-length or raw, all
//! through one zlib stream per connection (RFC 6143 7.7.6).
//!
//! What compresses text is zlib finding the same glyph again. So tiles are
//! encoded so that the same pixels give the same bytes wherever they are:
//!
//! - A tile of glyphs in one colour on another holds only the renderer's
//!   coverage ramp of that pair (`frame::coverage`, four levels): it is sent
//!   packed with the whole ramp as its palette, background first, whichever
//!   levels it uses (`ramp_of`). An index is then a coverage level, the same
//!   in every tile, and a glyph 8 pixels wide is two bytes a row. A palette in
//!   the order the tile's colours come, as ZRLE encoders do, gives the same
//!   glyph other bytes in every tile and loses zlib's matches.
//! - Other tiles: plain run-length, colours spelt out, unless a packed palette
//!   is smaller still (two-colour tiles), or raw is.
//! - When the screen's character cells are known, a tall rectangle is sent as
//!   one rectangle per column of cells: a tile one cell wide holds its cells
//!   one after the other, so a glyph's bytes are contiguous.
//! - In those, no run goes on from one cell row to the next: a cell's runs
//!   are its own whatever is above and below it.
//! - zlib sees back 32 KB, a dozen or more columns of a text screen, so the
//!   columns are sent in the order that has the fewest glyphs gone from that
//!   window (`column_order`): glyphs sent once are used again while zlib
//!   still sees them.
//! - The zlib stream is our own ([`super::deflate`]): the rectangles of an
//!   update share one block of codes, parsed for the fewest bits.
//!
//! What is left to send is the rectangle headers, each glyph's first
//! sending, and each other non-blank cell as a short match, unless the cells
//! below it repeat too; and cells whose height does not divide 64 are cut by
//! tile rows now and then, which splits those glyphs' bytes with a tile
//! header. What each of these choices saves, and how the result compares with
//! QEMU's server, is measured by `cargo bench --bench rfb` and reported in
//! README.md's Performance section.

use std::collections::HashMap;

use super::deflate::{Deflater, Effort};
use super::number;
use super::palette::Palette;
use super::patch::Patch;
use crate::frame::Rect;
use crate::frame::coverage::{self, LEVELS};
use crate::rfb::pixel_format::PixelFormat;
use crate::rfb::server_message::ServerMessage;

/// ZRLE's tile size.
const TILE: usize = 64;

/// The most cell columns a rectangle is cut into (a terminal 256 columns wide),
/// which bounds the rectangles of one update; wider ones go whole.
const MAX_COLUMNS: u16 = 256;

/// The connection's ZRLE zlib stream.
pub struct Zrle {
    stream: Deflater,
    /// How hard the next update is compressed.
    effort: Effort,
}

impl Zrle {
    /// A fresh stream, as the viewer's decoder starts.
    pub fn new() -> Zrle {
        Zrle { stream: Deflater::new(), effort: Effort::Best }
    }

    /// What the viewer's zlib window holds after the updates so far (see
    /// [`Zrle::resume`]).
    pub fn window(&self) -> &[u8] {
        self.stream.window()
    }

    /// Continues a started stream whose viewer's window holds `window` last:
    /// a viewer leaving a group that shares one stream goes on alone.
    pub fn resume(window: &[u8]) -> Zrle {
        Zrle { stream: Deflater::resume(window), effort: Effort::Best }
    }

    /// How hard the updates from the next on are compressed: the stream
    /// goes on the same whichever, so it may change between any two.
    pub fn set_effort(&mut self, effort: Effort) {
        self.effort = effort;
    }

    /// The next update matches nothing sent before, so it decodes the same
    /// for every viewer whose stream has started, whatever each was sent.
    pub fn forget(&mut self) {
        self.stream.forget();
    }

    /// Appends `patch` as ZRLE rectangles: one, or one per column of cells
    /// when `cell` (the screen's character cell) is known, the patch is aligned
    /// to it and at least two cells tall. Returns how many.
    pub fn encode(
        &mut self,
        patch: &Patch,
        format: &PixelFormat,
        cell: Option<(u16, u16)>,
        out: &mut Vec<u8>,
    ) -> u16 {
        let rect = patch.rect;
        let columns = cell.filter(|&(w, h)| {
            w > 0
                && h > 0
                && rect.x.is_multiple_of(w)
                && rect.width.is_multiple_of(w)
                && rect.width > w
                && rect.width / w <= MAX_COLUMNS
                && rect.height >= 2 * h
        });
        let Some((cell_width, cell_height)) = columns else {
            self.put_rects(&[(rect, encode_tiles(patch, format, TILE, None))], out);
            return 1;
        };
        let mut pixels = Vec::new();
        let columns = rect.width / cell_width;
        let mut strips = Vec::with_capacity(usize::from(columns));
        for column in 0..columns {
            let x = usize::from(column * cell_width);
            patch.tile(x, 0, usize::from(cell_width), usize::from(rect.height), &mut pixels);
            let strip = Patch {
                rect: patch.sub_rect(x, 0, usize::from(cell_width), usize::from(rect.height)),
                pixels: std::mem::take(&mut pixels),
            };
            strips.push((strip.rect, encode_tiles(&strip, format, TILE, Some(cell_height))));
            pixels = strip.pixels;
        }
        let lengths: Vec<usize> = strips.iter().map(|(_, tiles)| tiles.len()).collect();
        let order = column_order(patch, (cell_width, cell_height), &lengths);
        let mut strips: Vec<Option<(Rect, Vec<u8>)>> = strips.into_iter().map(Some).collect();
        let strips: Vec<(Rect, Vec<u8>)> = order.iter().filter_map(|&column| strips[column].take()).collect();
        self.put_rects(&strips, out);
        columns
    }

    /// Appends rectangles of encoded tiles, compressed together.
    fn put_rects(&mut self, rects: &[(Rect, Vec<u8>)], out: &mut Vec<u8>) {
        let tiles: Vec<&[u8]> = rects.iter().map(|(_, tiles)| tiles.as_slice()).collect();
        for ((rect, _), compressed) in rects.iter().zip(self.stream.compress(&tiles, self.effort)) {
            ServerMessage::Rectangle { rect: *rect, encoding: number::ZRLE }.encode(out);
            out.extend_from_slice(&(compressed.len() as u32).to_be_bytes());
            out.extend_from_slice(&compressed);
        }
    }
}

impl Default for Zrle {
    fn default() -> Self {
        Zrle::new()
    }
}

/// The tiles of `patch`, `tile` pixels square, left to right then top to
/// bottom, uncompressed. With `cell_height`, no run goes on from one cell row
/// of the screen to the next (rows at multiples of it from the framebuffer's top).
fn encode_tiles(patch: &Patch, format: &PixelFormat, tile: usize, cell_height: Option<u16>) -> Vec<u8> {
    let (width, height) = (usize::from(patch.rect.width), usize::from(patch.rect.height));
    let mut out = Vec::new();
    let mut pixels = Vec::with_capacity(tile * tile);
    for y in (0..height).step_by(tile) {
        let h = tile.min(height - y);
        let cells =
            cell_height.map(|ch| CellRows { height: usize::from(ch), first: usize::from(patch.rect.y) + y });
        for x in (0..width).step_by(tile) {
            let w = tile.min(width - x);
            patch.tile(x, y, w, h, &mut pixels);
            encode_tile(&pixels, w, format, cells, &mut out);
        }
    }
    out
}

/// Where a tile's rows fall among the screen's rows of cells: a cell row
/// starts at each framebuffer row that is a multiple of `height`.
#[derive(Debug, Clone, Copy)]
struct CellRows {
    height: usize,
    /// The framebuffer row of the tile's first row.
    first: usize,
}

/// How far back zlib finds a repeat: deflate's window, in uncompressed bytes.
const WINDOW: usize = 32 * 1024;

/// The order in which to send the columns of cells of `patch` (`cell` pixels
/// each), whose encoded tiles take `lengths` bytes: each time the column with
/// the fewest cells zlib cannot match (a glyph not among the last [`WINDOW`]
/// bytes, as far as where each cell lies in a column can be told), the next
/// column to the right on a tie. A full screen of text is 250-400 KB of tiles
/// and zlib sees back only 32 KB, about ten columns; going where the glyphs
/// just sent are used again sends fewer of them again.
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

/// Bytes a run length takes: 255 for every full 255, then the rest.
fn run_length_len(run: usize) -> usize {
    (run - 1) / 255 + 1
}

fn put_run_length(run: usize, out: &mut Vec<u8>) {
    let mut left = run - 1;
    while left >= 255 {
        out.push(255);
        left -= 255;
    }
    out.push(left as u8);
}

/// Runs of equal pixels in raster order (`width` a row): (colour, length).
/// With `cells`, a run also ends where a cell row starts, so that a cell's runs
/// are the same whatever is above and below it.
fn runs(pixels: &[u32], width: usize, cells: Option<CellRows>) -> Vec<(u32, usize)> {
    let mut runs: Vec<(u32, usize)> = Vec::new();
    for (row, line) in pixels.chunks(width).enumerate() {
        let cell_starts = cells.is_some_and(|c| (c.first + row).is_multiple_of(c.height));
        for (i, &p) in line.iter().enumerate() {
            match runs.last_mut() {
                Some((colour, length)) if *colour == p && !(i == 0 && cell_starts) => *length += 1,
                _ => runs.push((p, 1)),
            }
        }
    }
    runs
}

/// Appends one tile (`width` wide): solid if it is, a packed palette if that
/// is smaller than plain run-length, raw if that is, else plain run-length
/// (whose runs end at cell rows when `cells` says where they are).
fn encode_tile(
    pixels: &[u32],
    width: usize,
    format: &PixelFormat,
    cells: Option<CellRows>,
    out: &mut Vec<u8>,
) {
    let height = pixels.len() / width;
    let palette = Palette::of(pixels, 16);
    let cpixel = format.cpixel_len();
    if palette.colours.len() == 1 {
        out.push(1);
        format.put_cpixel(palette.colours[0], out);
        return;
    }
    if let Some(ramp) = ramp_of(&palette, pixels) {
        out.push(LEVELS as u8);
        for &c in &ramp {
            format.put_cpixel(c, out);
        }
        put_packed(pixels, width, &ramp, RAMP_BITS, out);
        return;
    }
    let runs = runs(pixels, width, cells);
    let rle_size: usize = runs.iter().map(|&(_, n)| cpixel + run_length_len(n)).sum();
    let colours = palette.colours.len();
    let bits = match colours {
        2 => 1,
        3..=4 => 2,
        _ => 4,
    };
    let packed_size = colours * cpixel + height * (width * bits).div_ceil(8);
    if !palette.overflow && packed_size < rle_size {
        out.push(colours as u8);
        put_palette(&palette, format, out);
        put_packed(pixels, width, &palette.colours, bits, out);
    } else if pixels.len() * cpixel <= rle_size {
        out.push(0);
        for &p in pixels {
            format.put_cpixel(p, out);
        }
    } else {
        out.push(128);
        for &(colour, n) in &runs {
            format.put_cpixel(colour, out);
            put_run_length(n, out);
        }
    }
}

fn put_palette(palette: &Palette, format: &PixelFormat, out: &mut Vec<u8>) {
    for &c in &palette.colours {
        format.put_cpixel(c, out);
    }
}

/// Bits of a coverage level in a packed tile.
const RAMP_BITS: usize = match LEVELS {
    ..=2 => 1,
    3..=4 => 2,
    5..=16 => 4,
    _ => panic!("a packed palette has at most 16 colours"),
};

/// The colours of a tile of glyphs in one colour on another, as the renderer
/// draws them ([`coverage::ramp`]), when `palette` (the tile's, more than two
/// colours) is among them: every level, the background first, whichever the
/// tile uses. An index is then a coverage level, the same in every tile, so a
/// glyph gives the same bytes wherever it is. The background is the more
/// frequent of the two colours furthest apart.
pub(super) fn ramp_of(palette: &Palette, pixels: &[u32]) -> Option<[u32; LEVELS]> {
    if palette.overflow || palette.colours.len() <= 2 {
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

/// Palette indices, `bits` each, most significant first, each row padded to a byte.
fn put_packed(pixels: &[u32], width: usize, palette: &[u32], bits: usize, out: &mut Vec<u8>) {
    for row in pixels.chunks(width) {
        let mut byte = 0u8;
        let mut used = 0;
        for &p in row {
            byte = (byte << bits) | palette.iter().position(|&c| c == p).unwrap_or(0) as u8;
            used += bits;
            if used == 8 {
                out.push(byte);
                byte = 0;
                used = 0;
            }
        }
        if used > 0 {
            out.push(byte << (8 - used));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_solid_tile_is_one_pixel() {
        let mut out = Vec::new();
        encode_tile(&[7; 64], 8, &PixelFormat::SERVER, None, &mut out);
        assert_eq!(out, [1, 7, 0, 0]);
    }

    #[test]
    fn two_colours_pack_into_bits() {
        let mut pixels = vec![0u32; 16 * 4];
        for (i, p) in pixels.iter_mut().enumerate() {
            *p = if (i / 3) % 2 == 0 { 0 } else { 0xffffff };
        }
        let mut out = Vec::new();
        encode_tile(&pixels, 16, &PixelFormat::SERVER, None, &mut out);
        // 2-colour packed: type, 2 cpixels, 4 rows of 2 bytes.
        assert_eq!(out[0], 2);
        assert_eq!(out.len(), 1 + 6 + 8);
        // Row 0: pixels 0..3 colour 0, 3..6 colour 1, ...: 000111000111000 1.
        assert_eq!(&out[7..9], &[0b0001_1100, 0b0111_0001]);
    }

    #[test]
    fn glyph_tiles_send_coverage_levels() {
        let ramp = coverage::ramp(0xaaaaaa, 0x102030);
        let tile = |levels: &[usize]| -> Vec<u8> {
            let pixels: Vec<u32> = levels.iter().map(|&l| ramp[l]).collect();
            let mut out = Vec::new();
            encode_tile(&pixels, 8, &PixelFormat::SERVER, None, &mut out);
            out
        };
        let top = [0, 0, 1, LEVELS - 1, LEVELS - 1, 1, 0, 0];
        // Whichever levels a tile uses, its palette is the whole ramp, the
        // background first, so a pixel's index is its level.
        for below in [[0; 8], [0, 2, 0, 0, 0, 0, 0, 0]] {
            let out = tile(&[top, below].concat());
            let mut expected = vec![LEVELS as u8];
            for &c in &ramp {
                PixelFormat::SERVER.put_cpixel(c, &mut expected);
            }
            assert_eq!(out[..expected.len()], expected);
            let packed = &out[expected.len()..];
            assert_eq!(packed.len(), 2 * (8 * RAMP_BITS).div_ceil(8));
            let first_row = &packed[..packed.len() / 2];
            let levels: Vec<usize> = (0..8)
                .map(|x| {
                    usize::from(first_row[x * RAMP_BITS / 8] >> (8 - RAMP_BITS - x * RAMP_BITS % 8)) % LEVELS
                })
                .collect();
            assert_eq!(levels, top);
        }
    }

    #[test]
    fn runs_end_where_a_cell_row_starts() {
        // A tile 2 wide and 6 rows tall, all 0 but for one pixel on row 4.
        let pixels = [0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0];
        assert_eq!(runs(&pixels, 2, None), [(0, 8), (5, 1), (0, 3)]);
        // Cells 3 rows tall from the tile's top: a run ends before row 3.
        let cells = Some(CellRows { height: 3, first: 0 });
        assert_eq!(runs(&pixels, 2, cells), [(0, 6), (0, 2), (5, 1), (0, 3)]);
        // The tile starting on framebuffer row 4: cell rows start at its rows 2 and 5.
        let cells = Some(CellRows { height: 3, first: 4 });
        assert_eq!(runs(&pixels, 2, cells), [(0, 4), (0, 4), (5, 1), (0, 1), (0, 2)]);
    }

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
    fn long_runs_use_run_lengths() {
        assert_eq!(run_length_len(1), 1);
        assert_eq!(run_length_len(256), 2);
        let mut out = Vec::new();
        put_run_length(256, &mut out);
        assert_eq!(out, [255, 0]);
    }
}
