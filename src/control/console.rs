//! What the control socket drives: the running configuration's vcs,
//! chardevs and VNC servers, the way to stop vcmux, and the events clients
//! hear.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use serde_json::Value;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::chardev::{ChardevInfo, NewChardev};
use super::error::CommandError;
use super::plug::{PlugRequest, Plugged, Unplugged};
use super::vnc::{self, VncDisplay};
use super::wire;
use crate::chardev::vc::Vc;
use crate::rfb::ViewerEvent;

/// Events kept for a client that is slow to read them; one that falls
/// further behind is let go (it would otherwise hold memory for everyone).
const EVENT_BACKLOG: usize = 256;

/// The event of a hub's frontend coming back (or connecting the first time);
/// QEMU has none, so it is vcmux's own.
pub const FRONTEND_OPENED: &str = "X_VCMUX_FRONTEND_OPENED";

/// The event of a hub's frontend going away (QEMU restarted behind a socket
/// frontend, the command exited).
pub const FRONTEND_CLOSED: &str = "X_VCMUX_FRONTEND_CLOSED";

/// The event of a backend cut off for falling further behind the console
/// than its `lag=SIZE` (a peer that stopped reading); QEMU's hub waits
/// instead, so the event is vcmux's own.
pub const BACKEND_LAGGED: &str = "X_VCMUX_BACKEND_LAGGED";

/// The running console, as every control client sees it.
pub struct Console {
    /// The vcs by id, in the configuration's order: the first is the default
    /// `device`.
    vcs: Vec<(String, Arc<Vc>)>,
    /// Every chardev, hot-plugged ones included, in the order they came.
    chardevs: Mutex<Vec<ChardevInfo>>,
    /// Where `chardev-add` and `chardev-remove` go: the task that runs the hubs.
    plugboard: mpsc::Sender<PlugRequest>,
    /// The `-vnc`s, in the configuration's order.
    vnc: Vec<VncDisplay>,
    quit: CancellationToken,
    events: broadcast::Sender<Value>,
    /// SHUTDOWN was sent: it is the last event a client hears (what follows,
    /// such as the frontend closing as vcmux stops, is the stop itself).
    shut_down: AtomicBool,
}

impl Console {
    /// The console of a configuration that is running: its vcs, its chardevs,
    /// its VNC servers, the plugboard that adds and removes backends, and
    /// `quit`, which stops vcmux.
    pub fn new(
        vcs: Vec<(String, Arc<Vc>)>,
        chardevs: Vec<ChardevInfo>,
        vnc: Vec<VncDisplay>,
        plugboard: mpsc::Sender<PlugRequest>,
        quit: CancellationToken,
    ) -> Console {
        Console {
            vcs,
            chardevs: Mutex::new(chardevs),
            vnc,
            plugboard,
            quit,
            events: broadcast::Sender::new(EVENT_BACKLOG),
            shut_down: AtomicBool::new(false),
        }
    }

    /// The vc a command names, or the first one.
    pub fn vc(&self, device: Option<&str>) -> Result<&Arc<Vc>, CommandError> {
        match device {
            Some(id) => self
                .vcs
                .iter()
                .find(|(vc_id, _)| vc_id == id)
                .map(|(_, vc)| vc)
                .ok_or_else(|| CommandError::DeviceNotFound(id.to_string())),
            None => self
                .vcs
                .first()
                .map(|(_, vc)| vc)
                .ok_or_else(|| CommandError::Failed("there is no vc to take this from".to_string())),
        }
    }

    /// The chardevs, for `query-chardev`.
    pub fn chardevs(&self) -> Vec<ChardevInfo> {
        self.chardevs.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Opens a backend and attaches it to its hub while the console runs.
    pub async fn add_chardev(&self, chardev: NewChardev) -> Result<Plugged, CommandError> {
        let (reply, answer) = oneshot::channel();
        self.plug(PlugRequest::Add { chardev, reply }, answer).await.inspect(|plugged| {
            self.chardevs.lock().unwrap_or_else(PoisonError::into_inner).push(plugged.info.clone());
        })
    }

    /// Detaches a backend from its hub and closes it.
    pub async fn remove_chardev(&self, id: &str) -> Result<Unplugged, CommandError> {
        let (reply, answer) = oneshot::channel();
        self.plug(PlugRequest::Remove { id: id.to_string(), reply }, answer).await.inspect(|_| {
            self.chardevs.lock().unwrap_or_else(PoisonError::into_inner).retain(|c| c.label != id);
        })
    }

    async fn plug<T>(
        &self,
        request: PlugRequest,
        answer: oneshot::Receiver<Result<T, CommandError>>,
    ) -> Result<T, CommandError> {
        let stopping =
            || CommandError::Failed("vcmux is stopping: its hubs take no more changes".to_string());
        self.plugboard.send(request).await.map_err(|_| stopping())?;
        answer.await.map_err(|_| stopping())?
    }

    /// The VNC servers, for `query-vnc` and `query-vnc-servers`.
    pub fn vnc(&self) -> &[VncDisplay] {
        &self.vnc
    }

    /// Tells every client what happened to a viewer of the `display`th VNC
    /// server, as QEMU's `VNC_*` events.
    pub fn emit_vnc(&self, display: usize, event: &ViewerEvent) {
        if let Some(display) = self.vnc.get(display) {
            let (name, data) = vnc::event(display, event);
            self.emit(name, Some(data));
        }
    }

    /// Tells every client that hub `hub`'s frontend came (`open`) or went.
    pub fn emit_frontend(&self, hub: &str, open: bool) {
        let name = if open { FRONTEND_OPENED } else { FRONTEND_CLOSED };
        self.emit(name, Some(serde_json::json!({"hub": hub})));
    }

    /// Tells every client that hub `hub` cut backend `id` off at console
    /// offset `offset`: it had fallen `behind` bytes behind, more than its
    /// `lag`, and those bytes were dropped.
    pub fn emit_backend_lagged(&self, hub: &str, id: &str, lag: usize, behind: usize, offset: u64) {
        let data = serde_json::json!({"id": id, "hub": hub, "lag": lag, "dropped": behind, "offset": offset});
        self.emit(BACKEND_LAGGED, Some(data));
    }

    /// Asks vcmux to stop, as SIGTERM does.
    pub fn quit(&self) {
        self.quit.cancel();
    }

    /// Tells every negotiated client that `name` happened now; nothing
    /// after SHUTDOWN.
    pub fn emit(&self, name: &str, data: Option<Value>) {
        if self.shut_down.load(Ordering::SeqCst) {
            return;
        }
        if name == "SHUTDOWN" {
            self.shut_down.store(true, Ordering::SeqCst);
        }
        // No receiver means no client: nothing to tell.
        let _ = self.events.send(wire::event(name, data, SystemTime::now()));
    }

    /// Events from now on, for one client.
    pub fn subscribe(&self) -> broadcast::Receiver<Value> {
        self.events.subscribe()
    }
}
