//! Golden images: each case of `tests/render-inputs/cases.txt` is rendered and
//! compared pixel for pixel with `golden-images/NAME.png`.
//! `VCMUX_BLESS=1 cargo test --test render_golden` rewrites the images (look at
//! every one before committing it).

use std::path::{Path, PathBuf};

use vcmux::frame::Framebuffer;
use vcmux::frame::png;
use vcmux::render::{FontConfig, Renderer};
use vcmux::term::{Terminal, Theme};

/// One line of cases.txt.
struct Case {
    name: String,
    input: PathBuf,
    cols: u16,
    rows: u16,
    size: f32,
    theme: Theme,
    blink_on: bool,
}

fn cases() -> Vec<Case> {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let list = std::fs::read_to_string(tests.join("render-inputs/cases.txt")).unwrap();
    list.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let mut case = Case {
                name: words[0].to_string(),
                input: tests.join(words[1]),
                cols: words[2].parse().unwrap(),
                rows: words[3].parse().unwrap(),
                size: vcmux::render::DEFAULT_SIZE,
                theme: Theme::default(),
                blink_on: true,
            };
            for option in &words[4..] {
                match option.split_once('=') {
                    Some(("size", px)) => case.size = px.parse().unwrap(),
                    Some(("theme", theme)) => case.theme = theme.parse().unwrap(),
                    Some(("blink", "off")) => case.blink_on = false,
                    _ => panic!("unknown option {option} in {line}"),
                }
            }
            case
        })
        .collect()
}

fn render(case: &Case) -> Framebuffer {
    let bytes = std::fs::read(&case.input).unwrap();
    let mut term = Terminal::new(case.cols, case.rows, 0);
    term.set_theme(case.theme);
    term.advance(&bytes);
    let mut renderer = Renderer::new(&FontConfig { size: case.size, path: None }).unwrap();
    renderer.render(&mut term, case.blink_on);
    renderer.framebuffer().clone()
}

#[test]
fn golden_images() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bless = std::env::var_os("VCMUX_BLESS").is_some_and(|v| v == "1");
    let failures_dir = root.join("target/render-failures");
    let mut failures = Vec::new();
    let cases = cases();
    assert!(cases.len() >= 20);
    for case in &cases {
        let fb = render(case);
        let golden = root.join("golden-images").join(format!("{}.png", case.name));
        if bless {
            std::fs::write(&golden, png::encode(&fb).unwrap()).unwrap();
            continue;
        }
        let expected = std::fs::read(&golden)
            .unwrap_or_else(|e| panic!("{}: {e} (VCMUX_BLESS=1 makes it)", golden.display()));
        let expected = png::decode(&expected).unwrap().unwrap();
        if expected != fb {
            let differing = if (expected.width(), expected.height()) == (fb.width(), fb.height()) {
                expected.pixels().iter().zip(fb.pixels()).filter(|(a, b)| a != b).count().to_string()
            } else {
                format!(
                    "size {}x{} instead of {}x{}",
                    fb.width(),
                    fb.height(),
                    expected.width(),
                    expected.height()
                )
            };
            std::fs::create_dir_all(&failures_dir).unwrap();
            let actual = failures_dir.join(format!("{}.png", case.name));
            std::fs::write(&actual, png::encode(&fb).unwrap()).unwrap();
            failures.push(format!("{}: {differing} pixels differ; see {}", case.name, actual.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rendering_as_the_bytes_arrive_gives_the_golden_image() {
    // The vc renders whenever a viewer asks, in the middle of the stream:
    // chunk by chunk, the last frame is the one `vcmux render` makes at once.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for case in cases()
        .iter()
        .filter(|c| ["htop", "boot-log", "vim", "dec-menu", "cjk-wide"].contains(&c.name.as_str()))
    {
        let bytes = std::fs::read(&case.input).unwrap();
        let mut term = Terminal::new(case.cols, case.rows, 1000);
        let mut renderer = Renderer::new(&FontConfig { size: case.size, path: None }).unwrap();
        for chunk in bytes.chunks(97) {
            term.advance(chunk);
            renderer.render(&mut term, true);
        }
        let golden = std::fs::read(root.join("golden-images").join(format!("{}.png", case.name))).unwrap();
        let golden = png::decode(&golden).unwrap().unwrap();
        assert!(
            &golden == renderer.framebuffer(),
            "{}: chunk by chunk differs from the golden image",
            case.name
        );
    }
}
