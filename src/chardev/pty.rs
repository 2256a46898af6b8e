//! PTYs, both ways round:
//!
//! - [`CommandFrontend`]: a command run under a new PTY; its output is the console.
//! - [`PtyBackend`]: a new PTY pair whose slave (`/dev/pts/N`) screen or minicom
//!   opens, like QEMU's `-chardev pty`.
//!
//! Both hold the master side, non-blocking, behind a tokio [`AsyncFd`]. Both
//! ends of every PTY are close-on-exec from the moment they exist, so a program
//! vcmux starts never holds a master: when vcmux goes, the terminal hangs up.
//!
//! A command's processes never outlive vcmux: [`CommandSession::end`] hangs
//! the terminal up as a terminal emulator does (SIGHUP to every process of the
//! command's session), then escalates to SIGTERM and SIGKILL for what is left.

use std::future::Future;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::pty::{Winsize, grantpt, posix_openpt, ptsname_r, unlockpt};
use nix::sys::signal::{Signal, kill};
use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
use nix::unistd::Pid;
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use tokio::time::Sleep;
use tracing::{info, warn};

use super::{OpenError, WindowSize};
use crate::config::PtyConfig;
use crate::hub::port::{BoxFuture, Connection, Connector};

/// The window a command has when no terminal backend gives one.
const DEFAULT_WINDOW: WindowSize = WindowSize { cols: 80, rows: 24 };

/// After the command has exited, how long its PTY must stay quiet before the
/// output counts as finished when something else (a background job) still holds
/// the slave open.
const QUIET_AFTER_EXIT: Duration = Duration::from_millis(100);

/// How often a PTY backend looks whether someone has opened its slave (QEMU
/// looks every second).
const SLAVE_POLL: Duration = Duration::from_millis(200);

/// How long the command's processes get to end after each signal of the
/// hang-up before the next, stronger one: a shell saves its history on SIGHUP.
const HANG_UP_GRACE: Duration = Duration::from_secs(2);

/// How often the hang-up looks whether the command's processes are gone (they
/// are not vcmux's children, so there is nothing to wait on).
const GONE_POLL: Duration = Duration::from_millis(10);

nix::ioctl_write_int_bad!(set_controlling_terminal, nix::libc::TIOCSCTTY);
nix::ioctl_write_ptr_bad!(set_window_size, nix::libc::TIOCSWINSZ, Winsize);

fn winsize(size: WindowSize) -> Winsize {
    Winsize { ws_row: size.rows, ws_col: size.cols, ws_xpixel: 0, ws_ypixel: 0 }
}

/// Resolves to the command's exit code once it has exited (128 + N when killed by
/// signal N, as shells report it).
pub type ExitStatusReceiver = watch::Receiver<Option<i32>>;

/// The master side of a PTY, shared by a connection's reader and writer.
#[derive(Clone)]
struct Master(Arc<AsyncFd<OwnedFd>>);

impl Master {
    fn new(fd: OwnedFd) -> io::Result<Master> {
        let flags = OFlag::from_bits_truncate(fcntl(&fd, FcntlArg::F_GETFL)?);
        fcntl(&fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
        // SAFETY: the OwnedFd moves into the AsyncFd, so the descriptor stays open
        // and the same for as long as it is registered.
        let registered = unsafe { AsyncFd::register(fd) }.map_err(io::Error::from)?;
        Ok(Master(Arc::new(registered)))
    }

    /// Reads what is there; the slave's last close reads as end of file (EIO).
    /// Reads into `buf`'s room as it is: the hub offers a megabyte at a time,
    /// and zeroing it first (`ReadBuf::initialize_unfilled`) cost more than
    /// the read of a few KB it was for.
    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        loop {
            let mut guard = ready!(self.0.poll_read_ready(cx))?;
            // SAFETY: read(2) only writes into the room, never reads it, and
            // the bytes it says it wrote are the only ones marked filled.
            let room = unsafe { buf.unfilled_mut() };
            let read = |fd: &AsyncFd<OwnedFd>| {
                // SAFETY: `room` is valid for writes of its length for the call.
                let n = unsafe { nix::libc::read(fd.as_raw_fd(), room.as_mut_ptr().cast(), room.len()) };
                usize::try_from(n).map_err(|_| io::Error::last_os_error())
            };
            match guard.try_io(read) {
                Ok(Ok(n)) => {
                    // SAFETY: read(2) wrote these `n` bytes.
                    unsafe { buf.assume_init(n) };
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(e)) if e.raw_os_error() == Some(Errno::EIO as i32) => return Poll::Ready(Ok(())),
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                Err(_would_block) => continue,
            }
        }
    }

