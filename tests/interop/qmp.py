#!/usr/bin/env python3
"""qemu.qmp, the QEMU project's own QMP library (PyPI), against vcmux's control
socket, as a CI job drives QEMU with it.

vcmux runs bash (prompt `$ `) in a vc of 80x24 served on a unix VNC socket, with
`-qmp unix:WORK/qmp.sock` (qmp.sh starts it and installs the pinned qemu.qmp).
Through `QMPClient` this checks the greeting and the negotiation the library does,
the query commands, typing (x-vcmux-send-text, send-key) and waiting for the
output (x-vcmux-wait-for-text; a timeout is an `ExecuteError` carrying the
screen, and the connection goes on), screendumps (PNG of the VNC framebuffer's
size, text with the output), a file backend added and removed while the shell
runs, VNC events when this vcmux has them (query-vnc), and `quit`: its answer,
then SHUTDOWN to this client and to a second one. Every wait has a deadline
($DEADLINE, 60 s). Exits non-zero on the first failure.

    python3 tests/interop/qmp.py WORK
"""

import asyncio
import importlib.metadata
import os
import sys

from PIL import Image
from qemu.qmp import EventListener, ExecuteError, QMPClient

DEADLINE = float(os.environ.get("DEADLINE", "60"))
COLS, ROWS = 80, 24
COMMANDS = {
    "qmp_capabilities", "query-version", "query-status", "query-commands", "query-chardev",
    "screendump", "send-key", "x-vcmux-send-text", "x-vcmux-wait-for-text",
    "x-vcmux-mark-output", "chardev-add", "chardev-remove", "quit",
}


class Failed(Exception):
    pass


def say(message):
    print("[qmp.sh] " + message, flush=True)


def check(condition, message):
    if not condition:
        raise Failed(message)


async def within(awaitable, what):
    try:
        return await asyncio.wait_for(awaitable, DEADLINE)
    except asyncio.TimeoutError:
        raise Failed(f"{what}: not within {DEADLINE:g}s") from None


async def until(condition, what):
    """Polls condition() (a plain function) every 0.1 s until it is true."""
    async def poll():
        while not condition():
            await asyncio.sleep(0.1)
    await within(poll(), what)


async def run(qmp, command, arguments=None):
    return await within(qmp.execute(command, arguments), command)


async def wait_text(qmp, pattern, mode="stream"):
    found = await run(qmp, "x-vcmux-wait-for-text", {"pattern": pattern, "mode": mode, "timeout": DEADLINE})
    check(isinstance(found, dict) and "match" in found, f"x-vcmux-wait-for-text {pattern!r}: {found!r}")
    return found


async def event(listener, name):
    got = await within(listener.get(), f"the {name} event")
    check(got["event"] == name, f"expected {name}, got {got}")
    check(isinstance(got["timestamp"]["seconds"], int), f"{name}: timestamp {got['timestamp']}")
    return got


async def rfb_handshake(path):
    """A VNC viewer's handshake (RFB 3.8, security None) over the unix socket,
    then hang up: the framebuffer's size from ServerInit."""
    reader, writer = await within(asyncio.open_unix_connection(path), "connecting to VNC")
    try:
        async def read(n):
            return await within(reader.readexactly(n), "the VNC handshake")
        version = await read(12)
        check(version == b"RFB 003.008\n", f"VNC version {version!r}")
        writer.write(b"RFB 003.008\n")
        types = await read((await read(1))[0])
        check(1 in types, f"security types {list(types)}: no None")
        writer.write(b"\x01")
        check(await read(4) == b"\0\0\0\0", "SecurityResult: not OK")
        writer.write(b"\x01")  # ClientInit: shared
        init = await read(24)
        width, height = int.from_bytes(init[0:2], "big"), int.from_bytes(init[2:4], "big")
        name = (await read(int.from_bytes(init[20:24], "big"))).decode()
        return width, height, name
    finally:
        writer.close()


