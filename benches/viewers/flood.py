"""Redraws a full 80x24 screen of random prose as fast as the terminal takes it.

The workload of `cargo bench --bench viewers` (benches/viewers.rs), run the
same way under vcmux and under xterm in Xvnc. Each byte typed toggles a marker
(the top-left cell on a red background), which the bench's latency probe waits
for in the pixels.
"""

import os
import random
import select
import tty

WORDS = (
    "the console of a virtual machine is one byte stream which vcmux fans out to "
    "a terminal served over VNC to sockets to a log and to a recording while what "
    "anyone types goes back in kernel boot messages scroll past as the guest starts "
    "its services and a login prompt waits for the operator who watches from far away "
    "with colleagues in an incident channel or a class following an instructor"
).split()

COLS, ROWS = 80, 24


def main():
    tty.setraw(0)
    rng = random.Random(17)
    pool = " ".join(rng.choice(WORDS) for _ in range(40000))
    out = 1
    os.write(out, b"\x1b[?25l\x1b[2J")
    typed = 0
    while True:
        ready, _, _ = select.select([0], [], [], 0)
        if ready:
            data = os.read(0, 256)
            if not data:
                return
            typed += len(data)
        at = rng.randrange(0, len(pool) - COLS * ROWS)
        text = pool[at : at + COLS * ROWS]
        lines = [text[i * COLS : (i + 1) * COLS] for i in range(ROWS)]
        first = "\x1b[41m \x1b[0m" if typed % 2 else " "
        lines[0] = first + lines[0][1:]
        os.write(out, ("\x1b[H" + "\r\n".join(lines)).encode())


if __name__ == "__main__":
    main()
