//! What attaching a backend takes and gives: the options besides its
//! connector, the limit on how many a hub takes, and the figures a backend
//! ends with. Shared by the hub, its handle, the backend set and the drivers,
//! so that none of them imports another for these.

use super::port::BoxWriter;

/// QEMU's MAX_HUB (MAX_MUX before it): a hub has at most this many backends,
/// so that a backend's index fits the mux's focus and event bookkeeping.
pub const MAX_BACKENDS: usize = 4;

/// What a backend's chardev options ask of the hub besides its connector.
#[derive(Default)]
pub struct AttachOptions {
    /// QEMU's `logfile=`: a copy of every chunk delivered to the backend,
    /// written whether or not a peer is connected.
    pub logfile: Option<BoxWriter>,
    /// `replay=SIZE`: how many of the last bytes delivered a newly connected
    /// peer is sent first (0, QEMU's way: none). They are held in memory.
    pub replay: usize,
    /// `lag=SIZE`: how far the backend may fall behind the console before it
    /// is cut off, its peer let go to connect again at the current position
    /// (0, QEMU's way, the default here: it is waited for, however long).
    pub lag: usize,
}

/// What each backend received over the hub's life.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BackendStats {
    /// Bytes written to a connected peer.
    pub written: u64,
    /// Bytes skipped because no peer was connected or its write failed.
    pub dropped: u64,
}

/// A backend cut off for falling further behind the console than its lag,
/// for whoever tells of it (the control socket's event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutOff {
    /// The hub's id.
    pub hub: String,
    /// The backend's id.
    pub backend: String,
    /// Its `lag=SIZE`.
    pub lag: usize,
    /// The bytes it had been handed and not yet written, dropped by the cut.
    pub behind: usize,
    /// The console offset at which the hub cut it off.
    pub offset: u64,
}
