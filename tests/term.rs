//! Unit tests of `vcmux::term`, one group per family of control functions,
//! plus regressions for the esctest2 families fixed along the way.

use vcmux::term::{Cell, Color, CursorShape, Flags, LineMark, MouseEncoding, MouseTracking, Terminal};

fn run(cols: u16, rows: u16, input: &str) -> Terminal {
    let mut t = Terminal::new(cols, rows, 100);
    t.advance(input.as_bytes());
    t
}

fn lines(t: &Terminal) -> Vec<String> {
    t.screen_text().lines().map(str::to_string).collect()
}

fn line(t: &Terminal, y: usize) -> String {
    lines(t)[y].clone()
}

fn cursor(t: &Terminal) -> (u16, u16) {
    let c = t.cursor();
    (c.col, c.row)
}

fn reply(t: &mut Terminal) -> String {
    String::from_utf8_lossy(&t.take_replies()).into_owned()
}

fn cell(t: &Terminal, x: usize, y: u16) -> Cell {
    t.row(y).expect("row")[x]
}

// ---- C0 controls ---------------------------------------------------------

#[test]
fn c0_bs_ht_lf_cr_vt_ff() {
    let t = run(20, 5, "abc\x08X\r\n\tT\x0bV\x0cF\rZ");
    assert_eq!(line(&t, 0), "abX");
    assert_eq!(line(&t, 1), "        T");
    assert_eq!(line(&t, 2), "         V");
    assert_eq!(line(&t, 3), "Z         F");
}

#[test]
fn c0_so_si_switch_to_g1() {
    let t = run(20, 2, "\x1b)0a\x0eqq\x0fq");
    assert_eq!(line(&t, 0), "a──q");
}

#[test]
fn bel_is_counted_not_printed() {
    let mut t = run(10, 2, "a\x07b");
    assert_eq!(line(&t, 0), "ab");
    assert_eq!(t.take_bells(), 1);
}

// ---- ESC sequences -------------------------------------------------------

#[test]
fn esc_save_restore_cursor_and_attributes() {
    let t = run(20, 5, "\x1b[2;3H\x1b[1m\x1b7\x1b[m\x1b[5;5H\x1b8X");
    assert_eq!(line(&t, 1), "  X");
    assert!(cell(&t, 2, 1).flags.contains(Flags::BOLD));
}

#[test]
fn esc_index_next_line_reverse_index_tab_set() {
    let t = run(20, 3, "a\x1bDb\x1bEc\x1bM\x1bMd");
    assert_eq!(lines(&t), vec!["ad", " b", "c"]);
    let t = run(30, 2, "\x1b[3g\x1b[1;4H\x1bH\r\tX");
    assert_eq!(line(&t, 0), "   X");
}

#[test]
fn esc_ris_resets_everything() {
    let t = run(20, 3, "abc\x1b[31m\x1b[?7l\x1bcd");
    assert_eq!(lines(&t)[0], "d");
    assert!(t.modes().autowrap);
    assert_eq!(cell(&t, 0, 0).fg, Color::Default);
}

#[test]
fn esc_keypad_modes() {
    let mut t = run(10, 2, "\x1b=");
    assert!(t.modes().app_keypad);
    t.advance(b"\x1b>");
    assert!(!t.modes().app_keypad);
}

#[test]
fn esc_decaln_fills_with_e() {
    let t = run(4, 2, "\x1b#8");
    assert_eq!(lines(&t), vec!["EEEE", "EEEE"]);
    assert_eq!(cursor(&t), (0, 0));
}

// ---- character sets and text --------------------------------------------

#[test]
fn dec_special_graphics_and_uk() {
    let t = run(20, 2, "\x1b(0lqk\x1b(B x \x1b(A#");
    assert_eq!(line(&t, 0), "┌─┐ x £");
}

#[test]
fn invalid_utf8_shows_replacement_character() {
    let t = run(20, 2, "a\u{fffd}b");
    assert_eq!(line(&t, 0), "a\u{fffd}b");
    let mut t = Terminal::new(20, 2, 0);
    t.advance(b"a\xffb\xe4\xb8c");
    assert_eq!(line(&t, 0), "a\u{fffd}b\u{fffd}c");
}

#[test]
fn utf8_split_across_calls() {
    let mut t = Terminal::new(10, 2, 0);
    let bytes = "中".as_bytes();
    t.advance(&bytes[..1]);
    t.advance(&bytes[1..]);
    assert_eq!(line(&t, 0), "中");
}

