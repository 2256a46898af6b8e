//! The vc chardev: a terminal emulator fed with the console's output, whose
//! screen the VNC server shows.
//!
//! One [`Vc`] is shared by two sides:
//! - the hub's: console output is parsed as it arrives (so the vc never holds the
//!   hub back), and what the terminal answers (DA, CPR, DECRQCRA…) goes back to the
//!   console like anything a peer types;
//! - the VNC server's ([`Desktop`]): a frame is rendered only when a viewer asks for
//!   one, and viewers' keys, pointer and pastes become the bytes xterm would send.
//!
//! The wheel scrolls one viewer's view into the history, not everyone's: a
//! viewer scrolled back gets a renderer and a framebuffer of its own, anchored
//! to the history lines it shows, until it scrolls back down or types (or
//! leaves). Every other viewer, and so every screenshot, keeps the live screen,
//! which the main renderer always shows.
//!
//! Its geometry is the console's window size: a command under vcmux's PTY gets the
//! vc's columns and rows, and follows when a viewer resizes its window.

mod automation;
mod input_queue;
pub mod keys;
pub mod mouse;
pub mod output_text;

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::AsyncWrite;
use tokio::sync::watch;
use tracing::warn;

use super::{OpenError, WindowSize};
use crate::config::{MAX_VC_CELLS, VcConfig};
use crate::frame;
use crate::hub::FrontendStatus;
use crate::hub::port::{BoxFuture, Connection, Connector};
use crate::memory::{self, Reservation};
use crate::render::{FontConfig, Renderer};
use crate::rfb::desktop::{Audience, Desktop, Refreshed, ViewerId, ViewerInput};
use crate::term::{LineMark, Terminal};
use input_queue::{InputQueue, QueueReader};
use keys::{Modifiers, encode_key, encode_paste, keysym};
use mouse::{Pointer, pointer_event};
use output_text::OutputText;

/// The most console output parsed under one lock, so that a viewer's update
/// never waits long for the screen.
const PARSE_SLICE: usize = 64 * 1024;

/// Bytes of replies, keystrokes and pastes queued towards the console; past
/// this (or past the process's memory budget), they are dropped with a
/// warning rather than letting memory grow.
const TO_CONSOLE_BYTES: usize = 4 << 20;

/// The largest screen, in pixels, that a viewer's resize or a program's
/// (XTWINOPS) may ask for: a 1920x1200 monitor, so that a viewer's resize
/// keeps vcmux under the memory figures in README.md ("Reliability"). The
/// command line's `cols` and `rows` may go further, up to the framebuffer's
/// bound.
const MAX_ASKED: (u16, u16) = (1920, 1200);

/// Half a blink period: xterm's cursor blinks at about 1 Hz.
const BLINK_HALF_PERIOD: Duration = Duration::from_millis(500);

/// Rows the wheel scrolls the history per step, as xterm.
const WHEEL_ROWS: isize = 3;

/// A vc: the terminal, its renderer, and the ways to watch and drive them.
pub struct Vc {
    id: String,
    state: Mutex<State>,
    /// Grows whenever the screen may have changed.
    changes: watch::Sender<u64>,
    /// The last OSC 52 text, for viewers' clipboards.
    clipboard: watch::Sender<Option<String>>,
    /// Bytes for the console: terminal replies and what viewers type.
    to_console: Arc<InputQueue>,
    /// Input is being dropped (said once until some gets through again).
    dropping: AtomicBool,
    /// The terminal's size in cells, which a command's window follows.
    window: watch::Sender<WindowSize>,
    /// When blinking started, for the blink phase.
    epoch: Instant,
    /// The console's output as plain text, for scripts waiting on it.
    output_text: Mutex<OutputText>,
}

/// What the lock guards: the terminal, its pixels, and each viewer's keyboard
/// and pointer state and view into the history.
struct State {
    terminal: Terminal,
    /// The live screen's renderer: the terminal's own view is never scrolled.
    renderer: Renderer,
    /// What the live framebuffer holds past its size at start-up (a viewer's
    /// resize to a larger screen), drawn on the process's budget.
    grown: Option<Reservation>,
    /// The live framebuffer's bytes at start-up.
    start_bytes: usize,
    viewers: HashMap<ViewerId, ViewerState>,
}

