//! Starting a `-vnc`: the password files read, the listeners bound, the RFB
//! server serving its vc until shutdown.

use std::path::Path;
use std::sync::Arc;

use tokio::net::{TcpListener, UnixListener};
use tracing::info;

use super::LaunchError;
use crate::chardev::vc::Vc;
use crate::config::{VncConfig, VncListen};
use crate::rfb::{self, SharePolicy};

/// Binds every listener of `config` and serves `vc` on them; the returned server
/// stops at [`rfb::Server::shutdown`].
pub(super) async fn start(config: &VncConfig, vc: Arc<Vc>) -> Result<rfb::Server, LaunchError> {
    let fail = |what: String, e: std::io::Error| LaunchError::Vnc(format!("{what}: {e}"));
    let server_config = rfb::Config {
        password: read_password(config.password_file.as_deref())?,
        view_only_password: read_password(config.viewonly_password_file.as_deref())?,
        view_only: config.view_only,
        // The policy names were checked when the command line was read.
        share: config.share.parse().unwrap_or(SharePolicy::AllowExclusive),
        connections: config.connections,
        ..rfb::Config::default()
    };
    let server = rfb::Server::new(vc, server_config)
        .map_err(|e| LaunchError::Vnc(format!("-vnc for {}: {e}", config.vc)))?;

    match &config.listen {
        VncListen::Tcp { host, port } => {
            let listener = TcpListener::bind((host.as_str(), *port))
                .await
                .map_err(|e| fail(format!("cannot listen for VNC viewers on {}", config.listen), e))?;
            info!(
                "{}: VNC viewers welcome on {}",
                config.vc,
                listener.local_addr().map_err(|e| fail("".into(), e))?
            );
            let server = server.clone();
            tokio::spawn(async move { server.serve_tcp(listener).await });
        }
        VncListen::Unix(path) => {
            let _ = std::fs::remove_file(path);
            let listener = UnixListener::bind(path)
                .map_err(|e| fail(format!("cannot listen for VNC viewers on {}", config.listen), e))?;
            info!("{}: VNC viewers welcome on {}", config.vc, config.listen);
            let server = server.clone();
            tokio::spawn(async move { server.serve_unix(listener).await });
        }
    }
    if let Some((host, port)) = &config.websocket {
        let listener = TcpListener::bind((host.as_str(), *port))
            .await
            .map_err(|e| fail(format!("cannot listen for WebSocket viewers on {host}:{port}"), e))?;
        info!(
            "{}: WebSocket (noVNC) viewers welcome on {}",
            config.vc,
            listener.local_addr().map_err(|e| fail("".into(), e))?
        );
        let server = server.clone();
        tokio::spawn(async move { server.serve_websocket(listener).await });
    }
    Ok(server)
}

/// The password in a file: its first line.
fn read_password(path: Option<&Path>) -> Result<Option<String>, LaunchError> {
    let Some(path) = path else { return Ok(None) };
    let text = std::fs::read_to_string(path).map_err(|e| {
        LaunchError::Vnc(format!("cannot read the VNC password file {}: {e}", path.display()))
    })?;
    Ok(Some(text.lines().next().unwrap_or_default().to_string()))
}
