//! Pixels, below both the renderer that paints them and the VNC server that
//! sends them: a 32-bit [`Framebuffer`], the [`Rect`]s and [`Move`]s of its
//! geometry, the [`FrameDamage`] between two of its states, the [`coverage`]
//! levels glyphs are drawn at, and [`png`] files of it.
//!
//! The renderer paints into a framebuffer and reports a damage: the pixel moves
//! it made (a terminal scroll becomes one move, which the VNC server sends as
//! CopyRect) followed by the rectangles it repainted. Applying a damage's moves
//! and then copying its rectangles from the new framebuffer takes any copy of
//! the previous state to the new one. This module imports nothing of vcmux's.

mod buffer;
pub mod coverage;
mod damage;
pub mod png;
mod rect;

pub use buffer::{Framebuffer, MAX_PIXELS, MAX_SIDE, MAX_SIZE_TEXT, fits};
pub use damage::FrameDamage;
pub use rect::{Move, Rect};
