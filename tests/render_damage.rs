//! The damage-tracked framebuffer against the truth: after any sequence of
//! terminal updates and renders, the framebuffer equals a fresh full render of
//! the same terminal, and the damage a render reports (moves, then rectangles)
//! takes a copy of the previous frame to the new one.

use proptest::prelude::*;

use vcmux::frame::{FrameDamage, Framebuffer};
use vcmux::render::{FontConfig, Renderer};
use vcmux::term::Terminal;

/// Pieces of console output: text of every kind, cursor moves, erases, scrolls
/// in and out of regions, attributes, cursor styles, colour changes, screens.
const CHUNKS: &[&str] = &[
    "hello",
    "abc def ghi",
    "0123456789012345678901234",
    "漢字かな",
    "e\u{301}a\u{308}\u{304}",
    "\r\n",
    "\n",
    "\r",
    "\x08\x08",
    "\t",
    "\x1b[H",
    "\x1b[5;3H",
    "\x1b[3;12H",
    "\x1b[2J",
    "\x1b[K",
    "\x1b[1K",
    "\x1b[J",
    "\x1b[1;31m",
    "\x1b[0m",
    "\x1b[7m",
    "\x1b[2;3;4:3m",
    "\x1b[5m",
    "\x1b[8m",
    "\x1b[9;53;21m",
    "\x1b[48;5;200m",
    "\x1b[38;2;1;2;3m",
    "\x1b[2;5r",
    "\x1b[r",
    "\x1b[S",
    "\x1b[2T",
    "\x1b[L",
    "\x1b[2M",
    "\x1bM",
    "\x1bD\x1bD",
    "\x1b[?25l",
    "\x1b[?25h",
    "\x1b[4 q",
    "\x1b[6 q",
    "\x1b[1 q",
    "\x1b[?12h",
    "\x1b[?5h",
    "\x1b[?5l",
    "\x1b]4;1;rgb:12/34/56\x07",
    "\x1b]104\x07",
    "\x1b]11;#202020\x07",
    "\x1b[?1047h",
    "\x1b[?1049h",
    "\x1b[?1049l",
    "\x1b[?69h",
    "\x1b[?69l",
    "\x1b[2;5s",
    "\x1b[3;4r",
    "\x1b[r",
    "\x1b[2M",
    "\x1b[9L",
    "\x1b[3S",
    "\x1b[2T",
    "\x1b(0lqqk\x1b(B",
    "\x1b[@",
    "\x1b[2P",
    "\x1b[3X",
    "\x1b#8",
    "\x1b[?7l",
    "\x1b[?7h",
    "\x1b[4h",
    "\x1b[4l",
];

#[derive(Debug, Clone)]
enum Op {
    Feed(Vec<usize>),
    Render(bool),
    Resize(u16, u16),
    ScrollView(isize),
    /// vcmux's status line over the bottom row, or none.
    Status(Option<&'static str>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => prop::collection::vec(0..CHUNKS.len(), 1..8).prop_map(Op::Feed),
        4 => any::<bool>().prop_map(Op::Render),
        1 => (4u16..16, 2u16..8).prop_map(|(c, r)| Op::Resize(c, r)),
        1 => (-3isize..4).prop_map(Op::ScrollView),
        1 => prop::option::of(prop::sample::select(&["vcmux: gone", "vcmux: waiting"][..])).prop_map(Op::Status),
    ]
}

/// What a viewer holding `previous` ends up with after applying `damage`
/// from `current`.
fn replay(previous: &Framebuffer, damage: &FrameDamage, current: &Framebuffer) -> Framebuffer {
    let mut copy = if (previous.width(), previous.height()) == (current.width(), current.height()) {
        previous.clone()
    } else {
        // A new size: the viewer starts from nothing, and every pixel must
        // come from the rectangles.
        assert!(damage.moves.is_empty());
        Framebuffer::new(current.width(), current.height())
    };
    for mv in &damage.moves {
        copy.apply_move(mv);
    }
    let width = usize::from(copy.width());
    for rect in &damage.rects {
        assert!(!rect.is_empty() && rect.intersection(&current.bounds()) == Some(*rect), "{rect:?}");
        let mut pixels = Vec::new();
        current.copy_rect(*rect, &mut pixels);
        for (i, row) in pixels.chunks(usize::from(rect.width)).enumerate() {
            let start = (usize::from(rect.y) + i) * width + usize::from(rect.x);
            copy.pixels_mut()[start..start + row.len()].copy_from_slice(row);
        }
    }
    copy
}

