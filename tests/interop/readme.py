#!/usr/bin/env python3
"""Runs every recipe of README.md as written.

Each ```sh block of README.md (the file itself, so that README and test cannot
drift) is preceded by a marker:

    <!-- recipe: NAME -->      a recipe this runner knows by NAME and runs
    <!-- not run: WHY -->      not runnable as it stands (a synopsis, fragments)

An unmarked ```sh block, a marker naming a recipe this runner does not know,
or a recipe it knows that the README lost, fails the run.

A recipe's command lines (a line ending in a backslash continues on the next;
comments dropped) run verbatim with bash, in a fresh working directory, with the
`vcmux` that the Set-up recipe's `cargo install` put first on PATH. Each recipe
below names the shape of each line it expects (so an edited line fails loudly
rather than going untested) and says what it does with it:

- a long-running line (vcmux, QEMU, `cargo run`) runs in the background, with or
  without a trailing `&`, until the recipe ends: then it gets SIGTERM, must exit
  within the deadline, and must leave no process of its own behind (the runner
  is the subreaper of whatever it starts, so not even an orphan escapes);
- an interactive viewer line (vncviewer, screen, `socat -,raw,echo=0`) is
  replaced by a scripted equivalent that checks the same thing (vncdotool's
  `vncdo`, `vcmux screenshot`, socat in a pipe, reading the PTY);
- every other line runs in the foreground and must succeed.

Inputs a recipe names (guest.log, vim.cast, password files) are the runner's,
made from tests/term-corpus. Where a viewer types into `$SHELL`, it is dash with a
plain prompt, so that the screen to expect is known. In a QEMU line, `…` (your machine's options) becomes a tiny guest's:
benches/qemu/guest.c, built as benches/qemu/measure.py builds it, printing 24
lines on COM1 at boot and one more for each byte it receives. After starting a
long-running line the runner waits, as a person would, until it is up (QEMU:
waiting for its client, or the guest has printed its first line) before the
next line. Every wait is a condition with a deadline.

    python3 tests/interop/readme.py [NAME...]     (readme.sh installs what it needs)
"""

import base64
import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import traceback
import tty
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CORPUS = REPO / "tests" / "term-corpus"
DEADLINE = float(os.environ.get("DEADLINE", "60"))
# Where the CI recipe's PNG, text dump and recording are kept.
ARTIFACTS = Path(os.environ.get("VCMUX_ARTIFACTS", REPO / "target" / "ci-artifacts"))
SHELL_BLOCK = {"sh", "bash", "shell", "console", "zsh"}

sys.dont_write_bytecode = True  # no __pycache__ beside measure.py
sys.path.insert(0, str(REPO / "benches" / "qemu"))
import measure  # noqa: E402  (the guest's build)

# What the guest prints: 24 lines at boot (the last without a newline), then a
# newline and the next line for each byte it receives.
GUEST_LINES = ["guest: line %d of its boot" % (i + 1) for i in range(30)]
GUEST_BOOT = "\r\n".join(GUEST_LINES[:24]).encode()
STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")


class Failure(Exception):
    """A check failed: the message says which and what was seen."""


def fail(message):
    raise Failure(message)


def say(message):
    print("[readme] " + message, flush=True)


def wait_for(what, condition, deadline=DEADLINE):
    """Calls condition() every 0.1 s until it is true; fails after `deadline` s."""
    end = time.monotonic() + deadline
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            fail("%s: not within %gs" % (what, deadline))
        time.sleep(0.1)


# --- README.md: blocks, markers, commands --------------------------------------------

MARKER = re.compile(r"^<!--\s*(recipe|not run):\s*(.*?)\s*-->$")


def readme_blocks(text):
    """[(marker kind, marker value, fence language, block lines, line number)]"""
    lines = text.split("\n")
    blocks, i, previous = [], 0, ""
    while i < len(lines):
        fence = re.match(r"^```(\S*)\s*$", lines[i])
        if not fence:
            if lines[i].strip():
                previous = lines[i].strip()
            i += 1
            continue
        start = i
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        marker = MARKER.match(previous)
        blocks.append((marker.group(1) if marker else None, marker.group(2) if marker else None,
                       fence.group(1), body, start + 1))
        previous, i = "", i + 1
    return blocks


def strip_comment(line):
    """The line without a shell comment (a `#` starting a word, outside quotes)."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
            elif c == "\\" and quote == '"':
                continue
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t;"):
            return line[:i].rstrip()
    return line.rstrip()


def commands(body):
    """A block's commands: continuation lines joined, comments and blank lines dropped."""
    result, pending = [], ""
    for line in body:
        if line.rstrip().endswith("\\"):
            pending += line.strip()[:-1].rstrip() + " "
            continue
        command = strip_comment(pending + line.strip()).strip()
        pending = ""
        if command:
            result.append(command)
    return result


# --- Processes ----------------------------------------------------------------------------

def children_map():
    kids = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path("/proc/%s/stat" % entry).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kids.setdefault(int(fields[1]), []).append(int(entry))
    return kids