#[test]
fn utf8_split_before_ascii_and_invalid_bytes_keeps_every_byte() {
    // vte alone drops the `Z` here (it counts the bytes after a completed
    // split character as used when invalid ones follow).
    let mut t = Terminal::new(10, 2, 0);
    t.advance(b"a\xd7");
    t.advance(b"\x90Z\xc0b");
    assert_eq!(line(&t, 0), "a\u{5d0}Z\u{fffd}b");
    // A split start that turns out invalid is one U+FFFD, as unsplit.
    let mut t = Terminal::new(10, 2, 0);
    t.advance(b"a\xe4\xb8");
    t.advance(b"c\xe4");
    t.advance(b"\xb8\xad");
    assert_eq!(line(&t, 0), "a\u{fffd}c\u{4e2d}");
}

#[test]
fn c1_controls_in_utf8_are_not_printed_even_when_split() {
    let mut t = Terminal::new(10, 2, 0);
    t.advance("a\u{85}b\u{9b}c\u{a0}".as_bytes());
    t.advance(b"\xc2");
    t.advance(b"\x85d");
    assert_eq!(line(&t, 0), "abc\u{a0}d");
    assert_eq!(cursor(&t), (5, 0));
}

#[test]
fn runs_of_wide_and_combining_characters_wrap_like_single_ones() {
    // 7 columns: 中 中 中 then 中 does not fit in the last one; marks join
    // the wide character before them, also right after a wrap.
    let t = run(7, 3, "中\u{301}中中中\u{302}é\u{20dd}한");
    assert_eq!(lines(&t)[..2], ["中\u{301}中中", "中\u{302}é\u{20dd}한"]);
    assert_eq!(t.marks(&cell(&t, 0, 1)), &['\u{302}']);
    assert_eq!(cursor(&t), (5, 1));
    // At the margin a character of width 1 sets the pending wrap.
    let t = run(4, 2, "ééé中é");
    assert_eq!(lines(&t)[..2], ["ééé", "中é"]);
    let t = run(4, 2, "éééé");
    assert_eq!(cursor(&t), (3, 0));
    assert_eq!(line(&t, 0), "éééé");
}

#[test]
fn combining_marks_join_previous_cell() {
    let t = run(10, 2, "e\u{301}x");
    assert_eq!(line(&t, 0), "e\u{301}x");
    assert_eq!(t.marks(&cell(&t, 0, 0)), &['\u{301}']);
    assert_eq!(cursor(&t), (2, 0));
}

#[test]
fn wide_characters_take_two_cells() {
    let t = run(10, 2, "a中b");
    assert!(cell(&t, 1, 0).flags.contains(Flags::WIDE));
    assert!(cell(&t, 2, 0).flags.contains(Flags::WIDE_SPACER));
    assert_eq!(cursor(&t), (4, 0));
    assert_eq!(line(&t, 0), "a中b");
}

#[test]
fn wide_character_wraps_when_it_does_not_fit() {
    let t = run(5, 3, "abcd中");
    assert_eq!(lines(&t)[..2], ["abcd", "中"]);
}

#[test]
fn overwriting_half_a_wide_character_blanks_the_other_half() {
    let t = run(10, 2, "中\x1b[1;2HX");
    assert_eq!(line(&t, 0), " X");
}

#[test]
fn widths_are_per_code_point() {
    // An emoji with VS16 is 2 + 0 columns, as glibc's wcwidth counts it.
    let t = run(10, 2, "\u{2764}\u{fe0f}x");
    assert_eq!(cursor(&t), (2, 0));
}

// ---- wrapping ------------------------------------------------------------

#[test]
fn pending_wrap_at_the_right_margin() {
    let t = run(5, 3, "abcde");
    assert_eq!(cursor(&t), (4, 0));
    let t = run(5, 3, "abcde\rX");
    assert_eq!(line(&t, 0), "Xbcde");
    let t = run(5, 3, "abcdeX");
    assert_eq!(lines(&t)[..2], ["abcde", "X"]);
}

#[test]
fn erases_leave_a_pending_wrap_pending() {
    // As tmux (the corpus' reference) does, and as top relies on when it
    // writes whole lines followed by EL: the last character stays.
    let t = run(5, 3, "abcde\x1b[KX");
    assert_eq!(lines(&t)[..2], ["abcde", "X"]);
    let t = run(5, 3, "abcde\x1b[XZ");
    assert_eq!(lines(&t)[..2], ["abcde", "Z"]);
    let t = run(5, 3, "abcde\x1b[2KY");
    assert_eq!(lines(&t)[..2], ["", "Y"]);
}

#[test]
fn autowrap_off_overwrites_the_last_column() {
    let t = run(5, 3, "\x1b[?7labcdefg");
    assert_eq!(lines(&t)[..2], ["abcdg", ""]);
}

// ---- cursor motion -------------------------------------------------------

