//! Box drawing (U+2500–U+257F), block elements (U+2580–U+259F) and the DEC
//! scan lines (U+23BA–U+23BD) drawn by code rather than taken from a font, so
//! that lines meet the cell's edges exactly and join across cells at any size.
//!
//! Every shape is a coverage bitmap of one cell. A line of a given weight sits
//! at the same place in every cell, so neighbours line up.

/// The weight of one arm of a box-drawing character.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Arm {
    None,
    Light,
    Heavy,
    Double,
}

use Arm::{Double as D, Heavy as H, Light as L, None as N};

/// Arms (up, right, down, left) of U+2500–U+254B, U+2550–U+256C and U+2574–U+257F;
/// `None` for the dashes, arcs and diagonals, drawn separately.
fn arms(c: char) -> Option<[Arm; 4]> {
    const SOLID: [[Arm; 4]; 0x4c] = [
        [N, L, N, L],
        [N, H, N, H],
        [L, N, L, N],
        [H, N, H, N], // ─ ━ │ ┃
        [N; 4],
        [N; 4],
        [N; 4],
        [N; 4],
        [N; 4],
        [N; 4],
        [N; 4],
        [N; 4], // dashes
        [N, L, L, N],
        [N, H, L, N],
        [N, L, H, N],
        [N, H, H, N], // ┌ ┍ ┎ ┏
        [N, N, L, L],
        [N, N, L, H],
        [N, N, H, L],
        [N, N, H, H], // ┐ ┑ ┒ ┓
        [L, L, N, N],
        [L, H, N, N],
        [H, L, N, N],
        [H, H, N, N], // └ ┕ ┖ ┗
        [L, N, N, L],
        [L, N, N, H],
        [H, N, N, L],
        [H, N, N, H], // ┘ ┙ ┚ ┛
        [L, L, L, N],
        [L, H, L, N],
        [H, L, L, N],
        [L, L, H, N], // ├ ┝ ┞ ┟
        [H, L, H, N],
        [H, H, L, N],
        [L, H, H, N],
        [H, H, H, N], // ┠ ┡ ┢ ┣
        [L, N, L, L],
        [L, N, L, H],
        [H, N, L, L],
        [L, N, H, L], // ┤ ┥ ┦ ┧
        [H, N, H, L],
        [H, N, L, H],
        [L, N, H, H],
        [H, N, H, H], // ┨ ┩ ┪ ┫
        [N, L, L, L],
        [N, L, L, H],
        [N, H, L, L],
        [N, H, L, H], // ┬ ┭ ┮ ┯
        [N, L, H, L],
        [N, L, H, H],
        [N, H, H, L],
        [N, H, H, H], // ┰ ┱ ┲ ┳
        [L, L, N, L],
        [L, L, N, H],
        [L, H, N, L],
        [L, H, N, H], // ┴ ┵ ┶ ┷
        [H, L, N, L],
        [H, L, N, H],
        [H, H, N, L],
        [H, H, N, H], // ┸ ┹ ┺ ┻
        [L, L, L, L],
        [L, L, L, H],
        [L, H, L, L],
        [L, H, L, H], // ┼ ┽ ┾ ┿
        [H, L, L, L],
        [L, L, H, L],
        [H, L, H, L],
        [H, L, L, H], // ╀ ╁ ╂ ╃
        [H, H, L, L],
        [L, L, H, H],
        [L, H, H, L],
        [H, H, L, H], // ╄ ╅ ╆ ╇
        [L, H, H, H],
        [H, L, H, H],
        [H, H, H, L],
        [H, H, H, H], // ╈ ╉ ╊ ╋
    ];
    const DOUBLE: [[Arm; 4]; 0x1d] = [
        [N, D, N, D],
        [D, N, D, N], // ═ ║
        [N, D, L, N],
        [N, L, D, N],
        [N, D, D, N], // ╒ ╓ ╔
        [N, N, L, D],
        [N, N, D, L],
        [N, N, D, D], // ╕ ╖ ╗
        [L, D, N, N],
        [D, L, N, N],
        [D, D, N, N], // ╘ ╙ ╚
        [L, N, N, D],
        [D, N, N, L],
        [D, N, N, D], // ╛ ╜ ╝
        [L, D, L, N],
        [D, L, D, N],
        [D, D, D, N], // ╞ ╟ ╠
        [L, N, L, D],
        [D, N, D, L],
        [D, N, D, D], // ╡ ╢ ╣
        [N, D, L, D],
        [N, L, D, L],
        [N, D, D, D], // ╤ ╥ ╦
        [L, D, N, D],
        [D, L, N, L],
        [D, D, N, D], // ╧ ╨ ╩
        [L, D, L, D],
        [D, L, D, L],
        [D, D, D, D], // ╪ ╫ ╬
    ];
    const HALVES: [[Arm; 4]; 12] = [
        [N, N, N, L],
        [L, N, N, N],
        [N, L, N, N],
        [N, N, L, N], // ╴ ╵ ╶ ╷
        [N, N, N, H],
        [H, N, N, N],
        [N, H, N, N],
        [N, N, H, N], // ╸ ╹ ╺ ╻
        [N, H, N, L],
        [L, N, H, N],
        [N, L, N, H],
        [H, N, L, N], // ╼ ╽ ╾ ╿
    ];
    let arms = match c as u32 {
        n @ 0x2500..=0x254b => SOLID[(n - 0x2500) as usize],
        n @ 0x2550..=0x256c => DOUBLE[(n - 0x2550) as usize],
        n @ 0x2574..=0x257f => HALVES[(n - 0x2574) as usize],
        _ => return None,
    };
    (arms != [N; 4]).then_some(arms)
}

