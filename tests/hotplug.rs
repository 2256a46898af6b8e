//! Hot-plug through the hub's own API, with real unix sockets and files:
//! backends attached and detached while a frontend floods the hub, each one's
//! copy checked against the whole stream at the offsets the hub answered with.

mod common;

use std::io;
use std::path::Path;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use vcmux::chardev::file::FileConnector;
use vcmux::chardev::null::NullConnector;
use vcmux::config::FileConfig;
use vcmux::hub::port::{BoxFuture, Connection, Connector};
use vcmux::hub::{AttachOptions, Attached, BackendStats, Hub, HubError};

use common::{STEP, assert_same, random_bytes, temp_dir};

/// A connector with one connection, handed out once `ready` fires (at once
/// without it); after that one, there is none.
struct OnePeer {
    connection: Option<Connection>,
    ready: Option<oneshot::Receiver<()>>,
}

impl OnePeer {
    fn now(stream: UnixStream) -> Box<dyn Connector> {
        Box::new(OnePeer { connection: Some(connection(stream)), ready: None })
    }

    fn when(ready: oneshot::Receiver<()>, stream: UnixStream) -> Box<dyn Connector> {
        Box::new(OnePeer { connection: Some(connection(stream)), ready: Some(ready) })
    }
}

impl Connector for OnePeer {
    fn connect(&mut self) -> BoxFuture<'_, io::Result<Option<Connection>>> {
        Box::pin(async move {
            if let Some(ready) = self.ready.take() {
                let _ = ready.await;
            }
            Ok(self.connection.take())
        })
    }
}

fn connection(stream: UnixStream) -> Connection {
    let (reader, writer) = stream.into_split();
    Connection {
        peer: "test".into(),
        writer: Box::new(writer),
        reader: Some(Box::new(reader)),
        eof_is_hangup: true,
        typed: None,
    }
}

fn pair() -> (UnixStream, UnixStream) {
    UnixStream::pair().expect("a unix socket pair")
}

async fn file(path: &Path) -> Box<dyn Connector> {
    let config = FileConfig { path: path.to_path_buf(), append: false, timestamps: false };
    Box::new(FileConnector::open("test", &config).await.expect("a log in the test's directory"))
}

/// Reads a backend's peer until the hub closes it; the count read so far is
/// published as it grows.
fn read_peer(mut stream: UnixStream) -> (watch::Receiver<usize>, JoinHandle<Vec<u8>>) {
    let (count, counter) = watch::channel(0);
    let copy = tokio::spawn(async move {
        let mut copy = Vec::new();
        let mut buffer = vec![0u8; 256 << 10];
        loop {
            let n = stream.read(&mut buffer).await.expect("read a backend's peer");
            if n == 0 {
                return copy;
            }
            copy.extend_from_slice(&buffer[..n]);
            count.send_replace(copy.len());
        }
    });
    (counter, copy)
}

/// Waits until the count satisfies `ready`, failing the test after [`STEP`].
async fn wait_for(what: &str, count: &mut watch::Receiver<usize>, ready: impl FnMut(&usize) -> bool) {
    let outcome = tokio::time::timeout(STEP, count.wait_for(ready)).await.map(|r| r.is_ok());
    let so_far = *count.borrow();
    match outcome {
        Ok(true) => {}
        Ok(false) => panic!("{what}: the peer closed first at {so_far} bytes"),
        Err(_) => panic!("{what}: not within {STEP:?}; {so_far} bytes so far"),
    }
}

fn window(source: &[u8], from: u64, to: u64) -> &[u8] {
    &source[from as usize..to as usize]
}

