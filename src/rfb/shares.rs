//! Share links: tokens that let a browser in through the websocket port
//! without the console's password, each perhaps view-only, perhaps expiring,
//! perhaps good for one connection, and revocable at once.
//!
//! A token is 128 random bits (hex), known only to whoever was given the
//! link; the share's id (`share1`, `share2`…) names it in lists and logs
//! without revealing it. Revoking a share, or its expiry, ends its viewers'
//! sessions: each admitted viewer holds a [`Grant`] whose `ended` token fires
//! then. Memory stays bounded: at most [`MAX_SHARES`] live shares, expired
//! ones dropped as new ones come.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use rand::Rng;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::info;

/// The most shares a server keeps at once; past it, `create` refuses.
pub const MAX_SHARES: usize = 1024;

/// How a share link lets its viewers in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShareOptions {
    /// Its viewers only watch: their keys, buttons, clipboard and resizes are dropped.
    pub view_only: bool,
    /// It ends this long after it is made (its viewers leave then too).
    pub expires: Option<Duration>,
    /// It lets in one connection only.
    pub once: bool,
}

/// A share as listed: everything but its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareInfo {
    /// Its name in lists and logs: `share1`, `share2`….
    pub id: String,
    /// How it lets viewers in.
    pub options: ShareOptions,
    /// When it ends, if it does.
    pub expires_at: Option<SystemTime>,
    /// How many connections it let in so far.
    pub used: u64,
}

/// A share just made: its id and the token its link carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewShare {
    /// As [`ShareInfo::id`].
    pub id: String,
    /// 128 random bits as 32 hex digits.
    pub token: String,
}

/// Why a share could not be made, found or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShareError {
    /// No live share has this token or id.
    #[error("no share has this token or id")]
    Unknown,
    /// The share's time is up.
    #[error("the share {0} has expired")]
    Expired(String),
    /// A `once` share already let its one connection in.
    #[error("the share {0} was for one connection, and it was used")]
    Used(String),
    /// [`MAX_SHARES`] are live.
    #[error("there are already {MAX_SHARES} shares; unshare some first")]
    TooMany,
}

/// What an admitted viewer holds: which share let it in, what it may do, and
/// the token that fires when the share is revoked or expires.
#[derive(Debug, Clone)]
pub struct Grant {
    /// The share's id.
    pub id: String,
    /// Whether the viewer only watches.
    pub view_only: bool,
    /// Fires when the share ends: revoked, or expired.
    pub ended: CancellationToken,
}

struct Entry {
    token: String,
    info: ShareInfo,
    deadline: Option<Instant>,
    ended: CancellationToken,
}

impl Entry {
    fn expired(&self, now: Instant) -> bool {
        self.deadline.is_some_and(|deadline| now >= deadline)
    }
}

/// A server's share links.
#[derive(Default)]
pub struct Shares {
    entries: Mutex<Vec<Entry>>,
    made: Mutex<u64>,
}

impl Shares {
    /// Makes a share with a fresh token.
    pub fn create(&self, options: ShareOptions) -> Result<NewShare, ShareError> {
        let now = Instant::now();
        let mut entries = lock(&self.entries);
        for gone in entries.iter().filter(|e| e.expired(now)) {
            gone.ended.cancel();
        }
        entries.retain(|e| !e.expired(now));
        if entries.len() >= MAX_SHARES {
            return Err(ShareError::TooMany);
        }
        let id = {
            let mut made = lock(&self.made);
            *made += 1;
            format!("share{made}")
        };
        let mut bits = [0u8; 16];
        rand::rng().fill_bytes(&mut bits);
        let token: String = bits.iter().map(|b| format!("{b:02x}")).collect();
        let deadline = options.expires.and_then(|after| now.checked_add(after));
        let expires_at = options.expires.and_then(|after| SystemTime::now().checked_add(after));
        let info = ShareInfo { id: id.clone(), options, expires_at, used: 0 };
        let ended = CancellationToken::new();
        if let Some(deadline) = deadline {
            // Its viewers leave when it expires, whether or not anyone asks.
            let (ended, id) = (ended.clone(), id.clone());
            tokio::spawn(async move {
                tokio::select! {
                    () = tokio::time::sleep_until(deadline) => {
                        info!("vnc: share {id} expired: its viewers are disconnected");
                        ended.cancel();
                    }
                    () = ended.cancelled() => {}
                }
            });
        }
        let access = if options.view_only { "view-only" } else { "read-write" };
        let once = if options.once { ", one connection" } else { "" };
        let expires = options.expires.map(|d| format!(", expires in {} s", d.as_secs())).unwrap_or_default();
        info!("vnc: share {id} made ({access}{once}{expires})");
        entries.push(Entry { token: token.clone(), info, deadline, ended });
        Ok(NewShare { id, token })
    }

