#!/usr/bin/env bash
# The browser client vcmux serves itself: headless Chromium (playwright-core)
# opens SCHEME://127.0.0.1:WS_PORT/, noVNC's page compiled into vcmux, with no
# file from elsewhere; it connects at once, its canvas equals `vcmux render` of
# the console's bytes, and keys typed into it run. Then share links made with
# `vcmux ctl share`: a view-only link's page cannot type (the shell receives
# nothing, checked), `unshare` disconnects its page within a second, and an
# expired link's page is refused.
#
#   novnc-served.sh [http|https]     (no argument: both, one after the other)
#
# https: vcmux serves the port over TLS with certificates from `vcmux certs`
# (tls-creds=), and Chromium trusts their CA through the NSS database of a
# HOME of its own (certutil), as a person's browser would after importing
# ca-cert.pem: the page and its WebSocket (wss://) are verified, nothing
# ignores certificate errors; a Chromium without the CA refuses the page.
source "$(dirname "$0")/common.sh"
if (($# == 0)); then
    "$0" http && "$0" https
    exit
fi
MODE="$1"
[[ "$MODE" == http || "$MODE" == https ]] || fail "usage: novnc-served.sh [http|https]"
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
TLS_PRE=()
TLS_OPTION=""
BROWSER_HOME=""
if [[ "$MODE" == https ]]; then
    "$VCMUX" certs "$WORK/pki" --name 127.0.0.1 --name localhost >/dev/null
    TLS_PRE=(-object "tls-creds-x509,id=tls0,dir=$WORK/pki,endpoint=server,verify-peer=off")
    TLS_OPTION=",tls-creds=tls0"
    BROWSER_HOME="$WORK/home"
    trusting_home "$BROWSER_HOME" "$WORK/pki/ca-cert.pem"
fi
RUST_LOG=info PS1='$ ' ENV=/dev/null "$VCMUX" "${TLS_PRE[@]}" -chardev vc,id=vc0 -chardev "file,id=log,path=$WORK/console.log" \
    -vnc "127.0.0.1:$((PORT - 5900)),websocket=$WS_PORT$TLS_OPTION" -qmp "unix:$QMP,server=on,wait=off" -- sh 2>"$VCMUX_LOG" &
PIDS+=($!)
wait_for "vcmux serves the page" grep -q "in a browser: $MODE://127.0.0.1:$WS_PORT/" "$VCMUX_LOG"
wait_for "the shell prompts" grep -q '\$ ' "$WORK/console.log"
say "vcmux serves its page on $MODE://127.0.0.1:$WS_PORT/"
node "$INTEROP_DIR/novnc-served.mjs" "$MODE" "$WS_PORT" "$WORK" "$VCMUX" "$QMP" $BROWSER_HOME \
    || fail "noVNC served by vcmux over $MODE (log: $VCMUX_LOG)"
say "PASS ($MODE)"
