//! `lag=SIZE`: how far one backend may fall behind the console before the hub
//! cuts it off, so that a peer that stops reading (a stopped `socat`, a log on
//! a hung mount) never stalls the console, and with it the guest.
//!
//! The hub hands every chunk to every backend. A backend with a lag of 0 is
//! waited for, chunk by chunk (QEMU's hub: the slowest connected peer sets the
//! pace). Any other is handed chunks without waiting, and its [`Backlog`]
//! counts the bytes it was handed and has not yet written or dropped. When a
//! new chunk would take that past the lag, the hub cuts the backend off: its
//! driver lets the peer go at once and drops what it still held, and the peer
//! may connect again at the current position. Until the driver has done so the
//! hub keeps handing it chunks, up to twice the lag, and skips the rest, so a
//! backend holds at most twice its lag (and one chunk) however stuck it is.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use tokio::sync::Notify;

/// What the hub does with the next chunk for one backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Admission {
    /// Hand it over and wait until the backend has written or dropped it
    /// (lag 0).
    Wait,
    /// Hand it over and go on.
    Hand,
    /// Hand it over, and the backend has just been cut off: it was `behind`
    /// bytes behind, which it will drop.
    Cut {
        /// The bytes it had been handed and not yet written.
        behind: usize,
    },
    /// Do not hand it over: the backend is being cut off and already holds
    /// twice its lag. The chunk counts as dropped.
    Skip,
}

/// One backend's distance behind the console, shared by the hub, which hands
/// it chunks, and its driver, which finishes them.
#[derive(Debug, Default)]
pub(super) struct Backlog {
    /// `lag=SIZE`; 0 waits for the backend instead.
    lag: usize,
    /// Bytes handed to the driver and not yet written or dropped by it.
    behind: AtomicUsize,
    /// Set by the hub when it cuts the backend off, cleared by the driver
    /// once it has let the peer go and dropped what it held.
    cutting: AtomicBool,
    /// Wakes the driver to cut its peer off, even in the middle of a write.
    cut: Notify,
    /// Bytes the hub skipped while the driver was still cutting.
    skipped: AtomicU64,
}

impl Backlog {
    /// A backend that may fall `lag` bytes behind (0: it is waited for).
    pub(super) fn new(lag: usize) -> Backlog {
        Backlog { lag, ..Backlog::default() }
    }

    /// `lag=SIZE`.
    pub(super) fn lag(&self) -> usize {
        self.lag
    }

    /// Decides the fate of the next chunk of `len` bytes, and counts it as
    /// handed over unless it is skipped. A backend that has written all it was
    /// handed takes any chunk, however large.
    pub(super) fn admit(&self, len: usize) -> Admission {
        if self.lag == 0 {
            self.behind.fetch_add(len, Ordering::SeqCst);
            return Admission::Wait;
        }
        let behind = self.behind.load(Ordering::SeqCst);
        let admission = if self.cutting.load(Ordering::SeqCst) {
            if behind > 0 && behind + len > 2 * self.lag {
                self.skipped.fetch_add(len as u64, Ordering::SeqCst);
                return Admission::Skip;
            }
            Admission::Hand
        } else if behind > 0 && behind + len > self.lag {
            self.cutting.store(true, Ordering::SeqCst);
            self.cut.notify_one();
            Admission::Cut { behind }
        } else {
            Admission::Hand
        };
        self.behind.fetch_add(len, Ordering::SeqCst);
        admission
    }

    /// Bytes handed to the driver and not yet written or dropped by it.
    pub(super) fn behind(&self) -> usize {
        self.behind.load(Ordering::SeqCst)
    }

    /// Cuts the backend off whatever it holds: for a backend being closed
    /// whose peer takes nothing, so that closing it never waits on the peer.
    pub(super) fn give_up(&self) {
        self.cutting.store(true, Ordering::SeqCst);
        self.cut.notify_one();
    }

    /// The driver has written or dropped `len` bytes it was handed.
    pub(super) fn finished(&self, len: usize) {
        self.behind.fetch_sub(len, Ordering::SeqCst);
    }

    /// Resolves when the hub cuts the backend off (at once if it already has
    /// and the driver has not looked since).
    pub(super) async fn cut_off(&self) {
        self.cut.notified().await;
    }

    /// The driver has let its peer go and dropped what it held: the hub may
    /// hand it chunks again. Returns how many bytes the hub skipped meanwhile.
    pub(super) fn cut_done(&self) -> u64 {
        self.cutting.store(false, Ordering::SeqCst);
        self.skipped.swap(0, Ordering::SeqCst)
    }

    /// Bytes skipped by the hub that the driver has not yet counted (at its end).
    pub(super) fn take_skipped(&self) -> u64 {
        self.skipped.swap(0, Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lag_of_zero_waits_for_every_chunk() {
        let backlog = Backlog::new(0);
        for _ in 0..10 {
            assert_eq!(backlog.admit(1 << 20), Admission::Wait);
        }
    }

    #[test]
    fn a_backend_within_its_lag_is_handed_chunks_without_a_wait() {
        let backlog = Backlog::new(100);
        assert_eq!(backlog.admit(60), Admission::Hand);
        assert_eq!(backlog.admit(40), Admission::Hand);
        backlog.finished(60);
        assert_eq!(backlog.admit(60), Admission::Hand);
    }

    #[test]
    fn a_backend_that_has_caught_up_takes_a_chunk_larger_than_its_lag() {
        let backlog = Backlog::new(10);
        assert_eq!(backlog.admit(1000), Admission::Hand);
        backlog.finished(1000);
        assert_eq!(backlog.admit(1000), Admission::Hand);
    }

    #[test]
    fn falling_further_behind_than_the_lag_cuts_off_once() {
        let backlog = Backlog::new(100);
        assert_eq!(backlog.admit(80), Admission::Hand);
        assert_eq!(backlog.admit(30), Admission::Cut { behind: 80 });
        // Until the driver has cut, chunks are handed over up to twice the lag.
        assert_eq!(backlog.admit(50), Admission::Hand);
        assert_eq!(backlog.admit(40), Admission::Hand);
        assert_eq!(backlog.admit(1), Admission::Skip);
        assert_eq!(backlog.admit(7), Admission::Skip);
        // The driver drops all it held, then says it is done.
        backlog.finished(80 + 30 + 50 + 40);
        assert_eq!(backlog.cut_done(), 8);
        assert_eq!(backlog.take_skipped(), 0);
        assert_eq!(backlog.admit(100), Admission::Hand);
        assert_eq!(backlog.admit(1), Admission::Cut { behind: 100 });
    }

    #[tokio::test]
    async fn the_driver_hears_a_cut_made_before_it_listened() {
        let backlog = Backlog::new(1);
        backlog.admit(1);
        backlog.admit(1);
        tokio::time::timeout(std::time::Duration::from_secs(60), backlog.cut_off())
            .await
            .expect("the cut is remembered");
    }
}
