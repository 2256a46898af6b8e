//! What changed in a framebuffer between two of its states.

use super::rect::{Move, Rect};

/// What changed between two states of a framebuffer: first the moves, in order,
/// then the rectangles to repaint from the new state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrameDamage {
    /// Pixel moves, applied in order before any repaint.
    pub moves: Vec<Move>,
    /// Rectangles whose pixels must be taken from the new state.
    pub rects: Vec<Rect>,
}

impl FrameDamage {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.moves.is_empty() && self.rects.is_empty()
    }
}
