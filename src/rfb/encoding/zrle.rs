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
use std::hash::BuildHasherDefault;
use std::iter;

use super::cell_copy;
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
        // Every column's tiles, one after another.
        let mut tiles = Vec::new();
        let mut writer = TileWriter::new(format);
        let Some((cell_width, cell_height)) = columns else {
            writer.encode_tiles(patch, 0, usize::from(rect.width), None, &mut tiles);
            self.put_rects(&[rect], &[&tiles], out);
            return 1;
        };
        let columns = rect.width / cell_width;
        let width = usize::from(cell_width);
        let mut ends = Vec::with_capacity(usize::from(columns));
        for column in 0..usize::from(columns) {
            writer.encode_tiles(patch, column * width, width, Some(cell_height), &mut tiles);
            ends.push(tiles.len());
        }
        let column_tiles =
            |column: usize| &tiles[if column == 0 { 0 } else { ends[column - 1] }..ends[column]];
        let lengths: Vec<usize> = (0..ends.len()).map(|column| column_tiles(column).len()).collect();
        let order = column_order(patch, (cell_width, cell_height), &lengths);
        let rects: Vec<Rect> = order
            .iter()
            .map(|&column| patch.sub_rect(column * width, 0, width, usize::from(rect.height)))
            .collect();
        let pieces: Vec<&[u8]> = order.iter().map(|&column| column_tiles(column)).collect();
        self.put_rects(&rects, &pieces, out);
        columns
    }

    /// Appends rectangles, each of its encoded tiles, compressed together.
    fn put_rects(&mut self, rects: &[Rect], tiles: &[&[u8]], out: &mut Vec<u8>) {
        for (rect, compressed) in rects.iter().zip(self.stream.compress(tiles, self.effort)) {
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
    // Each cell's glyph as a number (the same pixels, the same number),
    // [`BLANK`] for a cell of one colour.
    let mut glyphs: Glyphs = HashMap::default();
    let mut cells = Vec::with_capacity(lengths.len() * rows);
    for column in 0..lengths.len() {
        for row in 0..rows {
            let first = (top + row * cell_height) * stride + column * cell_width;
            let lines = (0..cell_height).map(|y| &patch.pixels[first + y * stride..][..cell_width]);
            cells.push(match cell_copy::hash(lines) {
                Some(hash) => {
                    let next = glyphs.len() as u32;
                    *glyphs.entry(hash).or_insert(next)
                }
                None => BLANK,
            });
        }
    }
    // Where each glyph was last sent, in uncompressed bytes: far enough
    // back for one never sent to be out of the window, and a blank cell's
    // (the last) far enough ahead never to be.
    const NEVER: i64 = -(1 << 40);
    let mut sent: Vec<i64> = vec![NEVER; glyphs.len() + 1];
    sent[glyphs.len()] = 1 << 40;
    let blank = glyphs.len() as u32;
    for cell in &mut cells {
        if *cell == BLANK {
            *cell = blank;
        }
    }
    let window = WINDOW as i64;
    let mut at = 0i64;
    let mut left: Vec<usize> = (0..lengths.len()).collect();
    let mut order = Vec::with_capacity(lengths.len());
    while !left.is_empty() {
        let after = order.last().map_or(0, |&c| c + 1);
        // The column with the fewest cells zlib cannot match, the next to
        // the right on a tie, then the leftmost: a column is counted only as
        // far as it could still be that one.
        let mut best: Option<(usize, bool, usize, usize)> = None;
        for (i, &column) in left.iter().enumerate() {
            let per_cell = (lengths[column] / rows.max(1)) as i64;
            let bound = best.map_or(usize::MAX, |(unmatched, ..)| unmatched);
            let mut unmatched = 0;
            let mut offset = at - window;
            for &glyph in &cells[column * rows..(column + 1) * rows] {
                unmatched += usize::from(offset > sent[glyph as usize]);
                offset += per_cell;
                if unmatched > bound {
                    break;
                }
            }
            let key = (unmatched, column != after, column, i);
            if best.is_none_or(|b| key < b) {
                best = Some(key);
            }
        }
        let (.., i) = best.expect("a column is left");
        let column = left.remove(i);
        let per_cell = (lengths[column] / rows.max(1)) as i64;
        for (row, &glyph) in cells[column * rows..(column + 1) * rows].iter().enumerate() {
            if glyph != blank {
                sent[glyph as usize] = at + row as i64 * per_cell;
            }
        }
        at += lengths[column] as i64;
        order.push(column);
    }
    order
}

/// Glyph numbers by their cells' hashes ([`cell_copy::hash`]).
type Glyphs = HashMap<u64, u32, BuildHasherDefault<cell_copy::Prehashed>>;

/// A blank cell in [`column_order`]'s cells, while glyphs are numbered.
const BLANK: u32 = u32::MAX;

fn put_run_length(run: usize, out: &mut Vec<u8>) {
    let mut left = run - 1;
    while left >= 255 {
        out.push(255);
        left -= 255;
    }
    out.push(left as u8);
}

/// The most colours a packed palette holds.
const PALETTE_MAX: usize = 16;

/// Writes tiles in one pixel format, read in place from a patch: each tile
/// is looked at once for its colours, runs and palette indices, and whatever
/// it is sent as is written from that (a full 80x24 screen of 10x20 cells,
/// sent a column of cells at a time, is 640 tiles an update, for each group
/// of viewers).
struct TileWriter<'a> {
    format: &'a PixelFormat,
    cpixel_len: usize,
    /// Each pixel's index in the tile's palette, row after row.
    indices: Vec<u8>,
    slots: Slots,
    cpixels: CPixels,
}

