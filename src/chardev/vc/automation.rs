//! What scripts ask of a vc through the control socket: its screen as pixels
//! or text at this moment, keys and text typed as a viewer's keyboard types
//! them, and the console's output as text to wait for.
//!
//! None of it disturbs the viewers: a screendump paints a renderer of its
//! own (so the live renderer's damage still reaches every viewer), and
//! typing goes the way a viewer's keys go.

use std::sync::{MutexGuard, PoisonError};

use regex::Regex;
use tokio::sync::watch;

use super::Vc;
use super::keys::{Modifiers, encode_key, keysym};
use super::output_text::{Found, OutputText};
use crate::frame::Framebuffer;

impl Vc {
    /// The live screen as a viewer sees it now (status line and blink phase
    /// included), painted afresh.
    pub fn screendump(&self) -> Framebuffer {
        let blink_on = self.blink_on();
        let state = self.lock();
        let mut renderer = state.renderer.sibling();
        renderer.render_view(&state.terminal, blink_on);
        renderer.framebuffer().clone()
    }

    /// The live screen as text, a line per row.
    pub fn screen_text(&self) -> String {
        self.lock().terminal.screen_text()
    }

    /// The live screen as text with SGR colours and attributes.
    pub fn screen_ansi(&self) -> String {
        self.lock().terminal.screen_ansi()
    }

    /// Types `text` as a keyboard would: each character is its key (a line
    /// end is Return, a tab Tab), in the terminal's current modes.
    pub fn type_text(&self, text: &str) {
        let modes = *self.lock().terminal.modes();
        let mut bytes = Vec::with_capacity(text.len());
        let text = text.replace("\r\n", "\n");
        for c in text.chars() {
            let key = match c {
                '\n' | '\r' => keysym::RETURN,
                '\t' => keysym::TAB,
                '\x1b' => keysym::ESCAPE,
                '\x08' => keysym::BACKSPACE,
                c if u32::from(c) < 0x20 => {
                    // A control character is its Ctrl key, as typed.
                    let mods = Modifiers { ctrl: true, ..Modifiers::default() };
                    bytes.extend(encode_key(u32::from(c) + 0x60, mods, &modes).unwrap_or_default());
                    continue;
                }
                c if (' '..='~').contains(&c) || ('\u{a0}'..='\u{ff}').contains(&c) => u32::from(c),
                c => 0x0100_0000 + u32::from(c),
            };
            bytes.extend(encode_key(key, Modifiers::default(), &modes).unwrap_or_default());
        }
        self.send(bytes);
    }

    /// Presses `keysyms` together, in order, and lets them go (QMP's
    /// `send-key`): the modifiers among them apply to the others.
    pub fn press_keys(&self, keysyms: &[u32]) {
        let modes = *self.lock().terminal.modes();
        let mut mods = Modifiers::default();
        let mut bytes = Vec::new();
        for &key in keysyms {
            if !mods.update(key, true) {
                bytes.extend(encode_key(key, mods, &modes).unwrap_or_default());
            }
        }
        self.send(bytes);
    }

    /// Grows whenever output arrived or the screen may have changed: what a
    /// wait for text waits on.
    pub fn watch_changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// The first match of any of `patterns` in the console's output since the
    /// last match or mark (which then moves past it).
    pub fn find_in_output(&self, patterns: &[Regex]) -> Option<Found> {
        self.output_text().find(patterns)
    }

    /// The output after the last match or mark, for a wait that timed out.
    pub fn unmatched_output(&self) -> String {
        self.output_text().unmatched().to_string()
    }

    /// Makes the next wait on the output see only what comes after now.
    pub fn mark_output(&self) {
        self.output_text().mark_now();
    }

    fn output_text(&self) -> MutexGuard<'_, OutputText> {
        self.output_text.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