def descendants(pid):
    kids, found, todo = children_map(), [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(kids.get(p, []))
    return found


def alive(pid):
    try:
        state = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def become_subreaper():
    """Makes the runner the parent of every process orphaned below it (a daemon that
    forked away from its recipe, a child whose parent died), so none can hide."""
    import ctypes
    PR_SET_CHILD_SUBREAPER = 36
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def orphans():
    """The runner's living children once each recipe's own are waited for: orphans
    of its processes, reparented here. Reaps those that have ended."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
    return [p for p in children_map().get(os.getpid(), []) if alive(p)]


def cmdline(pid):
    try:
        return Path("/proc/%d/cmdline" % pid).read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def port_free(host, port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def accepts(port, host="127.0.0.1"):
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


class Background:
    """A long-running command line, its output in files."""

    def __init__(self, recipe, command, env, cwd):
        n = recipe.started = recipe.started + 1
        self.command = command
        self.out = recipe.logs / ("%s-%d.out" % (recipe.name, n))
        self.err = recipe.logs / ("%s-%d.err" % (recipe.name, n))
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.proc = subprocess.Popen(["bash", "-c", "exec " + command], cwd=cwd, env=env,
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         start_new_session=True)

    def stderr(self):
        return self.err.read_bytes().decode(errors="replace")

    def running(self):
        return self.proc.poll() is None

    def stop(self):
        """SIGTERM; it must exit within the deadline and leave no process behind."""
        if not self.running():
            return
        family = descendants(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            for pid in family:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            fail("%r did not exit within %gs of SIGTERM" % (self.command, DEADLINE))
        wait_for("%r's processes end with it" % self.command,
                 lambda: not [p for p in family if alive(p)], 10)
        say("  stopped (exit status %s): %s" % (self.proc.returncode, self.command[:60]))


# --- One recipe's run -----------------------------------------------------------------

class Recipe:
    """A recipe's commands, working directory, environment, background processes."""

    def __init__(self, name, command_lines, root, path_dir, ports):
        self.name = name
        self.commands = list(command_lines)
        self.cwd = root / name
        self.cwd.mkdir()
        self.logs = root / "logs"
        self.logs.mkdir(exist_ok=True)
        self.env = dict(os.environ, PATH=str(path_dir) + os.pathsep + os.environ["PATH"])
        self.env.pop("RUST_LOG", None)
        self.background = []
        self.started = 0
        self.ports = ports
        self.fixed_paths = sorted({p for c in command_lines for p in re.findall(r"/tmp/[\w.-]+", c)})

    # The line at hand.
    def expect(self, pattern, what):
        """The next command line, which must have the shape `pattern` (a regex)."""
        if not self.commands:
            fail("%s: expected %s, but the recipe has no more lines" % (self.name, what))
        command = self.commands.pop(0)
        if not re.fullmatch(pattern, command):
            fail("%s: expected %s (%s), got: %s" % (self.name, what, pattern, command))
        return command

    def run(self, command, cwd=None, env=None, timeout=None, check=True):
        """A foreground line, verbatim; it must succeed. Returns its stdout."""
        say("  $ " + command)
        run = subprocess.run(["bash", "-c", command], cwd=cwd or self.cwd, env=env or self.env,
                             stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout or DEADLINE * 3)
        if check and run.returncode != 0:
            fail("%r exited %d: %s" % (command, run.returncode, run.stderr.decode(errors="replace")[-2000:]))
        return run.stdout

    def start(self, command, ready, what, cwd=None, env=None):
        """A long-running line in the background (a trailing `&` is its own); waits
        until ready(process) says it is up."""
        command = re.sub(r"\s*&$", "", command)
        say("  $ %s &" % command)
        proc = Background(self, command, env or self.env, cwd or self.cwd)
        self.background.append(proc)

        def up():
            if not proc.running():
                fail("%r exited %s before %s: %s" % (command, proc.proc.returncode, what, proc.stderr()[-2000:]))
            return ready(proc)
        wait_for(what, up)
        return proc

    def replaced(self, command, by):
        say("  (interactive) %s\n[readme]     replaced by: %s" % (command, by))

    def finish(self):
        if self.commands:
            fail("%s: lines the runner does not know: %s" % (self.name, self.commands))

    def stop_all(self):
        """Stops the background lines; then no process the recipe started may be
        left, whoever its parent was (the runner is every orphan's subreaper)."""
        errors = []
        for proc in reversed(self.background):
            try:
                proc.stop()
            except Failure as e:
                errors.append(str(e))
        self.background.clear()
        try:
            wait_for("the recipe's processes end", lambda: not orphans(), 10)
        except Failure as e:
            left = orphans()
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            errors.append("%s: left behind: %s" % (e, "; ".join("%d %s" % (p, cmdline(p)) for p in left)))
        if errors:
            fail("; ".join(errors))

    # Fixed resources the README's lines use: free before, removed after.
    def claim(self):
        for port in self.ports:
            if not port_free("0.0.0.0", port):
                fail("port %d is in use, and the recipe %s needs it" % (port, self.name))
        for path in map(Path, self.fixed_paths):
            if not (path.exists() or path.is_symlink()):
                continue
            stale = path.is_symlink() and not path.exists()
            if path.exists() and stat.S_ISSOCK(path.stat().st_mode):
                s = socket.socket(socket.AF_UNIX)
                try:
                    s.connect(str(path))
                except OSError:
                    stale = True
                finally:
                    s.close()
            if not stale:
                fail("%s exists (another vcmux?), and the recipe %s uses it" % (path, self.name))
            path.unlink()

    def release(self):
        for path in map(Path, self.fixed_paths):
            if path.is_symlink() or path.exists():
                path.unlink()


# --- Checks that several recipes share ---------------------------------------------------

def vcmux_render(recipe, stdin_bytes, *args):
    """`vcmux render -` of these bytes (the runner's own call, not a README line)."""
    run = subprocess.run(["vcmux", "render", "-", *args], input=stdin_bytes, env=recipe.env,
                         cwd=recipe.cwd, capture_output=True, timeout=DEADLINE)
    if run.returncode != 0:
        fail("vcmux render %s: %s" % (" ".join(args), run.stderr.decode(errors="replace")))
    return run.stdout


def same_pixels(a, b):
    """None when the two PNGs have the same pixels, else what differs."""
    try:
        x, y = Image.open(a).convert("RGB"), Image.open(b).convert("RGB")
    except OSError as e:
        return str(e)
    if x.size != y.size:
        return "sizes %s and %s" % (x.size, y.size)
    if x.tobytes() != y.tobytes():
        xb, yb = x.tobytes(), y.tobytes()
        diff = sum(1 for i in range(0, len(xb), 3) if xb[i:i + 3] != yb[i:i + 3])
        return "%d of %d pixels differ" % (diff, x.size[0] * x.size[1])
    return None


def vncdo(recipe, port, *args, password=None, check=True):
    command = ["vncdo", "-s", "127.0.0.1::%d" % port] + (["-p", password] if password else []) + list(args)
    run = subprocess.run(command, env=recipe.env, cwd=recipe.cwd, capture_output=True, timeout=DEADLINE)
    if check and run.returncode != 0:
        fail("%s: %s" % (" ".join(command), run.stderr.decode(errors="replace")[-1000:]))
    return run.returncode == 0


def screen_shows(recipe, screenshot_line, png, expected_png):
    """Runs the screenshot line until its PNG is expected_png, pixel for pixel."""
    last = ["no screenshot yet"]

    def matches():
        recipe.run(screenshot_line)
        last[0] = same_pixels(recipe.cwd / png, expected_png)
        return last[0] is None
    try:
        wait_for("the screenshot shows the expected screen", matches)
    except Failure as e:
        fail("%s (last: %s)" % (e, last[0]))


def simple_shell(recipe):
    """The environment of a recipe whose `$SHELL` a viewer types into: dash with a
    plain prompt, so the screen is known. The prompt comes from dash's $ENV file,
    as PS1 itself would not get through: the recipe's line runs under `bash -c`,
    and a non-interactive bash does not pass PS1 on."""
    rc = recipe.cwd / "shrc"
    rc.write_text("PS1='$ '\n")
    return dict(recipe.env, SHELL="/bin/sh", ENV=str(rc))


def shell_typed_into(recipe, port):
    """A viewer types a command into the shell served on `port`: the command runs
    (its file appears), and `vcmux screenshot` shows exactly the prompt, the typed
    line and the next prompt, as `vcmux render` draws those bytes."""
    shot = "vcmux screenshot :%d -o shell.png" % (port - 5900)
    prompt = recipe.cwd / "prompt.png"
    prompt.write_bytes(vcmux_render(recipe, b"$ ", "--format", "png"))
    screen_shows(recipe, shot, "shell.png", prompt)
    target = recipe.cwd / "typed.txt"
    typed = "echo typed-by-a-viewer > %s" % target
    vncdo(recipe, port, "type", typed, "key", "enter")
    wait_for("the typed command runs", lambda: target.exists() and target.read_text() == "typed-by-a-viewer\n")
    after = recipe.cwd / "after.png"
    after.write_bytes(vcmux_render(recipe, b"$ " + typed.encode() + b"\r\n$ ", "--format", "png"))
    screen_shows(recipe, shot, "shell.png", after)
    say("  a viewer typed a command; it ran, and the screen is the prompt, the command and the next prompt")


# --- The guest ------------------------------------------------------------------------

GUEST = {}


def guest_elf(root):
    if "elf" not in GUEST:
        build = root / "guest"
        build.mkdir()
        GUEST["elf"] = measure.build_guest(GUEST_LINES, build)
    return GUEST["elf"]


def start_qemu(recipe, command):
    """A QEMU line, `…` standing for the tiny guest's options. Up when QEMU waits
    for its serial client, or when the guest has printed its first line."""
    options = "-nodefaults -display none -m 32 -kernel %s -trace serial_write" % guest_elf(recipe.cwd.parent)
    command = command.replace("…", options)
    first_line = len(GUEST_LINES[0])

    def up(proc):
        err = proc.stderr()
        return "waiting for connection" in err or err.count("serial_write write addr 0x00 ") >= first_line
    proc = recipe.start(command, up, "QEMU is up")
    say("  QEMU is up: " + ("it waits for its client" if "waiting for connection" in proc.stderr()
                            else "the guest has printed its first line"))
    return proc


def log_holds_the_boot(recipe, log, strip=lambda b: b):
    """The log holds the guest's boot output from its first byte, nothing lost."""
    last = [b""]

    def complete():
        last[0] = strip(log.read_bytes()) if log.exists() else b""
        return last[0] == GUEST_BOOT
    try:
        wait_for("%s holds what the guest printed from its first line" % log.name, complete, 20)
    except Failure as e:
        got = last[0].decode(errors="replace")
        fail("%s; it starts %r (the guest's first line is %r)" % (e, got[:60], GUEST_LINES[0]))
    say("  %s holds the guest's boot from its first line, %r" % (log.name, GUEST_LINES[0]))


# --- The recipes -----------------------------------------------------------------------

VCMUX_LONG = r"vcmux( -.*)?( &)?"  # vcmux running a console (not render or screenshot)


def recipe_setup(r):
    install = r.expect(r"cargo install (--locked )?--path \.", "cargo install")
    root = r.cwd / "cargo-root"
    r.run(install, cwd=REPO, env=dict(r.env, CARGO_INSTALL_ROOT=str(root)), timeout=1800)
    installed = root / "bin" / "vcmux"
    # Every later recipe runs with this directory first on PATH, as ~/.cargo/bin is.
    if shutil.which("vcmux", path=r.env["PATH"]) != str(installed):
        fail("vcmux is not the installed one on PATH")
    if installed.read_bytes() != (REPO / "target" / "release" / "vcmux").read_bytes():
        fail("cargo install did not install this tree's build")
    say("  vcmux is on PATH: %s, this tree's release build" % installed)
    run = r.expect(r"cargo run --release", "cargo run")
    r.start(run, lambda p: accepts(5900), "VNC on 127.0.0.1:5900", cwd=REPO, env=simple_shell(r))
    shell_typed_into(r, 5900)
    r.stop_all()
    test = r.expect(r"cargo test --release", "cargo test")
    ci = (REPO / ".ci" / "run").read_text()
    if not re.search(r"^(\S+=\S+ )*cargo test --release$", ci, re.M):
        fail(".ci/run does not run `cargo test --release`")
    say("  (not run here) %s: .ci/run runs this very line before the interop suite" % test)


def recipe_render(r):
    shutil.copy(CORPUS / "boot-log.in", r.cwd / "guest.log")
    write_vim_cast(r.cwd / "vim.cast")
    line = r.expect(r"vcmux render guest\.log --cols 80 --rows 25", "render of a log")
    rows = r.run(line).decode().split("\n")[:-1]
    want = (CORPUS / "boot-log.txt").read_text().split("\n")[:-1]
    if len(rows) != 25 or rows[1:] != want:
        fail("the log's last screen is not the boot log's last 24 lines (as tmux shows them) under one more")
    say("  guest.log renders as the 80x25 screen it ends on (its last 24 rows are tmux's screen of it)")

    line = r.expect(r"script -q -c '(?P<cmd>ls -l --color)' ls\.rec; vcmux render ls\.rec -o ls\.ansi",
                    "a script recording")
    listing = subprocess.run(["ls", "-l"], cwd=r.cwd, capture_output=True, text=True).stdout.split("\n")
    r.run(line)
    ansi = (r.cwd / "ls.ansi").read_bytes()
    text = re.sub(rb"\x1b\[[0-9;:]*m", b"", ansi).decode()
    for name in ("guest.log", "vim.cast"):
        entry = next(row for row in listing if row.endswith(" " + name))
        if entry not in text.split("\n"):
            fail("ls.ansi does not show ls's line %r:\n%s" % (entry, text))
    say("  the recording of ls -l renders to the screen ls left: its listing")

    line = r.expect(r"vcmux render vim\.cast --at 12\.5 -o vim\.png", "render of a cast at a moment")
    r.run(line)
    want_png = r.cwd / "vim-edit.png"
    want_png.write_bytes(vcmux_render(r, (CORPUS / "vim-edit.in").read_bytes(), "--format", "png"))
    problem = same_pixels(r.cwd / "vim.png", want_png)
    if problem:
        fail("vim.png is not vim's screen: %s" % problem)
    at = subprocess.run(["vcmux", "render", "vim.cast", "--at", "12.5"], cwd=r.cwd, env=r.env,
                        capture_output=True, text=True).stdout
    if at.split("\n") != (CORPUS / "vim-edit.txt").read_text().split("\n"):
        fail("the cast at 12.5 s is not vim's screen as tmux shows it:\n" + at)
    end = subprocess.run(["vcmux", "render", "vim.cast"], cwd=r.cwd, env=r.env,
                         capture_output=True, text=True).stdout
    if [row.rstrip() for row in end.split("\n")[:3]] != ["$ vim hello.c", "$", ""]:
        fail("the cast's end is not the shell vim went back to:\n" + end)
    say("  vim.cast at 12.5 s is vim's screen (as tmux shows it); at its end, the shell vim left")


def write_vim_cast(path):
    """An asciicast of vim editing hello.c (the corpus's recording of real vim),
    started from a shell at 0 s, drawing from 1 to 10 s, quit at 20 s."""
    import json
    data = (CORPUS / "vim-edit.in").read_bytes()
    chunks = [c + b"\n" for c in data.split(b"\n")]
    chunks[-1] = chunks[-1][:-1]
    events = [[0.0, "o", "$ vim hello.c\r\n"]]
    events += [[round(1.0 + 9.0 * i / len(chunks), 3), "o", c.decode()] for i, c in enumerate(chunks) if c]
    events.append([20.0, "o", "\x1b[?1049l\r$ "])
    header = {"version": 2, "width": 80, "height": 24, "env": {"TERM": "xterm-256color"}}
    path.write_text("\n".join(json.dumps(x) for x in [header] + events) + "\n")


def recipe_shell(r):
    line = r.expect(r"vcmux", "vcmux alone")
    r.start(line, lambda p: accepts(5900), "VNC on 127.0.0.1:5900", env=simple_shell(r))
    viewer = r.expect(r"vncviewer 127\.0\.0\.1:5900", "a VNC viewer")
    r.replaced(viewer, "vncdo types a command, and `vcmux screenshot :0 -o shell.png` (the line's"
                       " own alternative) must show it")
    shell_typed_into(r, 5900)


def recipe_shared_shell(r):
    (r.cwd / "rw.pass").write_text("rw-pass\n")
    (r.cwd / "ro.pass").write_text("ro-pass\n")
    line = r.expect(r"vcmux -vnc 0\.0\.0\.0:1,password-file=rw\.pass,viewonly-password-file=ro\.pass -- bash",
                    "a shell shared with passwords")
    r.start(line, lambda p: accepts(5901), "VNC on 0.0.0.0:5901",
            env=dict(r.env, HISTFILE=str(r.cwd / "history")))
    say("  viewers: vncdo with each password")
    vncdo(r, 5901, "type", "echo ro > ro.txt", "key", "enter", password="ro-pass")
    vncdo(r, 5901, "capture", "ro.png", password="ro-pass")
    vncdo(r, 5901, "type", "echo rw > rw.txt", "key", "enter", password="rw-pass")
    wait_for("the read-write viewer's command runs", lambda: (r.cwd / "rw.txt").exists())
    if (r.cwd / "ro.txt").exists():
        fail("the view-only viewer's typing reached the shell")
    if Image.open(r.cwd / "ro.png").size != (800, 456):
        fail("the view-only viewer's capture is not the 80x24 screen")
    if vncdo(r, 5901, "capture", "wrong.png", password="nope", check=False):
        fail("a wrong password was accepted")
    say("  the read-write password types, the view-only one watches (its keys are ignored), a wrong one is refused")


def recipe_qemu_vnc(r):
    qemu = r.expect(r"qemu-system-x86_64 … -serial unix:/tmp/ttyS0,server=on(,wait=\w+)?( &)?", "QEMU")
    start_qemu(r, qemu)
    line = r.expect(VCMUX_LONG, "vcmux")
    if "-frontend socket,path=/tmp/ttyS0,reconnect=1" not in line or "websocket=5700" not in line:
        fail("the vcmux line no longer reads QEMU's socket or serves the WebSocket: " + line)
    r.start(line, lambda p: "frontend connected" in p.stderr(), "vcmux connects to QEMU's socket")
    log_holds_the_boot(r, r.cwd / "guest.log")
    shot = r.expect(r"vcmux screenshot :0 -o console\.png", "a screenshot")
    expected = r.cwd / "expected.png"
    expected.write_bytes(vcmux_render(r, GUEST_BOOT, "--cols", "120", "--rows", "40", "--format", "png"))
    screen_shows(r, shot, "console.png", expected)
    say("  console.png is the guest's boot screen at 120x40, as vcmux render draws it")
    websocket_speaks_rfb(5700)
    say("  port 5700 answers a WebSocket handshake (subprotocol binary) with RFB's greeting, as noVNC needs")

    say("  the other order, which the README says loses nothing too: the same vcmux line first, then QEMU's")
    r.stop_all()
    (r.cwd / "guest.log").unlink()
    r.start(line, lambda p: "retrying" in p.stderr(), "vcmux retries QEMU's socket")
    start_qemu(r, qemu)
    wait_for("vcmux connects to QEMU's socket", lambda: "frontend connected" in r.background[0].stderr())
    log_holds_the_boot(r, r.cwd / "guest.log")


def websocket_speaks_rfb(port):
    key = base64.b64encode(os.urandom(16)).decode()
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as s:
        s.sendall(("GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n\r\n"
                   % (port, key)).encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                fail("the WebSocket port closed during the handshake")
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode())
                                  .digest()).decode()
        if not head.startswith(b"HTTP/1.1 101") or accept.encode() not in head:
            fail("no WebSocket upgrade: %r" % head)
        while len(rest) < 2 + 12:
            chunk = s.recv(4096)
            if not chunk:
                break
            rest += chunk
        if rest[0] != 0x82 or rest[1] != 12 or rest[2:14] != b"RFB 003.008\n":
            fail("the first WebSocket frame is not RFB's greeting: %r" % rest[:20])


