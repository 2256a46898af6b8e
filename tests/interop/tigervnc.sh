#!/usr/bin/env bash
# TigerVNC's viewer under Xvfb, once with each encoding it can prefer (Tight,
# its default, then ZRLE, Hextile, Raw; it always takes CopyRect too): its
# window must show the server's framebuffer pixel for pixel, before and after
# keys typed into it with xdotool.
source "$(dirname "$0")/common.sh"
need_apt tigervnc-viewer xvfb xdotool imagemagick fonts-dejavu-core
need_pip PIL pillow

start_demo
exec 3>"$WORK/display"
Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp -noreset >"$WORK/xvfb.log" 2>&1 &
PIDS+=($!)
wait_for "Xvfb starts" test -s "$WORK/display"
export DISPLAY=":$(head -1 "$WORK/display")"
say "Xvfb on $DISPLAY"

window_matches() {
    eval "$(xdotool getwindowgeometry --shell "$WINDOW")"
    import -window root "$WORK/screen.png" 2>/dev/null
    compare "$WORK/screen.png" "$WORK/expected.ppm" "$X" "$Y" >"$WORK/compare.txt"
}
show_last() { cat "$WORK/compare.txt" 2>/dev/null || true; }
trap 'show_last; cleanup' EXIT

for encoding in Tight ZRLE Hextile Raw; do
    xtigervncviewer -SecurityTypes=None -FullScreen=0 -RemoteResize=0 -AutoSelect=0 -FullColor=1 \
        -PreferredEncoding="$encoding" "127.0.0.1::$PORT" >"$WORK/viewer.log" 2>&1 &
    VIEWER=$!
    PIDS+=($VIEWER)
    wait_for "the viewer's window appears" xdotool search --name "vcmux rfb demo"
    WINDOW=$(xdotool search --name "vcmux rfb demo" | head -1)
    wait_for "$encoding: the window shows the framebuffer" window_matches
    say "$encoding: window $(cat "$WORK/compare.txt")"
    keys_before=$(grep -c "key 0x" "$DEMO_LOG" || true)
    xdotool windowactivate --sync "$WINDOW" 2>/dev/null || xdotool windowfocus --sync "$WINDOW" 2>/dev/null || true
    xdotool type --window "$WINDOW" --delay 50 "hi"
    wait_for "$encoding: the keys reach the server" test "$(grep -c "key 0x" "$DEMO_LOG")" -ge $((keys_before + 2))
    wait_for "$encoding: the window shows the scrolled framebuffer" window_matches
    say "$encoding: after typing 'hi': $(cat "$WORK/compare.txt")"
    kill "$VIEWER"
    wait_for "the viewer closes" bash -c "! xdotool search --name 'vcmux rfb demo'"
done
say "PASS"
