#!/usr/bin/env python3
"""Writes the synthetic byte streams of the golden-image tests (NAME.in here).

The real-program screens (vim, htop, a boot log, dialog) come from
tests/term-corpus; cases.txt says which input, geometry and options each
golden image in golden-images/ is rendered from. Run it from anywhere:
the streams are deterministic, so running it again changes nothing.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ESC = "\x1b"
CSI = ESC + "["


def write(name, text):
    with open(os.path.join(HERE, name + ".in"), "wb") as f:
        f.write(text.encode("utf-8"))


def crlf(lines):
    return "\r\n".join(lines)


def colors_16():
    out = [CSI + "2J" + CSI + "H" + "The 16 colours: SGR 30-37/90-97 on 40-47/100-107, then bold 30-37", ""]
    for bg in list(range(40, 48)) + list(range(100, 108)):
        row = f"{bg:>3} "
        for fg in list(range(30, 38)) + list(range(90, 98)):
            row += f"{CSI}{fg};{bg}m{fg:>3}{CSI}0m"
        out.append(row)
    out.append("")
    out.append("bold " + "".join(f"{CSI}1;{fg}m {fg} {CSI}0m" for fg in range(30, 38)) + "  (bold 0-7 is bright)")
    out.append("norm " + "".join(f"{CSI}{fg}m {fg} {CSI}0m" for fg in range(30, 38)))
    out.append("     " + "".join(f"{CSI}{bg}m    {CSI}0m" for bg in range(40, 48)))
    out.append("     " + "".join(f"{CSI}{bg}m    {CSI}0m" for bg in range(100, 108)))
    return crlf(out) + CSI + "?25l"


def colors_256():
    out = [CSI + "2J" + CSI + "H" + "The 256 colours: 0-15, the 6x6x6 cube (16-231), the greys (232-255)", ""]
    out.append("".join(f"{CSI}48;5;{i}m  {CSI}0m" for i in range(16)))
    out.append("")
    for green in range(6):
        row = ""
        for red in range(6):
            for blue in range(6):
                i = 16 + 36 * red + 6 * green + blue
                row += f"{CSI}48;5;{i}m  "
            row += f"{CSI}0m "
        out.append(row)
    out.append("")
    out.append("".join(f"{CSI}48;5;{i}m   {CSI}0m" for i in range(232, 256)))
    out.append("")
    out.append("".join(f"{CSI}38;5;{i}m{i % 10}" for i in range(16, 88)) + CSI + "0m")
    out.append("".join(f"{CSI}38;5;{i}m{i % 10}" for i in range(88, 160)) + CSI + "0m")
    out.append("".join(f"{CSI}38;5;{i}m{i % 10}" for i in range(160, 232)) + CSI + "0m")
    return crlf(out) + CSI + "?25l"


def truecolor():
    out = [CSI + "2J" + CSI + "H" + "True colour (SGR 38;2 and 48;2): gradients", ""]
    width = 78
    ramps = [
        lambda t: (t, 0, 0),
        lambda t: (0, t, 0),
        lambda t: (0, 0, t),
        lambda t: (t, t, t),
    ]
    for ramp in ramps:
        out.append("".join(f"{CSI}48;2;{';'.join(map(str, ramp(round(255 * x / (width - 1)))))}m " for x in range(width)) + CSI + "0m")
    # A hue sweep and a two-axis gradient.
    def hue(h):
        h6 = h * 6
        i, f = int(h6) % 6, h6 - int(h6)
        q, t = round(255 * (1 - f)), round(255 * f)
        return [(255, t, 0), (q, 255, 0), (0, 255, t), (0, q, 255), (t, 0, 255), (255, 0, q)][i]
    out.append("".join(f"{CSI}48;2;{';'.join(map(str, hue(x / width)))}m " for x in range(width)) + CSI + "0m")
    out.append("")
    for y in range(8):
        out.append("".join(f"{CSI}48;2;{round(255 * x / (width - 1))};{round(255 * y / 7)};128m " for x in range(width)) + CSI + "0m")
    out.append("")
    out.append("".join(f"{CSI}38;2;{255 - round(255 * x / (width - 1))};{round(255 * x / (width - 1))};64m#" for x in range(width)) + CSI + "0m")
    return crlf(out) + CSI + "?25l"


def sgr():
    rows = [
        ("0", "plain"),
        ("1", "bold"),
        ("2", "dim (faint)"),
        ("3", "italic"),
        ("1;3", "bold italic"),
        ("4", "underline"),
        ("4:2", "double underline (4:2)"),
        ("21", "double underline (21)"),
        ("4:3", "curly underline (4:3)"),
        ("5", "blink (shown in its on phase)"),
        ("7", "inverse"),
        ("8", "hidden (nothing after the colon):"),
        ("9", "strikethrough"),
        ("53", "overline"),
        ("31;4", "red underlined"),
        ("1;31;44", "bold red on blue"),
        ("2;32", "dim green"),
        ("7;33", "inverse yellow"),
        ("3;4;9;53;35", "italic, underline, strike, overline, magenta"),
        ("38;2;255;128;0;48;2;0;64;128", "true colour fg and bg, gjpqy_"),
    ]
    out = [CSI + "2J" + CSI + "H" + "Every SGR attribute:"]
    for code, text in rows:
        out.append(f"{code:>28}: {CSI}{code}m{text}{CSI}0m")
    return crlf(out) + CSI + "?25l"


def cursor(style, name, wide=False):
    where = "on the wide character" if wide else "on the second letter of the word"
    out = [CSI + "2J" + CSI + "H" + f"The {name} cursor (DECSCUSR {style}), steady,", f"{where} below:", "", "  cursor 漢字"]
    # The cursor on the 'u' of "cursor", or on 漢.
    return crlf(out) + f"{CSI}{style} q{CSI}4;{10 if wide else 4}H"


def box_drawing():
    out = [CSI + "2J" + CSI + "H" + "U+2500-U+257F, one row of 16 each, twice spaced then packed:"]
    for base in range(0x2500, 0x2580, 16):
        out.append(f"{base:04X} " + " ".join(chr(c) for c in range(base, base + 16)) + "   " + "".join(chr(c) for c in range(base, base + 16)))
    out.append("")
    grids = [
        ["┌──┬──┐ ┏━━┳━━┓ ╔══╦══╗ ╭──┬──╮ ┍━━┯━━┑ ╓──╥──╖ ┌╌╌┐ ┏┅┅┓", "│  │  │ ┃  ┃  ┃ ║  ║  ║ │  │  │ │  │  │ ║  ║  ║ ╎  ╎ ┇  ┇", "├──┼──┤ ┣━━╋━━┫ ╠══╬══╣ ├──┼──┤ ┝━━┿━━┥ ╟──╫──╢ └╌╌┘ ┗┅┅┛", "│  │  │ ┃  ┃  ┃ ║  ║  ║ │  │  │ │  │  │ ║  ║  ║ ╲  ╱ ╳╳╳╳", "└──┴──┘ ┗━━┻━━┛ ╚══╩══╝ ╰──┴──╯ ┕━━┷━━┙ ╙──╨──╜  ╲╱  ╱╲╱╲"],
    ]
    for grid in grids:
        out.extend(grid)
    out.append("")
    out.append("┌─┰─┒ ╒═╤═╕ ┟┄┧ ╼━╾ ╽ ╿ ╴╶╵╷ ╸╺╹╻")
    out.append("┝━╋━┥ ╞═╪═╡ ┞┈┦")
    out.append("└─┸─┚ ╘═╧═╛")
    return crlf(out) + CSI + "?25l"


def blocks():
    out = [CSI + "2J" + CSI + "H" + "U+2580-U+259F, spaced then packed:"]
    out.append(" ".join(chr(c) for c in range(0x2580, 0x25A0)))
    out.append("".join(chr(c) for c in range(0x2580, 0x25A0)))
    out.append("")
    out.append("Eighths, a bar chart:  " + "".join(chr(c) for c in range(0x2581, 0x2589)) + "".join(chr(c) for c in range(0x2588, 0x2580, -1)))
    out.append("Left eighths:          " + "".join(chr(c) for c in range(0x258F, 0x2587, -1)))
    out.append("Shades:                ░░░░▒▒▒▒▓▓▓▓████")
    out.append(f"Coloured:              {CSI}31m████{CSI}32m▓▓▓▓{CSI}34;43m▒▒▒▒{CSI}35;46m░░░░{CSI}0m")
    out.append("Quadrants:             ▛▀▜ ▗▄▖ ▚▞")
    out.append("                       ▌ ▐ ▐█▌ ▞▚")
    out.append("                       ▙▄▟ ▝▀▘")
    out.append("")
    for i in range(4):
        out.append("Solid " + "█" * 20 + "▀" * 10 + "▄" * 10)
    return crlf(out) + CSI + "?25l"


def dec_menu():
    # A dialog-style menu drawn the way ncurses does on a VT100: DEC line
    # drawing through G0 (ESC ( 0) and SO/SI with G1.
    w, h, left, top = 44, 12, 18, 5
    out = CSI + "2J" + ESC + ")0" + CSI + "44m" + CSI + "H"
    for y in range(24):
        out += CSI + f"{y + 1};1H" + " " * 80
    out += CSI + "1;1H" + CSI + "37;44m Package configuration" + CSI + "0m"
    out += CSI + "47;30m"
    out += CSI + f"{top};{left}H" + ESC + "(0" + "l" + "q" * (w - 2) + "k" + ESC + "(B"
    for y in range(1, h - 1):
        out += CSI + f"{top + y};{left}H" + ESC + "(0x" + ESC + "(B" + " " * (w - 2) + ESC + "(0x" + ESC + "(B"
    out += CSI + f"{top + h - 1};{left}H" + "\x0e" + "m" + "q" * (w - 2) + "j" + "\x0f"
    out += CSI + f"{top};{left + 14}H" + "\x0eu\x0f" + CSI + "31m Main menu " + CSI + "30m\x0et\x0f"
    out += CSI + f"{top + 2};{left + 2}H" + "Choose an option with the arrow keys:"
    items = [("1", "Install"), ("2", "Configure network"), ("3", "Partition disks"), ("4", "Exit")]
    out += CSI + f"{top + 3};{left + 4}H" + "\x0e" + "l" + "q" * 32 + "k" + "\x0f"
    for i, (key, text) in enumerate(items):
        line = f"  {key}  {text}".ljust(32)
        style = CSI + "37;44m" if i == 1 else CSI + "30;47m"
        out += CSI + f"{top + 4 + i};{left + 4}H" + "\x0ex\x0f" + style + line + CSI + "30;47m" + "\x0ex\x0f"
    out += CSI + f"{top + 8};{left + 4}H" + "\x0e" + "m" + "q" * 32 + "j" + "\x0f"
    out += CSI + f"{top + 9};{left + 4}H" + "\x0e" + "tqqnqqu" + "\x0f" + " scan lines: " + "\x0eopqrs\x0f" + " misc: " + "\x0e`afgy|z~\x0f"
    out += CSI + f"{top + 10};{left + 10}H" + CSI + "37;41m" + "<  OK  >" + CSI + "30;47m" + "    <Cancel>"
    out += CSI + "0m" + CSI + "?25l"
    return out


def cjk():
    out = [CSI + "2J" + CSI + "H" + "Wide characters take two cells:", ""]
    out.append("|漢字|かな|カナ|한국어|中文|")
    out.append("|12345678901234567890123456|")
    out.append("")
    out.append(f"{CSI}31m红色{CSI}32;44m绿色{CSI}0m {CSI}4m下划线{CSI}0m {CSI}7m反转{CSI}0m")
    out.append("全角ＡＢＣ１２３ vs ABC123")
    out.append("")
    out.append("Wrapped at the margin:")
    out.append("ここは日本語のテキストで、行の終わりで折り返されるはずです。")
    return crlf(out) + CSI + "?25l"


def marks():
    out = [CSI + "2J" + CSI + "H" + "Combining marks (base + U+0300..):", ""]
    out.append("e\u0301 e\u0300 e\u0302 e\u0308 a\u030a n\u0303 c\u0327 o\u0308\u0304 u\u031b\u0323")
    out.append("Z\u0351\u0307 x\u0336 q\u0323\u0307 i\u0307 A\u030b")
    out.append("precomposed: é è ê ë å ñ ç")
    out.append("")
    out.append("Missing glyphs are boxes: [\U000F0001] [\U0010FFFD] [\uE000]")
    out.append("Symbols: ☺ ★ ♥ ✓ ⚠ ☃ ⌘ ⏎ ♪ ∑ ∫ ≠ ≤ ← → ↑ ↓")
    out.append("Emoji (monochrome): 😀 🙂 🔥 🐧 🚀 👍")
    return crlf(out) + CSI + "?25l"


def shell():
    lines = [
        "user@host:~$ ls -l /etc/hostname /etc/hosts",
        "-rw-r--r-- 1 root root  9 Jan 12 10:15 /etc/hostname",
        "-rw-r--r-- 1 root root 221 Jan 12 10:15 /etc/hosts",
        "user@host:~$ uname -a",
        "Linux host 6.1.0-18-amd64 #1 SMP Debian 6.1.76-1 x86_64 GNU/Linux",
        "user@host:~$ cat /etc/os-release | head -3",
        'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
        'NAME="Debian GNU/Linux"',
        'VERSION_ID="12"',
        "user@host:~$ echo The quick brown fox jumps over the lazy dog",
        "The quick brown fox jumps over the lazy dog",
        "user@host:~$ df -h /",
        "Filesystem      Size  Used Avail Use% Mounted on",
        "/dev/vda1        20G  4.2G   15G  23% /",
        "user@host:~$ ",
    ]
    return crlf(lines)


def reverse_video():
    return CSI + "?5h" + sgr().replace(CSI + "?25l", "") + CSI + "22;1H" + "DECSCNM (reverse video) is on."


def osc_colors():
    out = ESC + "]11;rgb:28/2c/34" + "\x07" + ESC + "]10;rgb:dc/df/e4\x07" + ESC + "]12;#00ff00\x07"
    out += ESC + "]4;1;rgb:e0/6c/75\x07" + ESC + "]4;2;rgb:98/c3/79\x07" + ESC + "]4;4;#61afef\x07"
    lines = [CSI + "2J" + CSI + "H" + "OSC 10/11/12 set the default colours and the cursor's;",
             "OSC 4 changed red, green and blue:", "",
             f"{CSI}31mred{CSI}0m {CSI}32mgreen{CSI}0m {CSI}34mblue{CSI}0m {CSI}7minverse default{CSI}0m",
             "", "the cursor is green: "]
    return out + crlf(lines)


def blink_off():
    lines = [CSI + "2J" + CSI + "H" + "Blink phase off: the blinking text and cursor are not shown.", "",
             f"steady text, {CSI}5mblinking text{CSI}0m, steady again", "", f"{CSI}1 qblinking block cursor here: "]
    return crlf(lines)


def main():
    streams = {
        "colors-16": colors_16(),
        "colors-256": colors_256(),
        "truecolor": truecolor(),
        "sgr-attributes": sgr(),
        "cursor-block": cursor(2, "block"),
        "cursor-underline": cursor(4, "underline"),
        "cursor-bar": cursor(6, "bar"),
        "cursor-wide": cursor(2, "block", wide=True),
        "box-drawing": box_drawing(),
        "block-elements": blocks(),
        "dec-menu": dec_menu(),
        "cjk-wide": cjk(),
        "marks-missing": marks(),
        "shell": shell(),
        "reverse-video": reverse_video(),
        "osc-colors": osc_colors(),
        "blink-off": blink_off(),
    }
    for name, text in streams.items():
        write(name, text)


if __name__ == "__main__":
    main()
