//! TARGET: where the control socket is, written as `-qmp` writes it.

use std::fmt;
use std::path::PathBuf;

/// A control socket's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `unix:PATH`, or a bare path with a `/` in it.
    Unix(PathBuf),
    /// `HOST:PORT` (or `tcp:HOST:PORT`, as `-qmp` writes it; `[::1]:PORT` for IPv6).
    Tcp {
        /// The host name or address, without brackets.
        host: String,
        /// The port.
        port: u16,
    },
}

impl Target {
    /// Reads TARGET (clap's value parser for it).
    pub fn parse(text: &str) -> Result<Target, String> {
        let bad = || format!("'{text}' is not unix:PATH, HOST:PORT or a path with a '/'");
        if let Some(path) = text.strip_prefix("unix:") {
            if path.is_empty() {
                return Err(bad());
            }
            return Ok(Target::Unix(PathBuf::from(path)));
        }
        let tcp = text.strip_prefix("tcp:");
        if tcp.is_none() && text.contains('/') {
            return Ok(Target::Unix(PathBuf::from(text)));
        }
        let address = tcp.unwrap_or(text);
        let (host, port) = address.rsplit_once(':').ok_or_else(bad)?;
        let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        let port: u16 = port.parse().map_err(|_| bad())?;
        if host.is_empty() || port == 0 || (host.contains(':') && !address.starts_with('[')) {
            return Err(bad());
        }
        Ok(Target::Tcp { host: host.to_string(), port })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Unix(path) => write!(f, "unix:{}", path.display()),
            Target::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Target::Tcp { host, port } => write!(f, "{host}:{port}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_read_as_qmp_writes_them() {
        let unix = |p: &str| Ok(Target::Unix(PathBuf::from(p)));
        let tcp = |h: &str, port| Ok(Target::Tcp { host: h.to_string(), port });
        assert_eq!(Target::parse("unix:/tmp/q.sock"), unix("/tmp/q.sock"));
        assert_eq!(Target::parse("unix:q.sock"), unix("q.sock"));
        assert_eq!(Target::parse("/tmp/q.sock"), unix("/tmp/q.sock"));
        assert_eq!(Target::parse("./q.sock"), unix("./q.sock"));
        assert_eq!(Target::parse("localhost:4444"), tcp("localhost", 4444));
        assert_eq!(Target::parse("tcp:127.0.0.1:4444"), tcp("127.0.0.1", 4444));
        assert_eq!(Target::parse("[::1]:4444"), tcp("::1", 4444));
        for bad in ["q.sock", "unix:", "host:", ":4444", "host:x", "host:0", "::1:4444", "tcp:/x"] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Target::parse("[::1]:4444").unwrap().to_string(), "[::1]:4444");
        assert_eq!(Target::parse("/x").unwrap().to_string(), "unix:/x");
    }
}
