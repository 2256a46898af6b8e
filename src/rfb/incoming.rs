//! A viewer's read half: its messages read and checked by a task of their
//! own, a few ahead of the session. The task reads through a buffer, so that
//! a flood of small messages (PointerEvent, KeyEvent) costs one read call per
//! bufferful rather than one per message.

use tokio::io::{AsyncRead, BufReader};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::client_message::{self, ClientMessage, MessageError};

/// Messages read ahead of the session: few, as each may be a 1 MiB ClientCutText.
const MESSAGE_QUEUE: usize = 4;

/// One viewer's messages as its reading task parses them. The task stops when
/// this is dropped.
pub(super) struct Incoming {
    messages: mpsc::Receiver<Result<ClientMessage, MessageError>>,
    reader: JoinHandle<()>,
}

impl Incoming {
    /// Starts reading the messages `reader` brings.
    pub fn start<R: AsyncRead + Unpin + Send + 'static>(reader: R) -> Incoming {
        let (to, messages) = mpsc::channel(MESSAGE_QUEUE);
        let reader = tokio::spawn(read_messages(BufReader::new(reader), to));
        Incoming { messages, reader }
    }

    /// The next message, or the error that ended reading; `None` after the
    /// viewer closed cleanly between messages. Cancel-safe.
    pub async fn next(&mut self) -> Option<Result<ClientMessage, MessageError>> {
        self.messages.recv().await
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

async fn read_messages<R: AsyncRead + Unpin>(
    mut reader: R,
    to: mpsc::Sender<Result<ClientMessage, MessageError>>,
) {
    loop {
        let read = client_message::read(&mut reader).await;
        let last = !matches!(read, Ok(Some(_)));
        let Some(message) = read.transpose() else { return };
        if to.send(message).await.is_err() || last {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll};

    use tokio::io::ReadBuf;

    use super::*;

    /// Bytes handed out as a socket would, counting the read calls.
    struct CountingReader {
        bytes: Vec<u8>,
        at: usize,
        reads: Arc<AtomicUsize>,
    }

    impl AsyncRead for CountingReader {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            let n = buf.remaining().min(self.bytes.len() - self.at);
            let at = self.at;
            buf.put_slice(&self.bytes[at..at + n]);
            self.at += n;
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn a_pointer_flood_is_read_a_bufferful_at_a_time() {
        const EVENTS: usize = 1000;
        let bytes: Vec<u8> = (0..EVENTS).flat_map(|i| [5, 1, 0, (i % 256) as u8, 0, 7]).collect();
        let reads = Arc::new(AtomicUsize::new(0));
        let mut incoming = Incoming::start(CountingReader { bytes, at: 0, reads: reads.clone() });
        for i in 0..EVENTS {
            let message = incoming.next().await.expect("a message").expect("well formed");
            assert_eq!(message, ClientMessage::Pointer { buttons: 1, x: (i % 256) as u16, y: 7 });
        }
        assert!(incoming.next().await.is_none());
        // 6000 bytes: one read per 8 KiB bufferful and one for the end, not
        // two per message.
        assert!(reads.load(Ordering::SeqCst) <= 3, "{} reads", reads.load(Ordering::SeqCst));
    }
}
