//! Reverse connections (QEMU's `-vnc HOST:PORT,reverse=on`): instead of
//! waiting for viewers, the server connects out to one viewer listening
//! (`vncviewer -listen PORT`), for a colleague behind NAT. Once connected,
//! the server speaks first as on any connection (RFB's reverse mode changes
//! only who dials), so the handshake, TLS (VeNCrypt) and passwords are those
//! of every other viewer.
//!
//! Unlike QEMU, which dials once, it dials again whenever the connection
//! fails or ends, while the server runs: after [`FIRST_DELAY`], doubling up
//! to [`LAST_DELAY`], and back to the first after a connection that lasted
//! [`LAST_DELAY`] or more. One line is logged per failure (so at most one
//! every [`LAST_DELAY`] once the viewer has been away a while), and one when
//! a connection is made.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use tokio::net::{TcpStream, UnixStream};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::lifecycle::Peer;

/// The wait before dialling again after the first failure.
pub const FIRST_DELAY: Duration = Duration::from_secs(1);

/// The longest wait between two dials.
pub const LAST_DELAY: Duration = Duration::from_secs(30);

/// How long one dial may take before it counts as failed (an unreachable
/// host would otherwise hold it for minutes).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a viewer listens for the server to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listening {
    /// A TCP host and port.
    Tcp {
        /// A name or an address.
        host: String,
        /// The port `vncviewer -listen` waits on.
        port: u16,
    },
    /// A unix socket's path.
    Unix(PathBuf),
}

impl fmt::Display for Listening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listening::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Listening::Tcp { host, port } => write!(f, "{host}:{port}"),
            Listening::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// The waits between dials: doubling from [`FIRST_DELAY`] to [`LAST_DELAY`].
#[derive(Debug)]
struct Backoff {
    next: Duration,
}

impl Backoff {
    fn new() -> Backoff {
        Backoff { next: FIRST_DELAY }
    }

    /// The wait before the next dial; the one after is twice as long.
    fn take(&mut self) -> Duration {
        let now = self.next;
        self.next = (self.next * 2).min(LAST_DELAY);
        now
    }

    /// A connection lasted `lasted`: one that lasted long starts over.
    fn lasted(&mut self, lasted: Duration) {
        if lasted >= LAST_DELAY {
            self.next = FIRST_DELAY;
        }
    }
}

/// Dials `target` and has `serve` serve the viewer there to the end, again
/// and again, until `stopped`.
pub(crate) async fn run<F>(
    target: Listening,
    stopped: CancellationToken,
    mut serve: impl FnMut(Dialled, Peer) -> F,
) where
    F: Future<Output = ()>,
{
    let mut backoff = Backoff::new();
    loop {
        let dialled = tokio::select! {
            dialled = tokio::time::timeout(CONNECT_TIMEOUT, dial(&target)) => dialled,
            () = stopped.cancelled() => return,
        };
        let wait = match dialled {
            Ok(Ok((stream, peer))) => {
                let started = Instant::now();
                info!("vnc: reverse connection: connected to the viewer listening at {target}");
                serve(stream, peer).await;
                if stopped.is_cancelled() {
                    return;
                }
                backoff.lasted(started.elapsed());
                let wait = backoff.take();
                info!("vnc: reverse connection to {target} ended; dialling again in {wait:?}");
                wait
            }
            failed => {
                let why = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => format!("no answer within {CONNECT_TIMEOUT:?}"),
                };
                let wait = backoff.take();
                warn!(
                    "vnc: reverse connection: cannot reach a viewer listening at {target}: {why}; dialling again in {wait:?}"
                );
                wait
            }
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {} // allow-sleep: the backoff between dials
            () = stopped.cancelled() => return,
        }
    }
}

/// A connection made to a viewer listening.
pub(crate) enum Dialled {
    /// Over TCP.
    Tcp(TcpStream),
    /// Over a unix socket.
    Unix(UnixStream),
}

/// A connection to `target`, and who is at its other end.
async fn dial(target: &Listening) -> std::io::Result<(Dialled, Peer)> {
    match target {
        Listening::Tcp { host, port } => {
            let stream = TcpStream::connect((host.as_str(), *port)).await?;
            let _ = stream.set_nodelay(true);
            let peer = Peer::Tcp(stream.peer_addr()?);
            Ok((Dialled::Tcp(stream), peer))
        }
        Listening::Unix(path) => {
            let stream = UnixStream::connect(path).await?;
            Ok((Dialled::Unix(stream), Peer::Local(format!("unix:{}", path.display()))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_last_and_start_over_after_a_long_connection() {
        let mut backoff = Backoff::new();
        let waits: Vec<u64> = (0..7).map(|_| backoff.take().as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30]);
        backoff.lasted(Duration::from_secs(5));
        assert_eq!(backoff.take(), LAST_DELAY);
        backoff.lasted(LAST_DELAY);
        assert_eq!(backoff.take(), FIRST_DELAY);
    }

    #[test]
    fn targets_read_as_written() {
        assert_eq!(Listening::Tcp { host: "::1".into(), port: 5500 }.to_string(), "[::1]:5500");
        assert_eq!(Listening::Tcp { host: "h".into(), port: 5500 }.to_string(), "h:5500");
        assert_eq!(Listening::Unix("/run/v".into()).to_string(), "unix:/run/v");
    }
}
