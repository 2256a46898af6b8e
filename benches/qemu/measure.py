#!/usr/bin/env python3
"""Bytes QEMU 7.2's VNC server sends for the 80x24 text screens of benches/rfb.rs.

For each text (the kernel log, the prose) and each encoding (Raw, Hextile, ZRLE),
a fresh QEMU runs guest.c, which prints the bench's first 24 lines on COM1 into
a vc at 80x24 (640x384). A Raw watcher waits until the screen shows the text;
then a viewer that asked for that one encoding only sends a non-incremental
FramebufferUpdateRequest as its first request, and the whole FramebufferUpdate
(header and every rectangle, as on the wire) is counted. Then a key makes the
guest print one more line, and the incremental updates until the viewer's
screen shows the scrolled text are counted.

    python3 benches/qemu/measure.py      (stdlib only; needs gcc, ld, qemu-system-i386)
"""

import re
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent / "rfb.rs"
COLS, ROWS, CELL_W, CELL_H = 80, 24, 8, 16
ENCODINGS = [("Raw", 0), ("Hextile", 5), ("ZRLE", 16)]
TIMEOUT = 60.0  # seconds any one wait may take


# --- The text, exactly as benches/rfb.rs lays it out ---------------------------

def rust_str(name):
    """The value of `const NAME: &str = "...";` in benches/rfb.rs."""
    body = re.search(r'const %s: &str = "(.*?)";' % name, BENCH.read_text(), re.S).group(1)
    body = re.sub(r"\\\n\s*", "", body)  # a Rust string continuation
    assert "\\" not in body and '"' not in body, "an escape measure.py does not know"
    return body


def kernel_lines():
    return [line[:COLS] for line in rust_str("KERNEL_LOG").split("\n")]


def prose_lines():
    lines = [""]
    for word in rust_str("PROSE").split(" "):
        if len(lines[-1]) + len(word) + 1 > COLS:
            lines.append(word)
        else:
            lines[-1] += (" " if lines[-1] else "") + word
    while len(lines) < ROWS + 1:
        lines += lines
    return lines


# --- The guest -------------------------------------------------------------------

def build_guest(lines, build):
    assert all(c.isascii() and c.isprintable() for line in lines for c in line)
    quoted = ",\n".join('    "%s"' % line.replace("\\", "\\\\").replace('"', '\\"') for line in lines)
    (build / "text.h").write_text(
        "#define SCREEN_ROWS %d\n#define LINES %d\nstatic const char *const lines[] = {\n%s\n};\n"
        % (ROWS, len(lines), quoted))
    obj, elf = build / "guest.o", build / "guest.elf"
    subprocess.run(["gcc", "-m32", "-ffreestanding", "-fno-pic", "-fno-pie", "-fno-stack-protector",
                    "-fno-asynchronous-unwind-tables", "-nostdlib", "-O2", "-Wall", "-I", str(build),
                    "-c", str(HERE / "guest.c"), "-o", str(obj)], check=True)
    subprocess.run(["ld", "-m", "elf_i386", "-T", str(HERE / "guest.ld"), "-o", str(elf), str(obj)],
                   check=True)
    return elf


def qemu(elf, sock, log):
    return subprocess.Popen(
        ["qemu-system-i386", "-nodefaults", "-display", "none", "-vga", "none", "-m", "32",
         "-kernel", str(elf), "-chardev", "vc,id=s0,cols=%d,rows=%d" % (COLS, ROWS),
         "-serial", "chardev:s0", "-vnc", "unix:%s" % sock],
        stdin=subprocess.DEVNULL, stderr=log)


# --- A raw RFB 3.8 viewer that counts and decodes what it reads -------------------

