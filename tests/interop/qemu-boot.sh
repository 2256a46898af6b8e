#!/usr/bin/env bash
# A real Linux guest under QEMU (TCG), its serial port served by vcmux:
# Debian's kernel (apt-get download, dpkg -x into target/qemu-boot/, never
# installed) and an initramfs built here from busybox-static, booted with
# `-serial unix:…,server=on,wait=off`; vcmux attaches with
# `-frontend socket,…,reconnect=1`, a vc on -vnc and a -qmp control socket.
# The test waits for the guest's shell prompt over the control socket, types
# `uname -a` with vncdotool, sees the kernel's answer on the screen, and keeps
# boot.png and boot.txt. Then it kills QEMU and starts it again: vcmux
# reconnects, and a viewer connected throughout (viewer.py, the same TCP
# connection before and after) follows the new boot, types in it, and its frame
# equals the server's; reboot.png and reboot.txt are kept. Artifacts in
# target/ci-artifacts/.
source "$(dirname "$0")/common.sh"
need_apt qemu-system-x86 busybox-static cpio
need_pip vncdotool vncdotool
need_pip PIL pillow

ARTIFACTS="$REPO_DIR/target/ci-artifacts"
CACHE="$REPO_DIR/target/qemu-boot"
BOOT_TIMEOUT=${BOOT_TIMEOUT:-240}
mkdir -p "$ARTIFACTS" "$CACHE"

