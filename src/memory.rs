//! The process's memory budget: what outsiders can make vcmux hold (viewers'
//! unsent output, what is typed and pasted into the console, framebuffers a
//! viewer's resize or scrolling back asks for) is drawn from one budget, so
//! that 32 viewers cannot each fill a cap of their own. The figures it keeps
//! vcmux under are in README.md, "Reliability".
//!
//! A [`Budget`] counts bytes reserved; a [`Reservation`] gives them back
//! when dropped. A budget may draw on a parent ([`Budget::within`]), so that
//! one queue has a cap of its own and still counts against the process's.
//! [`process`] is the budget of the whole process. Who holds memory decides
//! what to do when a reservation is refused (wait, drop the input, refuse the
//! resize); those who can shed memory, or wait for some, watch
//! [`Budget::pressure`]: it is on from a refusal (or from more reserved than
//! the limit) until some memory is given back.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use tokio::sync::watch;

/// The process's budget: 48 MiB, which with the rest of vcmux (fonts, the
/// terminal and its history, the live framebuffer) keeps it under 128 MiB.
pub const PROCESS_BUDGET: usize = 48 << 20;

static PROCESS: LazyLock<Arc<Budget>> = LazyLock::new(|| Budget::new(PROCESS_BUDGET));

/// The budget of the whole process.
pub fn process() -> &'static Arc<Budget> {
    &PROCESS
}

/// Bytes that may be reserved, and how many are.
#[derive(Debug)]
pub struct Budget {
    limit: usize,
    used: AtomicUsize,
    parent: Option<Arc<Budget>>,
    /// A reservation was refused, or more than the limit is reserved (only
    /// [`Budget::force`] gets there), and not enough was given back since.
    over: watch::Sender<bool>,
}

/// Bytes reserved in a budget (and its parents), given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: Arc<Budget>,
    bytes: usize,
}

impl Budget {
    /// A budget of `limit` bytes of its own.
    pub fn new(limit: usize) -> Arc<Budget> {
        Arc::new(Budget { limit, used: AtomicUsize::new(0), parent: None, over: watch::Sender::new(false) })
    }

    /// A budget of `limit` bytes that also draws on `parent`.
    pub fn within(parent: &Arc<Budget>, limit: usize) -> Arc<Budget> {
        Arc::new(Budget {
            limit,
            used: AtomicUsize::new(0),
            parent: Some(parent.clone()),
            over: watch::Sender::new(false),
        })
    }

    /// The bytes reserved now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::SeqCst)
    }

    /// Reserves `bytes` if this budget and every parent have room for them;
    /// a refusal puts the budget that refused under [`pressure`](Self::pressure).
    pub fn try_reserve(self: &Arc<Self>, bytes: usize) -> Option<Reservation> {
        self.take_chain(bytes).then(|| Reservation { budget: self.clone(), bytes })
    }

    /// Reserves `bytes` whether or not there is room: for memory already
    /// allocated, which is better counted than not. Past the limit, the
    /// budget is under [`pressure`](Self::pressure) until enough is given back.
    pub fn force(self: &Arc<Self>, bytes: usize) -> Reservation {
        let mut budget = Some(self);
        while let Some(b) = budget {
            let used = b.used.fetch_add(bytes, Ordering::SeqCst) + bytes;
            if used > b.limit {
                b.over.send_if_modified(|over| !std::mem::replace(over, true));
            }
            budget = b.parent.as_ref();
        }
        Reservation { budget: self.clone(), bytes }
    }

    /// Whether a reservation was refused or more than the limit is reserved,
    /// until memory is given back; now and as it changes. Those holding memory
    /// they can give up (a viewer that does not read) watch it, and so do
    /// those waiting for memory.
    pub fn pressure(&self) -> watch::Receiver<bool> {
        self.over.subscribe()
    }

    /// Whether the budget is under [`pressure`](Self::pressure) now.
    pub fn under_pressure(&self) -> bool {
        *self.over.borrow()
    }

    /// Reserves `bytes` in this budget and every parent, or in none.
    fn take_chain(&self, bytes: usize) -> bool {
        if !self.take(bytes) {
            return false;
        }
        if let Some(parent) = &self.parent
            && !parent.take_chain(bytes)
        {
            self.give(bytes);
            return false;
        }
        true
    }

    /// Reserves `bytes` in this budget alone if there is room.
    fn take(&self, bytes: usize) -> bool {
        let taken = self
            .used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                used.checked_add(bytes).filter(|&total| total <= self.limit)
            })
            .is_ok();
        if !taken {
            self.over.send_if_modified(|over| !std::mem::replace(over, true));
        }
        taken
    }

    /// Gives `bytes` back to this budget and every parent.
    fn give_chain(&self, bytes: usize) {
        self.give(bytes);
        if let Some(parent) = &self.parent {
            parent.give_chain(bytes);
        }
    }

    /// Gives `bytes` back to this budget alone.
    fn give(&self, bytes: usize) {
        let used = self.used.fetch_sub(bytes, Ordering::SeqCst) - bytes;
        if bytes > 0 && used <= self.limit {
            self.over.send_if_modified(|over| std::mem::replace(over, false));
        }
    }
}

