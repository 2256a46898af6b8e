//! TLS end to end: the real binary serving a shell's vc with
//! `-object tls-creds-x509` made by `vcmux certs`, and a real TLS client
//! (rustls) in the test speaking VeNCrypt over a real socket, vnc-rs
//! carried inside the TLS session. What the viewer shows is compared with a
//! fresh render of the console log (what `vcmux render` makes of it); keys
//! typed reach the shell; a wrong CA, a missing client certificate and a
//! plain viewer are refused, the last with its reason in vcmux's log; and a
//! proxy recording every byte on the wire finds the console's text only
//! when TLS is off. A reverse connection (`reverse=on`) speaks VeNCrypt to
//! the listening viewer it dials, and the audit trail names a client
//! certificate's subject (over VeNCrypt and over wss) in the log, in
//! `query-vnc` and in the `VNC_*` events.

mod common;
mod rfb_support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use common::{Qmp, STEP, Vcmux, path_in, temp_dir};
use futures_util::{SinkExt, StreamExt};
use rfb_support::{Mirror, connect_over, sync_with_log, type_text};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream, UnixStream};
use tokio::time::{Instant, timeout_at};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::Message;
use vnc::{PixelFormat, VncClient, VncEncoding, X11Event};

const X509_NONE: u32 = 260;
const X509_VNC: u32 = 261;

/// A CA with server and client certificates, made by `vcmux certs`.
fn certs() -> tempfile::TempDir {
    let dir = temp_dir();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vcmux"))
        .args(["certs", &path_in(&dir, "pki"), "--name", "localhost", "--name", "127.0.0.1"])
        .output()
        .expect("vcmux certs runs");
    assert!(out.status.success(), "vcmux certs failed: {}", String::from_utf8_lossy(&out.stderr));
    dir
}

/// vcmux with a shell, a vc, a console log and a VNC unix socket with TLS.
struct Console {
    vcmux: Vcmux,
    log: PathBuf,
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Console {
    /// `object` is the `-object` (or nothing), `vnc` what follows the socket
    /// in `-vnc`.
    fn start(object: Option<String>, vnc: &str, password: Option<&str>) -> Console {
        let dir = temp_dir();
        let log = dir.path().join("console.log");
        let socket = dir.path().join("vnc.sock");
        let mut vnc = format!("unix:{}{vnc}", socket.display());
        if let Some(password) = password {
            let file = dir.path().join("password");
            std::fs::write(&file, password).unwrap();
            vnc += &format!(",password-file={}", file.display());
        }
        let log_chardev = format!("file,id=log,path={}", log.display());
        let mut args: Vec<String> = Vec::new();
        if let Some(object) = object {
            args.extend(["-object".to_string(), object]);
        }
        for word in ["-chardev", "vc,id=vc0", "-chardev", &log_chardev, "-vnc", &vnc, "--", "sh"] {
            args.push(word.to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let vcmux = Vcmux::start_with(&args, |c| {
            c.env("PS1", "$ ").env("ENV", "/dev/null");
        });
        vcmux.wait_log("VNC viewers welcome");
        vcmux.wait_log("started 'sh'");
        Console { vcmux, log, socket, _dir: dir }
    }

    fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    fn wait_output(&self, needle: &str) {
        common::poll_until(&format!("the console shows {needle:?}"), || self.log_text().contains(needle));
    }
}

fn creds_object(pki: &Path, verify_peer: bool) -> Option<String> {
    let verify = if verify_peer { "on" } else { "off" };
    Some(format!("tls-creds-x509,id=tls0,dir={},endpoint=server,verify-peer={verify}", pki.display()))
}

/// A rustls client trusting `ca`, showing `client` (certificate, key) if given.
fn client_config(ca: &Path, client: Option<(&Path, &Path)>) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).expect("the CA file") {
        roots.add(cert.expect("a CA certificate")).expect("a usable CA");
    }
    let provider = vcmux::tls::provider();
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots);
    let config = match client {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = CertificateDer::pem_file_iter(cert).unwrap().map(Result::unwrap).collect();
            let key = PrivateKeyDer::from_pem_file(key).expect("the client key");
            builder.with_client_auth_cert(chain, key).expect("a usable client certificate")
        }
    };
    Arc::new(config)
}