impl<'a> TileWriter<'a> {
    fn new(format: &'a PixelFormat) -> TileWriter<'a> {
        TileWriter {
            format,
            cpixel_len: format.cpixel_len(),
            indices: Vec::new(),
            slots: Slots::new(),
            cpixels: CPixels::default(),
        }
    }

    /// Appends the tiles of the part of `patch` from column `x`, `width`
    /// wide and the patch's height: [`TILE`] pixels square, left to right
    /// then top to bottom, uncompressed. With `cell_height`, no run goes on
    /// from one cell row of the screen to the next (rows at multiples of it
    /// from the framebuffer's top).
    fn encode_tiles(
        &mut self,
        patch: &Patch,
        x: usize,
        width: usize,
        cell_height: Option<u16>,
        out: &mut Vec<u8>,
    ) {
        let (stride, height) = (usize::from(patch.rect.width), usize::from(patch.rect.height));
        for y in (0..height).step_by(TILE) {
            let h = TILE.min(height - y);
            let cells = cell_height
                .map(|ch| CellRows { height: usize::from(ch), first: usize::from(patch.rect.y) + y });
            for tile_x in (x..x + width).step_by(TILE) {
                let w = TILE.min(x + width - tile_x);
                let tile = Tile { pixels: &patch.pixels[y * stride + tile_x..], stride, width: w, height: h };
                self.encode_tile(&tile, cells, out);
            }
        }
    }

    /// Appends one tile: solid if it is, a packed palette if that is smaller
    /// than plain run-length, raw if that is, else plain run-length (whose
    /// runs end at cell rows when `cells` says where they are).
    fn encode_tile(&mut self, tile: &Tile, cells: Option<CellRows>, out: &mut Vec<u8>) {
        let scan = Scan::of(tile, &mut self.indices, &mut self.slots);
        let colours = &scan.colours[..scan.len];
        if scan.len == 1 {
            out.push(1);
            self.cpixels.put(self.format, colours[0], out);
            return;
        }
        if !scan.overflow
            && let Some(ramp) = ramp_for(colours, |c| {
                count(&self.indices, colours.iter().position(|&p| p == c).unwrap_or(PALETTE_MAX) as u8)
            })
        {
            // Each palette index's level: its first place in the ramp.
            let mut levels = [0u8; PALETTE_MAX];
            for (level, &c) in iter::zip(&mut levels, colours) {
                *level = ramp.iter().position(|&r| r == c).unwrap_or(0) as u8;
            }
            out.push(LEVELS as u8);
            for &c in &ramp {
                self.cpixels.put(self.format, c, out);
            }
            put_packed(&self.indices, tile.width, &levels, RAMP_BITS, out);
            return;
        }
        let cpixel = self.cpixel_len;
        let (runs, run_bytes) = run_size(tile, cells);
        let rle_size = runs * cpixel + run_bytes;
        let bits = match scan.len {
            2 => 1,
            3..=4 => 2,
            _ => 4,
        };
        let packed_size = scan.len * cpixel + tile.height * (tile.width * bits).div_ceil(8);
        if !scan.overflow && packed_size < rle_size {
            out.push(scan.len as u8);
            for &c in colours {
                self.cpixels.put(self.format, c, out);
            }
            let identity: [u8; PALETTE_MAX] = std::array::from_fn(|i| i as u8);
            put_packed(&self.indices, tile.width, &identity, bits, out);
        } else if tile.width * tile.height * cpixel <= rle_size {
            out.push(0);
            for row in tile.rows() {
                for &p in row {
                    self.cpixels.put(self.format, p, out);
                }
            }
        } else {
            out.push(128);
            self.put_runs(tile, cells, out);
        }
    }

    /// Appends a tile's runs of equal pixels in raster order, each its
    /// colour and length. With `cells`, a run also ends where a cell row
    /// starts, so that a cell's runs are the same whatever is above and below it.
    fn put_runs(&mut self, tile: &Tile, cells: Option<CellRows>, out: &mut Vec<u8>) {
        let mut colour = tile.pixels[0];
        let mut length = 0;
        for (row, line) in tile.rows().enumerate() {
            let cell_starts = cells.is_some_and(|c| (c.first + row).is_multiple_of(c.height));
            for (i, &p) in line.iter().enumerate() {
                if length > 0 && (p != colour || (i == 0 && cell_starts)) {
                    self.cpixels.put(self.format, colour, out);
                    put_run_length(length, out);
                    length = 0;
                }
                colour = p;
                length += 1;
            }
        }
        self.cpixels.put(self.format, colour, out);
        put_run_length(length, out);
    }
}

/// A tile's pixels in place: `height` rows of `width`, `stride` apart.
struct Tile<'a> {
    pixels: &'a [u32],
    stride: usize,
    width: usize,
    height: usize,
}