/// A cell-sized coverage bitmap being drawn.
struct CoverageMask {
    w: usize,
    h: usize,
    cov: Vec<u8>,
}

impl CoverageMask {
    fn new(w: usize, h: usize) -> CoverageMask {
        CoverageMask { w, h, cov: vec![0; w * h] }
    }

    /// Fills `x0..x1` x `y0..y1`, clipped, with `value`.
    fn fill(&mut self, x0: usize, x1: usize, y0: usize, y1: usize, value: u8) {
        let (x1, y1) = (x1.min(self.w), y1.min(self.h));
        for y in y0..y1 {
            for x in x0..x1.max(x0) {
                let p = &mut self.cov[y * self.w + x];
                *p = (*p).max(value);
            }
        }
    }

    /// Coverage of every pixel by a shape, sampled 4x4 per pixel; `inside`
    /// takes the sample's coordinates in pixels.
    fn shape(&mut self, inside: impl Fn(f32, f32) -> bool) {
        for y in 0..self.h {
            for x in 0..self.w {
                let mut hits = 0u32;
                for sy in 0..4 {
                    for sx in 0..4 {
                        let px = x as f32 + (sx as f32 + 0.5) / 4.0;
                        let py = y as f32 + (sy as f32 + 0.5) / 4.0;
                        hits += u32::from(inside(px, py));
                    }
                }
                let p = &mut self.cov[y * self.w + x];
                *p = (*p).max((hits * 255 / 16) as u8);
            }
        }
    }
}

/// Line weights and positions for one cell size.
struct Geometry {
    w: usize,
    h: usize,
    light: usize,
    heavy: usize,
}

impl Geometry {
    fn new(w: usize, h: usize) -> Geometry {
        let light = ((w as f32 / 8.0).round() as usize).max(1);
        Geometry { w, h, light, heavy: (light * 2).max(light + 1) }
    }

    fn thickness(&self, arm: Arm) -> usize {
        match arm {
            Arm::Heavy => self.heavy,
            _ => self.light,
        }
    }

    /// Left edge of a vertical stroke of thickness `t`.
    fn vx(&self, t: usize) -> usize {
        (self.w - t.min(self.w)) / 2
    }

    /// Top edge of a horizontal stroke of thickness `t`.
    fn hy(&self, t: usize) -> usize {
        (self.h - t.min(self.h)) / 2
    }

    /// Left edge of a double vertical's pair of strokes.
    fn dx(&self) -> usize {
        (self.w.saturating_sub(3 * self.light)) / 2
    }

    /// Top edge of a double horizontal's pair of strokes.
    fn dy(&self) -> usize {
        (self.h.saturating_sub(3 * self.light)) / 2
    }
}

