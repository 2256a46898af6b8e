# Shared by the interop scripts: installs the viewers, starts vcmux,
# waits for conditions with deadlines, compares pictures. Sourced, not run.
set -euo pipefail

INTEROP_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$INTEROP_DIR/../.." && pwd)"
WORK="$(mktemp -d /tmp/vcmux-interop.XXXXXX)"
PIDS=()

# Stops what the script started; its work directory goes too unless it failed.
# The script's exit status, or $1 when a trap ran something before (which
# would have reset $?).
cleanup() {
    local status=${1:-$?}
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    ((status)) || rm -rf "$WORK"
}
trap cleanup EXIT

say() { echo "[$(basename "$0")] $*"; }
fail() { say "FAIL: $*"; exit 1; }

# Installs what a script needs, once: apt packages, pip packages, npm packages.
need_apt() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        say "installing ${missing[*]}"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}
# Python packages go into a virtual environment of the interop suite's own
# (Debian's python3 refuses pip installs into the system), first on PATH.
VENV="$REPO_DIR/target/interop-venv"
need_venv() {
    [ -x "$VENV/bin/python3" ] && return
    python3 -m venv "$VENV" 2>/dev/null || { need_apt python3-venv; python3 -m venv "$VENV"; }
    hash -r
}
need_pip() {
    need_venv
    "$VENV/bin/python3" -c "import $1" 2>/dev/null || { say "installing $2"; "$VENV/bin/python3" -m pip install -q "$2"; }
}
export PATH="$VENV/bin:$PATH"
need_npm() {
    [ -d "$INTEROP_DIR/node_modules/@novnc/novnc" ] && [ -d "$INTEROP_DIR/node_modules/playwright-core" ] || {
        say "installing noVNC and playwright-core"
        (cd "$INTEROP_DIR" && npm install --no-audit --no-fund --silent)
    }
}

# Runs "$@" until it succeeds, every 0.2 s, for at most $DEADLINE seconds.
DEADLINE=${DEADLINE:-60}
wait_for() {
    local what="$1"; shift
    local end=$((SECONDS + DEADLINE))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < end)) || fail "$what: not within ${DEADLINE}s"
        sleep 0.2
    done
}

# Makes DIR a HOME whose NSS database ($DIR/.pki/nssdb, which Debian's
# Chromium reads) trusts the CA of CA_CERT for web servers: a browser run
# with HOME=DIR trusts that CA, and only in this run.
trusting_home() {
    need_apt libnss3-tools
    mkdir -p "$1/.pki/nssdb"
    certutil -d "sql:$1/.pki/nssdb" -N --empty-password
    certutil -d "sql:$1/.pki/nssdb" -A -n "vcmux test CA" -t "C,," -i "$2"
}

# A free TCP port on loopback at or above $1.
free_port() {
    python3 - "$1" <<'PY'
import socket, sys
for port in range(int(sys.argv[1]), 65536):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
PY
}

# Builds vcmux and starts it as a newcomer would: a shell under its PTY, a vc
# shown with -vnc on a free display (and a free WebSocket port), and a log of
# the console, $WORK/console.log. Extra -vnc options may follow ("password-file=F");
# options before the chardevs (-object …) may be put in the array VCMUX_PRE.
# Sets PORT, WS_PORT and VCMUX_LOG.
VCMUX_PRE=()
VCMUX="$REPO_DIR/target/release/vcmux"
start_vcmux() {
    PORT=$(free_port 5900)
    WS_PORT=$(free_port 15700)
    local extra=""
    for option in "$@"; do extra+=",$option"; done
    launch_vcmux "127.0.0.1:$((PORT - 5900)),websocket=$WS_PORT$extra" "WebSocket (noVNC) viewers welcome"
    say "vcmux on port $PORT, websocket $WS_PORT"
}

