//! What a viewer has not been sent yet: the moves and dirty rectangles that take
//! its copy of the framebuffer to the current one, kept small however much
//! changes while it is not asking.
//!
//! The region is a list of moves, applied first and in order, then rectangles
//! to repaint from the current framebuffer, exactly as a [`FrameDamage`]. Adding a
//! damage keeps that true:
//!
//! - a new move carries the pending rectangles in its source along to its
//!   destination (the old ones stay dirty too);
//! - two vertical moves of the same region in the same direction become one
//!   (a scroll by 1 then by 1 is a scroll by 2), the rows neither brought in
//!   dirty;
//! - past [`MAX_MOVES`], or when the viewer takes no CopyRect, a move becomes
//!   damage: its destination is repainted;
//! - rectangles merge when their union is exact, and past [`MAX_RECTS`] the two
//!   whose union wastes least are merged; once they add up to more than the
//!   screen they become their bounding box.

use crate::frame::{FrameDamage, Move, Rect};

/// Moves kept before further ones turn into damage.
pub const MAX_MOVES: usize = 4;

/// Rectangles kept before they are coalesced.
pub const MAX_RECTS: usize = 32;

/// The changes one viewer has not been sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    bounds: Rect,
    moves: Vec<Move>,
    rects: Vec<Rect>,
    resized: bool,
    moves_allowed: bool,
}

/// What [`Pending::take`] hands over for one update.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Taken {
    /// The framebuffer size the update is for.
    pub width: u16,
    /// Its height.
    pub height: u16,
    /// The framebuffer's size changed since the last update: the viewer must be
    /// told, and `rects` covers everything.
    pub resized: bool,
    /// Moves, in order.
    pub moves: Vec<Move>,
    /// Rectangles to repaint after them.
    pub rects: Vec<Rect>,
}

impl Taken {
    /// The moves and rectangles as a damage.
    pub fn into_damage(self) -> FrameDamage {
        FrameDamage { moves: self.moves, rects: self.rects }
    }
}

/// The result of merging two moves.
enum Combined {
    /// One move, and the strip it leaves that neither move brought in.
    Move(Move, Rect),
    /// The moves shift everything out of their region: repaint it.
    Gone(Rect),
}

impl Pending {
    /// Everything of a `width` x `height` framebuffer is dirty, as for a new
    /// viewer. `moves_allowed`: the viewer takes CopyRect.
    pub fn everything(width: u16, height: u16, moves_allowed: bool) -> Pending {
        let bounds = Rect::new(0, 0, width, height);
        let rects = if bounds.is_empty() { Vec::new() } else { vec![bounds] };
        Pending { bounds, moves: Vec::new(), rects, resized: false, moves_allowed }
    }

    /// Nothing changed: an empty region over a `width` x `height` framebuffer.
    pub fn nothing(width: u16, height: u16, moves_allowed: bool) -> Pending {
        Pending { rects: Vec::new(), ..Pending::everything(width, height, moves_allowed) }
    }

    /// Everything of a `width` x `height` framebuffer is dirty again, as when
    /// the viewer is shown another framebuffer; a new size is still told.
    pub fn restart(&mut self, width: u16, height: u16) {
        let resized = self.resized || (width, height) != self.size();
        *self = Pending { resized, ..Pending::everything(width, height, self.moves_allowed) };
    }

    /// The framebuffer size this region is about.
    pub fn size(&self) -> (u16, u16) {
        (self.bounds.width, self.bounds.height)
    }

