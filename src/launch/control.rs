//! The control sockets of a running configuration: what they list and drive
//! (its chardevs and vcs), started once the vcs exist.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::chardev::vc::Vc;
use crate::config::{BackendKind, Config, SocketAddress, SocketConfig};
use crate::control::{ChardevInfo, Console, ControlListener};

/// Serves every bound control socket over the configuration's vcs until
/// `shutdown`; the `quit` command cancels `shutdown`.
pub(super) fn start(
    listeners: Vec<ControlListener>,
    config: &Config,
    vcs: Vec<(String, Arc<Vc>)>,
    shutdown: &CancellationToken,
) {
    if listeners.is_empty() {
        return;
    }
    let console = Arc::new(Console::new(vcs, chardevs(config), shutdown.clone()));
    for listener in listeners {
        tokio::spawn(listener.serve(console.clone(), shutdown.clone()));
    }
}

/// Every hub and backend, named as QEMU's `query-chardev` names them.
fn chardevs(config: &Config) -> Vec<ChardevInfo> {
    let mut list = Vec::new();
    for hub in &config.hubs {
        list.push(ChardevInfo { label: hub.id.clone(), filename: "hub".to_string() });
        for backend in &hub.backends {
            let filename = match &backend.kind {
                BackendKind::Socket(socket) => socket_filename(socket),
                BackendKind::File(_) => "file".to_string(),
                BackendKind::Pty(pty) => match &pty.link {
                    Some(link) => format!("pty:{}", link.display()),
                    None => "pty".to_string(),
                },
                BackendKind::Stdio(_) => "stdio".to_string(),
                BackendKind::Null => "null".to_string(),
                BackendKind::Vc(_) => "vc".to_string(),
                BackendKind::Asciicast(_) => "asciicast".to_string(),
            };
            list.push(ChardevInfo { label: backend.id.clone(), filename });
        }
    }
    list
}

/// `unix:/run/s,server=on` or `tcp:127.0.0.1:4555,server=on`, as QEMU writes it.
fn socket_filename(socket: &SocketConfig) -> String {
    let address = match &socket.address {
        SocketAddress::Unix(path) => format!("unix:{}", path.display()),
        SocketAddress::Tcp { host, port } => format!("tcp:{host}:{port}"),
    };
    if socket.server { format!("{address},server=on") } else { address }
}
