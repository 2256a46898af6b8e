//! A viewer's pending region, whatever the order of screen changes and updates:
//! a viewer that applies each update (moves, then rectangles copied from the
//! framebuffer at that moment) ends up showing the framebuffer exactly.

use proptest::prelude::*;
use vcmux::frame::{FrameDamage, Framebuffer, Move, Rect};
use vcmux::rfb::pending::Pending;

const W: u16 = 48;
const H: u16 = 40;
/// Rows of "cells", as the renderer scrolls them.
const ROW: u16 = 4;

#[derive(Debug, Clone)]
enum Step {
    /// The rows `top..=bottom` (in cells) scroll by `delta` (negative: up); the
    /// uncovered rows are repainted.
    Scroll { top: u16, bottom: u16, delta: i16, seed: u32 },
    /// A rectangle is repainted.
    Paint { x: u16, y: u16, w: u16, h: u16, seed: u32 },
    /// The viewer takes an update.
    Update,
}

fn step() -> impl Strategy<Value = Step> {
    let rows = H / ROW;
    prop_oneof![
        (0..rows, 0..rows, -(rows as i16)..=(rows as i16), any::<u32>()).prop_map(|(a, b, delta, seed)| {
            Step::Scroll { top: a.min(b), bottom: a.max(b), delta, seed }
        }),
        (0..W, 0..H, 1..=W, 1..=H, any::<u32>()).prop_map(|(x, y, w, h, seed)| Step::Paint {
            x,
            y,
            w: w.min(W - x),
            h: h.min(H - y),
            seed
        }),
        Just(Step::Update),
    ]
}

fn paint(fb: &mut Framebuffer, rect: Rect, seed: u32) {
    for y in rect.y..rect.y + rect.height {
        for x in rect.x..rect.x + rect.width {
            let v = seed.wrapping_mul(2654435761).wrapping_add(u32::from(x) * 7919 + u32::from(y) * 104729);
            fb.pixels_mut()[usize::from(y) * usize::from(W) + usize::from(x)] = v & 0xffffff;
        }
    }
}

/// Applies a step to the framebuffer, returning its damage as the renderer reports it.
fn change(fb: &mut Framebuffer, step: &Step) -> FrameDamage {
    match *step {
        Step::Scroll { top, bottom, delta, seed } => {
            let height = bottom - top + 1;
            let k = delta.unsigned_abs().min(height);
            let mut damage = FrameDamage::default();
            if k > 0 && k < height {
                let (from, to) = if delta < 0 { (top + k, top) } else { (top, top + k) };
                let mv =
                    Move { dst: Rect::new(0, to * ROW, W, (height - k) * ROW), src_x: 0, src_y: from * ROW };
                fb.apply_move(&mv);
                damage.moves.push(mv);
            }
            let uncovered = if delta < 0 { (bottom + 1 - k, k) } else { (top, k) };
            if uncovered.1 > 0 {
                let rect = Rect::new(0, uncovered.0 * ROW, W, uncovered.1 * ROW);
                paint(fb, rect, seed);
                damage.rects.push(rect);
            }
            damage
        }
        Step::Paint { x, y, w, h, seed } => {
            let rect = Rect::new(x, y, w, h);
            paint(fb, rect, seed);
            FrameDamage { moves: vec![], rects: vec![rect] }
        }
        Step::Update => FrameDamage::default(),
    }
}

fn update(viewer: &mut Framebuffer, fb: &Framebuffer, pending: &mut Pending) {
    let taken = pending.take();
    for mv in &taken.moves {
        viewer.apply_move(mv);
    }
    for rect in &taken.rects {
        let mut pixels = Vec::new();
        fb.copy_rect(*rect, &mut pixels);
        let mut i = 0;
        for y in rect.y..rect.y + rect.height {
            for x in rect.x..rect.x + rect.width {
                viewer.pixels_mut()[usize::from(y) * usize::from(W) + usize::from(x)] = pixels[i];
                i += 1;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn a_viewer_applying_its_updates_shows_the_framebuffer(steps in proptest::collection::vec(step(), 1..60)) {
        let mut fb = Framebuffer::new(W, H);
        let all = fb.bounds();
        paint(&mut fb, all, 1);
        let mut viewer = fb.clone();
        let mut pending = Pending::nothing(W, H, true);
        for step in &steps {
            if let Step::Update = step {
                update(&mut viewer, &fb, &mut pending);
                prop_assert!(viewer == fb, "after an update the viewer differs");
                continue;
            }
            let damage = change(&mut fb, step);
            pending.add(W, H, &damage);
        }
        update(&mut viewer, &fb, &mut pending);
        prop_assert!(viewer == fb, "the viewer differs at the end");
    }
}

#[test]
fn a_viewer_shown_another_framebuffer_is_sent_all_of_it() {
    let mv = Move { dst: Rect::new(0, 0, W, H - ROW), src_x: 0, src_y: ROW };
    let mut pending = Pending::nothing(W, H, true);
    pending.add(W, H, &FrameDamage { moves: vec![mv], rects: vec![Rect::new(0, H - ROW, W, ROW)] });
    pending.restart(W, H);
    let taken = pending.take();
    assert_eq!((taken.moves, taken.rects, taken.resized), (vec![], vec![Rect::new(0, 0, W, H)], false));
    // Another size is still told.
    pending.restart(W, H + ROW);
    let taken = pending.take();
    assert_eq!((taken.rects, taken.resized), (vec![Rect::new(0, 0, W, H + ROW)], true));
}