async def checks(work):
    version = importlib.metadata.version("qemu.qmp")
    qmp = QMPClient("interop")
    watcher = QMPClient("watcher")
    await within(qmp.connect(f"{work}/qmp.sock"), "connecting")
    await within(watcher.connect(f"{work}/qmp.sock"), "connecting a second client")
    greeting = qmp.greeting.QMP
    check(greeting.capabilities == [], f"capabilities {greeting.capabilities}")
    check(all(isinstance(greeting.version["qemu"][k], int) for k in ("major", "minor", "micro")),
          f"greeting version {greeting.version}")
    say(f"qemu.qmp {version}: connected and negotiated (two clients); greeting "
        f"{greeting.version['package']!r}, capabilities []")

    check(await run(qmp, "query-version") == greeting.version, "query-version differs from the greeting")
    status = await run(qmp, "query-status")
    check(status == {"running": True, "status": "running"}, f"query-status {status}")
    names = {c["name"] for c in await run(qmp, "query-commands")}
    check(COMMANDS <= names, f"query-commands lacks {sorted(COMMANDS - names)}")
    chardevs = {c["label"]: c["filename"] for c in await run(qmp, "query-chardev")}
    check(chardevs.get("vc0") == "vc", f"query-chardev {chardevs}")
    say(f"query-version, query-status (running), query-commands ({len(names)}, every documented one), "
        f"query-chardev {chardevs}")

    await wait_text(qmp, r"\$ $")
    check(await run(qmp, "x-vcmux-send-text", {"text": "echo vcmux-$((6*7))\n"}) == {}, "x-vcmux-send-text")
    found = await wait_text(qmp, "^vcmux-42$")
    check(found["match"] == "vcmux-42" and "echo vcmux-$((6*7))" in found["before"], f"wait answered {found}")
    try:
        again = await run(qmp, "x-vcmux-wait-for-text", {"pattern": "vcmux-42", "timeout": 1})
        raise Failed(f"a second wait matched the same output again: {again}")
    except ExecuteError as e:
        check(e.error_class == "GenericError", f"timeout's class {e.error_class}")
        check("timed out" in e.error.error.desc and "vcmux-42" in e.error.error.desc,
              f"timeout's desc: {e.error.error.desc!r}")
    check((await run(qmp, "query-status"))["running"], "query-status after the error")
    say("x-vcmux-send-text 'echo vcmux-$((6*7))', waited for vcmux-42; a second wait timed out "
        "as an ExecuteError (GenericError, the screen in its desc); the connection goes on")

    # Wait for the prompt again: bash must be reading the line before the next keys.
    await wait_text(qmp, r"\$ $")
    width, height, name = await rfb_handshake(f"{work}/vnc.sock")
    check(width % COLS == 0 and height % ROWS == 0, f"VNC framebuffer {width}x{height} for {COLS}x{ROWS}")
    png, txt = f"{work}/screen.png", f"{work}/screen.txt"
    for filename, format in ((png, "png"), (txt, "txt")):
        check(await run(qmp, "screendump", {"filename": filename, "format": format}) == {}, "screendump")
    with Image.open(png) as image:
        image.load()
        check(image.size == (width, height), f"screendump PNG {image.size}, VNC {width}x{height}")
        low, high = image.convert("L").getextrema()
        check(low < high, "the PNG is one colour: no text")
    with open(txt) as f:
        lines = f.read().split("\n")
    check(len(lines) in (ROWS, ROWS + 1) and max(map(len, lines)) <= COLS, f"txt of {len(lines)} lines")
    check(lines[:3] == ["$ echo vcmux-$((6*7))", "vcmux-42", "$"], f"txt screen: {lines[:4]}")
    say(f"screendump png: {width}x{height}, the size of VNC's framebuffer ({name!r}); "
        f"txt: {ROWS} lines, the command and vcmux-42")

    def keys(*names):
        return run(qmp, "send-key", {"keys": [{"type": "qcode", "data": n} for n in names]})
    for key in "echo":
        await keys(key)
    await keys("spc")
    await keys("shift", "k")
    for key in ("e", "y", "s", "minus", "4", "2", "ret"):
        await keys(key)
    await wait_text(qmp, "^Keys-42$")
    await wait_text(qmp, r"\$ $")
    await keys("ctrl", "l")
    # bash clears the screen: its prompt alone on the first line.
    await wait_text(qmp, r"\A\$\s*\z", mode="screen")
    say("send-key typed 'echo Keys-42' key by key (shift-k, minus, ret): Keys-42 came; "
        "ctrl-l cleared the screen to bash's prompt (a screen wait)")

    log = f"{work}/log1.log"
    added = await run(qmp, "chardev-add", {"id": "log1", "backend": {"type": "file", "data": {"out": log}}})
    check(isinstance(added.get("x-vcmux-offset"), int), f"chardev-add answered {added}")
    labels = {c["label"] for c in await run(qmp, "query-chardev")}
    check("log1" in labels, f"query-chardev after chardev-add: {labels}")
    await run(qmp, "x-vcmux-send-text", {"text": "echo logged-$((40+2))\n"})
    await wait_text(qmp, "^logged-42$")
    await wait_text(qmp, r"\$ $")

    def log_has(text):
        with open(log, "rb") as f:
            return text in f.read()
    await until(lambda: log_has(b"logged-42\r\n"), "the log holds logged-42")
    removed = await run(qmp, "chardev-remove", {"id": "log1"})
    check(removed["x-vcmux-offset"] > added["x-vcmux-offset"], f"offsets {added} then {removed}")
    labels = {c["label"] for c in await run(qmp, "query-chardev")}
    check("log1" not in labels, f"query-chardev after chardev-remove: {labels}")
    await run(qmp, "x-vcmux-send-text", {"text": "echo after-$((1+1))\n"})
    await wait_text(qmp, "^after-2$")
    check(not log_has(b"after-2"), "the removed log got output after its removal")
    say(f"chardev-add file log1 (offset {added['x-vcmux-offset']}): it holds the typed command's "
        f"output; chardev-remove (offset {removed['x-vcmux-offset']}): nothing after")

    if "query-vnc" in names:
        listener = EventListener(("VNC_CONNECTED", "VNC_INITIALIZED", "VNC_DISCONNECTED"))
        with qmp.listen(listener):
            await rfb_handshake(f"{work}/vnc.sock")
            for name in ("VNC_CONNECTED", "VNC_INITIALIZED", "VNC_DISCONNECTED"):
                got = await event(listener, name)
                check("client" in got["data"] and "server" in got["data"], f"{name} data: {got['data']}")
        info = await run(qmp, "query-vnc")
        say(f"a raw RFB viewer on the unix socket: VNC_CONNECTED, VNC_INITIALIZED, VNC_DISCONNECTED; "
            f"query-vnc enabled={info.get('enabled')}")
    else:
        say("query-vnc is not listed by this vcmux: VNC events not checked (skipped)")

    mine, theirs = EventListener("SHUTDOWN"), EventListener("SHUTDOWN")
    with qmp.listen(mine), watcher.listen(theirs):
        check(await run(qmp, "quit") == {}, "quit's answer")
        for who, listener in (("this client", mine), ("the second client", theirs)):
            got = await event(listener, "SHUTDOWN")
            check(got["data"] == {"guest": False, "reason": "host-qmp-quit"}, f"SHUTDOWN to {who}: {got}")
    for client in (qmp, watcher):
        try:
            await within(client.disconnect(), "disconnecting")
        except EOFError:
            pass  # vcmux closed the connection first: expected after quit
    say("quit answered {}; SHUTDOWN (host-qmp-quit) reached both clients")


def main():
    try:
        asyncio.run(checks(sys.argv[1]))
    except Failed as e:
        say(f"FAIL: {e}")
        sys.exit(1)


if __name__ == "__main__":
    main()
