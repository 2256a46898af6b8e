//! The asciicast backend through the real binary: the recording is asciicast
//! v2 line by line, its output events are the console's bytes exactly (a
//! character cut between two writes included), typed input is recorded with
//! input=on, and `vcmux render` reads it back, at a moment or as a GIF whose
//! last frame is the PNG of the final screen.

mod common;

use std::io::Write;

use common::{Vcmux, connect, path_in, poll_until, temp_dir};
use serde_json::Value;

/// The recording's header and events, each line checked to be JSON.
fn read_cast(path: &str) -> (Value, Vec<Value>) {
    let text = std::fs::read_to_string(path).expect("the recording is UTF-8");
    let mut lines = text.lines();
    let header: Value = serde_json::from_str(lines.next().expect("a header")).expect("the header is JSON");
    let events = lines.map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}"))).collect();
    (header, events)
}

/// The events of one kind's texts, joined.
fn joined(events: &[Value], kind: &str) -> String {
    events.iter().filter(|e| e[1] == kind).map(|e| e[2].as_str().expect("text")).collect()
}

fn vcmux(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_vcmux"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("vcmux runs")
}

/// Records a command that writes `a` and the first byte of `é`, waits for a
/// typed line, then writes the second byte and `b`: the character is cut
/// between two writes (and two chunks, since the hub read the first half
/// before anything was typed).
fn record(dir: &tempfile::TempDir, input: bool) -> (String, Vec<u8>) {
    let cast = path_in(dir, "boot.cast");
    let log = path_in(dir, "boot.log");
    let sock = path_in(dir, "type.sock");
    let recording = format!("asciicast,id=rec,path={cast}{}", if input { ",input=on" } else { "" });
    let mut vcmux = Vcmux::start(&[
        "-chardev",
        &recording,
        "-chardev",
        &format!("file,id=log,path={log}"),
        "-chardev",
        &format!("socket,id=s,path={sock},server=on,wait=off"),
        "--",
        "sh",
        "-c",
        "stty -echo; printf 'a\\303'; read x; printf '\\251b \\033[1mbold\\033[m %s\\n' \"$x\"",
    ]);
    vcmux.wait_log("s: listening on");
    // The first half is in the log: the hub has read it, so the rest comes in a later chunk.
    poll_until("the first half in the log", || std::fs::read(&log).unwrap_or_default() == b"a\xc3");
    let mut typist = connect(std::path::Path::new(&sock));
    typist.write_all(b"go\n").unwrap();
    assert_eq!(vcmux.wait_exit(), 0, "{}", vcmux.log());
    (cast, std::fs::read(&log).unwrap())
}

#[test]
fn output_events_are_the_console_output_exactly() {
    let dir = temp_dir();
    let (cast, log) = record(&dir, false);
    assert_eq!(log, "a\u{e9}b \x1b[1mbold\x1b[m go\r\n".as_bytes());

    let (header, events) = read_cast(&cast);
    assert_eq!(header["version"], 2);
    assert_eq!((header["width"].as_u64(), header["height"].as_u64()), (Some(80), Some(24)));
    assert!(header["timestamp"].as_u64().is_some_and(|t| t > 1_600_000_000), "{header}");
    assert_eq!(header["env"]["TERM"], "xterm-256color");
    assert_eq!(joined(&events, "o").as_bytes(), log);
    // `a` came alone, the cut character with the rest.
    assert_eq!(events[0][2], "a", "{events:?}");
    let mut last = 0.0;
    for event in &events {
        let time = event[0].as_f64().expect("a time");
        assert!(time >= last, "times go back: {events:?}");
        last = time;
    }
    assert!(events.iter().all(|e| e[1] != "i"), "input recorded without input=on: {events:?}");
}

#[test]
fn input_on_records_what_is_typed() {
    let dir = temp_dir();
    let (cast, log) = record(&dir, true);
    let (_, events) = read_cast(&cast);
    assert_eq!(joined(&events, "i"), "go\n");
    assert_eq!(joined(&events, "o").as_bytes(), log);
}

#[test]
fn a_recording_follows_the_vc_window() {
    let dir = temp_dir();
    let cast = path_in(&dir, "vc.cast");
    let vnc = format!("unix:{}", path_in(&dir, "vnc.sock"));
    let mut vcmux = Vcmux::start(&[
        "-chardev",
        &format!("asciicast,id=rec,path={cast}"),
        "-chardev",
        "vc,id=v,cols=100,rows=30",
        "-vnc",
        &vnc,
        "--",
        "sh",
        "-c",
        // XTWINOPS: the vc takes the new size, and the PTY's window follows it.
        "stty size; printf '\\033[8;20;60t'; while [ \"$(stty size)\" != '20 60' ]; do :; done; stty size",
    ]);
    assert_eq!(vcmux.wait_exit(), 0, "{}", vcmux.log());
    let (header, events) = read_cast(&cast);
    assert_eq!((header["width"].as_u64(), header["height"].as_u64()), (Some(100), Some(30)));
    let resizes: Vec<&str> = events.iter().filter(|e| e[1] == "r").filter_map(|e| e[2].as_str()).collect();
    assert_eq!(resizes, ["60x20"]);
    let output = joined(&events, "o");
    assert!(output.starts_with("30 100\r\n") && output.ends_with("20 60\r\n"), "{output:?}");
}

