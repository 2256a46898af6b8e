//! What XTWINOPS and DECCOLM know of the window around the terminal: its
//! state and position as programs set them, the size to go back to after
//! maximizing, the pixel size of a cell, and whether a program resized it.

/// The window state; the terminal's size itself is the screen's.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Window {
    /// XTWINOPS 2 (iconify) or 1 (de-iconify), reported by XTWINOPS 11.
    iconified: bool,
    /// XTWINOPS 3, reported by XTWINOPS 13.
    pos: (u16, u16),
    /// The size before XTWINOPS 9/10 maximized the window.
    restore_size: Option<(usize, usize)>,
    /// Pixel size of one cell, for XTWINOPS pixel sizes and reports.
    cell_px: (usize, usize),
    /// Set when a program resized the terminal itself (XTWINOPS, DECCOLM).
    size_requested: bool,
    /// DECCOLM was set by a program (RIS goes back to 80 columns).
    deccolm: bool,
}

impl Default for Window {
    fn default() -> Window {
        Window {
            iconified: false,
            pos: (0, 0),
            restore_size: None,
            cell_px: (8, 16),
            size_requested: false,
            deccolm: false,
        }
    }
}

impl Window {
    /// XTWINOPS 2 (`true`) and 1.
    pub fn iconify(&mut self, iconified: bool) {
        self.iconified = iconified;
    }

    /// Whether the window is iconified, for XTWINOPS 11.
    pub fn is_iconified(&self) -> bool {
        self.iconified
    }

    /// XTWINOPS 3: where the program moved the window.
    pub fn move_to(&mut self, x: u16, y: u16) {
        self.pos = (x, y);
    }

    /// The window's position, for XTWINOPS 13.
    pub fn position(&self) -> (u16, u16) {
        self.pos
    }

    /// The pixel size of a cell (width, height).
    pub fn cell_pixels(&self) -> (usize, usize) {
        self.cell_px
    }

    /// Sets the pixel size of a cell (at least 1x1).
    pub fn set_cell_pixels(&mut self, width: u16, height: u16) {
        self.cell_px = (width.max(1) as usize, height.max(1) as usize);
    }

    /// Maximizing: remembers `(cols, rows)` to go back to, unless the window
    /// is maximized already.
    pub fn remember_size(&mut self, cols: usize, rows: usize) {
        if self.restore_size.is_none() {
            self.restore_size = Some((cols, rows));
        }
    }

    /// Un-maximizing: the size to go back to, if the window is maximized.
    pub fn take_restore_size(&mut self) -> Option<(usize, usize)> {
        self.restore_size.take()
    }

    /// Whether the window is maximized (XTWINOPS 10 toggles).
    pub fn is_maximized(&self) -> bool {
        self.restore_size.is_some()
    }

    /// Notes that a program resized the terminal.
    pub fn note_size_request(&mut self) {
        self.size_requested = true;
    }

    /// Whether a program resized the terminal since the last call.
    pub fn take_size_request(&mut self) -> bool {
        std::mem::take(&mut self.size_requested)
    }

    /// DECCOLM: whether a program switched to 132 columns.
    pub fn set_deccolm(&mut self, wide: bool) {
        self.deccolm = wide;
    }

    /// Whether a program switched to 132 columns (RIS switches back).
    pub fn deccolm(&self) -> bool {
        self.deccolm
    }

    /// RIS: back to the start, keeping the cell size and a resize the owner
    /// has not taken yet.
    pub fn reset(&mut self) {
        *self = Window { cell_px: self.cell_px, size_requested: self.size_requested, ..Window::default() };
    }
}
