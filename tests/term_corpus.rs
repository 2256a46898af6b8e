//! The corpus: byte streams (synthetic, and recordings of real programs) whose
//! expected screens come from a reference terminal (tmux, via
//! `tests/term-corpus/regen.sh`), never from vcmux. Every case must match.

use std::fs;
use std::path::Path;

use vcmux::term::Terminal;

struct Case {
    name: String,
    cols: u16,
    rows: u16,
}

fn cases(dir: &Path) -> Vec<Case> {
    let list = fs::read_to_string(dir.join("cases.txt")).expect("cases.txt");
    list.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 3, "bad line in cases.txt: {l}");
            Case {
                name: f[0].to_string(),
                cols: f[1].parse().expect("cols"),
                rows: f[2].parse().expect("rows"),
            }
        })
        .collect()
}

/// Renders `name` and returns vcmux's screen and the reference.
fn render(dir: &Path, case: &Case) -> (String, String) {
    let input = fs::read(dir.join(format!("{}.in", case.name))).expect("stream");
    let expected = fs::read_to_string(dir.join(format!("{}.txt", case.name))).expect("screen");
    let mut term = Terminal::new(case.cols, case.rows, 10_000);
    term.advance(&input);
    (term.screen_text(), expected)
}

fn diff(actual: &str, expected: &str) -> String {
    let mut out = String::new();
    let a: Vec<&str> = actual.lines().collect();
    let e: Vec<&str> = expected.lines().collect();
    for i in 0..a.len().max(e.len()) {
        let (x, y) = (a.get(i).copied().unwrap_or(""), e.get(i).copied().unwrap_or(""));
        if x != y {
            out.push_str(&format!("  row {i:2} vcmux: {x:?}\n         tmux:  {y:?}\n"));
        }
    }
    out
}

#[test]
fn corpus_matches_reference_terminal() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/term-corpus");
    let cases = cases(&dir);
    assert!(cases.len() >= 40, "corpus has only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let (actual, expected) = render(&dir, case);
        if actual != expected {
            failures.push(format!("{}:\n{}", case.name, diff(&actual, &expected)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from the reference:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Feeding a stream in small pieces gives the same screen as in one piece.
#[test]
fn corpus_is_independent_of_chunking() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/term-corpus");
    for case in cases(&dir) {
        let input = fs::read(dir.join(format!("{}.in", case.name))).expect("stream");
        let mut whole = Terminal::new(case.cols, case.rows, 10_000);
        whole.advance(&input);
        let mut pieces = Terminal::new(case.cols, case.rows, 10_000);
        for chunk in input.chunks(7) {
            pieces.advance(chunk);
        }
        assert_eq!(whole.screen_text(), pieces.screen_text(), "{}", case.name);
    }
}