def recipe_socket_shell(r):
    line = r.expect(r"vcmux -chardev mux-be,id=mux0 .*-chardev socket,id=s0,path=/tmp/console\.sock,"
                    r"server=on,wait=off,mux-be-id=mux0 -- bash", "a logged shell with a socket")
    r.start(line, lambda p: Path("/tmp/console.sock").exists(), "/tmp/console.sock is there",
            env=dict(r.env, HISTFILE=str(r.cwd / "history")))
    viewer = r.expect(r"socat -,raw,echo=0 UNIX-CONNECT:/tmp/console\.sock", "socat on a terminal")
    r.replaced(viewer, "socat - UNIX-CONNECT:/tmp/console.sock in a pipe, typing a command")
    out = open(r.cwd / "socat.out", "wb")
    socat = subprocess.Popen(["socat", "-", "UNIX-CONNECT:/tmp/console.sock"], stdin=subprocess.PIPE,
                             stdout=out, cwd=r.cwd)
    try:
        socat.stdin.write(b"echo through-the-socket-$((6*7))\n")
        socat.stdin.flush()
        log, seen = r.cwd / "console.log", r.cwd / "socat.out"
        # The output line itself (the echoed command has the $((...)), not 42;
        # bash may end its bracketed paste with a bare CR before it).
        output = re.compile(rb"[\r\n]through-the-socket-42\r\n")
        wait_for("the command's output reaches console.log",
                 lambda: log.exists() and output.search(log.read_bytes()))
        wait_for("the command's output reaches the socket's client",
                 lambda: output.search(seen.read_bytes()))
    finally:
        socat.stdin.close()
        try:
            socat.wait(DEADLINE)
        finally:
            out.close()
    say("  a command typed through the socket ran; its output is in console.log and at the socket")


