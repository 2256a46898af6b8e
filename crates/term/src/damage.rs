//! What changed on the screen since the renderer last looked.

/// A move of the rows `top..=bottom` by `delta` rows: negative moves content
/// up (the usual scroll of a log), positive moves it down. Rows uncovered by
/// the move are reported dirty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scroll {
    /// First row of the moved region (0 = top of the screen).
    pub top: u16,
    /// Last row of the moved region, inclusive.
    pub bottom: u16,
    /// Rows moved: negative is up, positive is down.
    pub delta: i32,
}

/// The changes since the previous [`Terminal::take_damage`](super::Terminal::take_damage).
///
/// Apply it in order: first every scroll (move pixel rows), then repaint the
/// dirty rows, which are given in final screen coordinates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Damage {
    /// Region moves, oldest first.
    pub scrolls: Vec<Scroll>,
    /// Rows to repaint, ascending.
    pub rows: Vec<u16>,
}

/// At most this many distinct scrolls are kept; beyond, everything is dirty.
const MAX_SCROLLS: usize = 16;

/// Accumulates damage between two takes.
#[derive(Debug)]
pub(crate) struct Tracker {
    dirty: Vec<bool>,
    /// How many of `dirty` are set, so that "everything is dirty" (the
    /// usual state during a flood of output) is a comparison.
    count: usize,
    scrolls: Vec<Scroll>,
}

impl Tracker {
    pub fn new(rows: usize) -> Tracker {
        Tracker { dirty: vec![true; rows], count: rows, scrolls: Vec::new() }
    }

    #[inline]
    pub fn row(&mut self, y: usize) {
        if let Some(d) = self.dirty.get_mut(y)
            && !*d
        {
            *d = true;
            self.count += 1;
        }
    }

    pub fn rows(&mut self, top: usize, bottom: usize) {
        if self.count == self.dirty.len() {
            return;
        }
        let end = (bottom + 1).min(self.dirty.len());
        for y in top..end {
            self.row(y);
        }
    }

    pub fn all(&mut self) {
        self.dirty.fill(true);
        self.count = self.dirty.len();
        self.scrolls.clear();
    }

    /// Records that rows `top..=bottom` moved by `delta`.
    pub fn scroll(&mut self, top: usize, bottom: usize, delta: i32) {
        let height = bottom + 1 - top;
        if delta == 0 || bottom >= self.dirty.len() || self.count == self.dirty.len() {
            return;
        }
        if delta.unsigned_abs() as usize >= height || self.dirty[top..=bottom].iter().all(|&d| d) {
            // Everything in the region is repainted anyway.
            self.rows(top, bottom);
            return;
        }
        // Dirty rows move with the content; the uncovered ones become dirty.
        let region = &mut self.dirty[top..=bottom];
        let k = delta.unsigned_abs() as usize;
        if delta < 0 {
            region.rotate_left(k);
            region[height - k..].fill(true);
        } else {
            region.rotate_right(k);
            region[..k].fill(true);
        }
        self.count = self.dirty.iter().filter(|&&d| d).count();
        let (top, bottom) = (top as u16, bottom as u16);
        if let Some(last) = self.scrolls.last_mut()
            && last.top == top
            && last.bottom == bottom
            && (last.delta < 0) == (delta < 0)
        {
            last.delta += delta;
            if last.delta.unsigned_abs() as usize >= height {
                self.scrolls.pop();
                self.rows(top as usize, bottom as usize);
            }
            return;
        }
        if self.scrolls.len() >= MAX_SCROLLS {
            self.all();
            return;
        }
        self.scrolls.push(Scroll { top, bottom, delta });
    }

    pub fn resize(&mut self, rows: usize) {
        self.dirty = vec![true; rows];
        self.count = rows;
        self.scrolls.clear();
    }

    pub fn take(&mut self) -> Damage {
        let rows = self
            .dirty
            .iter_mut()
            .enumerate()
            .filter_map(|(y, d)| std::mem::take(d).then_some(y as u16))
            .collect();
        self.count = 0;
        Damage { scrolls: std::mem::take(&mut self.scrolls), rows }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrolls_merge_and_shift_dirt() {
        let mut t = Tracker::new(5);
        t.take();
        t.row(4);
        t.scroll(0, 4, -1);
        t.scroll(0, 4, -1);
        let d = t.take();
        assert_eq!(d.scrolls, vec![Scroll { top: 0, bottom: 4, delta: -2 }]);
        assert_eq!(d.rows, vec![2, 3, 4]);
    }

    #[test]
    fn scrolling_past_the_region_is_a_repaint() {
        let mut t = Tracker::new(3);
        t.take();
        for _ in 0..5 {
            t.scroll(0, 2, -1);
        }
        let d = t.take();
        assert!(d.scrolls.is_empty());
        assert_eq!(d.rows, vec![0, 1, 2]);
    }
}
