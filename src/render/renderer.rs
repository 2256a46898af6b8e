//! The renderer: brings a framebuffer up to date with a terminal, painting only
//! what changed since the last render, and says what it did.

use crate::term::{CursorShape, Flags, Terminal};

use super::RenderError;
use super::damage::{Painted, Rects, Shadow};
use super::font::{FontConfig, Fonts};
use super::frame::{Damage, Framebuffer, Move, Rect};
use super::painter::{CellPaint, Painter};
use super::palette::{Colors, Theme};

/// A terminal's rasteriser: it owns the framebuffer and remembers what it
/// painted, so that each [`render`](Renderer::render) repaints only what
/// changed and reports it as a [`Damage`].
pub struct Renderer {
    painter: Painter,
    theme: Theme,
    fb: Framebuffer,
    shadow: Shadow,
    /// The colours the shadow was painted with.
    colors: Option<Colors>,
    /// The blink phase of the last render.
    blink_on: bool,
    /// The cell where a cursor is painted (the left one of a wide character).
    cursor_at: Option<(u16, u16)>,
    /// Every row is to be looked at: the shadow was forgotten.
    full: bool,
    /// Scratch: which rows to look at, what each cell should look like, and
    /// which of them differ from the shadow.
    dirty: Vec<bool>,
    wanted: Vec<Painted>,
    changed: Vec<bool>,
}

impl Renderer {
    /// A renderer with the shipped fonts (or `config.path`) at `config.size`
    /// pixels, in xterm's colours. Its framebuffer is empty until the first
    /// render.
    pub fn new(config: &FontConfig) -> Result<Renderer, RenderError> {
        let fonts = Fonts::new(config.size, config.path.as_deref())?;
        Ok(Renderer {
            painter: Painter::new(fonts),
            theme: Theme::default(),
            fb: Framebuffer::new(0, 0),
            shadow: Shadow::new(0, 0),
            colors: None,
            blink_on: true,
            cursor_at: None,
            full: true,
            dirty: Vec::new(),
            wanted: Vec::new(),
            changed: Vec::new(),
        })
    }

    /// Chooses the default colours; the next render repaints everything.
    pub fn set_theme(&mut self, theme: Theme) {
        self.theme = theme;
        self.colors = None;
    }

    /// A cell's size in pixels: (width, height).
    pub fn cell_size(&self) -> (u16, u16) {
        self.painter.cell_size()
    }

    /// The framebuffer's size for a terminal of `cols` x `rows`, or `None`
    /// when it would not fit the 65535 pixels RFB allows each way.
    pub fn frame_size(&self, cols: u16, rows: u16) -> Option<(u16, u16)> {
        let (w, h) = self.cell_size();
        Some((cols.checked_mul(w)?, rows.checked_mul(h)?))
    }

    /// What was painted so far.
    pub fn framebuffer(&self) -> &Framebuffer {
        &self.fb
    }

    /// Whether anything on the screen blinks: the cursor (when shown and set
    /// to blink) or text painted by the last render with SGR 5. While it is
    /// false, the caller's blink timer can sleep: `blink_on` changes nothing.
    pub fn blinks(&self, term: &Terminal) -> bool {
        let cursor = term.cursor();
        (cursor.visible && cursor.blinking)
            || (0..self.shadow.rows)
                .any(|y| self.shadow.row(y).iter().any(|p| p.cell.flags.contains(Flags::BLINK)))
    }

    /// Makes the next render repaint every cell (and report it all).
    pub fn repaint_all(&mut self) {
        self.shadow.forget();
        self.cursor_at = None;
        self.full = true;
    }