def recipe_command_wait(r):
    line = r.expect(r"vcmux -chardev mux-be,id=mux0 -chardev socket,id=s0,path=/tmp/a\.sock,server=on,wait=on,"
                    r"mux-be-id=mux0 -chardev file,id=f0,path=/tmp/con\.log,mux-be-id=mux0 "
                    r"-- sh -c 'seq 1 300000; exit 3' &", "a command served to one client")
    vcmux = r.start(line, lambda p: Path("/tmp/a.sock").exists(), "/tmp/a.sock is there")
    client = r.expect(r"socat -u UNIX-CONNECT:/tmp/a\.sock - > copy\.txt", "socat copying")
    r.run(client)
    try:
        status = vcmux.proc.wait(DEADLINE)
    except subprocess.TimeoutExpired:
        fail("vcmux did not exit when its command did")
    if status != 3:
        fail("vcmux exited %s, not the command's 3" % status)
    copy, log = (r.cwd / "copy.txt").read_bytes(), Path("/tmp/con.log").read_bytes()
    want = b"".join(b"%d\r\n" % i for i in range(1, 300001))
    if copy != want or log != want:
        fail("copy.txt (%d bytes) and con.log (%d) are not seq's %d bytes" % (len(copy), len(log), len(want)))
    say("  copy.txt and /tmp/con.log are both all of seq 1 300000 from its first byte; vcmux exited 3")