/// One viewer's modifiers, buttons, clipboard and view.
#[derive(Default)]
struct ViewerState {
    modifiers: Modifiers,
    pointer: Pointer,
    /// The viewer's clipboard (ClientCutText), pasted on Shift+Insert or a middle click.
    clipboard: String,
    /// While the viewer is scrolled back into the history: its view.
    view: Option<View>,
    /// The viewer went from the live screen to a view of its own, or back,
    /// since its last refresh.
    switched: bool,
}

/// One viewer's view scrolled back into the history, with its own pixels.
struct View {
    /// The row at its top, which it stays on while output arrives.
    top: LineMark,
    renderer: Renderer,
    /// Its framebuffer's bytes, drawn on the process's budget.
    _memory: Reservation,
}

impl ViewerState {
    /// Scrolls the viewer's view `delta` rows back into the history (negative:
    /// forward), clamped; at the live screen its own view is dropped.
    fn scroll(&mut self, terminal: &Terminal, live: &Renderer, delta: isize) {
        let offset = self.view.as_ref().map_or(0, |view| terminal.view_offset(view.top));
        let offset = offset.saturating_add_signed(delta).min(terminal.history_len());
        match &mut self.view {
            _ if offset == 0 => self.back_to_live(),
            Some(view) => view.top = terminal.view_top(offset),
            None => {
                // A framebuffer of its own: only while the budget has room
                // for one, else the wheel does nothing.
                let Some(memory) = memory::process().try_reserve(live.framebuffer().pixels().len() * 4)
                else {
                    return;
                };
                let renderer = live.sibling();
                self.view = Some(View { top: terminal.view_top(offset), renderer, _memory: memory });
                self.switched = true;
            }
        }
    }

    /// Brings the viewer back to the live screen.
    fn back_to_live(&mut self) {
        if self.view.take().is_some() {
            self.switched = true;
        }
    }
}

impl Vc {
    /// Makes the terminal and its renderer; returns the vc and the hub's side of it.
    pub fn open(id: &str, config: &VcConfig) -> Result<(Arc<Vc>, VcConnector), OpenError> {
        let font = FontConfig { size: config.font_size, path: config.font.clone() };
        let renderer = Renderer::new(&font)
            .map_err(|e| OpenError::new(id, "cannot load its font", io::Error::other(e.to_string())))?;
        let mut terminal = Terminal::new(config.cols, config.rows, config.scrollback);
        terminal.set_theme(config.theme);
        let (cell_w, cell_h) = renderer.cell_size();
        terminal.set_cell_pixels(cell_w, cell_h);
        let to_console = InputQueue::new(TO_CONSOLE_BYTES);
        let start_bytes = frame_bytes(renderer.frame_size(config.cols, config.rows));
        let state = State { terminal, renderer, grown: None, start_bytes, viewers: HashMap::new() };
        let vc = Arc::new(Vc {
            id: id.to_string(),
            state: Mutex::new(state),
            changes: watch::Sender::new(0),
            clipboard: watch::Sender::new(None),
            to_console: to_console.clone(),
            dropping: AtomicBool::new(false),
            window: watch::Sender::new(WindowSize { cols: config.cols, rows: config.rows }),
            epoch: Instant::now(),
            output_text: Mutex::default(),
        });
        tokio::spawn(blink(Arc::downgrade(&vc)));
        let connection = Connection {
            peer: format!("terminal {}x{}", config.cols, config.rows),
            writer: Box::new(TerminalWriter(vc.clone())),
            reader: Some(Box::new(QueueReader(to_console))),
            eof_is_hangup: false,
            typed: None,
        };
        Ok((vc.clone(), VcConnector { connection: Some(connection) }))
    }

