//! Paints one cell (or the two of a wide character) into a framebuffer: the
//! background, the glyph blended by coverage, the lines of underline,
//! strikethrough and overline, and the cursor.

use crate::term::{Cell, CursorShape, Flags};

use super::font::{Fonts, Style};
use super::glyph_cache::{Glyph, GlyphCache};
use super::palette::Ink;
use crate::frame::coverage::{blend, quantise};

/// About how many bytes of blended glyphs are kept.
const BLEND_CACHE_BYTES: usize = 4 << 20;

/// A glyph blended in two colours: the pixels of its cell box.
struct Blend {
    id: u32,
    fg: u32,
    bg: u32,
    pixels: Box<[u32]>,
}

/// Where the lines drawn over text go, in pixel rows of the cell.
struct Lines {
    thickness: u16,
    underline: u16,
    double_underline: u16,
    strike: u16,
    cursor: u16,
    /// One period of a curly underline, a cell wide, as coverage.
    curly: Vec<u8>,
    curly_top: u16,
    curly_rows: u16,
}

impl Lines {
    fn new(fonts: &Fonts) -> Lines {
        let (w, h, baseline, px) = (fonts.cell_w, fonts.cell_h, fonts.baseline, fonts.px);
        let t = ((px / 14.0).round() as u16).clamp(1, h / 4 + 1);
        let below = h - baseline;
        let underline = (baseline + (below / 3).max(1)).min(h - t);
        let double_underline = (underline + 2 * t).min(h - t);
        let underline = double_underline.saturating_sub(2 * t).min(underline);
        let strike = baseline.saturating_sub(((px * 0.545 + f32::from(t)) / 2.0).round() as u16);
        // The wave: one sine period a cell, so that it runs on across cells.
        let amplitude = (f32::from(below) / 3.0).clamp(0.75, 2.0);
        let curly_top = (f32::from(underline) - amplitude).floor().max(0.0) as u16;
        let curly_rows = ((2.0 * amplitude + f32::from(t)).ceil() as u16 + 1).min(h - curly_top);
        let centre = f32::from(underline) + f32::from(t) / 2.0;
        let mut curly = vec![0u8; usize::from(w) * usize::from(curly_rows)];
        for row in 0..curly_rows {
            for x in 0..w {
                let mut hits = 0;
                for sy in 0..4 {
                    for sx in 0..4 {
                        let px_x = f32::from(x) + (sx as f32 + 0.5) / 4.0;
                        let px_y = f32::from(curly_top + row) + (sy as f32 + 0.5) / 4.0;
                        let wave = centre - amplitude * (std::f32::consts::TAU * px_x / f32::from(w)).sin();
                        hits += u32::from((px_y - wave).abs() <= f32::from(t) / 2.0 + 0.25);
                    }
                }
                curly[usize::from(row) * usize::from(w) + usize::from(x)] = quantise((hits * 255 / 16) as u8);
            }
        }
        Lines {
            thickness: t,
            underline,
            double_underline,
            strike,
            cursor: ((px / 8.0).round() as u16).clamp(1, w.min(h)),
            curly,
            curly_top,
            curly_rows,
        }
    }
}

/// One cell's worth of painting, as the renderer decided it.
pub struct CellPaint<'a> {
    /// The cell (the left one of a wide character).
    pub cell: &'a Cell,
    /// Its combining marks.
    pub marks: &'a [char],
    /// Whether it covers two cells.
    pub wide: bool,
    /// Its colours.
    pub ink: Ink,
    /// The cursor drawn on it, with its colour.
    pub cursor: Option<(CursorShape, u32)>,
}

/// The glyph cache and the geometry of the lines: all a cell's painting needs.
pub struct Painter {
    cache: GlyphCache,
    /// Blended glyphs, direct-mapped by a hash of glyph and colours: a cell
    /// painted before in the same colours is a copy.
    blends: Vec<Option<Blend>>,
    lines: Lines,
}

impl Painter {
    /// A painter drawing with `fonts`.
    pub fn new(fonts: Fonts) -> Painter {
        let lines = Lines::new(&fonts);
        let wide_cell = 2 * usize::from(fonts.cell_w) * usize::from(fonts.cell_h) * 4;
        let slots = (BLEND_CACHE_BYTES / wide_cell).clamp(64, 4096).next_power_of_two();
        Painter { cache: GlyphCache::new(fonts), blends: (0..slots).map(|_| None).collect(), lines }
    }

    /// The fonts it paints with.
    pub fn fonts(&self) -> &Fonts {
        self.cache.fonts()
    }

    /// The size of a cell in pixels.
    pub fn cell_size(&self) -> (u16, u16) {
        let fonts = self.cache.fonts();
        (fonts.cell_w, fonts.cell_h)
    }

