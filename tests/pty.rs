//! PTYs both ways round, through the real binary: a command under vcmux's PTY as
//! the console, and a PTY backend opened the way screen or minicom opens it.

mod common;

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::mpsc;

use common::*;

/// The README's first example, as a newcomer types it, with a client on the socket.
#[test]
fn the_readme_command_logs_and_serves_the_output_and_exits_with_the_status() {
    let dir = temp_dir();
    let (sock, log) = (path_in(&dir, "a.sock"), path_in(&dir, "con.log"));
    let mut vcmux = Vcmux::start(&[
        "-chardev",
        "mux-be,id=mux0",
        "-chardev",
        &format!("socket,id=s0,path={sock},server=on,wait=on,mux-be-id=mux0"),
        "-chardev",
        &format!("file,id=f0,path={log},mux-be-id=mux0"),
        "--",
        "sh",
        "-c",
        "seq 1 300000; exit 3",
    ]);
    vcmux.wait_log("s0: listening on");
    let client = read_to_end_in_thread(connect(std::path::Path::new(&sock)));
    assert_eq!(vcmux.wait_exit(), 3, "vcmux exits with the command's status");
    let want: String = (1..=300000).map(|n| format!("{n}\r\n")).collect();
    assert_same("the client's copy", &client.join().unwrap(), want.as_bytes());
    assert_same("con.log", &std::fs::read(&log).unwrap(), want.as_bytes());
}

#[test]
fn a_shell_under_the_pty_takes_typed_commands_and_its_exit_status_is_vcmux_s() {
    let dir = temp_dir();
    let sock = path_in(&dir, "a.sock");
    let mut vcmux =
        Vcmux::start_with(&["-chardev", &format!("socket,id=s0,path={sock},server=on,wait=on")], |c| {
            c.env("SHELL", "/bin/sh").env("PS1", "$ ");
        });
    vcmux.wait_log("s0: listening on");
    let mut client = connect(std::path::Path::new(&sock));
    vcmux.wait_log("started '/bin/sh'");
    client.write_all(b"echo $((6 * 7))\n").unwrap();
    let mut seen = String::new();
    while !seen.contains("42\r\n") {
        let mut buf = [0u8; 4096];
        let n = client.read(&mut buf).expect("the shell answers");
        assert!(n > 0, "the console closed early: {seen:?}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    client.write_all(b"exit 5\n").unwrap();
    assert_eq!(vcmux.wait_exit(), 5);
}

/// Reads a PTY slave in a thread, sending what arrives.
fn read_tty(mut tty: std::fs::File) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = tty.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
fn a_pty_backend_shows_the_console_on_its_slave_and_takes_input_from_it() {
    let dir = temp_dir();
    let link = path_in(&dir, "console");
    let (qemu, mut vcmux) = start_on_fake_qemu(&dir, &["-chardev", &format!("pty,id=p0,path={link}")]);
    let line = vcmux.wait_log("(label p0)");
    let slave = line.split("redirected to ").nth(1).unwrap().split(' ').next().unwrap().to_string();
    assert!(slave.starts_with("/dev/pts/"), "{line}");
    assert_eq!(std::fs::read_link(&link).unwrap().display().to_string(), slave);
    let mut console = qemu.accept();

    // What screen does: open the slave (through the link).
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::libc::O_NOCTTY)
        .open(&link)
        .unwrap();
    let mut typing = tty.try_clone().unwrap();
    let shown = read_tty(tty);
    vcmux.wait_log(&format!("p0: {slave} connected"));

    console.write_all(b"login: ").unwrap();
    let mut seen = Vec::new();
    while !seen.ends_with(b"login: ") {
        seen.extend(shown.recv_timeout(STEP).expect("the console reaches the PTY"));
    }
    assert_eq!(seen, b"login: ", "raw mode: bytes pass unchanged");

    typing.write_all(b"root\r").unwrap();
    let mut typed = [0u8; 5];
    console.read_exact(&mut typed).unwrap();
    assert_eq!(&typed, b"root\r");

    drop(console);
    assert_eq!(vcmux.wait_exit(), 0);
    assert!(std::fs::symlink_metadata(&link).is_err(), "the link is removed at exit");
}

#[test]
fn a_pty_backend_with_replay_shows_a_late_opener_the_last_bytes_then_the_stream() {
    const REPLAY: usize = 64 << 10;
    let dir = temp_dir();
    let (link, log) = (path_in(&dir, "console"), path_in(&dir, "con.log"));
    let mut vcmux = Vcmux::start(&[
        "-chardev",
        &format!("file,id=f0,path={log}"),
        "-chardev",
        &format!("pty,id=p0,path={link},replay=64K"),
        "--",
        "sh",
        "-c",
        COUNT_PAUSE_COUNT,
    ]);
    let before = count_before_pause();
    poll_until("the log has the lines before the pause", || file_len(&log) == before.len() as u64);

    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::libc::O_NOCTTY)
        .open(&link)
        .unwrap();
    let mut typing = tty.try_clone().unwrap();
    let shown = read_tty(tty);
    vcmux.wait_log(&format!("replaying the last {REPLAY} bytes"));
    typing.write_all(b"go\n").unwrap();
    let mut copy = Vec::new();
    while !copy.ends_with(COUNT_LAST_LINE) {
        let chunk = shown.recv_timeout(STEP);
        copy.extend(chunk.unwrap_or_else(|_| panic!("the PTY's copy stopped at {} bytes", copy.len())));
    }
    typing.write_all(b"end\n").unwrap();
    assert_eq!(vcmux.wait_exit(), 0);

    let whole = count_with_go();
    assert_same("the log", &std::fs::read(&log).unwrap(), &[&whole[..], b"end\r\n"].concat());
    assert_replayed_then_live("the PTY's copy", &copy, &whole, before.len(), REPLAY);
}

#[test]
fn a_stdio_backend_is_this_terminal_in_raw_mode_and_the_terminal_is_restored() {
    use nix::sys::termios::{LocalFlags, tcgetattr};
    let pty = nix::pty::openpty(None, None).unwrap();
    let before = tcgetattr(&pty.slave).unwrap();
    assert!(before.local_flags.contains(LocalFlags::ICANON));
    let (stdin, stdout) = (pty.slave.try_clone().unwrap(), pty.slave.try_clone().unwrap());
    let mut vcmux = Vcmux::start_with(&["-chardev", "stdio,id=con,signal=off"], |c| {
        c.stdin(stdin).stdout(stdout).env("SHELL", "/bin/sh").env("PS1", "$ ");
    });
    vcmux.wait_log("started '/bin/sh'");
    let during = tcgetattr(&pty.slave).unwrap();
    assert!(!during.local_flags.contains(LocalFlags::ICANON), "raw while vcmux runs");
    assert!(!during.local_flags.contains(LocalFlags::ISIG), "signal=off: Ctrl-C goes to the console");

    let master = std::fs::File::from(pty.master);
    let mut typing = master.try_clone().unwrap();
    let shown = read_tty(master);
    typing.write_all(b"echo $((6 * 7))\r").unwrap();
    let mut seen = String::new();
    // This terminal keeps output processing on, as QEMU's stdio does: CRLF shows as CR CR LF.
    while !seen.contains("42\r\r\n") {
        let chunk = shown.recv_timeout(STEP).unwrap_or_else(|_| panic!("no answer; seen {seen:?}"));
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    typing.write_all(b"exit 3\r").unwrap();
    assert_eq!(vcmux.wait_exit(), 3);
    let after = tcgetattr(&pty.slave).unwrap();
    assert_eq!(after.local_flags, before.local_flags, "the terminal is restored");
}