    /// Shows where the hub's console is: while it is away, a status line over
    /// the bottom row says so (the screen would otherwise just freeze).
    pub fn follow_frontend(self: &Arc<Vc>, mut status: watch::Receiver<FrontendStatus>) {
        let vc = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let text = status_line(&status.borrow_and_update());
                let Some(vc) = vc.upgrade() else { return };
                vc.set_status(text.as_deref());
                drop(vc);
                if status.changed().await.is_err() {
                    return;
                }
            }
        });
    }

    /// Draws `text` over the bottom row of the live screen and of every view
    /// into the history, or stops (`None`).
    fn set_status(&self, text: Option<&str>) {
        let mut state = self.lock();
        state.renderer.set_status(text);
        for view in state.viewers.values_mut().filter_map(|v| v.view.as_mut()) {
            view.renderer.set_status(text);
        }
        drop(state);
        self.changed();
    }

    /// The terminal's size now and as it changes: a PTY frontend follows it.
    pub fn window(&self) -> watch::Receiver<WindowSize> {
        self.window.subscribe()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Sends bytes to the console, dropping them if its queue or the
    /// process's budget is full (it has not read for long); says so once
    /// until input gets through again.
    fn send(&self, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        if self.to_console.push(&bytes) {
            self.dropping.store(false, Ordering::Relaxed);
        } else if !self.dropping.swap(true, Ordering::Relaxed) {
            warn!("{}: the console is not reading; input is dropped until it does", self.id);
        }
    }

    /// Console output: parsed at once; replies, size and clipboard requests passed on.
    fn feed(&self, bytes: &[u8]) {
        self.output_text.lock().unwrap_or_else(PoisonError::into_inner).feed(bytes);
        let (replies, resized, clipboard) = {
            let mut state = self.lock();
            state.terminal.advance(bytes);
            let resized = state.terminal.take_size_request().map(|(cols, rows)| {
                // A program may ask for more than the screen may hold (XTWINOPS).
                let cell = state.renderer.cell_size();
                let (max_cols, max_rows) = (MAX_ASKED.0 / cell.0.max(1), MAX_ASKED.1 / cell.1.max(1));
                let fitting = fit_frame(cols.min(max_cols), rows.min(max_rows), cell);
                if fitting != (cols, rows) {
                    state.terminal.resize(fitting.0, fitting.1);
                }
                fitting
            });
            (state.terminal.take_replies(), resized, state.terminal.take_clipboard())
        };
        self.send(replies);
        if let Some((cols, rows)) = resized {
            self.window.send_replace(WindowSize { cols, rows });
        }
        if let Some(event) = clipboard.into_iter().last() {
            self.clipboard.send_replace(Some(String::from_utf8_lossy(&event.data).into_owned()));
        }
        self.changed();
    }

    /// A key pressed on a viewer: the bytes xterm sends, or a paste on Shift+Insert.
    fn key(&self, state: &mut State, viewer: ViewerId, keysym: u32, down: bool) -> Vec<u8> {
        let modes = *state.terminal.modes();
        let viewer = state.viewers.entry(viewer).or_default();
        if viewer.modifiers.update(keysym, down) || !down {
            return Vec::new();
        }
        if keysym == keysym::INSERT && viewer.modifiers.shift {
            return encode_paste(&viewer.clipboard, &modes);
        }
        let bytes = encode_key(keysym, viewer.modifiers, &modes).unwrap_or_default();
        if !bytes.is_empty() && viewer.view.is_some() {
            // Typing brings the viewer's view back to the live screen.
            viewer.back_to_live();
            self.changed();
        }
        bytes
    }

    /// The pointer on a viewer: mouse reports, history scrolling, or a paste.
    fn pointer(&self, state: &mut State, viewer: ViewerId, x: u16, y: u16, buttons: u8) -> Vec<u8> {
        let (cell_w, cell_h) = state.renderer.cell_size();
        let cell = (
            (x / cell_w.max(1)).min(state.terminal.cols().saturating_sub(1)),
            (y / cell_h.max(1)).min(state.terminal.rows().saturating_sub(1)),
        );
        let modes = *state.terminal.modes();
        let State { terminal, renderer, viewers, .. } = state;
        let viewer = viewers.entry(viewer).or_default();
        let outcome = pointer_event(&mut viewer.pointer, cell, buttons, viewer.modifiers, &modes);
        let mut bytes = outcome.reports;
        if outcome.paste {
            bytes.extend(encode_paste(&viewer.clipboard, &modes));
        }
        if outcome.wheel != 0 {
            if terminal.is_alternate_screen() {
                // xterm's alternateScroll: the wheel moves the cursor in
                // full-screen programs; the alternate screen has no history.
                if modes.alternate_scroll {
                    let arrow = if outcome.wheel < 0 { keysym::UP } else { keysym::DOWN };
                    for _ in 0..WHEEL_ROWS {
                        bytes.extend(encode_key(arrow, Modifiers::default(), &modes).unwrap_or_default());
                    }
                }
            } else {
                viewer.scroll(terminal, renderer, -(outcome.wheel as isize) * WHEEL_ROWS);
                self.changed();
            }
        }
        bytes
    }

    /// A viewer asked for a window of `width` x `height` pixels (at most
    /// [`MAX_ASKED`]): the terminal takes as many whole cells as fit, and the
    /// console's window follows. A framebuffer larger than the one at
    /// start-up draws the difference on the process's budget; without room,
    /// the size stays.
    fn resize(&self, state: &mut State, width: u16, height: u16) {
        let (cell_w, cell_h) = state.renderer.cell_size();
        let cols = (width.min(MAX_ASKED.0) / cell_w.max(1)).clamp(2, MAX_VC_CELLS);
        let rows = (height.min(MAX_ASKED.1) / cell_h.max(1)).clamp(2, MAX_VC_CELLS);
        let (cols, rows) = fit_frame(cols, rows, (cell_w, cell_h));
        let Some(size) = state.renderer.frame_size(cols, rows) else { return };
        if (cols, rows) == (state.terminal.cols(), state.terminal.rows()) {
            return;
        }
        let extra = frame_bytes(Some(size)).saturating_sub(state.start_bytes);
        // The framebuffer's present growth is given back before the new one is
        // asked for, and held again if that is refused.
        let previous = state.grown.take().map_or(0, |grown| grown.bytes());
        if extra > 0 {
            let Some(memory) = memory::process().try_reserve(extra) else {
                state.grown = (previous > 0).then(|| memory::process().force(previous));
                warn!(
                    "{}: a viewer's resize to {cols}x{rows} was not made: the memory budget is spent",
                    self.id
                );
                return;
            };
            state.grown = Some(memory);
        }
        state.terminal.resize(cols, rows);
        self.window.send_replace(WindowSize { cols, rows });
        self.changed();
    }

    /// Whether anything on the screen, or a viewer's view, blinks now (a
    /// blinking cursor, SGR 5 text).
    fn blinks(&self) -> bool {
        let state = self.lock();
        state.renderer.blinks(&state.terminal)
            || state
                .viewers
                .values()
                .filter_map(|v| v.view.as_ref())
                .any(|v| v.renderer.blinks(&state.terminal))
    }

    fn blink_on(&self) -> bool {
        (self.epoch.elapsed().as_millis() / BLINK_HALF_PERIOD.as_millis()).is_multiple_of(2)
    }
}