    /// Fills `cells` cells from cell (`col`, `row`) of `pixels` with `colour`:
    /// blank cells, painted a run at a time.
    pub fn fill(&self, pixels: &mut [u32], stride: usize, col: usize, cells: usize, row: u16, colour: u32) {
        let (cell_w, cell_h) = (usize::from(self.cell_size().0), usize::from(self.cell_size().1));
        let (x0, y0, w) = (col * cell_w, usize::from(row) * cell_h, cells * cell_w);
        for y in y0..y0 + cell_h {
            pixels[y * stride + x0..y * stride + x0 + w].fill(colour);
        }
    }

    /// Paints `paint` with its top-left corner at cell (`col`, `row`) of
    /// `pixels`, rows of `stride` pixels.
    pub fn paint(&mut self, pixels: &mut [u32], stride: usize, col: u16, row: u16, paint: &CellPaint<'_>) {
        let (cell_w, cell_h) = self.cell_size();
        let cell = paint.cell;
        let mut ink = paint.ink;
        if let Some((CursorShape::Block, colour)) = paint.cursor {
            // The block shows the cell in reverse: text in the background's
            // colour on the cursor's.
            ink = Ink { fg: ink.bg, bg: colour, visible: ink.visible };
        }
        let width = if paint.wide { cell_w * 2 } else { cell_w };
        let x0 = usize::from(col) * usize::from(cell_w);
        let y0 = usize::from(row) * usize::from(cell_h);
        let style = Style::new(cell.flags.contains(Flags::BOLD), cell.flags.contains(Flags::ITALIC));
        let composed: Glyph;
        let glyph = if !ink.visible {
            None
        } else if paint.marks.is_empty() {
            Some(self.cache.get(cell.c, style, paint.wide))
        } else {
            composed = self.cache.with_marks(cell.c, paint.marks, style, paint.wide);
            Some(&composed)
        };
        let (w, h) = (usize::from(width), usize::from(cell_h));
        match glyph {
            Some(Glyph { id: Some(id), cov, blank: false, .. }) => {
                let hash = (u64::from(*id) << 48 ^ u64::from(ink.fg) << 24 ^ u64::from(ink.bg))
                    .wrapping_mul(0x9e37_79b9_7f4a_7c15);
                let slot = (hash >> (64 - self.blends.len().trailing_zeros())) as usize;
                let blend = match &mut self.blends[slot] {
                    Some(b) if (b.id, b.fg, b.bg) == (*id, ink.fg, ink.bg) => b,
                    entry => {
                        let pixels = cov.iter().map(|&c| blend(ink.fg, ink.bg, c)).collect();
                        entry.insert(Blend { id: *id, fg: ink.fg, bg: ink.bg, pixels })
                    }
                };
                for (gy, src) in blend.pixels.chunks_exact(w).enumerate() {
                    let start = (y0 + gy) * stride + x0;
                    pixels[start..start + w].copy_from_slice(src);
                }
            }
            Some(Glyph { id: None, cov, blank: false, .. }) => {
                for (gy, src) in cov.chunks_exact(w).enumerate() {
                    let start = (y0 + gy) * stride + x0;
                    for (p, &c) in pixels[start..start + w].iter_mut().zip(src) {
                        *p = blend(ink.fg, ink.bg, c);
                    }
                }
            }
            _ => {
                for gy in 0..h {
                    let start = (y0 + gy) * stride + x0;
                    pixels[start..start + w].fill(ink.bg);
                }
            }
        }
        let lines = &self.lines;
        let fill_rows = |pixels: &mut [u32], top: u16, rows: u16, cols: usize, colour: u32| {
            for y in top..(top + rows).min(cell_h) {
                let start = (y0 + usize::from(y)) * stride + x0;
                pixels[start..start + cols.min(w)].fill(colour);
            }
        };
        if ink.visible {
            let flags = cell.flags;
            let t = lines.thickness;
            if flags.contains(Flags::CURLY_UNDERLINE) {
                let cw = usize::from(cell_w);
                for r in 0..usize::from(lines.curly_rows) {
                    let start = (y0 + usize::from(lines.curly_top) + r) * stride + x0;
                    for x in 0..w {
                        let c = lines.curly[r * cw + x % cw];
                        if c > 0 {
                            let p = &mut pixels[start + x];
                            *p = blend(ink.fg, *p, c);
                        }
                    }
                }
            } else if flags.contains(Flags::DOUBLE_UNDERLINE) {
                fill_rows(pixels, lines.underline, t, w, ink.fg);
                fill_rows(pixels, lines.double_underline, t, w, ink.fg);
            } else if flags.contains(Flags::UNDERLINE) {
                fill_rows(pixels, lines.underline, t, w, ink.fg);
            }
            if flags.contains(Flags::STRIKE) {
                fill_rows(pixels, lines.strike, t, w, ink.fg);
            }
            if flags.contains(Flags::OVERLINE) {
                fill_rows(pixels, 0, t, w, ink.fg);
            }
        }
        match paint.cursor {
            Some((CursorShape::Underline, colour)) => {
                fill_rows(pixels, cell_h - lines.cursor, lines.cursor, w, colour);
            }
            Some((CursorShape::Bar, colour)) => {
                fill_rows(pixels, 0, cell_h, usize::from(lines.cursor), colour)
            }
            _ => {}
        }
    }
}
