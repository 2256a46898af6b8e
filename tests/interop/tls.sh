#!/usr/bin/env bash
# TigerVNC's viewer under Xvfb over VeNCrypt (TLS with X.509 certificates made
# by `vcmux certs`): with -SecurityTypes=X509None and -X509CA= the test CA it
# connects, its window shows what `vcmux render` makes of the console's bytes,
# pixel for pixel, and commands typed into it with xdotool run; with X509Vnc it
# connects with the password, inside TLS. A viewer given another CA does not
# connect: it asks whether to trust an unknown issuer, is told no, and vcmux's
# log says the viewer went away during the handshake. A plain viewer
# (-SecurityTypes=None) is refused, vcmux's log saying why.
source "$(dirname "$0")/common.sh"
need_apt tigervnc-viewer xvfb xdotool imagemagick
need_pip PIL pillow
need_pip vncdotool vncdotool

(cd "$REPO_DIR" && cargo build --release --quiet)
"$VCMUX" certs "$WORK/pki" --name 127.0.0.1 --name localhost >/dev/null
"$VCMUX" certs "$WORK/other" --name 127.0.0.1 --name localhost >/dev/null
# TigerVNC keeps accepted certificates and its settings under $HOME/.vnc:
# its own home, so no exception accepted before counts.
TIGER_HOME="$WORK/home"
mkdir -p "$TIGER_HOME"
VCMUX_PRE=(-object "tls-creds-x509,id=tls0,dir=$WORK/pki,endpoint=server,verify-peer=off")

start_xvfb
show_last() { cat "$WORK/compare.txt" 2>/dev/null || true; }
trap 'show_last; cleanup' EXIT

# Opens TigerVNC with "$@" and waits for vcmux's window; sets VIEWER and WINDOW.
open_viewer() {
    HOME="$TIGER_HOME" xtigervncviewer -FullScreen=0 -RemoteResize=0 "$@" "127.0.0.1::$PORT" >"$WORK/viewer.log" 2>&1 &
    VIEWER=$!
    PIDS+=($VIEWER)
    wait_for "the viewer's window appears ($(tail -1 "$WORK/viewer.log"))" xdotool search --name "vcmux vc0"
    WINDOW=$(xdotool search --name "vcmux vc0" | head -1)
}

close_viewer() {
    kill "$VIEWER"
    wait_for "the viewer closes" bash -c "! xdotool search --name 'vcmux vc0'"
}

type_line() {
    xdotool windowactivate --sync "$WINDOW" 2>/dev/null || xdotool windowfocus --sync "$WINDOW" 2>/dev/null || true
    xdotool type --window "$WINDOW" --delay 30 "$1"
    xdotool key --window "$WINDOW" Return
}

say "X509None"
start_vcmux "tls-creds=tls0"
grep -q "VeNCrypt X509None" "$VCMUX_LOG" || fail "vcmux does not say it serves VeNCrypt X509None"
open_viewer -SecurityTypes=X509None -X509CA="$WORK/pki/ca-cert.pem"
grep -q "Choosing security type X509None" "$WORK/viewer.log" || fail "TigerVNC did not use X509None"
wait_for "X509None: the window shows the console" window_matches
say "X509None: window $(cat "$WORK/compare.txt")"
type_line "echo tls-\$((6 * 7))"
wait_output "^tls-42"
wait_for "X509None: the window shows the command's output" window_matches
say "X509None: keys reach the shell; after typing: $(cat "$WORK/compare.txt")"
close_viewer

say "another CA"
HOME="$TIGER_HOME" xtigervncviewer -SecurityTypes=X509None -X509CA="$WORK/other/ca-cert.pem" "127.0.0.1::$PORT" \
    >"$WORK/viewer-other.log" 2>&1 &
OTHER=$!
PIDS+=($OTHER)
# TigerVNC asks whether to trust the unknown issuer; it is told no.
wait_for "TigerVNC asks about the unknown issuer" xdotool search --name "Unknown certificate issuer"
xdotool search --name "vcmux vc0" >/dev/null && fail "a viewer trusting another CA shows the console"
# (The dialog is gone before xdotool's key release: its X error is no failure.)
xdotool key --window "$(xdotool search --name "Unknown certificate issuer" | head -1)" Escape 2>/dev/null || true
wait_for "TigerVNC refuses the server" grep -q "Unknown certificate issuer" "$WORK/viewer-other.log"
wait_for "vcmux logs the viewer gone during the handshake" grep -q "disconnected: handshake failed" "$VCMUX_LOG"
xdotool search --name "vcmux vc0" >/dev/null && fail "a viewer trusting another CA shows the console"
say "another CA: $(grep -o 'Authentication failure.*' "$WORK/viewer-other.log" | head -1)"
kill "$OTHER" 2>/dev/null || true

say "a plain viewer"
HOME="$TIGER_HOME" xtigervncviewer -SecurityTypes=None "127.0.0.1::$PORT" >"$WORK/viewer-plain.log" 2>&1 &
PLAIN=$!
PIDS+=($PLAIN)
wait_for "vcmux logs why the plain viewer was refused" grep -q "takes only VeNCrypt" "$VCMUX_LOG"
say "plain viewer: $(grep -o 'disconnected: .*takes only VeNCrypt' "$VCMUX_LOG" | head -1)"
kill "$PLAIN" 2>/dev/null || true
stop_vcmux

say "X509Vnc"
echo "s3cret" >"$WORK/password"
start_vcmux "tls-creds=tls0" "password-file=$WORK/password"
grep -q "VeNCrypt X509Vnc" "$VCMUX_LOG" || fail "vcmux does not say it serves VeNCrypt X509Vnc"
tiger_password_file s3cret "$WORK/tiger-right"
open_viewer -SecurityTypes=X509Vnc -X509CA="$WORK/pki/ca-cert.pem" -passwd "$WORK/tiger-right"
grep -q "Choosing security type X509Vnc" "$WORK/viewer.log" || fail "TigerVNC did not use X509Vnc"
wait_for "X509Vnc: the window shows the console" window_matches
type_line "echo vnc-in-tls-\$((6 * 7))"
wait_output "^vnc-in-tls-42"
wait_for "X509Vnc: the window shows the command's output" window_matches
say "X509Vnc: keys reach the shell; window $(cat "$WORK/compare.txt")"
close_viewer
say "PASS"
