//! The command line through the real binary: every configuration error exits 2
//! with one line naming the ids involved, and nothing is started.

mod common;

use common::*;

/// Runs vcmux with `args` plus a listening socket and a command that would leave
/// traces if anything started; returns the exit code and stderr's lines.
fn refused(args: &[&str]) -> (i32, Vec<String>) {
    let dir = temp_dir();
    let sock = path_in(&dir, "trace.sock");
    let ran = path_in(&dir, "ran");
    // The traced socket joins mux0 when there is one; a test of the hub form lists it.
    let mux = if args.iter().any(|a| a.starts_with("mux-be,id=mux0")) { ",mux-be-id=mux0" } else { "" };
    let mut full =
        vec!["-chardev".to_string(), format!("socket,id=trace,path={sock},server=on,wait=off{mux}")];
    full.extend(args.iter().map(|s| s.to_string()));
    if !args.contains(&"--") {
        full.extend(["--".into(), "touch".into(), ran.clone()]);
    }
    let full: Vec<&str> = full.iter().map(String::as_str).collect();
    let mut vcmux = Vcmux::start(&full);
    let code = vcmux.wait_exit();
    assert!(!std::path::Path::new(&sock).exists(), "a socket was bound for {args:?}");
    assert!(!std::path::Path::new(&ran).exists(), "the command ran for {args:?}");
    let log = vcmux.log();
    (code, log.lines().map(str::to_string).collect())
}

/// Asserts that `args` exit 2 with one line containing every needle.
#[track_caller]
fn assert_refused(args: &[&str], needles: &[&str]) {
    let (code, lines) = refused(args);
    assert_eq!(code, 2, "{args:?}: {lines:?}");
    assert_eq!(lines.len(), 1, "{args:?} must print one line: {lines:?}");
    for needle in needles {
        assert!(lines[0].contains(needle), "{args:?}: {:?} lacks {needle:?}", lines[0]);
    }
}

#[test]
fn a_fifth_backend_is_refused_naming_the_hub_and_the_limit() {
    assert_refused(
        &[
            "-chardev",
            "mux-be,id=mux0",
            "-chardev",
            "null,id=n1,mux-be-id=mux0",
            "-chardev",
            "null,id=n2,mux-be-id=mux0",
            "-chardev",
            "null,id=n3,mux-be-id=mux0",
            "-chardev",
            "null,id=n4,mux-be-id=mux0",
        ],
        &["'mux0'", "limit is 4", "trace, n1, n2, n3, n4"],
    );
    // QEMU 10's form: chardevs.4 is one too many.
    assert_refused(
        &[
            "-chardev",
            "hub,id=h,chardevs.0=a,chardevs.1=b,chardevs.2=c,chardevs.3=d,chardevs.4=trace",
            "-chardev",
            "null,id=a",
            "-chardev",
            "null,id=b",
            "-chardev",
            "null,id=c",
            "-chardev",
            "null,id=d",
        ],
        &["'h'", "limit is 4"],
    );
}

