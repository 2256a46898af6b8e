#!/usr/bin/env bash
# TigerVNC's viewer under Xvfb showing vcmux's shell, once with each encoding it
# can prefer (Tight, its default, then ZRLE, Hextile, Raw; it always takes
# CopyRect too): commands typed into its window with xdotool run, and the
# window shows what `vcmux render` makes of the console's bytes, pixel for
# pixel, the last time a screen full of text. Then two Tight viewers share one
# encoding: the second joins the first's group during a flood of full-colour
# screens, and both windows end pixel-exact. Then with VNC authentication:
# TigerVNC's password file gets it in, and a wrong one does not.
source "$(dirname "$0")/common.sh"
need_apt tigervnc-viewer xvfb xdotool imagemagick
need_pip PIL pillow
need_pip vncdotool vncdotool

start_vcmux
start_xvfb
show_last() { cat "$WORK/compare.txt" 2>/dev/null || true; }
trap 'status=$?; show_last; cleanup "$status"' EXIT

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

say "two Tight viewers, the second joining during a flood"
tight_viewer() {
    xtigervncviewer -SecurityTypes=None -Shared=1 -FullScreen=0 -RemoteResize=0 -AutoSelect=0 -FullColor=1 \
        -PreferredEncoding=Tight "127.0.0.1::$PORT" >"$WORK/viewer-$1.log" 2>&1 &
    PIDS+=($!)
}
log_size() { stat -c %s "$WORK/console.log"; }
grown() { (($(log_size) > $1 + 1000000)); }
joins() { grep -c "joined a Tight group at a keyframe" "$VCMUX_LOG" || true; }
joined_since() { (($(joins) > $1)); }
departures() { grep -c "disconnected" "$VCMUX_LOG" || true; }
LEFT=$(departures)
# The window $1 on top, showing what vcmux render shows.
raised_matches() { WINDOW=$1; xdotool windowraise "$1" && window_matches; }
tight_viewer first
wait_for "the first viewer's window appears" xdotool search --name "vcmux vc0"
FIRST=$(xdotool search --name "vcmux vc0" | head -1)
WINDOW=$FIRST
wait_for "first: the window shows the console" window_matches
# Screens of spaces on random true-colour backgrounds (1920 colours each, so
# Tight goes in full colour) until the stop file appears (5000 at most, 200 MB).
cat >"$WORK/flood.sh" <<'SH'
i=0
while [ ! -e "$1" ] && [ $i -lt 5000 ]; do
    i=$((i + 1))
    awk -v s=$i 'BEGIN { srand(s); for (c = 0; c < 1920; c++) printf "\033[48;2;%d;%d;%dm ", rand() * 256, rand() * 256, rand() * 256; printf "\033[0m\n" }'
done
echo flood-done
SH
xdotool windowactivate --sync "$FIRST" 2>/dev/null || xdotool windowfocus --sync "$FIRST" 2>/dev/null || true
xdotool type --window "$FIRST" --delay 30 "sh $WORK/flood.sh $WORK/stop"
xdotool key --window "$FIRST" Return
FROM=$(log_size)
wait_for "a megabyte of colours before the join" grown "$FROM"
BEFORE=$(joins)
tight_viewer second
wait_for "the second viewer joins the group" joined_since "$BEFORE"
wait_for "the second viewer's window appears" bash -c "xdotool search --name 'vcmux vc0' | grep -vx $FIRST"
SECOND=$(xdotool search --name "vcmux vc0" | grep -vx "$FIRST" | head -1)
FROM=$(log_size)
wait_for "a megabyte of colours after the join" grown "$FROM"
touch "$WORK/stop"
wait_output "^flood-done"
wait_for "first: the window shows the console after the flood" raised_matches "$FIRST"
say "first, after the flood: $(cat "$WORK/compare.txt")"
wait_for "second: the window shows the console after the flood" raised_matches "$SECOND"
say "second, joined during the flood: $(cat "$WORK/compare.txt")"
xdotool windowactivate --sync "$SECOND" 2>/dev/null || xdotool windowfocus --sync "$SECOND" 2>/dev/null || true
xdotool type --window "$SECOND" --delay 30 "echo tiger-second"
xdotool key --window "$SECOND" Return
wait_output "^tiger-second"
wait_for "first: the window shows the second's command" raised_matches "$FIRST"
wait_for "second: the window shows its command" raised_matches "$SECOND"
say "both, after typing in the second: $(cat "$WORK/compare.txt")"
(($(departures) == LEFT)) || fail "a viewer was disconnected: $(grep disconnected "$VCMUX_LOG" | tail -2)"
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
