//! The `-object` option, in QEMU's syntax, for the one kind vcmux uses:
//! `-object tls-creds-x509,id=ID,dir=DIR,endpoint=server[,verify-peer=on|off]`,
//! TLS credentials a `-vnc …,tls-creds=ID` serves with. The files are read
//! when vcmux starts (`launch`), not here.

use std::path::PathBuf;

use super::error::ConfigError;
use super::opts::Opts;

/// One `-object tls-creds-x509`: where the credentials are and whether
/// clients must show a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsCredsConfig {
    /// Its id, which `tls-creds=` names.
    pub id: String,
    /// The directory with QEMU's file names: `ca-cert.pem`,
    /// `server-cert.pem`, `server-key.pem`.
    pub dir: PathBuf,
    /// `verify-peer=on` (QEMU's default): clients must show a certificate
    /// the CA signed (mutual TLS).
    pub verify_peer: bool,
}

/// Parses one `-object`.
pub(super) fn parse(text: &str) -> Result<TlsCredsConfig, ConfigError> {
    let opts = Opts::parse("-object", text, "qom-type")?;
    let kind = opts.required("qom-type")?;
    if kind != "tls-creds-x509" {
        return Err(opts.error(format!("'{kind}': the only object vcmux knows is tls-creds-x509")));
    }
    let id = opts.string("id")?.ok_or_else(|| opts.error("'id=' is required"))?;
    let dir = opts.path("dir")?.ok_or_else(|| opts.error("'dir=' is required"))?;
    match opts.string("endpoint")?.as_deref() {
        Some("server") => {}
        Some(other) => {
            return Err(opts.error(format!("'endpoint={other}': vcmux's VNC server needs endpoint=server")));
        }
        // QEMU's default is client, which its VNC server refuses too.
        None => return Err(opts.error("'endpoint=server' is required (QEMU's default is client)")),
    }
    let verify_peer = opts.flag("verify-peer")?.unwrap_or(true);
    opts.finish("-object tls-creds-x509", &["qom-type", "id", "dir", "endpoint", "verify-peer"])?;
    Ok(TlsCredsConfig { id, dir, verify_peer })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_syntax_is_read_and_mistakes_named() {
        let c = parse("tls-creds-x509,id=tls0,dir=/etc/pki/vcmux,endpoint=server").unwrap();
        assert_eq!(c, TlsCredsConfig { id: "tls0".into(), dir: "/etc/pki/vcmux".into(), verify_peer: true });
        let c = parse("tls-creds-x509,id=t,dir=d,endpoint=server,verify-peer=off").unwrap();
        assert!(!c.verify_peer);
        let e = |t| parse(t).unwrap_err().to_string();
        assert!(e("tls-creds-anon,id=t,endpoint=server").contains("tls-creds-x509"));
        assert!(e("tls-creds-x509,id=t,dir=d").contains("endpoint=server"));
        assert!(e("tls-creds-x509,id=t,dir=d,endpoint=client").contains("endpoint=client"));
        assert!(e("tls-creds-x509,dir=d,endpoint=server").contains("'id=' is required"));
        assert!(e("tls-creds-x509,id=t,endpoint=server").contains("'dir=' is required"));
        assert!(e("tls-creds-x509,id=t,dir=d,endpoint=server,priority=x").contains("priority"));
    }
}
