# Shared by the interop scripts: installs the viewers, starts the demo server,
# waits for conditions with deadlines, compares pictures. Sourced, not run.
set -euo pipefail

INTEROP_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$INTEROP_DIR/../.." && pwd)"
WORK="$(mktemp -d /tmp/vcmux-interop.XXXXXX)"
PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
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
need_pip() {
    python3 -c "import $1" 2>/dev/null || { say "installing $2"; python3 -m pip install -q "$2"; }
}
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

# Builds and starts the demo server on free ports; sets PORT (and WS_PORT with
# --websocket-port 0). Its screen is written to $WORK/expected.ppm.
start_demo() {
    (cd "$REPO_DIR" && cargo build --release --quiet --example rfb_demo)
    local log="$WORK/demo.log"
    : >"$log"
    "$REPO_DIR/target/release/examples/rfb_demo" --port 0 --expect "$WORK/expected.ppm" "$@" 2>"$log" &
    DEMO_PID=$!
    PIDS+=($DEMO_PID)
    DEMO_LOG="$log"
    wait_for "the demo server listens" grep -q "listening on" "$log"
    PORT=$(grep -m1 " listening on" "$log" | sed 's/.*listening on [0-9.]*://')
    if grep -q "websocket listening" "$log"; then
        WS_PORT=$(grep -m1 "websocket listening" "$log" | sed 's/.*listening on [0-9.]*://')
    fi
    say "demo server on port $PORT${WS_PORT:+, websocket $WS_PORT}"
}

# Stops the demo server started last.
stop_demo() {
    kill "$DEMO_PID" 2>/dev/null || true
    wait "$DEMO_PID" 2>/dev/null || true
}

# compare.py CAPTURE EXPECTED [X Y]: exit 0 when identical.
compare() {
    python3 "$INTEROP_DIR/compare.py" "$@"
}