def recipe_qemu_screen(r):
    qemu = r.expect(r"qemu-system-x86_64 … -serial unix:/tmp/ttyS0,server=on(,wait=\w+)?( &)?", "QEMU")
    start_qemu(r, qemu)
    line = r.expect(VCMUX_LONG, "vcmux")
    if "timestamps=on" not in line or "pty,id=con,path=/tmp/guest-console" not in line:
        fail("the vcmux line no longer keeps a timestamped log and a PTY: " + line)
    vcmux = r.start(line, lambda p: "frontend connected" in p.stderr(), "vcmux connects to QEMU's socket")
    log = r.cwd / "guest.log"
    log_holds_the_boot(r, log, lambda b: STAMP.sub(b"", b))
    lines = log.read_bytes().split(b"\n")
    if not all(STAMP.match(x) for x in lines):
        fail("a line of guest.log does not start with a timestamp: %r" % lines)
    say("  each of its lines starts with its time")

    viewer = r.expect(r"screen /tmp/guest-console", "screen")
    r.replaced(viewer, "open /tmp/guest-console raw, type a key, read the guest's answer")
    fd = os.open("/tmp/guest-console", os.O_RDWR | os.O_NOCTTY)
    try:
        tty.setraw(fd)
        # As screen would: type once vcmux has seen the terminal open.
        wait_for("vcmux sees /tmp/guest-console open",
                 lambda: re.search(r"con: /dev/pts/\d+ connected", vcmux.stderr()))
        os.write(fd, b"x")
        seen = b""
        end = time.monotonic() + DEADLINE
        while GUEST_LINES[24].encode() not in seen:
            if time.monotonic() > end:
                fail("the guest's answer to a key typed on the PTY never came: %r" % seen)
            if select.select([fd], [], [], 0.5)[0]:
                seen += os.read(fd, 4096)
    finally:
        os.close(fd)
    say("  a key typed on /tmp/guest-console reached the guest; its answer came back there")
    want = GUEST_BOOT + b"\r\n" + GUEST_LINES[24].encode()
    wait_for("guest.log holds the answer", lambda: STAMP.sub(b"", log.read_bytes()) == want)

    render = r.expect(r"vcmux render guest\.log --strip-timestamps", "render of the timestamped log")
    got = r.run(render).decode().split("\n")[:-1]
    if got != GUEST_LINES[1:25]:
        fail("the render of guest.log is not the guest's screen:\n" + "\n".join(got))
    raw = subprocess.run(["vcmux", "render", "guest.log"], cwd=r.cwd, env=r.env, capture_output=True).stdout
    if not STAMP.match(raw):
        fail("without --strip-timestamps the render does not show the stamps, so the check above proves nothing")
    say("  rendered with --strip-timestamps: the guest's screen, no times (without the flag they are on it)")


