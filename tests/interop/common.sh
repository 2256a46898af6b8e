# Shared by the interop scripts: installs the viewers, starts vcmux,
# waits for conditions with deadlines, compares pictures. Sourced, not run.
set -euo pipefail

INTEROP_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$INTEROP_DIR/../.." && pwd)"
WORK="$(mktemp -d /tmp/vcmux-interop.XXXXXX)"
PIDS=()

# Stops what the script started; its work directory goes too unless it failed.
cleanup() {
    local status=$?
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
    (cd "$REPO_DIR" && cargo build --release --quiet)
    PORT=$(free_port 5900)
    WS_PORT=$(free_port 15700)
    local extra=""
    for option in "$@"; do extra+=",$option"; done
    VCMUX_LOG="$WORK/vcmux.log"
    : >"$VCMUX_LOG"
    : >"$WORK/console.log"
    # Debug for the dispatch of viewer messages: its log says which encoding each viewer gets.
    RUST_LOG=info,vcmux::rfb::dispatch=debug PS1='$ ' ENV=/dev/null "$VCMUX" "${VCMUX_PRE[@]}" -chardev vc,id=vc0 -chardev "file,id=log,path=$WORK/console.log" \
        -vnc "127.0.0.1:$((PORT - 5900)),websocket=$WS_PORT$extra" -- sh 2>"$VCMUX_LOG" &
    VCMUX_PID=$!
    PIDS+=($VCMUX_PID)
    wait_for "vcmux serves VNC" grep -q "WebSocket (noVNC) viewers welcome" "$VCMUX_LOG"
    wait_for "the shell prompts" grep -q '\$ ' "$WORK/console.log"
    say "vcmux on port $PORT, websocket $WS_PORT"
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