impl Desktop for Vc {
    fn name(&self) -> String {
        format!("vcmux {}", self.id)
    }

    fn refresh(&self, viewer: ViewerId, f: &mut dyn FnMut(Refreshed<'_>)) {
        let blink_on = self.blink_on();
        let mut state = self.lock();
        let State { terminal, renderer, viewers, .. } = &mut *state;
        // Views end where xterm's scrolling back does: on the alternate
        // screen, and when the history they were in is cleared.
        for v in viewers.values_mut() {
            if v.view
                .as_ref()
                .is_some_and(|view| terminal.is_alternate_screen() || terminal.view_offset(view.top) == 0)
            {
                v.back_to_live();
            }
        }
        let asker = viewers.get_mut(&viewer);
        let switched = asker.as_ref().is_some_and(|v| v.switched);
        if let Some(asker) = asker {
            asker.switched = false;
            if let Some(view) = &mut asker.view {
                let offset = terminal.view_offset(view.top);
                let damage = terminal.with_display_offset(offset, |t| view.renderer.render_view(t, blink_on));
                let framebuffer = view.renderer.framebuffer();
                f(Refreshed { framebuffer, damage: &damage, audience: Audience::Asker, switched });
                return;
            }
        }
        let damage = renderer.render(terminal, blink_on);
        let own: Vec<ViewerId> =
            viewers.iter().filter(|(_, v)| v.view.is_some()).map(|(&id, _)| id).collect();
        let framebuffer = renderer.framebuffer();
        f(Refreshed { framebuffer, damage: &damage, audience: Audience::AllBut(&own), switched });
    }

    fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn clipboard(&self) -> watch::Receiver<Option<String>> {
        self.clipboard.subscribe()
    }

    fn cell_size(&self) -> Option<(u16, u16)> {
        Some(self.lock().renderer.cell_size())
    }

    fn input(&self, event: ViewerInput) {
        let bytes = {
            let mut state = self.lock();
            match event {
                ViewerInput::Key { viewer, keysym, down } => self.key(&mut state, viewer, keysym, down),
                ViewerInput::Pointer { viewer, x, y, buttons } => {
                    self.pointer(&mut state, viewer, x, y, buttons)
                }
                ViewerInput::Clipboard { viewer, text } => {
                    state.viewers.entry(viewer).or_default().clipboard = text;
                    Vec::new()
                }
                ViewerInput::Resize { width, height, .. } => {
                    self.resize(&mut state, width, height);
                    Vec::new()
                }
                ViewerInput::Left { viewer } => {
                    state.viewers.remove(&viewer);
                    Vec::new()
                }
            }
        };
        self.send(bytes);
    }
}

/// The most of `cols` x `rows` whose screen, in cells of `cell` pixels, is
/// within the bound of [`frame::fits`] (never under 2x2 cells, which always are):
/// fewer columns if too wide, then fewer rows.
fn fit_frame(cols: u16, rows: u16, cell: (u16, u16)) -> (u16, u16) {
    let (cell_w, cell_h) = (u32::from(cell.0.max(1)), u32::from(cell.1.max(1)));
    let side = u32::from(frame::MAX_SIDE);
    let cols = u32::from(cols).min(side / cell_w).max(2);
    let rows = u32::from(rows).min(side / cell_h).min(frame::MAX_PIXELS / (cols * cell_w) / cell_h).max(2);
    // Both are at most the u16 they came from, or 2.
    (cols as u16, rows as u16)
}

/// The bytes of a framebuffer of `size` pixels.
fn frame_bytes(size: Option<(u16, u16)>) -> usize {
    size.map_or(0, |(w, h)| usize::from(w) * usize::from(h) * 4)
}

/// The status line for a frontend status, if there is one to show.
fn status_line(status: &FrontendStatus) -> Option<String> {
    match status {
        FrontendStatus::Waiting => Some("vcmux: waiting for the console to connect".to_string()),
        FrontendStatus::Connected => None,
        FrontendStatus::Lost(peer) => Some(format!("vcmux: the console ({peer}) went away; waiting for it")),
    }
}

/// While something blinks, tells viewers twice a second that the screen changed.
async fn blink(vc: Weak<Vc>) {
    let mut ticks = tokio::time::interval(BLINK_HALF_PERIOD);
    loop {
        ticks.tick().await;
        let Some(vc) = vc.upgrade() else { return };
        if vc.blinks() {
            vc.changed();
        }
    }
}

/// The hub's side of a vc: one connection that never ends.
pub struct VcConnector {
    connection: Option<Connection>,
}

impl Connector for VcConnector {
    fn connect(&mut self) -> BoxFuture<'_, io::Result<Option<Connection>>> {
        let connection = self.connection.take();
        Box::pin(async move {
            match connection {
                Some(connection) => Ok(Some(connection)),
                // Parsing cannot fail, so there is never a second connection.
                None => std::future::pending().await,
            }
        })
    }
}

