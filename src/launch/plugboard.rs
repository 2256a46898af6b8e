//! The plugboard: the one task that carries out `chardev-add` and
//! `chardev-remove` for the control sockets. It opens a backend from its
//! options exactly as start-up does ([`open::open_backend`]) and attaches it
//! through its hub's [`HubHandle`], so that its first byte is the console's
//! next one; removing detaches it the same way and closes it.
//!
//! Requests are carried out one at a time, so that two clients adding the same
//! id, or a fifth backend, are told so rather than racing.

use std::collections::HashSet;

use tokio::sync::{mpsc, watch};
use tracing::info;

use super::open;
use crate::chardev::WindowSize;
use crate::config::{BackendConfig, BackendKind, Config, MAX_BACKENDS, SocketAddress, SocketConfig};
use crate::control::chardev::NewChardev;
use crate::control::plug::{PlugRequest, Plugged, Unplugged};
use crate::control::{ChardevInfo, CommandError};
use crate::hub::{AttachOptions, HubHandle};

/// Requests queued towards the plugboard before a client waits to send more.
const REQUEST_QUEUE: usize = 16;

/// A hub as the plugboard reaches it.
pub(super) struct PluggableHub {
    /// Its id.
    pub id: String,
    /// Attaches and detaches its backends.
    pub handle: HubHandle,
    /// Its console's window (its first vc's size), which a recording added
    /// to it follows.
    pub window: Option<watch::Receiver<WindowSize>>,
}

/// Every hub's handle, and which chardev ids are taken.
pub(super) struct Plugboard {
    hubs: Vec<PluggableHub>,
    /// Every chardev id in use, hubs included: an added one must be new.
    ids: HashSet<String>,
    /// The vcs: VNC servers and control clients show them, so they stay.
    vcs: HashSet<String>,
}

impl Plugboard {
    /// The plugboard of `config`'s hubs.
    pub(super) fn new(config: &Config, hubs: Vec<PluggableHub>) -> Plugboard {
        let mut ids = HashSet::new();
        let mut vcs = HashSet::new();
        for hub in &config.hubs {
            ids.insert(hub.id.clone());
            for backend in &hub.backends {
                ids.insert(backend.id.clone());
                if matches!(backend.kind, BackendKind::Vc(_)) {
                    vcs.insert(backend.id.clone());
                }
            }
        }
        Plugboard { hubs, ids, vcs }
    }

    /// Serves requests in a task of its own until every sender is gone;
    /// returns where to send them.
    pub(super) fn start(mut self) -> mpsc::Sender<PlugRequest> {
        let (requests, mut inbox) = mpsc::channel(REQUEST_QUEUE);
        tokio::spawn(async move {
            while let Some(request) = inbox.recv().await {
                match request {
                    PlugRequest::Add { chardev, reply } => {
                        let _ = reply.send(self.add(chardev).await);
                    }
                    PlugRequest::Remove { id, reply } => {
                        let _ = reply.send(self.remove(&id).await);
                    }
                }
            }
        });
        requests
    }

    async fn add(&mut self, chardev: NewChardev) -> Result<Plugged, CommandError> {
        let NewChardev { hub, backend } = chardev;
        let id = backend.id.clone();
        if self.ids.contains(&id) {
            return Err(CommandError::Failed(format!("Duplicate ID '{id}' for chardev")));
        }
        let PluggableHub { id: hub_id, handle, window } = self.hub(hub.as_deref())?;
        let attached = handle.backends().len();
        if attached >= MAX_BACKENDS {
            return Err(CommandError::Failed(format!(
                "hub '{hub_id}' has {attached} backends, the most a hub takes; remove one first"
            )));
        }
        let opened = open::open_backend(&backend).await.map_err(|e| CommandError::Failed(e.to_string()))?;
        if let Some(address) = &opened.listening_on {
            info!("{id}: listening on {address}");
        }
        if let (Some(recording), Some(window)) = (&opened.console_window, window) {
            recording.follow(window.clone());
        }
        let options = AttachOptions { logfile: opened.logfile, replay: opened.replay, lag: opened.lag };
        let attached = handle
            .attach(&id, opened.connector, options)
            .await
            .map_err(|e| CommandError::Failed(e.to_string()))?;
        info!("{id}: added to hub {hub_id} at console offset {}", attached.offset);
        self.ids.insert(id);
        Ok(Plugged { info: chardev_info(&backend), pty: opened.pty, offset: attached.offset })
    }

    async fn remove(&mut self, id: &str) -> Result<Unplugged, CommandError> {
        if self.hubs.iter().any(|hub| hub.id == id) {
            return Err(CommandError::Failed(format!(
                "'{id}' is a hub, which lives as long as vcmux; chardev-remove takes a backend"
            )));
        }
        if self.vcs.contains(id) {
            return Err(CommandError::Failed(format!(
                "Chardev '{id}' is busy (a vc stays while vcmux runs)"
            )));
        }
        let Some(PluggableHub { id: hub, handle, .. }) =
            self.hubs.iter().find(|hub| hub.handle.backends().iter().any(|b| b == id))
        else {
            return Err(CommandError::Failed(format!("Chardev '{id}' not found")));
        };
        let detached = handle.detach(id).await.map_err(|e| CommandError::Failed(e.to_string()))?;
        info!(
            "{id}: removed from hub {hub} at console offset {} ({} bytes written, {} dropped)",
            detached.offset, detached.stats.written, detached.stats.dropped
        );
        self.ids.remove(id);
        Ok(Unplugged { offset: detached.offset })
    }

    /// The hub `mux-be-id` names, or the only one.
    fn hub(&self, name: Option<&str>) -> Result<&PluggableHub, CommandError> {
        let found = match name {
            Some(name) => self.hubs.iter().find(|hub| hub.id == name),
            None if self.hubs.len() == 1 => self.hubs.first(),
            None => {
                let names: Vec<&str> = self.hubs.iter().map(|hub| hub.id.as_str()).collect();
                return Err(CommandError::Failed(format!(
                    "there are {} hubs ({}): name one with mux-be-id",
                    names.len(),
                    names.join(", ")
                )));
            }
        };
        match (found, name) {
            (Some(hub), _) => Ok(hub),
            (None, Some(name)) => Err(CommandError::Failed(format!("mux-be-id '{name}' names no hub"))),
            (None, None) => Err(CommandError::Failed("vcmux runs no hub to add a backend to".to_string())),
        }
    }
}

/// Every hub and backend, named as QEMU's `query-chardev` names them.
pub(super) fn chardevs(config: &Config) -> Vec<ChardevInfo> {
    let mut list = Vec::new();
    for hub in &config.hubs {
        list.push(ChardevInfo { label: hub.id.clone(), filename: "hub".to_string() });
        list.extend(hub.backends.iter().map(chardev_info));
    }
    list
}

/// A backend, named as QEMU's `query-chardev` names it.
pub(super) fn chardev_info(backend: &BackendConfig) -> ChardevInfo {
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
    ChardevInfo { label: backend.id.clone(), filename }
}

/// `unix:/run/s,server=on` or `tcp:127.0.0.1:4555,server=on`, as QEMU writes it.
fn socket_filename(socket: &SocketConfig) -> String {
    let address = match &socket.address {
        SocketAddress::Unix(path) => format!("unix:{}", path.display()),
        SocketAddress::Tcp { host, port } => format!("tcp:{host}:{port}"),
    };
    if socket.server { format!("{address},server=on") } else { address }
}
