//! OSC 52's clipboard: what programs stored, per selection, and the writes
//! the VNC server has yet to pass on.

/// At most this many writes wait for the owner; later ones are dropped.
const EVENTS_MAX: usize = 64;

/// A clipboard write or query by OSC 52, for the VNC server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClipboardEvent {
    /// The selection letters the program named (`c`, `p`, `s`, `0`-`7`).
    pub selection: String,
    /// The decoded payload.
    pub data: Vec<u8>,
}

/// The stored payloads and the writes not yet taken.
#[derive(Debug, Default)]
pub(crate) struct Clipboard {
    /// Writes since the owner last took them, at most [`EVENTS_MAX`].
    events: Vec<ClipboardEvent>,
    /// The last payload per selection letter, for OSC 52 queries.
    stored: Vec<(char, Vec<u8>)>,
}

impl Clipboard {
    /// OSC 52 write: stores `data` for each letter of `selection` and queues
    /// the write for the owner.
    pub fn store(&mut self, selection: String, data: Vec<u8>) {
        for c in selection.chars() {
            self.stored.retain(|(k, _)| *k != c);
            self.stored.push((c, data.clone()));
        }
        if self.events.len() < EVENTS_MAX {
            self.events.push(ClipboardEvent { selection, data });
        }
    }

    /// What was stored last for selection letter `c`, for an OSC 52 query.
    pub fn stored(&self, c: char) -> Option<&[u8]> {
        self.stored.iter().find(|(k, _)| *k == c).map(|(_, d)| d.as_slice())
    }

    /// The writes since the last call.
    pub fn take_events(&mut self) -> Vec<ClipboardEvent> {
        std::mem::take(&mut self.events)
    }

    /// RIS: forgets the stored payloads; writes not yet taken stay queued.
    pub fn forget_stored(&mut self) {
        self.stored.clear();
    }
}
