//! How a VNC server is set up: passwords, view-only, sharing and the connection
//! limit, as QEMU's `-vnc` options give them.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use tokio_rustls::TlsAcceptor;

/// The longest VNC password: DES takes 8 bytes, and every VNC server silently
/// ignores the rest; we refuse it instead, so nobody believes the rest counts.
pub const MAX_PASSWORD_LEN: usize = 8;

/// What the shared flag of ClientInit does (QEMU's `share=`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SharePolicy {
    /// A viewer asking for exclusive access disconnects the others; while it is
    /// connected, viewers asking to share are refused (QEMU's default).
    #[default]
    AllowExclusive,
    /// Viewers asking for exclusive access are refused.
    ForceShared,
    /// The flag is ignored: everyone shares.
    Ignore,
}

impl FromStr for SharePolicy {
    type Err = SettingsError;

    fn from_str(s: &str) -> Result<SharePolicy, SettingsError> {
        match s {
            "allow-exclusive" => Ok(SharePolicy::AllowExclusive),
            "force-shared" => Ok(SharePolicy::ForceShared),
            "ignore" => Ok(SharePolicy::Ignore),
            other => Err(SettingsError::SharePolicy(other.to_string())),
        }
    }
}

/// Why server settings were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// A password past [`MAX_PASSWORD_LEN`] bytes.
    #[error("the VNC {which} is {len} bytes long; VNC authentication uses at most {MAX_PASSWORD_LEN}")]
    PasswordTooLong {
        /// "password" or "view-only password".
        which: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// An empty password would let nobody in with VNC authentication.
    #[error("the VNC {0} is empty")]
    EmptyPassword(&'static str),
    /// `connections=0`.
    #[error("the VNC connection limit must be at least 1")]
    NoConnections,
    /// A password set on a server that asks for none.
    #[error("this VNC display takes no password (start it with password-file=)")]
    NoPasswordAuth,
    /// An unknown `share=` value.
    #[error("unknown VNC share policy '{0}' (allow-exclusive, force-shared or ignore)")]
    SharePolicy(String),
}

/// TLS for a server (QEMU's `tls-creds=`): VeNCrypt with an X.509 subtype
/// on the RFB listeners, and wss on the WebSocket one. Two are equal when
/// they are the same configuration.
#[derive(Clone)]
pub struct Tls {
    config: Arc<rustls::ServerConfig>,
}

impl Tls {
    /// TLS with this rustls configuration (its certificate, and whether it
    /// asks clients for theirs).
    pub fn new(config: Arc<rustls::ServerConfig>) -> Tls {
        Tls { config }
    }

    /// What accepts a TLS session on a stream.
    pub(crate) fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.config.clone())
    }
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

impl PartialEq for Tls {
    fn eq(&self, other: &Tls) -> bool {
        Arc::ptr_eq(&self.config, &other.config)
    }
}

impl Eq for Tls {}

/// A VNC server's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// With a password, viewers must use VNC authentication; without one (and
    /// no view-only password), security type None is offered.
    pub password: Option<String>,
    /// A second password that lets a viewer watch but not type.
    pub view_only_password: Option<String>,
    /// Every viewer only watches.
    pub view_only: bool,
    /// What the shared flag does.
    pub share: SharePolicy,
    /// Most viewers connected at once, handshakes included (QEMU: 32).
    pub connections: usize,
    /// A connection that has not finished its handshake by then is dropped.
    pub handshake_timeout: Duration,
    /// Most updates a second a viewer is sent (`-vnc ...,rate=N`): the
    /// frame clock viewers sharing an encoding are sent their updates on.
    pub frame_rate: u32,
    /// With TLS, RFB viewers must speak VeNCrypt (X509None, or X509Vnc with a
    /// password) and WebSocket viewers wss; without, everything is in clear.
    pub tls: Option<Tls>,
}

/// Updates a second when `rate=` is not given: a display's refresh, as
/// TigerVNC's default `FrameRate`.
pub const DEFAULT_FRAME_RATE: u32 = 60;

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            password: None,
            view_only_password: None,
            view_only: false,
            share: SharePolicy::default(),
            connections: 32,
            handshake_timeout: Duration::from_secs(10),
            frame_rate: DEFAULT_FRAME_RATE,
            tls: None,
        }
    }
}

impl ServerSettings {
    /// Checks what a server cannot start with.
    pub fn validate(&self) -> Result<(), SettingsError> {
        for (which, password) in
            [("password", &self.password), ("view-only password", &self.view_only_password)]
        {
            match password {
                Some(p) if p.is_empty() => return Err(SettingsError::EmptyPassword(which)),
                Some(p) if p.len() > MAX_PASSWORD_LEN => {
                    return Err(SettingsError::PasswordTooLong { which, len: p.len() });
                }
                _ => {}
            }
        }
        if self.connections == 0 {
            return Err(SettingsError::NoConnections);
        }
        Ok(())
    }

    /// Whether viewers must authenticate.
    pub fn needs_password(&self) -> bool {
        self.password.is_some() || self.view_only_password.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_or_empty_passwords_are_refused() {
        let long = ServerSettings { password: Some("123456789".into()), ..ServerSettings::default() };
        assert_eq!(long.validate(), Err(SettingsError::PasswordTooLong { which: "password", len: 9 }));
        let empty = ServerSettings { view_only_password: Some(String::new()), ..ServerSettings::default() };
        assert_eq!(empty.validate(), Err(SettingsError::EmptyPassword("view-only password")));
        assert!(
            ServerSettings { password: Some("12345678".into()), ..ServerSettings::default() }
                .validate()
                .is_ok()
        );
        assert_eq!("force-shared".parse(), Ok(SharePolicy::ForceShared));
        assert!("exclusive".parse::<SharePolicy>().is_err());
    }
}