impl Reservation {
    /// How many bytes it holds.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Reserves `bytes` more if its budget and every parent have room for them.
    pub fn try_grow(&mut self, bytes: usize) -> bool {
        let grown = self.budget.take_chain(bytes);
        if grown {
            self.bytes += bytes;
        }
        grown
    }

    /// Gives `bytes` of it back (at most all it holds).
    pub fn shrink(&mut self, bytes: usize) {
        let bytes = bytes.min(self.bytes);
        self.budget.give_chain(bytes);
        self.bytes -= bytes;
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.give_chain(self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_are_refused_past_the_limit_and_given_back_when_dropped() {
        let budget = Budget::new(100);
        let a = budget.try_reserve(60).expect("room for 60");
        assert!(budget.try_reserve(41).is_none());
        assert!(budget.under_pressure(), "refused: under pressure");
        let b = budget.try_reserve(40).expect("room for 40 more");
        drop(budget.try_reserve(0));
        assert!(budget.under_pressure(), "nothing given back yet");
        assert_eq!(budget.used(), 100);
        drop(a);
        assert_eq!(budget.used(), 40);
        assert!(!budget.under_pressure(), "memory given back");
        drop(b);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn a_budget_within_another_draws_on_both() {
        let parent = Budget::new(100);
        let queue = Budget::within(&parent, 50);
        let other = parent.try_reserve(70).unwrap();
        assert!(queue.try_reserve(40).is_none(), "the parent has only 30 left");
        assert_eq!(queue.used(), 0, "a refusal takes nothing");
        let q = queue.try_reserve(30).unwrap();
        assert_eq!(parent.used(), 100);
        drop(other);
        assert!(queue.try_reserve(21).is_none(), "the queue's own cap");
        drop(q);
        assert_eq!((parent.used(), queue.used()), (0, 0));
        let mut growing = queue.try_reserve(0).unwrap();
        assert!(growing.try_grow(50) && !growing.try_grow(1));
        growing.shrink(20);
        assert_eq!((parent.used(), queue.used(), growing.bytes()), (30, 30, 30));
        drop(growing);
        assert_eq!(parent.used(), 0);
    }

    #[test]
    fn forcing_past_the_limit_is_pressure_until_given_back() {
        let budget = Budget::new(100);
        let pressure = budget.pressure();
        let a = budget.force(150);
        assert!(*pressure.borrow() && budget.under_pressure());
        assert!(budget.try_reserve(1).is_none());
        drop(a);
        assert!(!*pressure.borrow());
        assert_eq!(budget.used(), 0);
    }
}
