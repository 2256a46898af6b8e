//! The RFB handshake up to ClientInit: protocol version, security type,
//! VeNCrypt's TLS when the server has TLS, VNC authentication, and the
//! viewer's shared flag (RFC 6143 7.1-7.3.1).

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::server::TlsStream;
use tokio_util::either::Either;

use super::auth::{self, Backoff, CHALLENGE_LEN};
use super::settings::ServerSettings;
use super::vencrypt::{self, VENCRYPT, VencryptError, X509_NONE, X509_VNC};

/// The protocol versions served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    /// RFB 3.3: the server picks the security type.
    V3_3,
    /// RFB 3.7: the viewer picks; no failure reasons.
    V3_7,
    /// RFB 3.8: SecurityResult after every type, with reasons.
    V3_8,
}

impl Version {
    /// The version to speak with a viewer that announced `major.minor`: ours if
    /// it is ours, else the nearest lower one we have (RFC 6143 7.1.1; 3.4-3.6
    /// are 3.3). Nothing below 3.3.
    pub fn for_announced(major: u32, minor: u32) -> Option<Version> {
        match (major, minor) {
            (3, 8..) | (4.., _) => Some(Version::V3_8),
            (3, 7) => Some(Version::V3_7),
            (3, 3..=6) => Some(Version::V3_3),
            _ => None,
        }
    }
}

const SECURITY_NONE: u8 = 1;
const SECURITY_VNC_AUTH: u8 = 2;

/// Why a handshake failed; the connection is closed.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The viewer hung up or the transport failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Not `RFB xxx.yyy\n`.
    #[error("not an RFB version: {0:?}")]
    BadVersion(String),
    /// A version below 3.3.
    #[error("RFB version {0}.{1} is not supported")]
    OldVersion(u32, u32),
    /// The viewer chose a security type that was not offered.
    #[error("security type {0} was not offered")]
    SecurityTypeNotOffered(u8),
    /// Wrong password.
    #[error("authentication failed")]
    AuthenticationFailed,
    /// The viewer's address failed too often and must wait.
    #[error("too many authentication failures: refused for another {0:?}")]
    BackingOff(Duration),
    /// The handshake was not finished in time.
    #[error("handshake not finished within {0:?}")]
    TimedOut(Duration),
    /// A viewer offered only VeNCrypt chose another type, hung up, or speaks
    /// RFB 3.3 (where the server picks and VeNCrypt cannot be offered).
    #[error(
        "{0}; this server takes only VeNCrypt (TLS with X.509 certificates, tls-creds=): \
         a viewer that speaks it is needed (TigerVNC, virt-viewer, remote-viewer) or the wss:// port"
    )]
    NeedsTls(String),
    /// VeNCrypt failed: versions, subtype or the TLS handshake.
    #[error("{0}")]
    Vencrypt(#[from] VencryptError),
}

/// What the handshake settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agreed {
    /// The protocol version spoken.
    pub version: Version,
    /// The viewer authenticated with the view-only password.
    pub view_only: bool,
    /// ClientInit's shared flag.
    pub shared: bool,
}

/// The stream after the handshake: as it came, or inside VeNCrypt's TLS.
pub type Secured<S> = Either<S, TlsStream<S>>;

/// Runs the handshake on `stream` up to and including ClientInit, and returns
/// the stream the session goes on with (inside TLS after VeNCrypt).
/// `address` is what failed passwords are counted against. `secure` says the
/// transport is already encrypted (wss): the server's TLS, if any, is not
/// offered again as VeNCrypt, as QEMU does on its WebSocket port.
pub async fn negotiate<S>(
    mut stream: S,
    settings: &ServerSettings,
    backoff: &Backoff,
    address: &str,
    secure: bool,
) -> Result<(Agreed, Secured<S>), HandshakeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let password = settings.needs_password();
    let tls = settings.tls.as_ref().filter(|_| !secure);
    let offered = match (tls, password) {
        (Some(_), _) => VENCRYPT,
        (None, true) => SECURITY_VNC_AUTH,
        (None, false) => SECURITY_NONE,
    };
    let version = choose_security(&mut stream, offered, backoff, address).await?;
    let mut secured = match tls {
        Some(tls) => {
            let subtype = if password { X509_VNC } else { X509_NONE };
            Either::Right(vencrypt::negotiate(stream, subtype, tls).await?)
        }
        None => Either::Left(stream),
    };
    let stream = &mut secured;

    let mut view_only = false;
    if password {
        let challenge = auth::challenge();
        send(stream, &challenge).await?;
        let mut answer = [0u8; CHALLENGE_LEN];
        stream.read_exact(&mut answer).await?;
        let full =
            settings.password.as_ref().is_some_and(|p| auth::matches(p.as_bytes(), &challenge, &answer));
        view_only = !full
            && settings
                .view_only_password
                .as_ref()
                .is_some_and(|p| auth::matches(p.as_bytes(), &challenge, &answer));
        if !full && !view_only {
            backoff.failed(address);
            send(stream, &1u32.to_be_bytes()).await?;
            if version == Version::V3_8 {
                write_reason(stream, "authentication failed").await?;
            }
            return Err(HandshakeError::AuthenticationFailed);
        }
        backoff.succeeded(address);
        send(stream, &0u32.to_be_bytes()).await?;
    } else if version == Version::V3_8 || tls.is_some() {
        // VeNCrypt's X509None always ends with a SecurityResult (QEMU's way).
        send(stream, &0u32.to_be_bytes()).await?;
    }

    let shared = stream.read_u8().await? != 0;
    Ok((Agreed { version, view_only, shared }, secured))
}