const STREAM: usize = 64 << 20;
/// The frontend writes the stream in this many pieces, each when the test
/// lets it, so that every attach and detach falls inside the stream.
const SEGMENTS: usize = 32;
const CYCLES: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backends_plugged_in_and_out_mid_stream_get_exactly_the_bytes_between() {
    let dir = temp_dir();
    let source = Arc::new(random_bytes(STREAM));
    let mut hub = Hub::new("mux0");
    let (s0, s0_peer) = pair();
    hub.attach("s0", OnePeer::now(s0), AttachOptions::default()).unwrap();
    let (s0_count, s0_copy) = read_peer(s0_peer);
    let f0 = dir.path().join("f0.log");
    hub.attach("f0", file(&f0).await, AttachOptions::default()).unwrap();
    let handle = hub.handle();
    let (frontend, mut console) = pair();
    let running = tokio::spawn(hub.run(OnePeer::now(frontend), None, CancellationToken::new()));

    let (permit, mut permits) = mpsc::unbounded_channel::<()>();
    let writer = tokio::spawn({
        let source = source.clone();
        async move {
            for segment in source.chunks(STREAM / SEGMENTS) {
                permits.recv().await.expect("the test lets every segment go");
                console.write_all(segment).await.expect("the hub reads the console");
            }
            console.shutdown().await.expect("end of the console");
        }
    });

    permit.send(()).unwrap();
    let mut plugged = Vec::new();
    for cycle in 0..CYCLES {
        // A socket with a logfile comes, then a file; the socket goes, then the file.
        let (sock, sock_peer) = pair();
        let sock_log = dir.path().join(format!("sock{cycle}.log"));
        let logfile = Box::new(tokio::fs::File::create(&sock_log).await.unwrap());
        let options = AttachOptions { logfile: Some(logfile), replay: 0, lag: 0 };
        let sock_in = handle.attach("hot-sock", OnePeer::now(sock), options).await.unwrap();
        let (mut sock_count, sock_copy) = read_peer(sock_peer);
        permit.send(()).unwrap();
        wait_for("the socket's first bytes", &mut sock_count, |n| *n > 0).await;

        let path = dir.path().join(format!("file{cycle}.log"));
        let file_in = handle.attach("hot-file", file(&path).await, AttachOptions::default()).await.unwrap();
        assert_eq!(handle.backends(), ["s0", "f0", "hot-sock", "hot-file"]);
        permit.send(()).unwrap();
        let lead = (file_in.offset - sock_in.offset) as usize;
        wait_for("bytes after the file came", &mut sock_count, |n| *n > lead).await;

        let sock_out = handle.detach("hot-sock").await.unwrap();
        permit.send(()).unwrap();
        let mut s0_progress = s0_count.clone();
        wait_for("bytes after the socket left", &mut s0_progress, |n| *n as u64 > sock_out.offset).await;
        let file_out = handle.detach("hot-file").await.unwrap();
        assert_eq!(handle.backends(), ["s0", "f0"]);

        let sock_window = window(&source, sock_in.offset, sock_out.offset);
        let what = format!("cycle {cycle}: the socket from {} to {}", sock_in.offset, sock_out.offset);
        assert_same(&what, &sock_copy.await.unwrap(), sock_window);
        assert_same(&format!("{what}, its logfile"), &std::fs::read(&sock_log).unwrap(), sock_window);
        assert_eq!(sock_out.stats, BackendStats { written: sock_window.len() as u64, dropped: 0 }, "{what}");
        let file_window = window(&source, file_in.offset, file_out.offset);
        let what = format!("cycle {cycle}: the file from {} to {}", file_in.offset, file_out.offset);
        assert_same(&what, &std::fs::read(&path).unwrap(), file_window);
        assert_eq!(file_out.stats, BackendStats { written: file_window.len() as u64, dropped: 0 }, "{what}");
        plugged.push((sock_in.offset, sock_out.offset, file_in.offset, file_out.offset));
    }
    // The rest of the stream; the writer stops asking once it is all sent.
    for _ in 0..SEGMENTS {
        let _ = permit.send(());
    }
    writer.await.unwrap();
    let report = running.await.unwrap();

    assert_eq!(report.read, STREAM as u64);
    let whole = BackendStats { written: STREAM as u64, dropped: 0 };
    assert_eq!(report.backends, [("s0".to_string(), whole), ("f0".to_string(), whole)]);
    assert_same("s0, there throughout", &s0_copy.await.unwrap(), &source);
    assert_same("f0, there throughout", &std::fs::read(&f0).unwrap(), &source);
    // Every window lay inside the stream, each after the one before.
    for pair in plugged.windows(2) {
        assert!(pair[0].3 <= pair[1].0, "{plugged:?}");
    }
    for (sock_in, sock_out, file_in, file_out) in &plugged {
        assert!(sock_in < file_in && file_in < sock_out && sock_out < file_out, "{plugged:?}");
    }
    assert!(plugged[CYCLES - 1].3 < STREAM as u64, "{plugged:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_plug_keeps_the_limit_and_unique_ids_and_says_so_in_one_line() {
    let null = || -> Box<dyn Connector> { Box::new(NullConnector::default()) };
    let mut hub = Hub::new("mux0");
    hub.attach("a", null(), AttachOptions::default()).unwrap();
    let handle = hub.handle();
    // A request made before the hub runs waits for it.
    let early = tokio::spawn({
        let handle = handle.clone();
        async move { handle.attach("b", Box::new(NullConnector::default()), AttachOptions::default()).await }
    });
    let (frontend, mut console) = pair();
    let (connect, ready) = oneshot::channel();
    let running = tokio::spawn(hub.run(OnePeer::when(ready, frontend), None, CancellationToken::new()));
    assert_eq!(early.await.unwrap(), Ok(Attached { offset: 0 }));

    // All of this while the hub waits for its frontend.
    let refused = |error: HubError, needles: &[&str]| {
        let message = error.to_string();
        assert!(!message.contains('\n'), "one line: {message}");
        for needle in needles {
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        }
        error
    };
    let twice = handle.attach("a", null(), AttachOptions::default()).await.unwrap_err();
    let already = HubError::AlreadyAttached { hub: "mux0".into(), id: "a".into() };
    assert_eq!(refused(twice, &["'mux0'", "'a'"]), already);
    handle.attach("c", null(), AttachOptions::default()).await.unwrap();
    handle.attach("d", null(), AttachOptions::default()).await.unwrap();
    let fifth = handle.attach("e", null(), AttachOptions::default()).await.unwrap_err();
    let too_many = HubError::TooManyBackends { hub: "mux0".into(), id: "e".into() };
    assert_eq!(refused(fifth, &["'mux0'", "'e'", "limit is 4"]), too_many);
    let unknown = handle.detach("zz").await.unwrap_err();
    let not_attached = HubError::NotAttached { hub: "mux0".into(), id: "zz".into() };
    assert_eq!(refused(unknown, &["'mux0'", "'zz'"]), not_attached);
    assert_eq!(handle.backends(), ["a", "b", "c", "d"]);
    let c = handle.detach("c").await.unwrap();
    assert_eq!((c.offset, c.stats), (0, BackendStats::default()));
    // A detached backend's place is free again, and the limit still holds.
    let (e, e_peer) = pair();
    handle.attach("e", OnePeer::now(e), AttachOptions::default()).await.unwrap();
    let again = handle.attach("c", null(), AttachOptions::default()).await.unwrap_err();
    assert_eq!(again, HubError::TooManyBackends { hub: "mux0".into(), id: "c".into() });

    // The frontend comes: backends attached before the hub ran and after both
    // get the output, and a pre-run one detaches as well as a hot-plugged one.
    connect.send(()).unwrap();
    let (mut e_count, e_copy) = read_peer(e_peer);
    console.write_all(b"hello").await.unwrap();
    wait_for("e's copy", &mut e_count, |n| *n == 5).await;
    let a = handle.detach("a").await.unwrap();
    assert_eq!((a.offset, a.stats), (5, BackendStats { written: 5, dropped: 0 }));
    let e = handle.detach("e").await.unwrap();
    assert_eq!((e.offset, e.stats), (5, BackendStats { written: 5, dropped: 0 }));
    assert_eq!(e_copy.await.unwrap(), b"hello");
    assert_eq!(handle.backends(), ["b", "d"]);

    console.shutdown().await.unwrap();
    let report = running.await.unwrap();
    assert_eq!(report.read, 5);
    let ids: Vec<&str> = report.backends.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["b", "d"]);
    let stopped = HubError::Stopped { hub: "mux0".into() };
    let late = handle.attach("f", null(), AttachOptions::default()).await.unwrap_err();
    assert_eq!(refused(late, &["'mux0'", "stopped"]), stopped);
    assert_eq!(handle.detach("b").await.unwrap_err(), stopped);
    assert!(handle.backends().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_connects_late_gets_the_last_bytes_then_the_stream() {
    const REPLAY: usize = 1000;
    let source = random_bytes(8000);
    let (before, after) = source.split_at(5000);
    let mut hub = Hub::new("mux0");
    let (s0, s0_peer) = pair();
    hub.attach("s0", OnePeer::now(s0), AttachOptions::default()).unwrap();
    let (mut s0_count, _s0_copy) = read_peer(s0_peer);
    let handle = hub.handle();
    let (frontend, mut console) = pair();
    let running = tokio::spawn(hub.run(OnePeer::now(frontend), None, CancellationToken::new()));

    // Nobody is on r while the first 5000 bytes pass: they are dropped, and kept.
    let (connect, ready) = oneshot::channel();
    let (r, r_peer) = pair();
    let options = AttachOptions { logfile: None, replay: REPLAY, lag: 0 };
    let attached = handle.attach("r", OnePeer::when(ready, r), options).await.unwrap();
    assert_eq!(attached.offset, 0);
    console.write_all(before).await.unwrap();
    wait_for("s0 has the first part", &mut s0_count, |n| *n == before.len()).await;
    // A request goes through the pump only between chunks, when every backend
    // has handled the chunks before: r has had the whole first part.
    handle.detach("nobody").await.unwrap_err();
    connect.send(()).unwrap();
    let (mut r_count, r_copy) = read_peer(r_peer);
    wait_for("r's replay", &mut r_count, |n| *n == REPLAY).await;
    console.write_all(after).await.unwrap();
    wait_for("s0 has it all", &mut s0_count, |n| *n == source.len()).await;
    let detached = handle.detach("r").await.unwrap();

    // The last REPLAY bytes before it came, then the stream: nothing missing,
    // nothing twice, and the replay not counted again.
    assert_same("r's copy", &r_copy.await.unwrap(), &source[before.len() - REPLAY..]);
    assert_eq!(detached.offset, source.len() as u64);
    let stats = BackendStats { written: after.len() as u64, dropped: before.len() as u64 };
    assert_eq!(detached.stats, stats);
    console.shutdown().await.unwrap();
    running.await.unwrap();
}