impl Tile<'_> {
    fn rows(&self) -> impl Iterator<Item = &[u32]> {
        (0..self.height).map(|row| &self.pixels[row * self.stride..row * self.stride + self.width])
    }
}

/// What one look at a tile finds: its colours.
struct Scan {
    /// The distinct colours in order of first appearance, the first [`PALETTE_MAX`].
    colours: [u32; PALETTE_MAX],
    len: usize,
    /// Whether there are more than [`PALETTE_MAX`] colours.
    overflow: bool,
}

/// Palette indices by colour while a tile is looked at, by a hash of the
/// colour: a colour's index plus one, 0 for none. Only the tile's palette
/// colours go in, and they are taken out after it.
struct Slots([(u32, u8); SLOTS]);

const SLOTS: usize = 64;

impl Slots {
    fn new() -> Slots {
        Slots([(0, 0); SLOTS])
    }

    fn of(colour: u32) -> usize {
        (colour.wrapping_mul(0x9e37_79b1) >> 26) as usize % SLOTS
    }
}

impl Scan {
    /// Looks at `tile` once for its palette, writing each pixel's index to
    /// `indices`; it stops once the palette overflows. Each pixel is looked up
    /// whether or not it repeats the one before, so that glyphs' edges cost
    /// no mispredicted branches.
    fn of(tile: &Tile, indices: &mut Vec<u8>, slots: &mut Slots) -> Scan {
        let mut scan = Scan { colours: [0; PALETTE_MAX], len: 0, overflow: false };
        indices.clear();
        indices.resize(tile.width * tile.height, 0);
        for (line, line_indices) in iter::zip(tile.rows(), indices.chunks_exact_mut(tile.width)) {
            for (&p, slot) in iter::zip(line, line_indices) {
                *slot = match slots.0[Slots::of(p)] {
                    (colour, index) if colour == p && index > 0 => index - 1,
                    _ => scan.index_of(p, slots),
                };
            }
            if scan.overflow {
                break;
            }
        }
        for &c in &scan.colours[..scan.len] {
            slots.0[Slots::of(c)] = (0, 0);
        }
        scan
    }

