//! The control sockets of a running configuration: what they list and drive
//! (its chardevs, vcs and VNC servers), started once the vcs and VNC servers
//! exist, and the events they hear: what the VNC servers and the hubs report,
//! carried into the control socket's [`Console`] from here, as `control`
//! never reaches up for them.

use std::sync::Arc;

use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::warn;

use super::plugboard::{self, Plugboard, PluggableHub};
use super::vnc::ServingVnc;
use crate::chardev::vc::Vc;
use crate::config::Config;
use crate::control::vnc::VncDisplay;
use crate::control::{Console, ControlListener};
use crate::hub::{CutOff, FrontendStatus};
use crate::rfb::ViewerEvent;

/// How the control sockets end and end vcmux.
pub(super) struct Lifetime<'a> {
    /// Cancelled when vcmux stops: the listeners close.
    pub shutdown: &'a CancellationToken,
    /// What the `quit` command cancels.
    pub quit: &'a CancellationToken,
    /// Each client's task, so that vcmux exits after their last messages.
    pub sessions: &'a TaskTracker,
}

/// Serves every bound control socket over the configuration's vcs, VNC
/// servers and hubs (`hubs`, for `chardev-add` and `chardev-remove`) until `shutdown`, each client in a task of `sessions`,
/// telling clients of the servers' viewers; the `quit` command cancels
/// `quit`. The console, if there is a control socket, for the hubs'
/// events ([`follow_frontend`]).
pub(super) fn start(
    listeners: Vec<ControlListener>,
    config: &Config,
    vcs: Vec<(String, Arc<Vc>)>,
    vnc: &mut [ServingVnc],
    hubs: Vec<PluggableHub>,
    lifetime: Lifetime<'_>,
) -> Option<Arc<Console>> {
    let Lifetime { shutdown, quit, sessions } = lifetime;
    // Taken even when nobody will hear them, so that no receiver keeps a backlog.
    let events: Vec<_> = vnc.iter_mut().map(ServingVnc::take_events).collect();
    if listeners.is_empty() {
        return None;
    }
    let displays: Vec<VncDisplay> =
        vnc.iter().enumerate().map(|(i, serving)| serving.display(VncDisplay::qemu_id(i))).collect();
    let plugboard = Plugboard::new(config, hubs).start();
    let console = Arc::new(Console::new(vcs, plugboard::chardevs(config), displays, plugboard, quit.clone()));
    for (index, events) in events.into_iter().enumerate() {
        if let Some(events) = events {
            tokio::spawn(forward_viewer_events(console.clone(), index, events));
        }
    }
    for listener in listeners {
        tokio::spawn(listener.serve(console.clone(), shutdown.clone(), sessions.clone()));
    }
    Some(console)
}

/// Tells control clients what happens to the viewers of the `index`th VNC
/// server, until it stops.
async fn forward_viewer_events(
    console: Arc<Console>,
    index: usize,
    mut events: broadcast::Receiver<ViewerEvent>,
) {
    loop {
        match events.recv().await {
            Ok(event) => console.emit_vnc(index, &event),
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                warn!("control: {missed} VNC viewer events came too fast to tell");
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Tells control clients of each backend a hub cuts off for falling too far
/// behind, until the hub ends.
pub(super) fn follow_cut_offs(console: &Arc<Console>, mut cut_offs: broadcast::Receiver<CutOff>) {
    let console = console.clone();
    tokio::spawn(async move {
        loop {
            match cut_offs.recv().await {
                Ok(CutOff { hub, backend, lag, behind, offset }) => {
                    console.emit_backend_lagged(&hub, &backend, lag, behind, offset);
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    warn!("control: {missed} backend cut-offs came too fast to tell");
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
}

/// Tells control clients each time hub `hub`'s frontend connects or goes
/// away, until the hub ends. A change that is undone before this task looks
/// (a frontend gone and back within a moment) may go untold: the hub reports
/// where its frontend is, not every step.
pub(super) fn follow_frontend(
    console: &Arc<Console>,
    hub: &str,
    mut status: watch::Receiver<FrontendStatus>,
) {
    let console = console.clone();
    let hub = hub.to_string();
    tokio::spawn(async move {
        let mut open = *status.borrow_and_update() == FrontendStatus::Connected;
        if open {
            console.emit_frontend(&hub, true);
        }
        while status.changed().await.is_ok() {
            let now = *status.borrow_and_update() == FrontendStatus::Connected;
            if now != open {
                open = now;
                console.emit_frontend(&hub, open);
            }
        }
    });
}
