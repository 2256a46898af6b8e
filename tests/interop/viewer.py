#!/usr/bin/env python3
"""A VNC viewer that stays connected: vncdotool's API (a real RFB client, Raw
pixels) holding one connection for as long as it runs, driven by commands on
stdin, one a line, each answered with one line on stdout. qemu-boot.sh keeps it
open while QEMU is killed and started again, and asks it what it sees.

    viewer.py HOST::PORT

Commands:
    port                 its local TCP port (query-vnc's `service` for this viewer)
    match REF.png OUT    fetch incremental updates until this viewer's frame
                         equals REF (the server's screendump) pixel for pixel, then
                         save the frame to OUT: "match"; "differ N" (pixels) when
                         it does not within 30 s
    type TEXT            type TEXT, then Return: "typed"
    quit                 disconnect and exit: "bye"

Any failure (a connection lost, an update that never comes) ends it with a
non-zero status and the reason on stderr.
"""

import sys
import time

from PIL import Image, ImageChops
from vncdotool import api

TIMEOUT = 30


def differing_pixels(a, b):
    """How many pixels differ between two images (all of them if the sizes do)."""
    a, b = a.convert("RGB"), b.convert("RGB")
    if a.size != b.size:
        return max(a.width * a.height, b.width * b.height)
    diff = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v else 0)
    return diff.histogram()[255]


def main():
    client = api.connect(sys.argv[1], timeout=TIMEOUT)
    try:
        # The whole frame once; from then on only incremental updates.
        client.refreshScreen(incremental=False)
        for line in sys.stdin:
            command, _, rest = line.rstrip("\n").partition(" ")
            if command == "port":
                answer = str(client.protocol.transport.getHost().port)
            elif command == "match":
                reference, out = rest.split(" ", 1)
                answer = match(client, Image.open(reference), out)
            elif command == "type":
                for char in rest:
                    client.keyPress(char)
                client.keyPress("enter")
                answer = "typed"
            elif command == "quit":
                print("bye", flush=True)
                return
            else:
                sys.exit("viewer.py: unknown command: " + command)
            print(answer, flush=True)
    finally:
        client.disconnect()
        api.shutdown()


def match(client, reference, out):
    """Updates until the frame is the reference; the frame saved to OUT."""
    end = time.monotonic() + TIMEOUT
    while True:
        frame = client.protocol.screen.copy()
        missing = differing_pixels(frame, reference)
        if missing == 0:
            frame.save(out)
            return "match"
        if time.monotonic() > end:
            frame.save(out)
            return "differ %d" % missing
        # The frame differs, so the server owes this viewer an update: ask
        # for it (vncdotool sends nothing unasked) and wait until it is drawn.
        client.refreshScreen(incremental=True)


if __name__ == "__main__":
    main()