    /// The palette index of a colour not in `slots`, adding it to both if
    /// it is new (index 0 once the palette has overflowed).
    #[cold]
    fn index_of(&mut self, colour: u32, slots: &mut Slots) -> u8 {
        if self.overflow {
            return 0;
        }
        let index = match self.colours[..self.len].iter().position(|&c| c == colour) {
            Some(i) => i,
            None if self.len == PALETTE_MAX => {
                self.overflow = true;
                return 0;
            }
            None => {
                self.colours[self.len] = colour;
                self.len += 1;
                self.len - 1
            }
        };
        slots.0[Slots::of(colour)] = (colour, index as u8 + 1);
        index as u8
    }
}

/// How many of `indices` are `index`.
fn count(indices: &[u8], index: u8) -> usize {
    // Bytes summed as bytes, 255 at a time, so that it vectorises.
    indices
        .chunks(255)
        .map(|chunk| usize::from(chunk.iter().fold(0u8, |n, &i| n + u8::from(i == index))))
        .sum()
}

/// How many runs plain run-length sends for `tile` (ending at cell rows,
/// with `cells`), and the bytes of their lengths.
fn run_size(tile: &Tile, cells: Option<CellRows>) -> (usize, usize) {
    let mut previous = tile.pixels[0];
    let (mut runs, mut extra) = (0, 0);
    // Pixels the current run may still take before its length needs another byte.
    let mut left = 0u32;
    // The tile's row within its cell row, 0 where one starts.
    let mut row_in_cell = cells.map_or(1, |c| c.first % c.height);
    let mut look = |p: u32, new_run: bool| {
        // No branch on whether a pixel repeats the last: that is unpredictable in text.
        let same = p == previous && !new_run;
        runs += usize::from(!same);
        left = if same { left - 1 } else { 255 };
        if left == 0 {
            extra += 1;
            left = 255;
        }
        previous = p;
    };
    for (row, line) in tile.rows().enumerate() {
        look(line[0], row == 0 || row_in_cell == 0);
        if let Some(c) = cells {
            row_in_cell += 1;
            if row_in_cell == c.height {
                row_in_cell = 0;
            }
        }
        for &p in &line[1..] {
            look(p, false);
        }
    }
    (runs, runs + extra)
}

/// Colours as ZRLE's CPIXELs, each worked out once an update: a text
/// screen's tiles use a few colours over and over.
struct CPixels {
    /// (colour, its CPIXEL's bytes and their count), by a hash of the colour.
    slots: Box<[(u32, [u8; 4], u8); CPIXEL_SLOTS]>,
    scratch: Vec<u8>,
}

const CPIXEL_SLOTS: usize = 256;

impl Default for CPixels {
    fn default() -> Self {
        // Empty slots hold no bytes: no colour is taken as found there.
        CPixels { slots: Box::new([(0, [0; 4], 0); CPIXEL_SLOTS]), scratch: Vec::with_capacity(4) }
    }
}

