//! Black-box tests of the hub through the real binary, real unix and TCP sockets,
//! and a stand-in for QEMU's serial socket.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// How a test spells its hub.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Syntax {
    /// The mux-be patch's: `-chardev mux-be,id=mux0` and `mux-be-id=mux0` on each backend.
    MuxBe,
    /// QEMU 10's: `-chardev hub,id=mux0,chardevs.N=…`, the hub defined last.
    Hub,
}

/// A backend in a fan-out test.
#[derive(Clone, Copy)]
enum Kind {
    Unix,
    Tcp,
    File,
}

/// What a fan-out run saw, for comparing runs.
#[derive(Debug, PartialEq)]
struct Outcome {
    /// Each backend's figures from the exit summary, in the hub's order.
    figures: Vec<(String, (u64, u64))>,
    /// The order in which the summary lists the backends.
    summary_order: Vec<String>,
}

/// Streams `size` random bytes from a fake QEMU through vcmux to `kinds`, with each
/// socket client typing a line back; checks every backend got the stream exactly
/// and the frontend got every typed line.
fn fan_out(kinds: &[Kind], syntax: Syntax, size: usize) -> Outcome {
    let dir = temp_dir();
    let qemu_path = dir.path().join("qemu.sock");
    let qemu = FakeQemu::listen(&qemu_path);
    let ids: Vec<String> = (0..kinds.len()).map(|i| format!("b{i}")).collect();

    let mut args: Vec<String> = vec!["-frontend".into(), format!("socket,path={}", qemu_path.display())];
    let link = if syntax == Syntax::MuxBe { ",mux-be-id=mux0" } else { "" };
    if syntax == Syntax::MuxBe {
        args.extend(["-chardev".into(), "mux-be,id=mux0".into()]);
    }
    for (id, kind) in ids.iter().zip(kinds) {
        let spec = match kind {
            Kind::Unix => format!("socket,id={id},path={},server=on,wait=on", path_in(&dir, id)),
            Kind::Tcp => format!("socket,id={id},host=127.0.0.1,port=0,server=on,wait=on"),
            Kind::File => format!("file,id={id},path={}", path_in(&dir, id)),
        };
        args.extend(["-chardev".into(), format!("{spec}{link}")]);
    }
    if syntax == Syntax::Hub {
        let list: Vec<String> = ids.iter().enumerate().map(|(n, id)| format!("chardevs.{n}={id}")).collect();
        args.extend(["-chardev".into(), format!("hub,id=mux0,{}", list.join(","))]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut vcmux = Vcmux::start(&args);

    // Connect a client to every socket backend; each keeps a writer to type with.
    let mut readers = Vec::new();
    let mut typists: Vec<(String, Box<dyn Write>)> = Vec::new();
    for (id, kind) in ids.iter().zip(kinds) {
        match kind {
            Kind::Unix => {
                vcmux.wait_log(&format!("{id}: listening on"));
                let stream = connect(&dir.path().join(id));
                typists.push((id.clone(), Box::new(stream.try_clone().unwrap())));
                readers.push((id.clone(), read_to_end_in_thread(stream)));
            }
            Kind::Tcp => {
                let line = vcmux.wait_log(&format!("{id}: listening on"));
                let address = line.rsplit("tcp:").next().unwrap().trim().to_string();
                let stream = TcpStream::connect(&address).unwrap();
                stream.set_read_timeout(Some(STEP)).unwrap();
                typists.push((id.clone(), Box::new(stream.try_clone().unwrap())));
                readers.push((id.clone(), read_to_end_in_thread(stream)));
            }
            Kind::File => {}
        }
    }

    let console = qemu.accept();
    vcmux.wait_log("mux0: frontend connected");
    for (id, typist) in &mut typists {
        typist.write_all(format!("typed by {id}\n").as_bytes()).unwrap();
    }
    let mut typed = String::new();
    let mut reader = console.try_clone().unwrap();
    while typists.iter().any(|(id, _)| !typed.contains(&format!("typed by {id}\n"))) {
        let mut buf = [0u8; 4096];
        let n = reader.read(&mut buf).expect("typed lines reach the console");
        assert!(n > 0, "console closed before the typed lines arrived; got {typed:?}");
        typed.push_str(&String::from_utf8_lossy(&buf[..n]));
    }

    let source = Arc::new(random_bytes(size));
    write_and_close_in_thread(console, source.clone()).join().unwrap();
    assert_eq!(vcmux.wait_exit(), 0, "vcmux exits 0 at the console's end");

    for (id, reader) in readers {
        assert_same(&format!("socket backend {id}"), &reader.join().unwrap(), &source);
    }
    for (id, kind) in ids.iter().zip(kinds) {
        if let Kind::File = kind {
            assert_same(&format!("file backend {id}"), &std::fs::read(dir.path().join(id)).unwrap(), &source);
        }
    }
    let figures: Vec<(String, (u64, u64))> =
        ids.iter().map(|id| (id.clone(), vcmux.backend_figures(id))).collect();
    for (id, (written, dropped)) in &figures {
        assert_eq!((*written, *dropped), (size as u64, 0), "{id}'s figures");
    }
    let log = vcmux.log();
    let mut summary_order: Vec<(usize, String)> =
        ids.iter().map(|id| (log.find(&format!("backend {id}: ")).unwrap(), id.clone())).collect();
    summary_order.sort();
    Outcome { figures, summary_order: summary_order.into_iter().map(|(_, id)| id).collect() }
}

#[test]
fn one_backend_gets_the_stream_byte_exact() {
    fan_out(&[Kind::Unix], Syntax::MuxBe, 4 << 20);
}

#[test]
fn two_backends_get_the_stream_byte_exact() {
    fan_out(&[Kind::Unix, Kind::File], Syntax::MuxBe, 4 << 20);
}

#[test]
fn four_backends_get_the_stream_byte_exact() {
    fan_out(&[Kind::Unix, Kind::File, Kind::Tcp, Kind::File], Syntax::MuxBe, 4 << 20);
}

#[test]
fn hub_chardevs_form_behaves_as_the_mux_be_form() {
    let kinds = [Kind::File, Kind::Unix, Kind::Tcp, Kind::Unix];
    let patch = fan_out(&kinds, Syntax::MuxBe, 1 << 20);
    let qemu10 = fan_out(&kinds, Syntax::Hub, 1 << 20);
    assert_eq!(patch, qemu10);
    assert_eq!(patch.summary_order, ["b0", "b1", "b2", "b3"]);
}

/// Waits until `stream` would block on writing for a whole second: the sign that
/// vcmux has stopped reading it.
fn held_back(stream: &UnixStream) -> bool {
    let mut fds = [PollFd::new(stream.as_fd(), PollFlags::POLLOUT)];
    poll(&mut fds, PollTimeout::from(1000u16)).unwrap() == 0
}

/// `lag=0`, QEMU's exact semantics: a client that stops reading is waited for.
#[test]
fn a_client_that_stops_reading_holds_back_the_console_then_gets_everything_once() {
    let dir = temp_dir();
    let (sock, log) = (path_in(&dir, "s0.sock"), path_in(&dir, "con.log"));
    let (qemu, mut vcmux) = start_on_fake_qemu(
        &dir,
        &[
            "-chardev",
            "mux-be,id=mux0",
            "-chardev",
            &format!("socket,id=s0,path={sock},server=on,wait=on,mux-be-id=mux0,lag=0"),
            "-chardev",
            &format!("file,id=f0,path={log},mux-be-id=mux0"),
        ],
    );
    vcmux.wait_log("s0: listening on");
    let client = connect(std::path::Path::new(&sock));
    let mut console = qemu.accept();

    // The client reads nothing: the console soon cannot write any more.
    let source = Arc::new(random_bytes(32 << 20));
    console.set_nonblocking(true).unwrap();
    let mut accepted = 0;
    loop {
        assert!(accepted < source.len(), "vcmux took the whole 32 MiB while its client read nothing");
        match console.write(&source[accepted..(accepted + 65536).min(source.len())]) {
            Ok(n) => accepted += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if held_back(&console) {
                    break;
                }
            }
            Err(e) => panic!("console write: {e}"),
        }
    }
    assert!(accepted < 8 << 20, "{accepted} bytes taken while the client read nothing");
    assert!(file_len(&log) <= accepted as u64);

    // The client reads again: everything flows, and every backend has it once.
    let received = read_to_end_in_thread(client);
    console.set_nonblocking(false).unwrap();
    console.write_all(&source[accepted..]).unwrap();
    console.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(vcmux.wait_exit(), 0);
    assert_same("the client's copy", &received.join().unwrap(), &source);
    assert_same("the log", &std::fs::read(&log).unwrap(), &source);
    assert_eq!(vcmux.backend_figures("s0"), (source.len() as u64, 0));
}

#[test]
fn a_client_that_leaves_stalls_nobody_and_rejoins_at_the_current_position() {
    let dir = temp_dir();
    let (sock, log) = (path_in(&dir, "s0.sock"), path_in(&dir, "con.log"));
    let (qemu, mut vcmux) = start_on_fake_qemu(
        &dir,
        &[
            "-chardev",
            "hub,id=mux0,chardevs.0=s0,chardevs.1=f0",
            "-chardev",
            &format!("socket,id=s0,path={sock},server=on,wait=on"),
            "-chardev",
            &format!("file,id=f0,path={log}"),
        ],
    );
    vcmux.wait_log("s0: listening on");
    let mut first = connect(std::path::Path::new(&sock));
    let mut console = qemu.accept();

    let (part1, part2, part3) = (random_bytes(1 << 20), random_bytes(3 << 20), random_bytes(2 << 20));
    // The client must read while the console writes: the hub paces one by the other.
    let mut writer = console.try_clone().unwrap();
    let part1_copy = part1.clone();
    let writing = std::thread::spawn(move || writer.write_all(&part1_copy).unwrap());
    let mut got1 = vec![0u8; part1.len()];
    first.read_exact(&mut got1).unwrap();
    writing.join().unwrap();
    assert_same("the first client's copy", &got1, &part1);
    drop(first);
    vcmux.wait_log("s0: unix:");
    vcmux.wait_log("disconnected");

    // Nobody on s0: the console flows on into the log.
    console.write_all(&part2).unwrap();
    let total = (part1.len() + part2.len()) as u64;
    poll_until("the log has parts 1 and 2", || file_len(&log) == total);

    // A new client starts at the current position; what it missed was counted.
    let second = connect(std::path::Path::new(&sock));
    let line = vcmux.wait_log(&format!("({} bytes dropped while no one was)", part2.len()));
    assert!(line.contains("s0: "), "{line}");
    let received = read_to_end_in_thread(second);
    console.write_all(&part3).unwrap();
    console.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(vcmux.wait_exit(), 0);
    assert_same("the second client's copy", &received.join().unwrap(), &part3);
    let whole = [part1.clone(), part2.clone(), part3.clone()].concat();
    assert_same("the log", &std::fs::read(&log).unwrap(), &whole);
    assert_eq!(vcmux.backend_figures("s0"), ((part1.len() + part3.len()) as u64, part2.len() as u64));
    assert_eq!(vcmux.backend_figures("f0"), (whole.len() as u64, 0));
}

#[test]
fn a_client_that_connects_late_with_replay_gets_the_last_bytes_then_the_stream() {
    const REPLAY: usize = 64 << 10;
    let dir = temp_dir();
    let (sock, log) = (path_in(&dir, "s0.sock"), path_in(&dir, "con.log"));
    let mut vcmux = Vcmux::start(&[
        "-chardev",
        &format!("file,id=f0,path={log}"),
        "-chardev",
        &format!("socket,id=s0,path={sock},server=on,wait=off,replay=64K"),
        "--",
        "sh",
        "-c",
        COUNT_PAUSE_COUNT,
    ]);
    let before = count_before_pause();
    poll_until("the log has the lines before the pause", || file_len(&log) == before.len() as u64);

    let mut client = connect(std::path::Path::new(&sock));
    vcmux.wait_log(&format!("replaying the last {REPLAY} bytes"));
    client.write_all(b"go\n").unwrap();
    let mut copy = Vec::new();
    while !copy.ends_with(COUNT_LAST_LINE) {
        let mut buffer = [0u8; 64 << 10];
        let n = client.read(&mut buffer).expect("the console reaches the client");
        assert!(n > 0, "the client's copy ended at {} bytes", copy.len());
        copy.extend_from_slice(&buffer[..n]);
    }
    client.write_all(b"end\n").unwrap();
    assert_eq!(vcmux.wait_exit(), 0);

    let whole = count_with_go();
    assert_same("the log", &std::fs::read(&log).unwrap(), &[&whole[..], b"end\r\n"].concat());
    assert_replayed_then_live("the client's copy", &copy, &whole, before.len(), REPLAY);
}

/// A 256-byte record: who typed it, its number, and filler that depends on both.
fn record(who: u8, n: u32) -> Vec<u8> {
    let mut r = vec![who];
    r.extend_from_slice(&n.to_be_bytes());
    r.extend((0..251u32).map(|i| (i.wrapping_mul(31) ^ n.wrapping_mul(7) ^ who as u32) as u8));
    r
}

#[test]
fn chunks_typed_by_two_clients_reach_the_console_whole() {
    const RECORDS: u32 = 2000;
    let dir = temp_dir();
    let (qemu, mut vcmux) = start_on_fake_qemu(
        &dir,
        &[
            "-chardev",
            "mux-be,id=mux0",
            "-chardev",
            &format!("socket,id=a,path={},server=on,wait=on,mux-be-id=mux0", path_in(&dir, "a.sock")),
            "-chardev",
            &format!("socket,id=b,path={},server=on,wait=on,mux-be-id=mux0", path_in(&dir, "b.sock")),
        ],
    );
    vcmux.wait_log("a: listening on");
    vcmux.wait_log("b: listening on");
    let typists: Vec<(u8, UnixStream)> =
        vec![(b'A', connect(&dir.path().join("a.sock"))), (b'B', connect(&dir.path().join("b.sock")))];
    let mut console = qemu.accept();
    vcmux.wait_log("mux0: frontend connected");

    // Both type at once, one write per record.
    let threads: Vec<_> = typists
        .into_iter()
        .map(|(who, mut stream)| {
            std::thread::spawn(move || {
                for n in 0..RECORDS {
                    stream.write_all(&record(who, n)).unwrap();
                }
                stream
            })
        })
        .collect();
    let mut typed = vec![0u8; 2 * RECORDS as usize * 256];
    console.read_exact(&mut typed).expect("every typed record reaches the console");
    let _clients: Vec<UnixStream> = threads.into_iter().map(|t| t.join().unwrap()).collect();

    let mut next = [0u32; 2];
    for (i, chunk) in typed.chunks(256).enumerate() {
        let who = chunk[0];
        assert!(who == b'A' || who == b'B', "record {i} starts with {who}: a chunk was split");
        let slot = (who - b'A') as usize;
        assert_eq!(chunk, record(who, next[slot]).as_slice(), "record {i}: torn or out of order");
        next[slot] += 1;
    }
    assert_eq!(next, [RECORDS, RECORDS]);
    console.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(vcmux.wait_exit(), 0);
}

/// `lag=0` on both: with no vc to set the pace, a slow client and the log are
/// waited for, and lose nothing.
#[test]
fn sixty_four_mib_from_a_fast_console_to_a_slow_client_lose_nothing() {
    use sha2::{Digest, Sha256};
    let dir = temp_dir();
    let qemu_path = dir.path().join("qemu.sock");
    let qemu = FakeQemu::listen(&qemu_path);
    let (sock, log) = (path_in(&dir, "s0.sock"), path_in(&dir, "con.log"));
    let mut vcmux = Vcmux::start(&[
        "-frontend",
        &format!("socket,path={}", qemu_path.display()),
        "-chardev",
        &format!("file,id=f0,path={log},lag=0"),
        "-chardev",
        &format!("socket,id=s0,path={sock},server=on,wait=on,lag=0"),
    ]);
    vcmux.wait_log("s0: listening on");
    let mut client = connect(std::path::Path::new(&sock));
    let slow = std::thread::spawn(move || {
        let mut hash = Sha256::new();
        let mut buf = vec![0u8; 16 << 10];
        loop {
            let n = client.read(&mut buf).unwrap();
            if n == 0 {
                break hash.finalize();
            }
            hash.update(&buf[..n]);
            // The slowness is what is under test: this client takes at most
            // 16 KiB a millisecond, far less than the console sends.
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    let console = qemu.accept();
    let source = Arc::new(random_bytes(64 << 20));
    let want = Sha256::digest(source.as_slice());
    write_and_close_in_thread(console, source).join().unwrap();
    assert_eq!(vcmux.wait_exit(), 0);
    assert_eq!(slow.join().unwrap(), want, "the slow client's SHA-256");
    assert_eq!(Sha256::digest(std::fs::read(&log).unwrap()), want, "the log's SHA-256");
}

#[test]
fn a_console_socket_with_reconnect_is_retried_until_it_appears_and_after_it_ends() {
    let dir = temp_dir();
    let qemu_path = dir.path().join("qemu.sock");
    let log = path_in(&dir, "con.log");
    let mut vcmux = Vcmux::start(&[
        "-frontend",
        &format!("socket,path={},reconnect=1", qemu_path.display()),
        "-chardev",
        &format!("file,id=f0,path={log}"),
    ]);
    vcmux.wait_log("retrying");
    let qemu = FakeQemu::listen(&qemu_path);
    let mut console = qemu.accept();
    console.write_all(b"first boot\n").unwrap();
    drop(console);
    vcmux.wait_log("frontend closed");
    let mut console = qemu.accept();
    console.write_all(b"second boot\n").unwrap();
    poll_until("the log has both boots", || file_len(&log) == 23);
    vcmux.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(vcmux.wait_exit(), 0);
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "first boot\nsecond boot\n");
}

#[test]
fn a_connecting_backend_reconnects_to_its_server() {
    let dir = temp_dir();
    let collector = FakeQemu::listen(&dir.path().join("collector.sock"));
    let (qemu, mut vcmux) = start_on_fake_qemu(
        &dir,
        &["-chardev", &format!("socket,id=c0,path={},reconnect=1", path_in(&dir, "collector.sock"))],
    );
    let mut first = collector.accept();
    let mut console = qemu.accept();
    console.write_all(b"one\n").unwrap();
    let mut got = [0u8; 4];
    first.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"one\n");
    drop(first);
    vcmux.wait_log("c0: unix:");
    let mut second = collector.accept();
    // Connected, disconnected, connected again.
    poll_until("c0 reconnects", || vcmux.count_log("c0: unix:") == 3);
    console.write_all(b"two\n").unwrap();
    second.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"two\n");
    drop(console);
    assert_eq!(vcmux.wait_exit(), 0);
}

#[test]
fn a_log_can_append_and_timestamp_each_line() {
    let dir = temp_dir();
    let log = path_in(&dir, "con.log");
    std::fs::write(&log, "earlier run\n").unwrap();
    let mut vcmux = Vcmux::start(&[
        "-chardev",
        &format!("file,id=f0,path={log},append=on,timestamps=on"),
        "--",
        "printf",
        "a\\nb\\n",
    ]);
    assert_eq!(vcmux.wait_exit(), 0);
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.trim_end_matches('\n').split('\n').collect();
    assert_eq!(lines[0], "earlier run");
    assert_eq!(lines.len(), 3, "{text:?}");
    for (line, want) in lines[1..].iter().zip(["a\r", "b\r"]) {
        let (stamp, rest) = line.split_once(' ').unwrap();
        assert_eq!(rest, want);
        // 2026-11-25T19:43:43.123Z
        assert_eq!(stamp.len(), 24, "{stamp}");
        assert!(
            stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T' && stamp.as_bytes()[19] == b'.',
            "{stamp}"
        );
    }
}

#[test]
fn sigterm_flushes_and_exits_zero() {
    let dir = temp_dir();
    let log = path_in(&dir, "con.log");
    let (qemu, mut vcmux) = start_on_fake_qemu(
        &dir,
        &[
            "-chardev",
            &format!("file,id=f0,path={log}"),
            "-chardev",
            &format!("socket,id=s0,path={},server=on,wait=off", path_in(&dir, "s0.sock")),
        ],
    );
    let mut console = qemu.accept();
    console.write_all(b"still running\n").unwrap();
    poll_until("the log has the line", || file_len(&log) == 14);
    vcmux.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(vcmux.wait_exit(), 0);
    vcmux.wait_log("SIGTERM");
    assert_eq!(vcmux.backend_figures("f0"), (14, 0));
    assert_eq!(vcmux.backend_figures("s0"), (0, 14));
    assert!(!dir.path().join("s0.sock").exists(), "the listening socket is removed");
}

#[test]
fn logfiles_copy_the_output_whether_or_not_a_client_is_there() {
    let dir = temp_dir();
    let qemu = FakeQemu::listen(&dir.path().join("qemu.sock"));
    let (frontend_log, socket_log) = (path_in(&dir, "frontend.log"), path_in(&dir, "s0.log"));
    let mut vcmux = Vcmux::start(&[
        "-frontend",
        &format!("socket,path={},logfile={frontend_log}", dir.path().join("qemu.sock").display()),
        "-chardev",
        &format!("socket,id=s0,path={},server=on,wait=off,logfile={socket_log}", path_in(&dir, "s0.sock")),
    ]);
    let console = qemu.accept();
    let source = Arc::new(random_bytes(1 << 20));
    write_and_close_in_thread(console, source.clone()).join().unwrap();
    assert_eq!(vcmux.wait_exit(), 0);
    assert_eq!(vcmux.backend_figures("s0"), (0, source.len() as u64), "nobody was connected");
    assert_same("the frontend's logfile", &std::fs::read(&frontend_log).unwrap(), &source);
    assert_same("s0's logfile", &std::fs::read(&socket_log).unwrap(), &source);
}

#[test]
fn a_listening_console_socket_takes_one_source_after_another() {
    let dir = temp_dir();
    let log = path_in(&dir, "con.log");
    let mut vcmux = Vcmux::start(&[
        "-frontend",
        "socket,host=127.0.0.1,port=0,server=on",
        "-chardev",
        &format!("file,id=f0,path={log}"),
    ]);
    let line = vcmux.wait_log("listening on tcp:");
    let address = line.rsplit("tcp:").next().unwrap().trim().to_string();
    for (n, text) in ["first guest\n", "second guest\n"].iter().enumerate() {
        let mut guest = TcpStream::connect(&address).unwrap();
        guest.write_all(text.as_bytes()).unwrap();
        drop(guest);
        poll_until("the frontend closes", || vcmux.count_log("frontend closed") == n + 1);
    }
    vcmux.signal(nix::sys::signal::Signal::SIGINT);
    assert_eq!(vcmux.wait_exit(), 0);
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "first guest\nsecond guest\n", "{}", vcmux.log());
}

#[test]
fn a_socket_another_vcmux_listens_on_is_left_alone() {
    let dir = temp_dir();
    let sock = path_in(&dir, "s0.sock");
    let spec = format!("socket,id=s0,path={sock},server=on,wait=off");
    let mut first = Vcmux::start(&["-chardev", &spec, "--", "sleep", "600"]);
    first.wait_log("s0: listening on");
    let mut second = Vcmux::start(&["-chardev", &spec, "--", "true"]);
    assert_eq!(second.wait_exit(), 2);
    let log = second.log();
    assert!(log.contains("s0") && log.contains("another process is listening there"), "{log}");
    // The first one still serves its socket.
    let client = connect(std::path::Path::new(&sock));
    first.wait_log("s0: unix:");
    drop(client);
    first.signal(nix::sys::signal::Signal::SIGTERM);
    // The command (sleep) was hung up: its status is vcmux's.
    assert_eq!(first.wait_exit(), 128 + 1);
}
