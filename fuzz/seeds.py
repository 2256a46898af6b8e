#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/seed-*):
small real exchanges each target starts from. Run from anywhere; the files it
writes are committed, so this only needs running again when a seed changes.
What the fuzzer adds next to them (files named by their SHA-1) is not kept."""

import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    directory = os.path.join(HERE, "corpus", target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "seed-" + name), "wb") as f:
        f.write(data)


# --- RFB client messages (RFC 6143 7.5) -------------------------------------


def pixel_format(bpp, depth, big, true_colour, maxes, shifts):
    return struct.pack(">BBBBHHHBBB3x", bpp, depth, big, true_colour, *maxes, *shifts)


def set_pixel_format(fmt):
    return b"\x00\x00\x00\x00" + fmt


def set_encodings(*encodings):
    return struct.pack(">BxH", 2, len(encodings)) + b"".join(struct.pack(">i", e) for e in encodings)


def update_request(incremental, x, y, w, h):
    return struct.pack(">BBHHHH", 3, incremental, x, y, w, h)


def key(down, keysym):
    return struct.pack(">BBxxI", 4, down, keysym)


def pointer(buttons, x, y):
    return struct.pack(">BBHH", 5, buttons, x, y)


def cut_text(text):
    return struct.pack(">BxxxI", 6, len(text)) + text


def set_desktop_size(w, h, screens=1):
    layout = b"".join(struct.pack(">IHHHHI", i, 0, 0, w, h, 0) for i in range(screens))
    return struct.pack(">BxHHBx", 251, w, h, screens) + layout


def qemu_key(down, keysym, keycode):
    return struct.pack(">BBHII", 255, 0, down, keysym, keycode)


RAW, COPY_RECT, HEXTILE, TIGHT, ZRLE = 0, 1, 5, 7, 16
DESKTOP_SIZE, EXTENDED_DESKTOP_SIZE, QEMU_EXTENDED_KEY, LAST_RECT = -223, -308, -258, -224
TRUE_COLOUR_32 = pixel_format(32, 24, 0, 1, (255, 255, 255), (16, 8, 0))
RGB565_BE = pixel_format(16, 16, 1, 1, (31, 63, 31), (11, 5, 0))
BGR233 = pixel_format(8, 8, 0, 1, (7, 7, 3), (0, 3, 6))

session = (
    set_pixel_format(TRUE_COLOUR_32)
    + set_encodings(ZRLE, TIGHT, HEXTILE, COPY_RECT, RAW, EXTENDED_DESKTOP_SIZE, QEMU_EXTENDED_KEY, DESKTOP_SIZE)
    + update_request(0, 0, 0, 64, 32)
    + key(1, ord("a"))
    + key(0, ord("a"))
    + key(1, 0xFF0D)
    + key(0, 0xFF0D)
    + pointer(1, 10, 10)
    + pointer(0, 12, 11)
    + cut_text(b"hello")
    + update_request(1, 0, 0, 64, 32)
)

# The mode byte (fuzz_targets/rfb.rs): bits 0-1 version (3.3, 3.7, 3.8),
# 2-3 auth (none, password, view-only password), 4 shared, 5 a real vc, 7 raw.
V33, V37, V38 = 0, 1, 2
NONE, PASSWORD, VIEW_ONLY = 0 << 2, 1 << 2, 2 << 2
SHARED, TERMINAL, RAW_MODE = 0x10, 0x20, 0x80

write("rfb", "38-none-session", bytes([V38 | NONE | SHARED]) + session)
write("rfb", "33-password-session", bytes([V33 | PASSWORD | SHARED]) + session)
write("rfb", "37-viewonly-session", bytes([V37 | VIEW_ONLY]) + session)
write(
    "rfb",
    "38-terminal-typing",
    bytes([V38 | SHARED | TERMINAL])
    + set_encodings(ZRLE, COPY_RECT, QEMU_EXTENDED_KEY)
    + update_request(0, 0, 0, 200, 200)
    + b"".join(key(1, c) + key(0, c) for c in b"ls -l")
    + qemu_key(1, 0xFF0D, 0x1C)
    + qemu_key(0, 0xFF0D, 0x1C)
    + pointer(8, 5, 5)
    + pointer(16, 5, 5)
    + cut_text(b"pasted text")
    + key(1, 0xFFE1)
    + key(1, 0xFF63)
    + key(0, 0xFF63)
    + key(0, 0xFFE1)
    + update_request(1, 0, 0, 200, 200),
)
write(
    "rfb",
    "38-formats-resize",
    bytes([V38 | SHARED])
    + set_encodings(TIGHT, HEXTILE, RAW, EXTENDED_DESKTOP_SIZE, LAST_RECT)
    + set_pixel_format(RGB565_BE)
    + update_request(0, 0, 0, 64, 32)
    + set_pixel_format(BGR233)
    + update_request(0, 8, 8, 16, 16)
    + set_desktop_size(100, 50)
    + update_request(1, 0, 0, 100, 50),
)
write(
    "rfb",
    "38-terminal-resize",
    bytes([V38 | SHARED | TERMINAL])
    + set_encodings(ZRLE, EXTENDED_DESKTOP_SIZE)
    + set_desktop_size(300, 120)
    + update_request(0, 0, 0, 300, 120),
)
write("rfb", "raw-handshake", bytes([RAW_MODE | V38]) + b"RFB 003.008\n\x01\x01" + session)
write("rfb", "raw-handshake-33", bytes([RAW_MODE]) + b"RFB 003.003\n\x00" + update_request(0, 0, 0, 64, 32))

# --- WebSocket (RFC 6455) ----------------------------------------------------

UPGRADE = (
    b"GET /websockify HTTP/1.1\r\n"
    b"Host: 127.0.0.1:5700\r\n"
    b"Upgrade: websocket\r\n"
    b"Connection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\n"
    b"Sec-WebSocket-Protocol: binary, base64\r\n"
    b"\r\n"
)


def frame(opcode, payload, fin=True, mask=b"\x37\xfa\x21\x3d"):
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 1 << 16:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


BINARY, TEXT, CONTINUATION, CLOSE, PING, PONG = 2, 1, 0, 8, 9, 10
handshake = b"RFB 003.008\n" + b"\x01" + b"\x01"
# Mode byte (fuzz_targets/websocket.rs): even, frames alone (as after the
# upgrade, so no request); odd, the HTTP request and then RFB inside.
write("websocket", "stream-frames", b"\x00" + frame(BINARY, b"hello") + frame(PING, b"p") + frame(CLOSE, b"\x03\xe8"))
write(
    "websocket",
    "rfb-session",
    b"\x01" + UPGRADE + frame(BINARY, handshake) + frame(BINARY, session) + frame(CLOSE, b"\x03\xe8"),
)
write(
    "websocket",
    "rfb-fragmented",
    b"\x01"
    + UPGRADE
    + frame(BINARY, handshake[:5], fin=False)
    + frame(PING, b"")
    + frame(CONTINUATION, handshake[5:], fin=True)
    + frame(BINARY, session, mask=b"\x00\x00\x00\x00")
    + frame(BINARY, cut_text(b"x" * 300)),
)
write("websocket", "text-frame", b"\x00" + frame(TEXT, b"RFB 003.008\n"))
write("websocket", "unmasked", b"\x00" + b"\x82\x05hello")

# --- Command lines (README examples), NUL-separated ---------------------------


def argv(*words):
    return b"".join(w.encode() + b"\0" for w in words)


write("options", "default", argv())
write("options", "help", argv("--help"))
write("options", "shared-shell", argv("-vnc", "0.0.0.0:1,password-file=rw.pass,viewonly-password-file=ro.pass", "--", "bash"))
write(
    "options",
    "qemu-vnc",
    argv(
        "-frontend", "socket,path=/tmp/ttyS0,reconnect=1",
        "-chardev", "hub,id=hub0,chardevs.0=vc0,chardevs.1=log",
        "-chardev", "vc,id=vc0,cols=120,rows=40",
        "-chardev", "file,id=log,path=guest.log",
        "-vnc", ":0,websocket=5700",
    ),
)
write(
    "options",
    "socket-shell",
    argv(
        "-chardev", "mux-be,id=mux0",
        "-chardev", "file,id=log,path=console.log,mux-be-id=mux0",
        "-chardev", "socket,id=s0,path=/tmp/console.sock,server=on,wait=off,mux-be-id=mux0",
        "--", "bash",
    ),
)
write(
    "options",
    "qemu-screen",
    argv(
        "-frontend", "socket,path=/tmp/ttyS0,reconnect=1",
        "-chardev", "hub,id=hub0,chardevs.0=log,chardevs.1=con",
        "-chardev", "file,id=log,path=guest.log,timestamps=on",
        "-chardev", "pty,id=con,path=/tmp/guest-console",
    ),
)
write(
    "options",
    "qmp-mon",
    argv(
        "-qmp", "unix:/tmp/vcmux.qmp,server=on,wait=off",
        "-chardev", "socket,id=mon0,host=127.0.0.1,port=4444,server=on,wait=off",
        "-mon", "chardev=mon0,mode=control",
        "-chardev", "asciicast,id=rec,path=session.cast,input=on",
        "-chardev", "vc,id=vc0,theme=xterm,font-size=18,scrollback=500",
        "-vnc", "unix:/tmp/vnc.sock,display=vc0,share=force-shared,view-only=on",
        "--", "sh", "-c", "echo hi",
    ),
)
write("options", "render", argv("render", "guest.log", "--strip-timestamps", "-o", "out.png"))
write("options", "screenshot", argv("screenshot", ":0", "-o", "shell.png"))
write("options", "ctl", argv("ctl", "unix:/tmp/vcmux.qmp", "wait-for-text", "login:", "--timeout", "5"))

# --- QMP (tests/control.rs) ---------------------------------------------------


def qmp(*requests):
    return b"".join(json.dumps(r).encode() + b"\n" for r in requests)


def ex(command, arguments=None, id=None):
    r = {"execute": command}
    if arguments is not None:
        r["arguments"] = arguments
    if id is not None:
        r["id"] = id
    return r


CAPS = ex("qmp_capabilities", {}, "caps")
# The first byte is the piece size the decoder is also fed in (fuzz_targets/qmp.rs).
write(
    "qmp",
    "queries",
    b"\x07"
    + qmp(CAPS, ex("query-version", {}, 1), ex("query-status"), ex("query-commands"), ex("query-chardev"), ex("query-vnc"), ex("query-vnc-servers")),
)
write(
    "qmp",
    "screendumps",
    b"\x03"
    + qmp(
        CAPS,
        ex("screendump", {"filename": "/tmp/x.txt", "format": "txt"}),
        ex("screendump", {"filename": "/tmp/x.ansi", "format": "ansi", "device": "vc0"}),
        ex("screendump", {"filename": "/tmp/x.png", "format": "png", "head": 0}),
    ),
)
write(
    "qmp",
    "typing-and-waits",
    b"\x0f"
    + qmp(
        CAPS,
        ex("x-vcmux-send-text", {"text": "ls -l\n"}),
        ex("send-key", {"keys": [{"type": "qcode", "data": "ctrl"}, {"type": "qcode", "data": "alt"}, {"type": "qcode", "data": "delete"}]}),
        ex("x-vcmux-mark-output", {}),
        ex("x-vcmux-wait-for-text", {"pattern": ["password:", "log(in):"], "timeout": 5}),
        ex("x-vcmux-wait-for-text", {"pattern": "^boot$", "mode": "screen", "timeout": 0.5}),
    ),
)
write(
    "qmp",
    "chardevs",
    b"\x01"
    + qmp(
        CAPS,
        ex("chardev-add", {"id": "log3", "backend": {"type": "file", "data": {"out": "/tmp/3.log"}}}),
        ex("chardev-add", {"id": "p", "backend": {"type": "pty", "data": {}}}),
        ex("chardev-add", {"id": "s", "backend": {"type": "socket", "data": {"addr": {"type": "unix", "data": {"path": "/tmp/s.sock"}}, "server": True, "wait": False}}}),
        ex("chardev-remove", {"id": "p"}),
    ),
)
write(
    "qmp",
    "malformed",
    b"\x05"
    + b'{"execute": ]\n'
    + b"[1, 2]\n"
    + b'{"arguments": {}}\n'
    + b'{"execute": "quit", "extra": 1}\n'
    + b'{"execute": "query-status"}\n'
    + qmp(CAPS, CAPS, ex("no-such-command"), ex("quit", {}, "bye")),
)
