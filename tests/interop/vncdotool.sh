#!/usr/bin/env bash
# vncdotool (Raw only, plus DesktopSize, LastRect, QEMU extended keys) against
# the demo server: its captures must be pixel-identical to the server's
# framebuffer, before and after typing; with VNC authentication, the right
# password works and a wrong one fails.
source "$(dirname "$0")/common.sh"
need_apt fonts-dejavu-core
need_pip vncdotool vncdotool
need_pip PIL pillow

capture_matches() {
    # The demo paints a key after the viewer sends it: capture until it shows.
    local end=$((SECONDS + DEADLINE))
    until timeout 30 vncdo -s "127.0.0.1::$PORT" "$@" capture "$WORK/capture.png" >/dev/null 2>&1 \
        && compare "$WORK/capture.png" "$WORK/expected.ppm" >"$WORK/compare.txt"; do
        ((SECONDS < end)) || { cat "$WORK/compare.txt" 2>/dev/null; fail "vncdotool's capture never matched"; }
        sleep 0.2
    done
    say "$(cat "$WORK/compare.txt")"
}

say "security None"
start_demo
capture_matches
timeout 30 vncdo -s "127.0.0.1::$PORT" type "ab" || fail "vncdo type"
wait_for "the keys reach the server" grep -q "key 0x62" "$DEMO_LOG"
capture_matches
say "typed 'ab': the screen scrolled twice and the capture still matches"
stop_demo

say "VNC authentication"
echo "s3cret" >"$WORK/password"
start_demo --password-file "$WORK/password"
capture_matches -p s3cret
if timeout 30 vncdo -s "127.0.0.1::$PORT" -p wrong capture "$WORK/wrong.png" >/dev/null 2>&1; then
    fail "a wrong password was accepted"
fi
grep -q "authentication failed" "$DEMO_LOG" || fail "no log line for the wrong password"
say "a wrong password is refused"
say "PASS"
