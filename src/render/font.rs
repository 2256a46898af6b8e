//! The faces a renderer draws with and the cell they give: the shipped DejaVu
//! Sans Mono family (or a font file the user names), then fallbacks for what it
//! lacks: Symbola for symbols and monochrome emoji, Droid Sans Fallback for
//! Chinese and Japanese, Nanum Gothic Coding for Korean.
//!
//! The fonts are compiled into the binary, so vcmux draws the same from any
//! directory. The primary family is parsed by fontdue once per process. The
//! fallbacks are not: fontdue parses every outline of a font up front, which
//! for their 80,000 glyphs is a quarter of a gigabyte and most of a second, so
//! their glyphs are read from the font's tables when first drawn and
//! rasterised with ab_glyph_rasterizer.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use ab_glyph_rasterizer::{Point, Rasterizer, point};
use fontdue::{Font, FontSettings};
use ttf_parser::{Face, OutlineBuilder};

/// Regular, bold, oblique and bold oblique DejaVu Sans Mono.
const MONO: [&[u8]; 4] = [
    include_bytes!("../../fonts/DejaVuSansMono.ttf"),
    include_bytes!("../../fonts/DejaVuSansMono-Bold.ttf"),
    include_bytes!("../../fonts/DejaVuSansMono-Oblique.ttf"),
    include_bytes!("../../fonts/DejaVuSansMono-BoldOblique.ttf"),
];

/// The fallbacks, in the order they are tried: symbols and emoji, then CJK
/// ideographs and kana, then Hangul (which Droid Sans Fallback lacks).
const FALLBACKS: [&[u8]; 3] = [
    include_bytes!("../../fonts/Symbola.ttf"),
    include_bytes!("../../fonts/DroidSansFallbackFull.ttf"),
    include_bytes!("../../fonts/NanumGothicCoding.ttf"),
];

/// The shipped family, parsed once for every renderer of the process.
fn shipped_mono() -> &'static [Arc<Font>; 4] {
    static MONO_FONTS: OnceLock<[Arc<Font>; 4]> = OnceLock::new();
    MONO_FONTS.get_or_init(|| MONO.map(|bytes| Arc::new(parse_shipped(bytes))))
}

/// Fallback `i`'s tables (a cheap look at the file; `None` would be a broken
/// build, which the tests catch).
fn fallback(i: usize) -> Option<&'static Face<'static>> {
    static FALLBACK_FACES: [OnceLock<Option<Face<'static>>>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    FALLBACK_FACES[i].get_or_init(|| Face::parse(FALLBACKS[i], 0).ok()).as_ref()
}

/// The smallest and largest font sizes accepted, in pixels.
pub const SIZE_RANGE: std::ops::RangeInclusive<f32> = 6.0..=96.0;

/// Which face of the family a cell asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Style {
    /// Neither bold nor italic.
    Regular = 0,
    /// SGR 1.
    Bold = 1,
    /// SGR 3.
    Italic = 2,
    /// SGR 1 and 3.
    BoldItalic = 3,
}

impl Style {
    /// The face for a bold and an italic flag.
    pub fn new(bold: bool, italic: bool) -> Style {
        match (bold, italic) {
            (false, false) => Style::Regular,
            (true, false) => Style::Bold,
            (false, true) => Style::Italic,
            (true, true) => Style::BoldItalic,
        }
    }

    fn is_bold(self) -> bool {
        matches!(self, Style::Bold | Style::BoldItalic)
    }
}

/// Where a glyph comes from: a font, and whether it must be emboldened by
/// hand (a user font has only one face).
pub struct Source<'a> {
    /// The font holding the glyph.
    pub outlines: Outlines<'a>,
    /// Whether the font is the monospace family (its advance is the cell's).
    pub monospace: bool,
    /// Draw it twice, one pixel apart, for a bold the font does not have.
    pub embolden: bool,
}

/// A font as the rasteriser reads it.
#[derive(Clone, Copy)]
pub enum Outlines<'a> {
    /// Parsed whole by fontdue: the primary family, or a user's font.
    Parsed(&'a Font),
    /// A fallback, read glyph by glyph from its tables.
    Lazy(&'a Face<'static>),
}

/// A rasterised glyph: its coverage and where it sits from the pen on the
/// baseline (fontdue's convention: `ymin` is the bottom edge, up is positive).
pub struct Raster {
    /// Left edge, in pixels from the pen.
    pub xmin: i32,
    /// Bottom edge, in pixels above the baseline.
    pub ymin: i32,
    /// Width of `coverage` in pixels.
    pub width: usize,
    /// Height of `coverage` in pixels.
    pub height: usize,
    /// How far the pen moves.
    pub advance: f32,
    /// Coverage 0–255, row after row, top row first.
    pub coverage: Vec<u8>,
}

impl Outlines<'_> {
    /// `c` at `px` pixels per em.
    pub fn rasterize(&self, c: char, px: f32) -> Raster {
        match self {
            Outlines::Parsed(font) => {
                let (m, coverage) = font.rasterize(c, px);
                Raster {
                    xmin: m.xmin,
                    ymin: m.ymin,
                    width: m.width,
                    height: m.height,
                    advance: m.advance_width,
                    coverage,
                }
            }
            Outlines::Lazy(face) => rasterize_outline(face, c, px),
        }
    }
}