class Viewer:
    def __init__(self, path, encoding):
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.settimeout(TIMEOUT)
                self.sock.connect(str(path))
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.read_bytes = 0
        self.inflate = zlib.decompressobj()
        assert self.read(12) == b"RFB 003.008\n"
        self.sock.sendall(b"RFB 003.008\n")
        assert 1 in self.read(self.read(1)[0]), "security type None"
        self.sock.sendall(b"\x01")
        assert self.u32() == 0, "security result"
        self.sock.sendall(b"\x01")  # shared
        self.width, self.height = struct.unpack(">HH", self.read(4))
        self.read(16)  # the server's pixel format
        self.name = self.read(self.u32())
        self.fb = bytearray(self.width * self.height * 4)
        # 32 bpp, depth 24, little-endian true colour, red 16 green 8 blue 0: bgra bytes.
        self.sock.sendall(b"\x00\x00\x00\x00" + struct.pack(">BBBBHHHBBB3x", 32, 24, 0, 1, 255, 255, 255,
                                                            16, 8, 0))
        self.sock.sendall(struct.pack(">BxHi", 2, 1, encoding))

    def read(self, n):
        data = bytearray()
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError("QEMU closed the connection")
            data += chunk
        self.read_bytes += n
        return bytes(data)

    def u8(self):
        return self.read(1)[0]

    def u32(self):
        return struct.unpack(">I", self.read(4))[0]

    def request(self, incremental):
        self.sock.sendall(struct.pack(">BBHHHH", 3, incremental, 0, 0, self.width, self.height))

    def key(self, keysym):
        for down in (1, 0):
            self.sock.sendall(struct.pack(">BBxxI", 4, down, keysym))

    def update(self):
        """Reads up to and including the next FramebufferUpdate, decoding it into
        self.fb. Returns (its bytes on the wire, its rectangles)."""
        while True:
            kind = self.u8()
            if kind == 0:
                break
            if kind == 2:  # Bell
                continue
            if kind == 3:  # ServerCutText
                self.read(3)
                self.read(self.u32())
                continue
            raise ValueError("server message type %d" % kind)
        start = self.read_bytes - 1
        self.read(1)
        rects = []
        for _ in range(struct.unpack(">H", self.read(2))[0]):
            x, y, w, h, encoding = struct.unpack(">HHHHi", self.read(12))
            {0: self.raw, 5: self.hextile, 16: self.zrle}[encoding](x, y, w, h)
            rects.append((x, y, w, h, encoding))
        return self.read_bytes - start, rects

    def put(self, x, y, w, h, pixels):
        """Puts w*h 4-byte pixels, row by row, at (x, y)."""
        for row in range(h):
            at = ((y + row) * self.width + x) * 4
            self.fb[at:at + w * 4] = pixels[row * w * 4:(row + 1) * w * 4]

    def raw(self, x, y, w, h):
        self.put(x, y, w, h, self.read(w * h * 4))

    def hextile(self, x, y, w, h):
        background = foreground = b"\0\0\0\0"
        for ty in range(y, y + h, 16):
            for tx in range(x, x + w, 16):
                tw, th = min(16, x + w - tx), min(16, y + h - ty)
                mask = self.u8()
                if mask & 1:  # Raw
                    self.put(tx, ty, tw, th, self.read(tw * th * 4))
                    continue
                if mask & 2:
                    background = self.read(4)
                self.put(tx, ty, tw, th, background * (tw * th))
                if mask & 4:
                    foreground = self.read(4)
                if mask & 8:
                    for _ in range(self.u8()):
                        colour = self.read(4) if mask & 16 else foreground
                        xy, wh = self.u8(), self.u8()
                        sw, sh = (wh >> 4) + 1, (wh & 15) + 1
                        self.put(tx + (xy >> 4), ty + (xy & 15), sw, sh, colour * (sw * sh))

    def zrle(self, x, y, w, h):
        data = self.inflate.decompress(self.read(self.u32()))
        at = 0

        def cpixels(n):  # CPIXELs are the 3 low bytes of the 32-bit pixel
            nonlocal at
            at += 3 * n
            return [data[i:i + 3] + b"\0" for i in range(at - 3 * n, at, 3)]

        def run():
            nonlocal at
            length = 1
            while data[at] == 255:
                length += 255
                at += 1
            length += data[at]
            at += 1
            return length

        for ty in range(y, y + h, 64):
            for tx in range(x, x + w, 64):
                tw, th = min(64, x + w - tx), min(64, y + h - ty)
                kind = data[at]
                at += 1
                if kind == 0:
                    pixels = cpixels(tw * th)
                elif kind == 1:
                    pixels = cpixels(1) * (tw * th)
                elif kind <= 16:  # packed palette
                    palette = cpixels(kind)
                    bits = 1 if kind == 2 else 2 if kind <= 4 else 4
                    pixels = []
                    for _ in range(th):
                        row_bytes = (tw * bits + 7) // 8
                        word = int.from_bytes(data[at:at + row_bytes], "big")
                        at += row_bytes
                        shift = row_bytes * 8
                        for _ in range(tw):
                            shift -= bits
                            pixels.append(palette[(word >> shift) & ((1 << bits) - 1)])
                elif kind == 128:  # plain RLE
                    pixels = []
                    while len(pixels) < tw * th:
                        pixel = cpixels(1)[0]
                        pixels += [pixel] * run()
                elif kind >= 130:  # palette RLE
                    palette = cpixels(kind - 128)
                    pixels = []
                    while len(pixels) < tw * th:
                        index = data[at]
                        at += 1
                        pixels += [palette[index & 127]] * (run() if index & 128 else 1)
                else:
                    raise ValueError("ZRLE subencoding %d" % kind)
                assert len(pixels) == tw * th
                self.put(tx, ty, tw, th, b"".join(pixels))
        assert at == len(data), "ZRLE rectangle not consumed exactly"

    def shows(self, lines):
        """Whether the screen shows `lines` (24 of them): a cell has ink exactly
        where its character is not a space. The cursor's cell (after the last
        line's text, QEMU draws it inverted and blinking) is not looked at. Ink is
        any colour but black; the fourth byte (QEMU sends 0xff in Raw) is padding."""
        cursor = (ROWS - 1, min(len(lines[-1]), COLS - 1))
        stride = self.width * 4
        for row, line in enumerate(lines):
            line = line.ljust(COLS)
            for col in range(COLS):
                if (row, col) == cursor:
                    continue
                at = row * CELL_H * stride + col * CELL_W * 4
                cell = (self.fb[at + y * stride:at + y * stride + CELL_W * 4] for y in range(CELL_H))
                ink = any(row_of_cell[c::4].strip(b"\0") for row_of_cell in cell for c in range(3))
                if ink != (line[col] != " "):
                    return False
        return True


