//! Reverse connections (`-vnc HOST:PORT,reverse=on`) end to end: the real
//! binary serving a shell's vc dials a listening socket the test holds, as
//! `vncviewer -listen` would; vnc-rs, the viewer, speaks over the accepted
//! socket (the server speaks first, as on any RFB connection). Its picture
//! equals a fresh render of the console log, keys typed reach the shell,
//! and when the viewer goes away (the connection and the listener closed)
//! vcmux logs the failures and connects again once it listens again.

mod common;
mod rfb_support;

use std::path::PathBuf;

use common::{STEP, Vcmux, temp_dir};
use rfb_support::{Mirror, connect_over, sync_with_log, type_text};
use tokio::net::TcpListener;
use tokio::time::timeout;
use vnc::{PixelFormat, VncClient, VncEncoding};

/// vcmux with a shell, a vc, a console log, and `-vnc` dialling `port`.
struct Console {
    vcmux: Vcmux,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Console {
    fn start(port: u16) -> Console {
        let dir = temp_dir();
        let log = dir.path().join("console.log");
        let log_chardev = format!("file,id=log,path={}", log.display());
        let vnc = format!("127.0.0.1:{port},reverse=on");
        let args = ["-chardev", "vc,id=vc0", "-chardev", &log_chardev, "-vnc", &vnc, "--", "sh"];
        let vcmux = Vcmux::start_with(&args, |c| {
            c.env("PS1", "$ ").env("ENV", "/dev/null");
        });
        vcmux.wait_log("started 'sh'");
        Console { vcmux, log, _dir: dir }
    }

    fn log_bytes(&self) -> Vec<u8> {
        std::fs::read(&self.log).unwrap_or_default()
    }

    fn wait_output(&self, needle: &str) {
        common::poll_until(&format!("the console shows {needle:?}"), || {
            String::from_utf8_lossy(&self.log_bytes()).contains(needle)
        });
    }
}

/// Waits for vcmux to dial in, and speaks RFB as the viewer on that socket.
async fn viewer_on(listener: &TcpListener) -> VncClient {
    let (stream, _) = timeout(STEP, listener.accept()).await.expect("vcmux dials").expect("accept");
    connect_over(stream, None, &[VncEncoding::Zrle, VncEncoding::Raw], PixelFormat::bgra(), true)
        .await
        .expect("the viewer's handshake over the dialled socket")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vcmux_dials_the_listening_viewer_and_dials_again_when_it_comes_back() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
    let port = listener.local_addr().unwrap().port();
    let target = format!("127.0.0.1:{port}");
    let console = Console::start(port);
    console.vcmux.wait_log(&format!("dialling a viewer listening at {target} (reverse=on)"));

    let client = viewer_on(&listener).await;
    console.vcmux.wait_log(&format!("reverse connection: connected to the viewer listening at {target}"));
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    type_text(&client, "echo first-$((6 * 7))").await;
    console.wait_output("first-42\r\n");
    sync_with_log(&client, &mut mirror, &console.log).await;
    let line = console.vcmux.wait_log("vnc: initialized: viewer");
    assert!(line.contains("from 127.0.0.1:") && line.contains("(read-write)"), "{line}");

    // The viewer goes away: its connection closes and nothing listens.
    client.close().await.expect("the viewer closes");
    drop(client);
    drop(listener);
    console.vcmux.wait_log(&format!("reverse connection to {target} ended; dialling again in"));
    let failed = console.vcmux.wait_log(&format!("cannot reach a viewer listening at {target}"));
    assert!(failed.contains("dialling again in"), "{failed}");

    // It listens again on the same port: vcmux is back within its backoff.
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("the same port again");
    let client = viewer_on(&listener).await;
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    type_text(&client, "echo again-$((6 * 7))").await;
    console.wait_output("again-42\r\n");
    sync_with_log(&client, &mut mirror, &console.log).await;
    assert_eq!(console.vcmux.count_log("reverse connection: connected to the viewer"), 2);
    // Each failure is one line; a refused dial takes no time, so only the
    // backoff between them keeps them few.
    let failures = console.vcmux.count_log("cannot reach a viewer listening");
    assert!((1..=4).contains(&failures), "{failures} failure lines:\n{}", console.vcmux.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_nobody_listening_the_failures_back_off() {
    // A port nobody listens on: bound, then let go.
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let console = Console::start(port);
    let first = console.vcmux.wait_log("cannot reach a viewer listening");
    assert!(first.contains("dialling again in 1s"), "{first}");
    let second = console.vcmux.wait_log("dialling again in 2s");
    assert!(second.contains("cannot reach"), "{second}");
    // The console runs all the while: the vc answers a viewer that comes.
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("the port again");
    let client = viewer_on(&listener).await;
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    sync_with_log(&client, &mut mirror, &console.log).await;
}
