//! Colours: the terminal's palette and default colours as they are now (its
//! theme's, or as its program changed them with OSC 4/10/11/12), and how a
//! cell's attributes turn its colours into the two it is painted with.

use crate::term::{Cell, Color, Flags, Rgb, Terminal};

/// A colour as a framebuffer pixel.
pub fn pixel((r, g, b): Rgb) -> u32 {
    u32::from(r) << 16 | u32::from(g) << 8 | u32::from(b)
}

/// Halfway between two pixels, channel by channel: the colour of dim text.
fn halfway(a: u32, b: u32) -> u32 {
    ((a & 0xfefefe) >> 1) + ((b & 0xfefefe) >> 1) + (a & b & 0x010101)
}

/// Everything outside the cells that decides their colours. When it changes,
/// every cell is repainted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Colors {
    palette: [u32; 256],
    fg: u32,
    bg: u32,
    /// The cursor's colour (OSC 12), else it takes the colours of its cell.
    pub cursor: Option<u32>,
}

/// The two colours a cell is painted with, and whether its text shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ink {
    /// The text's (and its lines') colour.
    pub fg: u32,
    /// The background's.
    pub bg: u32,
    /// False for hidden text (SGR 8) and blinking text in its off phase.
    pub visible: bool,
}

impl Colors {
    /// The colours in force in `term`.
    pub fn new(term: &Terminal) -> Colors {
        let mut palette = [0; 256];
        for (i, slot) in palette.iter_mut().enumerate() {
            *slot = pixel(term.palette_color(i as u8));
        }
        let (fg, bg, cursor) = term.default_colors();
        let (mut fg, mut bg) = (pixel(fg), pixel(bg));
        if term.modes().reverse_video {
            // DECSCNM swaps the default colours, as xterm does; explicit
            // colours stay.
            std::mem::swap(&mut fg, &mut bg);
        }
        Colors { palette, fg, bg, cursor: cursor.map(pixel) }
    }

    /// How `cell` is painted. `blink_on` is the phase of blinking text.
    pub fn ink(&self, cell: &Cell, blink_on: bool) -> Ink {
        let flags = cell.flags;
        let mut fg = match cell.fg {
            Color::Default => self.fg,
            // xterm's boldColors: bold text in colours 0-7 takes 8-15.
            Color::Indexed(i) if i < 8 && flags.contains(Flags::BOLD) => self.palette[usize::from(i) + 8],
            Color::Indexed(i) => self.palette[usize::from(i)],
            Color::Rgb(r, g, b) => pixel((r, g, b)),
        };
        let mut bg = match cell.bg {
            Color::Default => self.bg,
            Color::Indexed(i) => self.palette[usize::from(i)],
            Color::Rgb(r, g, b) => pixel((r, g, b)),
        };
        if flags.contains(Flags::INVERSE) {
            std::mem::swap(&mut fg, &mut bg);
        }
        if flags.contains(Flags::DIM) {
            fg = halfway(fg, bg);
        }
        let visible = !flags.contains(Flags::HIDDEN) && (blink_on || !flags.contains(Flags::BLINK));
        Ink { fg, bg, visible }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::Theme;

    fn cell(fg: Color, bg: Color, flags: &[Flags]) -> Cell {
        let mut cell = Cell::new(' ', fg, bg, Flags::empty());
        for &f in flags {
            cell.flags.insert(f);
        }
        cell
    }

    #[test]
    fn attributes_choose_the_colours() {
        let mut term = Terminal::new(2, 2, 0);
        term.set_theme(Theme::Xterm);
        let colors = Colors::new(&term);
        let plain = colors.ink(&Cell::BLANK, true);
        assert_eq!((plain.fg, plain.bg, plain.visible), (0x000000, 0xffffff, true));
        let red = cell(Color::Indexed(1), Color::Default, &[Flags::BOLD]);
        assert_eq!(colors.ink(&red, true).fg, 0xff0000, "bold 1 is bright red");
        let inverse = cell(Color::Rgb(1, 2, 3), Color::Indexed(196), &[Flags::INVERSE]);
        assert_eq!((colors.ink(&inverse, true).fg, colors.ink(&inverse, true).bg), (0xff0000, 0x010203));
        let dim = cell(Color::Indexed(15), Color::Indexed(0), &[Flags::DIM]);
        assert_eq!(colors.ink(&dim, true).fg, 0x7f7f7f);
        let blink = cell(Color::Default, Color::Default, &[Flags::BLINK]);
        assert!(colors.ink(&blink, true).visible && !colors.ink(&blink, false).visible);
        assert!(!colors.ink(&cell(Color::Default, Color::Default, &[Flags::HIDDEN]), true).visible);
    }

    #[test]
    fn the_terminal_can_change_them() {
        let mut term = Terminal::new(2, 2, 0);
        term.set_theme(Theme::Xterm);
        term.advance(b"\x1b]4;1;rgb:12/34/56\x07\x1b]11;#000000\x07\x1b[?5h");
        let colors = Colors::new(&term);
        let red = cell(Color::Indexed(1), Color::Default, &[]);
        // Reverse video swaps the default colours; explicit ones stay.
        assert_eq!(colors.ink(&red, true).fg, 0x123456);
        assert_eq!(colors.ink(&red, true).bg, 0x000000);
        assert_eq!(colors.ink(&Cell::BLANK, true).bg, 0x000000);
    }

    #[test]
    fn the_default_theme_is_a_console_s_light_grey_on_black() {
        let colors = Colors::new(&Terminal::new(2, 2, 0));
        let plain = colors.ink(&Cell::BLANK, true);
        assert_eq!((plain.fg, plain.bg), (0xaaaaaa, 0x000000));
    }
}
