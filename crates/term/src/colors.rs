//! The colours a program changed over the theme: palette entries and
//! xterm's special colours (OSC 4/5/104/105), and the dynamic colours
//! (OSC 10–19/110–119).

use std::ops::Range;

use super::palette::{self, Rgb, Rgb16, Theme};

/// Palette entries plus special colours.
pub(crate) const PALETTE_LEN: usize = 256 + 5;

/// Dynamic colours: OSC 10 (foreground) to 19.
pub(crate) const DYNAMIC_LEN: usize = 10;

/// The theme and what OSC sequences made of it; what the renderer draws
/// with and what colour queries answer.
#[derive(Debug)]
pub(crate) struct Colors {
    /// OSC 4 overrides: 256 palette entries, then xterm's 5 special colours
    /// (bold, underline, blink, reverse, italic; also OSC 5).
    palette: Vec<Option<Rgb16>>,
    /// OSC 10–19 overrides: foreground, background, cursor colour, …
    dynamic: [Option<Rgb16>; DYNAMIC_LEN],
    /// The default colours the palette and the dynamic colours start from.
    theme: Theme,
}

impl Default for Colors {
    fn default() -> Colors {
        Colors { palette: vec![None; PALETTE_LEN], dynamic: [None; DYNAMIC_LEN], theme: Theme::default() }
    }
}

impl Colors {
    /// Sets the theme (a vc's `theme=`); what programs changed stays.
    pub fn set_theme(&mut self, theme: Theme) {
        self.theme = theme;
    }

    /// Palette entry `index` as it is now: the theme's, or what OSC 4 made it.
    pub fn palette_color(&self, index: u8) -> Rgb {
        match self.palette[usize::from(index)] {
            Some(changed) => palette::narrow(changed),
            None => self.theme.color(index),
        }
    }

    /// The default foreground and background as they are now (the theme's,
    /// or what OSC 10/11 made them), and the cursor's colour if OSC 12 set one.
    pub fn default_colors(&self) -> (Rgb, Rgb, Option<Rgb>) {
        let [fg, bg, cursor] = {
            let d = &self.dynamic;
            [d[0], d[1], d[2]].map(|c| c.map(palette::narrow))
        };
        (fg.unwrap_or(self.theme.foreground()), bg.unwrap_or(self.theme.background()), cursor)
    }

    /// Entry `idx` (below [`PALETTE_LEN`]) as OSC 4/5 queries report it.
    pub fn entry(&self, idx: usize) -> Rgb16 {
        self.palette[idx].unwrap_or_else(|| default_entry(self.theme, idx))
    }

    /// OSC 4/5: sets entry `idx` (below [`PALETTE_LEN`]).
    pub fn set_entry(&mut self, idx: usize, rgb: Rgb16) {
        self.palette[idx] = Some(rgb);
    }

    /// OSC 104/105 without parameters: the entries `range` back to the theme's.
    pub fn reset_entries(&mut self, range: Range<usize>) {
        self.palette[range].fill(None);
    }

    /// OSC 104/105 with parameters: entry `n` of `range` back to the
    /// theme's, if `range` has one.
    pub fn reset_entry(&mut self, range: Range<usize>, n: usize) {
        if let Some(slot) = self.palette[range].get_mut(n) {
            *slot = None;
        }
    }

    /// Dynamic colour `which` (0 = OSC 10, below [`DYNAMIC_LEN`]) as OSC
    /// 10–19 queries report it.
    pub fn dynamic(&self, which: usize) -> Rgb16 {
        self.dynamic[which].unwrap_or_else(|| default_dynamic(self.theme, which))
    }

    /// OSC 10–19: sets dynamic colour `which` (below [`DYNAMIC_LEN`]).
    pub fn set_dynamic(&mut self, which: usize, rgb: Rgb16) {
        self.dynamic[which] = Some(rgb);
    }

    /// OSC 110–119: dynamic colour `which` back to the theme's.
    pub fn reset_dynamic(&mut self, which: usize) {
        self.dynamic[which] = None;
    }
}

/// The colour of palette entry `idx` (or special colour) before any OSC 4.
fn default_entry(theme: Theme, idx: usize) -> Rgb16 {
    match u8::try_from(idx) {
        Ok(i) => palette::widen(theme.color(i)),
        Err(_) => palette::widen(theme.foreground()),
    }
}

/// The dynamic colour `which` (0 = OSC 10) before any change.
fn default_dynamic(theme: Theme, which: usize) -> Rgb16 {
    palette::widen(match which {
        1 | 4 | 6 | 7 => theme.background(),
        _ => theme.foreground(),
    })
}
