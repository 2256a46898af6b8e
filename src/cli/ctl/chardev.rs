//! `vcmux ctl chardev-add`'s one job: a backend written as a `-chardev`
//! option (`file,id=log2,path=x.log,mux-be-id=hub0`), read by the same parser
//! as the command line, turned into the QEMU backend JSON that `chardev-add`
//! takes over the wire.

use serde_json::{Value, json};

use crate::config::{BackendConfig, BackendKind, ConfigError, SocketAddress, parse_backend};

/// `chardev-add`'s arguments for a `-chardev`-style option string: QEMU's
/// backend JSON, with `mux-be-id`, `replay` and `lag` in `data` as vcmux reads them.
/// A mistake in the option is the same one line `-chardev` gives. Relative
/// paths are made absolute here, as `screendump`'s OUT is: the caller means
/// them from where it runs, not from vcmux's directory.
pub fn add_arguments(option: &str) -> Result<Value, ConfigError> {
    let (mut backend, hub) = parse_backend(option)?;
    absolute_paths(&mut backend);
    Ok(arguments(&backend, hub.as_deref()))
}

/// Every relative path of `backend` made absolute against this process's
/// directory (left as it is if that cannot be known).
fn absolute_paths(backend: &mut BackendConfig) {
    let absolute = |path: &mut std::path::PathBuf| {
        if let Ok(full) = std::path::absolute(&*path) {
            *path = full;
        }
    };
    match &mut backend.kind {
        BackendKind::File(file) => absolute(&mut file.path),
        BackendKind::Socket(socket) => {
            if let SocketAddress::Unix(path) = &mut socket.address {
                absolute(path);
            }
        }
        BackendKind::Pty(pty) => pty.link.iter_mut().for_each(absolute),
        BackendKind::Asciicast(recording) => absolute(&mut recording.path),
        BackendKind::Stdio(_) | BackendKind::Null | BackendKind::Vc(_) => {}
    }
    if let Some(logfile) = &mut backend.logfile {
        absolute(&mut logfile.path);
    }
}

fn arguments(backend: &BackendConfig, hub: Option<&str>) -> Value {
    let (kind, mut data) = match &backend.kind {
        BackendKind::File(file) => {
            let mut data = json!({"out": file.path, "append": file.append});
            if file.timestamps {
                data["timestamps"] = json!(true);
            }
            ("file", data)
        }
        BackendKind::Socket(socket) => {
            let addr = match &socket.address {
                SocketAddress::Unix(path) => json!({"type": "unix", "data": {"path": path}}),
                SocketAddress::Tcp { host, port } => {
                    json!({"type": "inet", "data": {"host": host, "port": port.to_string()}})
                }
            };
            let mut data = json!({"addr": addr, "server": socket.server, "wait": socket.wait});
            if let Some(reconnect) = socket.reconnect {
                data["reconnect-ms"] = json!(reconnect.as_millis());
            }
            ("socket", data)
        }
        BackendKind::Pty(pty) => match &pty.link {
            Some(link) => ("pty", json!({"path": link})),
            None => ("pty", json!({})),
        },
        BackendKind::Null => ("null", json!({})),
        BackendKind::Stdio(_) => ("stdio", json!({})),
        BackendKind::Vc(_) => ("vc", json!({})),
        BackendKind::Asciicast(recording) => {
            ("asciicast", json!({"path": recording.path, "input": recording.input}))
        }
    };
    if let Some(hub) = hub {
        data["mux-be-id"] = json!(hub);
    }
    if let Some(logfile) = &backend.logfile {
        data["logfile"] = json!(logfile.path);
        data["logappend"] = json!(logfile.append);
    }
    if backend.replay > 0 {
        data["replay"] = json!(backend.replay);
    }
    if backend.lag != backend.kind.default_lag() {
        data["lag"] = json!(backend.lag);
    }
    json!({"id": backend.id, "backend": {"type": kind, "data": data}})
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn options_become_qemus_backend_json() {
        let cases = [
            (
                "file,id=log2,path=/tmp/x.log,append=on,mux-be-id=hub0",
                json!({"id": "log2", "backend": {"type": "file", "data":
                    {"out": "/tmp/x.log", "append": true, "mux-be-id": "hub0"}}}),
            ),
            (
                "socket,id=s,path=/tmp/s.sock,server=on,wait=off,replay=4K",
                json!({"id": "s", "backend": {"type": "socket", "data": {
                    "addr": {"type": "unix", "data": {"path": "/tmp/s.sock"}},
                    "server": true, "wait": false, "replay": 4096}}}),
            ),
            (
                "socket,id=t,host=127.0.0.1,port=4555,reconnect-ms=250",
                json!({"id": "t", "backend": {"type": "socket", "data": {
                    "addr": {"type": "inet", "data": {"host": "127.0.0.1", "port": "4555"}},
                    "server": false, "wait": false, "reconnect-ms": 250}}}),
            ),
            ("pty,id=p", json!({"id": "p", "backend": {"type": "pty", "data": {}}})),
            ("pty,id=q,lag=0", json!({"id": "q", "backend": {"type": "pty", "data": {"lag": 0}}})),
            ("pty,id=r,lag=8M", json!({"id": "r", "backend": {"type": "pty", "data": {}}})),
            ("null,id=m,lag=8M", json!({"id": "m", "backend": {"type": "null", "data": {"lag": 8388608}}})),
            (
                "null,id=n,logfile=/tmp/n.log",
                json!({"id": "n", "backend": {"type": "null", "data":
                    {"logfile": "/tmp/n.log", "logappend": false}}}),
            ),
        ];
        for (option, want) in cases {
            assert_eq!(add_arguments(option).unwrap(), want, "{option}");
        }
    }

    #[test]
    fn relative_paths_are_the_callers() {
        let here = std::env::current_dir().unwrap();
        let arguments = add_arguments("file,id=x,path=x.log,logfile=sub/y.log").unwrap();
        let data = &arguments["backend"]["data"];
        assert_eq!(data["out"], json!(here.join("x.log")));
        assert_eq!(data["logfile"], json!(here.join("sub/y.log")));
        let cast = add_arguments("asciicast,id=r,path=/abs/r.cast").unwrap();
        assert_eq!(cast["backend"]["data"]["path"], json!("/abs/r.cast"));
    }

    #[test]
    fn a_bad_option_is_the_line_chardev_gives() {
        let error = add_arguments("file,id=x").unwrap_err().to_string();
        assert!(error.contains("'path=' is required"), "{error}");
        assert!(add_arguments("hub,id=h").unwrap_err().to_string().contains("start-up"));
    }
}