fn check(ops: &[Op]) -> Result<(), TestCaseError> {
    let config = FontConfig { size: 12.0, path: None };
    let mut term = Terminal::new(12, 6, 20);
    let mut renderer = Renderer::new(&config).unwrap();
    // Nothing painted yet: an empty framebuffer.
    let mut previous = renderer.framebuffer().clone();
    let mut status = None;
    for op in ops {
        match op {
            Op::Feed(chunks) => {
                for &i in chunks {
                    term.advance(CHUNKS[i].as_bytes());
                }
            }
            Op::Resize(cols, rows) => term.resize(*cols, *rows),
            Op::ScrollView(delta) => term.scroll_display(*delta),
            Op::Status(text) => {
                status = *text;
                renderer.set_status(status);
            }
            Op::Render(blink_on) => {
                let damage = renderer.render(&mut term, *blink_on);
                let current = renderer.framebuffer().clone();
                let mut fresh = Renderer::new(&config).unwrap();
                fresh.set_status(status);
                fresh.render(&mut term, *blink_on);
                prop_assert!(fresh.framebuffer() == &current, "the framebuffer differs from a full render");
                prop_assert!(
                    replay(&previous, &damage, &current) == current,
                    "the damage does not reproduce the frame: {damage:?}"
                );
                previous = current;
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn damage_tracking_matches_a_full_render(ops in prop::collection::vec(op(), 1..40)) {
        check(&ops)?;
    }
}

#[test]
fn a_one_line_change_is_one_small_rectangle_and_a_scroll_is_a_move() {
    let mut term = Terminal::new(80, 24, 100);
    let mut renderer = Renderer::new(&FontConfig::default()).unwrap();
    let (cell_w, cell_h) = renderer.cell_size();
    for i in 0..30 {
        term.advance(format!("line {i}\r\n").as_bytes());
    }
    renderer.render(&mut term, true);
    // A few characters typed on the last row: one rectangle around them
    // (and the cursor that moved along).
    term.advance(b"abc");
    let damage = renderer.render(&mut term, true);
    assert!(damage.moves.is_empty());
    assert_eq!(damage.rects.len(), 1, "{damage:?}");
    assert_eq!(damage.rects[0].y, 23 * cell_h);
    assert!(damage.rects[0].width <= 4 * cell_w);
    // A new line scrolls the screen: one move of 23 rows up, and only the
    // last two rows repainted (the old cursor row and the new one).
    term.advance(b"\r\nxyz");
    let damage = renderer.render(&mut term, true);
    assert_eq!(damage.moves.len(), 1, "{damage:?}");
    let mv = damage.moves[0];
    assert_eq!((mv.src_y, mv.dst.y, mv.dst.height), (cell_h, 0, 23 * cell_h));
    assert!(damage.rects.iter().all(|r| r.y >= 22 * cell_h), "{damage:?}");
    // Nothing changed: nothing to do.
    assert!(renderer.render(&mut term, true).is_empty());
}

/// Renders `input` through a damage-tracked renderer (after a first render of
/// nothing) and through a fresh one, and says whether they agree.
fn incremental_equals_full(cols: u16, rows: u16, before: &[u8], input: &[u8]) -> bool {
    let config = FontConfig { size: 12.0, path: None };
    let mut term = Terminal::new(cols, rows, 0);
    let mut renderer = Renderer::new(&config).unwrap();
    term.advance(before);
    renderer.render(&mut term, true);
    term.advance(input);
    renderer.render(&mut term, true);
    let mut fresh = Renderer::new(&config).unwrap();
    fresh.render(&mut term, true);
    fresh.framebuffer() == renderer.framebuffer()
}

#[test]
fn entering_the_alternate_screen_twice_clears_it_visibly() {
    assert!(incremental_equals_full(12, 4, b"\x1b[?1049h\x1b#8", b"\x1b[?1049h"));
}

#[test]
fn deleting_lines_within_margins_does_not_panic() {
    assert!(incremental_equals_full(4, 2, b"\x1b[?7l", b"\x1b[?69h\x1b[2;3shello\x1b[2M"));
}

#[test]
fn a_repaint_split_between_two_threads_paints_what_one_thread_does() {
    // 120x50 cells: a full repaint is split in two bands; a few rows at a
    // time are painted by one thread.
    let config = FontConfig::default();
    let (cols, rows) = (120u16, 50u16);
    let mut lines = Vec::new();
    for row in 0..rows {
        let inverse = if row == rows / 2 { "\x1b[7m" } else { "" };
        lines.push(format!(
            "\x1b[{};1H\x1b[{}m{inverse}row {row:>2} ═╬═ 漢字 e\u{301} \x1b[4:3m{}\x1b[0m",
            row + 1,
            31 + row % 7,
            "x".repeat(usize::from(row))
        ));
    }
    let mut whole = Terminal::new(cols, rows, 0);
    let mut stepwise = Terminal::new(cols, rows, 0);
    let mut at_once = Renderer::new(&config).unwrap();
    let mut few_rows = Renderer::new(&config).unwrap();
    few_rows.render(&mut stepwise, true);
    for line in &lines {
        whole.advance(line.as_bytes());
        stepwise.advance(line.as_bytes());
        few_rows.render(&mut stepwise, true);
    }
    let damage = at_once.render(&mut whole, true);
    assert!(at_once.framebuffer() == few_rows.framebuffer(), "the two bands differ from row-by-row painting");
    // One rectangle over everything: the bands' rectangles joined.
    assert_eq!(damage.rects, [at_once.framebuffer().bounds()]);
}