# start_vcmux_reverse PORT [OPTION…]: as start_vcmux, but with
# -vnc 127.0.0.1:PORT,reverse=on: vcmux listens for no one and dials a viewer
# listening on PORT (vncviewer -listen PORT), again whenever that fails or ends.
start_vcmux_reverse() {
    local port="$1"; shift
    local extra=""
    for option in "$@"; do extra+=",$option"; done
    launch_vcmux "127.0.0.1:$port,reverse=on$extra" "(reverse=on)"
    say "vcmux dials 127.0.0.1:$port"
}

# launch_vcmux VNC READY: builds and starts vcmux with -vnc VNC, and waits for
# a log line containing READY and for the shell's prompt.
launch_vcmux() {
    (cd "$REPO_DIR" && cargo build --release --quiet)
    VCMUX_LOG="$WORK/vcmux.log"
    : >"$VCMUX_LOG"
    : >"$WORK/console.log"
    # Debug for the dispatch of viewer messages (its log says which encoding each
    # viewer gets) and for groups (which viewer started or joined one).
    RUST_LOG=info,vcmux::rfb::dispatch=debug,vcmux::rfb::group=debug PS1='$ ' ENV=/dev/null "$VCMUX" "${VCMUX_PRE[@]}" -chardev vc,id=vc0 -chardev "file,id=log,path=$WORK/console.log" \
        -vnc "$1" -- sh 2>"$VCMUX_LOG" &
    VCMUX_PID=$!
    PIDS+=($VCMUX_PID)
    wait_for "vcmux serves VNC" grep -qF "$2" "$VCMUX_LOG"
    wait_for "the shell prompts" grep -q '\$ ' "$WORK/console.log"
}

# Stops the vcmux started last.
stop_vcmux() {
    kill "$VCMUX_PID" 2>/dev/null || true
    wait "$VCMUX_PID" 2>/dev/null || true
}

# Waits until the console log holds the text (a command's output).
wait_output() {
    wait_for "the console shows '$1'" grep -q -- "$1" "$WORK/console.log"
}

# What `vcmux render` makes of the console's bytes so far: $WORK/expected.png.
render_expected() {
    "$VCMUX" render "$WORK/console.log" -o "$WORK/expected.png"
}

# compare.py CAPTURE EXPECTED [X Y]: exit 0 when identical.
compare() {
    python3 "$INTEROP_DIR/compare.py" "$@"
}

# Starts Xvfb on a free display and exports DISPLAY.
start_xvfb() {
    exec 3>"$WORK/display"
    Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp -noreset >"$WORK/xvfb.log" 2>&1 &
    PIDS+=($!)
    wait_for "Xvfb starts" test -s "$WORK/display"
    export DISPLAY=":$(head -1 "$WORK/display")"
    say "Xvfb on $DISPLAY"
}

# Whether the X window $WINDOW shows, pixel for pixel, what `vcmux render`
# makes of the console's bytes; the comparison's report goes to $WORK/compare.txt.
# The picture is at the window's top left (TigerVNC), or with AT_BOTTOM=1 at
# its bottom left (gvncviewer: under its menu bar).
AT_BOTTOM=0
window_matches() {
    eval "$(xdotool getwindowgeometry --shell "$WINDOW")"
    import -window root "$WORK/screen.png" 2>/dev/null
    render_expected
    ((AT_BOTTOM)) && Y=$((Y + HEIGHT - $(identify -format %h "$WORK/expected.png")))
    compare "$WORK/screen.png" "$WORK/expected.png" "$X" "$Y" >"$WORK/compare.txt"
}

# tiger_password_file PASSWORD FILE: a ~/.vnc/passwd-style file for TigerVNC's
# -passwd, the password DES-encrypted with VNC's fixed key (vncpasswd's
# obfuscation), using vncdotool's DES (need_pip vncdotool vncdotool first).
tiger_password_file() {
    python3 -W ignore - "$1" "$2" <<'PY'
import sys
from vncdotool.rfb import des_encrypt, reverse_bits
fixed = bytes([23, 82, 107, 6, 35, 78, 88, 7])
open(sys.argv[2], "wb").write(des_encrypt(reverse_bits(fixed), sys.argv[1].encode().ljust(8, b"\0")[:8]))
PY
}
