#!/usr/bin/env bash
# Regenerates the expected screens of the terminal corpus from a reference
# terminal: tmux replays each byte stream in a pane of the case's size and
# capture-pane saves the final screen. vcmux is never involved.
#
#   tests/term-corpus/regen.sh            # every case in cases.txt
#   tests/term-corpus/regen.sh vim-edit   # only the named ones
#
# Needs tmux (the references were made with tmux 3.3a), perl and the C.UTF-8
# locale. Each case is a line `NAME COLS ROWS` in cases.txt; the stream is
# NAME.in (raw bytes as a program wrote them to its tty), the screen NAME.txt.
#
# tmux quirks handled here:
# - the pane's tty is put in raw mode (no ONLCR), so bytes reach tmux as they
#   are in the file;
# - `capture-pane -e` marks DEC line-drawing cells with SO/SI and shows them
#   as their ASCII letters: they are translated to the glyphs a terminal
#   shows, and the SGR sequences of -e are then dropped;
# - trailing blanks are trimmed, one line per row.
set -euo pipefail
cd "$(dirname "$0")"
export LANG=C.UTF-8 LC_ALL=C.UTF-8
sock="vcmux-corpus-$$"
conf="$(mktemp)"
printf 'set -g status off\nset -g history-limit 10000\nset -g escape-time 0\n' >"$conf"
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -f "$conf"' EXIT

translate() {
  perl -CSD -Mutf8 -ne '
    BEGIN {
      %g = ("`","◆","a","▒","b","␉","c","␌","d","␍","e","␊","f","°","g","±",
            "h","␤","i","␋","j","┘","k","┐","l","┌","m","└","n","┼","o","⎺",
            "p","⎻","q","─","r","⎼","s","⎽","t","├","u","┤","v","┴","w","┬",
            "x","│","y","≤","z","≥","{","π","|","≠","}","£","~","·","_"," ");
      $acs = 0;
    }
    chomp;
    s/\e\[[0-9;:]*m//g;
    $out = "";
    # SO/SI state carries over from one row to the next.
    for $c (split //) {
      if ($c eq "\x0e") { $acs = 1 } elsif ($c eq "\x0f") { $acs = 0 }
      else { $out .= ($acs && exists $g{$c}) ? $g{$c} : $c }
    }
    $out =~ s/ +$//;
    print "$out\n";
  '
}

while read -r name cols rows; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  if (($#)) && [[ " $* " != *" $name "* ]]; then continue; fi
  tmux -L "$sock" -f "$conf" new-session -d -s "$name" -x "$cols" -y "$rows" \
    "stty raw -echo; cat '$PWD/$name.in'; tmux -L '$sock' wait-for -S '$name-done'; exec sleep 100000"
  tmux -L "$sock" wait-for "$name-done"
  sleep 0.5
  tmux -L "$sock" capture-pane -p -e -t "$name" | translate >"$name.txt"
  tmux -L "$sock" kill-session -t "$name"
  echo "$name: $(wc -l <"$name.txt") rows"
done <cases.txt
