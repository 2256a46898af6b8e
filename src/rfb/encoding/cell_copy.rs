//! Cell copies: a text screen repeats a few dozen glyphs, and an encoding
//! that cannot find the repeats sends each in full: Hextile, which has no
//! compression, nearly a glyph's raw pixels; ZRLE and Tight, in a single row
//! of text where zlib finds few repeats, still more than a copy. A cell that
//! repeats one the viewer already has goes instead as a CopyRect of 16 bytes
//! (its header and source position), and a run of such cells next to each
//! other as one CopyRect. What that saves each encoding is in README.md's
//! Performance section. The
//! viewer has a cell when it lies outside the update's damage, or when the
//! update paints it before the copies. [`Encoders::copy_cells`](super::Encoders::copy_cells)
//! says where each encoding uses this.
//!
//! Cells are recognised by their pixels (hashed, then compared), so this
//! works on any framebuffer drawn on a grid. The rectangles of an update are
//! applied in order (RFC 6143 7.6.1), so copies sent after the patches may
//! take their pixels from them; TigerVNC's parallel decoder orders a CopyRect
//! after whatever overlaps its source.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::patch::Patch;
use crate::frame::{Framebuffer, Move, Rect};

/// What a CopyRect costs on the wire: header and source position.
const COPY_BYTES: usize = 16;

/// Cells with the same hash kept as sources; the longest run among them wins.
const CANDIDATES: usize = 8;

/// Copies planned for one update, at most this many: the update's rectangle
/// count is a u16, and beyond this a screen is far larger than any text console.
const MAX_COPIES: usize = 16_384;

/// Updates smaller than this many cells are sent without copies: they save a
/// few dozen bytes at most, and planning reads the whole screen (a keystroke's
/// echo went from 0.4 to 1.8 ms p50 with it, `cargo bench --bench rfb`).
const MIN_CELLS: usize = 16;

/// Whether an update repainting `rects` is large enough to plan copies for.
pub fn worth_planning(cell: (u16, u16), rects: &[Rect]) -> bool {
    let area: usize = rects.iter().map(|r| usize::from(r.width) * usize::from(r.height)).sum();
    area >= MIN_CELLS * usize::from(cell.0) * usize::from(cell.1)
}

/// The source cells of each hash, in the order they were found.
type Sources = HashMap<u64, Candidates, BuildHasherDefault<Prehashed>>;

/// Up to [`CANDIDATES`] cells (their indices) with one hash: kept inline,
/// as a screen holds hundreds of distinct glyphs.
#[derive(Default)]
struct Candidates {
    len: usize,
    cells: [usize; CANDIDATES],
}

/// The hasher of [`Sources`], whose keys are hashes already ([`hash`]): the
/// key itself, its high half folded into the low one.
#[derive(Default)]
pub(super) struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key ^ (key >> 32);
    }
}

/// Where a cell stands while an update is planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The viewer has it, or will once the patches are painted.
    Source,
    /// Damaged and not looked at yet.
    Damaged,
    /// A copy paints it.
    Copied,
}

/// The character grid over a framebuffer: whole cells only.
struct Grid {
    cell_width: usize,
    cell_height: usize,
    cols: usize,
    rows: usize,
    stride: usize,
}

impl Grid {
    fn rect(&self, col: usize, row: usize, cols: usize) -> Rect {
        Rect::new(
            (col * self.cell_width) as u16,
            (row * self.cell_height) as u16,
            (cols * self.cell_width) as u16,
            self.cell_height as u16,
        )
    }

    /// The rows of pixels of cell `index`.
    fn lines<'a>(&self, screen: &'a [u32], index: usize) -> impl Iterator<Item = &'a [u32]> {
        let (col, row) = (index % self.cols, index / self.cols);
        let x = col * self.cell_width;
        (row * self.cell_height..(row + 1) * self.cell_height)
            .map(move |y| &screen[y * self.stride + x..y * self.stride + x + self.cell_width])
    }

    fn pixels(&self, screen: &[u32], index: usize, out: &mut Vec<u32>) {
        out.clear();
        for line in self.lines(screen, index) {
            out.extend_from_slice(line);
        }
    }

    fn same(&self, screen: &[u32], a: usize, b: usize) -> bool {
        self.lines(screen, a).zip(self.lines(screen, b)).all(|(x, y)| x == y)
    }
}