/// Draws the lines of a character given by its arms.
fn lines(mask: &mut CoverageMask, g: &Geometry, [up, right, down, left]: [Arm; 4]) {
    let (w, h, lt) = (g.w, g.h, g.light);
    let (dx, dy) = (g.dx(), g.dy());
    let any_double = [up, right, down, left].contains(&D);
    if !any_double {
        // Single lines: each arm reaches across the thickest stroke across it.
        let hmax = g.thickness(if left == H || right == H { H } else { L });
        let vmax = g.thickness(if up == H || down == H { H } else { L });
        let horizontal = left != N || right != N;
        let vertical = up != N || down != N;
        for (arm, is_up) in [(up, true), (down, false)] {
            if arm == N {
                continue;
            }
            let t = g.thickness(arm);
            let x = g.vx(t);
            let (top, bottom) =
                if horizontal { (g.hy(hmax), g.hy(hmax) + hmax) } else { (g.hy(t), g.hy(t) + t) };
            if is_up { mask.fill(x, x + t, 0, bottom, 255) } else { mask.fill(x, x + t, top, h, 255) }
        }
        for (arm, is_left) in [(left, true), (right, false)] {
            if arm == N {
                continue;
            }
            let t = g.thickness(arm);
            let y = g.hy(t);
            let (l, r) = if vertical { (g.vx(vmax), g.vx(vmax) + vmax) } else { (g.vx(t), g.vx(t) + t) };
            if is_left { mask.fill(0, r, y, y + t, 255) } else { mask.fill(l, w, y, y + t, 255) }
        }
        return;
    }
    // Horizontal arms.
    for (arm, is_left) in [(left, true), (right, false)] {
        match arm {
            N => {}
            D => {
                // Two strokes; where they stop depends on the vertical arms.
                let (near, far) = (dy, dy + 2 * lt);
                // Where the right arm's stroke starts and the left arm's ends.
                let span = |stroke_up: bool| -> (usize, usize) {
                    let (same, other) = if stroke_up { (up, down) } else { (down, up) };
                    if same == D {
                        (dx + 2 * lt, dx + lt)
                    } else if other == D {
                        (dx, dx + 3 * lt)
                    } else if up != N || down != N {
                        (g.vx(lt), g.vx(lt) + lt)
                    } else {
                        (w / 2, w / 2)
                    }
                };
                for (y, stroke_up) in [(near, true), (far, false)] {
                    let (start, end) = span(stroke_up);
                    if is_left {
                        mask.fill(0, end, y, y + lt, 255);
                    } else {
                        mask.fill(start, w, y, y + lt, 255);
                    }
                }
            }
            _ => {
                // A single line meeting double verticals.
                let t = g.thickness(arm);
                let y = g.hy(t);
                let both = up == D && down == D;
                if left != N && right != N {
                    mask.fill(0, w, y, y + t, 255);
                } else if is_left {
                    mask.fill(0, if both { dx + lt } else { dx + 3 * lt }, y, y + t, 255);
                } else {
                    mask.fill(if both { dx + 2 * lt } else { dx }, w, y, y + t, 255);
                }
            }
        }
    }
    // Vertical arms.
    for (arm, is_up) in [(up, true), (down, false)] {
        match arm {
            N => {}
            D => {
                // Where the down arm's stroke starts and the up arm's ends.
                let span = |stroke_left: bool| -> (usize, usize) {
                    let (same, other) = if stroke_left { (left, right) } else { (right, left) };
                    if same == D {
                        (dy + 2 * lt, dy + lt)
                    } else if other == D {
                        (dy, dy + 3 * lt)
                    } else if left != N || right != N {
                        (g.hy(lt), g.hy(lt) + lt)
                    } else {
                        (h / 2, h / 2)
                    }
                };
                for (x, stroke_left) in [(dx, true), (dx + 2 * lt, false)] {
                    let (start, end) = span(stroke_left);
                    if is_up {
                        mask.fill(x, x + lt, 0, end, 255);
                    } else {
                        mask.fill(x, x + lt, start, h, 255);
                    }
                }
            }
            _ => {
                let t = g.thickness(arm);
                let x = g.vx(t);
                let both = left == D && right == D;
                if up != N && down != N {
                    mask.fill(x, x + t, 0, h, 255);
                } else if is_up {
                    mask.fill(x, x + t, 0, if both { dy + lt } else { dy + 3 * lt }, 255);
                } else {
                    mask.fill(x, x + t, if both { dy + 2 * lt } else { dy }, h, 255);
                }
            }
        }
    }
}

/// Dashed lines: `n` dashes a cell.
fn dashes(mask: &mut CoverageMask, g: &Geometry, heavy: bool, vertical: bool, n: usize) {
    let t = if heavy { g.heavy } else { g.light };
    let len = if vertical { g.h } else { g.w };
    for i in 0..n {
        let start = i * len / n;
        let end = (i + 1) * len / n;
        // A gap of a third, at least a pixel, when the dash has room for one.
        let gap = if end - start >= 2 { ((end - start) / 3).max(1) } else { 0 };
        let (a, b) = (start + gap / 2, end - (gap - gap / 2));
        if vertical {
            let x = g.vx(t);
            mask.fill(x, x + t, a, b, 255);
        } else {
            let y = g.hy(t);
            mask.fill(a, b, y, y + t, 255);
        }
    }
}

