//! Server credentials: QEMU's `tls-creds-x509` directory ([`load`]) or a
//! certificate made at start-up ([`self_signed`]), each a rustls
//! `ServerConfig` the VNC server accepts TLS with.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::verify_server_cert_signed_by_trust_anchor;
use rustls::pki_types::UnixTime;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ParsedCertificate, WebPkiClientVerifier};
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
    let cert_path = dir.join(SERVER_CERT);
    let key_path = dir.join(SERVER_KEY);
    let ca = read_certificates(&ca_path)?;
    let chain = read_certificates(&cert_path)?;
    let key = read_key(&key_path)?;
    let provider = provider();
    let mut roots = RootCertStore::empty();
    for certificate in ca {
        roots
            .add(certificate)
            .map_err(|e| pem_error(&ca_path, format!("not a usable CA certificate: {e}")))?;
    }
    // The key first: a key type nothing here signs with is the reason, even
    // when the certificates are signed with that type too.
    provider.key_provider.load_private_key(key.clone_key()).map_err(|_| {
        // rustls's reason ("failed to parse private key as RSA, ECDSA, or
        // EdDSA") says less than what can be used instead.
        pem_error(
            &key_path,
            "a key vcmux cannot sign with (RSA of 2048 bits or more, ECDSA P-256 or P-384, or Ed25519 can)"
                .to_string(),
        )
    })?;
    check_chain(&chain, &roots, &cert_path, &ca_path)?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| rejected("the TLS protocol versions", e))?;
    let builder = if verify_peer {
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| rejected(format!("client certificates signed by {}", ca_path.display()), e))?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let config = builder.with_single_cert(chain, key).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => {
            pem_error(&key_path, format!("not the key of the certificate in {}", cert_path.display()))
        }
        other => rejected(format!("{} with {}", cert_path.display(), key_path.display()), other),
    })?;
    Ok(without_tickets(config))
}

/// Refuses, as QEMU does at start-up, a server certificate a viewer
/// trusting the CA would refuse: not signed (through the intermediates
/// after it in `server-cert.pem`) by a certificate in `ca-cert.pem`,
/// expired or not valid yet, or not for TLS servers. Better one line now
/// than every viewer failing later with a reason only the viewer shows.
fn check_chain(
    chain: &[CertificateDer<'static>],
    roots: &RootCertStore,
    cert_path: &Path,
    ca_path: &Path,
) -> Result<(), TlsError> {
    use rustls::CertificateError as E;
    let Some((server, intermediates)) = chain.split_first() else {
        return Err(pem_error(cert_path, "no certificate in it".to_string()));
    };
    let parsed = ParsedCertificate::try_from(server).map_err(|e| {
        // webpki's reason comes wrapped in rustls's `Other`: its name is what there is to match.
        let why = if format!("{e:?}").contains("UnsupportedCertVersion") {
            "an X.509 version 1 certificate; rustls takes version 3 only (openssl x509 -req makes version 3 when given an -extfile, e.g. with a subjectAltName)".to_string()
        } else {
            format!("not a certificate vcmux can read: {e}")
        };
        pem_error(cert_path, why)
    })?;
    let algorithms = provider().signature_verification_algorithms.all;
    let now = UnixTime::now();
    let Err(e) = verify_server_cert_signed_by_trust_anchor(&parsed, roots, intermediates, now, algorithms)
    else {
        return Ok(());
    };
    let why = match e {
        rustls::Error::InvalidCertificate(E::ExpiredContext { not_after, .. }) => {
            format!("expired on {}", date(not_after))
        }
        rustls::Error::InvalidCertificate(E::Expired) => "expired".to_string(),
        rustls::Error::InvalidCertificate(E::NotValidYet | E::NotValidYetContext { .. }) => {
            "not valid yet".to_string()
        }
        rustls::Error::InvalidCertificate(E::UnknownIssuer) => format!(
            "not signed by a certificate in {} (intermediate CAs go in this file after the server's own)",
            ca_path.display()
        ),
        rustls::Error::InvalidCertificate(E::BadSignature) => format!(
            "its signature does not verify with {} (another CA of the same name signed it?)",
            ca_path.display()
        ),
        rustls::Error::InvalidCertificate(
            E::UnsupportedSignatureAlgorithmContext { .. }
            | E::UnsupportedSignatureAlgorithmForPublicKeyContext { .. },
        ) => {
            "signed with an algorithm vcmux cannot check (RSA, ECDSA P-256 or P-384, Ed25519 can)".to_string()
        }
        rustls::Error::InvalidCertificate(E::InvalidPurpose | E::InvalidPurposeContext { .. }) => {
            "not a TLS server certificate (its extended key usage lacks serverAuth)".to_string()
        }
        other => format!("refused with {}: {other}", ca_path.display()),
    };
    Err(pem_error(cert_path, why))
}

/// A certificate's notAfter as `2026-12-05 22:01:15 UTC`.
fn date(t: UnixTime) -> String {
    let secs = i64::try_from(t.as_secs()).unwrap_or(i64::MAX);
    match time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => format!("{secs} s after 1970"),
    }
}