/// Plans the copies for an update that paints `patches` over `screen` (the
/// framebuffer the patches were cut from), cells being `cell` pixels. Copied
/// cells are painted over in the patches with their most common colour, so
/// that the patches encode cheaply, and the returned moves must follow the
/// patches in the same update. `cost` says what the patch's encoding would
/// spend on some pixels (a `width`-wide block): a run is copied only when that
/// is more than a CopyRect.
pub fn plan(
    screen: &Framebuffer,
    cell: (u16, u16),
    patches: &mut [Patch],
    cost: &dyn Fn(&[u32], usize) -> usize,
) -> Vec<Move> {
    let (cell_width, cell_height) = (usize::from(cell.0), usize::from(cell.1));
    if cell_width == 0 || cell_height == 0 {
        return Vec::new();
    }
    let grid = Grid {
        cell_width,
        cell_height,
        cols: usize::from(screen.width()) / cell_width,
        rows: usize::from(screen.height()) / cell_height,
        stride: usize::from(screen.width()),
    };
    let pixels = screen.pixels();
    let cells = grid.cols * grid.rows;
    let mut state = vec![State::Source; cells];
    for patch in patches.iter() {
        for_each_cell(&grid, patch.rect, |index| state[index] = State::Damaged);
    }
    if !state.contains(&State::Damaged) {
        // Nothing to copy into: the screen need not be read.
        return Vec::new();
    }
    let hashes: Vec<Option<u64>> = (0..cells).map(|index| hash(grid.lines(pixels, index))).collect();
    let mut sources: Sources = HashMap::default();
    let add_source = |sources: &mut Sources, index: usize| {
        if let Some(h) = hashes[index] {
            let list = sources.entry(h).or_default();
            if list.len < CANDIDATES {
                list.cells[list.len] = index;
                list.len += 1;
            }
        }
    };
    for index in (0..cells).filter(|&index| state[index] == State::Source) {
        add_source(&mut sources, index);
    }

    let mut moves = Vec::new();
    let mut block = Vec::new();
    for index in 0..cells {
        if state[index] != State::Damaged {
            continue;
        }
        let col = index % grid.cols;
        // The longest run of damaged cells from here that repeats a run of sources.
        let mut best: Option<(usize, usize)> = None;
        let candidates = hashes[index].and_then(|h| sources.get(&h)).map_or(&[][..], |c| &c.cells[..c.len]);
        for &source in candidates {
            let source_col = source % grid.cols;
            let mut length = 0;
            while col + length < grid.cols
                && source_col + length < grid.cols
                && state[index + length] == State::Damaged
                && state[source + length] == State::Source
                && hashes[index + length] == hashes[source + length]
                && grid.same(pixels, index + length, source + length)
            {
                length += 1;
            }
            if length > best.map_or(0, |(_, l)| l) {
                best = Some((source, length));
            }
        }
        let worth = best.filter(|&(_, length)| {
            let run_cost: usize = (0..length)
                .map(|i| {
                    grid.pixels(pixels, index + i, &mut block);
                    cost(&block, grid.cell_width)
                })
                .sum();
            run_cost > COPY_BYTES
        });
        match worth {
            Some((source, length)) if moves.len() < MAX_COPIES => {
                state[index..index + length].fill(State::Copied);
                let from = grid.rect(source % grid.cols, source / grid.cols, length);
                moves.push(Move {
                    dst: grid.rect(col, index / grid.cols, length),
                    src_x: from.x,
                    src_y: from.y,
                });
            }
            _ => {
                state[index] = State::Source;
                add_source(&mut sources, index);
            }
        }
    }
    for index in (0..cells).filter(|&index| state[index] == State::Copied) {
        grid.pixels(pixels, index, &mut block);
        let fill = most_common(&block);
        let rect = grid.rect(index % grid.cols, index / grid.cols, 1);
        for patch in patches.iter_mut() {
            paint(patch, rect, fill);
        }
    }
    moves
}

