//! The password a server checks now, as QEMU's `set_password` and
//! `expire_password` change it while viewers come and go: the `-vnc`
//! password replaced, and a time after which no password lets anyone in.

use std::time::Duration;

use rand::RngExt;
use tokio::time::Instant;

use super::settings::{MAX_PASSWORD_LEN, ServerSettings, SettingsError};

/// The passwords of a running server.
#[derive(Debug, Clone, Default)]
pub(crate) struct LivePassword {
    /// Replaces the `-vnc` password once set.
    password: Option<String>,
    /// No password is accepted from then on.
    expires: Option<Instant>,
}

impl LivePassword {
    /// Replaces the password (the view-only password stays).
    pub fn set(&mut self, password: String) -> Result<(), SettingsError> {
        if password.is_empty() {
            return Err(SettingsError::EmptyPassword("password"));
        }
        if password.len() > MAX_PASSWORD_LEN {
            return Err(SettingsError::PasswordTooLong { which: "password", len: password.len() });
        }
        self.password = Some(password);
        Ok(())
    }

    /// No password lets anyone in after `after` from now (`None`: never expires).
    pub fn expire(&mut self, after: Option<Duration>) {
        self.expires = after.map(|after| Instant::now() + after);
    }

    /// What a handshake starting now checks: `base` with the password set
    /// since, and, once the passwords have expired, a fresh random one in
    /// place of each (asked for, as before, but matched by no one: QEMU
    /// refuses every password once expired).
    pub fn settings(&self, base: &ServerSettings) -> ServerSettings {
        let mut settings = base.clone();
        if let Some(password) = &self.password {
            settings.password = Some(password.clone());
        }
        if self.expires.is_some_and(|at| Instant::now() >= at) {
            let unknowable = || -> String {
                let mut rng = rand::rng();
                (0..MAX_PASSWORD_LEN).map(|_| char::from(rng.random_range(b'!'..=b'~'))).collect()
            };
            settings.password = settings.password.as_ref().map(|_| unknowable());
            settings.view_only_password = settings.view_only_password.as_ref().map(|_| unknowable());
        }
        settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_password_replaces_the_old_and_expiry_refuses_every_one() {
        let base = ServerSettings {
            password: Some("old".into()),
            view_only_password: Some("watch".into()),
            ..ServerSettings::default()
        };
        let mut live = LivePassword::default();
        assert_eq!(live.settings(&base), base);
        live.set("new".into()).unwrap();
        assert_eq!(live.settings(&base).password.as_deref(), Some("new"));
        assert!(live.set("123456789".into()).is_err() && live.set(String::new()).is_err());
        live.expire(Some(Duration::from_secs(3600)));
        assert_eq!(live.settings(&base).password.as_deref(), Some("new"));
        live.expire(Some(Duration::ZERO));
        let expired = live.settings(&base);
        assert!(expired.needs_password());
        assert_ne!(expired.password.as_deref(), Some("new"));
        assert_ne!(expired.view_only_password.as_deref(), Some("watch"));
        assert_ne!(expired.password, live.settings(&base).password, "a fresh one each time");
        live.expire(None);
        assert_eq!(live.settings(&base).password.as_deref(), Some("new"));
    }
}
