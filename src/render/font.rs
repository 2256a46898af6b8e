//! The faces a renderer draws with and the cell they give: the shipped DejaVu
//! Sans Mono family (or a font file the user names), then fallbacks for what it
//! lacks: Symbola for symbols and monochrome emoji, Droid Sans Fallback for
//! Chinese and Japanese, Nanum Gothic Coding for Korean.
//!
//! The fonts are compiled into the binary, so vcmux draws the same from any
//! directory. Each is parsed once per process, the fallbacks only when a
//! character first needs them (Droid Sans Fallback takes most of a second).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use fontdue::{Font, FontSettings};

use super::RenderError;

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

/// Fallback `i`, parsed on first use.
fn fallback(i: usize) -> &'static Font {
    static FALLBACK_FONTS: [OnceLock<Font>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    FALLBACK_FONTS[i].get_or_init(|| parse_shipped(FALLBACKS[i]))
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

/// Where a glyph comes from: a parsed font, and whether it must be emboldened
/// by hand (a user font has only one face).
pub struct Source<'a> {
    /// The font holding the glyph.
    pub font: &'a Font,
    /// Whether the font is the monospace family (its advance is the cell's).
    pub monospace: bool,
    /// Draw it twice, one pixel apart, for a bold the font does not have.
    pub embolden: bool,
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

fn parse(bytes: &[u8], path: &Path) -> Result<Font, RenderError> {
    Font::from_bytes(bytes, FontSettings::default())
        .map_err(|reason| RenderError::FontParse { path: path.to_path_buf(), reason: reason.to_string() })
}

fn parse_shipped(bytes: &[u8]) -> Font {
    // The shipped fonts are part of the binary and checked by the tests; a
    // failure here is a broken build, not bad input.
    Font::from_bytes(bytes, FontSettings::default()).expect("the fonts shipped in the binary parse")
}

impl Fonts {
    /// Loads the shipped family, or the font file at `path`, at `px` pixels.
    pub fn new(px: f32, path: Option<&Path>) -> Result<Fonts, RenderError> {
        if !SIZE_RANGE.contains(&px) {
            return Err(RenderError::FontSize(px));
        }
        let (primary, single_face) = match path {
            Some(path) => {
                let bytes = std::fs::read(path)
                    .map_err(|source| RenderError::FontRead { path: path.to_path_buf(), source })?;
                let font = parse(&bytes, path)?;
                if font.lookup_glyph_index('M') == 0 {
                    return Err(RenderError::FontParse {
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
            return Some(Source { font: &self.primary[face], monospace: true, embolden });
        }
        if self.primary[0].lookup_glyph_index(c) != 0 {
            return Some(Source { font: &self.primary[0], monospace: true, embolden: style.is_bold() });
        }
        if self.single_face {
            // A user font falls back on the shipped family first.
            let mono = &shipped_mono()[style as usize];
            if mono.lookup_glyph_index(c) != 0 {
                return Some(Source { font: mono, monospace: true, embolden: false });
            }
        }
        let font = (0..FALLBACKS.len()).map(fallback).find(|font| font.lookup_glyph_index(c) != 0)?;
        Some(Source { font, monospace: false, embolden: style.is_bold() })
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

impl Default for FontConfig {
    fn default() -> FontConfig {
        FontConfig { size: DEFAULT_SIZE, path: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_fonts_parse_and_give_whole_pixel_cells() {
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
        assert!(matches!(Fonts::new(2.0, None), Err(RenderError::FontSize(_))));
        let missing = Fonts::new(16.0, Some(Path::new("/nonexistent/font.ttf")));
        assert!(matches!(missing, Err(RenderError::FontRead { .. })));
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.ttf");
        std::fs::write(&junk, b"not a font").unwrap();
        assert!(matches!(Fonts::new(16.0, Some(&junk)), Err(RenderError::FontParse { .. })));
    }
}