#[test]
fn csi_cursor_motion() {
    let mut t = run(20, 10, "\x1b[5;10H");
    assert_eq!(cursor(&t), (9, 4));
    for (seq, want) in [
        ("\x1b[2A", (9, 2)),
        ("\x1b[3B", (9, 5)),
        ("\x1b[4C", (13, 5)),
        ("\x1b[2D", (11, 5)),
        ("\x1b[2E", (0, 7)),
        ("\x1b[1F", (0, 6)),
        ("\x1b[7G", (6, 6)),
        ("\x1b[3d", (6, 2)),
        ("\x1b[2;3f", (2, 1)),
        ("\x1b[5`", (4, 1)),
        ("\x1b[3a", (7, 1)),
        ("\x1b[2e", (7, 3)),
        ("\x1b[99;99H", (19, 9)),
    ] {
        t.advance(seq.as_bytes());
        assert_eq!(cursor(&t), want, "{seq:?}");
    }
}

#[test]
fn cht_cbt_and_tbc() {
    let mut t = run(40, 2, "\x1b[2I");
    assert_eq!(cursor(&t), (16, 0));
    t.advance(b"\x1b[Z");
    assert_eq!(cursor(&t), (8, 0));
    t.advance(b"\x1b[g\x1b[H\t");
    assert_eq!(cursor(&t), (16, 0));
    t.advance(b"\x1b[3g\x1b[H\t");
    assert_eq!(cursor(&t), (39, 0));
    t.advance(b"\x1b[?5W\x1b[H\t");
    assert_eq!(cursor(&t), (8, 0), "DECST8C resets stops every 8 columns");
}

#[test]
fn rep_repeats_the_last_character() {
    let t = run(20, 2, "ab\x1b[3b");
    assert_eq!(line(&t, 0), "abbbb");
}

#[test]
fn scosc_scorc_save_and_restore() {
    let t = run(20, 3, "\x1b[2;5H\x1b[s\x1b[H\x1b[uX");
    assert_eq!(line(&t, 1), "    X");
}

// ---- editing -------------------------------------------------------------

#[test]
fn erase_in_display() {
    let base = "aaaa\r\nbbbb\r\ncccc\x1b[2;3H";
    assert_eq!(lines(&run(4, 3, &format!("{base}\x1b[J"))), ["aaaa", "bb", ""]);
    assert_eq!(lines(&run(4, 3, &format!("{base}\x1b[1J"))), ["", "   b", "cccc"]);
    assert_eq!(lines(&run(4, 3, &format!("{base}\x1b[2J"))), ["", "", ""]);
}

#[test]
fn ed3_clears_scrollback() {
    let mut t = run(4, 2, "1\r\n2\r\n3\r\n4");
    assert_eq!(t.history_len(), 2);
    t.advance(b"\x1b[3J");
    assert_eq!(t.history_len(), 0);
    assert_eq!(lines(&t), ["3", "4"]);
}

#[test]
fn erase_in_line_and_ech() {
    let base = "abcdef\x1b[1;3H";
    assert_eq!(line(&run(6, 1, &format!("{base}\x1b[K")), 0), "ab");
    assert_eq!(line(&run(6, 1, &format!("{base}\x1b[1K")), 0), "   def");
    assert_eq!(line(&run(6, 1, &format!("{base}\x1b[2K")), 0), "");
    assert_eq!(line(&run(6, 1, &format!("{base}\x1b[2X")), 0), "ab  ef");
}

#[test]
fn insert_and_delete_characters() {
    assert_eq!(line(&run(6, 1, "abcdef\x1b[1;2H\x1b[2@"), 0), "a  bcd");
    assert_eq!(line(&run(6, 1, "abcdef\x1b[1;2H\x1b[2P"), 0), "adef");
}

#[test]
fn insert_mode_shifts_text() {
    assert_eq!(line(&run(8, 1, "abcd\r\x1b[4hXY\x1b[4lZ"), 0), "XYZbcd");
}

#[test]
fn insert_and_delete_lines_inside_the_region() {
    let base = "1\r\n2\r\n3\r\n4\r\n5\x1b[2;4r\x1b[3;1H";
    assert_eq!(lines(&run(3, 5, &format!("{base}\x1b[L"))), ["1", "2", "", "3", "5"]);
    assert_eq!(lines(&run(3, 5, &format!("{base}\x1b[M"))), ["1", "2", "4", "", "5"]);
}

#[test]
fn scroll_up_and_down() {
    let base = "1\r\n2\r\n3\r\n4";
    assert_eq!(lines(&run(3, 4, &format!("{base}\x1b[S"))), ["2", "3", "4", ""]);
    assert_eq!(lines(&run(3, 4, &format!("{base}\x1b[2T"))), ["", "", "1", "2"]);
}

