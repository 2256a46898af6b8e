//! Runs a validated [`Config`]: opens every chardev, waits for `wait=on` clients,
//! starts the frontends, runs the hubs, and turns their end into an exit code.
//!
//! The order matters, as in QEMU: every chardev is opened (logs created, PTYs
//! made, sockets bound) before anything runs, listeners last, so that a mistake
//! is one line with nothing started ([`open`]); the console source starts only
//! once every `wait=on` backend has its first client, so that client sees the
//! console from its first byte. Whenever vcmux stops, a command's session is
//! hung up, so nothing it started outlives vcmux.

mod control;
mod error;
mod open;
mod plugboard;
mod vnc;

use std::collections::HashMap;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::chardev::{self, WindowSize};
use crate::config::Config;
use crate::hub::{AttachOptions, Hub, HubReport};
pub use error::LaunchError;
use open::{Frontend, OpenedFrontend};
use plugboard::PluggableHub;

/// Runs `config` until every hub's frontend has ended, a signal asks to stop,
/// or a control client sends `quit`. Returns the process's exit code: 0 after
/// `quit` (as QEMU: the stop was asked for), else the command's exit status
/// when a command is the frontend (128 + N when signal N ended it, as when
/// vcmux hangs it up on SIGINT/SIGTERM/SIGHUP), else 0.
pub async fn run(config: Config) -> Result<i32, LaunchError> {
    let shutdown = CancellationToken::new();
    watch_signals(shutdown.clone())?;
    let sessions = TaskTracker::new();
    let result = run_until_done(config, &shutdown, &sessions).await;
    // Control clients are let go, each after what was queued for it (quit's
    // answer and SHUTDOWN event), bounded: one that does not read holds no
    // one back.
    shutdown.cancel();
    sessions.close();
    let _ = tokio::time::timeout(CONTROL_FLUSH, sessions.wait()).await;
    result
}

/// How long the control clients' last messages may take to be written.
const CONTROL_FLUSH: std::time::Duration = std::time::Duration::from_secs(2);