    fn poll_write(&self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        loop {
            let mut guard = ready!(self.0.poll_write_ready(cx))?;
            match guard.try_io(|fd| nix::unistd::write(fd.get_ref(), data).map_err(io::Error::from)) {
                Ok(result) => return Poll::Ready(result),
                Err(_would_block) => continue,
            }
        }
    }

    /// Whether anyone has the slave side open: with no one, the master reports a hang-up.
    fn slave_is_open(&self) -> bool {
        let mut fds = [PollFd::new(self.0.get_ref().as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::ZERO) {
            Ok(_) => !fds[0].revents().is_some_and(|r| r.contains(PollFlags::POLLHUP)),
            Err(_) => false,
        }
    }
}

/// A new PTY pair.
struct Pty {
    master: OwnedFd,
    slave: OwnedFd,
    /// `/dev/pts/N`.
    slave_path: PathBuf,
}

/// Opens a PTY pair of `size` with both ends close-on-exec from the start
/// (`openpty(3)` leaves them inheritable, and a command started a moment later
/// would keep the master open past vcmux's end).
fn open_pty(size: WindowSize) -> io::Result<Pty> {
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)?;
    grantpt(&master)?;
    unlockpt(&master)?;
    let slave_path = PathBuf::from(ptsname_r(&master)?);
    // std opens every file close-on-exec.
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::libc::O_NOCTTY)
        .open(&slave_path)?;
    let master = OwnedFd::from(master);
    // SAFETY: TIOCSWINSZ reads one Winsize from the pointer, which is valid.
    unsafe { set_window_size(master.as_raw_fd(), &winsize(size)) }?;
    Ok(Pty { master, slave: OwnedFd::from(slave), slave_path })
}

/// The writing half: bytes typed into the PTY's master.
struct MasterWriter(Master);

impl AsyncWrite for MasterWriter {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.0.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The reading half of a PTY backend: what screen or minicom types.
struct MasterReader(Master);

impl AsyncRead for MasterReader {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.0.poll_read(cx, buf)
    }
}

/// A command running under a new PTY: the console is its output.
pub struct CommandFrontend {
    /// The connection, until the hub takes it.
    connection: Option<Connection>,
}

impl CommandFrontend {
    /// Starts `argv` in a new session with a new PTY as its controlling terminal.
    /// Its window is `window`'s size and follows it (a vc's size), else 80x24.
    /// The session learns its exit code and ends what is left of it.
    pub fn spawn(
        label: &str,
        argv: &[String],
        window: Option<watch::Receiver<WindowSize>>,
    ) -> Result<(CommandFrontend, CommandSession), OpenError> {
        let fail = |e: io::Error| OpenError::new(label, format!("cannot start '{}'", argv.join(" ")), e);
        let Some((program, args)) = argv.split_first() else {
            return Err(fail(io::Error::new(io::ErrorKind::InvalidInput, "empty command")));
        };
        let size = window.as_ref().map_or(DEFAULT_WINDOW, |w| *w.borrow());
        let pty = open_pty(size).map_err(fail)?;
        let slave_name = pty.slave_path.display().to_string();

        let mut command = std::process::Command::new(program);
        command.args(args);
        // dup(2) by std: close-on-exec copies, which dup2 onto 0, 1 and 2 clears.
        let stdio = |fd: &OwnedFd| fd.try_clone().map(Stdio::from);
        command.stdin(stdio(&pty.slave).map_err(fail)?);
        command.stdout(stdio(&pty.slave).map_err(fail)?);
        command.stderr(Stdio::from(pty.slave));
        // SAFETY: between fork and exec only async-signal-safe calls are made:
        // setsid(2) and ioctl(2) on the child's own stdin.
        unsafe {
            command.pre_exec(|| {
                nix::unistd::setsid()?;
                set_controlling_terminal(0, 0)?;
                Ok(())
            });
        }
        let mut child = tokio::process::Command::from(command).kill_on_drop(false).spawn().map_err(fail)?;
        let pid = child.id().unwrap_or_default();
        info!("{label}: started '{}' (pid {pid}) on {slave_name}", argv.join(" "));

        let (exit_tx, exit_rx) = watch::channel(None);
        tokio::spawn(async move {
            let code = match child.wait().await {
                Ok(status) => exit_code(status),
                Err(_) => 1,
            };
            let _ = exit_tx.send(Some(code));
        });

        let master = Master::new(pty.master).map_err(fail)?;
        if let Some(window) = window {
            tokio::spawn(follow_window(master.clone(), window, exit_rx.clone()));
        }
        let output = CommandOutput {
            master: master.clone(),
            exited: Box::pin(wait_exit(exit_rx.clone())),
            has_exited: false,
            quiet: None,
        };
        let connection = Connection {
            peer: format!("'{}' on {slave_name}", argv.join(" ")),
            writer: Box::new(MasterWriter(master)),
            reader: Some(Box::new(output)),
            eof_is_hangup: true,
            typed: None,
        };
        let session = CommandSession {
            label: label.to_string(),
            // A pid always fits: the kernel's are below 2^22.
            leader: Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX)),
            exit: exit_rx,
        };
        Ok((CommandFrontend { connection: Some(connection) }, session))
    }
}

