#!/usr/bin/env bash
# Every interop check against vcmux serving a shell: vncdotool, TigerVNC (plain,
# over VeNCrypt TLS, and listening for a reverse connection; gvncviewer and
# certificates made by openssl and certtool in tls.sh), noVNC (its own page
# over http and https, and two consoles behind nginx), qemu.qmp on the control
# socket; then every recipe of README.md run as written (readme.sh); then a Linux
# guest booted and rebooted under QEMU (qemu-boot.sh).
# Each installs what it needs (apt, pip, npm) and exits non-zero on failure;
# this runs them all and fails if any failed.
set -uo pipefail
cd "$(dirname "$0")"
failed=()
for check in vncdotool tigervnc tls reverse novnc novnc-served gateway qmp readme qemu-boot; do
    echo "=== $check"
    ./"$check.sh" || failed+=("$check")
done
if ((${#failed[@]})); then
    echo "interop: FAILED: ${failed[*]}"
    exit 1
fi
echo "interop: all passed (vncdotool, tigervnc, tls, reverse, novnc, novnc-served, gateway, qmp, readme, qemu-boot)"
