//! The pixels a vc shows: its framebuffer and what changed in it between two
//! renders, the form in which the VNC server takes them.
//!
//! A [`Renderer`] owns a [`Framebuffer`](crate::frame::Framebuffer) and brings
//! it up to date with a [`Terminal`](crate::term::Terminal) on demand:
//! [`Renderer::render`] paints only what changed and returns a
//! [`FrameDamage`](crate::frame::FrameDamage) (the terminal's scrolls as moves,
//! then the repainted rectangles). The pixels themselves, their geometry and
//! their PNG files are [`crate::frame`]'s, below both this module and the VNC
//! server. No I/O but the optional font file, no async, nothing of RFB.
//!
//! The modules each do one job: `font` (the faces and the cell they give),
//! `glyph_cache` (glyphs rasterised once at the levels of
//! [`frame::coverage`](crate::frame::coverage)), `boxdraw` (lines and blocks by code),
//! `palette` (colours and attributes), `painter` (one cell into pixels),
//! `damage` (what was painted, and the rectangles), `renderer` (all of it).

mod boxdraw;
mod damage;
mod font;
mod glyph_cache;
mod painter;
mod palette;
mod renderer;

pub use font::{DEFAULT_SIZE, FontConfig, FontError, SIZE_RANGE as FONT_SIZES};
pub use renderer::Renderer;
