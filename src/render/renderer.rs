//! The renderer: brings a framebuffer up to date with a terminal, painting only
//! what changed since the last render, and says what it did.

use std::borrow::Cow;

use crate::term::{Cell, Color, CursorShape, Damage, Flags, Terminal};

use super::damage::{Painted, Rects, Shadow};
use super::font::{FontConfig, FontError, Fonts};
use super::painter::{CellPaint, Painter};
use super::palette::Colors;
use crate::frame::{FrameDamage, Framebuffer, Move, Rect};

/// A terminal's rasteriser: it owns the framebuffer and remembers what it
/// painted, so that each [`render`](Renderer::render) repaints only what
/// changed and reports it as a [`FrameDamage`].
///
/// It must be the only reader of the terminal's damage
/// ([`Terminal::take_damage`]): it takes it on every render. Other renderers
/// of the same terminal use [`render_view`](Renderer::render_view), which
/// leaves it.
///
/// ```
/// use vcmux::render::{FontConfig, Renderer};
/// use vcmux::term::Terminal;
///
/// let mut term = Terminal::new(80, 24, 1000);
/// let mut renderer = Renderer::new(&FontConfig::default())?;
/// let (cell_w, cell_h) = renderer.cell_size();
/// term.set_cell_pixels(cell_w, cell_h); // what XTWINOPS reports
/// term.advance(b"$ ls\r\n");
/// let damage = renderer.render(&mut term, true);
/// assert_eq!(damage.rects, [renderer.framebuffer().bounds()]); // the first frame: all of it
/// term.advance(b"a.txt");
/// let damage = renderer.render(&mut term, true);
/// assert_eq!(damage.rects.len(), 1); // five cells and the cursor, one rectangle
/// # Ok::<(), vcmux::render::FontError>(())
/// ```
pub struct Renderer {
    /// Two painters, one a thread, for the two halves of a large repaint.
    painters: [Painter; 2],
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
    /// A line of vcmux's own drawn over the bottom row (see [`Renderer::set_status`]).
    status: Option<String>,
    /// The status line was set or cleared since the last render.
    status_changed: bool,
    /// The last render painted a status line.
    status_shown: bool,
    /// Scratch: which rows to look at, and each band's own.
    dirty: Vec<bool>,
    scratch: [Scratch; 2],
}

/// The attributes that draw lines over a cell, even a blank one.
const LINES: Flags = Flags::ANY_UNDERLINE.or(Flags::STRIKE).or(Flags::OVERLINE);

/// Repaints of at least this many cells are split between two threads.
const PARALLEL_CELLS: usize = 4000;

/// A painting thread's scratch: what each cell of a row should look like,
/// and which of them differ from the shadow.
#[derive(Default)]
struct Scratch {
    wanted: Vec<Painted>,
    changed: Vec<bool>,
}

/// What every band's painting reads.
struct Frame<'a> {
    term: &'a Terminal,
    colors: &'a Colors,
    dirty: &'a [bool],
    /// The bottom row's cells when a status line covers it.
    status: Option<(u16, &'a [Cell])>,
    cursor: Option<(u16, u16, CursorShape)>,
    blink_on: bool,
    cols: usize,
    stride: usize,
}

/// Consecutive cell rows of the framebuffer and the shadow, painted by one
/// thread.
struct Band<'a> {
    first_row: u16,
    rows: u16,
    pixels: &'a mut [u32],
    shadow: &'a mut [Painted],
}

impl Renderer {
    /// A renderer with the shipped fonts (or `config.path`) at `config.size`
    /// pixels, painting in the terminal's colours. Its framebuffer is empty until the first
    /// render.
    pub fn new(config: &FontConfig) -> Result<Renderer, FontError> {
        Ok(Renderer::with_fonts(Fonts::new(config.size, config.path.as_deref())?))
    }

    /// A renderer with this one's fonts and status line (colours are the
    /// terminal's) and nothing
    /// painted yet: a second view of the same terminal (one viewer's own view
    /// into the history, see [`render_view`](Renderer::render_view)).
    pub fn sibling(&self) -> Renderer {
        let mut renderer = Renderer::with_fonts(self.painters[0].fonts().clone());
        renderer.set_status(self.status.as_deref());
        renderer
    }

    fn with_fonts(fonts: Fonts) -> Renderer {
        Renderer {
            painters: [Painter::new(fonts.clone()), Painter::new(fonts)],
            fb: Framebuffer::new(0, 0),
            shadow: Shadow::new(0, 0),
            colors: None,
            blink_on: true,
            cursor_at: None,
            full: true,
            status: None,
            status_changed: false,
            status_shown: false,
            dirty: Vec::new(),
            scratch: Default::default(),
        }
    }

    /// Draws `text` in inverse video over the bottom row, or stops (`None`):
    /// vcmux's word to whoever watches (the console went away). The terminal's
    /// own bottom row is shown again when it stops; the text is cut to the width.
    pub fn set_status(&mut self, text: Option<&str>) {
        if self.status.as_deref() != text {
            self.status = text.map(str::to_string);
            self.status_changed = true;
        }
    }

