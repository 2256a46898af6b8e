//! Chardevs as QMP names them: as `query-chardev` lists them ([`ChardevInfo`]),
//! and as `chardev-add` describes a new one.
//!
//! `chardev-add`'s arguments are QEMU's backend JSON (`{"id": "log1", "backend":
//! {"type": "file", "data": {"out": "/tmp/x.log"}}}`), read into the same
//! [`BackendConfig`] a `-chardev` option gives (`vcmux ctl chardev-add`
//! writes that JSON from such an option).
//!
//! The kinds that can join a running hub are `file`, `socket`, `pty` and
//! `null`, with QEMU's field names, and vcmux's `asciicast` (`path`,
//! `input`). Two fields are vcmux's own, in `data` as
//! on the command line: `mux-be-id` names the hub to join (the seed patch's
//! option; it may be left out when there is one hub), `replay` is
//! `replay=SIZE` in bytes, and `lag` is `lag=SIZE` in bytes (when left out,
//! the kind's default, as on the command line).

use std::path::PathBuf;
use std::time::Duration;

use super::args::Args;
use super::error::CommandError;
use crate::config::{
    AsciicastConfig, BackendConfig, BackendKind, FileConfig, LogfileConfig, MAX_LAG, MAX_REPLAY, PtyConfig,
    SocketAddress, SocketConfig,
};

/// A chardev as `query-chardev` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChardevInfo {
    /// Its id.
    pub label: String,
    /// What it is, as QEMU writes it (`unix:/tmp/s,server=on`, `file`, `vc`).
    pub filename: String,
}

/// A backend to add to a running hub.
#[derive(Debug, Clone, PartialEq)]
pub struct NewChardev {
    /// The hub it joins; `None` for the only one.
    pub hub: Option<String>,
    /// The backend, as a `-chardev` option would give it.
    pub backend: BackendConfig,
}

/// Reads `chardev-add`'s `id` and `backend`.
pub(super) fn from_arguments(args: &mut Args) -> Result<NewChardev, CommandError> {
    let id = args.string("id")?;
    let mut backend = args.object("backend")?;
    let kind = backend.string("type")?;
    let mut data = backend.object_or_empty("data")?;
    backend.finish()?;
    let hub = data.optional_string("mux-be-id")?;
    let logfile = data
        .optional_string("logfile")?
        .map(|path| LogfileConfig { path: PathBuf::from(path), append: false });
    let logfile = match (logfile, data.optional_bool("logappend")?) {
        (Some(logfile), append) => Some(LogfileConfig { append: append.unwrap_or(false), ..logfile }),
        (None, Some(_)) => return Err(CommandError::Failed("'logappend' needs 'logfile'".to_string())),
        (None, None) => None,
    };
    let replay = match data.optional_integer("replay")? {
        None => 0,
        Some(size) if (0..=MAX_REPLAY as i64).contains(&size) => size as usize,
        Some(size) => {
            return Err(CommandError::Failed(format!(
                "Parameter 'backend.data.replay' must be 0 to {MAX_REPLAY} bytes, not {size}"
            )));
        }
    };
    let lag = match data.optional_integer("lag")? {
        None => None,
        Some(size) if (0..=MAX_LAG as i64).contains(&size) => Some(size as usize),
        Some(size) => {
            return Err(CommandError::Failed(format!(
                "Parameter 'backend.data.lag' must be 0 to {MAX_LAG} bytes, not {size}"
            )));
        }
    };
    let kind = match kind.as_str() {
        "file" => {
            let path = PathBuf::from(data.string("out")?);
            let append = data.optional_bool("append")?.unwrap_or(false);
            let timestamps = data.optional_bool("timestamps")?.unwrap_or(false);
            BackendKind::File(FileConfig { path, append, timestamps })
        }
        "socket" => BackendKind::Socket(socket(&mut data)?),
        "pty" => BackendKind::Pty(PtyConfig { link: data.optional_string("path")?.map(PathBuf::from) }),
        "null" => BackendKind::Null,
        "asciicast" => {
            let path = PathBuf::from(data.string("path")?);
            let input = data.optional_bool("input")?.unwrap_or(false);
            BackendKind::Asciicast(AsciicastConfig { path, input })
        }
        "vc" | "stdio" => {
            return Err(CommandError::Failed(format!(
                "a {kind} backend is made at start-up only (-chardev {kind},…); chardev-add takes file, \
                 socket, pty, null or asciicast"
            )));
        }
        other => {
            return Err(CommandError::Failed(format!(
                "Parameter 'backend.type' does not accept value '{other}' (file, socket, pty, null or \
                 asciicast)"
            )));
        }
    };
    data.finish()?;
    if replay > 0 && matches!(kind, BackendKind::Null | BackendKind::Asciicast(_)) {
        return Err(CommandError::Failed("'replay' is for file, socket and pty backends".to_string()));
    }
    let lag = lag.unwrap_or_else(|| kind.default_lag());
    Ok(NewChardev { hub, backend: BackendConfig { id, kind, logfile, replay, lag } })
}

