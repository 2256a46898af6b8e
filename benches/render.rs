//! The renderer's cost for what a console does: a full repaint of a screen of
//! coloured text at 80x24 and at 240x67 (a 2400x1273 framebuffer at the
//! default 16 px), a one-line change, and a full-screen scroll by one line
//! (a move plus the rows it uncovers).
//!
//! `cargo bench --bench render` (criterion's median, "time" column).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use vcmux::render::{FontConfig, Renderer};
use vcmux::term::Terminal;

/// A screen full of text the way a console shows it: words in a few
/// colours, some bold, no blank cells to skip.
fn filled(cols: u16, rows: u16) -> Terminal {
    let mut term = Terminal::new(cols, rows, 1000);
    let words = ["kernel:", "usb", "1-1:", "new", "high-speed", "device", "number", "3", "using", "xhci_hcd"];
    let mut text = String::new();
    for row in 0..rows {
        text.push_str(&format!("\x1b[{};1H", row + 1));
        let mut width = 0;
        let mut i = usize::from(row);
        while width < usize::from(cols) {
            let word = words[i % words.len()];
            let colour = [0, 31, 32, 33, 34, 36][i % 6];
            let bold = if i % 7 == 0 { "1;" } else { "" };
            let take = word.len().min(usize::from(cols) - width);
            text.push_str(&format!("\x1b[{bold}{colour}m{}\x1b[0m", &word[..take]));
            width += take;
            if width < usize::from(cols) {
                text.push(' ');
                width += 1;
            }
            i += 3;
        }
    }
    term.advance(text.as_bytes());
    term
}

fn ready(cols: u16, rows: u16) -> (Terminal, Renderer) {
    let mut term = filled(cols, rows);
    let mut renderer = Renderer::new(&FontConfig::default()).expect("the built-in fonts load");
    renderer.render(&mut term, true);
    (term, renderer)
}

fn benches(c: &mut Criterion) {
    for (cols, rows) in [(80, 24), (240, 67)] {
        let (mut term, mut renderer) = ready(cols, rows);
        c.bench_function(&format!("full repaint {cols}x{rows}"), |b| {
            b.iter(|| {
                renderer.repaint_all();
                black_box(renderer.render(&mut term, true));
            })
        });

        let (mut term, mut renderer) = ready(cols, rows);
        let mut n = 0u8;
        c.bench_function(&format!("one-line change {cols}x{rows}"), |b| {
            b.iter(|| {
                // Rewrite every cell of one line with a new letter, and move
                // the cursor there.
                n = (n + 1) % 26;
                let line = char::from(b'a' + n).to_string().repeat(usize::from(cols) - 1);
                term.advance(format!("\x1b[{};1H{line}", rows / 2).as_bytes());
                black_box(renderer.render(&mut term, true));
            })
        });

        let (mut term, mut renderer) = ready(cols, rows);
        term.advance(format!("\x1b[{rows};1H").as_bytes());
        let line = "[    2.885399] No filesystem could mount root, tried: ext3 ext4 vfat msdos iso9660";
        c.bench_function(&format!("scroll by one line {cols}x{rows}"), |b| {
            b.iter(|| {
                term.advance(b"\r\n");
                term.advance(line.as_bytes());
                black_box(renderer.render(&mut term, true));
            })
        });
    }
}

criterion_group!(render, benches);
criterion_main!(render);