impl CPixels {
    fn put(&mut self, format: &PixelFormat, colour: u32, out: &mut Vec<u8>) {
        let slot = &mut self.slots[(colour.wrapping_mul(0x9e37_79b1) >> 24) as usize % CPIXEL_SLOTS];
        if slot.2 == 0 || slot.0 != colour {
            self.scratch.clear();
            format.put_cpixel(colour, &mut self.scratch);
            let mut bytes = [0; 4];
            bytes[..self.scratch.len()].copy_from_slice(&self.scratch);
            *slot = (colour, bytes, self.scratch.len() as u8);
        }
        out.extend_from_slice(&slot.1[..usize::from(slot.2)]);
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
    if palette.overflow {
        return None;
    }
    ramp_for(&palette.colours, |c| pixels.iter().filter(|&&p| p == c).count())
}

/// [`ramp_of`] for a tile of the distinct `colours` (all of them), `count`
/// saying how many pixels are each.
fn ramp_for(colours: &[u32], count: impl Fn(u32) -> usize) -> Option<[u32; LEVELS]> {
    if colours.len() <= 2 {
        return None;
    }
    let distance = |a: u32, b: u32| {
        [16, 8, 0].iter().map(|s| ((a >> s & 0xff) as i32 - (b >> s & 0xff) as i32).pow(2)).sum::<i32>()
    };
    let (a, b) = colours
        .iter()
        .enumerate()
        .flat_map(|(i, &a)| colours[i + 1..].iter().map(move |&b| (a, b)))
        .max_by_key(|&(a, b)| distance(a, b))?;
    let (fg, bg) = if count(a) >= count(b) { (b, a) } else { (a, b) };
    let ramp = coverage::ramp(fg, bg);
    colours.iter().all(|c| ramp.contains(c)).then_some(ramp)
}

/// Palette indices as `bits` each, most significant first, each row
/// (`width` indices) padded to a byte; `indices` mapped through `map` first.
fn put_packed(indices: &[u8], width: usize, map: &[u8; PALETTE_MAX], bits: usize, out: &mut Vec<u8>) {
    match bits {
        1 => put_packed_as::<1>(indices, width, map, out),
        2 => put_packed_as::<2>(indices, width, map, out),
        _ => put_packed_as::<4>(indices, width, map, out),
    }
}

fn put_packed_as<const BITS: usize>(
    indices: &[u8],
    width: usize,
    map: &[u8; PALETTE_MAX],
    out: &mut Vec<u8>,
) {
    let per_byte = 8 / BITS;
    out.reserve(indices.len().div_ceil(per_byte) + indices.len() / width);
    for row in indices.chunks_exact(width) {
        let mut bytes = row.chunks_exact(per_byte);
        for byte in &mut bytes {
            out.push(byte.iter().fold(0u8, |b, &i| (b << BITS) | map[usize::from(i) % PALETTE_MAX]));
        }
        let rest = bytes.remainder();
        if !rest.is_empty() {
            let b = rest.iter().fold(0u8, |b, &i| (b << BITS) | map[usize::from(i) % PALETTE_MAX]);
            out.push(b << (8 - rest.len() * BITS));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One tile of `pixels` (`width` a row), as [`TileWriter`] writes it.
    fn encode_tile(
        pixels: &[u32],
        width: usize,
        format: &PixelFormat,
        cells: Option<CellRows>,
        out: &mut Vec<u8>,
    ) {
        let tile = Tile { pixels, stride: width, width, height: pixels.len() / width };
        TileWriter::new(format).encode_tile(&tile, cells, out);
    }

    /// What a tile is sent as, said the plain way (a copy of its pixels, a
    /// pass for each question): [`TileWriter`] must write the same bytes.
    mod plain {
        use super::super::*;

        /// Bytes a run length takes: 255 for every full 255, then the rest.
        pub fn run_length_len(run: usize) -> usize {
            (run - 1) / 255 + 1
        }

        /// Runs of equal pixels in raster order (`width` a row): (colour, length).
        /// With `cells`, a run also ends where a cell row starts.
        pub fn runs(pixels: &[u32], width: usize, cells: Option<CellRows>) -> Vec<(u32, usize)> {
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

        pub fn encode_tile(
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
                for &c in &palette.colours {
                    format.put_cpixel(c, out);
                }
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
    }

    /// Pixel formats viewers ask for: 32 bits (CPIXELs of 3 bytes, low or
    /// high, and of 4), 16 and 8.
    fn formats() -> Vec<PixelFormat> {
        let format = PixelFormat::of;
        vec![
            PixelFormat::SERVER,
            format(32, 24, true, [255, 255, 255], [24, 16, 8]),
            format(32, 32, false, [1023, 1023, 1023], [20, 10, 0]),
            format(16, 16, false, [31, 63, 31], [11, 5, 0]),
            format(16, 16, true, [31, 63, 31], [11, 5, 0]),
            format(8, 8, false, [7, 7, 3], [0, 3, 6]),
        ]
    }

    proptest! {
        #[test]
        fn tiles_are_written_as_the_plain_way_says(
            width in 1usize..=TILE,
            height in 1usize..=TILE,
            // Colours drawn from a glyph ramp, a few others, or many.
            kind in 0usize..4,
            // How often the colour changes from the background: 1 in 3, or
            // seldom (runs of hundreds).
            seldom in any::<bool>(),
            seed in any::<u64>(),
            cell_height in prop::option::of((1usize..40, 0usize..200)),
        ) {
            let ramp = coverage::ramp(0xaaaaaa ^ (seed as u32 & 0x0f0f0f), 0x102030);
            let mut state = seed | 1;
            let mut next = move || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state
            };
            let pixels: Vec<u32> = (0..width * height)
                .map(|_| {
                    let r = next();
                    // Runs: most pixels repeat the background.
                    let change = if seldom { r % 300 == 0 } else { r % 3 == 0 };
                    let pick = if change { (r >> 8) as usize } else { 0 };
                    match kind {
                        0 => ramp[pick % LEVELS],
                        1 => ramp[pick % 2 * (LEVELS - 1)],
                        2 => [0x123456, 0xabcdef, 0x00ff00, 0x808080, 0xff0000][pick % 5],
                        _ => (pick as u32).wrapping_mul(0x01_0307) & 0xffffff,
                    }
                })
                .collect();
            let cells = cell_height.map(|(height, first)| CellRows { height, first });
            let tile = Tile { pixels: &pixels, stride: width, width, height };
            let runs = plain::runs(&pixels, width, cells);
            let bytes = runs.iter().map(|&(_, n)| plain::run_length_len(n)).sum::<usize>();
            prop_assert_eq!(run_size(&tile, cells), (runs.len(), bytes));
            let reversed: Vec<u32> = pixels.iter().rev().copied().collect();
            for format in formats() {
                let (mut fast, mut plain) = (Vec::new(), Vec::new());
                // After another tile, as tiles follow each other.
                let mut writer = TileWriter::new(&format);
                let before = Tile { pixels: &reversed, stride: width, width, height };
                writer.encode_tile(&before, cells, &mut Vec::new());
                writer.encode_tile(&tile, cells, &mut fast);
                plain::encode_tile(&pixels, width, &format, cells, &mut plain);
                prop_assert_eq!(fast, plain);
            }
        }
    }

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
        let runs = plain::runs;
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
    fn a_run_of_256_takes_two_length_bytes() {
        let mut pixels = vec![0u32; 256 + 64];
        pixels[256..].fill(9);
        let tile = Tile { pixels: &pixels, stride: 64, width: 64, height: 5 };
        assert_eq!(run_size(&tile, None), (2, 3));
    }

    #[test]
    fn long_runs_use_run_lengths() {
        assert_eq!(plain::run_length_len(1), 1);
        assert_eq!(plain::run_length_len(256), 2);
        let mut out = Vec::new();
        put_run_length(256, &mut out);
        assert_eq!(out, [255, 0]);
    }
}
