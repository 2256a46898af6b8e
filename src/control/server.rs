//! The control socket's listener: bound while the configuration is opened
//! (so a path or port in use is a start-up error), then accepting any number
//! of clients, each served on its own.

use std::io;
use std::sync::Arc;

use tokio::net::{TcpListener, UnixListener};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::warn;

use super::console::Console;
use super::session;
use crate::config::SocketAddress;
use crate::unix_socket::{self, RemoveOnDrop};

/// A bound control socket, not yet accepting.
pub struct ControlListener {
    listener: Listener,
    /// Where, for the start-up log.
    pub address: String,
}

enum Listener {
    Unix(UnixListener, RemoveOnDrop),
    Tcp(TcpListener),
}

impl ControlListener {
    /// Binds `address` (a unix path is replaced only if nothing listens on it).
    pub async fn bind(address: &SocketAddress) -> io::Result<ControlListener> {
        Ok(match address {
            SocketAddress::Unix(path) => {
                let (listener, remove) = unix_socket::bind(path)?;
                ControlListener { listener: Listener::Unix(listener, remove), address: address.to_string() }
            }
            SocketAddress::Tcp { host, port } => {
                let listener = TcpListener::bind((host.as_str(), *port)).await?;
                let address = format!("tcp:{}", listener.local_addr()?);
                ControlListener { listener: Listener::Tcp(listener), address }
            }
        })
    }

    /// Accepts clients until `stop`, serving each with `console` in a task of
    /// `sessions` (so that vcmux can let them finish writing before it exits).
    pub async fn serve(self, console: Arc<Console>, stop: CancellationToken, sessions: TaskTracker) {
        loop {
            let accepted = tokio::select! {
                a = self.accept() => a,
                () = stop.cancelled() => return,
            };
            match accepted {
                Ok((peer, Stream::Unix(stream))) => {
                    let (reader, writer) = stream.into_split();
                    sessions.spawn(session::serve(peer, reader, writer, console.clone(), stop.clone()));
                }
                Ok((peer, Stream::Tcp(stream))) => {
                    let (reader, writer) = stream.into_split();
                    sessions.spawn(session::serve(peer, reader, writer, console.clone(), stop.clone()));
                }
                // A failed accept (a client gone before it was taken, out of
                // descriptors for a moment) ends no one else's session.
                Err(e) => warn!("control: {}: accept failed: {e}", self.address),
            }
        }
    }

    async fn accept(&self) -> io::Result<(String, Stream)> {
        match &self.listener {
            Listener::Unix(listener, remove) => {
                let (stream, _) = listener.accept().await?;
                Ok((format!("unix:{}", remove.path().display()), Stream::Unix(stream)))
            }
            Listener::Tcp(listener) => {
                let (stream, peer) = listener.accept().await?;
                Ok((peer.to_string(), Stream::Tcp(stream)))
            }
        }
    }
}

/// An accepted client's connection.
enum Stream {
    Unix(tokio::net::UnixStream),
    Tcp(tokio::net::TcpStream),
}
