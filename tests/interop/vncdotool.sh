#!/usr/bin/env bash
# vncdotool (Raw only, plus DesktopSize, LastRect, QEMU extended keys) against
# vcmux serving a shell: its captures must be pixel-identical to `vcmux render`
# of the console's bytes (taken from a file backend), before and after it types
# a command; with VNC authentication, the right password works and a wrong one
# fails.
source "$(dirname "$0")/common.sh"
need_pip vncdotool vncdotool
need_pip PIL pillow

capture_matches() {
    # The shell may still be printing: capture and render until they agree.
    local end=$((SECONDS + DEADLINE))
    until timeout 30 vncdo -s "127.0.0.1::$PORT" "$@" capture "$WORK/capture.png" >/dev/null 2>&1 \
        && render_expected && compare "$WORK/capture.png" "$WORK/expected.png" >"$WORK/compare.txt"; do
        ((SECONDS < end)) || { cat "$WORK/compare.txt" 2>/dev/null; fail "vncdotool's capture never matched"; }
        sleep 0.2
    done
    say "$(cat "$WORK/compare.txt")"
}

say "security None"
start_vcmux
capture_matches
timeout 30 vncdo -s "127.0.0.1::$PORT" type "echo typed-by-vncdotool" key enter || fail "vncdo type"
wait_output "^typed-by-vncdotool"
capture_matches
say "typed a command: its output is on the screen and the capture matches vcmux render"
stop_vcmux

say "VNC authentication"
echo "s3cret" >"$WORK/password"
start_vcmux "password-file=$WORK/password"
capture_matches -p s3cret
if timeout 30 vncdo -s "127.0.0.1::$PORT" -p wrong capture "$WORK/wrong.png" >/dev/null 2>&1; then
    fail "a wrong password was accepted"
fi
grep -q "authentication failed" "$VCMUX_LOG" || fail "no log line for the wrong password"
say "a wrong password is refused"
say "PASS"
