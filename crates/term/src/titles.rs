//! The window and icon titles a program sets (OSC 0/1/2), their stack
//! (XTWINOPS 22/23), and how XTSMTITLE/XTRMTITLE say they are encoded.

use super::hex;

/// How deep XTWINOPS 22 may push titles.
const STACK_MAX: usize = 10;

/// The titles and what goes with them; the owner learns of a new title
/// through [`Titles::take_change`].
#[derive(Debug, Default)]
pub(crate) struct Titles {
    /// The window title (OSC 0/2).
    title: String,
    /// The icon title (OSC 0/1).
    icon: String,
    /// Pushed (icon, window) title pairs, at most [`STACK_MAX`].
    stack: Vec<(String, String)>,
    /// Set when the title changed since the owner last looked.
    changed: bool,
    /// XTSMTITLE bits: 0 set hex, 1 query hex, 2 set UTF-8, 3 query UTF-8.
    modes: u8,
}

impl Titles {
    /// The window title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The window title, if it changed since the last call.
    pub fn take_change(&mut self) -> Option<String> {
        std::mem::take(&mut self.changed).then(|| self.title.clone())
    }

    /// Makes the next [`Titles::take_change`] report the title (after RIS,
    /// which empties it).
    pub fn mark_changed(&mut self) {
        self.changed = true;
    }

    /// OSC 0 (both titles), 1 (the icon's) and 2 (the window's): sets them
    /// to `raw`, decoded from hex when XTSMTITLE 0 is set.
    pub fn set(&mut self, code: u32, raw: &[u8]) {
        let text = self.decode(raw);
        if code != 2 {
            self.icon = text.clone();
        }
        if code != 1 {
            self.title = text;
        }
        self.changed = true;
    }

    /// XTWINOPS 22: pushes both titles (up to [`STACK_MAX`] deep).
    pub fn push(&mut self) {
        if self.stack.len() < STACK_MAX {
            self.stack.push((self.icon.clone(), self.title.clone()));
        }
    }

    /// XTWINOPS 23: pops the titles pushed last; `which` 1 restores only the
    /// icon's, 2 only the window's, anything else both.
    pub fn pop(&mut self, which: u16) {
        if let Some((icon, title)) = self.stack.pop() {
            match which {
                1 => self.icon = icon,
                2 => self.title = title,
                _ => {
                    self.icon = icon;
                    self.title = title;
                }
            }
            self.changed = true;
        }
    }

    /// The icon's (`icon`) or the window's title as XTWINOPS 20/21 report
    /// it: hex when XTSMTITLE 1 is set.
    pub fn reported(&self, icon: bool) -> String {
        let t = if icon { &self.icon } else { &self.title };
        if self.modes & 2 != 0 { hex::encode(t.as_bytes()) } else { t.clone() }
    }

    /// XTSMTITLE (`on`) and XTRMTITLE: title mode `mode` (0–3).
    pub fn set_mode(&mut self, mode: u16, on: bool) {
        if mode <= 3 {
            let bit = 1u8 << mode;
            if on {
                self.modes |= bit;
            } else {
                self.modes &= !bit;
            }
        }
    }

    /// A title as it was set: decoded from hex when XTSMTITLE 0 is set.
    fn decode(&self, raw: &[u8]) -> String {
        if self.modes & 1 != 0
            && let Some(bytes) = hex::decode(raw)
        {
            return String::from_utf8_lossy(&bytes).into_owned();
        }
        String::from_utf8_lossy(raw).into_owned()
    }
}