def bash_with_known_prompt(r):
    """The environment for a recipe's bash whose prompt is `$ `: bash reads
    $HOME/.bashrc, after any /etc/bash.bashrc; its history stays in the recipe."""
    home = r.cwd / "home"
    home.mkdir()
    (home / ".bashrc").write_text("PS1='$ '\n")
    return dict(r.env, HOME=str(home), HISTFILE=str(r.cwd / "history"))


def recipe_ctl(r):
    line = r.expect(r"vcmux -qmp unix:/tmp/q\.sock,server=on,wait=off -- bash( &)?", "a shell with a control socket")
    vcmux = r.start(line, lambda p: Path("/tmp/q.sock").exists(), "/tmp/q.sock is there",
                    env=bash_with_known_prompt(r))

    def ctl(args, what):
        return r.run(r.expect(re.escape("vcmux ctl unix:/tmp/q.sock " + args), what))
    got = ctl("wait-for '\\$ $'", "a wait for the prompt")
    if got != b"$ \n":
        fail("the wait for the prompt printed %r, not the prompt" % got)
    ctl("send-text 'uname -s' --enter", "a command typed")
    got = ctl("wait-for '^Linux$'", "a wait for its output")
    if got != b"Linux\n":
        fail("the wait for uname's output printed %r" % got)
    say("  the prompt waited for, a command typed, its output waited for and printed")
    ctl("screendump console.png", "a screendump")
    size = Image.open(r.cwd / "console.png").size
    if size != (800, 456):
        fail("console.png is %s, not the 80x24 screen" % (size,))
    say("  console.png, named relative to the caller, is the 80x24 screen")
    got = ctl("query chardev", "the chardevs")
    if not re.search(rb"^vc0 +vc +true$", got, re.M):
        fail("query chardev lacks the vc: %r" % got)
    ctl("quit", "quit")
    try:
        vcmux.proc.wait(DEADLINE)
    except subprocess.TimeoutExpired:
        fail("vcmux did not exit on quit")
    say("  query chardev is a table with vc0; quit stopped vcmux")