/// A certificate made now for `names` (host names or addresses), signed by
/// its own key and kept in memory only: the server's configuration, and the
/// certificate's SHA-256 fingerprint for a viewer's user to compare with
/// what the viewer shows.
pub fn self_signed(names: Vec<String>) -> Result<(Arc<ServerConfig>, Identity), TlsError> {
    let made = rcgen::generate_simple_self_signed(names)?;
    let certificate = made.cert.der().clone();
    let identity = Identity::of(&certificate)?;
    let key = PrivateKeyDer::Pkcs8(made.signing_key.serialize_der().into());
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| rejected("the TLS protocol versions", e))?
        .with_no_client_auth()
        .with_single_cert(vec![certificate], key)
        .map_err(|e| rejected("the self-signed certificate", e))?;
    Ok((without_tickets(config), identity))
}

/// What a viewer's user compares, over another channel, before trusting a
/// certificate no CA of theirs signed: the two digests viewers and browsers
/// show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// SHA-256 of the whole certificate, as [`fingerprint`] writes it
    /// (browsers' certificate viewers, `openssl x509 -fingerprint -sha256`).
    pub fingerprint: String,
    /// `pin-sha256`: base64 of the SHA-256 of the certificate's
    /// SubjectPublicKeyInfo (HPKP's pin, what `curl --pinnedpubkey
    /// sha256//…` takes and the README's openssl line prints). It stays the
    /// same when a certificate is renewed for the same key.
    pub pin_sha256: String,
}

impl Identity {
    /// Both digests of `certificate`.
    pub fn of(certificate: &CertificateDer<'_>) -> Result<Identity, TlsError> {
        use base64::Engine;
        let parsed = ParsedCertificate::try_from(certificate).map_err(|e| rejected("a certificate", e))?;
        let spki = Sha256::digest(parsed.subject_public_key_info().as_ref());
        let pin_sha256 = base64::engine::general_purpose::STANDARD.encode(spki);
        Ok(Identity { fingerprint: fingerprint(certificate), pin_sha256 })
    }
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
        rustls::pki_types::pem::Error::NoItemsFound if contains(&pem, b"ENCRYPTED PRIVATE KEY") => pem_error(
            path,
            "an encrypted key: vcmux asks no passphrase; write it unencrypted (`openssl pkey -in FILE -out FILE`, mode 0600)"
                .to_string(),
        ),
        rustls::pki_types::pem::Error::NoItemsFound => {
            pem_error(path, "no private key (-----BEGIN … PRIVATE KEY-----) in it".to_string())
        }
        other => pem_error(path, other.to_string()),
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
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
    fn a_self_signed_certificate_has_a_sha256_fingerprint_and_pin() {
        let (_, identity) = self_signed(vec!["localhost".into()]).unwrap();
        assert_eq!(identity.pin_sha256.len(), 44, "{identity:?}");
        assert!(identity.pin_sha256.ends_with('='), "{identity:?}");
        let fingerprint = identity.fingerprint;
        assert_eq!(fingerprint.len(), 32 * 3 - 1);
        assert!(fingerprint.split(':').all(|b| b.len() == 2 && u8::from_str_radix(b, 16).is_ok()));
    }
}
