//! Server credentials: QEMU's `tls-creds-x509` directory ([`load`]) or a
//! certificate made at start-up ([`self_signed`]), each a rustls
//! `ServerConfig` the VNC server accepts TLS with.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use sha2::{Digest, Sha256};

use super::error::TlsError;
use super::{CA_CERT, SERVER_CERT, SERVER_KEY, provider};

/// Reads QEMU's layout in `dir` (`ca-cert.pem`, `server-cert.pem`,
/// `server-key.pem`, every one required, as QEMU does) into a server
/// configuration. With `verify_peer`, a client must show a certificate the
/// CA signed (mutual TLS); without, any client may complete the handshake
/// and the password (if any) is what keeps strangers out.
pub fn load(dir: &Path, verify_peer: bool) -> Result<Arc<ServerConfig>, TlsError> {
    let ca_path = dir.join(CA_CERT);
    let ca = read_certificates(&ca_path)?;
    let chain = read_certificates(&dir.join(SERVER_CERT))?;
    let key = read_key(&dir.join(SERVER_KEY))?;
    let provider = provider();
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| rejected("the TLS protocol versions", e))?;
    let builder = if verify_peer {
        let mut roots = RootCertStore::empty();
        for certificate in ca {
            roots.add(certificate).map_err(|e| rejected(format!("{}", ca_path.display()), e))?;
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| rejected(format!("client certificates signed by {}", ca_path.display()), e))?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let config = builder.with_single_cert(chain, key).map_err(|e| {
        rejected(format!("{} with {}", dir.join(SERVER_CERT).display(), dir.join(SERVER_KEY).display()), e)
    })?;
    Ok(without_tickets(config))
}

/// A certificate made now for `names` (host names or addresses), signed by
/// its own key and kept in memory only: the server's configuration, and the
/// certificate's SHA-256 fingerprint for a viewer's user to compare with
/// what the viewer shows.
pub fn self_signed(names: Vec<String>) -> Result<(Arc<ServerConfig>, String), TlsError> {
    let made = rcgen::generate_simple_self_signed(names)?;
    let certificate = made.cert.der().clone();
    let fingerprint = fingerprint(&certificate);
    let key = PrivateKeyDer::Pkcs8(made.signing_key.serialize_der().into());
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| rejected("the TLS protocol versions", e))?
        .with_no_client_auth()
        .with_single_cert(vec![certificate], key)
        .map_err(|e| rejected("the self-signed certificate", e))?;
    Ok((without_tickets(config), fingerprint))
}

/// No TLS 1.3 session tickets: a VNC viewer connects once and keeps the
/// session, so resumption buys nothing, and TigerVNC 1.12 (GnuTLS) hangs when
/// the tickets arrive with the first RFB bytes after the handshake: GnuTLS
/// holds the bytes in its buffer while the viewer waits for the socket.
fn without_tickets(mut config: ServerConfig) -> Arc<ServerConfig> {
    config.send_tls13_tickets = 0;
    Arc::new(config)
}

/// A certificate's SHA-256 fingerprint as browsers and `openssl x509
/// -fingerprint -sha256` show it: upper-case hex bytes joined by colons.
pub fn fingerprint(certificate: &CertificateDer<'_>) -> String {
    let digest = Sha256::digest(certificate.as_ref());
    digest.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// Every certificate in a PEM file; none is an error naming the file.
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(path)?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, e.to_string()))?;
    if certificates.is_empty() {
        return Err(pem_error(path, "no certificate (-----BEGIN CERTIFICATE-----) in it".to_string()));
    }
    Ok(certificates)
}

/// The private key in a PEM file (PKCS#8, PKCS#1 RSA or SEC1 EC).
fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read(path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => {
            pem_error(path, "no private key (-----BEGIN … PRIVATE KEY-----) in it".to_string())
        }
        other => pem_error(path, other.to_string()),
    })
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|cause| TlsError::Read { path: path.to_path_buf(), cause })
}

fn pem_error(path: &Path, what: String) -> TlsError {
    TlsError::Pem { path: PathBuf::from(path), what }
}

fn rejected(context: impl Into<String>, cause: impl std::fmt::Display) -> TlsError {
    TlsError::Rejected { context: context.into(), cause: cause.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = load(dir.path(), false).unwrap_err().to_string();
        assert!(e.contains(&dir.path().join(CA_CERT).display().to_string()), "{e}");
        std::fs::write(dir.path().join(CA_CERT), "not pem").unwrap();
        let e = load(dir.path(), false).unwrap_err().to_string();
        assert!(e.contains("ca-cert.pem: no certificate"), "{e}");
    }

    #[test]
    fn a_self_signed_certificate_has_a_sha256_fingerprint() {
        let (_, fingerprint) = self_signed(vec!["localhost".into()]).unwrap();
        assert_eq!(fingerprint.len(), 32 * 3 - 1);
        assert!(fingerprint.split(':').all(|b| b.len() == 2 && u8::from_str_radix(b, 16).is_ok()));
    }
}