# Debian's kernel, downloaded once: the newest linux-image-6.1.0-N-amd64 apt
# offers, unpacked with dpkg -x; only its vmlinuz is kept.
KERNEL=$(ls "$CACHE"/vmlinuz-* 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$KERNEL" ]; then
    newest() { apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' | awk '{print $1}' | sort -V | tail -n 1; }
    package=$(newest)
    [ -n "$package" ] || { apt-get update -qq >/dev/null; package=$(newest); }
    [ -n "$package" ] || fail "apt offers no linux-image-6.1.0-*-amd64 package"
    say "downloading $package"
    (cd "$WORK" && apt-get download -q "$package" >/dev/null 2>&1) || fail "apt-get download $package"
    dpkg -x "$WORK"/"$package"_*.deb "$WORK/kernel-package"
    mv "$WORK"/kernel-package/boot/vmlinuz-* "$CACHE/"
    rm -rf "$WORK/kernel-package" "$WORK"/*.deb
    KERNEL=$(ls "$CACHE"/vmlinuz-* | sort -V | tail -n 1)
fi
RELEASE=${KERNEL##*/vmlinuz-}
say "kernel $RELEASE"

# The initramfs: busybox (static) and an /init that mounts what a shell needs,
# says which boot this is (bootid= on the kernel's command line reaches /init
# as an environment variable), keeps later kernel messages off the console,
# and runs a shell on it, again whenever it exits.
mkdir -p "$WORK"/initramfs/{bin,dev,proc,sys}
cp /bin/busybox "$WORK/initramfs/bin/"
cat >"$WORK/initramfs/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
dmesg -n 1
export HOME=/ PS1='guest$ '
echo "vcmux-guest: up, boot $bootid"
while true; do setsid cttyhack sh; done
EOF
chmod +x "$WORK/initramfs/init"
(cd "$WORK/initramfs" && find . | cpio -o -H newc --quiet | gzip -1) >"$WORK/initramfs.gz"

(cd "$REPO_DIR" && cargo build --release --quiet)
SERIAL="$WORK/serial.sock"
CTL="unix:$WORK/vcmux.qmp"

# Whether a process still runs (a zombie does not).
alive() {
    local state
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
    [ -n "$state" ] && [ "$state" != Z ]
}

qemu_failed() {
    fail "QEMU exited early (boot $BOOT); its stderr:
$(tail -n 5 "$WORK/qemu$BOOT.err" 2>/dev/null)
the console's last lines:
$(tail -n 15 "$WORK/console.log" 2>/dev/null | tr -d '\r')"
}

# Starts boot number $1 paused (-S): its serial socket is there at once
# (wait=off), the guest runs once `cont` comes over QEMU's own QMP socket.
start_qemu() {
    BOOT=$1
    rm -f "$WORK/qemu.qmp"
    qemu-system-x86_64 -M q35 -m 256 -nodefaults -display none -no-reboot -S \
        -kernel "$KERNEL" -initrd "$WORK/initramfs.gz" \
        -append "console=ttyS0 panic=-1 bootid=$BOOT" \
        -serial "unix:$SERIAL,server=on,wait=off" \
        -qmp "unix:$WORK/qemu.qmp,server=on,wait=off" 2>"$WORK/qemu$BOOT.err" &
    QEMU_PID=$!
    PIDS+=($QEMU_PID)
    local end=$((SECONDS + DEADLINE))
    until [ -S "$WORK/qemu.qmp" ]; do
        alive "$QEMU_PID" || qemu_failed
        ((SECONDS < end)) || fail "QEMU's QMP socket: not within ${DEADLINE}s"
        sleep 0.2
    done
}

# QEMU's QMP takes vcmux ctl as well as vcmux's does.
cont_qemu() {
    "$VCMUX" ctl "unix:$WORK/qemu.qmp" raw '{"execute":"cont"}' >/dev/null || fail "QEMU refused cont"
}

# Waits for REGEX in the console's output (vcmux ctl wait-for) and prints the
# match; fails at once, with QEMU's output, if QEMU stops first (on stderr, as
# callers may discard the match).
wait_guest() {
    "$VCMUX" ctl "$CTL" wait-for "$1" --timeout "$BOOT_TIMEOUT" >"$WORK/wait.out" 2>"$WORK/wait.err" &
    local waiter=$!
    while alive "$waiter"; do
        alive "$QEMU_PID" || { kill "$waiter" 2>/dev/null; qemu_failed >&2; }
        sleep 0.2
    done
    wait "$waiter" || fail >&2 "the console never showed '$1':
$(cat "$WORK/wait.err")"
    cat "$WORK/wait.out"
}

# Whether vcmux's log says at least $1 times that it reached QEMU's serial port.
connected_times() { (($(grep -c "frontend connected" "$VCMUX_LOG") >= $1)); }

start_qemu 1
PORT=$(free_port 5900)
VCMUX_LOG="$WORK/vcmux.log"
"$VCMUX" -frontend "socket,path=$SERIAL,reconnect=1" \
    -qmp "$CTL,server=on,wait=off" \
    -chardev vc,id=vc0,cols=120,rows=36 -chardev "file,id=log,path=$WORK/console.log" \
    -vnc "127.0.0.1::$PORT" 2>"$VCMUX_LOG" &
VCMUX_PID=$!
PIDS+=($VCMUX_PID)
wait_for "vcmux reaches QEMU's serial port" connected_times 1
cont_qemu
say "boot 1: QEMU runs, vcmux on port $PORT"
wait_guest 'vcmux-guest: up, boot 1' >/dev/null
wait_guest '^guest\$ $' >/dev/null
say "boot 1: the shell prompts"

# A viewer that stays connected through the reboot.
coproc VIEWER { python3 "$INTEROP_DIR/viewer.py" "127.0.0.1::$PORT"; }
PIDS+=($VIEWER_PID)
ask_viewer() {
    echo "$*" >&"${VIEWER[1]}"
    local answer
    read -r -t 60 answer <&"${VIEWER[0]}" || fail >&2 "the viewer did not answer '$*'"
    echo "$answer"
}
VIEWER_PORT=$(ask_viewer port)
viewer_connected() { "$VCMUX" ctl "$CTL" query vnc --json | grep -q "\"service\": *\"$VIEWER_PORT\""; }
viewer_connected || fail "query-vnc does not list the viewer (port $VIEWER_PORT)"

# uname -a typed by another real client, vncdotool's command line.
timeout 30 vncdo -s "127.0.0.1::$PORT" type "uname -a" key enter || fail "vncdo type"
UNAME=$(wait_guest "^Linux .* $RELEASE .*\n")
wait_guest '^guest\$ $' >/dev/null
say "boot 1: the kernel answers: $UNAME"
"$VCMUX" ctl "$CTL" screendump "$ARTIFACTS/boot.png"
"$VCMUX" ctl "$CTL" screendump "$ARTIFACTS/boot.txt"
grep -q "^Linux .* $RELEASE " "$ARTIFACTS/boot.txt" || fail "boot.txt lacks the uname line"
answer=$(ask_viewer match "$ARTIFACTS/boot.png" "$WORK/viewer1.png")
[ "$answer" = match ] || fail "the viewer's frame is not the server's after boot 1 ($answer pixels; $WORK/viewer1.png)"
say "boot 1: boot.png, boot.txt kept; the viewer's frame is the server's"

# Reboot: QEMU killed, started again; vcmux reconnects to the new socket.
kill -KILL "$QEMU_PID"
wait "$QEMU_PID" 2>/dev/null || true
start_qemu 2
wait_for "vcmux reconnects to QEMU's serial port" connected_times 2
cont_qemu
say "boot 2: QEMU runs again, vcmux reconnected"
wait_guest 'vcmux-guest: up, boot 2' >/dev/null
wait_guest '^guest\$ $' >/dev/null
say "boot 2: the shell prompts"
[ "$(ask_viewer type "uname -a; echo typed-in-boot-\$bootid")" = typed ] || fail "the viewer could not type"
wait_guest "^Linux .* $RELEASE .*\n" >/dev/null
wait_guest '^typed-in-boot-2\n' >/dev/null
wait_guest '^guest\$ $' >/dev/null
"$VCMUX" ctl "$CTL" screendump "$WORK/server2.png"
"$VCMUX" ctl "$CTL" screendump "$ARTIFACTS/reboot.txt"
grep -q "vcmux-guest: up, boot 2" "$ARTIFACTS/reboot.txt" || fail "reboot.txt does not show boot 2"
grep -q "^typed-in-boot-2" "$ARTIFACTS/reboot.txt" || fail "reboot.txt lacks what the viewer typed"
answer=$(ask_viewer match "$WORK/server2.png" "$ARTIFACTS/reboot.png")
[ "$answer" = match ] || fail "the viewer's frame is not the server's after boot 2 ($answer pixels; $WORK/server2.png)"
viewer_connected || fail "the viewer's connection (port $VIEWER_PORT) did not last"
say "boot 2: the viewer connected throughout (port $VIEWER_PORT) typed in the new boot; its frame, reboot.png, is the server's"
ask_viewer quit >/dev/null
cp "$WORK/console.log" "$ARTIFACTS/qemu-console.log"
say "PASS"
