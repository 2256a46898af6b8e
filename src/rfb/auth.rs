//! VNC Authentication (RFC 6143 7.2.2): a random 16-byte challenge the viewer
//! encrypts with DES keyed by the password, and the backoff that slows down
//! guessing from one address.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use des::Des;
use des::cipher::{BlockCipherEncrypt, KeyInit};
use rand::Rng;

/// Bytes of a challenge and of its response.
pub const CHALLENGE_LEN: usize = 16;

/// Failures from one address allowed before it must wait.
const FREE_FAILURES: u32 = 5;

/// The first wait; each further failure doubles it, up to [`MAX_WAIT`]
/// (TigerVNC's blacklist: 5 failures, then 10 s doubling).
const FIRST_WAIT: Duration = Duration::from_secs(10);

/// The longest wait.
const MAX_WAIT: Duration = Duration::from_secs(600);

/// A fresh random challenge.
pub fn challenge() -> [u8; CHALLENGE_LEN] {
    let mut c = [0u8; CHALLENGE_LEN];
    rand::rng().fill_bytes(&mut c);
    c
}

/// What a viewer knowing `password` answers to `challenge`: the challenge
/// encrypted in two DES blocks, keyed by the password's first 8 bytes (zero
/// padded) with each byte's bits reversed, as VNC has always done.
pub fn response(password: &[u8], challenge: &[u8; CHALLENGE_LEN]) -> [u8; CHALLENGE_LEN] {
    let mut key = [0u8; 8];
    for (k, p) in key.iter_mut().zip(password) {
        *k = p.reverse_bits();
    }
    let cipher = Des::new(&key.into());
    let mut out = *challenge;
    for block in out.chunks_exact_mut(8) {
        let mut b: [u8; 8] = [0; 8];
        b.copy_from_slice(block);
        let mut b = b.into();
        cipher.encrypt_block(&mut b);
        block.copy_from_slice(&b);
    }
    out
}

/// Whether `answer` is the response of `password` to `challenge`, comparing
/// every byte whatever the first difference.
pub fn matches(password: &[u8], challenge: &[u8; CHALLENGE_LEN], answer: &[u8; CHALLENGE_LEN]) -> bool {
    response(password, challenge).iter().zip(answer).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0
}

/// Failed authentications per address: after 5 failures an address must
/// wait before it may try again, longer after every further failure. Nothing
/// sleeps: a viewer that comes back too early is refused at once.
#[derive(Default)]
pub struct Backoff {
    addresses: Mutex<HashMap<String, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    until: Option<Instant>,
}

impl Backoff {
    /// How long `address` must still wait, if it must.
    pub fn wait_for(&self, address: &str) -> Option<Duration> {
        let addresses = self.addresses.lock().unwrap_or_else(|e| e.into_inner());
        let until = addresses.get(address)?.until?;
        until.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
    }

    /// Counts a failure from `address`.
    pub fn failed(&self, address: &str) {
        let mut addresses = self.addresses.lock().unwrap_or_else(|e| e.into_inner());
        // Forget addresses whose wait is long over, so the table stays small.
        let now = Instant::now();
        addresses.retain(|_, f| f.until.is_none_or(|until| now < until + MAX_WAIT));
        let failures = addresses.entry(address.to_string()).or_insert(Failures { count: 0, until: None });
        failures.count += 1;
        if failures.count >= FREE_FAILURES {
            let doublings = (failures.count - FREE_FAILURES).min(16);
            let wait = FIRST_WAIT.saturating_mul(1 << doublings).min(MAX_WAIT);
            failures.until = Some(now + wait);
        }
    }

    /// Forgets `address`'s failures after it authenticated.
    pub fn succeeded(&self, address: &str) {
        self.addresses.lock().unwrap_or_else(|e| e.into_inner()).remove(address);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_response_matches_another_implementation() {
        // The challenge 0..16 answered by vncdotool 1.4.2's `des_encrypt(_vnc_des(password), challenge)`.
        let challenge: [u8; 16] = std::array::from_fn(|i| i as u8);
        let hex = |s: &str| -> [u8; 16] {
            std::array::from_fn(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap_or_default())
        };
        assert_eq!(response(b"password", &challenge), hex("b866924125c8eebb9debc1db61c538e2"));
        assert_eq!(response(b"s3cret", &challenge), hex("fc9a2bb8546a63388eb45b530d3a6337"));
        let r = response(b"password", &challenge);
        assert!(matches(b"password", &challenge, &r));
        assert!(!matches(b"passwore", &challenge, &r));
        // Only the first 8 bytes count, as in every VNC server.
        assert!(matches(b"password-and-more", &challenge, &r));
    }

    #[test]
    fn repeated_failures_make_an_address_wait() {
        let backoff = Backoff::default();
        for _ in 0..FREE_FAILURES - 1 {
            backoff.failed("10.0.0.1");
        }
        assert_eq!(backoff.wait_for("10.0.0.1"), None);
        backoff.failed("10.0.0.1");
        assert!(backoff.wait_for("10.0.0.1").is_some());
        assert_eq!(backoff.wait_for("10.0.0.2"), None);
        backoff.succeeded("10.0.0.1");
        assert_eq!(backoff.wait_for("10.0.0.1"), None);
    }
}