/// A rounded corner: a quarter circle from the middle of one edge to the
/// middle of the other, with straight ends.
fn arc(mask: &mut CoverageMask, g: &Geometry, c: char) {
    let t = g.light as f32;
    let cx = g.vx(g.light) as f32 + t / 2.0;
    let cy = g.hy(g.light) as f32 + t / 2.0;
    let (w, h) = (g.w as f32, g.h as f32);
    // Which way the arms go: (towards the right, towards the bottom).
    let (right, down) = match c {
        '╭' => (true, true),
        '╮' => (false, true),
        '╯' => (false, false),
        _ => (true, false),
    };
    let r = (if right { w - cx } else { cx }).min(if down { h - cy } else { cy }).max(t);
    let ox = if right { cx + r } else { cx - r };
    let oy = if down { cy + r } else { cy - r };
    mask.shape(|px, py| {
        let in_quadrant =
            (if right { px <= ox } else { px >= ox }) && (if down { py <= oy } else { py >= oy });
        if in_quadrant {
            let d = ((px - ox).powi(2) + (py - oy).powi(2)).sqrt();
            return (d - r).abs() <= t / 2.0;
        }
        // Straight parts beyond the arc.
        let vertical = (px - cx).abs() <= t / 2.0 && if down { py >= oy } else { py <= oy };
        let horizontal = (py - cy).abs() <= t / 2.0 && if right { px >= ox } else { px <= ox };
        vertical || horizontal
    });
}

/// Diagonals from corner to corner (╱ ╲ ╳).
fn diagonals(mask: &mut CoverageMask, g: &Geometry, rising: bool, falling: bool) {
    let (w, h) = (g.w as f32, g.h as f32);
    let half = g.light as f32 / 2.0 + 0.25;
    let len = (w * w + h * h).sqrt();
    mask.shape(|px, py| {
        // Distance to the line through (0,h)-(w,0) and through (0,0)-(w,h).
        let d_rising = (h * px + w * py - w * h).abs() / len;
        let d_falling = (h * px - w * py).abs() / len;
        (rising && d_rising <= half) || (falling && d_falling <= half)
    });
}

/// Block elements: eighths, halves, quadrants and shades.
fn block(mask: &mut CoverageMask, g: &Geometry, c: char) {
    let (w, h) = (g.w, g.h);
    let eighth_h = |k: usize| (h * k + 4) / 8;
    let eighth_w = |k: usize| (w * k + 4) / 8;
    let (mx, my) = (w / 2, h / 2);
    match c as u32 {
        0x2580 => mask.fill(0, w, 0, my, 255),
        n @ 0x2581..=0x2588 => mask.fill(0, w, h - eighth_h((n - 0x2580) as usize), h, 255),
        n @ 0x2589..=0x258f => mask.fill(0, eighth_w((0x2590 - n) as usize), 0, h, 255),
        0x2590 => mask.fill(mx, w, 0, h, 255),
        n @ 0x2591..=0x2593 => mask.fill(0, w, 0, h, (64 * (n - 0x2590)) as u8),
        0x2594 => mask.fill(0, w, 0, eighth_h(1), 255),
        0x2595 => mask.fill(w - eighth_w(1), w, 0, h, 255),
        n => {
            // Quadrants: bits upper-left, upper-right, lower-left, lower-right.
            let bits = match n {
                0x2596 => 0b0010,
                0x2597 => 0b0001,
                0x2598 => 0b1000,
                0x2599 => 0b1011,
                0x259a => 0b1001,
                0x259b => 0b1110,
                0x259c => 0b1101,
                0x259d => 0b0100,
                0x259e => 0b0110,
                _ => 0b0111,
            };
            if bits & 0b1000 != 0 {
                mask.fill(0, mx, 0, my, 255);
            }
            if bits & 0b0100 != 0 {
                mask.fill(mx, w, 0, my, 255);
            }
            if bits & 0b0010 != 0 {
                mask.fill(0, mx, my, h, 255);
            }
            if bits & 0b0001 != 0 {
                mask.fill(mx, w, my, h, 255);
            }
        }
    }
}

/// Whether `c` is drawn here rather than from a font.
pub fn is_drawn(c: char) -> bool {
    matches!(c as u32, 0x2500..=0x259f | 0x23ba..=0x23bd)
}