    /// Whether there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.moves.is_empty() && self.rects.is_empty() && !self.resized
    }

    /// The pending rectangles.
    pub fn rects(&self) -> &[Rect] {
        &self.rects
    }

    /// Whether moves may be kept (the viewer takes CopyRect); when not, the
    /// pending ones become damage.
    pub fn set_moves_allowed(&mut self, allowed: bool) {
        self.moves_allowed = allowed;
        if !allowed {
            for mv in std::mem::take(&mut self.moves) {
                self.add_rect(mv.dst);
            }
        }
    }

    /// Adds what changed in a `width` x `height` framebuffer. A new size makes
    /// everything dirty and marks the region resized.
    pub fn add(&mut self, width: u16, height: u16, damage: &FrameDamage) {
        if (width, height) != self.size() {
            *self = Pending { resized: true, ..Pending::everything(width, height, self.moves_allowed) };
            return;
        }
        for mv in &damage.moves {
            self.add_move(mv);
        }
        for rect in &damage.rects {
            self.add_rect(*rect);
        }
    }

    /// Hands everything over and leaves the region empty.
    pub fn take(&mut self) -> Taken {
        let taken = Taken {
            width: self.bounds.width,
            height: self.bounds.height,
            resized: self.resized,
            moves: std::mem::take(&mut self.moves),
            rects: std::mem::take(&mut self.rects),
        };
        self.resized = false;
        taken
    }

    fn inside(&self, rect: &Rect) -> bool {
        !rect.is_empty() && rect.intersection(&self.bounds) == Some(*rect)
    }

    fn add_move(&mut self, mv: &Move) {
        let (src, dst) = (mv.src(), mv.dst);
        if src == dst {
            return;
        }
        if !self.moves_allowed || !self.inside(&src) || !self.inside(&dst) {
            self.add_rect(dst);
            return;
        }
        let (dx, dy) = (i32::from(dst.x) - i32::from(src.x), i32::from(dst.y) - i32::from(src.y));
        let carried: Vec<Rect> = self
            .rects
            .iter()
            .filter_map(|r| r.intersection(&src))
            .map(|r| Rect::new((i32::from(r.x) + dx) as u16, (i32::from(r.y) + dy) as u16, r.width, r.height))
            .collect();
        match self.moves.last().and_then(|last| combine(last, mv)) {
            Some(combined) => {
                self.moves.pop();
                match combined {
                    Combined::Move(merged, vacated) => {
                        self.moves.push(merged);
                        self.add_rect(vacated);
                    }
                    Combined::Gone(region) => self.add_rect(region),
                }
            }
            None if self.moves.len() < MAX_MOVES => self.moves.push(*mv),
            None => {
                self.add_rect(dst);
                return;
            }
        }
        for rect in carried {
            self.add_rect(rect);
        }
    }

    /// Marks a rectangle dirty (clipped to the framebuffer).
    pub fn add_rect(&mut self, rect: Rect) {
        let Some(mut rect) = rect.intersection(&self.bounds) else { return };
        if self.rects.iter().any(|r| contains(r, &rect)) {
            return;
        }
        loop {
            self.rects.retain(|r| !contains(&rect, r));
            match self.rects.iter().position(|r| unites_exactly(r, &rect)) {
                Some(i) => rect = rect.union(&self.rects.swap_remove(i)),
                None => break,
            }
        }
        self.rects.push(rect);
        while self.rects.len() > MAX_RECTS {
            self.merge_cheapest_pair();
        }
        let total: u64 = self.rects.iter().map(area).sum();
        if total > area(&self.bounds) {
            let all = self.rects.iter().skip(1).fold(self.rects[0], |a, r| a.union(r));
            self.rects = vec![all];
        }
    }

    fn merge_cheapest_pair(&mut self) {
        let mut best = (i64::MAX, 0, 1);
        for i in 0..self.rects.len() {
            for j in i + 1..self.rects.len() {
                let (a, b) = (&self.rects[i], &self.rects[j]);
                let waste = area(&a.union(b)) as i64 - area(a) as i64 - area(b) as i64;
                if waste < best.0 {
                    best = (waste, i, j);
                }
            }
        }
        let (_, i, j) = best;
        let b = self.rects.swap_remove(j);
        let a = self.rects.swap_remove(i);
        self.add_rect(a.union(&b));
    }
}

fn area(r: &Rect) -> u64 {
    u64::from(r.width) * u64::from(r.height)
}

