#!/usr/bin/env bash
# TigerVNC's viewer under Xvfb showing vcmux's shell, once with each encoding it
# can prefer (Tight, its default, then ZRLE, Hextile, Raw; it always takes
# CopyRect too): commands typed into its window with xdotool run, and the
# window shows what `vcmux render` makes of the console's bytes, pixel for
# pixel, the last time a screen full of text. Then with VNC authentication: TigerVNC's password file gets it in, and
# a wrong one does not.
source "$(dirname "$0")/common.sh"
need_apt tigervnc-viewer xvfb xdotool imagemagick
need_pip PIL pillow
need_pip vncdotool vncdotool

start_vcmux
start_xvfb
show_last() { cat "$WORK/compare.txt" 2>/dev/null || true; }
trap 'show_last; cleanup' EXIT

for encoding in Tight ZRLE Hextile Raw; do
    xtigervncviewer -SecurityTypes=None -FullScreen=0 -RemoteResize=0 -AutoSelect=0 -FullColor=1 \
        -PreferredEncoding="$encoding" "127.0.0.1::$PORT" >"$WORK/viewer.log" 2>&1 &
    VIEWER=$!
    PIDS+=($VIEWER)
    wait_for "the viewer's window appears" xdotool search --name "vcmux vc0"
    WINDOW=$(xdotool search --name "vcmux vc0" | head -1)
    wait_for "$encoding: the window shows the console" window_matches
    grep -qi "pixels go as $encoding" "$VCMUX_LOG" || fail "$encoding: vcmux did not send $encoding"
    say "$encoding: window $(cat "$WORK/compare.txt")"
    xdotool windowactivate --sync "$WINDOW" 2>/dev/null || xdotool windowfocus --sync "$WINDOW" 2>/dev/null || true
    xdotool type --window "$WINDOW" --delay 30 "echo tiger-$encoding"
    xdotool key --window "$WINDOW" Return
    wait_output "^tiger-$encoding"
    wait_for "$encoding: the window shows the command's output" window_matches
    say "$encoding: after typing a command: $(cat "$WORK/compare.txt")"
    xdotool type --window "$WINDOW" --delay 30 "clear; ls -l /usr/bin | head -40; echo full-$encoding"
    xdotool key --window "$WINDOW" Return
    wait_output "^full-$encoding"
    wait_for "$encoding: the window shows a screen full of text" window_matches
    say "$encoding: a screen full of text: $(cat "$WORK/compare.txt")"
    kill "$VIEWER"
    wait_for "the viewer closes" bash -c "! xdotool search --name 'vcmux vc0'"
done
stop_vcmux

say "VNC authentication"
echo "s3cret" >"$WORK/password"
start_vcmux "password-file=$WORK/password"
tiger_password_file s3cret "$WORK/tiger-right"
tiger_password_file guess "$WORK/tiger-wrong"
xtigervncviewer -SecurityTypes=VncAuth -passwd "$WORK/tiger-wrong" "127.0.0.1::$PORT" >"$WORK/viewer-wrong.log" 2>&1 &
PIDS+=($!)
wait_for "the wrong password is refused" grep -q "authentication failed" "$VCMUX_LOG"
say "a wrong password is refused"
xtigervncviewer -SecurityTypes=VncAuth -passwd "$WORK/tiger-right" -FullScreen=0 -RemoteResize=0 \
    "127.0.0.1::$PORT" >"$WORK/viewer.log" 2>&1 &
PIDS+=($!)
wait_for "the viewer's window appears" xdotool search --name "vcmux vc0"
WINDOW=$(xdotool search --name "vcmux vc0" | head -1)
wait_for "with a password: the window shows the console" window_matches
say "with the password: window $(cat "$WORK/compare.txt")"
say "PASS"