def recipe_ci(r):
    line = r.expect(r"vcmux -qmp unix:/tmp/ci\.qmp,server=on,wait=off +-chardev vc,id=vc0 "
                    r"-chardev asciicast,id=rec,path=console\.cast -- bash( &)?",
                    "a shell with a control socket and a recording")
    vcmux = r.start(line, lambda p: Path("/tmp/ci.qmp").exists(), "/tmp/ci.qmp is there",
                    env=bash_with_known_prompt(r))

    def ctl(pattern, what):
        return r.run(r.expect(r"vcmux ctl unix:/tmp/ci\.qmp " + pattern, what))
    got = ctl(re.escape("wait-for '\\$ $' --timeout 60"), "a wait for the prompt")
    if got != b"$ \n":
        fail("the wait for the prompt printed %r" % got)
    ctl(re.escape("send-text 'uname -a' --enter"), "a command typed")
    got = ctl(re.escape("wait-for '^Linux .*$' --timeout 60"), "a wait for its output")
    if not got.startswith(b"Linux ") or got.count(b"\n") != 1:
        fail("the wait for uname's output printed %r" % got)
    ctl(re.escape("screendump console.png"), "a PNG screendump")
    ctl(re.escape("screendump console.txt"), "a text screendump")
    ctl("quit", "quit")
    try:
        status = vcmux.proc.wait(DEADLINE)
    except subprocess.TimeoutExpired:
        fail("vcmux did not exit on quit")
    if status != 0:
        fail("vcmux exited %d on quit" % status)
    say("  the prompt waited for, uname -a typed, its line printed; quit stopped vcmux")

    size = Image.open(r.cwd / "console.png").size
    if size != (800, 456):
        fail("console.png is %s, not the 80x24 screen" % (size,))
    text = (r.cwd / "console.txt").read_text()
    if "$ uname -a\n" + got.decode() not in text:
        fail("console.txt lacks the command and its line: %r" % text)
    lines = (r.cwd / "console.cast").read_text().splitlines()
    header = json.loads(lines[0])
    if header.get("version") != 2 or (header.get("width"), header.get("height")) != (80, 24):
        fail("console.cast's header: %r" % lines[0])
    output = "".join(e[2] for e in map(json.loads, lines[1:]) if e[1] == "o")
    if got.decode().strip() not in output:
        fail("console.cast's output lacks uname's line")
    rendered = subprocess.run(["vcmux", "render", "console.cast"], cwd=r.cwd, env=r.env,
                              capture_output=True, timeout=DEADLINE)
    if rendered.returncode != 0 or got.strip() not in rendered.stdout:
        fail("vcmux render console.cast: %r" % (rendered.stderr or rendered.stdout))
    say("  console.png is the 80x24 screen, console.txt has the command and its line, "
        "console.cast replays to it")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name in ("console.png", "console.txt", "console.cast"):
        shutil.copy(r.cwd / name, ARTIFACTS / name)
    say("  kept in %s: console.png, console.txt, console.cast" % ARTIFACTS)