#[test]
fn render_draws_a_recording_at_a_moment() {
    let dir = temp_dir();
    let (cast, _) = record(&dir, true);
    let (_, events) = read_cast(&cast);
    let first = events[0][0].as_f64().unwrap();

    let run = vcmux(&["render", &cast, "--at", &format!("{first}")]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(String::from_utf8_lossy(&run.stdout).lines().next(), Some("a"));
    let run = vcmux(&["render", &cast]);
    assert_eq!(String::from_utf8_lossy(&run.stdout).lines().next(), Some("a\u{e9}b bold go"));
}

/// A recording with known times: output at 0.5 s, twice within one frame
/// at 1 s, after a pause of 6 s, a resize at 8 s, and input (not drawn).
const TIMED: &str = r#"{"version": 2, "width": 40, "height": 5, "timestamp": 1700000000}
[0.5, "o", "hello"]
[1.0, "o", "\r\n\u001b[31mred\u001b[m"]
[1.01, "o", " and \u00e9"]
[7.0, "i", "typed"]
[7.0, "o", "\r\nlater"]
[8.0, "r", "50x6"]
"#;

#[test]
fn a_gif_has_a_frame_per_change_timed_as_recorded_and_ends_on_the_final_screen() {
    let dir = temp_dir();
    let cast = path_in(&dir, "timed.cast");
    std::fs::write(&cast, TIMED).unwrap();
    let (gif, png) = (path_in(&dir, "timed.gif"), path_in(&dir, "timed.png"));
    for out in [&gif, &png] {
        let run = vcmux(&["render", &cast, "-o", out]);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    }
    let frames = gif_frames(&gif);
    // The pause of 6 s is cut to 5; the last screen stays up 5 s.
    let delays: Vec<u32> = frames.iter().map(|(_, ms)| *ms).collect();
    assert_eq!(delays, [500, 5000, 1000, 5000]);
    let last = &frames.last().unwrap().0;
    let screen = vcmux::frame::png::decode(&std::fs::read(&png).unwrap()).unwrap().unwrap();
    assert_eq!((last.width(), last.height()), (u32::from(screen.width()), u32::from(screen.height())));
    let same = last
        .pixels()
        .zip(screen.pixels())
        .all(|(g, &p)| g.0[..3] == [(p >> 16) as u8, (p >> 8) as u8, p as u8]);
    assert!(same, "the GIF's last frame is not the PNG's pixels");
    assert_ne!(frames[0].0.as_raw(), last.as_raw());

    // --format gif writes a GIF whatever the name; --speed, --idle-limit and --fps apply.
    let fast = path_in(&dir, "fast.img");
    let run = vcmux(&[
        "render",
        &cast,
        "--format",
        "gif",
        "--fps",
        "1",
        "--speed",
        "2",
        "--idle-limit",
        "1",
        "-o",
        &fast,
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let delays: Vec<u32> = gif_frames(&fast).iter().map(|(_, ms)| *ms).collect();
    // Halved, the pause cut to 1 s: output at 0.25, 0.5, 1.0 and a resize at
    // 1.5 s. At 1 fps, the first second's changes make one frame, the next
    // second's another; the last stays up 1 s halved.
    assert_eq!(delays, [1000, 500]);
}

/// Every frame of a GIF, composed, with its delay in milliseconds.
fn gif_frames(path: &str) -> Vec<(image::RgbaImage, u32)> {
    use image::AnimationDecoder;
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let decoder = image::codecs::gif::GifDecoder::new(file).expect("a GIF");
    let frame = |f: image::Frame| {
        let (numer, denom) = f.delay().numer_denom_ms();
        (numer / denom.max(1), f.into_buffer())
    };
    decoder.into_frames().map(|f| frame(f.expect("a frame"))).map(|(ms, image)| (image, ms)).collect()
}

#[test]
fn a_recording_that_cannot_be_created_is_a_start_up_error() {
    let mut vcmux =
        Vcmux::start(&["-chardev", "asciicast,id=rec,path=/nonexistent/dir/x.cast", "--", "true"]);
    assert_eq!(vcmux.wait_exit(), 2);
    let log = vcmux.log();
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(log.contains("rec: cannot create /nonexistent/dir/x.cast"), "{log}");
}