#[test]
fn every_graph_error_exits_2_naming_the_ids() {
    let cases: &[(&[&str], &[&str])] = &[
        // unknown mux-be-id
        (&["-chardev", "mux-be,id=mux0", "-chardev", "null,id=a,mux-be-id=mux9"], &["'a'", "'mux9'"]),
        // an id that is not a mux-be
        (
            &["-chardev", "mux-be,id=mux0", "-chardev", "null,id=a,mux-be-id=trace"],
            &["'a'", "'trace'", "not a mux-be"],
        ),
        // mux=on with mux-be-id
        (
            &["-chardev", "mux-be,id=mux0", "-chardev", "null,id=a,mux=on,mux-be-id=mux0"],
            &["'a'", "mux=on", "mux0"],
        ),
        // a hub as a backend of a hub, and of itself
        (
            &["-chardev", "mux-be,id=mux0", "-chardev", "mux-be,id=inner,mux-be-id=mux0"],
            &["'inner'", "'mux0'", "stack"],
        ),
        (&["-chardev", "mux-be,id=mux0,mux-be-id=mux0"], &["'mux0'", "itself"]),
        (
            &["-chardev", "mux-be,id=mux0", "-chardev", "hub,id=h,chardevs.0=mux0"],
            &["'mux0'", "'h'", "stack"],
        ),
        // duplicate ids
        (
            &["-chardev", "mux-be,id=mux0", "-chardev", "null,id=trace,mux-be-id=mux0"],
            &["duplicate", "'trace'"],
        ),
        // two frontends on one hub
        (
            &["-chardev", "mux-be,id=mux0", "-frontend", "stdio", "--", "true"],
            &["'mux0'", "two frontends", "stdio"],
        ),
        (
            &["-chardev", "mux-be,id=mux0", "-frontend", "socket,path=/nonexistent/q", "-frontend", "stdio"],
            &["'mux0'", "two frontends"],
        ),
        // chardevs.N naming an unknown id, or a chardev that already has a hub
        (&["-chardev", "hub,id=h,chardevs.0=trace,chardevs.1=ghost"], &["'h'", "chardevs.1=ghost"]),
        (
            &["-chardev", "mux-be,id=mux0", "-chardev", "hub,id=h,chardevs.0=trace"],
            &["'trace'", "'mux0'", "'h'"],
        ),
    ];
    for (args, needles) in cases {
        assert_refused(args, needles);
    }
}

#[test]
fn bad_options_exit_2_naming_the_option() {
    for (args, needles) in [
        (&["-chardev", "file,id=f,path=/tmp/x,colour=red"][..], &["unknown option 'colour'"][..]),
        (&["-chardev", "file,id=f,path=/tmp/x,append=perhaps"], &["append=perhaps"]),
        (&["-chardev", "telepathy,id=t"], &["unknown chardev kind 'telepathy'"]),
        (&["-chardev", "file,path=/tmp/x"], &["'id=' is required"]),
        (&["-chardv", "null,id=n"], &["'-chardv'"]),
        (&["--colour"], &["--colour"]),
        (&["-frontend", "carrier-pigeon"], &["unknown frontend kind 'carrier-pigeon'"]),
        (&["-chardev", "socket,id=s,path=/tmp/x,server=on,replay=1G"], &["'replay=1G' is not a size"]),
        (&["-chardev", "file,id=f,path=/tmp/x,replay=65M"], &["'replay=65M' is more than 64M"]),
        (&["-chardev", "pty,id=p,replay=lots"], &["'replay=lots' is not a size"]),
        (&["-chardev", "vc,id=v,replay=64K"], &["unknown option 'replay'"]),
        (&["-vnc", "127.0.0.1:5500,reverse=sometimes"], &["reverse=sometimes"]),
        (&["-vnc", "127.0.0.1:0,reverse=on"], &["'127.0.0.1:0'"]),
        (&["-vnc", "127.0.0.1:5500,reverse=on,websocket=5700"], &["websocket=", "reverse=on"]),
    ] {
        assert_refused(args, needles);
    }
}

#[test]
fn a_vc_past_the_pixel_bound_is_refused_naming_the_option_and_the_bound() {
    // 1000x1000 cells of 10x19 took 835 MB; 820 columns are 8200 pixels wide.
    for (vc, screen) in [
        ("vc,id=v,cols=1000,rows=1000", "10000x19000"),
        ("vc,id=v,cols=820,rows=10", "8200x190"),
        ("vc,id=v,cols=200,rows=120,font-size=48", "5800x6720"),
    ] {
        assert_refused(
            &["-chardev", vc],
            &[&format!("-chardev '{vc}'"), screen, "8192 pixels a side and 7680x4320 pixels in all"],
        );
    }
}