/// Looks for the command's program as exec(3) would (a name with a slash as it
/// is, else in each directory of `PATH`), so that a mistyped command is one
/// line at start-up, before anything listens.
pub fn check_program(label: &str, argv: &[String]) -> Result<(), OpenError> {
    let fail = |e: io::Error| OpenError::new(label, format!("cannot start '{}'", argv.join(" ")), e);
    let Some(program) = argv.first() else {
        return Err(fail(io::Error::new(io::ErrorKind::InvalidInput, "empty command")));
    };
    let executable = |path: &std::path::Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        return match executable(std::path::Path::new(program)) {
            Ok(true) => Ok(()),
            Ok(false) => Err(fail(io::Error::from(io::ErrorKind::PermissionDenied))),
            Err(e) => Err(fail(e)),
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    if std::env::split_paths(&path).any(|dir| executable(&dir.join(program)).unwrap_or(false)) {
        return Ok(());
    }
    Err(fail(io::Error::new(io::ErrorKind::NotFound, "no such program in PATH")))
}

/// The command's session: the command, everything it started in it, and its
/// exit status. vcmux ends the session whenever it stops, so that nothing it
/// started keeps running after it (a background job, a shell left by a
/// signal-stopped vcmux).
pub struct CommandSession {
    label: String,
    /// The command, leader of the session (its id is the session's).
    leader: Pid,
    exit: ExitStatusReceiver,
}

/// How a command's session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionEnd {
    /// The command's exit code (128 + N when a signal N ended it), `None` if
    /// it could not be learnt.
    pub code: Option<i32>,
    /// The strongest signal vcmux had to send, if any.
    pub signal: Option<Signal>,
}

impl CommandSession {
    /// The command's exit code once it has exited.
    pub fn exit_status(&self) -> ExitStatusReceiver {
        self.exit.clone()
    }

    /// Hangs up the terminal as a terminal emulator that closes does: SIGHUP
    /// (and SIGCONT, for stopped jobs) to every process of the session; what is
    /// still there after [`HANG_UP_GRACE`] gets SIGTERM, then SIGKILL. Returns
    /// once the session is empty and the command's status is known.
    pub async fn end(self) -> SessionEnd {
        let mut sent = None;
        for signal in [Signal::SIGHUP, Signal::SIGTERM, Signal::SIGKILL] {
            let members = session_members(self.leader);
            if members.is_empty() {
                break;
            }
            if let Some(before) = sent {
                warn!(
                    "{}: {} process(es) of the command still running {HANG_UP_GRACE:?} after {before}: sending {signal}",
                    self.label,
                    members.len()
                );
            }
            for &pid in &members {
                let _ = kill(pid, signal);
                if signal != Signal::SIGKILL {
                    let _ = kill(pid, Signal::SIGCONT);
                }
            }
            sent = Some(signal);
            if self.wait_until_gone(HANG_UP_GRACE).await {
                break;
            }
        }
        let mut exit = self.exit.clone();
        let code = tokio::time::timeout(HANG_UP_GRACE, async {
            wait_exit(exit.clone()).await;
            *exit.borrow_and_update()
        })
        .await
        .ok()
        .flatten();
        SessionEnd { code, signal: sent }
    }

    /// Waits up to `grace` for the session to have no process left.
    async fn wait_until_gone(&self, grace: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + grace;
        let mut ticks = tokio::time::interval(GONE_POLL);
        loop {
            ticks.tick().await;
            if session_members(self.leader).is_empty() {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
        }
    }
}

/// The live processes of session `session` (zombies excluded), read from /proc.
fn session_members(session: Pid) -> Vec<Pid> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|entry| {
            let pid: i32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // "pid (comm) state ppid pgrp session …": comm may hold spaces and parentheses.
            let mut fields = stat.get(stat.rfind(')')? + 1..)?.split_whitespace();
            let state = fields.next()?;
            let sid: i32 = fields.nth(2)?.parse().ok()?;
            (sid == session.as_raw() && state != "Z" && state != "X").then_some(Pid::from_raw(pid))
        })
        .collect()
}

impl Connector for CommandFrontend {
    fn connect(&mut self) -> BoxFuture<'_, io::Result<Option<Connection>>> {
        // One command, one connection: when its output ends, the console has ended.
        let connection = self.connection.take();
        Box::pin(async move { Ok(connection) })
    }
}

