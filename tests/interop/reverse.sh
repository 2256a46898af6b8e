#!/usr/bin/env bash
# A reverse connection (-vnc 127.0.0.1:PORT,reverse=on) to TigerVNC's viewer
# listening under Xvfb (xtigervncviewer -listen PORT): vcmux dials it, its
# window shows what `vcmux render` makes of the console's bytes, pixel for
# pixel, and a command typed into it runs. Then the viewer goes away and
# vcmux logs that it dials again; a new viewer listening on the same port
# receives the console again, the same pixels. Then with a password: the
# listening viewer is asked for it as any viewer is (TigerVNC's password file
# gets it in). (TLS is not tried here: TigerVNC 1.12 crashes in listen mode
# with X509 types, its issue 1440; tests/tls.rs runs reverse=on with TLS.)
source "$(dirname "$0")/common.sh"
need_apt tigervnc-viewer xvfb xdotool imagemagick
need_pip PIL pillow
need_pip vncdotool vncdotool

start_xvfb
show_last() { cat "$WORK/compare.txt" 2>/dev/null || true; }
trap 'status=$?; show_last; cleanup "$status"' EXIT

LISTEN=$(free_port 5500)
# Listens on LISTEN for vcmux to dial, with the viewer options "$@"
# (default: -SecurityTypes=None); sets VIEWER.
listen_viewer() {
    (($#)) || set -- -SecurityTypes=None
    xtigervncviewer -listen "$LISTEN" "$@" -FullScreen=0 -RemoteResize=0 >"$WORK/viewer.log" 2>&1 &
    VIEWER=$!
    PIDS+=($VIEWER)
    wait_for "the viewer listens on $LISTEN" bash -c "ss -ltn | grep -q ':$LISTEN '"
}
# Waits for vcmux's window in the viewer; sets WINDOW.
wait_window() {
    wait_for "the viewer's window appears ($(tail -1 "$WORK/viewer.log"))" xdotool search --name "vcmux vc0"
    WINDOW=$(xdotool search --name "vcmux vc0" | head -1)
}

listen_viewer
start_vcmux_reverse "$LISTEN"
wait_window
wait_for "vcmux logs the connection" grep -q "reverse connection: connected to the viewer listening at 127.0.0.1:$LISTEN" "$VCMUX_LOG"
wait_for "the window shows the console" window_matches
say "reverse: window $(cat "$WORK/compare.txt")"
xdotool windowactivate --sync "$WINDOW" 2>/dev/null || xdotool windowfocus --sync "$WINDOW" 2>/dev/null || true
xdotool type --window "$WINDOW" --delay 30 "echo reverse-\$((6 * 7))"
xdotool key --window "$WINDOW" Return
wait_output "^reverse-42"
wait_for "the window shows the command's output" window_matches
say "reverse: after typing a command: $(cat "$WORK/compare.txt")"

# The viewer goes away; vcmux says so and dials again until one listens.
kill "$VIEWER"
wait "$VIEWER" 2>/dev/null || true
wait_for "vcmux logs the end" grep -q "reverse connection to 127.0.0.1:$LISTEN ended; dialling again" "$VCMUX_LOG"
wait_for "vcmux logs a failed dial" grep -q "cannot reach a viewer listening at 127.0.0.1:$LISTEN" "$VCMUX_LOG"
say "viewer gone: $(grep -o 'cannot reach a viewer.*' "$VCMUX_LOG" | head -1)"
listen_viewer
wait_window
wait_for "the second viewer shows the console" window_matches
say "reverse, after the viewer came back: window $(cat "$WORK/compare.txt")"
[ "$(grep -c 'reverse connection: connected to the viewer' "$VCMUX_LOG")" -eq 2 ] ||
    fail "vcmux should have connected twice: $(grep 'reverse connection' "$VCMUX_LOG")"
kill "$VIEWER"
stop_vcmux

say "VNC authentication"
echo "s3cret" >"$WORK/password"
tiger_password_file s3cret "$WORK/tiger-right"
listen_viewer -SecurityTypes=VncAuth -passwd "$WORK/tiger-right"
start_vcmux_reverse "$LISTEN" "password-file=$WORK/password"
wait_window
wait_for "the window shows the console" window_matches
grep -q "vnc: initialized: viewer .* from 127.0.0.1:$LISTEN (read-write)" "$VCMUX_LOG" ||
    fail "no audit line for the viewer: $(grep 'vnc:' "$VCMUX_LOG")"
say "with the password: window $(cat "$WORK/compare.txt")"
stop_vcmux
say "PASS"
