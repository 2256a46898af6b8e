//! TLS for the VNC server, with rustls over ring (no OpenSSL): QEMU's
//! `tls-creds-x509` directory read into a server configuration, a
//! self-signed certificate made at start-up for `tls-creds=auto`
//! ([`creds`]), and a CA with a server and a client certificate written in
//! QEMU's layout for `vcmux certs` ([`issue`]).
//!
//! It imports nothing of vcmux. `launch` turns a `-vnc …,tls-creds=` into a
//! `rustls::ServerConfig` here and hands it to the RFB server, which speaks
//! VeNCrypt and wss with it and never learns where the files were.

pub mod creds;
mod error;
pub mod issue;

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

pub use error::TlsError;

/// The cryptography under rustls: *ring*, which builds with a C compiler
/// alone (aws-lc-rs needs more of the build machine). rustls 0.23.48
/// deprecates it for lacking post-quantum key exchange (X25519MLKEM768);
/// its classic suites (TLS 1.3 and 1.2, X25519 and ECDHE) are what VNC
/// viewers speak. Moving to aws-lc-rs is this function and the features in
/// Cargo.toml.
pub fn provider() -> Arc<CryptoProvider> {
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    Arc::new(provider)
}

/// The CA's certificate in a credentials directory (QEMU's name): it signs
/// the server's certificate, and the clients' when peers are verified.
pub const CA_CERT: &str = "ca-cert.pem";
/// The server's certificate chain (QEMU's name).
pub const SERVER_CERT: &str = "server-cert.pem";
/// The server's private key (QEMU's name).
pub const SERVER_KEY: &str = "server-key.pem";
/// A client's certificate, as QEMU's client side names it.
pub const CLIENT_CERT: &str = "client-cert.pem";
/// A client's private key, as QEMU's client side names it.
pub const CLIENT_KEY: &str = "client-key.pem";
