//! What a vc types into the console (keys, pastes, the terminal's replies):
//! one queue of bytes, read by the hub as the vc's input. It is bounded in
//! bytes, not in chunks, and draws on the process's memory budget, so that a
//! paste repeated into a console that does not read costs at most the
//! queue's cap; a flood of single keys coalesces instead of filling a queue of
//! chunks. Past the cap, input is dropped, and the caller says so.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, ReadBuf};

use crate::memory::{self, Budget, Reservation};

/// Capacity kept by an empty queue; more is given back.
const KEPT_CAPACITY: usize = 64 * 1024;

/// The queue, shared by the vc (writing) and the hub's reader.
pub(super) struct InputQueue {
    state: Mutex<Queued>,
}

struct Queued {
    bytes: VecDeque<u8>,
    /// The queued bytes, reserved in a budget of the queue's own within the process's.
    memory: Reservation,
    /// The reader waiting for bytes.
    waker: Option<Waker>,
    /// The vc is gone: the reader ends once the queue is empty.
    closed: bool,
}

impl InputQueue {
    /// An empty queue of at most `limit` bytes.
    pub fn new(limit: usize) -> Arc<InputQueue> {
        let budget = Budget::within(memory::process(), limit);
        // Nothing reserved cannot be refused.
        let memory = budget.try_reserve(0).unwrap_or_else(|| budget.force(0));
        Arc::new(InputQueue {
            state: Mutex::new(Queued { bytes: VecDeque::new(), memory, waker: None, closed: false }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Queued> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `bytes` whole, or none of them if there is no room: `false`.
    pub fn push(&self, bytes: &[u8]) -> bool {
        let mut queued = self.lock();
        if !queued.memory.try_grow(bytes.len()) {
            return false;
        }
        queued.bytes.extend(bytes);
        if let Some(waker) = queued.waker.take() {
            waker.wake();
        }
        true
    }

    /// No more bytes will come: the reader ends after what is queued.
    pub fn close(&self) {
        let mut queued = self.lock();
        queued.closed = true;
        if let Some(waker) = queued.waker.take() {
            waker.wake();
        }
    }

    /// The bytes queued now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().bytes.len()
    }
}

/// The hub's end of an [`InputQueue`].
pub(super) struct QueueReader(pub Arc<InputQueue>);

impl AsyncRead for QueueReader {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let mut queued = self.0.lock();
        if queued.bytes.is_empty() {
            if queued.closed {
                return Poll::Ready(Ok(()));
            }
            queued.waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = queued.bytes.len().min(buf.remaining());
        let (front, back) = queued.bytes.as_slices();
        let from_front = n.min(front.len());
        buf.put_slice(&front[..from_front]);
        buf.put_slice(&back[..n - from_front]);
        queued.bytes.drain(..n);
        queued.memory.shrink(n);
        if queued.bytes.is_empty() && queued.bytes.capacity() > KEPT_CAPACITY {
            queued.bytes.shrink_to(KEPT_CAPACITY);
        }
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;

    #[tokio::test]
    async fn bytes_past_the_cap_are_refused_and_the_rest_read_in_order() {
        let queue = InputQueue::new(10);
        assert!(queue.push(b"hello"));
        assert!(!queue.push(b"world!"), "11 bytes do not fit in 10");
        assert!(queue.push(b"world"));
        assert_eq!(queue.len(), 10);
        let mut reader = QueueReader(queue.clone());
        let mut got = [0u8; 4];
        reader.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"hell");
        assert!(queue.push(b"!!!!"), "what was read is room again");
        queue.close();
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"oworld!!!!");
    }
}