    /// Ends the share with this token or id, and its viewers' sessions.
    pub fn revoke(&self, token_or_id: &str) -> Result<ShareInfo, ShareError> {
        let mut entries = lock(&self.entries);
        let at = entries
            .iter()
            .position(|e| same(&e.token, token_or_id) || e.info.id == token_or_id)
            .ok_or(ShareError::Unknown)?;
        let entry = entries.remove(at);
        entry.ended.cancel();
        info!("vnc: share {} revoked: its viewers are disconnected", entry.info.id);
        Ok(entry.info)
    }

    /// The live shares, oldest first (expired ones are not listed).
    pub fn list(&self) -> Vec<ShareInfo> {
        let now = Instant::now();
        lock(&self.entries).iter().filter(|e| !e.expired(now)).map(|e| e.info.clone()).collect()
    }

    /// Lets a connection in with `token`, or says why not.
    pub fn admit(&self, token: &str) -> Result<Grant, ShareError> {
        let mut entries = lock(&self.entries);
        // Every token is compared in full, so the time taken says nothing of
        // how much of a guess was right.
        let entry =
            entries.iter_mut().fold(None, |found, e| if same(&e.token, token) { Some(e) } else { found });
        let entry = entry.ok_or(ShareError::Unknown)?;
        if entry.expired(Instant::now()) {
            return Err(ShareError::Expired(entry.info.id.clone()));
        }
        if entry.info.options.once && entry.info.used > 0 {
            return Err(ShareError::Used(entry.info.id.clone()));
        }
        entry.info.used += 1;
        Ok(Grant {
            id: entry.info.id.clone(),
            view_only: entry.info.options.view_only,
            ended: entry.ended.clone(),
        })
    }
}

/// Whether two tokens are equal, in a time that depends only on their lengths.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_token_admits_until_revoked_and_once_means_once() {
        let shares = Shares::default();
        let watch = shares.create(ShareOptions { view_only: true, ..ShareOptions::default() }).unwrap();
        let once = shares.create(ShareOptions { once: true, ..ShareOptions::default() }).unwrap();
        assert_eq!(watch.token.len(), 32);
        assert_ne!(watch.token, once.token);
        assert_eq!((watch.id.as_str(), once.id.as_str()), ("share1", "share2"));
        let grant = shares.admit(&watch.token).unwrap();
        assert!(grant.view_only && !grant.ended.is_cancelled());
        assert!(!shares.admit(&once.token).unwrap().view_only);
        assert_eq!(shares.admit(&once.token).unwrap_err(), ShareError::Used("share2".into()));
        assert_eq!(shares.admit("0123").unwrap_err(), ShareError::Unknown);
        assert_eq!(shares.list().iter().map(|s| s.used).collect::<Vec<_>>(), [1, 1]);
        assert_eq!(shares.revoke("share1").unwrap().id, "share1");
        assert!(grant.ended.is_cancelled());
        assert_eq!(shares.admit(&watch.token).unwrap_err(), ShareError::Unknown);
        assert_eq!(shares.revoke(&once.token).unwrap().id, "share2");
        assert!(shares.list().is_empty());
    }

    #[tokio::test]
    async fn an_expired_share_refuses_and_ends_its_viewers() {
        let shares = Shares::default();
        let brief = ShareOptions { expires: Some(Duration::from_millis(200)), ..ShareOptions::default() };
        let new = shares.create(brief).unwrap();
        let grant = shares.admit(&new.token).unwrap();
        tokio::time::timeout(Duration::from_secs(60), grant.ended.cancelled()).await.expect("it expires");
        assert_eq!(shares.admit(&new.token).unwrap_err(), ShareError::Expired("share1".into()));
        assert!(shares.list().is_empty());
    }
}
