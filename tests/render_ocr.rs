//! Legibility: a real OCR engine reads a default-size rendering of a plain
//! shell screen. It needs tesseract (`apt-get install tesseract-ocr`): where
//! tesseract is missing the test says so and passes, unless `VCMUX_OCR=required`
//! (as `.ci/run`, which installs it, sets) makes a missing tesseract a failure.

use std::path::Path;
use std::process::Command;

use vcmux::frame::png;
use vcmux::render::{FontConfig, Renderer};
use vcmux::term::Terminal;

/// Whether tesseract can run here; a failure instead when it must.
fn tesseract_present() -> bool {
    let present = Command::new("tesseract").arg("--version").output().is_ok_and(|o| o.status.success());
    let required = std::env::var("VCMUX_OCR").is_ok_and(|v| v == "required");
    assert!(present || !required, "VCMUX_OCR=required but tesseract does not run");
    if !present {
        eprintln!("render_ocr: tesseract is not installed (apt-get install tesseract-ocr): not checked");
    }
    present
}

#[test]
fn tesseract_reads_a_default_size_shell_screen() {
    if !tesseract_present() {
        return;
    }
    let input =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/render-inputs/shell.in")).unwrap();
    let mut term = Terminal::new(80, 24, 0);
    term.advance(&input);
    let mut renderer = Renderer::new(&FontConfig::default()).unwrap();
    renderer.render(&mut term, true);
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("shell.png");
    std::fs::write(&image, png::encode(renderer.framebuffer()).unwrap()).unwrap();
    let ocr =
        Command::new("tesseract").arg(&image).arg("-").args(["--psm", "6"]).output().expect("tesseract runs");
    assert!(ocr.status.success(), "{}", String::from_utf8_lossy(&ocr.stderr));
    let read = String::from_utf8_lossy(&ocr.stdout);
    let read: Vec<&str> = read.split_whitespace().collect();
    let expected = term.screen_text();
    let words: Vec<&str> = expected.split_whitespace().collect();
    let found = words.iter().filter(|w| read.contains(w)).count();
    // OCR confuses a few glyphs (G and 6, 1 and l, _ and a space): most
    // words, not all, come back exactly.
    assert!(found * 10 >= words.len() * 8, "{found} of {} words read back:\n{}", words.len(), read.join(" "));
    eprintln!("tesseract read {found} of {} words exactly", words.len());
}