fn contains(outer: &Rect, inner: &Rect) -> bool {
    outer.x <= inner.x
        && outer.y <= inner.y
        && outer.right() >= inner.right()
        && outer.bottom() >= inner.bottom()
}

/// Whether the union of two rectangles is exactly the pixels of both: same
/// rows and touching side by side, or same columns and touching one over the other.
fn unites_exactly(a: &Rect, b: &Rect) -> bool {
    let side_by_side =
        a.y == b.y && a.height == b.height && u32::from(a.x) <= b.right() && u32::from(b.x) <= a.right();
    let stacked =
        a.x == b.x && a.width == b.width && u32::from(a.y) <= b.bottom() && u32::from(b.y) <= a.bottom();
    side_by_side || stacked
}

/// A vertical move: same columns, different rows, source and destination
/// overlapping or touching; its region and signed row shift.
fn vertical(mv: &Move) -> Option<(Rect, i32)> {
    let dy = i32::from(mv.dst.y) - i32::from(mv.src_y);
    let region = mv.dst.union(&mv.src());
    (mv.dst.x == mv.src_x
        && dy != 0
        && u32::from(region.height) == u32::from(mv.dst.height) + dy.unsigned_abs())
    .then_some((region, dy))
}

/// Two moves as one, when both scroll the same region the same way.
fn combine(first: &Move, second: &Move) -> Option<Combined> {
    let (region, dy1) = vertical(first)?;
    let (region2, dy2) = vertical(second)?;
    if region != region2 || dy1.signum() != dy2.signum() {
        return None;
    }
    let shift = (dy1 + dy2).unsigned_abs();
    if shift >= u32::from(region.height) {
        return Some(Combined::Gone(region));
    }
    let (shift, kept) = (shift as u16, region.height - shift as u16);
    let (x, w) = (region.x, region.width);
    Some(if dy1 < 0 {
        Combined::Move(
            Move { dst: Rect::new(x, region.y, w, kept), src_x: x, src_y: region.y + shift },
            Rect::new(x, region.y + kept, w, shift),
        )
    } else {
        Combined::Move(
            Move { dst: Rect::new(x, region.y + shift, w, kept), src_x: x, src_y: region.y },
            Rect::new(x, region.y, w, shift),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Framebuffer;

    fn scroll_up(region: Rect, rows: u16) -> Move {
        Move {
            dst: Rect::new(region.x, region.y, region.width, region.height - rows),
            src_x: region.x,
            src_y: region.y + rows,
        }
    }

    #[test]
    fn two_scrolls_of_one_region_are_one_move() {
        let mut p = Pending::nothing(100, 100, true);
        let screen = Rect::new(0, 0, 100, 100);
        for _ in 0..2 {
            p.add(
                100,
                100,
                &FrameDamage { moves: vec![scroll_up(screen, 10)], rects: vec![Rect::new(0, 90, 100, 10)] },
            );
        }
        let taken = p.take();
        assert_eq!(taken.moves, vec![scroll_up(screen, 20)]);
        assert_eq!(taken.rects, vec![Rect::new(0, 80, 100, 20)]);
        assert!(p.is_empty());
    }

    #[test]
    fn scrolling_a_region_away_repaints_it() {
        let mut p = Pending::nothing(100, 100, true);
        let region = Rect::new(0, 10, 100, 30);
        for _ in 0..3 {
            p.add(100, 100, &FrameDamage { moves: vec![scroll_up(region, 10)], rects: vec![] });
        }
        let taken = p.take();
        assert!(taken.moves.is_empty());
        assert_eq!(taken.rects, vec![region]);
    }

    #[test]
    fn without_copyrect_moves_are_damage() {
        let mut p = Pending::nothing(100, 100, false);
        p.add(
            100,
            100,
            &FrameDamage { moves: vec![scroll_up(Rect::new(0, 0, 100, 100), 10)], rects: vec![] },
        );
        let taken = p.take();
        assert!(taken.moves.is_empty());
        assert_eq!(taken.rects, vec![Rect::new(0, 0, 100, 90)]);
    }

    #[test]
    fn a_new_size_makes_everything_dirty() {
        let mut p = Pending::nothing(100, 100, true);
        p.add(50, 60, &FrameDamage::default());
        let taken = p.take();
        assert!(taken.resized);
        assert_eq!((taken.width, taken.height), (50, 60));
        assert_eq!(taken.rects, vec![Rect::new(0, 0, 50, 60)]);
    }

    #[test]
    fn many_rectangles_stay_few() {
        let mut p = Pending::nothing(1000, 1000, true);
        for i in 0..500u16 {
            p.add_rect(Rect::new((i * 37) % 990, (i * 91) % 990, 3, 5));
        }
        assert!(p.rects().len() <= MAX_RECTS);
    }

    /// xorshift: reproducible without a dependency.
    struct Random(u64);
    impl Random {
        fn below(&mut self, n: u32) -> u16 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % u64::from(n)) as u16
        }
    }

    /// Random paints and scrolls, merged into the regions of viewers that take
    /// updates at random moments: each viewer's copy always ends equal to the
    /// framebuffer.
    #[test]
    fn viewers_that_apply_their_updates_see_the_framebuffer() {
        let (w, h) = (40u16, 30u16);
        let mut rng = Random(0x9e3779b97f4a7c15);
        let mut fb = Framebuffer::new(w, h);
        let mut viewers: Vec<(Framebuffer, Pending)> = [true, false, true]
            .iter()
            .map(|&copy| (Framebuffer::new(w, h), Pending::nothing(w, h, copy)))
            .collect();
        for step in 0..5000u32 {
            let mut damage = FrameDamage::default();
            if rng.below(3) == 0 {
                let y = rng.below(10);
                let region = Rect::new(0, y, w, 5 + rng.below(u32::from(h - y - 5)));
                let rows = 1 + rng.below(3);
                let mv = if rng.below(2) == 0 {
                    scroll_up(region, rows)
                } else {
                    Move {
                        dst: Rect::new(0, region.y + rows, w, region.height - rows),
                        src_x: 0,
                        src_y: region.y,
                    }
                };
                fb.apply_move(&mv);
                damage.moves.push(mv);
                if rng.below(2) == 0 {
                    let strip = Rect::new(0, region.bottom() as u16 - rows, w, rows);
                    damage.rects.push(strip);
                    paint(&mut fb, strip, step);
                } else {
                    let strip = Rect::new(0, region.y, w, rows);
                    damage.rects.push(strip);
                    paint(&mut fb, strip, step);
                }
            }
            for _ in 0..rng.below(3) {
                let (x, y) = (rng.below(u32::from(w) - 1), rng.below(u32::from(h) - 1));
                let r = Rect::new(x, y, 1 + rng.below(u32::from(w - x)), 1 + rng.below(u32::from(h - y)));
                paint(&mut fb, r, step + 1);
                damage.rects.push(r);
            }
            for (i, (copy, pending)) in viewers.iter_mut().enumerate() {
                pending.add(w, h, &damage);
                if rng.below(2 + 4 * i as u32) == 0 {
                    let taken = pending.take();
                    for mv in &taken.moves {
                        copy.apply_move(mv);
                    }
                    for r in &taken.rects {
                        let mut pixels = Vec::new();
                        fb.copy_rect(*r, &mut pixels);
                        for (j, p) in pixels.into_iter().enumerate() {
                            let (x, y) =
                                (r.x as usize + j % r.width as usize, r.y as usize + j / r.width as usize);
                            copy.pixels_mut()[y * w as usize + x] = p;
                        }
                    }
                    assert_eq!(copy, &fb, "viewer {i} after step {step}");
                }
            }
        }
    }

    fn paint(fb: &mut Framebuffer, r: Rect, seed: u32) {
        let w = fb.width() as usize;
        for y in r.y..r.y + r.height {
            for x in r.x..r.x + r.width {
                fb.pixels_mut()[y as usize * w + x as usize] =
                    seed.wrapping_mul(2654435761) ^ u32::from(x + y);
            }
        }
    }
}
