//! Runs a validated [`Config`]: opens every chardev, waits for `wait=on` clients,
//! starts the frontends, runs the hubs, and turns their end into an exit code.
//!
//! The order matters, as in QEMU: every backend is opened (sockets bound, logs
//! created, PTYs made) before anything runs, so that a failure leaves nothing
//! half-started; the console source starts only once every `wait=on` backend
//! has its first client, so that client sees the console from its first byte.

mod vnc;

use std::collections::HashMap;

use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::chardev::{self, OpenError, OpenedBackend, pty::ExitStatusReceiver};
use crate::config::Config;
use crate::hub::{Hub, HubReport};

/// Why vcmux could not run a configuration.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// A chardev could not be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The signal handlers could not be installed.
    #[error("cannot watch for signals: {0}")]
    Signals(std::io::Error),
    /// A VNC server could not start (a listener, a password).
    #[error("{0}")]
    Vnc(String),
}

/// Runs `config` until every hub's frontend has ended or a signal asks to stop.
/// Returns the process's exit code: the command's exit status when a command is
/// the frontend, 0 when a socket or stdio frontend ends or on SIGINT/SIGTERM/SIGHUP.
pub async fn run(config: Config) -> Result<i32, LaunchError> {
    let shutdown = CancellationToken::new();
    watch_signals(shutdown.clone())?;

    // Open everything first: an error here leaves nothing running.
    let mut opened: Vec<Vec<OpenedBackend>> = Vec::with_capacity(config.hubs.len());
    for hub in &config.hubs {
        let mut backends = Vec::with_capacity(hub.backends.len());
        for backend in &hub.backends {
            backends.push(chardev::open_backend(backend).await?);
        }
        opened.push(backends);
    }

    // The VNC servers, before any console runs: a viewer sees it from the start.
    let vcs: HashMap<String, _> =
        opened.iter().flatten().filter_map(|b| b.vc.clone().map(|vc| (b.id.clone(), vc))).collect();
    let mut servers = Vec::with_capacity(config.vnc.len());
    for vnc_config in &config.vnc {
        // Every -vnc names an existing vc: the configuration was validated.
        if let Some(vc) = vcs.get(&vnc_config.vc) {
            servers.push(vnc::start(vnc_config, vc.clone()).await?);
        }
    }

    let mut hubs = Vec::with_capacity(config.hubs.len());
    let mut windows = Vec::with_capacity(config.hubs.len());
    let mut waits = Vec::new();
    for (hub_config, backends) in config.hubs.iter().zip(opened) {
        let mut hub = Hub::new(&hub_config.id);
        // The console's window is the first vc's size.
        windows.push(backends.iter().find_map(|b| b.vc.as_ref().map(|vc| vc.window())));
        for backend in backends {
            if let Some(vc) = &backend.vc {
                vc.follow_frontend(hub.frontend_status());
            }
            // The configuration was validated, so a hub never refuses a backend here.
            match hub.attach(&backend.id, backend.connector, backend.logfile) {
                Ok(connected) if backend.wait => waits.push((backend.id, connected)),
                Ok(_) => {}
                Err(e) => warn!("{e}"),
            }
        }
        hubs.push(hub);
    }

    for (id, connected) in waits {
        info!("{id}: waiting for a client before starting the console (wait=on)");
        tokio::select! {
            _ = connected => {}
            () = shutdown.cancelled() => {
                for hub in hubs {
                    hub.close().await;
                }
                return Ok(0);
            }
        }
    }

    let mut frontends = Vec::with_capacity(hubs.len());
    for (hub_config, window) in config.hubs.iter().zip(windows) {
        match chardev::open_frontend(&hub_config.id, &hub_config.frontend, window).await {
            Ok(frontend) => frontends.push(frontend),
            Err(e) => {
                for hub in hubs {
                    hub.close().await;
                }
                return Err(e.into());
            }
        }
    }

    let mut running = Vec::with_capacity(hubs.len());
    let mut command_exit: Option<ExitStatusReceiver> = None;
    for (hub, frontend) in hubs.into_iter().zip(frontends) {
        if frontend.exit.is_some() {
            command_exit = frontend.exit;
        }
        running.push(tokio::spawn(hub.run(frontend.connector, frontend.logfile, shutdown.clone())));
    }

    for hub in running {
        if let Ok(report) = hub.await {
            log_report(&report);
        }
    }
    for server in servers {
        server.shutdown();
    }
    if shutdown.is_cancelled() {
        return Ok(0);
    }
    let Some(mut exit) = command_exit else { return Ok(0) };
    let code = loop {
        if let Some(code) = *exit.borrow_and_update() {
            break code;
        }
        tokio::select! {
            changed = exit.changed() => if changed.is_err() { break 1 },
            () = shutdown.cancelled() => break 0,
        }
    };
    info!("the command exited with status {code}");
    Ok(code)
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