#[test]
fn help_teaches_by_example_and_exits_0() {
    for flag in ["--help", "-help", "-h"] {
        let mut vcmux = Vcmux::start_with(&[flag], |c| {
            c.stdout(std::process::Stdio::piped());
        });
        assert_eq!(vcmux.wait_exit(), 0);
    }
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_vcmux")).arg("--help").output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for needle in [
        "-chardev mux-be,id=HUB",
        "chardevs.0=ID",
        "Examples:",
        "socat",
        "screen",
        "reconnect=S",
        "replay=SIZE",
        "-chardev asciicast,id=ID,path=F.cast[,input=on]",
        "--format txt|ansi|png|gif",
        "reverse=on",
        "vncviewer -listen PORT",
    ] {
        assert!(help.contains(needle), "help lacks {needle:?}");
    }
}

#[test]
fn render_prints_the_final_screen_of_a_recording() {
    // A real program's bytes and the screen tmux showed for them (the corpus).
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/term-corpus");
    let line = std::fs::read_to_string(dir.join("cases.txt")).unwrap();
    let (name, cols, rows) = line
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 3 && f[0].starts_with("vim"))
                .then(|| (f[0].to_string(), f[1].to_string(), f[2].to_string()))
        })
        .next()
        .expect("a vim recording in the corpus");
    let input = dir.join(format!("{name}.in"));
    let out = temp_dir();
    let txt = path_in(&out, "screen.txt");
    let mut vcmux =
        Vcmux::start(&["render", input.to_str().unwrap(), "--cols", &cols, "--rows", &rows, "-o", &txt]);
    assert_eq!(vcmux.wait_exit(), 0, "{}", vcmux.log());
    let want = std::fs::read_to_string(dir.join(format!("{name}.txt"))).unwrap();
    assert_eq!(std::fs::read_to_string(&txt).unwrap(), want);

    let ansi = path_in(&out, "screen.ansi");
    let mut vcmux =
        Vcmux::start(&["render", input.to_str().unwrap(), "--cols", &cols, "--rows", &rows, "-o", &ansi]);
    assert_eq!(vcmux.wait_exit(), 0);
    assert!(std::fs::read_to_string(&ansi).unwrap().contains("\x1b["), "the .ans dump carries SGR");
}

#[test]
fn render_refuses_what_it_cannot_do_in_one_line() {
    for (args, code, needle) in [
        (&["render", "/nonexistent/stream"][..], 1, "cannot read /nonexistent/stream"),
        (&["render", "-", "-o", "/tmp/screen.bmp"], 2, "--format"),
        (&["render", "-", "--cols", "0"], 2, "--cols"),
        (&["render", "-", "--format", "gif", "--fps", "0"], 2, "--fps"),
        (&["render", "-", "--format", "gif", "--fps", "51"], 2, "--fps"),
        (&["render", "-", "--format", "gif", "--speed", "-1"], 2, "--speed"),
        (&["render", "-", "--format", "gif", "--idle-limit", "0"], 2, "--idle-limit"),
        (&["render", "-", "--format", "gif", "--speed", "fast"], 2, "--speed"),
        (&["render", "-", "--speed", "2"], 2, "--speed is for GIF output"),
        (&["render", "-", "--fps", "10", "-o", "/tmp/x.png"], 2, "--fps is for GIF output"),
        (&["render", "-", "-o", "/tmp/vcmux-not-written.gif"], 2, "not one"),
    ] {
        let mut vcmux = Vcmux::start(args);
        assert_eq!(vcmux.wait_exit(), code, "{args:?}");
        let log = vcmux.log();
        assert_eq!(log.lines().count(), 1, "{log}");
        assert!(log.contains(needle), "{log}");
    }
}

/// Runs `args` and returns the exit code and stderr's lines.
fn run_to_exit(args: &[&str]) -> (i32, Vec<String>) {
    let mut vcmux = Vcmux::start(args);
    let code = vcmux.wait_exit();
    (code, vcmux.log().lines().map(str::to_string).collect())
}

