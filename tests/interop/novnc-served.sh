#!/usr/bin/env bash
# The browser client vcmux serves itself: headless Chromium (playwright-core)
# opens http://127.0.0.1:WS_PORT/, noVNC's page compiled into vcmux, with no
# file from elsewhere; it connects at once, its canvas equals `vcmux render` of
# the console's bytes, and keys typed into it run. Then share links made with
# `vcmux ctl share`: a view-only link's page cannot type (the shell receives
# nothing, checked), `unshare` disconnects its page within a second, and an
# expired link's page is refused.
source "$(dirname "$0")/common.sh"
need_apt chromium
need_pip PIL pillow
command -v npm >/dev/null || need_apt nodejs npm
need_npm

(cd "$REPO_DIR" && cargo build --release --quiet)
PORT=$(free_port 5900)
WS_PORT=$(free_port 15700)
VCMUX_LOG="$WORK/vcmux.log"
QMP="$WORK/qmp.sock"
: >"$WORK/console.log"
RUST_LOG=info PS1='$ ' ENV=/dev/null "$VCMUX" -chardev vc,id=vc0 -chardev "file,id=log,path=$WORK/console.log" \
    -vnc "127.0.0.1:$((PORT - 5900)),websocket=$WS_PORT" -qmp "unix:$QMP,server=on,wait=off" -- sh 2>"$VCMUX_LOG" &
PIDS+=($!)
wait_for "vcmux serves the page" grep -q "in a browser: http://127.0.0.1:$WS_PORT/" "$VCMUX_LOG"
wait_for "the shell prompts" grep -q '\$ ' "$WORK/console.log"
say "vcmux serves its page on http://127.0.0.1:$WS_PORT/"
node "$INTEROP_DIR/novnc-served.mjs" "$WS_PORT" "$WORK" "$VCMUX" "$QMP" || fail "noVNC served by vcmux (log: $VCMUX_LOG)"
say "PASS"
