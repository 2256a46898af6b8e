//! VT400 rectangle operations: DECCRA, DECFRA, DECERA, DECSERA, DECCARA,
//! DECRARA. Coordinates are 1-based and, in origin mode, relative to the
//! margins.

use vte::Params;

use super::{Protection, Screen};
use crate::args::Args;
use crate::cell::{self, Cell, Color, Flags};

impl Screen {
    /// The rectangle given by parameters `i..i+4` (top, left, bottom, right)
    /// as 0-based inclusive screen coordinates, clipped; `None` when empty.
    pub(super) fn rect_from(&self, a: &Args, i: usize) -> Option<(usize, usize, usize, usize)> {
        let (oy, ox, maxy, maxx) = if self.modes.origin {
            (self.region.top(), self.region.left(), self.region.bottom(), self.region.right())
        } else {
            (0, 0, self.rows - 1, self.cols - 1)
        };
        let t = (oy + a.n(i) - 1).min(maxy);
        let l = (ox + a.n(i + 1) - 1).min(maxx);
        let b = if a.get(i + 2) == 0 { maxy } else { (oy + a.get(i + 2) as usize - 1).min(maxy) };
        let r = if a.get(i + 3) == 0 { maxx } else { (ox + a.get(i + 3) as usize - 1).min(maxx) };
        (t <= b && l <= r).then_some((t, l, b, r))
    }

    /// DECFRA: fills a rectangle with one character in the current colours.
    pub(super) fn fill_rect(&mut self, a: &Args) {
        let ch = a.get(0) as u32;
        let Some(c) = char::from_u32(ch).filter(|_| (32..=126).contains(&ch) || (160..=255).contains(&ch))
        else {
            return;
        };
        let Some((t, l, b, r)) = self.rect_from(a, 1) else {
            return;
        };
        let c = self.cursor.charsets.map(c);
        let pen = self.cursor.pen;
        let cell = pen.cell(c);
        for y in t..=b {
            cell::fill(&mut self.row_mut(y).cells_mut()[l..=r], cell);
            self.fix_edges(y, l, r);
        }
    }

    /// DECERA and DECSERA: erases a rectangle (keeping protected cells when
    /// selective).
    pub(super) fn erase_rect(&mut self, a: &Args, selective: bool) {
        let Some((t, l, b, r)) = self.rect_from(a, 0) else {
            return;
        };
        // xterm's DECSERA honours only DECSCA protection, not SPA's.
        let saved = self.protection;
        if selective && saved == Protection::Iso {
            self.protection = Protection::Off;
        }
        for y in t..=b {
            self.erase_span(y, l, r + 1, selective && saved != Protection::Iso);
        }
        self.protection = saved;
    }

    /// DECCRA: copies a rectangle to another place on the screen.
    pub(super) fn copy_rect(&mut self, a: &Args) {
        let Some((t, l, b, r)) = self.rect_from(a, 0) else {
            return;
        };
        let (oy, ox) = if self.modes.origin { (self.region.top(), self.region.left()) } else { (0, 0) };
        let (maxy, maxx) = if self.modes.origin {
            (self.region.bottom(), self.region.right())
        } else {
            (self.rows - 1, self.cols - 1)
        };
        let dt = oy + a.n(5) - 1;
        let dl = ox + a.n(6) - 1;
        if dt > maxy || dl > maxx {
            return;
        }
        let h = (b - t).min(maxy - dt);
        let w = (r - l).min(maxx - dl);
        let block: Vec<Vec<Cell>> =
            (t..=t + h).map(|y| self.grid().row(y).cells()[l..=l + w].to_vec()).collect();
        for (i, src) in block.into_iter().enumerate() {
            let y = dt + i;
            self.row_mut(y).cells_mut()[dl..=dl + w].copy_from_slice(&src);
            self.fix_edges(y, dl, dl + w);
        }
    }

    /// DECCARA (`reverse` false) and DECRARA (`reverse` true): sets or
    /// toggles attributes over a rectangle or a stream of cells (DECSACE).
    pub(super) fn change_attributes(&mut self, params: &Params, reverse: bool) {
        let a = Args::new(params);
        let Some((t, l, b, r)) = self.rect_from(&a, 0) else {
            return;
        };
        let mut set = Flags::empty();
        let mut clear = Flags::empty();
        let mut fg = None;
        let mut bg = None;
        let attrs: Vec<u16> = a.iter().skip(4).collect();
        let attrs = if attrs.is_empty() { vec![0] } else { attrs };
        let all = Flags::BOLD.or(Flags::UNDERLINE).or(Flags::BLINK).or(Flags::INVERSE);
        for p in attrs {
            let (flag, on) = match p {
                0 => {
                    if reverse {
                        set.insert(all);
                    } else {
                        clear.insert(all.or(Flags::HIDDEN));
                        set.remove(all.or(Flags::HIDDEN));
                    }
                    continue;
                }
                1 => (Flags::BOLD, true),
                4 => (Flags::UNDERLINE, true),
                5 => (Flags::BLINK, true),
                7 => (Flags::INVERSE, true),
                8 => (Flags::HIDDEN, true),
                22 => (Flags::BOLD, false),
                24 => (Flags::UNDERLINE, false),
                25 => (Flags::BLINK, false),
                27 => (Flags::INVERSE, false),
                28 => (Flags::HIDDEN, false),
                30..=37 if !reverse => {
                    fg = Some(Color::Indexed((p - 30) as u8));
                    continue;
                }
                39 if !reverse => {
                    fg = Some(Color::Default);
                    continue;
                }
                40..=47 if !reverse => {
                    bg = Some(Color::Indexed((p - 40) as u8));
                    continue;
                }
                49 if !reverse => {
                    bg = Some(Color::Default);
                    continue;
                }
                _ => continue,
            };
            if reverse {
                if on {
                    set.insert(flag);
                }
            } else if on {
                set.insert(flag);
                clear.remove(flag);
            } else {
                clear.insert(flag);
                set.remove(flag);
            }
        }
        let stream = self.attr_extent != 2;
        let cols = self.cols;
        for y in t..=b {
            let (from, to) =
                if stream { (if y == t { l } else { 0 }, if y == b { r } else { cols - 1 }) } else { (l, r) };
            for cell in &mut self.row_mut(y).cells_mut()[from..=to] {
                if reverse {
                    cell.flags.toggle(set);
                } else {
                    cell.flags.remove(clear);
                    cell.flags.insert(set);
                    if let Some(c) = fg {
                        cell.fg = c;
                    }
                    if let Some(c) = bg {
                        cell.bg = c;
                    }
                }
            }
        }
    }

    /// Blanks wide-character halves left dangling at columns `l` and `r`.
    fn fix_edges(&mut self, y: usize, l: usize, r: usize) {
        let cols = self.cols;
        let row = self.grid_mut().row_mut(y).cells_mut();
        if row[l].flags.contains(Flags::WIDE_SPACER) && l > 0 {
            row[l - 1] = Cell::erased(row[l - 1].bg);
            row[l].flags.remove(Flags::WIDE_SPACER);
        }
        if row[r].flags.contains(Flags::WIDE) {
            row[r].flags.remove(Flags::WIDE);
            if r + 1 < cols {
                row[r + 1] = Cell::erased(row[r + 1].bg);
            }
        }
    }
}
