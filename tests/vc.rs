//! The vc backend inside a running vcmux: its size is the command's window, and
//! it answers what programs ask the terminal.

mod common;

use common::*;

/// Runs `script` under vcmux with a vc of `cols`x`rows` and a log; returns the log.
fn run_with_vc(cols: u16, rows: u16, script: &str) -> String {
    let dir = temp_dir();
    let log = path_in(&dir, "con.log");
    let mut vcmux = Vcmux::start(&[
        "-chardev",
        &format!("vc,id=v0,cols={cols},rows={rows}"),
        "-chardev",
        &format!("file,id=f0,path={log}"),
        // Not the default display: tests run in parallel.
        "-vnc",
        &format!("unix:{}", path_in(&dir, "vnc.sock")),
        "--",
        "sh",
        "-c",
        script,
    ]);
    assert_eq!(vcmux.wait_exit(), 0, "{}", vcmux.log());
    std::fs::read_to_string(&log).unwrap()
}

#[test]
fn the_command_s_window_is_the_vc_s_size() {
    assert_eq!(run_with_vc(132, 43, "stty size"), "43 132\r\n");
}

#[test]
fn the_vc_answers_status_and_cursor_reports() {
    // DSR 5 (status) and DSR 6 (cursor position) after moving to row 3, column 7.
    let out = run_with_vc(
        80,
        24,
        r#"stty raw -echo; printf '\033[5n\033[3;7H\033[6n'; dd bs=1 count=10 2>/dev/null | od -An -c"#,
    );
    let squeezed: String = out.split_whitespace().collect();
    assert!(squeezed.contains(r"033[0n033[3;7R"), "{out:?}");
}