/// Console output into the terminal.
struct TerminalWriter(Arc<Vc>);

impl AsyncWrite for TerminalWriter {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let taken = buf.len().min(PARSE_SLICE);
        self.0.feed(&buf[..taken]);
        Poll::Ready(Ok(taken))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl Drop for Vc {
    fn drop(&mut self) {
        self.to_console.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mouse::{WHEEL_DOWN, WHEEL_UP};

    /// Whose the damage of a refresh for `viewer` is (`None`: its own) and
    /// whether it switched views.
    fn refreshed(vc: &Vc, viewer: ViewerId) -> (Option<Vec<ViewerId>>, bool) {
        let mut seen = None;
        vc.refresh(viewer, &mut |r| {
            let own = match r.audience {
                Audience::AllBut(own) => Some(own.to_vec()),
                Audience::Asker => None,
            };
            seen = Some((own, r.switched));
        });
        seen.expect("a refresh calls back")
    }

    /// One notch of the wheel: `button` pressed and released.
    fn wheel(vc: &Vc, viewer: ViewerId, button: u8) {
        for buttons in [button, 0] {
            vc.input(ViewerInput::Pointer { viewer, x: 0, y: 0, buttons });
        }
    }

    #[tokio::test]
    async fn the_wheel_gives_one_viewer_a_view_of_its_own_until_it_is_back() {
        let (vc, _hub_side) = Vc::open("vc0", &VcConfig { rows: 4, ..VcConfig::default() }).unwrap();
        let (a, b) = (1, 2);
        vc.feed(b"1\r\n2\r\n3\r\n4\r\n5\r\n6\r\n7\r\n8");
        assert_eq!(refreshed(&vc, a), (Some(vec![]), false), "everyone on the live screen");
        wheel(&vc, a, WHEEL_UP);
        assert_eq!(refreshed(&vc, b), (Some(vec![a]), false), "the live screen's damage is not for A");
        assert_eq!(refreshed(&vc, a), (None, true), "A switched to a view of its own");
        assert_eq!(refreshed(&vc, a), (None, false));
        wheel(&vc, a, WHEEL_DOWN);
        assert_eq!(refreshed(&vc, a), (Some(vec![]), true), "scrolled down to the live screen");

        wheel(&vc, a, WHEEL_UP);
        vc.input(ViewerInput::Left { viewer: a });
        assert_eq!(refreshed(&vc, b), (Some(vec![]), false), "gone, with its view");
        assert!(vc.lock().viewers.is_empty());

        wheel(&vc, b, WHEEL_UP);
        vc.feed(b"\x1b[?1049h");
        assert_eq!(refreshed(&vc, b), (Some(vec![]), true), "the alternate screen has no history");
    }

    #[test]
    fn sizes_past_the_bound_are_cut_to_fit() {
        let fits = |(cols, rows): (u16, u16), (w, h): (u16, u16)| {
            frame::fits(u32::from(cols) * u32::from(w), u32::from(rows) * u32::from(h))
        };
        assert_eq!(fit_frame(80, 24, (10, 19)), (80, 24));
        assert_eq!(fit_frame(768, 227, (10, 19)), (768, 227));
        // Too wide: fewer columns; too many pixels: fewer rows.
        assert_eq!(fit_frame(1000, 10, (10, 19)), (819, 10));
        assert_eq!(fit_frame(400, 200, (24, 47)), (341, 86));
        for (size, cell) in [((1000, 1000), (10, 19)), ((400, 200), (58, 113)), ((2, 1000), (1, 1))] {
            let fitting = fit_frame(size.0, size.1, cell);
            assert!(fits(fitting, cell) && fitting.0 <= size.0 && fitting.1 <= size.1, "{fitting:?}");
        }
        assert_eq!(fit_frame(0, 0, (10, 19)), (2, 2));
    }
}
