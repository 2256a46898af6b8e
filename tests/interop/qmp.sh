#!/usr/bin/env bash
# qemu.qmp (the QEMU project's QMP library, from PyPI, pinned) against vcmux's
# control socket: vcmux runs bash in an 80x24 vc with -vnc on a unix socket and
# -qmp, and qmp.py drives it through QMPClient (queries, typing, waits and their
# timeout errors, screendumps, a file backend added and removed, VNC events when
# listed, quit and SHUTDOWN); then vcmux must exit within the deadline.
source "$(dirname "$0")/common.sh"
QEMU_QMP=0.0.6
need_venv
python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('qemu.qmp') != '$QEMU_QMP')" 2>/dev/null || {
    say "installing qemu.qmp==$QEMU_QMP"
    python3 -m pip install -q "qemu.qmp==$QEMU_QMP"
}
need_pip PIL pillow
(cd "$REPO_DIR" && cargo build --release --quiet)

VCMUX_LOG="$WORK/vcmux.log"
# A history of its own: bash -i writes one as it exits.
PS1='$ ' HISTFILE="$WORK/history" "$VCMUX" -chardev vc,id=vc0,cols=80,rows=24 -vnc "unix:$WORK/vnc.sock" \
    -qmp "unix:$WORK/qmp.sock,server=on,wait=off" -- bash --norc --noprofile -i 2>"$VCMUX_LOG" &
VCMUX_PID=$!
PIDS+=($VCMUX_PID)
wait_for "vcmux serves QMP" grep -q "control socket (QMP): listening on" "$VCMUX_LOG"
say "vcmux (pid $VCMUX_PID) serving bash, -qmp unix:$WORK/qmp.sock"

python3 "$INTEROP_DIR/qmp.py" "$WORK" || fail "qmp.py (vcmux's log: $VCMUX_LOG)"

# quit stops vcmux as SIGTERM does (bash is hung up), but the stop was asked for: exit 0, as QEMU.
# Exited: a zombie until it is waited for (kill -0 would still find it).
exited() { [ ! -e "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }
wait_for "vcmux exits after quit" exited "$VCMUX_PID"
status=0
wait "$VCMUX_PID" || status=$?
((status == 0)) || fail "vcmux exited with $status after quit; expected 0, as QEMU"
say "vcmux exited 0 after quit, as QEMU (bash, hung up, ended with 129)"
say "PASS"