/// Calls `f` with the index of every whole cell that `rect` touches.
fn for_each_cell(grid: &Grid, rect: Rect, mut f: impl FnMut(usize)) {
    if rect.is_empty() {
        return;
    }
    let cols = usize::from(rect.x) / grid.cell_width..(rect.right() as usize).div_ceil(grid.cell_width);
    let rows = usize::from(rect.y) / grid.cell_height..(rect.bottom() as usize).div_ceil(grid.cell_height);
    for row in rows.start..rows.end.min(grid.rows) {
        for col in cols.start..cols.end.min(grid.cols) {
            f(row * grid.cols + col);
        }
    }
}

/// A hash of a cell's pixels, or `None` for a cell of one colour, which every
/// encoding sends cheaply and which never starts a copy. Pixels are taken two
/// at a time into four independent chains, so that a cell's multiplies
/// overlap instead of waiting each for the last (every cell of the screen is
/// hashed for every update planned).
pub(super) fn hash<'a>(lines: impl Iterator<Item = &'a [u32]>) -> Option<u64> {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let step = |h: u64, word: u64| (h.rotate_left(5) ^ word).wrapping_mul(K);
    let pair = |a: u32, b: u32| u64::from(a) | u64::from(b) << 32;
    // Pair j of a line goes into lane j % 4; the lanes are kept apart (not
    // an array indexed by j) so that they stay in registers.
    let (mut lane0, mut lane1, mut lane2, mut lane3) = (0u64, 1u64, 2u64, 3u64);
    let mut first = None;
    let mut differ = 0;
    for line in lines {
        let Some(&start) = line.first() else { continue };
        let first = *first.get_or_insert(start);
        differ |= line.iter().fold(0, |d, &p| d | (p ^ first));
        let mut quads = line.chunks_exact(8);
        for q in &mut quads {
            lane0 = step(lane0, pair(q[0], q[1]));
            lane1 = step(lane1, pair(q[2], q[3]));
            lane2 = step(lane2, pair(q[4], q[5]));
            lane3 = step(lane3, pair(q[6], q[7]));
        }
        let rest = quads.remainder();
        let mut pairs = rest.chunks_exact(2);
        if let Some(p) = pairs.next() {
            lane0 = step(lane0, pair(p[0], p[1]));
        }
        if let Some(p) = pairs.next() {
            lane1 = step(lane1, pair(p[0], p[1]));
        }
        if let Some(p) = pairs.next() {
            lane2 = step(lane2, pair(p[0], p[1]));
        }
        if let [p] = pairs.remainder() {
            lane3 = step(lane3, u64::from(*p) | 1 << 63);
        }
    }
    (differ != 0).then(|| [lane0, lane1, lane2, lane3].iter().fold(0, |h, &lane| step(h, lane)))
}

/// The colour most of `pixels` have: a glyph cell's background.
fn most_common(pixels: &[u32]) -> u32 {
    let mut counts: Vec<(u32, usize)> = Vec::new();
    for &p in pixels {
        match counts.iter_mut().find(|(c, _)| *c == p) {
            Some((_, n)) => *n += 1,
            None => counts.push((p, 1)),
        }
    }
    counts.iter().max_by_key(|(_, n)| *n).map_or(0, |&(c, _)| c)
}

