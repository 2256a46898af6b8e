#!/usr/bin/env bash
# Writes the synthetic byte streams of the corpus (one family of control
# functions each). Their expected screens come from regen.sh, like the
# recordings'. Usage: tests/term-corpus/make-synthetic.sh
#
# Left out because tmux, the reference, does not do what xterm does (unit
# tests in tests/term.rs cover them): HPR/VPR and CHT (ignored by tmux), the
# UK character set, invalid UTF-8 (tmux drops it, xterm shows U+FFFD), left
# and right margins and rectangle operations.
set -euo pipefail
cd "$(dirname "$0")"
w() { printf "$2" >"$1.in"; }
lines() { for i in $(seq "$1" "$2"); do printf 'line %03d\r\n' "$i"; done; }

w syn-wrap-pending 'abcdefghij0123456789abcdefghij0123456789\r\nX\e[1;40HY\e[2;40HZ\r\nexact fit then CR:\r\n0123456789012345678901234567890123456789\rOK\r\n'
w syn-autowrap-off '\e[?7l0123456789012345678901234567890123456789EXTRA\r\n\e[?7hafter re-enable 0123456789012345678901234XYZ\r\n'
w syn-scroll-region "$(lines 1 10)"'\e[3;7r\e[7;1Hscrolled A\r\nscrolled B\r\nscrolled C\e[r\e[12;1Hdone'
w syn-reverse-index "$(lines 1 8)"'\e[2;6r\e[2;1H\eMnew top\eM\eMagain\e[r\e[10;1Hend'
w syn-insert-delete-lines "$(lines 1 12)"'\e[4;1H\e[2L\e[8;1H\e[3M\e[2;10r\e[5;1H\e[L\e[r\e[15;1Hdone'
w syn-ich-dch-ech 'ABCDEFGHIJKLMNOP\r\n\e[1;4H\e[3@\r\n0123456789abcdef\e[2;3H\e[4P\r\nXXXXXXXXXXXXXXXX\e[3;5H\e[5X\e[4;1H'
w syn-erase-display "$(lines 1 8)"'\e[4;5H\e[J\e[2;3H\e[1J\e[6;1Hbelow\e[1;1H\e[1K'
w syn-erase-line 'aaaaaaaaaaaaaaaaaaaa\r\nbbbbbbbbbbbbbbbbbbbb\r\ncccccccccccccccccccc\e[1;10H\e[K\e[2;10H\e[1K\e[3;10H\e[2K\e[4;1Hend'
w syn-tabs 'a\tb\tc\td\r\n\e[3g\e[1;5H\eH\e[1;15H\eH\r\nx\ty\tz\r\n\e[4;30H\e[2Zback\e[5;1H\t\t\tforward\r\n'
w syn-cursor-motion '\e[5;10HA\e[2AB\e[3BC\e[4DD\e[6CE\e[10GF\e[8dG\e[2;2fH\e[3EI\e[2FJ\e[20`K'
w syn-save-restore '\e[3;5Hsaved\e7\e[10;10Hmoved\e8back\e[12;1H\e[s\e[1;1Htop\e[urest'
w syn-alt-screen 'primary line 1\r\nprimary line 2\r\n\e[?1049h\e[Halt screen text\r\nmore alt\e[?1049lback on primary'
w syn-alt-screen-47 'main\r\n\e[?47halt47 only\e[?47l after'
w syn-dec-graphics '\e(0lqqqqqqqqk\r\nx        x\r\ntqqqqqqqqu\r\nx  \e(Bab\e(0  x\r\nmqqqqqqqqj\e(B\r\n\e)0\x0elqk\x0f plain\r\n`afgjklmnopqrstuvwxyz{|}~\r\n'
w syn-utf8-wide 'CJK: 中文字符 テスト 한국어\r\nfull: ＡＢＣ\r\nmixed a中b文c\r\n'
w syn-wide-wrap '0123456789012345678中文\r\n012345678901234567中\r\n'
w syn-combining 'e\xcc\x81 a\xcc\x80\xcc\x82 n\xcc\x83o\r\nZalgo: Z\xcd\x91\xcd\x8ba\xcc\x93l\r\n'
w syn-emoji 'smile \xf0\x9f\x98\x80 done\r\nheart \xe2\x9d\xa4\xef\xb8\x8f x\r\nflag \xf0\x9f\x87\xab\xf0\x9f\x87\xb7 y\r\n'
w syn-sgr-text '\e[1mbold\e[0m \e[4munder\e[24m \e[38;5;196mred256\e[0m \e[38;2;1;2;3mrgb\e[0m \e[7minv\e[27m \e[38:2::10:20:30mcolon\e[m\r\n'
w syn-bce '\e[44m\e[2J\e[Hblue bg\e[K\r\n\e[0mplain\r\n'
w syn-origin-mode "$(lines 1 10)"'\e[3;8r\e[?6h\e[1;1HORIGIN\e[20;1Hclamped\e[?6l\e[r\e[12;1Hend'
w syn-su-sd "$(lines 1 10)"'\e[2S\e[1;1H\e[3;8r\e[T\e[r\e[12;1Hend'
w syn-rep 'x\e[5b\r\n-\e[20b|\r\n'
w syn-insert-mode 'abcdef\r\e[4hXY\e[4l\r\n'
w syn-bs-cr-lf 'abcdef\b\bXY\rZ\r\n\ttab\r\nvt\x0bff\x0cend'
w syn-scrollback-flood "$(lines 1 300)"'last'
w syn-long-wrap "$(for i in $(seq 1 30); do printf 'word%02d ' "$i"; done)"'\r\nnext'
w syn-decaln '\e#8\e[3;3Hhello\e[5;1H'
w syn-cnl-cpl '\e[5;5Hstart\e[2Enext\e[3Fprev'
w syn-ris 'garbage\e[31m red\ec after reset'
w syn-decstr '\e[3;5r\e[4h\e[?6h\e[!pnormal\r\n'
w syn-erase-pending-wrap 'abcde\e[KX\r\n\r\nabcde\e[2KY\r\n\r\nabcde\e[XZ\r\n\r\nabcde\e[1KW'
w syn-malformed '\e[999999999999Abig\e[;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;Hmany\e[?\e]0;unterminated title\e\\ok\eP1$qjunk\e\\ after\r\n\e[1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17;18;19;20;21;22;23;24;25;26;27;28;29;30;31;32;33;34;35mx\r\n'
