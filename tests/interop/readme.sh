#!/usr/bin/env bash
# Every recipe of README.md run as written (readme.py says how): installs what
# the recipes use, builds vcmux, and runs them.
source "$(dirname "$0")/common.sh"
need_apt qemu-system-x86 socat gcc binutils
need_pip vncdotool vncdotool
need_pip PIL pillow
(cd "$REPO_DIR" && cargo build --release --quiet)
python3 "$INTEROP_DIR/readme.py" "$@"
