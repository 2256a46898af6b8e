//! QEMU's password commands for a VNC display: `set_password` (`protocol:
//! vnc`, `password`, `connected: keep|disconnect`, `display`) and
//! `expire_password` (`protocol: vnc`, `time: now|never|+SECONDS|SECONDS`
//! since the epoch, `display`), with QEMU's arguments and errors.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::args::Args;
use super::console::Console;
use super::error::CommandError;
use super::vnc::{PasswordChange, VncDisplay};

/// `set_password`.
pub fn set_password(console: &Console, mut args: Args) -> Result<Value, CommandError> {
    protocol(&mut args)?;
    let password = args.string("password")?;
    let disconnect = match args.optional_string("connected")?.as_deref() {
        None | Some("keep") => false,
        Some("disconnect") => true,
        Some(other) => {
            return Err(CommandError::Failed(format!(
                "Parameter 'connected' does not accept value '{other}' for VNC (keep or disconnect)"
            )));
        }
    };
    let display = display(console, &mut args)?;
    args.finish()?;
    (display.change_password)(PasswordChange::Set { password, disconnect })
        .map_err(|e| CommandError::Failed(format!("Could not set password: {e}")))?;
    Ok(json!({}))
}

/// `expire_password`.
pub fn expire_password(console: &Console, mut args: Args) -> Result<Value, CommandError> {
    protocol(&mut args)?;
    let time = args.string("time")?;
    let display = display(console, &mut args)?;
    args.finish()?;
    let after = expiry(&time, SystemTime::now())?;
    (display.change_password)(PasswordChange::Expire(after))
        .map_err(|e| CommandError::Failed(format!("Could not set password expire time: {e}")))?;
    Ok(json!({}))
}

/// `protocol`: only `vnc` here.
fn protocol(args: &mut Args) -> Result<(), CommandError> {
    match args.string("protocol")?.as_str() {
        "vnc" => Ok(()),
        other => Err(CommandError::Failed(format!(
            "Parameter 'protocol' does not accept value '{other}' (vcmux has only vnc)"
        ))),
    }
}

/// `display`: QEMU's display id (`default`: the first `-vnc`).
fn display<'a>(console: &'a Console, args: &mut Args) -> Result<&'a VncDisplay, CommandError> {
    let id = args.optional_string("display")?.unwrap_or_else(|| "default".to_string());
    console
        .vnc()
        .iter()
        .find(|d| d.id == id)
        .ok_or_else(|| CommandError::Failed(format!("No VNC display '{id}' found")))
}

/// `time` as QEMU reads it: how long from `now` until the password expires,
/// `None` for never.
fn expiry(time: &str, now: SystemTime) -> Result<Option<Duration>, CommandError> {
    let bad = || {
        CommandError::Failed(format!(
            "Parameter 'time' expects now, never, +SECONDS or SECONDS, not '{time}'"
        ))
    };
    match time {
        "now" => Ok(Some(Duration::ZERO)),
        "never" => Ok(None),
        _ => match time.strip_prefix('+') {
            Some(seconds) => Ok(Some(Duration::from_secs(seconds.parse().map_err(|_| bad())?))),
            None => {
                let at = UNIX_EPOCH + Duration::from_secs(time.parse().map_err(|_| bad())?);
                Ok(Some(at.duration_since(now).unwrap_or(Duration::ZERO)))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_as_qemu_reads_them() {
        let now = UNIX_EPOCH + Duration::from_secs(1000);
        assert_eq!(expiry("now", now).unwrap(), Some(Duration::ZERO));
        assert_eq!(expiry("never", now).unwrap(), None);
        assert_eq!(expiry("+60", now).unwrap(), Some(Duration::from_secs(60)));
        assert_eq!(expiry("1030", now).unwrap(), Some(Duration::from_secs(30)));
        assert_eq!(expiry("10", now).unwrap(), Some(Duration::ZERO), "a time past is now");
        assert!(expiry("soon", now).is_err() && expiry("+x", now).is_err() && expiry("-5", now).is_err());
    }
}
