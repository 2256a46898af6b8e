#!/usr/bin/env bash
# noVNC 1.7 (npm @novnc/novnc, core only) in headless Chromium, driven by
# playwright-core, straight to vcmux's WebSocket port (no websockify): a command
# typed through it runs, and its canvas is pixel-identical to `vcmux render` of
# the console's bytes; then a second Tight page joins the first's group during a
# flood of full-colour screens (past pako's 100 KB buffer), both pixel-exact.
source "$(dirname "$0")/common.sh"
need_apt chromium
need_pip PIL pillow
command -v npm >/dev/null || need_apt nodejs npm
need_npm

start_vcmux
# The page and noVNC's modules, from a loopback HTTP server on a free port.
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$INTEROP_DIR" >"$WORK/http.log" 2>&1 &
PIDS+=($!)
wait_for "the page server listens" grep -q "Serving HTTP" "$WORK/http.log"
HTTP_PORT=$(grep -m1 -o "port [0-9]*" "$WORK/http.log" | cut -d' ' -f2)
node "$INTEROP_DIR/novnc.mjs" "$WS_PORT" "$WORK" "$VCMUX" "$HTTP_PORT" || fail "noVNC (log: $VCMUX_LOG)"
say "PASS"
