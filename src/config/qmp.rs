//! The `-qmp` option, in QEMU's syntax: where the control socket listens.
//!
//! `-qmp unix:PATH,server=on,wait=off` or `-qmp tcp:HOST:PORT,server=on,wait=off`
//! (QEMU's older `server,nowait` too), or QEMU's long form: a listening
//! `-chardev socket,id=ID,…` named by `-mon chardev=ID,mode=control`. vcmux always listens, and never waits
//! for a control client before starting the console: `server=off` and
//! `wait=on` are refused by name.

use std::path::PathBuf;

use super::address::SocketAddress;
use super::error::ConfigError;
use super::opts::Opts;

/// One `-qmp`: a control socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QmpConfig {
    /// Where control clients connect.
    pub address: SocketAddress,
}

/// Parses one `-qmp`.
pub(super) fn parse(text: &str) -> Result<QmpConfig, ConfigError> {
    let opts = Opts::parse("-qmp", text, "address")?;
    let address = opts.required("address")?;
    let address = if let Some(path) = address.strip_prefix("unix:").filter(|p| !p.is_empty()) {
        SocketAddress::Unix(PathBuf::from(path))
    } else if let Some((host, port)) = address.strip_prefix("tcp:").and_then(|a| a.rsplit_once(':')) {
        let port = port.parse().map_err(|_| opts.error(format!("'{port}' is not a port number")))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let host = if host.is_empty() { "127.0.0.1" } else { host };
        SocketAddress::Tcp { host: host.to_string(), port }
    } else {
        return Err(opts.error(format!("'{address}' is not unix:PATH or tcp:HOST:PORT")));
    };
    if opts.flag("server")? == Some(false) {
        return Err(opts.error("'server=off': vcmux's control socket always listens (server=on)"));
    }
    let nowait = opts.flag("nowait")?;
    if opts.flag("wait")? == Some(true) || nowait == Some(false) {
        return Err(opts.error("'wait=on' is not supported: the console starts without a control client"));
    }
    opts.finish("-qmp", &["server", "wait", "nowait"])?;
    Ok(QmpConfig { address })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemus_spellings_are_taken_and_the_rest_refused_by_name() {
        let unix = parse("unix:/run/q.sock,server=on,wait=off").unwrap();
        assert_eq!(unix.address, SocketAddress::Unix("/run/q.sock".into()));
        let tcp = parse("tcp::4444,server,nowait").unwrap();
        assert_eq!(tcp.address, SocketAddress::Tcp { host: "127.0.0.1".into(), port: 4444 });
        for (text, named) in [
            ("stdio", "stdio"),
            ("unix:/q,server=off", "server=off"),
            ("unix:/q,wait=on", "wait=on"),
            ("tcp:h:port", "port"),
            ("unix:/q,bogus=1", "bogus"),
        ] {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.contains(named), "{text}: {error}");
        }
    }
}
