#!/usr/bin/env bash
# TigerVNC's viewer under Xvfb over VeNCrypt (TLS with X.509 certificates made
# by `vcmux certs`): with -SecurityTypes=X509None and -X509CA= the test CA it
# connects, its window shows what `vcmux render` makes of the console's bytes,
# pixel for pixel, and commands typed into it with xdotool run; with X509Vnc it
# connects with the password, inside TLS. A viewer given another CA does not
# connect: it asks whether to trust an unknown issuer, is told no, and vcmux's
# log says the viewer went away during the handshake. A plain viewer
# (-SecurityTypes=None) is refused, vcmux's log saying why.
# Then certificates made otherwise (make-certs.sh: QEMU's certtool recipe,
# openssl RSA PKCS#1 and PKCS#8, EC SEC1, an intermediate CA, Ed25519): each
# served to TigerVNC and gtk-vnc's gvncviewer, their windows equal to `vcmux
# render`; and credentials vcmux cannot serve (a key of another certificate,
# an expired certificate, a CA file without a certificate, Ed448 keys, a
# certificate another CA signed, an encrypted key, an X.509 v1 certificate):
# exit 2 at start-up with one line naming the file. Last, tls-creds=auto's
# logged fingerprint and pin-sha256 checked against the certificate served.
source "$(dirname "$0")/common.sh"
need_apt tigervnc-viewer xvfb xdotool imagemagick gnutls-bin gvncviewer
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
trap 'status=$?; show_last; cleanup "$status"' EXIT

# Runs the viewer command "$@" and waits for vcmux's window; sets VIEWER and WINDOW.
open_window() {
    "$@" >"$WORK/viewer.log" 2>&1 &
    VIEWER=$!
    PIDS+=($VIEWER)
    wait_for "the viewer's window appears ($(tail -1 "$WORK/viewer.log"))" xdotool search --name "vcmux vc0"
    WINDOW=$(xdotool search --name "vcmux vc0" | head -1)
}

# Opens TigerVNC with "$@" and waits for vcmux's window.
open_viewer() {
    open_window env HOME="$TIGER_HOME" xtigervncviewer -FullScreen=0 -RemoteResize=0 "$@" "127.0.0.1::$PORT"
}

