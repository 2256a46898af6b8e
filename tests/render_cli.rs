//! `vcmux render` to PNG through the real binary: the same pixels as the
//! renderer's golden image, the same bytes every run, asciicast recordings
//! read at a moment, and one-line errors.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use vcmux::frame::png;

fn vcmux(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vcmux")).args(args).stdin(Stdio::null()).output().expect("vcmux runs")
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn a_png_is_the_golden_image_and_the_same_bytes_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let input = root().join("tests/term-corpus/htop.in");
    let (a, b) = (dir.path().join("a.png"), dir.path().join("b.png"));
    for out in [&a, &b] {
        let run = vcmux(&[
            "render",
            input.to_str().unwrap(),
            "--cols",
            "80",
            "--rows",
            "24",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    }
    let bytes = std::fs::read(&a).unwrap();
    assert_eq!(bytes, std::fs::read(&b).unwrap(), "two runs gave different bytes");
    let golden = std::fs::read(root().join("golden-images/htop.png")).unwrap();
    assert!(png::decode(&bytes).unwrap() == png::decode(&golden).unwrap(), "not the golden image's pixels");
}

#[test]
fn font_size_and_format_options_apply() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("screen.img");
    let run = vcmux(&[
        "render",
        "/dev/null",
        "--cols",
        "10",
        "--rows",
        "2",
        "--font-size",
        "32",
        "--format",
        "png",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let fb = png::decode(&std::fs::read(&out).unwrap()).unwrap().unwrap();
    // 32 px DejaVu Sans Mono: 19x38 cells.
    assert_eq!((fb.width(), fb.height()), (190, 76));
}

#[test]
fn a_recording_is_read_up_to_the_moment_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let cast = dir.path().join("session.cast");
    std::fs::write(
        &cast,
        concat!(
            "{\"version\": 2, \"width\": 30, \"height\": 4, \"timestamp\": 1700000000}\n",
            "[0.5, \"o\", \"first\\r\\n\"]\n",
            "[0.8, \"i\", \"typed\"]\n",
            "[1.0, \"o\", \"second\\r\\n\"]\n",
            "[1.5, \"r\", \"20x3\"]\n",
            "[2.0, \"o\", \"\\u001b[1mthird\"]\n",
        ),
    )
    .unwrap();
    let at = vcmux(&["render", cast.to_str().unwrap(), "--at", "1.2"]);
    assert_eq!(String::from_utf8_lossy(&at.stdout), "first\nsecond\n\n\n");
    let end = vcmux(&["render", cast.to_str().unwrap()]);
    assert_eq!(String::from_utf8_lossy(&end.stdout), "first\nsecond\nthird\n");
    let png_out = dir.path().join("end.png");
    assert!(vcmux(&["render", cast.to_str().unwrap(), "-o", png_out.to_str().unwrap()]).status.success());
    let fb = png::decode(&std::fs::read(&png_out).unwrap()).unwrap().unwrap();
    assert_eq!((fb.width(), fb.height()), (200, 57), "the recording's last size, 20x3");
}

#[test]
fn a_timestamped_log_renders_as_the_plain_log_does_with_strip_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, stamped) = (dir.path().join("plain.log"), dir.path().join("stamped.log"));
    // One console, two logs: one plain, one with timestamps=on.
    let run = Command::new(env!("CARGO_BIN_EXE_vcmux"))
        .arg("-chardev")
        .arg(format!("file,id=plain,path={}", plain.display()))
        .arg("-chardev")
        .arg(format!("file,id=stamped,path={},timestamps=on", stamped.display()))
        .args(["--", "printf", "boot\\n\\nkernel 2025-11-25T19:43:43.123Z \\033[1mready\\n$ "])
        .stdin(Stdio::null())
        .output()
        .expect("vcmux runs");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let (plain, stamped) = (plain.to_str().unwrap(), stamped.to_str().unwrap());
    let want = vcmux(&["render", plain]);
    assert_eq!(String::from_utf8_lossy(&want.stdout).lines().next(), Some("boot"));
    let raw = vcmux(&["render", stamped]);
    assert!(raw.stdout.starts_with(b"20") && raw.stdout != want.stdout, "the stamps show without the flag");
    for format in ["txt", "ansi"] {
        let want = vcmux(&["render", plain, "--format", format]);
        let got = vcmux(&["render", stamped, "--strip-timestamps", "--format", format]);
        assert!(got.status.success(), "{}", String::from_utf8_lossy(&got.stderr));
        assert_eq!(String::from_utf8_lossy(&got.stdout), String::from_utf8_lossy(&want.stdout), "{format}");
    }
}

#[test]
fn bad_input_and_options_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.cast");
    std::fs::write(&broken, "{\"version\": 2, \"width\": 30, \"height\": 4}\n[0.5, \"o\"]\n").unwrap();
    let version1 = dir.path().join("old.cast");
    std::fs::write(&version1, "{\"version\": 1, \"width\": 30, \"height\": 4, \"stdout\": []}\n").unwrap();
    let junk_font = dir.path().join("junk.ttf");
    std::fs::write(&junk_font, "not a font").unwrap();
    let out = dir.path().join("x.png");
    let (out, broken, junk_font) =
        (out.to_str().unwrap(), broken.to_str().unwrap(), junk_font.to_str().unwrap());
    let version1 = version1.to_str().unwrap();
    for (args, code, needle) in [
        (&["render", broken][..], 1, "line 2"),
        (&["render", version1][..], 1, "asciicast v2"),
        (&["render", "/dev/null", "--at", "3"][..], 2, "--at"),
        (&["render", broken, "--strip-timestamps"][..], 2, "--strip-timestamps"),
        (&["render", "/dev/null", "--font", "/nonexistent.ttf", "-o", out][..], 2, "/nonexistent.ttf"),
        (&["render", "/dev/null", "--font", junk_font, "-o", out][..], 2, "junk.ttf"),
        (&["render", "/dev/null", "--font-size", "1000", "-o", out][..], 2, "font size"),
        (&["render", "/dev/null", "--rows", "1000", "--font-size", "96", "-o", out][..], 2, "65535"),
        (&["render", "/dev/null", "--theme", "pink"][..], 2, "theme"),
    ] {
        let run = vcmux(args);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.trim().lines().count() == 1 && stderr.contains(needle), "{args:?}: {stderr}");
    }
}
