//! `vcmux certs DIR`: a new CA, a server certificate it signs for the names
//! the server is reached by, and a client certificate it signs, written in
//! QEMU's layout, so that `-object tls-creds-x509,dir=DIR` reads them as
//! they are and a viewer is handed `ca-cert.pem` (and, for mutual TLS,
//! `client-cert.pem` and `client-key.pem`).
//!
//! The CA's key is not written: nothing more can be signed with it, so a
//! stolen directory cannot mint certificates. Run it again for new ones.

use std::io::Write;
use std::path::{Path, PathBuf};

use rand::Rng;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

use super::error::TlsError;
use super::{CA_CERT, CLIENT_CERT, CLIENT_KEY, SERVER_CERT, SERVER_KEY};

/// How long the certificates are valid: ten years, as `certtool` examples
/// in QEMU's documentation make them.
const VALIDITY: Duration = Duration::days(3650);

/// What [`write`] makes.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The files written, in the order written.
    pub files: Vec<PathBuf>,
    /// The server certificate's SHA-256 fingerprint and pin-sha256.
    pub server: super::creds::Identity,
}

/// Writes a CA, a server certificate for `names` (host names or IP
/// addresses; the first is also its common name) and a client certificate
/// named `client` into `dir`, made if missing. Existing files are never
/// overwritten: the first one found is the error. Keys are readable by
/// their owner only.
pub fn write(dir: &Path, names: &[String], client: &str) -> Result<Issued, TlsError> {
    let files = [CA_CERT, SERVER_CERT, SERVER_KEY, CLIENT_CERT, CLIENT_KEY].map(|f| dir.join(f));
    if let Some(existing) = files.iter().find(|f| f.exists()) {
        let cause = std::io::Error::new(std::io::ErrorKind::AlreadyExists, "it exists; nothing overwritten");
        return Err(TlsError::Write { path: existing.clone(), cause });
    }
    let now = OffsetDateTime::now_utc();
    let valid = |params: &mut CertificateParams| {
        params.not_before = now - Duration::days(1);
        params.not_after = now + VALIDITY;
    };

    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    valid(&mut ca_params);
    // A name of its own: viewers look a certificate's issuer up by name, and
    // two CAs of one name would make a stranger's certificate "badly signed"
    // rather than "of an unknown issuer".
    let mut tag = [0u8; 6];
    rand::rng().fill_bytes(&mut tag);
    let tag: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    ca_params.distinguished_name.push(DnType::CommonName, format!("vcmux CA {tag}"));
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let ca = Issuer::new(ca_params, ca_key);

    let mut server_params = CertificateParams::new(names.to_vec())?;
    valid(&mut server_params);
    if let Some(first) = names.first() {
        server_params.distinguished_name.push(DnType::CommonName, first.as_str());
    }
    server_params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_key = KeyPair::generate()?;
    let server_cert = server_params.signed_by(&server_key, &ca)?;

    let mut client_params = CertificateParams::new(Vec::<String>::new())?;
    valid(&mut client_params);
    client_params.distinguished_name.push(DnType::CommonName, client);
    client_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_key = KeyPair::generate()?;
    let client_cert = client_params.signed_by(&client_key, &ca)?;

    std::fs::create_dir_all(dir).map_err(|cause| TlsError::Write { path: dir.to_path_buf(), cause })?;
    let contents = [
        (ca_cert.pem(), false),
        (server_cert.pem(), false),
        (server_key.serialize_pem(), true),
        (client_cert.pem(), false),
        (client_key.serialize_pem(), true),
    ];
    for (path, (text, secret)) in files.iter().zip(contents) {
        create(path, text.as_bytes(), secret)?;
    }
    Ok(Issued { files: files.to_vec(), server: super::creds::Identity::of(server_cert.der())? })
}

/// Creates `path` (never replacing a file), mode 0600 for a key.
fn create(path: &Path, bytes: &[u8], secret: bool) -> Result<(), TlsError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mode = if secret { 0o600 } else { 0o644 };
    let fail = |cause| TlsError::Write { path: path.to_path_buf(), cause };
    let mut file =
        std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(path).map_err(fail)?;
    file.write_all(bytes).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_credentials_load_and_are_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let issued = write(dir.path(), &names, "colleague").unwrap();
        assert_eq!(issued.files.len(), 5);
        super::super::creds::load(dir.path(), true).unwrap();
        super::super::creds::load(dir.path(), false).unwrap();
        let e = write(dir.path(), &names, "colleague").unwrap_err().to_string();
        assert!(e.contains("ca-cert.pem") && e.contains("nothing overwritten"), "{e}");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(SERVER_KEY)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