// ---- margins -------------------------------------------------------------

#[test]
fn decstbm_limits_scrolling() {
    let t = run(3, 4, "1\r\n2\r\n3\r\n4\x1b[2;3r\x1b[3;1H\nX");
    assert_eq!(lines(&t), ["1", "3", "X", "4"]);
}

#[test]
fn origin_mode_is_relative_to_the_margins() {
    let mut t = run(10, 6, "\x1b[2;5r\x1b[?6h\x1b[1;1HX\x1b[99;1HY");
    assert_eq!(line(&t, 1), "X");
    assert_eq!(line(&t, 4), "Y");
    t.advance(b"\x1b[6n");
    assert_eq!(reply(&mut t), "\x1b[4;2R");
}

#[test]
fn left_right_margins_wrap_and_scroll_inside() {
    let t = run(6, 3, "\x1b[?69h\x1b[2;4s\x1b[1;2Habcdef");
    assert_eq!(lines(&t)[..2], [" abc", " def"]);
    let t = run(6, 2, "xxxxxx\r\nyyyyyy\x1b[?69h\x1b[2;4s\x1b[2;2H\n");
    assert_eq!(lines(&t), ["xyyyxx", "y   yy"]);
}

#[test]
fn deleting_or_inserting_every_line_of_the_region_within_margins() {
    // As many lines as the region has, from its top row: a guest could crash us.
    let t = run(4, 2, "abcd\r\nefgh\x1b[?69h\x1b[2;3s\x1b[1;2H\x1b[2M");
    assert_eq!(lines(&t), ["a  d", "e  h"]);
    let t = run(4, 2, "abcd\r\nefgh\x1b[?69h\x1b[2;3s\x1b[1;2H\x1b[9L");
    assert_eq!(lines(&t), ["a  d", "e  h"]);
}

#[test]
fn decslrm_needs_declrmm() {
    let t = run(6, 2, "\x1b[2;4s\x1b[1;1HX");
    assert_eq!(line(&t, 0), "X");
}

// ---- reverse wraparound (esctest BS/CUB family) --------------------------

#[test]
fn reverse_wrap_moves_to_previous_line() {
    let t = run(10, 3, "\x1b[?45h\x1b[2;1H\x08X");
    assert_eq!(line(&t, 0), "         X");
    let t = run(10, 3, "\x1b[2;1H\x08X");
    assert_eq!(line(&t, 1), "X");
}

#[test]
fn reverse_wrap_cub_counts_across_lines() {
    // 13 cells back from row 3 column 3 of a 10-column screen.
    let t = run(10, 3, "\x1b[?45h\x1b[3;3H\x1b[13DX");
    assert_eq!(line(&t, 0), "         X");
}

#[test]
fn decstr_resets_reverse_wrap() {
    let t = run(10, 3, "\x1b[?45h\x1b[!p\x1b[2;1H\x08X");
    assert_eq!(line(&t, 1), "X");
}

// ---- modes ---------------------------------------------------------------

#[test]
fn decset_modes_for_keys_mouse_and_paste() {
    let t = run(10, 2, "\x1b[?1h\x1b[?1002h\x1b[?1006h\x1b[?2004h\x1b[?25l\x1b[?2026h");
    let m = t.modes();
    assert!(m.app_cursor && m.bracketed_paste && m.synchronized_output);
    assert_eq!(m.mouse, MouseTracking::ButtonMotion);
    assert_eq!(m.mouse_encoding, MouseEncoding::Sgr);
    assert!(!t.cursor().visible);
    let t = run(10, 2, "\x1b[?1000h\x1b[?1003h\x1b[?1003l\x1b[?5h\x1b[20h");
    assert_eq!(t.modes().mouse, MouseTracking::Off);
    assert!(t.modes().reverse_video && t.modes().newline);
}

#[test]
fn alternate_screens() {
    let mut t = run(10, 2, "main\x1b[?1049halt");
    assert!(t.is_alternate_screen());
    // The cursor stays where it was, on a cleared alternate screen.
    assert_eq!(line(&t, 0), "    alt");
    t.advance(b"\x1b[?1049l");
    assert_eq!(line(&t, 0), "main");
    assert_eq!(cursor(&t), (4, 0));
    let t = run(10, 2, "a\x1b[?47hb\x1b[?47l");
    assert_eq!(line(&t, 0), "a");
    let t = run(10, 2, "\x1b[?1047hb\x1b[?1047l\x1b[?1047h");
    assert_eq!(line(&t, 0), "");
    // Entering it again clears it again.
    let t = run(10, 2, "\x1b[?1049hold\x1b[?1049h");
    assert_eq!(line(&t, 0), "");
    let t = run(10, 2, "\x1b[1;3H\x1b[?1048h\x1b[H\x1b[?1048lX");
    assert_eq!(line(&t, 0), "  X");
}

