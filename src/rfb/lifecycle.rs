//! Who is at the other end of each connection, and what the server tells its
//! owner about them: the connections open now ([`ViewerInfo`], a snapshot
//! from [`Server::connected`](super::Server::connected)) and each arrival,
//! finished handshake and departure ([`ViewerEvent`], from
//! [`Server::subscribe`](super::Server::subscribe)).
//!
//! These are plain data: whoever listens (the control socket, through
//! `launch`) turns them into its own shapes, and the server learns nothing of
//! it. Telling never waits: events go out on a broadcast channel that drops
//! the oldest for a listener that lags, so a viewer flooding the server with
//! connections cannot make it block on a slow listener.

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::broadcast;

use super::desktop::ViewerId;

/// Events kept for a listener that is slow to take them; one further behind
/// misses the oldest (and is told how many it missed).
const EVENT_BACKLOG: usize = 256;

/// Who is at the other end of a connection: what the log shows, and what
/// failed passwords are counted against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// A TCP peer (plain or WebSocket); failures count against its IP address.
    Tcp(SocketAddr),
    /// A unix-socket peer or anything else local, described; failures of all
    /// local peers count together.
    Local(String),
}

impl Peer {
    /// The key of the failed-password backoff.
    pub(crate) fn backoff_key(&self) -> String {
        match self {
            Peer::Tcp(addr) => addr.ip().to_string(),
            Peer::Local(_) => "local".to_string(),
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Tcp(addr) => write!(f, "{addr}"),
            Peer::Local(what) => f.write_str(what),
        }
    }
}

/// One open connection, as its server's owner may list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewerInfo {
    /// The server's number for this connection (unique for the server's life).
    pub id: ViewerId,
    /// Where it comes from.
    pub peer: Peer,
    /// Whether it speaks RFB inside WebSocket (noVNC).
    pub websocket: bool,
    /// Whether its keys and pointer are ignored: the server is view-only, or
    /// it gave the view-only password. Known once its handshake is done.
    pub view_only: bool,
    /// Whether its handshake is done (ClientInit read, ServerInit sent).
    pub initialized: bool,
    /// The id of the share link it came in through, if any.
    pub share: Option<String>,
    /// The subject of the client certificate it showed (TLS with
    /// `verify-peer=on`), as QEMU's `x509_dname`: known on arrival over wss,
    /// once its handshake is done over VeNCrypt.
    pub x509_dname: Option<String>,
}

impl ViewerInfo {
    /// Who it is, for the audit trail in the log: its address, and what
    /// is known of it of the transport, certificate, share and access.
    pub fn who(&self) -> String {
        let mut who = format!("viewer {} from {}", self.id, self.peer);
        if self.websocket {
            who += " (WebSocket)";
        }
        if let Some(subject) = &self.x509_dname {
            who += &format!(", certificate '{subject}'");
        }
        if let Some(share) = &self.share {
            who += &format!(", through share {share}");
        }
        who
    }
}

/// What happened to a viewer's connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewerEvent {
    /// A connection was accepted (after the WebSocket handshake, for one over
    /// WebSocket), before the RFB handshake.
    Connected(ViewerInfo),
    /// Its RFB handshake is done: it sees the desktop from now on.
    Initialized(ViewerInfo),
    /// It is gone, handshake done or not.
    Disconnected(ViewerInfo),
}

/// The open connections and the channel that tells of them.
pub(crate) struct Lifecycle {
    open: Mutex<Vec<ViewerInfo>>,
    events: broadcast::Sender<ViewerEvent>,
}

impl Default for Lifecycle {
    fn default() -> Lifecycle {
        Lifecycle { open: Mutex::new(Vec::new()), events: broadcast::Sender::new(EVENT_BACKLOG) }
    }
}