async fn read_exact<S: AsyncRead + Unpin>(stream: &mut S, n: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    tokio::time::timeout(STEP, stream.read_exact(&mut buf)).await.map_err(std::io::Error::other)??;
    Ok(buf)
}

/// RFB 3.8 up to VeNCrypt's acknowledged subtype, checking that the server
/// offers exactly VeNCrypt and then exactly `subtype`, then the TLS
/// handshake as `localhost` with `config`.
async fn vencrypt<S>(mut stream: S, subtype: u32, config: Arc<ClientConfig>) -> std::io::Result<TlsStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    assert_eq!(read_exact(&mut stream, 12).await?, b"RFB 003.008\n");
    stream.write_all(b"RFB 003.008\n").await?;
    assert_eq!(read_exact(&mut stream, 2).await?, [1, 19], "only VeNCrypt is offered");
    stream.write_all(&[19]).await?;
    assert_eq!(read_exact(&mut stream, 2).await?, [0, 2], "VeNCrypt 0.2");
    stream.write_all(&[0, 2]).await?;
    assert_eq!(read_exact(&mut stream, 2).await?, [0, 1], "version accepted, one subtype");
    let offered = read_exact(&mut stream, 4).await?;
    assert_eq!(offered, subtype.to_be_bytes(), "the one subtype offered");
    stream.write_all(&subtype.to_be_bytes()).await?;
    assert_eq!(read_exact(&mut stream, 1).await?, [1], "subtype accepted");
    let name = ServerName::try_from("localhost").expect("a name");
    TlsConnector::from(config).connect(name, stream).await
}

/// A stream that first reads as `prefix` and swallows the first `swallow`
/// bytes written, then is `inner`: vnc-rs speaks RFB from its first byte, and
/// this lets it go on inside a TLS session whose RFB start (versions,
/// VeNCrypt) the test spoke outside it. The prefix is what it would have
/// read for security type None or VNC authentication; what it writes in
/// answer (version, chosen type) is swallowed.
struct Spliced<S> {
    prefix: Vec<u8>,
    read: usize,
    swallow: usize,
    inner: S,
}