/// The protocol version and the security type: `offered` is the only one
/// offered, and the viewer must choose it. Returns the version spoken.
async fn choose_security<S>(
    stream: &mut S,
    offered: u8,
    backoff: &Backoff,
    address: &str,
) -> Result<Version, HandshakeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    send(stream, b"RFB 003.008\n").await?;
    let mut announced = [0u8; 12];
    stream.read_exact(&mut announced).await?;
    let version = parse_version(&announced)?;
    if let Some(wait) = backoff.wait_for(address) {
        let reason = format!("too many authentication failures; try again in {} s", wait.as_secs() + 1);
        // 3.3 says "failed" with a security type of 0, later versions with no types.
        if version == Version::V3_3 {
            send(stream, &0u32.to_be_bytes()).await?;
        } else {
            send(stream, &[0]).await?;
        }
        write_reason(stream, &reason).await?;
        return Err(HandshakeError::BackingOff(wait));
    }
    if version == Version::V3_3 && offered == VENCRYPT {
        let reason = "VeNCrypt (TLS) needs RFB 3.7 or later";
        send(stream, &0u32.to_be_bytes()).await?;
        write_reason(stream, reason).await?;
        return Err(HandshakeError::NeedsTls(format!("the viewer speaks RFB 3.3, and {reason}")));
    }
    if version == Version::V3_3 {
        send(stream, &u32::from(offered).to_be_bytes()).await?;
    } else {
        send(stream, &[1, offered]).await?;
        let chosen = match stream.read_u8().await {
            Ok(chosen) => chosen,
            Err(e) if offered == VENCRYPT && e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(HandshakeError::NeedsTls(
                    "the viewer hung up when offered only VeNCrypt (security type 19)".to_string(),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        if chosen != offered {
            if version == Version::V3_8 {
                send(stream, &1u32.to_be_bytes()).await?;
                write_reason(stream, &format!("security type {chosen} was not offered")).await?;
            }
            if offered == VENCRYPT {
                return Err(HandshakeError::NeedsTls(format!(
                    "the viewer chose security type {chosen}, not VeNCrypt (19)"
                )));
            }
            return Err(HandshakeError::SecurityTypeNotOffered(chosen));
        }
    }
    Ok(version)
}

fn parse_version(announced: &[u8; 12]) -> Result<Version, HandshakeError> {
    let bad = || HandshakeError::BadVersion(String::from_utf8_lossy(announced).into_owned());
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let s = std::str::from_utf8(&announced[range]).ok()?;
        s.bytes().all(|b| b.is_ascii_digit()).then(|| s.parse().ok())?
    };
    if &announced[..4] != b"RFB " || announced[7] != b'.' || announced[11] != b'\n' {
        return Err(bad());
    }
    let (major, minor) = (digits(4..7).ok_or_else(bad)?, digits(8..11).ok_or_else(bad)?);
    Version::for_announced(major, minor).ok_or(HandshakeError::OldVersion(major, minor))
}

/// A failure reason: a length, then the text.
async fn write_reason<S: AsyncWrite + Unpin>(stream: &mut S, reason: &str) -> std::io::Result<()> {
    let mut message = (reason.len() as u32).to_be_bytes().to_vec();
    message.extend_from_slice(reason.as_bytes());
    send(stream, &message).await
}

/// Writes and flushes: the viewer answers only what reached it, and a
/// WebSocket transport holds writes until flushed.
pub(crate) async fn send<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) -> std::io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announced_versions_map_to_the_nearest_lower_one() {
        let v = |s: &[u8; 12]| parse_version(s).ok();
        assert_eq!(v(b"RFB 003.008\n"), Some(Version::V3_8));
        assert_eq!(v(b"RFB 003.889\n"), Some(Version::V3_8));
        assert_eq!(v(b"RFB 004.001\n"), Some(Version::V3_8));
        assert_eq!(v(b"RFB 003.007\n"), Some(Version::V3_7));
        assert_eq!(v(b"RFB 003.005\n"), Some(Version::V3_3));
        assert_eq!(v(b"RFB 003.002\n"), None);
        assert_eq!(v(b"RFB 00x.008\n"), None);
        assert_eq!(v(b"GET / HTTP/1"), None);
    }
}
