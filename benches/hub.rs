//! Fan-out throughput: a stand-in for QEMU writes the console stream into vcmux's
//! socket frontend as fast as it can; readers on 1 or 4 unix-socket backends take
//! it. The yardstick is socat copying the same stream between two unix sockets,
//! measured the same way in the same run.
//!
//! `cargo bench --bench hub`; figures in MiB/s are criterion's "thrpt" lines.

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use common::{FakeQemu, STEP, Vcmux, poll_until, random_bytes, temp_dir};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Bytes sent per measured iteration.
const BURST: usize = 16 << 20;

/// A running copier (vcmux or socat) with the console's writing end and the
/// byte counts of its readers.
struct Pipeline {
    console: UnixStream,
    received: Vec<Arc<Counter>>,
    sent: u64,
    _dir: tempfile::TempDir,
    _vcmux: Option<Vcmux>,
    _socat: Option<Child>,
}

impl Pipeline {
    /// vcmux with a socket frontend and `backends` listening unix-socket backends.
    fn vcmux(backends: usize) -> Pipeline {
        let dir = temp_dir();
        let qemu_path = dir.path().join("qemu.sock");
        let qemu = FakeQemu::listen(&qemu_path);
        let mut args = vec!["-frontend".to_string(), format!("socket,path={}", qemu_path.display())];
        let paths: Vec<PathBuf> = (0..backends).map(|i| dir.path().join(format!("b{i}.sock"))).collect();
        for (i, path) in paths.iter().enumerate() {
            args.push("-chardev".into());
            args.push(format!("socket,id=b{i},path={},server=on,wait=on,lag=0", path.display()));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let vcmux = Vcmux::start_with(&args, |c| {
            c.env("RUST_LOG", "warn,vcmux=info");
        });
        for i in 0..backends {
            vcmux.wait_log(&format!("b{i}: listening on"));
        }
        let received = paths.iter().map(|p| count_in_thread(UnixStream::connect(p).unwrap())).collect();
        let console = qemu.accept();
        Pipeline { console, received, sent: 0, _dir: dir, _vcmux: Some(vcmux), _socat: None }
    }

    /// socat copying from the console's socket to one listening unix socket.
    fn socat(buffer: Option<usize>) -> Pipeline {
        let dir = temp_dir();
        let qemu_path = dir.path().join("qemu.sock");
        let out_path = dir.path().join("out.sock");
        let qemu = FakeQemu::listen(&qemu_path);
        let mut command = Command::new("socat");
        if let Some(size) = buffer {
            command.args(["-b", &size.to_string()]);
        }
        let socat = command
            .arg(format!("UNIX-CONNECT:{}", qemu_path.display()))
            .arg(format!("UNIX-LISTEN:{}", out_path.display()))
            .stdin(Stdio::null())
            .spawn()
            .expect("socat is installed (apt-get install socat)");
        let console = qemu.accept();
        let reader = connect_when_listening(&out_path);
        let received = vec![count_in_thread(reader)];
        Pipeline { console, received, sent: 0, _dir: dir, _vcmux: None, _socat: Some(socat) }
    }

    /// Sends `data` and waits until every reader has it; returns the time taken.
    fn burst(&mut self, data: &[u8]) -> Duration {
        let start = Instant::now();
        self.console.write_all(data).unwrap();
        self.sent += data.len() as u64;
        for counter in &self.received {
            counter.wait_for(self.sent);
        }
        start.elapsed()
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        if let Some(socat) = self._socat.as_mut() {
            let _ = socat.kill();
            let _ = socat.wait();
        }
    }
}

fn connect_when_listening(path: &Path) -> UnixStream {
    let mut stream = None;
    poll_until("socat listens", || {
        stream = UnixStream::connect(path).ok();
        stream.is_some()
    });
    stream.unwrap()
}

/// The bytes a reader has taken, with a way to wait for a count.
#[derive(Default)]
struct Counter {
    bytes: Mutex<u64>,
    grown: Condvar,
}

impl Counter {
    fn add(&self, n: usize) {
        *self.bytes.lock().unwrap() += n as u64;
        self.grown.notify_all();
    }

    fn wait_for(&self, at_least: u64) {
        let guard = self.bytes.lock().unwrap();
        let (bytes, timeout) = self.grown.wait_timeout_while(guard, STEP, |n| *n < at_least).unwrap();
        assert!(!timeout.timed_out(), "a reader stalled at {} of {at_least} bytes", *bytes);
    }
}

/// Reads a stream to its end in a thread, counting bytes.
fn count_in_thread(mut stream: UnixStream) -> Arc<Counter> {
    let count = Arc::new(Counter::default());
    let counter = count.clone();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 256 << 10];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            counter.add(n);
        }
    });
    count
}

fn fan_out(c: &mut Criterion) {
    let data = random_bytes(BURST);
    let mut group = c.benchmark_group("fan-out");
    group.throughput(Throughput::Bytes(BURST as u64));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(8));

    type Setup = Box<dyn Fn() -> Pipeline>;
    let cases: Vec<(&str, Setup)> = vec![
        ("socat (default 8 KiB buffer), 1 reader", Box::new(|| Pipeline::socat(None))),
        ("socat -b 65536, 1 reader", Box::new(|| Pipeline::socat(Some(65536)))),
        ("vcmux, 1 unix backend", Box::new(|| Pipeline::vcmux(1))),
        ("vcmux, 4 unix backends", Box::new(|| Pipeline::vcmux(4))),
    ];
    for (name, make) in cases {
        let mut pipeline = make();
        group.bench_function(name, |b| {
            b.iter_custom(|iters| (0..iters).map(|_| pipeline.burst(&data)).sum());
        });
    }
    group.finish();
}

criterion_group!(benches, fan_out);
criterion_main!(benches);