    /// A cell's size in pixels: (width, height).
    pub fn cell_size(&self) -> (u16, u16) {
        self.painters[0].cell_size()
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
    pub fn render(&mut self, term: &mut Terminal, blink_on: bool) -> FrameDamage {
        let term_damage = term.take_damage();
        self.paint(term, &term_damage, blink_on)
    }

    /// Brings the framebuffer up to date with `term` as [`render`](Renderer::render)
    /// does, but leaves the terminal's damage to the renderer that takes it:
    /// every row is compared with what this one painted instead. For a second
    /// renderer of one terminal, such as a viewer's own view into the history
    /// (see [`Terminal::with_display_offset`]).
    pub fn render_view(&mut self, term: &Terminal, blink_on: bool) -> FrameDamage {
        self.full = true;
        self.paint(term, &Damage::default(), blink_on)
    }

    /// Paints what `term_damage` and a comparison with the shadow say changed.
    fn paint(&mut self, term: &Terminal, term_damage: &Damage, blink_on: bool) -> FrameDamage {
        let (cell_w, cell_h) = self.cell_size();
        let cols = term.cols().min(u16::MAX / cell_w);
        let rows = term.rows().min(u16::MAX / cell_h);
        let mut damage = FrameDamage::default();
        if (cols, rows) != (self.shadow.cols, self.shadow.rows) {
            self.fb = Framebuffer::new(cols * cell_w, rows * cell_h);
            self.shadow = Shadow::new(cols, rows);
            self.cursor_at = None;
            self.full = true;
        }
        let colors = Colors::new(term);
        if self.colors.as_ref() != Some(&colors) {
            self.colors = Some(colors);
            self.repaint_all();
        }
        self.dirty.clear();
        self.dirty.resize(usize::from(rows), false);
        // The terminal's damage is in rows of the live screen; while the view
        // is scrolled back into history they are not the rows shown, so every
        // row is compared with what was painted instead.
        if term.display_offset() > 0 && !term.is_alternate_screen() {
            self.full = true;
        }
        // A status line painted over the bottom row must not be moved as if
        // it were the terminal's row: compare every row instead.
        if self.status_shown && !term_damage.scrolls.is_empty() {
            self.full = true;
        }
        // When every row is compared anyway (and after a resize, when the
        // viewer has nothing to move), moving pixels first is wasted.
        for scroll in term_damage.scrolls.iter().filter(|_| !self.full) {
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
        let status_row = rows.saturating_sub(1);
        let status = self.status.as_deref().filter(|_| rows > 0).map(|text| status_cells(text, cols));
        if (std::mem::take(&mut self.status_changed) || status.is_some()) && rows > 0 {
            // Compared cell by cell with what is painted: unchanged, nothing is.
            self.dirty[usize::from(status_row)] = true;
        }
        let cursor = term.cursor();
        let under_status = status.is_some() && cursor.row == status_row;
        let cursor = (cursor.visible
            && (blink_on || !cursor.blinking)
            && cursor.col < cols
            && cursor.row < rows
            && !under_status)
            .then_some((cursor.col, cursor.row, cursor.shape));
        for (_, row) in self.cursor_at.iter().chain(cursor.map(|(c, r, _)| (c, r)).iter()) {
            self.dirty[usize::from(*row)] = true;
        }
        let Some(colors) = &self.colors else { return damage };
        let frame = Frame {
            term,
            colors,
            dirty: &self.dirty,
            status: status.as_deref().map(|cells| (status_row, cells)),
            cursor,
            blink_on,
            cols: usize::from(cols),
            stride: usize::from(cols) * usize::from(cell_w),
        };
        let cells = self.dirty.iter().filter(|&&d| d).count() * frame.cols;
        let band_rows = if cells >= PARALLEL_CELLS { rows.div_ceil(2) } else { rows };
        let (top_pixels, bottom_pixels) =
            self.fb.pixels_mut().split_at_mut(usize::from(band_rows) * usize::from(cell_h) * frame.stride);
        let (top_shadow, bottom_shadow) =
            self.shadow.cells_mut().split_at_mut(usize::from(band_rows) * frame.cols);
        let top = Band { first_row: 0, rows: band_rows, pixels: top_pixels, shadow: top_shadow };
        let bottom = Band {
            first_row: band_rows,
            rows: rows - band_rows,
            pixels: bottom_pixels,
            shadow: bottom_shadow,
        };
        let ([top_painter, bottom_painter], [top_scratch, bottom_scratch]) =
            (&mut self.painters, &mut self.scratch);
        let ((top_rects, top_cursor), (bottom_rects, bottom_cursor)) = if bottom.rows == 0 {
            (paint_band(&frame, top, top_painter, top_scratch), (Rects::default(), None))
        } else {
            std::thread::scope(|scope| {
                let frame = &frame;
                let worker = scope.spawn(move || paint_band(frame, bottom, bottom_painter, bottom_scratch));
                let top = paint_band(frame, top, top_painter, top_scratch);
                // A panic in the worker is a bug here; pass it on.
                let bottom = worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (top, bottom)
            })
        };
        self.cursor_at = top_cursor.or(bottom_cursor);
        self.status_shown = frame.status.is_some();
        damage.rects = top_rects.join(bottom_rects);
        damage
    }
}

/// The status line's cells: `text` in inverse video, cut or padded to `cols`
/// (one cell a character: anything but printable ASCII shows as `?`).
fn status_cells(text: &str, cols: u16) -> Vec<Cell> {
    let shown = |c: char| Cell::new(c, Color::Default, Color::Default, Flags::INVERSE);
    let inverse = shown(' ');
    let mut cells: Vec<Cell> = text
        .chars()
        .map(|c| shown(if c.is_ascii_graphic() || c == ' ' { c } else { '?' }))
        .take(usize::from(cols))
        .collect();
    cells.resize(usize::from(cols), inverse);
    cells
}

/// Repaints the cells of a band's dirty rows that differ from what was
/// painted; returns the rectangles and where the cursor is painted.
fn paint_band(
    frame: &Frame<'_>,
    band: Band<'_>,
    painter: &mut Painter,
    scratch: &mut Scratch,
) -> (Rects, Option<(u16, u16)>) {
    let (cell_w, cell_h) = painter.cell_size();
    let mut rects = Rects::default();
    let mut cursor_at = None;
    for y in band.first_row..band.first_row + band.rows {
        if !frame.dirty[usize::from(y)] {
            continue;
        }
        let cells = match frame.status {
            Some((row, cells)) if row == y => Cow::Borrowed(cells),
            _ => {
                let Some(cells) = frame.term.row(y) else { continue };
                cells
            }
        };
        rects.start_row(y * cell_h, cell_h);
        let cols = frame.cols.min(cells.len());
        let cells = &cells[..cols];
        let offset = usize::from(y - band.first_row) * frame.cols;
        let shadow = &mut band.shadow[offset..offset + cols];
        // The cursor sits on the left half of a wide character.
        let cursor = frame.cursor.filter(|&(_, row, _)| row == y).map(|(col, _, shape)| {
            let col = usize::from(col);
            let on_spacer = col > 0
                && cells[col].flags.contains(Flags::WIDE_SPACER)
                && cells[col - 1].flags.contains(Flags::WIDE);
            (if on_spacer { col - 1 } else { col }, shape)
        });
        let Scratch { wanted, changed } = scratch;
        wanted.clear();
        wanted.extend(cells.iter().enumerate().map(|(x, cell)| {
            let here = cursor.filter(|&(c, _)| c == x).map(|(_, shape)| shape);
            Painted::new(*cell, here, frame.blink_on)
        }));
        changed.clear();
        changed.extend(wanted.iter().zip(shadow.iter()).map(|(w, s)| w != s));
        // A wide character and its spacer are painted together: a change to
        // either half (before or after) repaints both.
        for (x, painted) in shadow.iter().enumerate().take(cols.saturating_sub(1)) {
            if changed[x] && (wanted[x].is_wide() || painted.is_wide()) {
                changed[x + 1] = true;
            }
        }
        for x in (1..cols).rev() {
            if changed[x] && (wanted[x].is_spacer() || shadow[x].is_spacer()) {
                changed[x - 1] = true;
            }
        }
        // Blank cells in a row with one background are filled together.
        let mut blank: Option<(usize, usize, u32)> = None;
        let mut x = 0;
        while x < cols {
            let wide = wanted[x].is_wide() && x + 1 < cols && wanted[x + 1].is_spacer();
            let span = if wide { 2 } else { 1 };
            if wanted[x].cursor().is_some() {
                cursor_at = Some((x as u16, y));
            }
            if changed[x..x + span].iter().any(|&c| c) {
                let painted = wanted[x];
                let mut cell = painted.cell;
                if painted.is_spacer() {
                    // The right half of a character that is gone: blank.
                    cell.c = ' ';
                }
                let ink = frame.colors.ink(&cell, frame.blink_on);
                let cursor = painted.cursor().map(|shape| (shape, frame.colors.cursor.unwrap_or(ink.fg)));
                let marks = frame.term.marks(&painted.cell);
                let plain = cursor.is_none()
                    && (!ink.visible || (cell.c == ' ' && marks.is_empty() && !cell.flags.intersects(LINES)));
                if plain {
                    match &mut blank {
                        Some((_, end, colour)) if *end == x && *colour == ink.bg => *end = x + span,
                        run => {
                            if let Some((start, end, colour)) = run.replace((x, x + span, ink.bg)) {
                                painter.fill(
                                    band.pixels,
                                    frame.stride,
                                    start,
                                    end - start,
                                    y - band.first_row,
                                    colour,
                                );
                            }
                        }
                    }
                } else {
                    let paint = CellPaint { cell: &cell, marks, wide, ink, cursor };
                    painter.paint(band.pixels, frame.stride, x as u16, y - band.first_row, &paint);
                }
                shadow[x..x + span].copy_from_slice(&wanted[x..x + span]);
                rects.add(x as u16 * cell_w, span as u16 * cell_w);
            }
            x += span;
        }
        if let Some((start, end, colour)) = blank {
            painter.fill(band.pixels, frame.stride, start, end - start, y - band.first_row, colour);
        }
    }
    (rects, cursor_at)
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