impl Lifecycle {
    /// A snapshot of the open connections, oldest first.
    pub fn open(&self) -> Vec<ViewerInfo> {
        lock(&self.open).clone()
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ViewerEvent> {
        self.events.subscribe()
    }

    /// Records a connection that has just arrived and tells of it; it is
    /// listed until the returned guard is dropped.
    pub fn arrived(&self, info: ViewerInfo) -> Presence<'_> {
        let id = info.id;
        lock(&self.open).push(info.clone());
        self.tell(ViewerEvent::Connected(info));
        Presence { lifecycle: self, id }
    }

    fn tell(&self, event: ViewerEvent) {
        // No receiver means nobody listens: nothing to tell.
        let _ = self.events.send(event);
    }
}

/// A connection listed as open; dropping it lists it no more and tells of its
/// departure, however the session ended.
pub(crate) struct Presence<'a> {
    lifecycle: &'a Lifecycle,
    id: ViewerId,
}

impl Presence<'_> {
    /// The handshake is done: whether the viewer only watches, and the
    /// subject of the client certificate it showed inside the handshake's
    /// TLS, if it did. Returns the viewer as now listed.
    pub fn initialized(&self, view_only: bool, x509_dname: Option<String>) -> Option<ViewerInfo> {
        let info = {
            let mut open = lock(&self.lifecycle.open);
            let info = open.iter_mut().find(|v| v.id == self.id)?;
            info.view_only = view_only;
            info.initialized = true;
            if x509_dname.is_some() {
                info.x509_dname = x509_dname;
            }
            info.clone()
        };
        self.lifecycle.tell(ViewerEvent::Initialized(info.clone()));
        Some(info)
    }
}

impl Drop for Presence<'_> {
    fn drop(&mut self) {
        let gone = {
            let mut open = lock(&self.lifecycle.open);
            open.iter().position(|v| v.id == self.id).map(|at| open.remove(at))
        };
        if let Some(info) = gone {
            self.lifecycle.tell(ViewerEvent::Disconnected(info));
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: ViewerId) -> ViewerInfo {
        ViewerInfo {
            id,
            peer: Peer::Local("test".into()),
            websocket: false,
            view_only: false,
            initialized: false,
            share: None,
            x509_dname: None,
        }
    }

    #[test]
    fn a_connection_is_listed_from_arrival_to_departure_and_each_step_is_told() {
        let lifecycle = Lifecycle::default();
        let mut events = lifecycle.subscribe();
        let first = lifecycle.arrived(info(1));
        let second = lifecycle.arrived(info(2));
        first.initialized(true, Some("CN=alice".into()));
        assert_eq!(
            lifecycle.open().iter().map(|v| (v.id, v.view_only)).collect::<Vec<_>>(),
            [(1, true), (2, false)]
        );
        drop(first);
        assert_eq!(lifecycle.open(), [info(2)]);
        drop(second);
        assert!(lifecycle.open().is_empty());
        let told: Vec<_> = std::iter::from_fn(|| events.try_recv().ok()).collect();
        let done =
            ViewerInfo { view_only: true, initialized: true, x509_dname: Some("CN=alice".into()), ..info(1) };
        assert_eq!(done.who(), "viewer 1 from test, certificate 'CN=alice'");
        assert_eq!(
            told,
            [
                ViewerEvent::Connected(info(1)),
                ViewerEvent::Connected(info(2)),
                ViewerEvent::Initialized(done.clone()),
                ViewerEvent::Disconnected(done),
                ViewerEvent::Disconnected(info(2)),
            ]
        );
    }

    #[test]
    fn a_listener_that_lags_never_holds_the_server_back() {
        let lifecycle = Lifecycle::default();
        let mut events = lifecycle.subscribe();
        for id in 0..(EVENT_BACKLOG as u64 * 4) {
            drop(lifecycle.arrived(info(id)));
        }
        assert!(matches!(events.try_recv(), Err(broadcast::error::TryRecvError::Lagged(_))));
        assert!(lifecycle.open().is_empty());
    }
}
