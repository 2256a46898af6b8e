//! Glyphs as cell-sized coverage bitmaps, each rasterised once with fontdue
//! (or drawn by [`boxdraw`](super::boxdraw)) and kept, keyed by character,
//! face and width in cells.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};

use super::boxdraw;
use super::font::{Fonts, Source, Style};
use crate::frame::coverage::quantise;

/// A glyph placed in its cell box: `width` (one or two cells) x the cell
/// height, coverage 0–255 row after row.
pub struct Glyph {
    /// Coverage, `width * height` bytes.
    pub cov: Box<[u8]>,
    /// Width of the box in pixels.
    pub width: u16,
    /// Whether every byte is 0 (a space): only the background is painted.
    pub blank: bool,
    /// Tells a cached glyph from every other of the process, for caches of
    /// its blends; `None` for one made for a single paint.
    pub id: Option<u32>,
}

impl Glyph {
    /// A glyph for the cache.
    fn new(cov: Vec<u8>, width: u16) -> Glyph {
        static NEXT_ID: AtomicU32 = AtomicU32::new(0);
        Glyph { id: Some(NEXT_ID.fetch_add(1, Ordering::Relaxed)), ..Glyph::single_use(cov, width) }
    }

    /// A glyph painted once and dropped (a character with combining marks).
    fn single_use(cov: Vec<u8>, width: u16) -> Glyph {
        let blank = cov.iter().all(|&c| c == 0);
        Glyph { cov: cov.into_boxed_slice(), width, blank, id: None }
    }
}

/// Characters below this are looked up in a table rather than hashed.
const TABLE: usize = 256;

/// Rasterised glyphs, and the fonts they come from.
pub struct GlyphCache {
    fonts: Fonts,
    /// `[style][wide][char]` for Latin-1.
    table: Vec<Option<Glyph>>,
    others: HashMap<(char, Style, bool), Glyph>,
}

impl GlyphCache {
    /// An empty cache over `fonts`.
    pub fn new(fonts: Fonts) -> GlyphCache {
        GlyphCache { fonts, table: (0..4 * 2 * TABLE).map(|_| None).collect(), others: HashMap::new() }
    }

    /// The fonts, for their glyph.
    pub fn fonts(&self) -> &Fonts {
        &self.fonts
    }

    /// `c` in `style`, in a box of one cell, or two when `wide`.
    pub fn get(&mut self, c: char, style: Style, wide: bool) -> &Glyph {
        // Lines and blocks look the same in every face.
        let style = if boxdraw::is_drawn(c) { Style::Regular } else { style };
        if (c as usize) < TABLE {
            let slot = (style as usize * 2 + usize::from(wide)) * TABLE + c as usize;
            if self.table[slot].is_none() {
                self.table[slot] = Some(rasterise(&self.fonts, c, style, wide));
            }
            if let Some(glyph) = &self.table[slot] {
                return glyph;
            }
        }
        self.others.entry((c, style, wide)).or_insert_with(|| rasterise(&self.fonts, c, style, wide))
    }

    /// Combining `marks` drawn over `base`'s coverage (not cached: rare).
    pub fn with_marks(&mut self, base: char, marks: &[char], style: Style, wide: bool) -> Glyph {
        let glyph = self.get(base, style, wide);
        let (mut cov, width) = (glyph.cov.to_vec(), glyph.width);
        for &mark in marks {
            let mark_cov = place(&self.fonts, mark, style, width, Placement::Mark);
            for (c, m) in cov.iter_mut().zip(mark_cov.unwrap_or_default()) {
                *c = (*c).max(m);
            }
        }
        Glyph::single_use(cov, width)
    }
}

/// How a glyph sits in its box.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// A character: its own advance starts at the box's left edge (a
    /// monospace face), or it is centred (a fallback).
    Base,
    /// A combining mark: it hangs back from the end of the base character.
    Mark,
}

fn rasterise(fonts: &Fonts, c: char, style: Style, wide: bool) -> Glyph {
    let cell_w = fonts.cell_w;
    let width = if wide { cell_w * 2 } else { cell_w };
    if let Some(cov) = boxdraw::draw(c, width, fonts.cell_h) {
        return Glyph::new(cov, width);
    }
    if c == ' ' || c.is_control() {
        return Glyph::new(vec![0; usize::from(width) * usize::from(fonts.cell_h)], width);
    }
    let cov = place(fonts, c, style, width, Placement::Base).unwrap_or_else(|| missing(fonts, width));
    Glyph::new(cov, width)
}