#[test]
fn start_up_errors_are_one_line_with_the_cause_once_before_anything_listens() {
    let dir = temp_dir();
    let sock = path_in(&dir, "s0.sock");
    let listening = format!("socket,id=s0,path={sock},server=on,wait=off");
    // A port something else holds, as a VNC display (port 5900 + N).
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let display = format!(":{}", port - 5900);
    let port = port.to_string();
    let ran = path_in(&dir, "ran");
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (
            vec!["-frontend", "socket,path=/nonexistent/sock"],
            "cannot connect to unix:/nonexistent/sock",
            "No such file",
        ),
        (vec!["-chardev", &listening, "--", "/no/such/command"], "/no/such/command", "No such file"),
        (vec!["-chardev", &listening, "--", "no-such-command-anywhere"], "no-such-command-anywhere", "PATH"),
        (
            vec![
                "-chardev",
                &listening,
                "-chardev",
                "file,id=f0,path=/nonexistent/dir/x.log",
                "--",
                "touch",
                &ran,
            ],
            "f0",
            "No such file",
        ),
        (
            vec!["-chardev", &listening, "-chardev", "vc,id=v0,font=/etc/passwd", "--", "touch", &ran],
            "/etc/passwd",
            "must start with",
        ),
        (
            vec!["-chardev", &listening, "-chardev", "vc,id=v0", "-vnc", &display, "--", "touch", &ran],
            &port,
            "in use",
        ),
        (
            vec!["-vnc", ":0,password-file=/nonexistent/pw", "--", "touch", &ran],
            "/nonexistent/pw",
            "No such file",
        ),
    ];
    for (args, names, cause) in &cases {
        let (code, lines) = run_to_exit(args);
        assert_eq!(code, 2, "{args:?}: {lines:?}");
        assert_eq!(lines.len(), 1, "{args:?} must print one line and start nothing: {lines:?}");
        assert!(lines[0].contains(names), "{args:?}: {:?} lacks {names:?}", lines[0]);
        assert_eq!(lines[0].matches(cause).count(), 1, "{args:?}: the cause once in {:?}", lines[0]);
        assert!(!std::path::Path::new(&sock).exists(), "{args:?} left its socket behind");
        assert!(!std::path::Path::new(&ran).exists(), "{args:?}: the command ran");
    }
    drop(busy);
}

#[test]
fn a_vc_without_vnc_is_served_on_the_default_display_and_says_where() {
    // Display :0 may be taken on a developer's machine: then it says which port.
    let mut vcmux = Vcmux::start(&["-chardev", "vc,id=v,cols=100", "--", "sleep", "600"]);
    let served = {
        let deadline = std::time::Instant::now() + STEP;
        loop {
            let log = vcmux.log();
            if log.contains("v: VNC viewers welcome on 127.0.0.1:5900") {
                break true;
            }
            if log.contains("127.0.0.1:5900 (display :0)") {
                break false;
            }
            assert!(std::time::Instant::now() < deadline, "nothing said where v is served: {log}");
            poll_until("a log line", || vcmux.log() != log);
        }
    };
    if served {
        vcmux.signal(nix::sys::signal::Signal::SIGTERM);
    }
    let code = vcmux.wait_exit();
    assert_eq!(code, if served { 128 + 1 } else { 2 }, "{}", vcmux.log());
}

#[test]
fn a_unix_vnc_socket_is_removed_at_exit() {
    let dir = temp_dir();
    let sock = path_in(&dir, "vnc.sock");
    let mut vcmux = Vcmux::start(&["-vnc", &format!("unix:{sock}"), "--", "sleep", "600"]);
    vcmux.wait_log("VNC viewers welcome on unix:");
    assert!(std::path::Path::new(&sock).exists());
    vcmux.signal(nix::sys::signal::Signal::SIGINT);
    vcmux.wait_exit();
    assert!(!std::path::Path::new(&sock).exists(), "the VNC socket is left behind");
}
