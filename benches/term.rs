//! Throughput of `vcmux::term` on vtebench's workloads, next to
//! alacritty_terminal and the bare vte parser fed the same bytes in the same
//! run. The workloads are generated here the way vtebench's scripts generate
//! them, at 80x24, as the terminal receives them from a PTY (its ONLCR turns
//! the scripts' `\n` into `\r\n`); the vim workload is the vim recordings of
//! the corpus.
//!
//! `cargo bench --bench term` (MiB/s in criterion's "thrpt" column).

use std::hint::black_box;
use std::time::Duration;

use alacritty_terminal::event::{Event, EventListener};
use alacritty_terminal::term::test::TermSize;
use alacritty_terminal::term::{Config, Term};
use alacritty_terminal::vte::ansi::{Processor, StdSyncHandler};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vcmux::term::Terminal;

const COLS: usize = 80;
const ROWS: usize = 24;
/// Each workload is repeated up to at least this many bytes.
const TARGET: usize = 1 << 20;

/// Setup bytes (not measured) and the measured payload.
struct Workload {
    name: &'static str,
    setup: Vec<u8>,
    payload: Vec<u8>,
}

fn repeat(mut one: impl FnMut(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::with_capacity(TARGET + 65536);
    while out.len() < TARGET {
        one(&mut out);
    }
    out
}

fn scroll_fill() -> Vec<u8> {
    b"y\r\n".repeat(100_001)
}

fn workloads() -> Vec<Workload> {
    let alphabet = b'A'..=b'Z';
    let dense = repeat(|out| {
        for (offset, ch) in alphabet.clone().enumerate() {
            out.extend_from_slice(b"\x1b[H");
            for line in 1..=ROWS {
                for column in 1..=COLS {
                    let index = line + column + offset;
                    let fg = index % 156 + 100;
                    let bg = 255 - index % 156 + 100;
                    out.extend_from_slice(
                        format!("\x1b[38;5;{fg};48;5;{bg};1;3;4m{}", ch as char).as_bytes(),
                    );
                }
            }
        }
    });
    let light = repeat(|out| {
        for ch in alphabet.clone() {
            out.extend_from_slice(b"\x1b[H");
            out.extend(std::iter::repeat_n(ch, COLS * ROWS));
        }
    });
    let cursor = repeat(|out| {
        for ch in alphabet.clone() {
            let (mut cs, mut ce, mut ls, mut le) = (1, COLS, 1, ROWS);
            loop {
                let mut put = |l: usize, c: usize| {
                    out.extend_from_slice(format!("\x1b[{l};{c}H{}", ch as char).as_bytes())
                };
                let (mut c, mut l) = (cs, ls);
                while c < ce {
                    put(l, c);
                    c += 1;
                }
                while l < le {
                    put(l, c);
                    l += 1;
                }
                while c > cs {
                    put(l, c);
                    c -= 1;
                }
                while l > ls {
                    put(l, c);
                    l -= 1;
                }
                cs += 1;
                ls += 1;
                ce -= 1;
                le -= 1;
                if cs > ce || ls > le {
                    break;
                }
            }
        }
    });
    let scrolling = repeat(|out| out.extend_from_slice(b"y\r\n"));
    let fullscreen = repeat(|out| {
        for ch in alphabet.clone() {
            out.extend(std::iter::repeat_n(ch, COLS));
            out.extend_from_slice(b"\r\n");
        }
    });
    let unicode = repeat(|out| {
        let ranges = [
            0xa1..0x2000u32,
            0x2010..0x2028,
            0x2030..0x2fff,
            0x3041..0x3097,
            0x4e00..0x5200,
            0xac00..0xad00,
            0x1f300..0x1f650,
        ];
        for c in ranges.into_iter().flatten().filter_map(char::from_u32) {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    });
    let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/term-corpus/");
    let vim: Vec<u8> = ["vim-edit.in", "vim-vsplit.in", "vim-insert-wrap.in"]
        .iter()
        .flat_map(|f| std::fs::read(format!("{corpus}{f}")).unwrap_or_default())
        .collect();
    let vim = if vim.is_empty() { Vec::new() } else { repeat(|out| out.extend_from_slice(&vim)) };
    vec![
        Workload { name: "dense_cells", setup: b"\x1b[?1049h".to_vec(), payload: dense },
        Workload { name: "light_cells", setup: b"\x1b[?1049h".to_vec(), payload: light },
        Workload { name: "cursor_motion", setup: Vec::new(), payload: cursor },
        Workload { name: "scrolling", setup: scroll_fill(), payload: scrolling.clone() },
        Workload {
            name: "scrolling_bottom_region",
            setup: format!("\x1b[?1049h\x1b[1;{}r", ROWS - 1).into_bytes(),
            payload: scrolling.clone(),
        },
        Workload {
            name: "scrolling_top_small_region",
            setup: format!("\x1b[?1049h\x1b[{};{}r", ROWS / 2, ROWS).into_bytes(),
            payload: scrolling,
        },
        Workload { name: "scrolling_fullscreen", setup: scroll_fill(), payload: fullscreen },
        Workload { name: "unicode", setup: Vec::new(), payload: unicode },
        Workload { name: "vim", setup: Vec::new(), payload: vim },
    ]
}

/// Collects alacritty's replies the way a PTY writer would receive them.
#[derive(Clone, Default)]
struct Replies(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl EventListener for Replies {
    fn send_event(&self, event: Event) {
        if let Event::PtyWrite(s) = event {
            self.0.borrow_mut().extend_from_slice(s.as_bytes());
        }
    }
}

/// A `Perform` that does nothing: the parser's own cost.
struct Nothing;

impl vte::Perform for Nothing {}

/// Feeds `bytes` in 64 KiB reads, as from a PTY.
const CHUNK: usize = 1 << 16;

fn bench(c: &mut Criterion) {
    for w in workloads() {
        if w.payload.is_empty() {
            continue;
        }
        let mut group = c.benchmark_group(w.name);
        group.throughput(Throughput::Bytes(w.payload.len() as u64));
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(3));

        let mut term = Terminal::new(COLS as u16, ROWS as u16, 10_000);
        term.advance(&w.setup);
        group.bench_function("vcmux", |b| {
            b.iter(|| {
                for chunk in w.payload.chunks(CHUNK) {
                    term.advance(chunk);
                }
                black_box(term.take_replies());
            })
        });

        let replies = Replies::default();
        let mut alac = Term::new(Config::default(), &TermSize::new(COLS, ROWS), replies.clone());
        let mut processor: Processor<StdSyncHandler> = Processor::new();
        processor.advance(&mut alac, &w.setup);
        group.bench_function("alacritty_terminal", |b| {
            b.iter(|| {
                for chunk in w.payload.chunks(CHUNK) {
                    processor.advance(&mut alac, chunk);
                }
                black_box(std::mem::take(&mut *replies.0.borrow_mut()));
            })
        });

        let mut parser = vte::Parser::new();
        group.bench_function("vte_parser", |b| {
            b.iter(|| {
                for chunk in w.payload.chunks(CHUNK) {
                    parser.advance(&mut Nothing, chunk);
                }
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