#[test]
fn linefeed_mode_returns_the_carriage() {
    assert_eq!(lines(&run(5, 2, "\x1b[20hab\ncd")), ["ab", "cd"]);
}

#[test]
fn cursor_style_and_blink() {
    let t = run(5, 2, "\x1b[4 q");
    assert_eq!(t.cursor().shape, CursorShape::Underline);
    assert!(!t.cursor().blinking);
    let t = run(5, 2, "\x1b[5 q");
    assert_eq!(t.cursor().shape, CursorShape::Bar);
    assert!(t.cursor().blinking);
}

// ---- SGR -----------------------------------------------------------------

#[test]
fn sgr_attributes() {
    let t = run(20, 1, "\x1b[1;2;3;4;5;7;8;9;53mA\x1b[22;23;24;25;27;28;29;55mB\x1b[21mC\x1b[4:3mD");
    let a = cell(&t, 0, 0).flags;
    for f in [
        Flags::BOLD,
        Flags::DIM,
        Flags::ITALIC,
        Flags::UNDERLINE,
        Flags::BLINK,
        Flags::INVERSE,
        Flags::HIDDEN,
        Flags::STRIKE,
        Flags::OVERLINE,
    ] {
        assert!(a.contains(f), "{f:?}");
    }
    assert_eq!(cell(&t, 1, 0).flags, Flags::empty());
    assert!(cell(&t, 2, 0).flags.contains(Flags::DOUBLE_UNDERLINE));
    assert!(cell(&t, 3, 0).flags.contains(Flags::CURLY_UNDERLINE));
}

#[test]
fn sgr_colours_in_all_forms() {
    let t = run(
        20,
        1,
        "\x1b[31;42mA\x1b[91;102mB\x1b[38;5;200;48;5;17mC\x1b[38;2;1;2;3mD\x1b[38:2::4:5:6mE\x1b[38:5:9mF\x1b[39;49mG",
    );
    let c = |x| cell(&t, x, 0);
    assert_eq!((c(0).fg, c(0).bg), (Color::Indexed(1), Color::Indexed(2)));
    assert_eq!((c(1).fg, c(1).bg), (Color::Indexed(9), Color::Indexed(10)));
    assert_eq!((c(2).fg, c(2).bg), (Color::Indexed(200), Color::Indexed(17)));
    assert_eq!(c(3).fg, Color::Rgb(1, 2, 3));
    assert_eq!(c(4).fg, Color::Rgb(4, 5, 6));
    assert_eq!(c(5).fg, Color::Indexed(9));
    assert_eq!((c(6).fg, c(6).bg), (Color::Default, Color::Default));
}

#[test]
fn erase_uses_the_background_colour() {
    let t = run(4, 1, "\x1b[44m\x1b[2J");
    assert_eq!(cell(&t, 3, 0).bg, Color::Indexed(4));
}

// ---- OSC -----------------------------------------------------------------

#[test]
fn osc_titles() {
    let mut t = run(10, 1, "\x1b]0;both\x07\x1b]2;window\x1b\\");
    assert_eq!(t.title(), "window");
    assert_eq!(t.take_title_change().as_deref(), Some("window"));
    assert_eq!(t.take_title_change(), None);
    t.advance(b"\x1b[21t");
    assert_eq!(reply(&mut t), "\x1b]lwindow\x1b\\");
    t.advance(b"\x1b[20t");
    assert_eq!(reply(&mut t), "\x1b]Lboth\x1b\\");
}

#[test]
fn osc_palette_set_query_reset() {
    let mut t = run(10, 1, "\x1b]4;1;rgb:12/34/56\x07");
    assert_eq!(t.palette_color(1), (0x12, 0x34, 0x56));
    t.advance(b"\x1b]4;1;?\x1b\\");
    assert_eq!(reply(&mut t), "\x1b]4;1;rgb:1212/3434/5656\x1b\\");
    t.advance(b"\x1b]104;1\x07");
    // Back to the theme's: the dark one's red by default, xterm's with theme=xterm.
    assert_eq!(t.palette_color(1), (0xc0, 0x30, 0x30));
    t.advance(b"\x1b]4;1;?\x07");
    assert_eq!(reply(&mut t), "\x1b]4;1;rgb:c0c0/3030/3030\x07");
    t.set_theme(vcmux::term::Theme::Xterm);
    t.advance(b"\x1b]4;1;?\x07");
    assert_eq!(reply(&mut t), "\x1b]4;1;rgb:cdcd/0000/0000\x07");
}

