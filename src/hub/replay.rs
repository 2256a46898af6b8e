//! `replay=SIZE`: the last bytes delivered to a backend, kept for a peer that
//! connects later (conserver shows a new spectator the last lines; QEMU shows
//! nothing, which is a capacity of 0).

/// The last `capacity` bytes of the chunks delivered to one backend, whether
/// they were written or dropped. It holds at most `capacity` bytes, and grows
/// to that only as output arrives.
pub(super) struct Replay {
    capacity: usize,
    /// Grows to `capacity`, then is overwritten in a ring from `oldest` on.
    ring: Vec<u8>,
    /// Where the oldest byte is once the ring is full (0 until then).
    oldest: usize,
}

impl Replay {
    /// Keeps the last `capacity` bytes (none for 0).
    pub(super) fn new(capacity: usize) -> Replay {
        Replay { capacity, ring: Vec::new(), oldest: 0 }
    }

    /// Takes one delivered chunk; the oldest bytes make room for it.
    pub(super) fn record(&mut self, data: &[u8]) {
        if self.capacity == 0 {
            return;
        }
        let data = &data[data.len().saturating_sub(self.capacity)..];
        let room = self.capacity - self.ring.len();
        let (fill, mut rest) = data.split_at(room.min(data.len()));
        if !fill.is_empty() {
            // Doubling, as a Vec does, but never past the capacity.
            let want = (self.ring.len() + fill.len()).max(self.ring.capacity() * 2).min(self.capacity);
            self.ring.reserve_exact(want - self.ring.len());
            self.ring.extend_from_slice(fill);
        }
        // At most twice round: `rest` is no longer than the ring.
        while !rest.is_empty() {
            let n = (self.capacity - self.oldest).min(rest.len());
            self.ring[self.oldest..self.oldest + n].copy_from_slice(&rest[..n]);
            self.oldest = (self.oldest + n) % self.capacity;
            rest = &rest[n..];
        }
    }

    /// Forgets every byte kept: what comes next does not follow them (the
    /// backend was cut off and missed bytes it never saw).
    pub(super) fn clear(&mut self) {
        self.ring.clear();
        self.oldest = 0;
    }

    /// How many bytes a new peer would be sent.
    pub(super) fn len(&self) -> usize {
        self.ring.len()
    }

    /// Whether there is nothing to send a new peer.
    pub(super) fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// The bytes kept, oldest first, in two parts (the ring's two halves).
    pub(super) fn contents(&self) -> [&[u8]; 2] {
        let (newer, older) = self.ring.split_at(self.oldest);
        [older, newer]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(replay: &Replay) -> Vec<u8> {
        replay.contents().concat()
    }

    #[test]
    fn keeps_the_last_bytes_across_chunks() {
        let mut replay = Replay::new(5);
        replay.record(b"abc");
        assert_eq!(kept(&replay), b"abc");
        replay.record(b"de");
        assert_eq!(kept(&replay), b"abcde");
        replay.record(b"fg");
        assert_eq!(kept(&replay), b"cdefg");
        replay.record(b"hijklmnop");
        assert_eq!(kept(&replay), b"lmnop");
        assert_eq!(replay.len(), 5);
    }

    #[test]
    fn a_capacity_of_zero_keeps_nothing() {
        let mut replay = Replay::new(0);
        replay.record(b"abc");
        assert!(replay.is_empty());
        assert_eq!(kept(&replay), b"");
    }

    #[test]
    fn memory_stays_within_the_capacity() {
        let mut replay = Replay::new(1000);
        for _ in 0..100 {
            replay.record(&[7u8; 33]);
        }
        assert!(replay.ring.capacity() <= 1000, "{}", replay.ring.capacity());
    }

    proptest::proptest! {
        #[test]
        fn keeps_what_the_last_bytes_of_the_stream_are(
            capacity in 0usize..40,
            chunks in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..60), 0..12),
        ) {
            let mut replay = Replay::new(capacity);
            for chunk in &chunks {
                replay.record(chunk);
            }
            let stream = chunks.concat();
            let want = &stream[stream.len().saturating_sub(capacity)..];
            proptest::prop_assert_eq!(kept(&replay), want);
            proptest::prop_assert!(replay.ring.capacity() <= capacity);
        }
    }
}
