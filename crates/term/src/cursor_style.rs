//! How the cursor is drawn: DECSCUSR's shape and blinking, and xterm's
//! att610 blink mode (DECSET 12) for DECSCUSR 0.

/// The cursor's shape (DECSCUSR).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CursorShape {
    /// A full cell.
    #[default]
    Block,
    /// A line under the cell.
    Underline,
    /// A vertical bar left of the cell.
    Bar,
}

/// The cursor style a program chose.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CursorStyle {
    /// DECSCUSR value, 0–6.
    decscusr: u8,
    /// xterm's att610 blink mode (DECSET 12).
    blink_mode: bool,
}

impl CursorStyle {
    /// DECSCUSR `ps` (0–6).
    pub fn set_decscusr(&mut self, ps: u8) {
        self.decscusr = ps;
    }

    /// The DECSCUSR value, for DECRQSS.
    pub fn decscusr(&self) -> u8 {
        self.decscusr
    }

    /// DECSET (`on`) and DECRST 12.
    pub fn set_blink_mode(&mut self, on: bool) {
        self.blink_mode = on;
    }

    /// DECSET 12's state, for DECRQM.
    pub fn blink_mode(&self) -> bool {
        self.blink_mode
    }

    /// The shape to draw.
    pub fn shape(&self) -> CursorShape {
        match self.decscusr {
            3 | 4 => CursorShape::Underline,
            5 | 6 => CursorShape::Bar,
            _ => CursorShape::Block,
        }
    }

    /// Whether the cursor blinks: DECSCUSR's odd values, or the blink mode
    /// for DECSCUSR 0.
    pub fn blinking(&self) -> bool {
        match self.decscusr {
            0 => self.blink_mode,
            n => n % 2 == 1,
        }
    }
}
