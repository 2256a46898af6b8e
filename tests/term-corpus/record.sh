#!/usr/bin/env bash
# Records the real-program streams of the corpus: each program runs under
# script(1) inside a tmux pane of the case's size with TERM=xterm-256color,
# is driven with tmux send-keys, and everything it wrote to its tty lands in
# NAME.in. The recording stops (the pane is killed) while the program still
# shows its screen. Needs: tmux, vim, htop, procps (top), man-db + manpages +
# less, mc, dialog, whiptail, nano, bash; for boot-log qemu-system-x86 and a
# Debian kernel in /boot (apt: qemu-system-x86 linux-image-amd64).
#
#   tests/term-corpus/record.sh            # all
#   tests/term-corpus/record.sh vim-edit   # only the named ones
#
# Recordings differ from run to run (clocks, process lists); re-record only
# on purpose, then run regen.sh for their expected screens.
set -euo pipefail
cd "$(dirname "$0")"
export LANG=C.UTF-8 LC_ALL=C.UTF-8
sock="vcmux-rec-$$"
work="$(mktemp -d)"
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$work"' EXIT
want() { (($# == 0)) || [[ " ${ONLY:-} " == *" $1 "* ]] || [[ -z "${ONLY:-}" ]]; }
ONLY="$*"

# The pids of a process and all its descendants.
descendants() {
  local child
  echo "$1"
  for child in $(ps -o pid= --ppid "$1"); do descendants "$child"; done
}

# rec NAME COLS ROWS COMMAND STEP...   (a step is keys for send-keys, or
# `sleep:S`, or `lit:TEXT` typed literally)
rec() {
  local name=$1 cols=$2 rows=$3 cmd=$4
  shift 4
  if [[ -n "$ONLY" && " $ONLY " != *" $name "* ]]; then return; fi
  rm -f "$name.in"
  printf 'exec %s\n' "$cmd" >"$work/$name.cmd"
  tmux -L "$sock" -f /dev/null new-session -d -s "$name" -x "$cols" -y "$rows" \
    "cd '$work' && env TERM=xterm-256color HOME='$work' PS1='\$ ' script -q -f -O '$PWD/$name.in' -c 'bash $work/$name.cmd'"
  tmux -L "$sock" set -t "$name" status off
  sleep 1
  local step
  for step in "$@"; do
    case "$step" in
      sleep:*) sleep "${step#sleep:}" ;;
      lit:*) tmux -L "$sock" send-keys -t "$name" -l "${step#lit:}" ;;
      *) tmux -L "$sock" send-keys -t "$name" "$step" ;;
    esac
    sleep 0.3
  done
  sleep 1
  # Stop script(1) first, with SIGKILL, so that what the program prints as it
  # dies is not recorded; then end the rest of the pane's processes by pid
  # (script outlives a hung-up pane).
  local pids pid
  pids=$(descendants "$(tmux -L "$sock" display -p -t "$name" '#{pane_pid}')")
  for pid in $pids; do
    if [[ "$(ps -o comm= -p "$pid")" == script ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  tmux -L "$sock" kill-session -t "$name"
  for pid in $pids; do kill "$pid" 2>/dev/null || true; done
  sleep 0.5
  # Drop script(1)'s own header and footer lines.
  perl -0777 -i -pe 's/\AScript started on [^\n]*\n//; s/\n?Script done on [^\n]*\n?\z//' "$name.in"
  echo "$name: $(wc -c <"$name.in") bytes"
}

cat >"$work/hello.c" <<'C'
#include <stdio.h>

/* A small file to edit. */
int main(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        printf("arg %d: %s\n", i, argv[i]);
    return 0;
}
C
seq -f 'log line %g: the quick brown fox jumps over the lazy dog' 1 200 >"$work/app.log"
mkdir -p "$work/dir/sub" && touch "$work/dir/a.txt" "$work/dir/b.sh" && chmod +x "$work/dir/b.sh" && ln -sf a.txt "$work/dir/link"

rec vim-edit 80 24 'vim --clean hello.c' \
  ':set number' Enter 5G o lit:'    int unused = 42; // added' Escape \
  gg /printf Enter cw lit:'fprintf' Escape 'u' ':split' Enter ':wincmd j' Enter
rec vim-insert-wrap 60 16 'vim --clean -c "set wrap" app.log' \
  G o lit:"$(printf 'x%.0s' {1..150})" Escape 10k ':set list' Enter
rec vim-vsplit 100 30 'vim --clean hello.c' ':vsplit app.log' Enter ':set cursorline' Enter 40G
rec top 80 24 'top -d 0.5' sleep:2
rec top-wide 120 30 'top -d 0.5' c sleep:1.5 1 sleep:1
rec htop 80 24 'htop -d 5' sleep:2
rec htop-tree 100 30 'htop -d 5' F5 sleep:2
rec htop-setup 80 24 'htop -d 5' F2 sleep:1 Down Down
rec man-less 80 24 'man ls' sleep:1 Space Space /sort Enter n
rec man-less-small 60 16 'man bash' sleep:1 G
rec less-log 80 24 'less -N app.log' /fox Enter 50g
rec mc 80 24 'mc -u' sleep:2 Down Down Tab sleep:1
rec mc-view 100 30 'mc -u' sleep:2 lit:'cd dir' Enter sleep:1 F3 sleep:1 Escape sleep:1 F9 sleep:1
rec dialog-menu 80 24 "dialog --title Pick --menu 'Choose an item' 15 50 5 1 one 2 two 3 three 4 four 5 five 6 six" Down Down
rec dialog-checklist 80 24 "dialog --checklist 'Toppings' 14 40 4 a cheese on b ham off c olive off d corn on" Down Space
rec dialog-gauge 70 20 "bash -c 'for i in 0 20 40 60; do echo \$i; sleep 0.3; done | dialog --gauge Working 10 50 0; sleep 5'" sleep:2
rec dialog-yesno 80 24 "dialog --yesno 'Really proceed with the installation?' 8 40" Right
rec whiptail-menu 80 24 "whiptail --title Setup --menu 'Pick one' 16 60 6 a Alpha b Bravo c Charlie d Delta" Down
rec whiptail-msgbox 60 20 "whiptail --msgbox 'Installation complete. Press OK to reboot.' 10 40"
rec ls-color 80 24 'bash --norc --noprofile -i' lit:'ls --color=always -l dir /usr/lib/x86_64-linux-gnu/ | head -30' Enter
rec ls-color-grid 100 30 'bash --norc --noprofile -i' lit:'ls --color=always -F /usr/bin | head -60 | column -c 100' Enter
rec readline-history 80 24 'bash --norc --noprofile -i' \
  lit:'echo first command' Enter lit:'echo second one' Enter Up Up C-a lit:'X=1 ' Enter \
  lit:'echo typo hre' Left Left BSpace BSpace lit:'er' Enter C-r lit:'second' Enter
rec python-repl 80 24 'python3 -q' lit:'for i in range(3): print(i * "ab")' Enter Enter lit:'import sys; sys.version_info[:2]' Enter Up C-a C-k lit:'1+1' Enter
rec progress-bar 80 24 "bash -c 'for i in \$(seq 0 4 100); do n=\$((i/5)); printf \"\\r[%-20s] %3d%%\" \$(printf \"%*s\" \$n | tr \" \" \"#\") \$i; sleep 0.02; done; echo; printf \"done\\n\"; sleep 5'" sleep:2
rec progress-region 80 24 "bash -c 'seq 1 10; printf \"\\e7\\e[1;23r\\e8\"; for i in \$(seq 1 40); do echo unpacking package \$i; printf \"\\e7\\e[24;1H\\e[42mProgress: [%3d%%]\\e[0m\\e8\" \$((i*100/40)); sleep 0.01; done; sleep 5'" sleep:2
rec watch-date 80 24 "watch -n 0.5 'echo hello; seq 3'" sleep:2

rec nano-edit 80 24 'nano -l hello.c' Down Down Down lit:'// a note' Enter C-k C-u C-w lit:'argc' Enter
rec htop-large 132 43 'htop -d 5' sleep:2 F6 sleep:1 Escape
rec vim-help 100 30 'vim --clean -c help' sleep:1 ':set hlsearch' Enter /window Enter
rec mc-large 120 40 'mc -u' sleep:2 F9 sleep:1 Right Down
rec less-narrow 40 15 'less -S app.log' G 10k
rec top-small 60 20 'top -d 0.5' sleep:1.5
rec dialog-inputbox 70 20 "dialog --inputbox 'Host name:' 8 40 vcmux-host" BSpace BSpace lit:'xy'

if [[ -z "$ONLY" || " $ONLY " == *" boot-log "* ]]; then
  kernel=$(ls /boot/vmlinuz-* | tail -1)
  timeout 60 qemu-system-x86_64 -nographic -no-reboot -m 256 -kernel "$kernel" \
    -append 'console=ttyS0 panic=-1' -serial mon:stdio </dev/null >boot-log.in 2>/dev/null || true
  echo "boot-log: $(wc -c <boot-log.in) bytes"
fi
