//! The fuzz target's driver (`fuzz/driver.rs`) under proptest, so that the
//! same invariants run in `cargo test` without cargo-fuzz or nightly: any
//! bytes and resizes, no panic, cursor and rows inside the grid.

use proptest::prelude::*;

#[path = "../fuzz/driver.rs"]
mod driver;

/// Bytes biased towards escape sequences, so that random input reaches the
/// interesting states.
fn bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => any::<u8>().prop_map(|b| vec![b]),
        2 => Just(b"\x1b[".to_vec()),
        1 => Just(b"\x1b]".to_vec()),
        1 => Just(b"\x1bP".to_vec()),
        2 => (0u16..400).prop_map(|n| n.to_string().into_bytes()),
        1 => Just(b";".to_vec()),
        1 => Just(b"?".to_vec()),
        1 => Just("中é\u{301}😀".as_bytes().to_vec()),
        1 => prop::sample::select(&b"ABCDEFGHIJKLMPSTXZ@`abcdefghlmnpqrstux$!\"' *{}~"[..]).prop_map(|b| vec![b]),
        1 => Just(vec![0xf9, 7, 3]),
    ];
    prop::collection::vec(piece, 0..400).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_and_resizes_keep_the_terminal_consistent(data in bytes()) {
        driver::run(&data);
    }

    #[test]
    fn uniform_random_bytes(data in prop::collection::vec(any::<u8>(), 0..2000)) {
        driver::run(&data);
    }
}

/// Inputs that once broke an invariant, kept as regressions.
#[test]
fn known_inputs() {
    for input in [
        &b"\x05\x05\x10\x1b[?69h\x1b[2;3s\xf9\x00\x00\x10\x1b[5@\x1b[9P"[..],
        b"\x00\x00\x10\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\xf9\x01\x01\x10abc",
        b"\x50\x10\x20\x1b[?1049h\x1b[3;9r\xf9\x10\x02\x20\x1b[L\x1b[M",
    ] {
        driver::run(input);
    }
}

/// Console output that is mostly whole lines, the input of the jump scroll,
/// mixed with what changes its conditions: margins, the alternate screen,
/// colours, cursor moves, wide characters, lines too long for the row.
fn lines() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        12 => "[ -~]{0,14}".prop_map(|s| format!("{s}\r\n").into_bytes()),
        2 => Just(b"\n".to_vec()),
        1 => Just(b"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n".to_vec()),
        1 => prop::sample::select(&[
            "\x1b[2;5r", "\x1b[r", "\x1b[4;7r", "\x1b[7;7r", "\x1b[?1049h", "\x1b[?1049l",
            "\x1b[41m", "\x1b[0m", "\x1b[7;1H", "\x1b[3;4H", "\x1b[4h", "\x1b[4l", "\x1b(0",
            "\x1b(B", "\x1b[?69h\x1b[2;8s", "\x1b[?69l", "\x1b[2b", "中\r\n", "\t", "\x1b[?7l",
        ][..]).prop_map(|s| s.as_bytes().to_vec()),
    ];
    prop::collection::vec(piece, 0..120).prop_map(|v| v.concat())
}

/// Everything a program or a viewer can see of a terminal: the screen with
/// its attributes, the cursor, and every history row.
fn everything(t: &mut vcmux::term::Terminal) -> String {
    let c = t.cursor();
    let mut out = format!("{}{:?}\n", t.screen_ansi(), (c.col, c.row));
    let history = t.history_len();
    t.scroll_display(history as isize);
    for y in 0..t.rows() {
        out.push_str(&format!("{:?}\n", t.row(y)));
    }
    t.scroll_display(-(history as isize));
    out.push_str("\x1b[b");
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// A flood of lines scrolled at once (jump scroll) leaves exactly what
    /// scrolling at every line feed leaves (bytes fed one at a time never
    /// give it a following line to jump over).
    #[test]
    fn lines_fed_whole_or_byte_by_byte_leave_the_same_terminal(data in lines(), scrollback in 0usize..12) {
        let mut whole = vcmux::term::Terminal::new(12, 8, scrollback);
        let mut bytewise = vcmux::term::Terminal::new(12, 8, scrollback);
        whole.advance(&data);
        for b in &data {
            bytewise.advance(std::slice::from_ref(b));
        }
        // REP repeats the last character printed, wherever it was.
        whole.advance(b"\x1b[b");
        bytewise.advance(b"\x1b[b");
        prop_assert_eq!(everything(&mut whole), everything(&mut bytewise));
    }

    /// Plain CSI sequences in whole input are done by the text path without
    /// the parser (`Args::plain_csi`); fed a byte at a time they all go
    /// through vte. Both leave the same terminal and the same replies.
    #[test]
    fn sequences_fed_whole_or_byte_by_byte_leave_the_same_terminal(data in bytes()) {
        let mut whole = vcmux::term::Terminal::new(20, 10, 5);
        let mut bytewise = vcmux::term::Terminal::new(20, 10, 5);
        whole.advance(&data);
        for b in &data {
            bytewise.advance(std::slice::from_ref(b));
        }
        prop_assert_eq!(whole.take_replies(), bytewise.take_replies());
        prop_assert_eq!(everything(&mut whole), everything(&mut bytewise));
    }
}
