//! The hub with a peer that stops reading, over in-memory pipes: cut off at
//! its lag while the others get everything, or (lag 0) waited for.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio_util::sync::CancellationToken;

use super::port::{BoxFuture, Connection, Connector};
use super::{AttachOptions, BackendStats, CutOff, Hub};

/// Longer than any step takes on a loaded machine.
const STEP: Duration = Duration::from_secs(60);

/// A connector with one connection, then none.
struct OnePeer(Option<Connection>);

impl Connector for OnePeer {
    fn connect(&mut self) -> BoxFuture<'_, io::Result<Option<Connection>>> {
        Box::pin(async move { Ok(self.0.take()) })
    }
}

/// A connector over one end of a pipe; the test holds the other end, with
/// room for `room` bytes in between.
fn peer(room: usize) -> (Box<dyn Connector>, DuplexStream) {
    let (ours, theirs) = tokio::io::duplex(room);
    let (reader, writer) = tokio::io::split(ours);
    let connection = Connection {
        peer: "test".into(),
        writer: Box::new(writer),
        reader: Some(Box::new(reader)),
        eof_is_hangup: true,
        typed: None,
    };
    (Box::new(OnePeer(Some(connection))), theirs)
}

fn source(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_stops_reading_is_cut_off_at_its_lag_and_holds_nobody_back() {
    const LAG: usize = 64 << 10;
    let source = source(4 << 20);
    let mut hub = Hub::new("mux0");
    let (stuck, mut stuck_end) = peer(16 << 10);
    let (reading, mut reading_end) = peer(16 << 10);
    let options = AttachOptions { lag: LAG, ..AttachOptions::default() };
    drop(hub.attach("stuck", stuck, options).unwrap());
    drop(hub.attach("reading", reading, AttachOptions::default()).unwrap());
    let mut cut_offs = hub.cut_offs();
    let (frontend, mut console) = peer(64 << 10);
    let running = tokio::spawn(hub.run(frontend, None, CancellationToken::new()));

    // The stuck peer reads nothing while the whole stream goes through.
    let copy = tokio::spawn(async move {
        let mut copy = Vec::new();
        reading_end.read_to_end(&mut copy).await.map(|_| copy)
    });
    tokio::time::timeout(STEP, console.write_all(&source))
        .await
        .expect("the console is not held back")
        .unwrap();
    let cut = tokio::time::timeout(STEP, cut_offs.recv()).await.expect("a cut-off is told").unwrap();
    let CutOff { hub: hub_id, backend, lag, behind, offset } = cut;
    assert_eq!((hub_id.as_str(), backend.as_str(), lag), ("mux0", "stuck", LAG));
    assert!(behind > 0 && behind <= LAG, "{behind} bytes behind");
    assert!(offset <= source.len() as u64, "{offset}");
    console.shutdown().await.unwrap();
    let report = tokio::time::timeout(STEP, running).await.expect("the hub ends").unwrap();
    assert_eq!(copy.await.unwrap().unwrap(), source, "the reading backend has every byte");

    // The stuck peer was let go: what the pipe held, a start of the stream,
    // then its end.
    let mut held = Vec::new();
    tokio::time::timeout(STEP, stuck_end.read_to_end(&mut held)).await.expect("its pipe is closed").unwrap();
    assert!(held.len() < LAG, "{} bytes", held.len());
    assert_eq!(held, source[..held.len()]);
    let figures: Vec<(&str, BackendStats)> =
        report.backends.iter().map(|(id, s)| (id.as_str(), *s)).collect();
    let total = source.len() as u64;
    let stuck = BackendStats { written: held.len() as u64, dropped: total - held.len() as u64 };
    assert_eq!(figures, [("stuck", stuck), ("reading", BackendStats { written: total, dropped: 0 })]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_lag_of_zero_a_peer_that_stops_reading_is_waited_for() {
    let source = source(1 << 20);
    let mut hub = Hub::new("mux0");
    let (stuck, mut stuck_end) = peer(16 << 10);
    drop(hub.attach("stuck", stuck, AttachOptions::default()).unwrap());
    let mut cut_offs = hub.cut_offs();
    let (frontend, mut console) = peer(16 << 10);
    let running = tokio::spawn(hub.run(frontend, None, CancellationToken::new()));

    // The console's pipe fills and stays full while the peer reads nothing:
    // a write of the whole stream cannot finish until the peer reads.
    let writing = tokio::spawn(async move {
        console.write_all(&source).await.unwrap();
        console.shutdown().await.unwrap();
        source
    });
    let mut first = vec![0u8; 1];
    stuck_end.read_exact(&mut first).await.unwrap();
    assert!(!writing.is_finished(), "the console wrote 1 MiB past a peer that read one byte");
    let mut rest = Vec::new();
    tokio::time::timeout(STEP, stuck_end.read_to_end(&mut rest)).await.expect("the stream ends").unwrap();
    let source = writing.await.unwrap();
    assert_eq!([first, rest].concat(), source, "every byte, once the peer reads");
    running.await.unwrap();
    assert!(cut_offs.try_recv().is_err(), "nobody was cut off");
}