/// Paints the part of `rect` inside `patch` with `colour`.
fn paint(patch: &mut Patch, rect: Rect, colour: u32) {
    let Some(overlap) = rect.intersection(&patch.rect) else { return };
    let stride = usize::from(patch.rect.width);
    let x = usize::from(overlap.x - patch.rect.x);
    for y in overlap.y - patch.rect.y..overlap.y - patch.rect.y + overlap.height {
        let start = usize::from(y) * stride + x;
        patch.pixels[start..start + usize::from(overlap.width)].fill(colour);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 6x2-cell screen of 2x2 cells where cell (col, row) shows `glyphs[row][col]`.
    fn screen(glyphs: [&str; 2]) -> Framebuffer {
        let mut fb = Framebuffer::new(12, 4);
        for (row, line) in glyphs.iter().enumerate() {
            for (col, glyph) in line.bytes().enumerate() {
                let colour = u32::from(glyph);
                // A glyph: its colour in the top-left pixel, the background elsewhere.
                if glyph != b' ' {
                    fb.pixels_mut()[row * 2 * 12 + col * 2] = colour;
                }
            }
        }
        fb
    }

    fn whole(fb: &Framebuffer) -> Vec<Patch> {
        vec![Patch { rect: fb.bounds(), pixels: fb.pixels().to_vec() }]
    }

    /// The viewer's framebuffer after the patches, then the copies.
    fn apply(mut viewer: Framebuffer, patches: &[Patch], moves: &[Move]) -> Framebuffer {
        for patch in patches {
            let width = usize::from(viewer.width());
            for (i, &p) in patch.pixels.iter().enumerate() {
                let (x, y) = (i % usize::from(patch.rect.width), i / usize::from(patch.rect.width));
                viewer.pixels_mut()
                    [(usize::from(patch.rect.y) + y) * width + usize::from(patch.rect.x) + x] = p;
            }
        }
        for mv in moves {
            viewer.apply_move(mv);
        }
        viewer
    }

    const ALWAYS: &dyn Fn(&[u32], usize) -> usize = &|_, _| 100;

    #[test]
    fn repeats_go_as_one_copy_a_run_and_the_viewer_ends_with_the_screen() {
        let fb = screen(["abc ab", " abcab"]);
        let mut patches = whole(&fb);
        let moves = plan(&fb, (2, 2), &mut patches, ALWAYS);
        // Row 0: "ab" at col 4 repeats col 0. Row 1: "abc" at 1, "ab" at 4.
        assert_eq!(moves.len(), 3, "{moves:?}");
        assert_eq!(moves[0], Move { dst: Rect::new(8, 0, 4, 2), src_x: 0, src_y: 0 });
        assert_eq!(moves[1].dst, Rect::new(2, 2, 6, 2));
        let viewer = apply(Framebuffer::new(12, 4), &patches, &moves);
        assert_eq!(viewer, fb);
    }

    #[test]
    fn cells_outside_the_damage_are_sources_and_only_damaged_cells_are_painted() {
        let fb = screen(["xyz   ", "   zyx"]);
        // The viewer has row 0 already; row 1 is damaged.
        let mut viewer = Framebuffer::new(12, 4);
        viewer.pixels_mut()[..24].copy_from_slice(&fb.pixels()[..24]);
        let rect = Rect::new(0, 2, 12, 2);
        let mut pixels = Vec::new();
        fb.copy_rect(rect, &mut pixels);
        let mut patches = vec![Patch { rect, pixels }];
        let moves = plan(&fb, (2, 2), &mut patches, ALWAYS);
        assert_eq!(moves.len(), 3);
        assert!(moves.iter().all(|m| m.dst.y == 2 && m.src_y == 0), "{moves:?}");
        assert_eq!(apply(viewer, &patches, &moves), fb);
    }

    #[test]
    fn a_run_costing_less_than_a_copy_is_sent_as_it_is() {
        let fb = screen(["ab ab ", "      "]);
        let mut patches = whole(&fb);
        let cheap: &dyn Fn(&[u32], usize) -> usize = &|p, _| if p.iter().all(|&c| c == p[0]) { 0 } else { 8 };
        // A glyph at 8 bytes does not pay; the run of two and a blank (16) does not either.
        assert!(plan(&fb, (2, 2), &mut patches, cheap).is_empty());
        assert_eq!(patches, whole(&fb));
    }

    /// A text-like screen of 6x8 cells: glyphs of three colours from a small
    /// alphabet, in `seed`'s order, blanks among them, and a margin.
    fn text_screen(seed: u32) -> Framebuffer {
        let mut fb = Framebuffer::new(6 * 20 + 5, 8 * 5 + 3);
        let width = usize::from(fb.width());
        let mut state = seed.wrapping_mul(2_654_435_761) | 1;
        for row in 0..5 {
            for col in 0..20 {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let glyph = state % 7;
                if glyph == 0 {
                    continue;
                }
                for y in 0..8 {
                    for x in 0..6 {
                        let ink = (x * 3 + y * glyph as usize) % 5;
                        let colour = [0, 0, 0x555555, 0xaaaaaa, 0xffffff][ink];
                        fb.pixels_mut()[(row * 8 + y) * width + col * 6 + x] = colour;
                    }
                }
            }
        }
        fb
    }

    #[test]
    fn hextile_with_copies_gives_the_viewer_the_screen_through_a_scroll() {
        use crate::rfb::encoding::hextile;
        use crate::rfb::encoding::{Encoders, Encoding};
        use crate::rfb::pixel_format::PixelFormat;

        let mut encoders = Encoders::new();
        encoders.set_cell_size(Some((6, 8)));
        let format = PixelFormat::SERVER;
        let send = |screen: &Framebuffer, viewer: &mut Framebuffer, rect: Rect| {
            let mut pixels = Vec::new();
            screen.copy_rect(rect, &mut pixels);
            let mut patches = vec![Patch { rect, pixels }];
            let moves = encoders.copy_cells(Encoding::Hextile, screen, &mut patches, &format);
            let mut out = Vec::new();
            hextile::encode(&patches[0], &format, &mut out);
            let decoded = hextile::decode(&out[12..], usize::from(rect.width), usize::from(rect.height));
            *viewer = apply(viewer.clone(), &[Patch { rect, pixels: decoded }], &moves);
            moves.len()
        };

        let screen = text_screen(1);
        let mut viewer = Framebuffer::new(screen.width(), screen.height());
        assert!(send(&screen, &mut viewer, screen.bounds()) > 10, "repeated glyphs are copied");
        assert_eq!(viewer, screen);

        // Scroll by a row of cells, with a new bottom row of other glyphs.
        let scroll = Move { dst: Rect::new(0, 0, screen.width(), 32), src_x: 0, src_y: 8 };
        let mut scrolled = screen.clone();
        scrolled.apply_move(&scroll);
        let fresh = text_screen(2);
        let bottom = Rect::new(0, 32, fresh.width(), fresh.height() - 32);
        let mut pixels = Vec::new();
        fresh.copy_rect(bottom, &mut pixels);
        let stride = usize::from(scrolled.width());
        for (i, line) in pixels.chunks(stride).enumerate() {
            scrolled.pixels_mut()[(32 + i) * stride..(33 + i) * stride].copy_from_slice(line);
        }
        viewer.apply_move(&scroll);
        assert!(send(&scrolled, &mut viewer, bottom) > 0, "the new row copies glyphs from above");
        assert_eq!(viewer, scrolled);
    }

    #[test]
    fn a_cell_hashes_by_every_pixel_in_its_place_and_one_colour_not_at_all() {
        // A 5x3 cell (an odd width: the last pixel of each line goes alone).
        let cell = |pixels: &[u32]| hash(pixels.chunks(5));
        let glyph: Vec<u32> = (0..15).map(|i| if i % 4 == 0 { 7 } else { 0 }).collect();
        assert_eq!(cell(&glyph), cell(&glyph.clone()));
        for at in 0..glyph.len() {
            let mut other = glyph.clone();
            other[at] ^= 1;
            assert_ne!(cell(&other), cell(&glyph), "pixel {at} changed");
        }
        let mut swapped = glyph.clone();
        swapped.swap(0, 1);
        assert_ne!(cell(&swapped), cell(&glyph));
        assert_eq!(cell(&[3; 15]), None);
    }

    #[test]
    fn a_partial_cell_at_the_edge_is_left_alone() {
        let mut fb = Framebuffer::new(5, 2);
        fb.pixels_mut()[0] = 7;
        fb.pixels_mut()[2] = 7;
        fb.pixels_mut()[4] = 7;
        let mut patches = whole(&fb);
        let moves = plan(&fb, (2, 2), &mut patches, ALWAYS);
        assert_eq!(moves, vec![Move { dst: Rect::new(2, 0, 2, 2), src_x: 0, src_y: 0 }]);
        assert_eq!(apply(Framebuffer::new(5, 2), &patches, &moves), fb);
    }
}
