//! The control sockets of a running configuration: what they list and drive
//! (its chardevs and vcs), started once the vcs exist.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::plugboard::{self, Plugboard};
use crate::chardev::vc::Vc;
use crate::config::Config;
use crate::control::{Console, ControlListener};
use crate::hub::HubHandle;

/// Serves every bound control socket over the configuration's vcs and hubs
/// (`hubs`: each one's handle, by id) until `shutdown`; the `quit` command
/// cancels `shutdown`.
pub(super) fn start(
    listeners: Vec<ControlListener>,
    config: &Config,
    vcs: Vec<(String, Arc<Vc>)>,
    hubs: Vec<(String, HubHandle)>,
    shutdown: &CancellationToken,
) {
    if listeners.is_empty() {
        return;
    }
    let plugboard = Plugboard::new(config, hubs).start();
    let console = Arc::new(Console::new(vcs, plugboard::chardevs(config), plugboard, shutdown.clone()));
    for listener in listeners {
        tokio::spawn(listener.serve(console.clone(), shutdown.clone()));
    }
}
