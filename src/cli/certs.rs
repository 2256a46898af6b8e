//! `vcmux certs DIR [--name NAME]... [--client NAME]`: a CA, a server
//! certificate and a client certificate in QEMU's layout, for
//! `-object tls-creds-x509,dir=DIR` and the viewers that trust it.

use std::path::PathBuf;

use clap::Args;

use crate::tls::{self, TlsError};

/// `vcmux certs`'s arguments.
#[derive(Debug, Args)]
#[command(
    about = "Write a CA, a server certificate and a client certificate in QEMU's layout",
    long_about = "Writes into DIR (made if missing; no file is ever overwritten):\n  \
ca-cert.pem                      the CA: give it to viewers (TigerVNC: -X509CA=DIR/ca-cert.pem)\n  \
server-cert.pem, server-key.pem  the server's, for the names given with --name\n  \
client-cert.pem, client-key.pem  a client's, for verify-peer=on (virt-viewer, remote-viewer)\n\
The CA's key is not kept: run again for new certificates. Serve with\n  \
vcmux -object tls-creds-x509,id=tls0,dir=DIR,endpoint=server,verify-peer=off -vnc :0,tls-creds=tls0"
)]
pub struct CertsArgs {
    /// The directory to write into.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// A host name or IP address viewers reach the server by, repeatable
    /// (default: localhost, 127.0.0.1, ::1 and this machine's host name).
    #[arg(long = "name", value_name = "NAME")]
    pub names: Vec<String>,
    /// The client certificate's common name.
    #[arg(long = "client", value_name = "NAME", default_value = "vcmux client")]
    pub client: String,
}

/// Writes the certificates and prints what was written, one file a line,
/// then the server certificate's SHA-256 fingerprint and pin-sha256.
pub fn run(args: &CertsArgs) -> Result<String, TlsError> {
    let names = if args.names.is_empty() { default_names() } else { args.names.clone() };
    let issued = tls::issue::write(&args.dir, &names, &args.client)?;
    let mut out: Vec<String> = issued.files.iter().map(|f| f.display().to_string()).collect();
    out.push(format!("server certificate for {}", names.join(", ")));
    out.push(format!("SHA-256 fingerprint {}", issued.server.fingerprint));
    out.push(format!("pin-sha256 {}", issued.server.pin_sha256));
    Ok(out.join("\n"))
}

/// The names a server on this machine is reached by.
fn default_names() -> Vec<String> {
    let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
    if let Ok(host) = nix::unistd::gethostname()
        && let Some(host) = host.to_str().filter(|h| !h.is_empty() && *h != "localhost")
    {
        names.push(host.to_string());
    }
    names
}