    /// Brings the framebuffer up to date with `term` and returns what changed
    /// since the last render: the scrolls as moves, then the repainted
    /// rectangles. `blink_on` is the blink phase (blinking cursor and SGR 5
    /// text are shown while it is true); a caller without a timer passes true.
    ///
    /// When `term`'s size changed, the framebuffer takes the new size (see
    /// [`frame_size`](Renderer::frame_size); columns and rows beyond 65535
    /// pixels are not drawn) and the damage covers all of it.
    pub fn render(&mut self, term: &mut Terminal, blink_on: bool) -> Damage {
        let (cell_w, cell_h) = self.cell_size();
        let cols = term.cols().min(u16::MAX / cell_w);
        let rows = term.rows().min(u16::MAX / cell_h);
        let term_damage = term.take_damage();
        let mut damage = Damage::default();
        if (cols, rows) != (self.shadow.cols, self.shadow.rows) {
            self.fb = Framebuffer::new(cols * cell_w, rows * cell_h);
            self.shadow = Shadow::new(cols, rows);
            self.cursor_at = None;
            self.full = true;
        }
        let colors = Colors::new(term, self.theme);
        if self.colors.as_ref() != Some(&colors) {
            self.colors = Some(colors);
            self.repaint_all();
        }
        self.dirty.clear();
        self.dirty.resize(usize::from(rows), false);
        // The terminal's damage is in rows of the live screen; while the view
        // is scrolled back into history they are not the rows shown, so every
        // row is compared with what was painted instead.
        let scrolled_back = term.display_offset() > 0 && !term.is_alternate_screen();
        if scrolled_back {
            self.full = true;
        }
        for scroll in term_damage.scrolls.iter().filter(|_| !scrolled_back) {
            if scroll.bottom >= rows || scroll.top > scroll.bottom {
                self.dirty.fill(true);
                continue;
            }
            let height = scroll.bottom - scroll.top + 1;
            let k = scroll.delta.unsigned_abs().min(u32::from(height)) as u16;
            if k == height {
                self.dirty[usize::from(scroll.top)..=usize::from(scroll.bottom)].fill(true);
                continue;
            }
            let (from, to) =
                if scroll.delta < 0 { (scroll.top + k, scroll.top) } else { (scroll.top, scroll.top + k) };
            let mv = Move {
                dst: Rect::new(0, to * cell_h, cols * cell_w, (height - k) * cell_h),
                src_x: 0,
                src_y: from * cell_h,
            };
            self.fb.apply_move(&mv);
            self.shadow.copy_rows(from, to, height - k);
            damage.moves.push(mv);
            if let Some((col, row)) = self.cursor_at
                && (from..from + height - k).contains(&row)
            {
                self.cursor_at = Some((col, row - from + to));
            }
        }
        for &row in &term_damage.rows {
            if let Some(d) = self.dirty.get_mut(usize::from(row)) {
                *d = true;
            }
        }
        if std::mem::take(&mut self.full) {
            // A new size, new colours or a repaint asked for.
            self.dirty.fill(true);
        }
        if blink_on != self.blink_on {
            self.blink_on = blink_on;
            for y in 0..rows {
                if self.shadow.row(y).iter().any(|p| p.cell.flags.contains(Flags::BLINK)) {
                    self.dirty[usize::from(y)] = true;
                }
            }
        }
        let cursor = term.cursor();
        let cursor =
            (cursor.visible && (blink_on || !cursor.blinking) && cursor.col < cols && cursor.row < rows)
                .then_some((cursor.col, cursor.row, cursor.shape));
        for (_, row) in self.cursor_at.iter().chain(cursor.map(|(c, r, _)| (c, r)).iter()) {
            self.dirty[usize::from(*row)] = true;
        }
        self.cursor_at = None;
        let mut rects = Rects::default();
        for y in 0..rows {
            if self.dirty[usize::from(y)] {
                rects.start_row(y * cell_h, cell_h);
                self.paint_row(term, y, cursor.filter(|&(_, r, _)| r == y), &mut rects);
            }
        }
        damage.rects = rects.finish();
        damage
    }

