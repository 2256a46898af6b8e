//! VeNCrypt (security type 19, version 0.2), as QEMU's VNC server speaks it:
//! exactly one subtype offered, X509None (260) on a server without a
//! password and X509Vnc (261) on one with a password (never X509None there:
//! it would skip the password). After the subtype is acknowledged, TLS
//! begins; what follows (VNC authentication, ClientInit, the session) is
//! inside it.
//!
//! The anonymous subtypes (TLSNone, TLSVnc: Diffie-Hellman without a
//! certificate) are not offered: nothing authenticates the server, so a man
//! in the middle reads everything.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::server::TlsStream;

use super::settings::Tls;

/// The RFB security type.
pub const VENCRYPT: u8 = 19;
/// TLS with the server's X.509 certificate, then no authentication.
pub const X509_NONE: u32 = 260;
/// TLS with the server's X.509 certificate, then VNC authentication inside.
pub const X509_VNC: u32 = 261;

/// Why VeNCrypt did not end in a TLS session.
#[derive(Debug, thiserror::Error)]
pub enum VencryptError {
    /// The viewer hung up or the transport failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The viewer wants a VeNCrypt version other than 0.2.
    #[error("VeNCrypt version {0}.{1} is not 0.2")]
    Version(u8, u8),
    /// The viewer chose a subtype that was not offered.
    #[error("VeNCrypt subtype {chosen} was chosen; only {offered} ({}) is offered", name(*offered))]
    Subtype {
        /// What it chose.
        chosen: u32,
        /// What was offered.
        offered: u32,
    },
    /// The TLS handshake failed: a viewer that distrusts the certificate
    /// (a wrong CA) or shows none (mutual TLS) ends up here.
    #[error("TLS handshake failed: {0}")]
    Tls(std::io::Error),
}

/// The subtype's name, as viewers' options spell it.
pub fn name(subtype: u32) -> &'static str {
    match subtype {
        X509_NONE => "X509None",
        X509_VNC => "X509Vnc",
        _ => "unknown",
    }
}

/// Runs VeNCrypt after the viewer chose security type 19: versions,
/// `subtype` offered and acknowledged, then the TLS handshake. Returns the
/// TLS stream the rest of the handshake runs inside.
pub async fn negotiate<S>(mut stream: S, subtype: u32, tls: &Tls) -> Result<TlsStream<S>, VencryptError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    send(&mut stream, &[0, 2]).await?;
    let mut version = [0u8; 2];
    stream.read_exact(&mut version).await?;
    if version != [0, 2] {
        send(&mut stream, &[1]).await?;
        return Err(VencryptError::Version(version[0], version[1]));
    }
    let mut offer = vec![0, 1];
    offer.extend_from_slice(&subtype.to_be_bytes());
    send(&mut stream, &offer).await?;
    let chosen = stream.read_u32().await?;
    if chosen != subtype {
        send(&mut stream, &[0]).await?;
        return Err(VencryptError::Subtype { chosen, offered: subtype });
    }
    send(&mut stream, &[1]).await?;
    tls.acceptor().accept(stream).await.map_err(VencryptError::Tls)
}

/// The subject of the certificate the viewer showed in this TLS session
/// (`verify-peer=on` asks for one; the CA was checked), in RFC 4514's
/// attribute names and the certificate's order (`C=…, O=…, CN=…`): what
/// QEMU calls the client's `x509_dname`. `None` if it showed none.
pub fn peer_subject<S>(tls: &TlsStream<S>) -> Option<String> {
    let first = tls.get_ref().1.peer_certificates()?.first()?;
    let (_, certificate) = x509_parser::parse_x509_certificate(first.as_ref()).ok()?;
    Some(certificate.subject().to_string())
}

/// Writes and flushes: the viewer answers only what reached it.
async fn send<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) -> std::io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}
