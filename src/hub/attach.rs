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
}

/// What each backend received over the hub's life.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BackendStats {
    /// Bytes written to a connected peer.
    pub written: u64,
    /// Bytes skipped because no peer was connected or its write failed.
    pub dropped: u64,
}
