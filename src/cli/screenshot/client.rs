//! The RFB client of `vcmux screenshot`: just enough of a viewer to receive
//! one whole frame from any VNC server. Versions 3.3, 3.7 and 3.8; security
//! None or VNC authentication; pixels as ZRLE or Raw, in 32-bit `0x00RRGGBB`
//! words, whatever the server's own format; DesktopSize followed.
//!
//! It is our own rather than vnc-rs's because vnc-rs refuses any screen past
//! 8,294,400 pixels (a 4K monitor's) before the first pixel, and a vc may be
//! up to [`frame::MAX_PIXELS`]. Its bound is the same as a vc's: a server
//! with a larger screen is refused by name rather than allowed to make it
//! allocate what it likes.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufStream};

use super::error::ClientError;
use super::partial_frame::PartialFrame;
use super::zrle::Zrle;
use crate::frame::{self, Framebuffer, Rect};
use crate::rfb::auth;
use crate::rfb::encoding::number::{DESKTOP_SIZE, RAW, ZRLE};
use crate::rfb::pixel_format::PixelFormat;

/// Pseudo-encoding: no more rectangles in this update.
const LAST_RECT: i32 = -224;

/// Security types spoken.
const SECURITY_NONE: u32 = 1;
const SECURITY_VNC: u32 = 2;

/// The longest failure reason or desktop name read.
const MAX_TEXT: u32 = 64 * 1024;

/// Goes through the handshake on `stream` and receives updates until every
/// pixel of the screen has arrived; returns the frame.
pub async fn grab<S>(stream: S, password: Option<&str>) -> Result<Framebuffer, ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut stream = BufStream::new(stream);
    let minor = greet(&mut stream).await?;
    authenticate(&mut stream, minor, password).await?;
    // ClientInit: shared, so that other viewers stay.
    stream.write_all(&[1]).await?;
    stream.flush().await?;
    let (width, height) = server_init(&mut stream).await?;
    let mut frame_so_far = PartialFrame::new(width, height);

    let mut message = vec![0, 0, 0, 0];
    message.extend_from_slice(&PixelFormat::SERVER.to_bytes());
    let encodings = [ZRLE, RAW, DESKTOP_SIZE, LAST_RECT];
    message.extend_from_slice(&[2, 0]);
    message.extend_from_slice(&(encodings.len() as u16).to_be_bytes());
    for encoding in encodings {
        message.extend_from_slice(&encoding.to_be_bytes());
    }
    put_request(&mut message, false, &frame_so_far);
    stream.write_all(&message).await?;
    stream.flush().await?;

    let mut zrle = Zrle::new();
    loop {
        match stream.read_u8().await? {
            0 => {
                let resized = update(&mut stream, &mut frame_so_far, &mut zrle).await?;
                if frame_so_far.is_complete() {
                    return Ok(frame_so_far.frame);
                }
                // After a resize the whole new screen; otherwise what is still missing comes.
                let mut request = Vec::new();
                put_request(&mut request, !resized, &frame_so_far);
                stream.write_all(&request).await?;
                stream.flush().await?;
            }
            // SetColourMapEntries (not for a true-colour format, but harmless).
            1 => {
                let mut head = [0u8; 5];
                stream.read_exact(&mut head).await?;
                let colours = u16::from_be_bytes([head[3], head[4]]);
                skip(&mut stream, u64::from(colours) * 6).await?;
            }
            // Bell.
            2 => {}
            // ServerCutText.
            3 => {
                let mut pad = [0u8; 3];
                stream.read_exact(&mut pad).await?;
                let length = stream.read_u32().await?;
                skip(&mut stream, u64::from(length)).await?;
            }
            other => return Err(ClientError::Protocol(format!("unknown server message type {other}"))),
        }
    }
}

