//! The pixels a vc shows: its framebuffer and what changed in it between two
//! renders, the form in which the VNC server takes them.
//!
//! A [`Renderer`] owns a [`frame::Framebuffer`] and brings it up to date with a
//! [`Terminal`](crate::term::Terminal) on demand: [`Renderer::render`] paints
//! only what changed and returns a [`frame::Damage`] (the terminal's scrolls as
//! moves, then the repainted rectangles). [`png`] writes a framebuffer as the
//! PNG that `vcmux render` produces. No I/O but the optional font file, no
//! async, nothing of RFB.
//!
//! The modules each do one job: `font` (the faces and the cell they give),
//! `glyph_cache` (glyphs rasterised once), `coverage` (the levels they are
//! drawn at, and their colours), `boxdraw` (lines and blocks by code),
//! `palette` (colours and attributes), `painter` (one cell into pixels),
//! `damage` (what was painted, and the rectangles), `renderer` (all of it).

mod boxdraw;
pub mod coverage;
mod damage;
mod font;
pub mod frame;
mod glyph_cache;
mod painter;
mod palette;
pub mod png;
mod renderer;

pub use font::{DEFAULT_SIZE, FontConfig, SIZE_RANGE as FONT_SIZES};
pub use renderer::Renderer;

/// Why a renderer could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
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