    /// Repaints the cells of row `y` that differ from what was painted.
    fn paint_row(
        &mut self,
        term: &Terminal,
        y: u16,
        cursor: Option<(u16, u16, CursorShape)>,
        rects: &mut Rects,
    ) {
        let Some(cells) = term.row(y) else { return };
        let cols = usize::from(self.shadow.cols).min(cells.len());
        let cells = &cells[..cols];
        let blink_on = self.blink_on;
        // The cursor sits on the left half of a wide character.
        let cursor = cursor.map(|(col, _, shape)| {
            let col = usize::from(col);
            let on_spacer = col > 0
                && cells[col].flags.contains(Flags::WIDE_SPACER)
                && cells[col - 1].flags.contains(Flags::WIDE);
            (if on_spacer { col - 1 } else { col }, shape)
        });
        self.wanted.clear();
        self.wanted.extend(cells.iter().enumerate().map(|(x, cell)| {
            let here = cursor.filter(|&(c, _)| c == x).map(|(_, shape)| shape);
            Painted::new(*cell, here, blink_on)
        }));
        let shadow = self.shadow.row(y);
        self.changed.clear();
        self.changed.extend(self.wanted.iter().zip(shadow).map(|(w, s)| w != s));
        // A wide character and its spacer are painted together: a change to
        // either half (before or after) repaints both.
        for (x, painted) in shadow.iter().enumerate().take(cols.saturating_sub(1)) {
            if self.changed[x] && (self.wanted[x].is_wide() || painted.is_wide()) {
                self.changed[x + 1] = true;
            }
        }
        for x in (1..cols).rev() {
            if self.changed[x] && (self.wanted[x].is_spacer() || shadow[x].is_spacer()) {
                self.changed[x - 1] = true;
            }
        }
        let Some(colors) = &self.colors else { return };
        let (cell_w, _) = self.painter.cell_size();
        let mut x = 0;
        while x < cols {
            let wide = self.wanted[x].is_wide() && x + 1 < cols && self.wanted[x + 1].is_spacer();
            let span = if wide { 2 } else { 1 };
            if self.changed[x..x + span].iter().any(|&c| c) {
                let wanted = self.wanted[x];
                let mut cell = wanted.cell;
                if wanted.is_spacer() {
                    // The right half of a character that is gone: blank.
                    cell.c = ' ';
                }
                let ink = colors.ink(&cell, blink_on);
                let cursor = wanted.cursor().map(|shape| (shape, colors.cursor.unwrap_or(ink.fg)));
                let paint = CellPaint { cell: &cell, marks: term.marks(&wanted.cell), wide, ink, cursor };
                self.painter.paint(&mut self.fb, x as u16, y, &paint);
                if cursor.is_some() {
                    self.cursor_at = Some((x as u16, y));
                }
                self.shadow.row_mut(y)[x..x + span].copy_from_slice(&self.wanted[x..x + span]);
                rects.add(x as u16 * cell_w, span as u16 * cell_w);
            } else if self.wanted[x].cursor().is_some() {
                self.cursor_at = Some((x as u16, y));
            }
            x += span;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_renderer_can_move_to_another_thread() {
        fn send<T: Send>() {}
        send::<Renderer>();
    }

    #[test]
    fn blinking_is_reported_and_drawn_by_phase() {
        let mut term = Terminal::new(10, 2, 0);
        let mut renderer = Renderer::new(&FontConfig::default()).unwrap();
        renderer.render(&mut term, true);
        assert!(!renderer.blinks(&term), "a steady cursor and no blinking text");
        term.advance(b"\x1b[5mhi\x1b[0m");
        renderer.render(&mut term, true);
        assert!(renderer.blinks(&term));
        let on = renderer.framebuffer().clone();
        let damage = renderer.render(&mut term, false);
        let (cell_w, cell_h) = renderer.cell_size();
        assert_eq!(damage.rects, [Rect::new(0, 0, 2 * cell_w, cell_h)], "only the blinking cells");
        assert_ne!(&on, renderer.framebuffer());
        term.advance(b"\x1b[2J\x1b[1 q");
        renderer.render(&mut term, false);
        assert!(renderer.blinks(&term), "a blinking cursor");
    }
}