#[test]
fn osc_colour_specs_as_xterm_allocates_them() {
    let mut t = run(10, 1, "\x1b]4;0;#fff\x07\x1b]4;0;?\x07");
    assert_eq!(reply(&mut t), "\x1b]4;0;rgb:f0f0/f0f0/f0f0\x07");
    t.advance(b"\x1b]4;0;#aaaabbbbcccc\x07\x1b]4;0;?\x07");
    assert_eq!(reply(&mut t), "\x1b]4;0;rgb:aaaa/bbbb/cccc\x07");
}

#[test]
fn osc_dynamic_and_special_colours() {
    let mut t = run(10, 1, "\x1b]10;rgb:ff/00/00\x07\x1b]10;?\x07\x1b]11;?\x07");
    // The background is the dark theme's black.
    assert_eq!(reply(&mut t), "\x1b]10;rgb:ffff/0000/0000\x07\x1b]11;rgb:0000/0000/0000\x07");
    assert_eq!(t.default_colors().0, (255, 0, 0));
    t.advance(b"\x1b]5;1;#123456\x07\x1b]5;1;?\x07\x1b]4;257;?\x07");
    assert_eq!(reply(&mut t), "\x1b]5;1;rgb:1212/3434/5656\x07\x1b]4;257;rgb:1212/3434/5656\x07");
}

#[test]
fn osc52_clipboard_events_and_query() {
    let mut t = run(10, 1, "\x1b]52;c;aGVsbG8=\x07");
    let ev = t.take_clipboard();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].selection, "c");
    assert_eq!(ev[0].data, b"hello");
    t.advance(b"\x1b]52;c;?\x07");
    assert_eq!(reply(&mut t), "\x1b]52;c;aGVsbG8=\x07");
}

// ---- replies -------------------------------------------------------------

#[test]
fn device_attributes() {
    let mut t = run(10, 2, "\x1b[c");
    assert_eq!(reply(&mut t), "\x1b[?65;1;2;6;9;15;16;17;18;21;22;28;29c");
    t.advance(b"\x1b[>c");
    assert_eq!(reply(&mut t), "\x1b[>64;379;0c");
}

#[test]
fn device_status_and_cursor_position() {
    let mut t = run(10, 5, "\x1b[5n\x1b[3;4H\x1b[6n\x1b[?6n");
    assert_eq!(reply(&mut t), "\x1b[0n\x1b[3;4R\x1b[?3;4;1R");
}

#[test]
fn decrqm_reports_modes() {
    let mut t = run(10, 2, "\x1b[?7$p\x1b[?1$p\x1b[?9999$p\x1b[4$p\x1b[19$p");
    assert_eq!(reply(&mut t), "\x1b[?7;1$y\x1b[?1;2$y\x1b[?9999;0$y\x1b[4;2$y\x1b[19;4$y");
}

#[test]
fn decrqss_reports_settings() {
    let mut t = run(10, 10, "\x1b[1;31m\x1b[2;5r\x1b[4 q");
    for (req, want) in
        [("m", "1$r0;1;31m"), ("r", "1$r2;5r"), (" q", "1$r4 q"), ("\"p", "1$r65;1\"p"), ("zz", "0$r")]
    {
        t.advance(format!("\x1bP$q{req}\x1b\\").as_bytes());
        assert_eq!(reply(&mut t), format!("\x1bP{want}\x1b\\"), "{req:?}");
    }
}

#[test]
fn xtwinops_size_reports() {
    let mut t = run(80, 24, "\x1b[18t\x1b[14t");
    assert_eq!(reply(&mut t), "\x1b[8;24;80t\x1b[4;384;640t");
}

#[test]
fn xtwinops_resize_is_a_size_request() {
    let mut t = run(80, 24, "\x1b[8;25;100t");
    assert_eq!((t.cols(), t.rows()), (100, 25));
    assert_eq!(t.take_size_request(), Some((100, 25)));
    assert_eq!(t.take_size_request(), None);
}

#[test]
fn decrqcra_checksums_like_xterm() {
    let mut t = run(10, 3, "AB\x1b[1;1;1;1;1;2*y");
    // xterm: the negated sum of the characters, 16 bits.
    let sum = (b'A' as u16 + b'B' as u16).wrapping_neg();
    assert_eq!(reply(&mut t), format!("\x1bP1!~{sum:04X}\x1b\\"));
    t.advance(b"\x1b[7;0;1;1;1;1*y");
    assert_eq!(reply(&mut t), format!("\x1bP7!~{:04X}\x1b\\", (b'A' as u16).wrapping_neg()));
}