def until(condition, what):
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


# --- The measurement ----------------------------------------------------------------

def measure(elf, lines, encoding, tmp):
    """(full screen bytes, its rectangles, scroll bytes, their rectangles, scroll
    updates, screen size) for one encoding."""
    sock, log = tmp / "vnc.sock", open(tmp / "qemu.log", "w+")
    process = qemu(elf, sock, log)
    try:
        # Wait, with a Raw watcher, until the guest's 24 lines are on the screen.
        watcher = Viewer(sock, 0)

        def text_shown():
            watcher.request(0)
            watcher.update()
            return watcher.shows(lines[:ROWS])

        until(text_shown, "QEMU's screen never showed the text")
        watcher.sock.close()

        # The measured viewer: its first request, and the first data on its zlib stream.
        viewer = Viewer(sock, encoding)
        size = (viewer.width, viewer.height)
        viewer.request(0)
        full, full_rects = viewer.update()
        assert viewer.shows(lines[:ROWS]), "the full-screen update does not decode to the text"

        # One more line: a key goes through QEMU's vc to COM1, and the guest prints.
        viewer.key(ord("a"))
        scroll = updates = scroll_rects = 0
        scrolled = lines[1:ROWS + 1]
        while not viewer.shows(scrolled):
            viewer.request(1)
            sent, rects = viewer.update()
            scroll += sent
            updates += 1
            scroll_rects += len(rects)
        viewer.sock.close()
        return full, len(full_rects), scroll, scroll_rects, updates, size
    except BaseException:
        log.seek(0)
        sys.stderr.write(log.read())
        raise
    finally:
        process.terminate()
        process.wait()
        log.close()


def main():
    print("QEMU %s" % subprocess.run(["qemu-system-i386", "--version"], capture_output=True,
                                      text=True).stdout.split("\n")[0].split("version ")[1])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, lines in [("kernel log", kernel_lines()), ("prose", prose_lines())]:
            elf = build_guest(lines, tmp)
            for label, encoding in ENCODINGS:
                rows.append((name, label) + measure(elf, lines, encoding, tmp))
    size = rows[0][-1]
    print()
    print("Bytes on the wire from QEMU's VNC server, 80x24 vc (%dx%d), 32 bpp, one encoding, no CopyRect"
          % size)
    print("| text | encoding | full screen | rectangles | scroll | rectangles | updates |")
    print("|---|---|---|---|---|---|---|")
    for name, label, full, full_rects, scroll, scroll_rects, updates, _ in rows:
        print("| %s | %s | %.1f KB (%d) | %d | %.1f KB (%d) | %d | %d |"
              % (name, label, full / 1000, full, full_rects, scroll / 1000, scroll, scroll_rects, updates))


if __name__ == "__main__":
    main()
