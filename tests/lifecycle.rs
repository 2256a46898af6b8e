//! What vcmux starts, it ends: a command's processes never outlive vcmux, and
//! no descriptor vcmux opened leaks into them. Checked through /proc, with the
//! real binary, after SIGTERM, SIGINT, SIGKILL and the command's own exit.

mod common;

use std::os::unix::process::CommandExt;
use std::time::Instant;

use common::*;
use nix::sys::signal::Signal;

/// The live processes of session `sid`, from /proc.
fn session_members(sid: i32) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| {
            let pid: i32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
            let state = fields.next()?;
            let session: i32 = fields.nth(2)?.parse().ok()?;
            (session == sid && state != "Z").then_some(pid)
        })
        .collect()
}

/// The command's pid (its session's id), from vcmux's log.
fn command_pid(vcmux: &Vcmux) -> i32 {
    let line = vcmux.wait_log("(pid ");
    line.split("(pid ").nth(1).unwrap().split(')').next().unwrap().parse().unwrap()
}

/// Starts `sh -c SCRIPT` under vcmux and waits until the session holds
/// `processes` processes.
fn start_session(script: &str, processes: usize) -> (Vcmux, i32) {
    let vcmux = Vcmux::start(&["-chardev", "null,id=n", "--", "sh", "-c", script]);
    let sid = command_pid(&vcmux);
    poll_until("the command's processes start", || session_members(sid).len() == processes);
    (vcmux, sid)
}

#[track_caller]
fn assert_session_gone(sid: i32, vcmux: &Vcmux) {
    // vcmux has exited: what is left now outlives it.
    let left = session_members(sid);
    assert!(left.is_empty(), "processes {left:?} of the command outlive vcmux; log:\n{}", vcmux.log());
}

#[test]
fn sigterm_and_sigint_hang_up_the_command_and_everything_it_started() {
    for signal in [Signal::SIGTERM, Signal::SIGINT] {
        // A foreground job and a background one, in the command's session.
        let (mut vcmux, sid) = start_session("sleep 300 & sleep 301; true", 3);
        vcmux.signal(signal);
        let code = vcmux.wait_exit();
        assert_session_gone(sid, &vcmux);
        // The shell died of the hang-up: its status says so, as a shell reports it.
        assert_eq!(code, 128 + Signal::SIGHUP as i32, "{signal}: {}", vcmux.log());
    }
}

#[test]
fn a_command_that_ignores_the_hang_up_is_terminated() {
    let (mut vcmux, sid) = start_session("trap '' HUP; sleep 300 & exec sleep 301", 2);
    vcmux.signal(Signal::SIGTERM);
    let code = vcmux.wait_exit();
    assert_session_gone(sid, &vcmux);
    assert_eq!(code, 128 + Signal::SIGTERM as i32, "{}", vcmux.log());
    vcmux.wait_log("sending SIGTERM");
}

#[test]
fn a_command_exiting_on_its_own_leaves_no_job_behind() {
    let mut vcmux = Vcmux::start(&["-chardev", "null,id=n", "--", "sh", "-c", "sleep 300 & exit 3"]);
    let sid = command_pid(&vcmux);
    let code = vcmux.wait_exit();
    assert_session_gone(sid, &vcmux);
    assert_eq!(code, 3, "the command's own status: {}", vcmux.log());
}

#[test]
fn a_killed_vcmux_still_hangs_up_its_terminal() {
    let (mut vcmux, sid) = start_session("sleep 300 & sleep 301; true", 3);
    vcmux.signal(Signal::SIGKILL);
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&vcmux.wait_status()), Some(9));
    // The kernel hangs the terminal up once vcmux's master is closed: nobody
    // else may hold it.
    let deadline = Instant::now() + STEP;
    while !session_members(sid).is_empty() {
        assert!(Instant::now() < deadline, "processes {:?} outlive a killed vcmux", session_members(sid));
        std::thread::park_timeout(std::time::Duration::from_millis(10));
    }
}

/// Where each descriptor of process `pid` points, by number.
fn descriptors(pid: &str) -> Vec<(u32, String)> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let n = e.file_name().to_str()?.parse().ok()?;
            Some((n, std::fs::read_link(e.path()).ok()?.display().to_string()))
        })
        .collect()
}

#[test]
fn the_command_inherits_no_descriptor_vcmux_opened() {
    let dir = temp_dir();
    // Every kind of descriptor vcmux holds: a log, a listener, a PTY backend,
    // a vc and its VNC socket.
    let args = [
        "-chardev",
        &format!("file,id=f0,path={}", path_in(&dir, "con.log")),
        "-chardev",
        &format!("socket,id=s0,path={},server=on,wait=off", path_in(&dir, "s0.sock")),
        "-chardev",
        "pty,id=p0",
        "-chardev",
        "vc,id=v0",
        "-vnc",
        &format!("unix:{}", path_in(&dir, "vnc.sock")),
        "--",
        "sleep",
        "600",
    ];
    let mut vcmux = Vcmux::start_with(&args, |command| {
        // vcmux starts with 0, 1 and 2 only (not the test runner's descriptors),
        // so any other descriptor of the command's is one vcmux opened.
        // SAFETY: close(2) is async-signal-safe, and nothing else runs here.
        unsafe {
            command.pre_exec(|| {
                for fd in 3..4096 {
                    nix::libc::close(fd);
                }
                Ok(())
            });
        }
    });
    let pid = command_pid(&vcmux).to_string();
    let theirs = descriptors(&pid);
    for (n, target) in &theirs {
        assert!(*n <= 2, "the command inherited fd {n} -> {target} from vcmux: {theirs:?}");
        assert!(target.starts_with("/dev/pts/"), "fd {n} is {target}");
    }
    vcmux.signal(Signal::SIGTERM);
    vcmux.wait_exit();
}