/// The coverage of `c` placed in a box `width` wide, at the renderer's
/// levels ([`quantise`]); `None` when no font has it.
fn place(fonts: &Fonts, c: char, style: Style, width: u16, placement: Placement) -> Option<Vec<u8>> {
    let (cell_h, baseline, px) = (usize::from(fonts.cell_h), i32::from(fonts.baseline), fonts.px);
    let Source { outlines, monospace, embolden } = fonts.source(c, style)?;
    let mut glyph = outlines.rasterize(c, px);
    // A fallback glyph wider than its box is shrunk to fit.
    if placement == Placement::Base && glyph.advance > f32::from(width) + 0.5 {
        glyph = outlines.rasterize(c, px * f32::from(width) / glyph.advance);
    }
    let box_w = i32::from(width);
    let origin = match placement {
        Placement::Base if monospace && glyph.advance <= f32::from(width) + 0.5 => {
            // Centre a narrow cell's glyph in a wide box (a monospace face's
            // wide characters are rare), keep it in place otherwise.
            ((f32::from(width) - glyph.advance.max(f32::from(fonts.cell_w))) / 2.0).round() as i32
        }
        Placement::Base => ((f32::from(width) - glyph.advance) / 2.0).round() as i32,
        Placement::Mark if glyph.advance > 0.5 => ((f32::from(width) - glyph.advance) / 2.0).round() as i32,
        Placement::Mark => box_w,
    };
    let left = origin + glyph.xmin;
    let top = baseline - (glyph.ymin + glyph.height as i32);
    let (w, h) = (usize::from(width), cell_h);
    let mut cov = vec![0u8; w * h];
    for gy in 0..glyph.height {
        let y = top + gy as i32;
        if y < 0 || y >= h as i32 {
            continue;
        }
        for gx in 0..glyph.width {
            let x = left + gx as i32;
            if x < 0 || x >= box_w {
                continue;
            }
            let value = quantise(glyph.coverage[gy * glyph.width + gx]);
            let p = &mut cov[y as usize * w + x as usize];
            *p = (*p).max(value);
            if embolden && x + 1 < box_w {
                let q = &mut cov[y as usize * w + x as usize + 1];
                *q = (*q).max(value);
            }
        }
    }
    Some(cov)
}

/// What a character no font has looks like: the outline of a box, inset
/// from the cell's edges.
fn missing(fonts: &Fonts, width: u16) -> Vec<u8> {
    let (w, h) = (usize::from(width), usize::from(fonts.cell_h));
    let mut cov = vec![0u8; w * h];
    let stroke = (w / 10).max(1);
    let (x0, x1) = (w / 8 + 1, w - w / 8 - 1);
    let (y0, y1) = (h / 8 + 1, h - h / 8 - 1);
    for y in y0..y1 {
        for x in x0..x1 {
            let edge = x < x0 + stroke || x >= x1 - stroke || y < y0 + stroke || y >= y1 - stroke;
            if edge {
                cov[y * w + x] = 255;
            }
        }
    }
    cov
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> GlyphCache {
        GlyphCache::new(Fonts::new(16.0, None).unwrap())
    }

    fn ink(glyph: &Glyph) -> usize {
        glyph.cov.iter().filter(|&&c| c > 127).count()
    }

    #[test]
    fn glyphs_fill_their_boxes_and_are_cached() {
        let mut cache = cache();
        let a = cache.get('a', Style::Regular, false);
        assert_eq!((a.width, a.cov.len()), (10, 190));
        assert!(!a.blank);
        let a_ptr = a.cov.as_ptr();
        assert_eq!(cache.get('a', Style::Regular, false).cov.as_ptr(), a_ptr);
        assert!(cache.get(' ', Style::Bold, false).blank);
        let bold = ink(cache.get('a', Style::Bold, false));
        assert!(bold > ink(cache.get('a', Style::Regular, false)));
        let han = cache.get('中', Style::Regular, true);
        assert_eq!(han.width, 20);
        assert!(ink(han) > 20);
    }

    #[test]
    fn a_character_no_font_has_is_a_box() {
        let mut cache = cache();
        let tofu = cache.get('\u{10fffd}', Style::Regular, false);
        assert!(ink(tofu) > 20);
        let marked = cache.with_marks('e', &['\u{301}'], Style::Regular, false);
        assert!(ink(&marked) > ink(cache.get('e', Style::Regular, false)));
    }
}
