#!/usr/bin/env python3
"""Compares a viewer's picture with what `vcmux render` shows, pixel for pixel.

compare.py CAPTURE EXPECTED [X Y]: CAPTURE (any format Pillow reads) must show
EXPECTED (vcmux render's PNG of the console's bytes) exactly, at (X, Y) if given. Prints what it compared;
exits 0 when identical, 1 otherwise.
"""
import sys

from PIL import Image


def main():
    capture = Image.open(sys.argv[1]).convert("RGB")
    expected = Image.open(sys.argv[2]).convert("RGB")
    x, y = (int(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) > 4 else (0, 0)
    w, h = expected.size
    if x + w > capture.width or y + h > capture.height:
        print(f"capture {capture.width}x{capture.height} cannot hold {w}x{h} at ({x},{y})")
        return 1
    got = capture.crop((x, y, x + w, y + h))
    got_px, want_px = got.load(), expected.load()
    diffs = [(i, j) for j in range(h) for i in range(w) if got_px[i, j] != want_px[i, j]]
    if not diffs:
        print(f"compared {w}x{h} pixels at ({x},{y}): identical")
        return 0
    i, j = diffs[0]
    print(f"compared {w}x{h} pixels at ({x},{y}): {len(diffs)} differ; first at ({i},{j}): "
          f"got {got_px[i, j]}, want {want_px[i, j]}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