/// Gives the PTY each new size of `window` (the kernel tells the command with
/// SIGWINCH) until the command exits.
async fn follow_window(master: Master, mut window: watch::Receiver<WindowSize>, exit: ExitStatusReceiver) {
    let exited = wait_exit(exit);
    tokio::pin!(exited);
    loop {
        tokio::select! {
            changed = window.changed() => if changed.is_err() { return },
            () = &mut exited => return,
        }
        let size = winsize(*window.borrow_and_update());
        // SAFETY: TIOCSWINSZ reads one Winsize from the pointer, which is valid.
        if let Err(e) = unsafe { set_window_size(master.0.get_ref().as_raw_fd(), &size) } {
            warn!("cannot resize the command's window: {e}");
        }
    }
}

fn exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().or_else(|| status.signal().map(|s| 128 + s)).unwrap_or(1)
}

async fn wait_exit(mut exit: ExitStatusReceiver) {
    while exit.borrow_and_update().is_none() {
        if exit.changed().await.is_err() {
            return;
        }
    }
}

/// The command's output. It ends when the PTY's slave is closed by everyone (the
/// master reads EIO after the last byte) or, if a background job still holds the
/// slave, once the command has exited and the PTY has been quiet for a moment.
struct CommandOutput {
    master: Master,
    exited: Pin<Box<dyn Future<Output = ()> + Send>>,
    has_exited: bool,
    quiet: Option<Pin<Box<Sleep>>>,
}

impl AsyncRead for CommandOutput {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Poll::Ready(result) = self.master.poll_read(cx, buf) {
            self.quiet = None;
            return Poll::Ready(result);
        }
        if !self.has_exited {
            if self.exited.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.has_exited = true;
        }
        let quiet = self.quiet.get_or_insert_with(|| Box::pin(tokio::time::sleep(QUIET_AFTER_EXIT))); // allow-sleep: a timer
        ready!(quiet.as_mut().poll(cx));
        // Nothing arrived for a while after the command exited: end of output.
        Poll::Ready(Ok(()))
    }
}

/// A PTY pair for screen or minicom: the console appears on `/dev/pts/N`.
pub struct PtyBackend {
    master: Master,
    slave_name: String,
    _link: Option<Symlink>,
}

impl PtyBackend {
    /// Creates the pair in raw mode (as QEMU does), logs the slave's path as QEMU
    /// does, and makes the `path=` symlink to it.
    pub fn open(label: &str, config: &PtyConfig) -> Result<PtyBackend, OpenError> {
        let fail = |e: io::Error| OpenError::new(label, "cannot create a PTY", e);
        let pty = open_pty(DEFAULT_WINDOW).map_err(fail)?;
        let mut termios = tcgetattr(&pty.slave).map_err(io::Error::from).map_err(fail)?;
        cfmakeraw(&mut termios);
        tcsetattr(&pty.slave, SetArg::TCSAFLUSH, &termios).map_err(io::Error::from).map_err(fail)?;
        let slave_path = pty.slave_path;
        let slave_name = slave_path.display().to_string();
        // Closing our slave: from now on, the master reports whether someone else has it open.
        drop(pty.slave);
        let master = Master::new(pty.master).map_err(fail)?;
        let link = match &config.link {
            Some(link) => Some(Symlink::create(link.clone(), &slave_path).map_err(|e| {
                OpenError::new(label, format!("cannot make the symlink {}", link.display()), e)
            })?),
            None => None,
        };
        info!("char device redirected to {slave_name} (label {label})");
        Ok(PtyBackend { master, slave_name, _link: link })
    }

    /// The slave's path (`/dev/pts/N`), which QEMU's `chardev-add` answers with.
    pub fn slave_name(&self) -> &str {
        &self.slave_name
    }
}

impl Connector for PtyBackend {
    fn connect(&mut self) -> BoxFuture<'_, io::Result<Option<Connection>>> {
        Box::pin(async move {
            // The kernel gives no event when a slave is opened: look every so often.
            while !self.master.slave_is_open() {
                tokio::time::sleep(SLAVE_POLL).await; // allow-sleep: polls for the slave's opening, as QEMU does
            }
            Ok(Some(Connection {
                peer: self.slave_name.clone(),
                writer: Box::new(MasterWriter(self.master.clone())),
                reader: Some(Box::new(MasterReader(self.master.clone()))),
                eof_is_hangup: true,
                typed: None,
            }))
        })
    }
}

/// A symlink to the PTY's slave, removed when the backend goes away.
struct Symlink(PathBuf);

impl Symlink {
    fn create(link: PathBuf, target: &std::path::Path) -> io::Result<Symlink> {
        // An old link from an earlier run is replaced; anything else is left alone.
        if std::fs::symlink_metadata(&link).is_ok_and(|m| m.file_type().is_symlink()) {
            std::fs::remove_file(&link)?;
        }
        std::os::unix::fs::symlink(target, &link)?;
        Ok(Symlink(link))
    }
}

impl Drop for Symlink {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