/// Rasterises one glyph of `face` from its outline.
fn rasterize_outline(face: &Face<'_>, c: char, px: f32) -> Raster {
    let empty = |advance| Raster { xmin: 0, ymin: 0, width: 0, height: 0, advance, coverage: Vec::new() };
    let Some(id) = face.glyph_index(c) else { return empty(0.0) };
    let scale = px / f32::from(face.units_per_em().max(1));
    let advance = f32::from(face.glyph_hor_advance(id).unwrap_or(0)) * scale;
    let Some(bbox) = face.glyph_bounding_box(id) else { return empty(advance) };
    let x0 = (f32::from(bbox.x_min) * scale).floor();
    let y0 = (f32::from(bbox.y_min) * scale).floor();
    let x1 = (f32::from(bbox.x_max) * scale).ceil().max(x0 + 1.0);
    let y1 = (f32::from(bbox.y_max) * scale).ceil().max(y0 + 1.0);
    let (width, height) = ((x1 - x0) as usize, (y1 - y0) as usize);
    let mut pen = Pen {
        raster: Rasterizer::new(width, height),
        scale,
        x0,
        y1,
        start: point(0.0, 0.0),
        last: point(0.0, 0.0),
    };
    face.outline_glyph(id, &mut pen);
    let mut coverage = vec![0; width * height];
    pen.raster.for_each_pixel(|i, a| coverage[i] = (a.clamp(0.0, 1.0) * 255.0).round() as u8);
    Raster { xmin: x0 as i32, ymin: y0 as i32, width, height, advance, coverage }
}

/// Draws an outline, in font units, into a rasteriser whose origin is the
/// glyph box's top-left corner.
struct Pen {
    raster: Rasterizer,
    scale: f32,
    x0: f32,
    y1: f32,
    start: Point,
    last: Point,
}

impl Pen {
    fn at(&self, x: f32, y: f32) -> Point {
        point(x * self.scale - self.x0, self.y1 - y * self.scale)
    }
}

impl OutlineBuilder for Pen {
    fn move_to(&mut self, x: f32, y: f32) {
        self.start = self.at(x, y);
        self.last = self.start;
    }

    fn line_to(&mut self, x: f32, y: f32) {
        let to = self.at(x, y);
        self.raster.draw_line(self.last, to);
        self.last = to;
    }

    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (control, to) = (self.at(x1, y1), self.at(x, y));
        self.raster.draw_quad(self.last, control, to);
        self.last = to;
    }

    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (a, b, to) = (self.at(x1, y1), self.at(x2, y2), self.at(x, y));
        self.raster.draw_cubic(self.last, a, b, to);
        self.last = to;
    }

    fn close(&mut self) {
        if self.last != self.start {
            self.raster.draw_line(self.last, self.start);
        }
        self.last = self.start;
    }
}

/// The primary faces, the lazily parsed fallbacks, and the cell geometry.
#[derive(Clone)]
pub struct Fonts {
    /// The four faces; a user font is one face standing in for all four.
    primary: Vec<Arc<Font>>,
    /// Whether `primary` is one face standing in for all four.
    single_face: bool,
    /// Size in pixels per em.
    pub px: f32,
    /// Cell width in pixels.
    pub cell_w: u16,
    /// Cell height in pixels.
    pub cell_h: u16,
    /// Pixel rows from the cell's top to the baseline.
    pub baseline: u16,
}

fn parse(bytes: &[u8], path: &Path) -> Result<Font, FontError> {
    Font::from_bytes(bytes, FontSettings::default())
        .map_err(|reason| FontError::FontParse { path: path.to_path_buf(), reason: reason.to_string() })
}

fn parse_shipped(bytes: &[u8]) -> Font {
    // The shipped fonts are part of the binary and checked by the tests; a
    // failure here is a broken build, not bad input.
    Font::from_bytes(bytes, FontSettings::default()).expect("the fonts shipped in the binary parse")
}

impl Fonts {
    /// Loads the shipped family, or the font file at `path`, at `px` pixels.
    pub fn new(px: f32, path: Option<&Path>) -> Result<Fonts, FontError> {
        if !SIZE_RANGE.contains(&px) {
            return Err(FontError::FontSize(px));
        }
        let (primary, single_face) = match path {
            Some(path) => {
                let bytes = std::fs::read(path)
                    .map_err(|source| FontError::FontRead { path: path.to_path_buf(), source })?;
                let font = parse(&bytes, path)?;
                if font.lookup_glyph_index('M') == 0 {
                    return Err(FontError::FontParse {
                        path: path.to_path_buf(),
                        reason: "it has no Latin letters".to_string(),
                    });
                }
                (vec![Arc::new(font)], true)
            }
            None => (shipped_mono().to_vec(), false),
        };
        let regular = &primary[0];
        let advance = regular.metrics('M', px).advance_width;
        let (ascent, descent) = match regular.horizontal_line_metrics(px) {
            Some(m) => (m.ascent, m.descent),
            None => (px * 0.8, -px * 0.2),
        };
        let baseline = ascent.round().max(1.0);
        let below = (-descent).round().max(1.0);
        Ok(Fonts {
            primary,
            single_face,
            px,
            cell_w: advance.round().max(1.0) as u16,
            cell_h: (baseline + below) as u16,
            baseline: baseline as u16,
        })
    }