async fn run_until_done(
    config: Config,
    shutdown: &CancellationToken,
    sessions: &TaskTracker,
) -> Result<i32, LaunchError> {
    let opened = open::open(&config).await?;
    // A control client's `quit` stops vcmux as a signal does, and is told
    // apart at the end.
    let quit = CancellationToken::new();
    let lifetime = control::Lifetime { shutdown, quit: &quit, sessions };
    tokio::spawn({
        let (quit, shutdown) = (quit.clone(), shutdown.clone());
        async move {
            tokio::select! {
                () = quit.cancelled() => shutdown.cancel(),
                () = shutdown.cancelled() => {}
            }
        }
    });

    // The VNC servers, before any console runs: a viewer sees it from the start.
    let ordered_vcs: Vec<_> = opened
        .hubs
        .iter()
        .flat_map(|h| &h.backends)
        .filter_map(|b| b.vc.clone().map(|vc| (b.id.clone(), vc)))
        .collect();
    let vcs: HashMap<String, _> = ordered_vcs.iter().cloned().collect();
    // The hubs exist (not yet running) before the control sockets, whose
    // chardev-add and chardev-remove go to them.
    let hubs: Vec<Hub> = opened.hubs.iter().map(|h| Hub::new(&h.id)).collect();
    let handles = hubs
        .iter()
        .zip(&opened.hubs)
        .map(|(hub, opened)| PluggableHub {
            id: hub.id().to_string(),
            handle: hub.handle(),
            window: console_window(opened),
        })
        .collect();
    let mut servers = Vec::with_capacity(opened.vnc.len());
    for bound in opened.vnc {
        // Every -vnc names an existing vc: the configuration was validated.
        if let Some(vc) = vcs.get(&bound.vc).cloned() {
            servers.push(bound.serve(vc)?);
        }
    }
    // The control sockets too: a script may wait for the console's first line.
    let console = control::start(opened.control, &config, ordered_vcs, &mut servers, handles, lifetime);

    let mut ready = Vec::with_capacity(hubs.len());
    let mut waits = Vec::new();
    for (mut hub, opened_hub) in hubs.into_iter().zip(opened.hubs) {
        if let Some(console) = &console {
            control::follow_frontend(console, hub.id(), hub.frontend_status());
            control::follow_cut_offs(console, hub.cut_offs());
        }
        let window = console_window(&opened_hub);
        for backend in opened_hub.backends {
            if let Some(vc) = &backend.vc {
                vc.follow_frontend(hub.frontend_status());
            }
            if let (Some(recording), Some(window)) = (&backend.console_window, &window) {
                recording.follow(window.clone());
            }
            // The configuration was validated, so a hub never refuses a backend here.
            let options =
                AttachOptions { logfile: backend.logfile, replay: backend.replay, lag: backend.lag };
            match hub.attach(&backend.id, backend.connector, options) {
                Ok(connected) if backend.wait => waits.push((backend.id, connected)),
                Ok(_) => {}
                Err(e) => warn!("{e}"),
            }
        }
        ready.push((hub, opened_hub.frontend, window));
    }
    let hubs = ready;

    for (id, connected) in waits {
        info!("{id}: waiting for a client before starting the console (wait=on)");
        tokio::select! {
            _ = connected => {}
            () = shutdown.cancelled() => {
                for (hub, ..) in hubs {
                    hub.close().await;
                }
                return Ok(0);
            }
        }
    }

    let mut running = Vec::with_capacity(hubs.len());
    let mut session = None;
    let mut frontends = Vec::with_capacity(hubs.len());
    for (hub, frontend, window) in hubs {
        let frontend = match frontend {
            Frontend::Ready(frontend) => Ok(frontend),
            Frontend::Command { argv, logfile } => open::start_command(hub.id(), &argv, logfile, window),
        };
        frontends.push((hub, frontend));
    }
    let mut started = Vec::with_capacity(frontends.len());
    for (hub, frontend) in frontends {
        match frontend {
            Ok(frontend) => started.push((hub, frontend)),
            Err(e) => {
                for (hub, _) in started {
                    hub.close().await;
                }
                return Err(e.into());
            }
        }
    }
    for (hub, frontend) in started {
        let OpenedFrontend { connector, logfile, session: command, .. } = frontend;
        session = session.or(command);
        running.push(tokio::spawn(hub.run(connector, logfile, shutdown.clone())));
    }

    for hub in running {
        if let Ok(report) = hub.await {
            log_report(&report);
        }
    }
    for server in &servers {
        server.shutdown();
    }
    let Some(session) = session else { return Ok(0) };
    if !shutdown.is_cancelled() {
        // The console ended on its own: the command has exited (or is about to).
        let mut exit = session.exit_status();
        tokio::select! {
            () = async { while exit.borrow_and_update().is_none() && exit.changed().await.is_ok() {} } => {}
            () = shutdown.cancelled() => {}
        }
    }
    let end = session.end().await;
    match (end.code, end.signal) {
        (Some(code), None) => info!("the command exited with status {code}"),
        (Some(code), Some(signal)) => info!("the command ended with status {code} after vcmux sent {signal}"),
        (None, _) => warn!("the command's exit status is unknown"),
    }
    if quit.is_cancelled() {
        info!("stopped by a control client's quit: exit status 0");
        return Ok(0);
    }
    Ok(end.code.unwrap_or(1))
}

/// A hub's console window: its first vc's size.
fn console_window(hub: &open::OpenedHub) -> Option<watch::Receiver<WindowSize>> {
    hub.backends.iter().find_map(|b| b.vc.as_ref().map(|vc| vc.window()))
}

fn log_report(report: &HubReport) {
    for (id, stats) in &report.backends {
        info!(
            "{}: backend {id}: {} bytes written, {} dropped (of {} read)",
            report.id, stats.written, stats.dropped, report.read
        );
    }
}

/// The first SIGINT, SIGTERM or SIGHUP asks for a clean stop (every backend
/// flushed); a second one ends vcmux at once.
fn watch_signals(shutdown: CancellationToken) -> Result<(), LaunchError> {
    let mut interrupt = signal(SignalKind::interrupt()).map_err(LaunchError::Signals)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(LaunchError::Signals)?;
    let mut hangup = signal(SignalKind::hangup()).map_err(LaunchError::Signals)?;
    tokio::spawn(async move {
        let mut seen = 0;
        loop {
            let name = tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
                _ = hangup.recv() => "SIGHUP",
            };
            seen += 1;
            if seen == 1 {
                info!("{name}: flushing every backend, then exiting");
                shutdown.cancel();
            } else {
                warn!("{name} again: exiting without waiting for the backends");
                chardev::stdio::restore_terminal();
                std::process::exit(1);
            }
        }
    });
    Ok(())
}