#[test]
fn s8c1t_makes_replies_8_bit() {
    let mut t = run(10, 2, "\x1b G\x1b[5n");
    assert_eq!(t.take_replies(), b"\x9b0n");
    t.advance(b"\x1b F\x1b[5n");
    assert_eq!(t.take_replies(), b"\x1b[0n");
}

// ---- rectangles and selective erase --------------------------------------

#[test]
fn rectangle_fill_erase_copy() {
    let t = run(6, 3, "\x1b[88;1;2;2;4$x");
    assert_eq!(lines(&t), [" XXX", " XXX", ""]);
    let t = run(6, 3, "\x1b[88;1;1;3;6$x\x1b[2;2;3;5$z");
    assert_eq!(lines(&t), ["XXXXXX", "X    X", "X    X"]);
    let t = run(6, 3, "ab\r\ncd\x1b[1;1;2;2;1;1;4;1$v");
    assert_eq!(lines(&t), ["ab ab", "cd cd", ""]);
}

#[test]
fn change_and_reverse_attributes_in_rectangle() {
    let t = run(6, 2, "abcdef\r\nabcdef\x1b[2*x\x1b[1;2;2;3;1;4$r");
    assert!(cell(&t, 1, 0).flags.contains(Flags::BOLD | Flags::UNDERLINE));
    assert!(!cell(&t, 3, 0).flags.contains(Flags::BOLD));
    let t = run(6, 2, "\x1b[7mab\x1b[m\x1b[1;1;1;2;7$t");
    assert!(!cell(&t, 0, 0).flags.contains(Flags::INVERSE));
}

#[test]
fn selective_erase_keeps_protected_cells() {
    let t = run(6, 2, "a\x1b[1\"qb\x1b[0\"qc\x1b[?2K");
    assert_eq!(line(&t, 0), " b");
    let t = run(6, 2, "a\x1b[1\"qb\x1b[0\"qc\x1b[2K");
    assert_eq!(line(&t, 0), "");
    let t = run(6, 2, "a\x1b[1\"qb\x1b[0\"qc\x1b[1;1;1;6${");
    assert_eq!(line(&t, 0), " b");
}

#[test]
fn iso_protection_is_honoured_by_ordinary_erases() {
    let t = run(6, 2, "a\x1bVb\x1bWc\x1b[2K");
    assert_eq!(line(&t, 0), " b");
}

// ---- resize, scrollback, damage -------------------------------------------

#[test]
fn resize_keeps_content_and_reflows() {
    let mut t = run(6, 3, "abcdefgh\r\nxy");
    t.resize(10, 3);
    assert_eq!(lines(&t)[..2], ["abcdefgh", "xy"]);
    t.resize(4, 4);
    assert_eq!(lines(&t)[..3], ["abcd", "efgh", "xy"]);
    assert_eq!(cursor(&t), (2, 2));
}

#[test]
fn shrinking_moves_lines_into_history() {
    let mut t = run(5, 4, "1\r\n2\r\n3\r\n4");
    t.resize(5, 2);
    assert_eq!(lines(&t), ["3", "4"]);
    assert_eq!(t.history_len(), 2);
    t.resize(5, 4);
    assert_eq!(lines(&t), ["1", "2", "3", "4"]);
}

#[test]
fn scrollback_view() {
    let mut t = run(5, 2, "1\r\n2\r\n3\r\n4");
    t.scroll_display(1);
    assert_eq!(t.display_offset(), 1);
    assert_eq!(t.row(0).unwrap()[0].c, '2');
    t.scroll_display(100);
    assert_eq!(t.display_offset(), 2);
    t.advance(b"\r\n5");
    assert_eq!(t.row(0).unwrap()[0].c, '1', "view stays on the same lines");
    t.scroll_display(-100);
    assert_eq!(t.row(1).unwrap()[0].c, '5');
}

#[test]
fn a_view_of_its_own_stays_on_its_lines_as_output_arrives() {
    // The terminal's own view stays live; a second view is anchored by mark.
    let mut t = Terminal::new(5, 2, 4);
    t.advance(b"1\r\n2\r\n3\r\n4");
    let top = t.view_top(2);
    assert_eq!(view_at(&mut t, top), ["1", "2"]);
    t.take_damage();
    t.advance(b"\r\n5\r\n6");
    assert_eq!(t.view_offset(top), 4, "pushed back by the two new lines");
    assert_eq!(view_at(&mut t, top), ["1", "2"]);
    assert_eq!(t.display_offset(), 0, "the terminal's own view is live again");
    assert_eq!(lines_of_view(&t), ["5", "6"]);
    t.take_damage();
    t.with_display_offset(3, |_| ());
    assert_eq!(t.take_damage(), Default::default(), "looking records no damage");
    // Lines fall off the end of the history (4 lines): the view clamps to the oldest.
    t.advance(b"\r\n7\r\n8");
    assert_eq!(t.view_offset(top), 4);
    assert_eq!(view_at(&mut t, top), ["3", "4"]);
    // A resize keeps a view's distance from the screen.
    let top = t.view_top(1);
    t.resize(6, 2);
    assert_eq!(t.view_offset(top), 1);
    // ED 3 clears the history: every view is back at the live screen.
    t.advance(b"\x1b[3J");
    assert_eq!(t.view_offset(top), 0);
}