RECIPES = {
    "setup": (recipe_setup, [5900]),
    "render": (recipe_render, []),
    "shell": (recipe_shell, [5900]),
    "shared-shell": (recipe_shared_shell, [5901]),
    "qemu-vnc": (recipe_qemu_vnc, [5900, 5700]),
    "socket-shell": (recipe_socket_shell, []),
    "command-wait": (recipe_command_wait, []),
    "qemu-screen": (recipe_qemu_screen, []),
    "ctl": (recipe_ctl, [5900]),
    "ci": (recipe_ci, []),
}


def main():
    readme = Path(os.environ.get("README", REPO / "README.md"))
    only = sys.argv[1:]
    problems, recipes = [], []
    for kind, value, language, body, line in readme_blocks(readme.read_text()):
        if kind == "recipe":
            if language not in SHELL_BLOCK:
                problems.append("%s:%d: the recipe %s marks a ```%s block" % (readme, line, value, language))
            elif value not in RECIPES:
                problems.append("%s:%d: a recipe the runner does not know: %s" % (readme, line, value))
            else:
                recipes.append((value, commands(body)))
        elif kind == "not run":
            if not value:
                problems.append("%s:%d: `not run` without a reason" % (readme, line))
        elif language in SHELL_BLOCK:
            problems.append("%s:%d: a ```%s block with no <!-- recipe: NAME --> or <!-- not run: WHY -->"
                            % (readme, line, language))
    names = [name for name, _ in recipes]
    problems += ["the README has no recipe %s" % n for n in RECIPES if n not in names]
    problems += ["the README has the recipe %s twice" % n for n in set(names) if names.count(n) > 1]
    if problems:
        for p in problems:
            say("FAIL: " + p)
        return 1

    become_subreaper()
    root = Path(tempfile.mkdtemp(prefix="vcmux-readme."))
    path_dir = root / "setup" / "cargo-root" / "bin"
    started, failed = time.monotonic(), []
    for name, lines in recipes:
        if only and name not in only and name != "setup":
            continue
        function, ports = RECIPES[name]
        say("=== %s" % name)
        recipe = Recipe(name, lines, root, path_dir, ports)
        t0 = time.monotonic()
        try:
            recipe.claim()
            try:
                function(recipe)
                recipe.finish()
            finally:
                recipe.stop_all()
            say("  ok (%.1fs)" % (time.monotonic() - t0))
        except Failure as e:
            say("FAIL: %s: %s" % (name, e))
            for proc in recipe.background:
                say("  stderr of %s:\n%s" % (proc.command[:60], proc.stderr()[-1500:]))
            failed.append(name)
            if name == "setup":
                break
        except Exception:
            traceback.print_exc()
            failed.append(name)
        finally:
            recipe.release()
    say("%d recipes in %.0fs" % (len(recipes), time.monotonic() - started))
    if failed:
        say("FAILED: " + " ".join(failed) + " (work: %s)" % root)
        return 1
    shutil.rmtree(root, ignore_errors=True)
    say("PASS: every recipe of %s ran as written" % readme.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