/// Reads the server's version and answers with the one spoken: 3.8 if it
/// has it, else 3.7, else 3.3. Returns the minor version.
async fn greet<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut BufStream<S>) -> Result<u8, ClientError> {
    let mut greeting = [0u8; 12];
    stream.read_exact(&mut greeting).await?;
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        std::str::from_utf8(&greeting[range]).ok()?.parse().ok()
    };
    let version = (greeting.starts_with(b"RFB ") && greeting[7] == b'.' && greeting[11] == b'\n')
        .then(|| Some((number(4..7)?, number(8..11)?)))
        .flatten();
    let Some(version) = version else {
        return Err(ClientError::NotRfb(String::from_utf8_lossy(&greeting).into_owned()));
    };
    let minor = match version {
        v if v >= (3, 8) => 8,
        v if v >= (3, 7) => 7,
        _ => 3,
    };
    stream.write_all(format!("RFB 003.00{minor}\n").as_bytes()).await?;
    stream.flush().await?;
    Ok(minor)
}

/// Picks None if offered, else VNC authentication, and goes through it.
async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufStream<S>,
    minor: u8,
    password: Option<&str>,
) -> Result<(), ClientError> {
    let chosen = if minor == 3 {
        // 3.3: the server decides.
        match stream.read_u32().await? {
            0 => return Err(ClientError::Refused(reason(stream).await?)),
            chosen @ (SECURITY_NONE | SECURITY_VNC) => chosen,
            other => return Err(ClientError::NoSecurityType(vec![other])),
        }
    } else {
        let count = stream.read_u8().await?;
        if count == 0 {
            return Err(ClientError::Refused(reason(stream).await?));
        }
        let mut offered = vec![0u8; usize::from(count)];
        stream.read_exact(&mut offered).await?;
        let offered: Vec<u32> = offered.into_iter().map(u32::from).collect();
        let chosen = [SECURITY_NONE, SECURITY_VNC]
            .into_iter()
            .find(|t| offered.contains(t))
            .ok_or(ClientError::NoSecurityType(offered))?;
        stream.write_all(&[chosen as u8]).await?;
        stream.flush().await?;
        chosen
    };
    if chosen == SECURITY_VNC {
        let password = password.ok_or(ClientError::NeedsPassword)?;
        let mut challenge = [0u8; auth::CHALLENGE_LEN];
        stream.read_exact(&mut challenge).await?;
        stream.write_all(&auth::response(password.as_bytes(), &challenge)).await?;
        stream.flush().await?;
    }
    // SecurityResult: always in 3.8, after VNC authentication only before.
    if (minor == 8 || chosen == SECURITY_VNC) && stream.read_u32().await? != 0 {
        let why = if minor == 8 { reason(stream).await? } else { "the server gave no reason".to_string() };
        return Err(ClientError::AuthenticationFailed(why));
    }
    Ok(())
}

/// A failure reason: a length, then the text, made one line.
async fn reason<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut BufStream<S>) -> Result<String, ClientError> {
    let text = text(stream).await?;
    Ok(String::from_utf8_lossy(&text).split_whitespace().collect::<Vec<_>>().join(" "))
}

/// A length, then that many bytes (at most [`MAX_TEXT`]).
async fn text<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut BufStream<S>) -> Result<Vec<u8>, ClientError> {
    let length = stream.read_u32().await?;
    if length > MAX_TEXT {
        return Err(ClientError::Protocol(format!("a text of {length} bytes")));
    }
    let mut text = vec![0u8; length as usize];
    stream.read_exact(&mut text).await?;
    Ok(text)
}

/// ServerInit: the screen's size (checked), its format and name (not needed).
async fn server_init<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufStream<S>,
) -> Result<(u16, u16), ClientError> {
    let width = stream.read_u16().await?;
    let height = stream.read_u16().await?;
    let mut format = [0u8; 16];
    stream.read_exact(&mut format).await?;
    text(stream).await?;
    check_size(width, height)?;
    Ok((width, height))
}

/// A screen size the server gives: not empty, within the bound.
fn check_size(width: u16, height: u16) -> Result<(), ClientError> {
    if width == 0 || height == 0 {
        return Err(ClientError::Protocol(format!("the server's screen is empty ({width}x{height})")));
    }
    if !frame::fits(width.into(), height.into()) {
        return Err(ClientError::TooLarge { width, height });
    }
    Ok(())
}