    /// The font to draw `c` in `style` with, or `None` when no font has it.
    pub fn source(&self, c: char, style: Style) -> Option<Source<'_>> {
        let face = if self.single_face { 0 } else { style as usize };
        let embolden = self.single_face && style.is_bold();
        if self.primary[face].lookup_glyph_index(c) != 0 {
            return Some(Source {
                outlines: Outlines::Parsed(&self.primary[face]),
                monospace: true,
                embolden,
            });
        }
        if self.primary[0].lookup_glyph_index(c) != 0 {
            let outlines = Outlines::Parsed(&self.primary[0]);
            return Some(Source { outlines, monospace: true, embolden: style.is_bold() });
        }
        if self.single_face {
            // A user font falls back on the shipped family first.
            let mono = &shipped_mono()[style as usize];
            if mono.lookup_glyph_index(c) != 0 {
                return Some(Source { outlines: Outlines::Parsed(mono), monospace: true, embolden: false });
            }
        }
        let face = (0..FALLBACKS.len()).filter_map(fallback).find(|face| face.glyph_index(c).is_some())?;
        Some(Source { outlines: Outlines::Lazy(face), monospace: false, embolden: style.is_bold() })
    }
}

/// The font settings a renderer is made with.
#[derive(Debug, Clone, PartialEq)]
pub struct FontConfig {
    /// Size in pixels per em (the vc's `font-size=`, `--font-size`).
    pub size: f32,
    /// A font file to use instead of the shipped DejaVu Sans Mono (`font=`,
    /// `--font`): one face, emboldened by hand for bold.
    pub path: Option<PathBuf>,
}

/// The default size: 16 px gives 10x19 cells, an 80x24 screen of 800x456.
pub const DEFAULT_SIZE: f32 = 16.0;

impl FontConfig {
    /// The cell these settings give, in pixels (width, height): what a vc's
    /// configuration is checked with before anything starts.
    pub fn cell_size(&self) -> Result<(u16, u16), FontError> {
        let fonts = Fonts::new(self.size, self.path.as_deref())?;
        Ok((fonts.cell_w, fonts.cell_h))
    }
}

impl Default for FontConfig {
    fn default() -> FontConfig {
        FontConfig { size: DEFAULT_SIZE, path: None }
    }
}

/// Why the fonts, and so a renderer, could not be made.
#[derive(Debug, thiserror::Error)]
pub enum FontError {
    /// The font file could not be read.
    #[error("cannot read the font {path}: {source}")]
    FontRead {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The font file is not a font fontdue can use.
    #[error("cannot use the font {path}: {reason}")]
    FontParse {
        /// The file.
        path: std::path::PathBuf,
        /// What the parser said.
        reason: String,
    },
    /// The font size is outside what the renderer accepts.
    #[error("font size {0} px is outside 6-96")]
    FontSize(f32),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_fonts_parse_and_give_whole_pixel_cells() {
        assert!((0..FALLBACKS.len()).all(|i| fallback(i).is_some()));
        let fonts = Fonts::new(16.0, None).unwrap();
        assert_eq!((fonts.cell_w, fonts.cell_h, fonts.baseline), (10, 19, 15));
        assert!(fonts.source('a', Style::Bold).is_some_and(|s| s.monospace && !s.embolden));
        assert!(fonts.source('中', Style::Regular).is_some_and(|s| !s.monospace));
        assert!(fonts.source('한', Style::Regular).is_some_and(|s| !s.monospace));
        assert!(fonts.source('\u{10ffff}', Style::Regular).is_none());
    }

    #[test]
    fn a_font_file_is_one_face_with_the_shipped_ones_behind_it() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fonts/DejaVuSansMono-Oblique.ttf");
        let fonts = Fonts::new(20.0, Some(&path)).unwrap();
        assert_eq!((fonts.cell_w, fonts.cell_h), (12, 24));
        assert!(fonts.source('a', Style::Bold).is_some_and(|s| s.monospace && s.embolden));
        assert!(fonts.source('a', Style::Regular).is_some_and(|s| !s.embolden));
        assert!(fonts.source('中', Style::Regular).is_some());
    }

    #[test]
    fn bad_sizes_and_files_are_errors() {
        assert!(matches!(Fonts::new(2.0, None), Err(FontError::FontSize(_))));
        let missing = Fonts::new(16.0, Some(Path::new("/nonexistent/font.ttf")));
        assert!(matches!(missing, Err(FontError::FontRead { .. })));
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.ttf");
        std::fs::write(&junk, b"not a font").unwrap();
        assert!(matches!(Fonts::new(16.0, Some(&junk)), Err(FontError::FontParse { .. })));
    }
}
