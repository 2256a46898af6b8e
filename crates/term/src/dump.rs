//! The visible screen as plain text or as text with SGR sequences.

use std::fmt::Write as _;

use super::cell::Marks;
use super::cell::{Cell, Color, Flags};

/// One row as text: wide characters once, combining marks after their base,
/// trailing blanks trimmed.
pub(crate) fn row_text(cells: &[Cell], marks: &Marks, out: &mut String) {
    let start = out.len();
    for cell in cells {
        if cell.flags.contains(Flags::WIDE_SPACER) {
            continue;
        }
        out.push(cell.c);
        out.extend(marks.get(cell.marks));
    }
    let trimmed = out[start..].trim_end_matches(' ').len();
    out.truncate(start + trimmed);
}

/// One row with SGR sequences: attributes change only where they change,
/// trailing default blanks are trimmed, and the row ends in the default state.
pub(crate) fn row_ansi(cells: &[Cell], marks: &Marks, out: &mut String) {
    let end = cells.iter().rposition(|c| *c != Cell::BLANK).map_or(0, |i| i + 1);
    let mut current = (Color::Default, Color::Default, Flags::empty());
    for cell in &cells[..end] {
        if cell.flags.contains(Flags::WIDE_SPACER) {
            continue;
        }
        let style = (cell.fg, cell.bg, cell.flags.and(Flags::SGR));
        if style != current {
            out.push_str("\x1b[0");
            push_sgr(style.0, style.1, style.2, out);
            out.push('m');
            current = style;
        }
        out.push(cell.c);
        out.extend(marks.get(cell.marks));
    }
    if current != (Color::Default, Color::Default, Flags::empty()) {
        out.push_str("\x1b[0m");
    }
}

fn push_sgr(fg: Color, bg: Color, flags: Flags, out: &mut String) {
    for (flag, code) in [
        (Flags::BOLD, "1"),
        (Flags::DIM, "2"),
        (Flags::ITALIC, "3"),
        (Flags::UNDERLINE, "4"),
        (Flags::DOUBLE_UNDERLINE, "21"),
        (Flags::CURLY_UNDERLINE, "4:3"),
        (Flags::BLINK, "5"),
        (Flags::INVERSE, "7"),
        (Flags::HIDDEN, "8"),
        (Flags::STRIKE, "9"),
        (Flags::OVERLINE, "53"),
    ] {
        if flags.contains(flag) {
            out.push(';');
            out.push_str(code);
        }
    }
    color(fg, 30, 90, 38, out);
    color(bg, 40, 100, 48, out);
}

fn color(c: Color, base: u8, bright: u8, ext: u8, out: &mut String) {
    let _ = match c {
        Color::Default => Ok(()),
        Color::Indexed(i) if i < 8 => write!(out, ";{}", base + i),
        Color::Indexed(i) if i < 16 => write!(out, ";{}", bright + i - 8),
        Color::Indexed(i) => write!(out, ";{ext};5;{i}"),
        Color::Rgb(r, g, b) => write!(out, ";{ext};2;{r};{g};{b}"),
    };
}
