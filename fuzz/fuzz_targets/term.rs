//! Arbitrary bytes and resizes into `vcmux_term::Terminal` (`vcmux::term`): it must never
//! panic, and the cursor and every row must stay inside the grid.
//!
//! `cargo +nightly fuzz run term` (from the repository root).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../driver.rs"]
mod driver;

fuzz_target!(|data: &[u8]| driver::run(data));