/// The coverage of `c` in a cell of `w` x `h` pixels, row after row; `None`
/// when `c` is not one drawn here.
pub fn draw(c: char, w: u16, h: u16) -> Option<Vec<u8>> {
    if !is_drawn(c) {
        return None;
    }
    let (w, h) = (usize::from(w), usize::from(h));
    let g = Geometry::new(w, h);
    let mut mask = CoverageMask::new(w, h);
    match c as u32 {
        0x23ba..=0x23bd => {
            // DEC scan lines 1, 3, 7 and 9 of nine (5 is the middle, ─).
            let scan = [1, 3, 7, 9][(c as u32 - 0x23ba) as usize];
            let y = (scan - 1) * (h - g.light.min(h)) / 8;
            mask.fill(0, w, y, y + g.light, 255);
        }
        0x2504..=0x250b | 0x254c..=0x254f => {
            let n = c as u32 - 0x2504;
            let (heavy, vertical, count) = match c as u32 {
                0x254c..=0x254f => {
                    let n = c as u32 - 0x254c;
                    (n % 2 == 1, n >= 2, 2)
                }
                _ => (n % 2 == 1, n % 4 >= 2, if n < 4 { 3 } else { 4 }),
            };
            dashes(&mut mask, &g, heavy, vertical, count);
        }
        0x256d..=0x2570 => arc(&mut mask, &g, c),
        0x2571 => diagonals(&mut mask, &g, true, false),
        0x2572 => diagonals(&mut mask, &g, false, true),
        0x2573 => diagonals(&mut mask, &g, true, true),
        0x2580..=0x259f => block(&mut mask, &g, c),
        _ => lines(&mut mask, &g, arms(c)?),
    }
    Some(mask.cov)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Covered pixels on each edge of a cell: (top, right, bottom, left) as
    /// bitmaps along the edge.
    fn edges(c: char, w: u16, h: u16) -> [Vec<bool>; 4] {
        let cov = draw(c, w, h).unwrap();
        let (w, h) = (usize::from(w), usize::from(h));
        let at = |x: usize, y: usize| cov[y * w + x] > 127;
        [
            (0..w).map(|x| at(x, 0)).collect(),
            (0..h).map(|y| at(w - 1, y)).collect(),
            (0..w).map(|x| at(x, h - 1)).collect(),
            (0..h).map(|y| at(0, y)).collect(),
        ]
    }

    #[test]
    fn lines_meet_their_neighbours_at_every_size() {
        let connectors: Vec<char> = (0x2500..=0x257f).filter_map(char::from_u32).collect();
        for (w, h) in [(6, 12), (7, 15), (10, 19), (13, 26), (29, 57)] {
            for &a in &connectors {
                let [_, right, bottom, _] = edges(a, w, h);
                for &b in &connectors {
                    let [top, _, _, left] = edges(b, w, h);
                    // Whatever leaves a cell rightwards enters its right
                    // neighbour at the same rows, when it has a left arm.
                    if right.iter().any(|&p| p) && left.iter().any(|&p| p) && same_weight(a, b, true) {
                        assert_eq!(right, left, "{a} then {b} at {w}x{h}");
                    }
                    if bottom.iter().any(|&p| p) && top.iter().any(|&p| p) && same_weight(a, b, false) {
                        assert_eq!(bottom, top, "{a} above {b} at {w}x{h}");
                    }
                }
            }
        }
    }

    /// Whether `a`'s right (or bottom) arm and `b`'s left (or top) arm have
    /// the same weight; diagonals and dashes are left out.
    fn same_weight(a: char, b: char, across: bool) -> bool {
        let (Some(a), Some(b)) = (arms_or_arc(a), arms_or_arc(b)) else { return false };
        if across { a[1] == b[3] && a[1] != N } else { a[2] == b[0] && a[2] != N }
    }

    fn arms_or_arc(c: char) -> Option<[Arm; 4]> {
        match c {
            '╭' => Some([N, L, L, N]),
            '╮' => Some([N, N, L, L]),
            '╯' => Some([L, N, N, L]),
            '╰' => Some([L, L, N, N]),
            _ => arms(c),
        }
    }

    #[test]
    fn every_shape_draws_in_any_cell_however_small() {
        for (w, h) in [(1, 1), (1, 3), (2, 2), (3, 5), (4, 7)] {
            for c in (0x2500..=0x259f).chain(0x23ba..=0x23bd).filter_map(char::from_u32) {
                let cov = draw(c, w, h).unwrap();
                assert_eq!(cov.len(), usize::from(w) * usize::from(h), "{c} at {w}x{h}");
            }
        }
    }

    #[test]
    fn blocks_fill_what_they_name() {
        let full = draw('█', 10, 19).unwrap();
        assert!(full.iter().all(|&p| p == 255));
        let upper = draw('▀', 10, 19).unwrap();
        let lower = draw('▄', 10, 19).unwrap();
        assert!(upper.iter().zip(&lower).all(|(&a, &b)| a.max(b) == 255 && a.min(b) == 0));
        assert!(draw('a', 10, 19).is_none());
    }
}
