//! Arbitrary command lines into vcmux's option parsing: `vcmux::cli::parse`
//! (QEMU's one-dash spelling, clap, the tools' options), then, for a run,
//! `Cli::config` (every `-chardev`, `-frontend`, `-vnc`, `-qmp` and `-mon`
//! into a validated graph), and every word through `config::parse_backend`
//! (what `chardev-add` and `vcmux ctl` read). Nothing may panic; a bad option
//! is an error value, and its message is one line when the words were.
//!
//! The input is the arguments after the program's name, each ended by a NUL
//! byte, as in `/proc/PID/cmdline`; they need not be UTF-8.
//!
//! `cargo +nightly fuzz run options` (from the repository root).

#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use libfuzzer_sys::fuzz_target;
use vcmux::cli::{self, Parsed};
use vcmux::config;

fuzz_target!(|data: &[u8]| {
    let data = data.strip_suffix(&[0]).unwrap_or(data);
    let words: Vec<&[u8]> = if data.is_empty() { Vec::new() } else { data.split(|&b| b == 0).collect() };
    // The words on one line each: then so is every error.
    let one_line_words = !data.iter().any(|&b| b == b'\n' || b == b'\r');
    let one_line = |message: &str| {
        if one_line_words {
            assert!(!message.contains('\n'), "an error of more than one line: {message:?}");
        }
    };
    for word in &words {
        if let Ok(text) = std::str::from_utf8(word)
            && let Err(e) = config::parse_backend(text)
        {
            one_line(&e.to_string());
        }
    }
    let argv =
        std::iter::once(OsString::from("vcmux")).chain(words.iter().map(|w| OsString::from_vec(w.to_vec())));
    match cli::parse(argv) {
        Parsed::Run(cli) => {
            if let Err(e) = cli.config() {
                one_line(&e.to_string());
            }
        }
        Parsed::Print(_) => {}
        Parsed::Error(message) => one_line(&message),
    }
});
