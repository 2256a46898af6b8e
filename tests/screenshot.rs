//! `vcmux screenshot` through the real binary against a real vcmux: large
//! screens arrive whole and equal `vcmux render` of the same bytes.

mod common;

use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};

use common::*;
use vcmux::frame::png;

fn vcmux(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vcmux")).args(args).stdin(Stdio::null()).output().expect("vcmux runs")
}

/// A screenful of text for `cols` x `rows`: every row coloured, with runs,
/// glyphs of every kind, and the cursor hidden (no blinking to catch).
fn screenful(cols: usize, rows: usize) -> Vec<u8> {
    let mut bytes = b"\x1b[?25l\x1b[H".to_vec();
    let glyphs: Vec<char> = "vcmux screenshot 0123456789 ABCDEFGH ─│┼█▒ äöü λ→ ".chars().collect();
    for row in 0..rows {
        bytes.extend_from_slice(format!("\x1b[{};{}m", 30 + row % 8, 40 + (row / 8) % 8).as_bytes());
        let line: String = (0..cols).map(|col| glyphs[(col * 7 + row * 3) % glyphs.len()]).collect();
        bytes.extend_from_slice(line.as_bytes());
        if row + 1 < rows {
            bytes.extend_from_slice(b"\x1b[0m\r\n");
        }
    }
    bytes
}

/// Feeds `bytes` to a vc of `cols` x `rows` served on a unix socket, and
/// captures it with `vcmux screenshot`; the PNG must equal `vcmux render` of
/// the same bytes at that size.
fn screenshot_equals_render(cols: usize, rows: usize) {
    let dir = temp_dir();
    let socket = path_in(&dir, "vnc.sock");
    let vc = format!("vc,id=v,cols={cols},rows={rows}");
    let vnc = format!("unix:{socket}");
    let (qemu, vcmux_server) = start_on_fake_qemu(&dir, &["-chardev", &vc, "-vnc", &vnc]);
    let mut console = qemu.accept();
    vcmux_server.wait_log("VNC viewers welcome");
    let bytes = screenful(cols, rows);
    console.write_all(&bytes).unwrap();
    // The vc answers a cursor position report once it has parsed all before it.
    console.write_all(b"\x1b[6n").unwrap();
    let mut reply = Vec::new();
    let mut byte = [0u8; 1];
    while !reply.ends_with(b"R") {
        console.read_exact(&mut byte).expect("the vc answers the cursor position report");
        reply.push(byte[0]);
    }

    let input = path_in(&dir, "console.bin");
    std::fs::write(&input, &bytes).unwrap();
    let want = path_in(&dir, "want.png");
    let (c, r) = (cols.to_string(), rows.to_string());
    let rendered = vcmux(&["render", &input, "--cols", &c, "--rows", &r, "-o", &want]);
    assert!(rendered.status.success(), "{}", String::from_utf8_lossy(&rendered.stderr));
    let want = png::decode(&std::fs::read(&want).unwrap()).unwrap().unwrap();
    assert_eq!((usize::from(want.width()), usize::from(want.height())), (cols * 10, rows * 19));

    let got = path_in(&dir, "got.png");
    let server = format!("unix:{socket}");
    // The status line of a console not yet connected may still be going away:
    // capture until the frame is the rendered one, or the deadline.
    poll_until(&format!("a screenshot of the {cols}x{rows} vc equal to vcmux render"), || {
        let run = vcmux(&["screenshot", &server, "-o", &got]);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "vcmux screenshot failed: {stderr}");
        let frame = png::decode(&std::fs::read(&got).unwrap()).unwrap().unwrap();
        assert_eq!((frame.width(), frame.height()), (want.width(), want.height()), "the PNG's size");
        frame == want
    });
}

#[test]
fn a_300x200_vc_is_captured_whole() {
    screenshot_equals_render(300, 200);
}

#[test]
fn a_500x300_vc_is_captured_whole() {
    screenshot_equals_render(500, 300);
}

#[test]
fn a_password_is_given_from_a_file_and_a_wrong_one_is_one_line() {
    let dir = temp_dir();
    let socket = path_in(&dir, "vnc.sock");
    let (right, wrong) = (path_in(&dir, "right.pass"), path_in(&dir, "wrong.pass"));
    std::fs::write(&right, "s3cret\n").unwrap();
    std::fs::write(&wrong, "guess\n").unwrap();
    let vnc = format!("unix:{socket},password-file={right}");
    let server = Vcmux::start(&["-chardev", "vc,id=v", "-vnc", &vnc, "--", "sleep", "60"]);
    server.wait_log("VNC viewers welcome");
    let out = path_in(&dir, "out.png");
    let address = format!("unix:{socket}");
    let run = vcmux(&["screenshot", &address, "-o", &out, "--password-file", &right]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let frame = png::decode(&std::fs::read(&out).unwrap()).unwrap().unwrap();
    assert_eq!((frame.width(), frame.height()), (800, 456));
    for (extra, needle) in
        [(&["--password-file", wrong.as_str()][..], "authentication failed"), (&[][..], "--password-file")]
    {
        let run = vcmux(&[&["screenshot", address.as_str(), "-o", out.as_str()][..], extra].concat());
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{stderr}");
        assert!(stderr.trim().lines().count() == 1 && stderr.contains(needle), "{stderr}");
    }
}

#[test]
fn the_server_is_named_as_vnc_names_it_and_as_vncviewer_does() {
    // A free display: the first port from 5900 on that nobody listens on.
    let port = (5900..6100)
        .find(|&port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        .expect("a free port from 5900 on");
    let display = (port - 5900).to_string();
    let dir = temp_dir();
    let vcmux_server =
        Vcmux::start(&["-chardev", "vc,id=v", "-vnc", &format!(":{display}"), "--", "sleep", "60"]);
    vcmux_server.wait_log("VNC viewers welcome");
    let out = path_in(&dir, "out.png");
    for server in [
        format!(":{display}"),
        format!("127.0.0.1:{display}"),
        format!("localhost:{port}"),
        format!("127.0.0.1::{port}"),
    ] {
        let run = vcmux(&["screenshot", &server, "-o", &out]);
        assert!(run.status.success(), "{server}: {}", String::from_utf8_lossy(&run.stderr));
        let frame = png::decode(&std::fs::read(&out).unwrap()).unwrap().unwrap();
        assert_eq!((frame.width(), frame.height()), (800, 456), "{server}");
        std::fs::remove_file(&out).unwrap();
    }
}

#[test]
fn missing_arguments_and_bad_addresses_are_named_in_one_line() {
    for (args, needles) in [
        (&["render"][..], &["<INPUT>", "vcmux render --help"][..]),
        (&["screenshot"], &["<SERVER>", "--output <OUT.png>", "vcmux screenshot --help"]),
        (&["screenshot", ":0"], &["--output <OUT.png>"]),
        (
            &["screenshot", "nowhere", "-o", "x.png"],
            &["'nowhere' is not HOST:DISPLAY, :DISPLAY, HOST::PORT or unix:PATH"],
        ),
        (&["screenshot", "unix:", "-o", "x.png"], &["'unix:'"]),
    ] {
        let run = vcmux(args);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        for needle in needles {
            assert!(stderr.contains(needle), "{args:?}: {stderr} lacks {needle:?}");
        }
    }
}