#[test]
fn a_view_of_its_own_stays_on_its_lines_through_a_flood() {
    // Whole lines at the bottom go to the history in bulk (jump scroll).
    let mut t = Terminal::new(10, 4, 20);
    let lines_from = |from: usize, to: usize| (from..to).map(|i| format!("line {i}\r\n")).collect::<String>();
    t.advance(lines_from(0, 10).as_bytes());
    let top = t.view_top(3);
    assert_eq!(view_at(&mut t, top), ["line 4", "line 5", "line 6", "line 7"]);
    for (from, to) in [(10, 13), (13, 20)] {
        t.advance(lines_from(from, to).as_bytes());
        assert_eq!(view_at(&mut t, top), ["line 4", "line 5", "line 6", "line 7"], "after line {to}");
    }
    t.advance(lines_from(20, 100).as_bytes());
    assert_eq!(t.view_offset(top), 20);
    assert_eq!(view_at(&mut t, top), ["line 77", "line 78", "line 79", "line 80"], "the oldest kept");
}

#[test]
fn a_flood_of_lines_keeps_the_last_ones_on_screen_and_in_the_scrollback() {
    let flood: String = (0..100).map(|i| format!("line {i}\r\n")).collect();
    let mut t = Terminal::new(10, 4, 5);
    t.advance(b"\x1b[41m");
    t.advance(flood.as_bytes());
    assert_eq!(lines(&t), ["line 97", "line 98", "line 99", ""]);
    assert_eq!(cursor(&t), (0, 3));
    assert_eq!(t.history_len(), 5);
    t.scroll_display(5);
    assert_eq!(lines_of_view(&t), ["line 92", "line 93", "line 94", "line 95"]);
    // Lines written on a coloured background keep it to the end of the row.
    assert_eq!(cell(&t, 9, 0).bg, Color::Indexed(1));
    // The same flood in a scroll region leaves only the region's last lines.
    let mut t = run(10, 6, "top\x1b[2;4r\x1b[4;1H");
    t.advance(flood.as_bytes());
    assert_eq!(lines(&t), ["top", "line 98", "line 99", "", "", ""]);
    t.advance(b"\x1b[b");
    assert_eq!(line(&t, 3), "9", "REP repeats the flood's last character");
}

/// The lines a view anchored at `top` shows.
fn view_at(t: &mut Terminal, top: LineMark) -> Vec<String> {
    let offset = t.view_offset(top);
    t.with_display_offset(offset, lines_of_view)
}

fn lines_of_view(t: &Terminal) -> Vec<String> {
    (0..t.rows())
        .map(|y| t.row(y).expect("row").iter().map(|c| c.c).collect::<String>().trim_end().to_string())
        .collect()
}

#[test]
fn a_full_screen_scroll_is_reported_as_a_scroll() {
    let mut t = run(10, 24, "");
    t.take_damage();
    t.advance(b"\x1b[24;1Hline\r\nnext\r\n");
    let d = t.take_damage();
    assert_eq!(d.scrolls.len(), 1);
    assert_eq!((d.scrolls[0].top, d.scrolls[0].bottom, d.scrolls[0].delta), (0, 23, -2));
    assert_eq!(d.rows, vec![21, 22, 23]);
    assert!(t.take_damage().rows.is_empty());
}

#[test]
fn malformed_sequences_are_skipped() {
    let t = run(
        10,
        3,
        "\x1b[99999999999999999Aa\x1b[;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;Hb\x1b]x\x07c\x1bP$q\x1b\\d",
    );
    assert!(line(&t, 0).ends_with("abcd"));
}

// ---- dumps ---------------------------------------------------------------

#[test]
fn ansi_dump_carries_attributes() {
    let t = run(10, 2, "a\x1b[1;31mb\x1b[0mc");
    assert_eq!(t.screen_ansi(), "a\x1b[0;1;31mb\x1b[0mc\n\n");
    assert_eq!(t.screen_text(), "abc\n\n");
}