impl<S> Spliced<S> {
    fn rfb(inner: S, password: bool) -> Spliced<S> {
        let mut prefix = b"RFB 003.008\n".to_vec();
        prefix.extend_from_slice(&[1, if password { 2 } else { 1 }]);
        Spliced { prefix, read: 0, swallow: 12 + 1, inner }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Spliced<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.read < self.prefix.len() {
            let n = buf.remaining().min(self.prefix.len() - self.read);
            let start = self.read;
            buf.put_slice(&self.prefix[start..start + n]);
            self.read += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Spliced<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.swallow > 0 {
            let n = self.swallow.min(buf.len());
            self.swallow -= n;
            return Poll::Ready(Ok(n));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A vnc-rs viewer inside VeNCrypt on `stream`.
async fn tls_viewer<S>(
    stream: S,
    subtype: u32,
    config: Arc<ClientConfig>,
    password: Option<&str>,
) -> VncClient
where
    S: AsyncRead + AsyncWrite + Unpin + Send + Sync + 'static,
{
    let tls = vencrypt(stream, subtype, config).await.expect("VeNCrypt and the TLS handshake");
    let spliced = Spliced::rfb(tls, password.is_some());
    connect_over(spliced, password, &[VncEncoding::Zrle, VncEncoding::Raw], PixelFormat::bgra(), true)
        .await
        .expect("the viewer connects inside TLS")
}

/// A TCP proxy to the unix socket `target` for one connection, recording
/// every byte it carries, both ways.
async fn recording_proxy(target: PathBuf) -> (SocketAddr, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
    let addr = listener.local_addr().expect("an address");
    let wire = Arc::new(Mutex::new(Vec::new()));
    let recorded = wire.clone();
    tokio::spawn(async move {
        let Ok((client, _)) = listener.accept().await else { return };
        let Ok(server) = UnixStream::connect(&target).await else { return };
        let (mut client_in, mut client_out) = client.into_split();
        let (mut server_in, mut server_out) = server.into_split();
        let up = recorded.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 1 << 16];
            while let Ok(n @ 1..) = client_in.read(&mut buf).await {
                up.lock().unwrap().extend_from_slice(&buf[..n]);
                if server_out.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        });
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(n @ 1..) = server_in.read(&mut buf).await {
            recorded.lock().unwrap().extend_from_slice(&buf[..n]);
            if client_out.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    });
    (addr, wire)
}

/// Applies events until the viewer's clipboard holds `text`.
async fn wait_clipboard(client: &VncClient, mirror: &mut Mirror, text: &str) {
    let deadline = Instant::now() + STEP;
    while !mirror.texts.iter().any(|t| t == text) {
        client.input(X11Event::Refresh).await.expect("the viewer takes input");
        match timeout_at(deadline, client.recv_event()).await {
            Ok(Ok(event)) => mirror.apply(event),
            Ok(Err(e)) => panic!("the viewer failed: {e}"),
            Err(_) => panic!("the viewer's clipboard never held {text:?}"),
        }
    }
}

/// Types a line that prints `secret` and copies it to the viewers'
/// clipboards (OSC 52, which plain RFB carries as text), and checks the
/// viewer received both: the picture (equal to the render of the log) and
/// the clipboard.
async fn show_secret(client: &VncClient, mirror: &mut Mirror, console: &Console, secret: &str) {
    // Built by the shell, so the typed line is not the printed one.
    let (head, tail) = secret.split_at(secret.len() / 2);
    type_text(client, &format!("s={head}''{tail}; echo $s; printf '\\033]52;c;%s\\a' $(printf $s | base64)"))
        .await;
    console.wait_output(&format!("{secret}\r\n"));
    wait_clipboard(client, mirror, secret).await;
    sync_with_log(client, mirror, &console.log).await;
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x509none_shows_the_console_types_and_nothing_is_in_clear_on_the_wire() {
    let pki = certs();
    let dir = pki.path().join("pki");
    let console = Console::start(creds_object(&dir, false), ",tls-creds=tls0", None);
    console.vcmux.wait_log("VeNCrypt X509None");
    let (proxy, wire) = recording_proxy(console.socket.clone()).await;
    let tcp = TcpStream::connect(proxy).await.expect("connect to the proxy");
    let client = tls_viewer(tcp, X509_NONE, client_config(&dir.join("ca-cert.pem"), None), None).await;
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    let secret = "tls-secret-line-4711";
    show_secret(&client, &mut mirror, &console, secret).await;
    let wire = wire.lock().unwrap().clone();
    assert!(wire.len() > 10_000, "the proxy carried the session ({} bytes)", wire.len());
    assert!(!contains(&wire, secret.as_bytes()), "the console's text crossed the wire in clear");
    assert!(!contains(&wire, b"tls-secret"), "the typed text crossed the wire in clear");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_tls_the_same_capture_finds_the_text() {
    // The check above can fail: plain RFB carries the clipboard as text.
    let console = Console::start(None, "", None);
    let (proxy, wire) = recording_proxy(console.socket.clone()).await;
    let tcp = TcpStream::connect(proxy).await.expect("connect to the proxy");
    let client = connect_over(tcp, None, &[VncEncoding::Zrle, VncEncoding::Raw], PixelFormat::bgra(), true)
        .await
        .expect("a plain viewer connects");
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    let secret = "plain-secret-line-4711";
    show_secret(&client, &mut mirror, &console, secret).await;
    assert!(contains(&wire.lock().unwrap(), secret.as_bytes()), "plain RFB carries the clipboard in clear");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x509vnc_asks_the_password_inside_tls() {
    let pki = certs();
    let dir = pki.path().join("pki");
    let console = Console::start(creds_object(&dir, false), ",tls-creds=tls0", Some("s3cret"));
    let config = client_config(&dir.join("ca-cert.pem"), None);
    // A wrong password, inside TLS, is refused.
    let stream = UnixStream::connect(&console.socket).await.unwrap();
    let tls = vencrypt(stream, X509_VNC, config.clone()).await.expect("TLS");
    let refused =
        connect_over(Spliced::rfb(tls, true), Some("wrong"), &[VncEncoding::Raw], PixelFormat::bgra(), true)
            .await;
    assert!(refused.is_err(), "a wrong password is refused");
    console.vcmux.wait_log("authentication failed");
    // The right one opens the console.
    let stream = UnixStream::connect(&console.socket).await.unwrap();
    let client = tls_viewer(stream, X509_VNC, config, Some("s3cret")).await;
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    type_text(&client, "echo typed-$((6 * 7))").await;
    console.wait_output("typed-42\r\n");
    sync_with_log(&client, &mut mirror, &console.log).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_trusting_another_ca_refuses_the_server() {
    let pki = certs();
    let other = certs();
    let console = Console::start(creds_object(&pki.path().join("pki"), false), ",tls-creds=tls0", None);
    let stream = UnixStream::connect(&console.socket).await.unwrap();
    let wrong = client_config(&other.path().join("pki/ca-cert.pem"), None);
    let e = vencrypt(stream, X509_NONE, wrong).await.expect_err("another CA's viewer must refuse");
    assert!(e.to_string().contains("invalid peer certificate: UnknownIssuer"), "{e}");
    let line = console.vcmux.wait_log("TLS handshake failed");
    assert!(line.contains("UnknownCA") || line.contains("alert"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_peer_on_needs_a_client_certificate_the_ca_signed() {
    let pki = certs();
    let other = certs();
    let dir = pki.path().join("pki");
    let console = Console::start(creds_object(&dir, true), ",tls-creds=tls0", None);
    let ca = dir.join("ca-cert.pem");
    // No certificate: the server ends the handshake.
    let stream = UnixStream::connect(&console.socket).await.unwrap();
    let refused = async {
        let mut tls = vencrypt(stream, X509_NONE, client_config(&ca, None)).await?;
        // TLS 1.3: the client learns of the refusal on its first read.
        read_exact(&mut tls, 4).await
    };
    assert!(refused.await.is_err(), "a client without a certificate is refused");
    console.vcmux.wait_log("TLS handshake failed");
    // Another CA's client certificate: refused too.
    let stranger = other.path().join("pki");
    let (cert, key) = (stranger.join("client-cert.pem"), stranger.join("client-key.pem"));
    let stream = UnixStream::connect(&console.socket).await.unwrap();
    let refused = async {
        let mut tls = vencrypt(stream, X509_NONE, client_config(&ca, Some((&cert, &key)))).await?;
        read_exact(&mut tls, 4).await
    };
    assert!(refused.await.is_err(), "another CA's client certificate is refused");
    // The CA's client certificate: in.
    let (cert, key) = (dir.join("client-cert.pem"), dir.join("client-key.pem"));
    let stream = UnixStream::connect(&console.socket).await.unwrap();
    let client = tls_viewer(stream, X509_NONE, client_config(&ca, Some((&cert, &key))), None).await;
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    type_text(&client, "echo mutual-$((6 * 7))").await;
    console.wait_output("mutual-42\r\n");
    sync_with_log(&client, &mut mirror, &console.log).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_viewer_offered_only_vencrypt_fails_with_its_reason_logged() {
    let pki = certs();
    let console = Console::start(creds_object(&pki.path().join("pki"), false), ",tls-creds=tls0", None);
    let stream = UnixStream::connect(&console.socket).await.unwrap();
    let refused = connect_over(stream, None, &[VncEncoding::Raw], PixelFormat::bgra(), true).await;
    assert!(refused.is_err(), "vnc-rs speaks no VeNCrypt");
    let line = console.vcmux.wait_log("takes only VeNCrypt");
    assert!(line.contains("vnc: viewer") && line.contains("TLS"), "{line}");
}

/// Starts vcmux with `object` and a `-vnc` using it, expecting it to refuse
/// at start-up: exit status 2 and one line on stderr, returned.
fn refused_at_start(object: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vcmux"))
        .args(["-object", object, "-vnc", "unix:/nonexistent/vnc.sock,tls-creds=tls0", "--", "true"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_credentials_file_is_one_line_naming_it_and_exit_2() {
    let pki = certs();
    let dir = pki.path().join("pki");
    std::fs::remove_file(dir.join("server-key.pem")).unwrap();
    let stderr = refused_at_start(&creds_object(&dir, false).unwrap());
    assert!(stderr.contains(&dir.join("server-key.pem").display().to_string()), "{stderr}");
    assert!(stderr.contains("tls0"), "{stderr}");
    // A bad option is refused before anything is read.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vcmux"))
        .args(["-object", "tls-creds-x509,id=t,dir=/x", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("endpoint=server"));
}

/// Whether `tool` runs: the recipes below need openssl (and certtool for
/// QEMU's own); a machine without one skips them, saying so.
fn have(tool: &str) -> bool {
    let found = std::process::Command::new(tool).arg("--version").output().is_ok();
    if !found {
        println!("skipped: {tool} is not installed");
    }
    found
}

/// Credentials of `kind` in QEMU's layout, made by tests/interop/make-certs.sh
/// (openssl or certtool, not vcmux), in `dir/kind`.
fn made(kind: &str, dir: &Path) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/make-certs.sh");
    let out_dir = dir.join(kind);
    let out = std::process::Command::new("bash").arg(script).arg(kind).arg(&out_dir).output().unwrap();
    assert!(out.status.success(), "make-certs.sh {kind}: {}", String::from_utf8_lossy(&out.stderr));
    out_dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_made_by_openssl_and_certtool_serve_a_vencrypt_viewer() {
    if !have("openssl") {
        return;
    }
    let mut kinds = vec!["rsa-pkcs1", "rsa-pkcs8", "ec-sec1", "intermediate", "ed25519"];
    if have("certtool") {
        kinds.push("certtool");
    }
    let work = temp_dir();
    for kind in kinds {
        let dir = made(kind, work.path());
        let key = std::fs::read_to_string(dir.join("server-key.pem")).unwrap();
        match kind {
            "rsa-pkcs1" => assert!(key.contains("BEGIN RSA PRIVATE KEY"), "{key}"),
            "ec-sec1" => assert!(key.contains("BEGIN EC PRIVATE KEY"), "{key}"),
            "rsa-pkcs8" | "ed25519" => assert!(key.contains("BEGIN PRIVATE KEY"), "{key}"),
            _ => {}
        }
        // Mutual TLS: the client certificate of the same recipe is checked too.
        let console = Console::start(creds_object(&dir, true), ",tls-creds=tls0", None);
        let (cert, key) = (dir.join("client-cert.pem"), dir.join("client-key.pem"));
        let config = client_config(&dir.join("ca-cert.pem"), Some((&cert, &key)));
        let stream = UnixStream::connect(&console.socket).await.unwrap();
        let client = tls_viewer(stream, X509_NONE, config, None).await;
        let mut mirror = Mirror::new(&PixelFormat::bgra());
        type_text(&client, &format!("echo {kind}-$((6 * 7))")).await;
        console.wait_output(&format!("{kind}-42\r\n"));
        sync_with_log(&client, &mut mirror, &console.log).await;
        println!("{kind}: served; the viewer shows what vcmux render shows");
    }
}

#[test]
fn credentials_vcmux_cannot_serve_are_one_line_naming_the_file_and_exit_2() {
    if !have("openssl") {
        return;
    }
    let work = temp_dir();
    let cases = [
        ("mismatch", "server-key.pem", "not the key of the certificate in"),
        ("expired", "server-cert.pem", "expired on"),
        ("no-ca", "ca-cert.pem", "no certificate"),
        ("ed448", "server-key.pem", "a key vcmux cannot sign with"),
        ("other-ca", "server-cert.pem", "not signed by a certificate in"),
        ("encrypted", "server-key.pem", "an encrypted key"),
        ("v1", "server-cert.pem", "an X.509 version 1 certificate"),
    ];
    for (kind, file, reason) in cases {
        let dir = made(kind, work.path());
        let stderr = refused_at_start(&creds_object(&dir, false).unwrap());
        let named = format!("{}: ", dir.join(file).display());
        assert!(stderr.contains(&named) && stderr.contains(reason), "{kind}: {stderr}");
        println!("{kind}: {}", stderr.trim());
    }
}

/// The port in a log line's "… on 127.0.0.1:PORT".
fn logged_port(line: &str) -> u16 {
    let after = line.split("127.0.0.1:").nth(1).expect("an address in the line");
    after.split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().expect("a port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_websocket_port_is_wss_with_the_same_credentials() {
    let pki = certs();
    let dir = pki.path().join("pki");
    let console = Console::start(creds_object(&dir, false), ",websocket=127.0.0.1:0,tls-creds=tls0", None);
    let port = logged_port(&console.vcmux.wait_log("(wss://)"));
    let client = wss_viewer(port, client_config(&dir.join("ca-cert.pem"), None)).await;
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    type_text(&client, "echo wss-$((6 * 7))").await;
    console.wait_output("wss-42\r\n");
    sync_with_log(&client, &mut mirror, &console.log).await;
    // A plain ws:// client on the same port gets no WebSocket.
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let plain =
        tokio::time::timeout(STEP, tokio_tungstenite::client_async(format!("ws://127.0.0.1:{port}/"), tcp));
    assert!(matches!(plain.await, Ok(Err(_))), "ws:// without TLS is refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wss_viewer_with_a_client_certificate_is_named_in_the_log() {
    let pki = certs();
    let dir = pki.path().join("pki");
    let console = Console::start(creds_object(&dir, true), ",websocket=127.0.0.1:0,tls-creds=tls0", None);
    let port = logged_port(&console.vcmux.wait_log("(wss://)"));
    let (cert, key) = (dir.join("client-cert.pem"), dir.join("client-key.pem"));
    let client = wss_viewer(port, client_config(&dir.join("ca-cert.pem"), Some((&cert, &key)))).await;
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    sync_with_log(&client, &mut mirror, &console.log).await;
    // Known from the TLS under the WebSocket: on arrival already.
    let line = console.vcmux.wait_log("vnc: connected: viewer");
    assert!(line.contains("(WebSocket), certificate 'CN=vcmux client'"), "{line}");
    let line = console.vcmux.wait_log("vnc: initialized: viewer");
    assert!(line.contains("certificate 'CN=vcmux client'") && line.ends_with("(read-write)"), "{line}");
}

/// A vnc-rs viewer inside wss on `port`, the TLS client set up by `config`.
async fn wss_viewer(port: u16, config: Arc<ClientConfig>) -> VncClient {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let tls = TlsConnector::from(config).connect(name, tcp).await.expect("the TLS handshake");
    let (socket, _) = tokio_tungstenite::client_async(format!("wss://localhost:{port}/"), tls)
        .await
        .expect("the WebSocket handshake inside TLS");
    // Inside wss, RFB offers the plain type (QEMU's ws_auth): no VeNCrypt twice.
    let (ours, theirs) = tokio::io::duplex(1 << 16);
    let (mut sink, mut messages) = socket.split();
    let (mut from_viewer, mut to_viewer) = tokio::io::split(ours);
    tokio::spawn(async move {
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(n @ 1..) = from_viewer.read(&mut buf).await {
            if sink.send(Message::Binary(buf[..n].to_vec().into())).await.is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        while let Some(Ok(message)) = messages.next().await {
            if let Message::Binary(data) = message
                && to_viewer.write_all(&data).await.is_err()
            {
                break;
            }
        }
    });
    connect_over(theirs, None, &[VncEncoding::Zrle, VncEncoding::Raw], PixelFormat::bgra(), true)
        .await
        .expect("RFB inside wss")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_creds_log_the_fingerprint_the_viewer_sees() {
    let console = Console::start(None, ",tls-creds=auto", None);
    let line = console.vcmux.wait_log("SHA-256 fingerprint");
    let after = |label: &str| {
        let rest = line.split(label).nth(1).expect("the label in the line");
        rest.split([',', ' ']).find(|w| !w.is_empty()).expect("a value").to_string()
    };
    let (logged, pin) = (after("SHA-256 fingerprint "), after("pin-sha256 "));
    let seen = Arc::new(Mutex::new(None));
    let config = ClientConfig::builder_with_provider(vcmux::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned { seen: seen.clone() }))
        .with_no_client_auth();
    let stream = UnixStream::connect(&console.socket).await.unwrap();
    let client = tls_viewer(stream, X509_NONE, Arc::new(config), None).await;
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    type_text(&client, "echo auto-$((6 * 7))").await;
    console.wait_output("auto-42\r\n");
    sync_with_log(&client, &mut mirror, &console.log).await;
    let der = seen.lock().unwrap().clone().expect("the server showed a certificate");
    let identity = vcmux::tls::creds::Identity::of(&CertificateDer::from(der)).unwrap();
    assert_eq!(identity.fingerprint, logged);
    assert_eq!(identity.pin_sha256, pin);
}

/// A verifier that accepts any certificate and keeps it, for the test to
/// compare with the fingerprint vcmux logged (what a person does by eye).
#[derive(Debug)]
struct Pinned {
    seen: Arc<Mutex<Option<Vec<u8>>>>,
}

impl rustls::client::danger::ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        *self.seen.lock().unwrap() = Some(end_entity.to_vec());
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algorithms = vcmux::tls::provider().signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, &algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algorithms = vcmux::tls::provider().signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, &algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        vcmux::tls::provider().signature_verification_algorithms.supported_schemes()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reverse_connection_speaks_vencrypt_and_the_audit_trail_names_the_certificate() {
    let pki = certs();
    let dir = pki.path().join("pki");
    // The viewer listens (vncviewer -listen); vcmux dials it.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
    let port = listener.local_addr().unwrap().port();
    let work = temp_dir();
    let log = work.path().join("console.log");
    let control = work.path().join("qmp.sock");
    let object = creds_object(&dir, true).unwrap();
    let log_chardev = format!("file,id=log,path={}", log.display());
    let vnc = format!("127.0.0.1:{port},reverse=on,tls-creds=tls0");
    let qmp_option = format!("unix:{},server=on,wait=off", control.display());
    let args = [
        "-object",
        &object,
        "-chardev",
        "vc,id=vc0",
        "-chardev",
        &log_chardev,
        "-vnc",
        &vnc,
        "-qmp",
        &qmp_option,
        "--",
        "sh",
    ];
    let vcmux = Vcmux::start_with(&args, |c| {
        c.env("PS1", "$ ").env("ENV", "/dev/null");
    });
    vcmux.wait_log("started 'sh'");
    vcmux.wait_log("(reverse=on), again whenever that fails or ends (VeNCrypt X509None: TLS)");
    let console = Console { vcmux, log, socket: PathBuf::new(), _dir: work };
    let mut qmp = Qmp::connect(&control);

    let (stream, _) = tokio::time::timeout(STEP, listener.accept()).await.expect("vcmux dials").unwrap();
    let (cert, key) = (dir.join("client-cert.pem"), dir.join("client-key.pem"));
    let config = client_config(&dir.join("ca-cert.pem"), Some((&cert, &key)));
    let client = tls_viewer(stream, X509_NONE, config, None).await;
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    type_text(&client, "echo reverse-tls-$((6 * 7))").await;
    console.wait_output("reverse-tls-42\r\n");
    sync_with_log(&client, &mut mirror, &console.log).await;

    // The log names who: the address, the certificate's subject, the access.
    let line = console.vcmux.wait_log("vnc: initialized: viewer");
    let subject = line.split("certificate '").nth(1).and_then(|rest| rest.split('\'').next());
    let subject = subject.unwrap_or_else(|| panic!("no certificate subject in {line:?}")).to_string();
    assert!(subject.contains("CN="), "{subject}");
    assert!(line.contains("from 127.0.0.1:") && line.ends_with("(read-write)"), "{line}");
    // QMP carries the same, as QEMU names it.
    let event = qmp.wait_event("VNC_INITIALIZED");
    assert_eq!(event["data"]["client"]["x509_dname"], serde_json::json!(subject), "{event}");
    assert_eq!(event["data"]["client"]["x-vcmux-view-only"], serde_json::json!(false), "{event}");
    let vnc = qmp.execute("query-vnc", serde_json::json!({}));
    assert_eq!(vnc["return"]["x-vcmux-reverse"], serde_json::json!(format!("127.0.0.1:{port}")), "{vnc}");
    assert_eq!(vnc["return"]["auth"], serde_json::json!("vencrypt"), "{vnc}");
    let clients = vnc["return"]["clients"].as_array().expect("clients");
    assert_eq!(clients.len(), 1, "{vnc}");
    assert_eq!(clients[0]["x509_dname"], serde_json::json!(subject), "{vnc}");
    assert_eq!(clients[0]["host"], serde_json::json!("127.0.0.1"), "{vnc}");
    // Its departure is told with the same subject.
    client.close().await.expect("the viewer closes");
    drop(client);
    let gone = qmp.wait_event("VNC_DISCONNECTED");
    assert_eq!(gone["data"]["client"]["x509_dname"], serde_json::json!(subject), "{gone}");
    let line = console.vcmux.wait_log(" disconnected: ");
    assert!(line.contains(&format!("certificate '{subject}'")), "{line}");
}
