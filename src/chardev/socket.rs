//! The socket chardev: unix or TCP, listening (one client at a time, as QEMU's
//! socket chardev) or connecting (with QEMU's `reconnect=`).
//!
//! The same connector serves as a backend (a raw view of the console for socat,
//! a colleague, a script) and as a frontend (QEMU's `-serial unix:P,server=on` on
//! the other side).

use std::io;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tracing::warn;

use super::OpenError;
use crate::config::{SocketAddress, SocketConfig};
use crate::hub::port::{BoxFuture, Connection, Connector};
use crate::unix_socket::RemoveOnDrop;

/// A socket chardev's source of connections.
pub struct SocketConnector {
    label: String,
    mode: Mode,
}

enum Mode {
    Listen(Listener),
    Connect {
        address: SocketAddress,
        reconnect: Option<Duration>,
        /// The connection made while opening, handed out by the first `connect`.
        first: Option<Connection>,
        /// Whether a connection was ever made: without `reconnect`, only one is.
        connected_before: bool,
    },
}

enum Listener {
    Unix(UnixListener, RemoveOnDrop),
    Tcp(TcpListener),
}

impl Listener {
    /// Where it listens, as the log says it: `unix:/run/a.sock`, `tcp:127.0.0.1:4555`.
    fn address(&self) -> String {
        match self {
            Listener::Unix(_, path) => format!("unix:{}", path.path().display()),
            Listener::Tcp(l) => match l.local_addr() {
                Ok(local) => format!("tcp:{local}"),
                Err(_) => "tcp".to_string(),
            },
        }
    }
}

impl SocketConnector {
    /// Binds a listening socket, or makes the first connection of a connecting one
    /// (a connecting socket without `reconnect=` must connect now, as in QEMU).
    pub async fn open(label: &str, config: &SocketConfig) -> Result<SocketConnector, OpenError> {
        let mode = if config.server {
            Mode::Listen(listen(label, &config.address).await?)
        } else {
            let first = match connect_to(&config.address).await {
                Ok(conn) => Some(conn),
                Err(e) if config.reconnect.is_some() => {
                    warn!("{label}: cannot connect to {}: {e}; retrying", config.address);
                    None
                }
                Err(e) => {
                    return Err(OpenError::new(label, format!("cannot connect to {}", config.address), e));
                }
            };
            Mode::Connect {
                address: config.address.clone(),
                reconnect: config.reconnect,
                first,
                connected_before: false,
            }
        };
        Ok(SocketConnector { label: label.to_string(), mode })
    }

    /// Where a listening socket listens (`tcp:127.0.0.1:4555` with the port the
    /// system picked for `port=0`); `None` for a connecting one. Start-up logs it
    /// once every listener is bound.
    pub fn listening_on(&self) -> Option<String> {
        match &self.mode {
            Mode::Listen(listener) => Some(listener.address()),
            Mode::Connect { .. } => None,
        }
    }
}

impl Connector for SocketConnector {
    fn connect(&mut self) -> BoxFuture<'_, io::Result<Option<Connection>>> {
        Box::pin(async move {
            match &mut self.mode {
                Mode::Listen(listener) => accept(listener).await.map(Some),
                Mode::Connect { address, reconnect, first, connected_before } => {
                    if let Some(conn) = first.take() {
                        *connected_before = true;
                        return Ok(Some(conn));
                    }
                    let Some(delay) = *reconnect else {
                        return Ok(None);
                    };
                    let mut warned = false;
                    loop {
                        // QEMU's reconnect: wait, then try again, for as long as it takes.
                        tokio::time::sleep(delay).await; // allow-sleep: the reconnect delay
                        match connect_to(address).await {
                            Ok(conn) => {
                                *connected_before = true;
                                return Ok(Some(conn));
                            }
                            Err(e) if !warned => {
                                warn!(
                                    "{}: cannot connect to {address}: {e}; retrying every {delay:?}",
                                    self.label
                                );
                                warned = true;
                            }
                            Err(_) => {}
                        }
                    }
                }
            }
        })
    }
}

async fn listen(label: &str, address: &SocketAddress) -> Result<Listener, OpenError> {
    let fail = |e| OpenError::new(label, format!("cannot listen on {address}"), e);
    match address {
        SocketAddress::Unix(path) => {
            let (listener, path) = crate::unix_socket::bind(path).map_err(fail)?;
            Ok(Listener::Unix(listener, path))
        }
        SocketAddress::Tcp { host, port } => {
            Ok(Listener::Tcp(TcpListener::bind((host.as_str(), *port)).await.map_err(fail)?))
        }
    }
}

async fn accept(listener: &Listener) -> io::Result<Connection> {
    loop {
        let result = match listener {
            Listener::Unix(l, path) => {
                l.accept().await.map(|(s, _)| unix_connection(s, format!("unix:{}", path.path().display())))
            }
            Listener::Tcp(l) => l.accept().await.map(|(s, peer)| tcp_connection(s, peer.to_string())),
        };
        match result {
            Ok(conn) => return Ok(conn),
            // A client that gave up before we accepted it, or a passing shortage of
            // file descriptors: log it and keep listening.
            Err(e) => {
                warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await; // allow-sleep: accept back-off
            }
        }
    }
}

async fn connect_to(address: &SocketAddress) -> io::Result<Connection> {
    match address {
        SocketAddress::Unix(path) => {
            UnixStream::connect(path).await.map(|s| unix_connection(s, format!("unix:{}", path.display())))
        }
        SocketAddress::Tcp { host, port } => {
            let stream = TcpStream::connect((host.as_str(), *port)).await?;
            let peer = stream.peer_addr().map(|a| a.to_string()).unwrap_or_else(|_| format!("{host}:{port}"));
            Ok(tcp_connection(stream, peer))
        }
    }
}

fn unix_connection(stream: UnixStream, peer: String) -> Connection {
    let (reader, writer) = stream.into_split();
    Connection {
        peer,
        writer: Box::new(writer),
        reader: Some(Box::new(reader)),
        eof_is_hangup: true,
        typed: None,
    }
}

fn tcp_connection(stream: TcpStream, peer: String) -> Connection {
    // A console is interactive: send each keystroke and each prompt at once.
    let _ = stream.set_nodelay(true);
    let (reader, writer) = stream.into_split();
    Connection {
        peer,
        writer: Box::new(writer),
        reader: Some(Box::new(reader)),
        eof_is_hangup: true,
        typed: None,
    }
}
