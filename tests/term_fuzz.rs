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
