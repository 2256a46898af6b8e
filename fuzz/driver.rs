//! The fuzz driver shared by the cargo-fuzz target (`fuzz_targets/term.rs`)
//! and the proptest in `tests/term_fuzz.rs`: it turns arbitrary bytes into
//! writes and resizes and checks the terminal's invariants after each step.

use vcmux_term::Terminal;

/// Runs one input. The first two bytes choose the size; then each op byte
/// either resizes (0xF8 and up: two size bytes follow), scrolls the view
/// (0xF0..0xF8) or writes the next `op % 64 + 1` bytes.
pub fn run(data: &[u8]) {
    let mut it = data.iter().copied();
    let cols = it.next().map_or(80, |b| b % 160 + 1) as u16;
    let rows = it.next().map_or(24, |b| b % 60 + 1) as u16;
    let mut term = Terminal::new(cols, rows, 64);
    let rest: Vec<u8> = it.collect();
    let mut i = 0;
    while i < rest.len() {
        let op = rest[i];
        i += 1;
        match op {
            0xf8.. => {
                let c = rest.get(i).map_or(1, |b| b % 160 + 1) as u16;
                let r = rest.get(i + 1).map_or(1, |b| b % 60 + 1) as u16;
                i += 2;
                term.resize(c, r);
            }
            0xf0..0xf8 => term.scroll_display(op as isize - 0xf4),
            _ => {
                let end = (i + op as usize % 64 + 1).min(rest.len());
                term.advance(&rest[i..end]);
                i = end;
            }
        }
        check(&mut term);
    }
}

/// The invariants: the cursor is on the grid, every row is as wide as the
/// grid, and taking replies/damage/dumps works.
fn check(term: &mut Terminal) {
    let (cols, rows) = (term.cols(), term.rows());
    assert!(cols >= 1 && rows >= 1);
    let c = term.cursor();
    assert!(c.col < cols, "cursor column {} outside {cols}", c.col);
    assert!(c.row < rows, "cursor row {} outside {rows}", c.row);
    for y in 0..rows {
        let row = term.row(y).expect("row inside the grid");
        assert_eq!(row.len(), cols as usize);
    }
    assert!(term.row(rows).is_none());
    let damage = term.take_damage();
    assert!(damage.rows.iter().all(|&y| y < rows));
    assert!(damage.scrolls.iter().all(|s| s.top <= s.bottom && s.bottom < rows));
    let _ = term.take_replies();
    assert_eq!(term.screen_text().lines().count(), rows as usize);
    let _ = term.screen_ansi();
}