# Opens gvncviewer trusting the CA $1. gtk-vnc reads the CA from
# ~/.pki/CA/cacert.pem (or /etc/pki/CA/cacert.pem), with ~ from the password
# database, not $HOME: a home of its own is mounted on ~ for this process only
# (a private mount namespace), so this machine's own home is left alone.
# (As root, a mount namespace; otherwise a user namespace too.)
GVNC_HOME="$WORK/gvnc-home"
PASSWD_HOME="$(getent passwd "$(id -u)" | cut -d: -f6)"
UNSHARE=(unshare -m --propagation private)
((EUID)) && UNSHARE+=(-r)
# Its client certificate (for verify-peer=on) is read from
# ~/.pki/gvncviewer/clientcert.pem and ~/.pki/gvncviewer/private/clientkey.pem.
# $1 is a credentials directory in QEMU's layout.
open_gvnc() {
    mkdir -p "$GVNC_HOME/.pki/CA" "$GVNC_HOME/.pki/gvncviewer/private"
    cp "$1/ca-cert.pem" "$GVNC_HOME/.pki/CA/cacert.pem"
    cp "$1/client-cert.pem" "$GVNC_HOME/.pki/gvncviewer/clientcert.pem"
    cp "$1/client-key.pem" "$GVNC_HOME/.pki/gvncviewer/private/clientkey.pem"
    open_window "${UNSHARE[@]}" sh -c 'mount --bind "$1" "$2" && exec gvncviewer "$3"' \
        sh "$GVNC_HOME" "$PASSWD_HOME" "127.0.0.1:$((PORT - 5900))"
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
stop_vcmux

# vcmux serves KIND's credentials (made by make-certs.sh) over X509None to
# TigerVNC (verify-peer=off: it has no client certificate) and to gvncviewer
# (verify-peer=on, showing the recipe's client certificate): both windows show
# the console, keys typed into each reach the shell. (gvncviewer's X509Vnc password dialog takes no
# xdotool keys, so X509Vnc is TigerVNC's alone above.)
serve_made() {
    local kind="$1" dir="$WORK/made/$1"
    "$INTEROP_DIR/make-certs.sh" "$kind" "$dir"
    VCMUX_PRE=(-object "tls-creds-x509,id=tls0,dir=$dir,endpoint=server,verify-peer=off")
    start_vcmux "tls-creds=tls0"
    open_viewer -SecurityTypes=X509None -X509CA="$dir/ca-cert.pem"
    type_line "echo $kind-\$((6 * 7))"
    wait_output "^$kind-42"
    wait_for "$kind: TigerVNC's window shows the console" window_matches
    say "$kind: TigerVNC: keys reach the shell; window $(cat "$WORK/compare.txt")"
    close_viewer
    stop_vcmux
    # gvncviewer shows the recipe's client certificate: mutual TLS.
    VCMUX_PRE=(-object "tls-creds-x509,id=tls0,dir=$dir,endpoint=server,verify-peer=on")
    start_vcmux "tls-creds=tls0"
    AT_BOTTOM=1
    open_gvnc "$dir"
    grep -q "VeNCrypt X509None" "$VCMUX_LOG" || fail "vcmux does not say it serves VeNCrypt X509None"
    type_line "echo $kind-gvnc-\$((6 * 7))"
    wait_output "^$kind-gvnc-42"
    wait_for "$kind: gvncviewer's window shows the console" window_matches
    say "$kind: gvncviewer: keys reach the shell; window $(cat "$WORK/compare.txt")"
    AT_BOTTOM=0
    close_viewer
    stop_vcmux
}
for kind in certtool rsa-pkcs1 rsa-pkcs8 ec-sec1 intermediate ed25519; do
    serve_made "$kind"
done

# vcmux refuses KIND's credentials at start-up: exit 2, one line naming FILE
# and saying REASON.
refuse_made() {
    local kind="$1" file="$2" reason="$3" dir="$WORK/made/$1" status=0
    "$INTEROP_DIR/make-certs.sh" "$kind" "$dir"
    "$VCMUX" -object "tls-creds-x509,id=tls0,dir=$dir,endpoint=server" -vnc "127.0.0.1:0,tls-creds=tls0" \
        -- true 2>"$WORK/refused.txt" || status=$?
    ((status == 2)) || fail "$kind: exit status $status, not 2: $(cat "$WORK/refused.txt")"
    (($(wc -l <"$WORK/refused.txt") == 1)) || fail "$kind: not one line: $(cat "$WORK/refused.txt")"
    grep -qF "$dir/$file: " "$WORK/refused.txt" || fail "$kind: $file not named: $(cat "$WORK/refused.txt")"
    grep -qF "$reason" "$WORK/refused.txt" || fail "$kind: no '$reason': $(cat "$WORK/refused.txt")"
    say "$kind: $(cat "$WORK/refused.txt")"
}
refuse_made mismatch server-key.pem "not the key of the certificate in"
refuse_made expired server-cert.pem "expired on"
refuse_made no-ca ca-cert.pem "no certificate"
refuse_made ed448 server-key.pem "a key vcmux cannot sign with"
refuse_made other-ca server-cert.pem "not signed by a certificate in"
refuse_made encrypted server-key.pem "an encrypted key"
refuse_made v1 server-cert.pem "an X.509 version 1 certificate"

say "tls-creds=auto"
# The colleague's check (README): the certificate served on the wss:// port,
# fetched with openssl, has the fingerprint and pin-sha256 vcmux logged, as
# openssl and certtool compute them.
VCMUX_PRE=()
start_vcmux "tls-creds=auto"
line=$(grep -o "SHA-256 fingerprint .*" "$VCMUX_LOG") || fail "vcmux logs no fingerprint"
fingerprint=$(sed -n 's/.*SHA-256 fingerprint \([0-9A-F:]*\), .*/\1/p' <<<"$line")
pin=$(sed -n 's/.*pin-sha256 \([A-Za-z0-9+\/=]*\).*/\1/p' <<<"$line")
[ -n "$fingerprint" ] && [ -n "$pin" ] || fail "no fingerprint and pin in: $line"
openssl s_client -connect "127.0.0.1:$WS_PORT" </dev/null 2>/dev/null | openssl x509 >"$WORK/served.pem"
served=$(openssl x509 -in "$WORK/served.pem" -noout -fingerprint -sha256 | cut -d= -f2)
[ "$served" = "$fingerprint" ] || fail "served fingerprint $served, logged $fingerprint"
served=$(openssl x509 -in "$WORK/served.pem" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | base64)
[ "$served" = "$pin" ] || fail "served pin-sha256 $served, logged $pin"
certtool -i --infile "$WORK/served.pem" | grep -qF "pin-sha256:$pin" || fail "certtool shows another pin"
say "tls-creds=auto: served certificate's fingerprint and pin-sha256 (openssl, certtool) are those logged: $pin"
stop_vcmux
say "PASS"