/// Appends a FramebufferUpdateRequest for the whole screen.
fn put_request(message: &mut Vec<u8>, incremental: bool, frame_so_far: &PartialFrame) {
    message.extend_from_slice(&[3, u8::from(incremental), 0, 0, 0, 0]);
    message.extend_from_slice(&frame_so_far.frame.width().to_be_bytes());
    message.extend_from_slice(&frame_so_far.frame.height().to_be_bytes());
}

/// Reads and drops `length` bytes.
async fn skip<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufStream<S>,
    length: u64,
) -> Result<(), ClientError> {
    let skipped = tokio::io::copy(&mut (&mut *stream).take(length), &mut tokio::io::sink()).await?;
    if skipped < length {
        return Err(ClientError::Closed);
    }
    Ok(())
}

/// One FramebufferUpdate (its message type read): paints its rectangles on
/// `frame_so_far`. Returns whether the screen was resized.
async fn update<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufStream<S>,
    frame_so_far: &mut PartialFrame,
    zrle: &mut Zrle,
) -> Result<bool, ClientError> {
    stream.read_u8().await?;
    let count = stream.read_u16().await?;
    let mut resized = false;
    for _ in 0..count {
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        let at = |i: usize| u16::from_be_bytes([head[i], head[i + 1]]);
        let rect = Rect::new(at(0), at(2), at(4), at(6));
        match i32::from_be_bytes([head[8], head[9], head[10], head[11]]) {
            LAST_RECT => break,
            DESKTOP_SIZE => {
                check_size(rect.width, rect.height)?;
                *frame_so_far = PartialFrame::new(rect.width, rect.height);
                resized = true;
            }
            RAW => {
                frame_so_far.check(rect)?;
                let width = usize::from(rect.width);
                let mut bytes = vec![0u8; width * 4];
                let mut row = Vec::with_capacity(width);
                for y in 0..usize::from(rect.height) {
                    stream.read_exact(&mut bytes).await?;
                    row.clear();
                    row.extend(bytes.chunks_exact(4).map(|p| u32::from_le_bytes([p[0], p[1], p[2], 0])));
                    frame_so_far.paint(usize::from(rect.x), usize::from(rect.y) + y, width, &row);
                }
            }
            ZRLE => {
                frame_so_far.check(rect)?;
                let length = stream.read_u32().await? as usize;
                if length > Zrle::max_compressed(rect) {
                    return Err(ClientError::Protocol(format!(
                        "{length} bytes of ZRLE for a {}x{} rectangle",
                        rect.width, rect.height
                    )));
                }
                let mut compressed = vec![0u8; length];
                stream.read_exact(&mut compressed).await?;
                zrle.decode(rect, &compressed, frame_so_far)?;
            }
            other => {
                return Err(ClientError::Protocol(format!(
                    "the server sent encoding {other}, which was not asked for"
                )));
            }
        }
    }
    Ok(resized)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `grab` against a server that says `said` and then hangs up;
    /// returns what `grab` made of it and what the client wrote.
    async fn against(said: Vec<u8>, password: Option<&str>) -> (Result<Framebuffer, ClientError>, Vec<u8>) {
        let (client, mut server) = tokio::io::duplex(1 << 20);
        let serving = tokio::spawn(async move {
            server.write_all(&said).await.unwrap();
            server.shutdown().await.unwrap();
            let mut heard = Vec::new();
            let _ = server.read_to_end(&mut heard).await;
            heard
        });
        let grabbed = grab(client, password).await;
        (grabbed, serving.await.unwrap())
    }

    fn server_init(width: u16, height: u16) -> Vec<u8> {
        let mut init = width.to_be_bytes().to_vec();
        init.extend_from_slice(&height.to_be_bytes());
        init.extend_from_slice(&PixelFormat::SERVER.to_bytes());
        init.extend_from_slice(&[0, 0, 0, 4]);
        init.extend_from_slice(b"test");
        init
    }

    /// An update of one 2x1 Raw rectangle at (`x`, 0), then a Bell and a cut text before it.
    fn raw_update(x: u16, pixels: [u32; 2]) -> Vec<u8> {
        let mut m = vec![2, 3, 0, 0, 0, 0, 0, 0, 2, b'h', b'i'];
        m.extend_from_slice(&[0, 0, 0, 1]);
        m.extend_from_slice(&x.to_be_bytes());
        m.extend_from_slice(&[0, 0, 0, 2, 0, 1, 0, 0, 0, 0]);
        for p in pixels {
            m.extend_from_slice(&(p | 0xff00_0000).to_le_bytes());
        }
        m
    }

    #[tokio::test]
    async fn version_3_3_with_vnc_authentication_and_raw_pixels() {
        let mut said = b"RFB 003.003\n".to_vec();
        said.extend_from_slice(&2u32.to_be_bytes());
        said.extend_from_slice(&[7; 16]);
        said.extend_from_slice(&0u32.to_be_bytes());
        said.extend(server_init(4, 1));
        said.extend(raw_update(0, [0x112233, 0x445566]));
        said.extend(raw_update(2, [0x778899, 0xaabbcc]));
        let (frame, heard) = against(said, Some("secret")).await;
        assert_eq!(frame.unwrap().pixels(), [0x112233, 0x445566, 0x778899, 0xaabbcc]);
        assert!(heard.starts_with(b"RFB 003.003\n"));
        assert_eq!(&heard[12..28], auth::response(b"secret", &[7; 16]));
        assert_eq!(heard[28], 1, "shared");
    }

    #[tokio::test]
    async fn a_resize_starts_the_frame_again() {
        let mut said = b"RFB 003.008\n".to_vec();
        said.extend_from_slice(&[2, 19, 1, 0, 0, 0, 0]);
        said.extend(server_init(4, 1));
        said.extend(raw_update(0, [1, 2]));
        // DesktopSize 4x1: what was painted is gone.
        said.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 4, 0, 1, 0xff, 0xff, 0xff, 0x21]);
        said.extend(raw_update(2, [5, 6]));
        said.extend(raw_update(0, [3, 4]));
        let (frame, heard) = against(said, None).await;
        let frame = frame.unwrap();
        assert_eq!((frame.width(), frame.height()), (4, 1));
        assert_eq!(frame.pixels(), [3, 4, 5, 6]);
        assert_eq!(&heard[..13], b"RFB 003.008\n\x01", "None, of VeNCrypt and None");
    }

    #[tokio::test]
    async fn what_the_server_may_not_do_is_named() {
        let v38 = |rest: &[u8]| [b"RFB 003.008\n".as_slice(), rest].concat();
        let with_init = |width: u16, height: u16, rest: &[u8]| {
            [v38(&[1, 1, 0, 0, 0, 0]), server_init(width, height), rest.to_vec()].concat()
        };
        for (said, password, needle) in [
            (b"SSH-2.0-OpenSSH\r\n".to_vec(), None, "not a VNC server"),
            (v38(&[0, 0, 0, 0, 3, b'b', b'y', b'e']), None, "refused the connection: bye"),
            (v38(&[2, 18, 19]), None, "[18, 19]"),
            (v38(&[1, 2]), None, "--password-file"),
            (
                v38(&[
                    1, 2, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 0, 0, 0, 1, 0, 0, 0, 2, b'n', b'o',
                ]),
                Some("x"),
                "authentication failed: no",
            ),
            (with_init(8193, 10, &[]), None, "8193x10, past"),
            (with_init(7681, 4320, &[]), None, "7681x4320, past"),
            (with_init(0, 10, &[]), None, "empty"),
            (
                with_init(2, 1, &[0, 0, 0, 1, 0, 1, 0, 0, 0, 2, 0, 1, 0, 0, 0, 0]),
                None,
                "a 2x1 rectangle at (1, 0) on a 2x1 screen",
            ),
            (with_init(2, 1, &[0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 1, 0, 0, 0, 7]), None, "encoding 7"),
            (
                with_init(2, 1, &[0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 1, 0, 0, 0, 16, 0, 1, 0, 0]),
                None,
                "65536 bytes of ZRLE",
            ),
            (with_init(2, 1, &[9]), None, "message type 9"),
            (with_init(2, 1, &[0, 0, 0, 1]), None, "closed the connection"),
        ] {
            let (grabbed, _) = against(said, password).await;
            let message = grabbed.expect_err(needle).to_string();
            assert!(message.contains(needle) && !message.contains('\n'), "{message:?} lacks {needle:?}");
        }
    }
}
