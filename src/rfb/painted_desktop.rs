//! A [`Desktop`] over a plain framebuffer that its owner paints: what the tests
//! serve while no terminal is behind the server.

use std::sync::Mutex;

use tokio::sync::watch;

use super::desktop::{Desktop, Refreshed, ViewerId, ViewerInput};
use super::pending::Pending;
use super::viewers::lock;
use crate::frame::{FrameDamage, Framebuffer, Move, Rect};

/// A framebuffer painted from outside, with its damage, clipboard and the
/// input viewers sent.
pub struct PaintedDesktop {
    name: String,
    state: Mutex<State>,
    changes: watch::Sender<u64>,
    clipboard: watch::Sender<Option<String>>,
    inputs: watch::Sender<Vec<ViewerInput>>,
    cell_size: Mutex<Option<(u16, u16)>>,
}

struct State {
    framebuffer: Framebuffer,
    /// What changed since the last refresh.
    damage: Pending,
}

impl PaintedDesktop {
    /// A black desktop called `name`.
    pub fn new(name: &str, width: u16, height: u16) -> PaintedDesktop {
        PaintedDesktop {
            name: name.to_string(),
            state: Mutex::new(State {
                framebuffer: Framebuffer::new(width, height),
                damage: Pending::nothing(width, height, true),
            }),
            changes: watch::channel(0).0,
            clipboard: watch::channel(None).0,
            inputs: watch::channel(Vec::new()).0,
            cell_size: Mutex::new(None),
        }
    }

    /// Lets `paint` change the framebuffer; it returns what it changed: the
    /// moves it made, in order, then the rectangles it repainted.
    pub fn paint(&self, paint: impl FnOnce(&mut Framebuffer) -> FrameDamage) {
        let mut state = lock(&self.state);
        let damage = paint(&mut state.framebuffer);
        let (width, height) = (state.framebuffer.width(), state.framebuffer.height());
        state.damage.add(width, height, &damage);
        drop(state);
        self.changes.send_modify(|n| *n += 1);
    }

    /// Fills a rectangle with one colour.
    pub fn fill(&self, rect: Rect, colour: u32) {
        self.paint(|fb| {
            let width = usize::from(fb.width());
            if let Some(r) = rect.intersection(&fb.bounds()) {
                for y in usize::from(r.y)..r.bottom() as usize {
                    fb.pixels_mut()[y * width + usize::from(r.x)..y * width + r.right() as usize]
                        .fill(colour);
                }
            }
            FrameDamage { moves: Vec::new(), rects: vec![rect] }
        });
    }

    /// Scrolls `region` up by `rows` and fills the rows that come in with `colour`.
    pub fn scroll_up(&self, region: Rect, rows: u16, colour: u32) {
        let rows = rows.min(region.height);
        let mv = Move {
            dst: Rect::new(region.x, region.y, region.width, region.height - rows),
            src_x: region.x,
            src_y: region.y + rows,
        };
        self.paint(|fb| {
            let moves = if mv.dst.is_empty() { Vec::new() } else { vec![mv] };
            for m in &moves {
                fb.apply_move(m);
            }
            FrameDamage { moves, rects: Vec::new() }
        });
        self.fill(Rect::new(region.x, region.y + region.height - rows, region.width, rows), colour);
    }

    /// Gives the desktop a new size, black, everything damaged.
    pub fn resize(&self, width: u16, height: u16) {
        self.paint(|fb| {
            *fb = Framebuffer::new(width, height);
            FrameDamage::default()
        });
    }

    /// Says the desktop is drawn in character cells of this size, as a terminal is.
    pub fn set_cell_size(&self, cell_size: Option<(u16, u16)>) {
        *lock(&self.cell_size) = cell_size;
    }

    /// A copy of the framebuffer as it is now.
    pub fn framebuffer(&self) -> Framebuffer {
        lock(&self.state).framebuffer.clone()
    }

    /// Puts text on the clipboard, as OSC 52 would.
    pub fn set_clipboard(&self, text: &str) {
        self.clipboard.send_replace(Some(text.to_string()));
    }

    /// Every input viewers sent so far; it changes with each one.
    pub fn inputs(&self) -> watch::Receiver<Vec<ViewerInput>> {
        self.inputs.subscribe()
    }
}

impl Desktop for PaintedDesktop {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn refresh(&self, _: ViewerId, f: &mut dyn FnMut(Refreshed<'_>)) {
        let mut state = lock(&self.state);
        let damage = state.damage.take().into_damage();
        f(Refreshed::shared(&state.framebuffer, &damage));
    }

    fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn clipboard(&self) -> watch::Receiver<Option<String>> {
        self.clipboard.subscribe()
    }

    fn cell_size(&self) -> Option<(u16, u16)> {
        *lock(&self.cell_size)
    }

    fn input(&self, event: ViewerInput) {
        if let ViewerInput::Resize { width, height, .. } = event {
            self.resize(width, height);
        }
        self.inputs.send_modify(|inputs| inputs.push(event));
    }
}
