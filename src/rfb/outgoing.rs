//! A viewer's write half: each message handed to a writer task of its own, so
//! that the session never waits on a slow viewer, and the count of bytes
//! still unsent, which the session paces its updates by. Unsent bytes are
//! held on the process's memory budget ([`memory`](crate::memory)) until
//! written, so that all viewers together are bounded, not each on its own.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use crate::memory::{self, Budget, Reservation};

/// Every viewer's unsent output, within the process's budget: how much of it
/// viewers hold decides whether one of them is dropped when it is spent.
static OUTPUT: LazyLock<Arc<Budget>> =
    LazyLock::new(|| Budget::within(memory::process(), memory::PROCESS_BUDGET));

/// The bytes every viewer of the process has handed over and not written yet.
pub(super) fn all_unsent() -> usize {
    OUTPUT.used()
}

/// The viewer's output: buffers handed to a writer task, and how many bytes
/// are still unsent. The task stops when this is dropped.
pub(super) struct Outgoing {
    buffers: mpsc::UnboundedSender<(Vec<u8>, Reservation)>,
    unsent: Arc<AtomicUsize>,
    /// Notified after each buffer written.
    pub drained: Arc<Notify>,
    /// The writer task; it ends at the first failed write.
    pub writer: JoinHandle<std::io::Result<()>>,
}

impl Outgoing {
    /// Starts writing to `writer`.
    pub fn start<W: AsyncWrite + Unpin + Send + 'static>(mut writer: W) -> Outgoing {
        let (buffers, mut queue) = mpsc::unbounded_channel::<(Vec<u8>, Reservation)>();
        let unsent = Arc::new(AtomicUsize::new(0));
        let drained = Arc::new(Notify::new());
        let (left, notify) = (unsent.clone(), drained.clone());
        let writer = tokio::spawn(async move {
            while let Some((buffer, memory)) = queue.recv().await {
                writer.write_all(&buffer).await?;
                writer.flush().await?;
                left.fetch_sub(buffer.len(), Ordering::SeqCst);
                drop(memory);
                notify.notify_one();
            }
            Ok(())
        });
        Outgoing { buffers, unsent, drained, writer }
    }

    /// Bytes handed over and not written yet.
    pub fn unsent(&self) -> usize {
        self.unsent.load(Ordering::SeqCst)
    }

    /// Hands `buffer` to the writer task, holding its bytes on the process's
    /// budget (past it if need be: the buffer exists already) until written.
    pub fn send(&self, buffer: Vec<u8>) {
        self.unsent.fetch_add(buffer.len(), Ordering::SeqCst);
        let memory = OUTPUT.force(buffer.len());
        // If the writer is gone, its failure ends the connection anyway.
        let _ = self.buffers.send((buffer, memory));
    }
}

impl Drop for Outgoing {
    fn drop(&mut self) {
        self.writer.abort();
    }
}