/// QEMU's `ChardevSocket`: `addr` as `{"type": "unix", "data": {"path"}}` or
/// `{"type": "inet", "data": {"host", "port"}}` (the flat form, without
/// `data`, too), `server` (true unless said), `wait` (false unless said),
/// `reconnect` (seconds) or `reconnect-ms`.
fn socket(data: &mut Args) -> Result<SocketConfig, CommandError> {
    let mut addr = data.object("addr")?;
    let kind = addr.string("type")?;
    // QEMU's legacy form nests the address in `data`; the flat one does not.
    let mut fields = match addr.optional_object("data")? {
        Some(fields) => {
            addr.finish()?;
            fields
        }
        None => addr,
    };
    let address = match kind.as_str() {
        "unix" => SocketAddress::Unix(PathBuf::from(fields.string("path")?)),
        "inet" => {
            let host = fields.string("host")?;
            let port = fields.string("port")?;
            let port = port.parse::<u16>().map_err(|_| {
                CommandError::Failed(format!("Parameter 'port' must be a port number, not '{port}'"))
            })?;
            SocketAddress::Tcp { host, port }
        }
        other => {
            return Err(CommandError::Failed(format!(
                "Parameter 'addr.type' does not accept value '{other}' (unix or inet)"
            )));
        }
    };
    fields.finish()?;
    let server = data.optional_bool("server")?.unwrap_or(true);
    let wait = data.optional_bool("wait")?.unwrap_or(false);
    if wait {
        return Err(CommandError::Failed(
            "'wait' holds the console until a client comes, which only start-up may do; add the socket \
             with wait=false"
                .to_string(),
        ));
    }
    let reconnect = match (data.optional_integer("reconnect")?, data.optional_integer("reconnect-ms")?) {
        (None, None) | (Some(0), None) | (None, Some(0)) => None,
        (Some(s), None) if s > 0 => Some(Duration::from_secs(s.unsigned_abs())),
        (None, Some(ms)) if ms > 0 => Some(Duration::from_millis(ms.unsigned_abs())),
        (Some(_), Some(_)) => {
            return Err(CommandError::Failed(
                "'reconnect' and 'reconnect-ms' exclude each other".to_string(),
            ));
        }
        _ => return Err(CommandError::Failed("'reconnect' must not be negative".to_string())),
    };
    if reconnect.is_some() && server {
        return Err(CommandError::Failed("'reconnect' is for connecting sockets (server=false)".to_string()));
    }
    Ok(SocketConfig { address, server, wait, reconnect })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::config::parse_backend;

    fn read(arguments: Value) -> Result<NewChardev, CommandError> {
        let Value::Object(map) = arguments else { panic!("arguments are an object") };
        let mut args = Args::new(map);
        let chardev = from_arguments(&mut args)?;
        args.finish()?;
        Ok(chardev)
    }

    #[test]
    fn qemu_file_backend_is_read_as_its_option_would_be() {
        let chardev = read(
            json!({"id": "log1", "backend": {"type": "file", "data": {"out": "/tmp/x.log", "append": true}}}),
        )
        .unwrap();
        let (backend, hub) = parse_backend("file,id=log1,path=/tmp/x.log,append=on").unwrap();
        assert_eq!(chardev, NewChardev { hub, backend });
    }

    #[test]
    fn a_lag_is_read_as_lag_would_be_and_defaults_as_on_the_command_line() {
        for (data, option) in [
            (json!({"out": "/tmp/x.log", "lag": 0}), "file,id=f,path=/tmp/x.log,lag=0"),
            (json!({"out": "/tmp/x.log", "lag": 65536}), "file,id=f,path=/tmp/x.log,lag=64K"),
            (json!({"out": "/tmp/x.log"}), "file,id=f,path=/tmp/x.log"),
        ] {
            let chardev = read(json!({"id": "f", "backend": {"type": "file", "data": data}})).unwrap();
            let (backend, hub) = parse_backend(option).unwrap();
            assert_eq!(chardev, NewChardev { hub, backend }, "{option}");
        }
        for (data, option) in [(json!({"lag": 0}), "pty,id=f,lag=0"), (json!({}), "pty,id=f")] {
            let chardev = read(json!({"id": "f", "backend": {"type": "pty", "data": data}})).unwrap();
            let (backend, hub) = parse_backend(option).unwrap();
            assert_eq!(chardev, NewChardev { hub, backend }, "{option}");
        }
    }

    #[test]
    fn qemu_socket_backends_are_read_in_both_address_forms() {
        let legacy = read(json!({"id": "s", "backend": {"type": "socket", "data": {
            "addr": {"type": "unix", "data": {"path": "/tmp/s.sock"}}, "server": true, "wait": false}}}))
        .unwrap();
        let flat = read(json!({"id": "s", "backend": {"type": "socket", "data": {
            "addr": {"type": "unix", "path": "/tmp/s.sock"}}}}))
        .unwrap();
        let (backend, hub) = parse_backend("socket,id=s,path=/tmp/s.sock,server=on,wait=off").unwrap();
        assert_eq!(legacy, NewChardev { hub: hub.clone(), backend: backend.clone() });
        assert_eq!(flat, NewChardev { hub, backend });
        let tcp = read(json!({"id": "t", "backend": {"type": "socket", "data": {
            "addr": {"type": "inet", "data": {"host": "127.0.0.1", "port": "4555"}}, "server": true}}}))
        .unwrap();
        let (backend, hub) =
            parse_backend("socket,id=t,host=127.0.0.1,port=4555,server=on,wait=off").unwrap();
        assert_eq!(tcp, NewChardev { hub, backend });
    }

    #[test]
    fn mistakes_are_named_as_qemu_names_them() {
        let error = |arguments: Value| read(arguments).unwrap_err().to_string();
        assert_eq!(error(json!({"backend": {"type": "null"}})), "Parameter 'id' is missing");
        assert_eq!(
            error(json!({"id": "x", "backend": {"type": "file", "data": {}}})),
            "Parameter 'backend.data.out' is missing"
        );
        assert_eq!(
            error(json!({"id": "x", "backend": {"type": "file", "data": {"out": "/x", "append": "yes"}}})),
            "Invalid parameter type for 'backend.data.append', expected: boolean"
        );
        assert_eq!(
            error(json!({"id": "x", "backend": {"type": "file", "data": {"out": "/x", "in": "/y"}}})),
            "Parameter 'backend.data.in' is unexpected"
        );
        assert_eq!(
            error(json!({"id": "x", "backend": {"type": "null", "data": {"lag": 67108865}}})),
            "Parameter 'backend.data.lag' must be 0 to 67108864 bytes, not 67108865"
        );
        assert!(error(json!({"id": "x", "backend": {"type": "spice"}})).contains("'spice'"));
        assert!(error(json!({"id": "x", "backend": {"type": "vc"}})).contains("start-up"));
        assert!(
            error(json!({"id": "x", "backend": {"type": "socket", "data": {
                "addr": {"type": "unix", "data": {"path": "/s"}}, "wait": true}}}))
            .contains("wait")
        );
    }
}
