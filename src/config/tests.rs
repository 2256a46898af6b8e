use std::time::Duration;

use super::*;

fn config(chardevs: &[&str], frontends: &[&str], command: &[&str]) -> Result<Config, ConfigError> {
    let options = Options {
        chardevs: chardevs.iter().map(|s| s.to_string()).collect(),
        frontends: frontends.iter().map(|s| s.to_string()).collect(),
        command: command.iter().map(|s| s.to_string()).collect(),
        vnc: Vec::new(),
        qmp: Vec::new(),
        mon: Vec::new(),
        objects: Vec::new(),
    };
    Config::from_options(&options, vec!["/bin/sh".into()])
}

fn error(chardevs: &[&str], frontends: &[&str], command: &[&str]) -> String {
    config(chardevs, frontends, command).expect_err("configuration should be refused").to_string()
}

#[test]
fn mux_be_and_hub_forms_give_the_same_graph() {
    let patch = config(
        &[
            "mux-be,id=m",
            "socket,id=s0,path=/a,server=on,wait=off,mux-be-id=m",
            "file,id=f0,path=/log,mux-be-id=m",
        ],
        &[],
        &["cat"],
    )
    .unwrap();
    let qemu10 = config(
        &[
            "file,id=f0,path=/log",
            "hub,id=m,chardevs.1=f0,chardevs.0=s0",
            "socket,id=s0,path=/a,server=on,wait=off",
        ],
        &[],
        &["cat"],
    )
    .unwrap();
    assert_eq!(patch, qemu10);
    let hub = &patch.hubs[0];
    assert_eq!(hub.backends.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(), ["s0", "f0"]);
    assert_eq!(hub.frontend.kind, FrontendKind::Command(vec!["cat".into()]));
}

#[test]
fn socket_defaults_follow_qemu() {
    let c = config(&["socket,id=s,port=0,server=on", "socket,id=c,path=/x,reconnect=3"], &[], &[]).unwrap();
    let kinds: Vec<_> = c.hubs[0].backends.iter().map(|b| b.kind.clone()).collect();
    assert_eq!(
        kinds[0],
        BackendKind::Socket(SocketConfig {
            address: SocketAddress::Tcp { host: "127.0.0.1".into(), port: 0 },
            server: true,
            wait: true,
            reconnect: None,
        })
    );
    assert_eq!(
        kinds[1],
        BackendKind::Socket(SocketConfig {
            address: SocketAddress::Unix("/x".into()),
            server: false,
            wait: false,
            reconnect: Some(Duration::from_secs(3)),
        })
    );
    assert_eq!(c.hubs[0].id, IMPLICIT_HUB);
    assert_eq!(c.hubs[0].frontend.kind, FrontendKind::Command(vec!["/bin/sh".into()]));
}

#[test]
fn every_graph_error_names_its_ids() {
    /// Chardevs, frontends, command, and what the message must name.
    type Case<'a> = (&'a [&'a str], &'a [&'a str], &'a [&'a str], &'a [&'a str]);
    let cases: &[Case] = &[
        (&["mux-be,id=m", "file,id=f,path=/l,mux-be-id=nope"], &[], &[], &["'f'", "'nope'"]),
        (&["file,id=g,path=/g", "file,id=f,path=/l,mux-be-id=g"], &[], &[], &["'f'", "'g'", "file"]),
        (&["mux-be,id=m", "file,id=f,path=/l,mux=on,mux-be-id=m"], &[], &[], &["'f'", "mux=on", "m"]),
        (
            &["mux-be,id=m", "mux-be,id=n,mux-be-id=m", "null,id=z,mux-be-id=n"],
            &[],
            &[],
            &["'n'", "'m'", "stack"],
        ),
        (&["mux-be,id=m,mux-be-id=m", "null,id=z,mux-be-id=m"], &[], &[], &["'m'", "itself"]),
        (&["hub,id=h,chardevs.0=h"], &[], &[], &["'h'", "itself"]),
        (
            &["hub,id=h,chardevs.0=z", "hub,id=g,chardevs.0=h", "null,id=z"],
            &[],
            &[],
            &["'h'", "'g'", "stack"],
        ),
        (&["null,id=a", "null,id=a"], &[], &[], &["'a'", "duplicate"]),
        (&["mux-be,id=m", "null,id=a,mux-be-id=m"], &["socket,path=/q"], &["sh"], &["'m'", "two frontends"]),
        (
            &["mux-be,id=m", "null,id=a,mux-be-id=m"],
            &["socket,path=/q", "stdio"],
            &[],
            &["'m'", "two frontends"],
        ),
        (
            &[
                "mux-be,id=m",
                "null,id=a,mux-be-id=m",
                "null,id=b,mux-be-id=m",
                "null,id=c,mux-be-id=m",
                "null,id=d,mux-be-id=m",
                "null,id=e,mux-be-id=m",
            ],
            &[],
            &[],
            &["'m'", "a, b, c, d, e", "limit is 4"],
        ),
        (&["hub,id=h,chardevs.0=a,chardevs.1=x", "null,id=a"], &[], &[], &["'h'", "chardevs.1=x"]),
        (&["hub,id=h,chardevs.0=a", "hub,id=g,chardevs.0=a", "null,id=a"], &[], &[], &["'a'", "'h'", "'g'"]),
        (
            &["mux-be,id=m", "hub,id=h,chardevs.0=a", "null,id=a,mux-be-id=m"],
            &[],
            &[],
            &["'a'", "'h'", "'m'"],
        ),
        (&["hub,id=h,chardevs.0=a,chardevs.1=a", "null,id=a"], &[], &[], &["'a'", "'h'", "twice"]),
    ];
    for (chardevs, frontends, command, needles) in cases {
        let message = error(chardevs, frontends, command);
        assert!(!message.contains('\n'), "one line: {message}");
        for needle in *needles {
            assert!(message.contains(needle), "{chardevs:?}: '{message}' lacks {needle}");
        }
    }
}

#[test]
fn option_errors_name_the_option() {
    for (chardev, needle) in [
        ("socket,id=s,path=/a,colour=red", "unknown option 'colour'"),
        ("socket,path=/a", "'id=' is required"),
        ("socket,id=s", "needs 'path="),
        ("socket,id=s,path=/a,wait=off", "'wait' is for listening"),
        ("socket,id=s,path=/a,server=on,reconnect=1", "'reconnect' is for connecting"),
        ("socket,id=s,port=99999", "not a port"),
        ("teleport,id=t", "unknown chardev kind 'teleport'"),
        ("file,id=f", "'path=' is required"),
        ("hub,id=h,chardevs.0=a,chardevs.2=b", "chardevs.2"),
        ("socket,id=s,path=/a,server=on,replay=2G", "'replay=2G' is not a size"),
        ("file,id=f,path=/l,replay=65M", "'replay=65M' is more than 64M"),
        ("pty,id=p,replay=", "'replay' needs a value"),
        ("vc,id=v,replay=1K", "unknown option 'replay'"),
        ("null,id=n,replay=1K", "unknown option 'replay'"),
        ("asciicast,id=r", "'path=' is required"),
        ("asciicast,id=r,path=/r.cast,input=maybe", "'input=maybe' is not on/off"),
        ("asciicast,id=r,path=/r.cast,replay=1K", "unknown option 'replay'"),
        ("asciicast,id=r,path=/r.cast,append=on", "unknown option 'append'"),
        ("socket,id=s,path=/a,server=on,lag=65M", "'lag=65M' is more than 64M"),
        ("file,id=f,path=/l,lag=8G", "'lag=8G' is not a size"),
        ("pty,id=p,lag=", "'lag' needs a value"),
        ("vc,id=v,lag=1M", "unknown option 'lag'"),
    ] {
        let message = error(&[chardev], &[], &[]);
        assert!(message.contains(needle) && message.contains(chardev), "{chardev}: {message}");
    }
}

#[test]
fn an_asciicast_recording_takes_a_path_and_input() {
    let c = config(&["asciicast,id=r,path=/r.cast,input=on", "asciicast,id=q,path=/q.cast"], &[], &["sh"])
        .unwrap();
    let kinds: Vec<_> = c.hubs[0].backends.iter().map(|b| b.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            BackendKind::Asciicast(AsciicastConfig { path: "/r.cast".into(), input: true }),
            BackendKind::Asciicast(AsciicastConfig { path: "/q.cast".into(), input: false }),
        ]
    );
}

#[test]
fn frontends_attach_to_their_hub() {
    let two = ["mux-be,id=m", "null,id=a,mux-be-id=m", "mux-be,id=n", "null,id=b,mux-be-id=n"];
    let c = config(&two, &["socket,path=/q,chardev=n"], &["sh"]).unwrap();
    assert_eq!(c.hubs[0].frontend.kind, FrontendKind::Command(vec!["sh".into()]));
    assert!(matches!(c.hubs[1].frontend.kind, FrontendKind::Socket(_)));
    assert!(error(&two, &["socket,path=/q"], &[]).contains("name one with chardev=ID"));
    assert!(error(&two, &[], &[]).contains("'m', 'n' have no frontend"));
    assert!(error(&two, &["socket,path=/q,chardev=a"], &[]).contains("not a mux-be or hub"));
}

#[test]
fn stdio_serves_one() {
    let message = error(&["stdio,id=a"], &["stdio"], &[]);
    assert!(message.contains("'a'") && message.contains("stdio"), "{message}");
}

#[test]
fn chardevs_outside_hubs_are_refused_when_hubs_exist() {
    let message = error(&["mux-be,id=m", "null,id=a,mux-be-id=m", "null,id=b"], &[], &[]);
    assert!(message.contains("'b'") && message.contains("no hub"), "{message}");
}

#[test]
fn no_chardev_means_a_vc_served_on_5900() {
    let c = config(&[], &[], &["top"]).unwrap();
    assert_eq!(c.hubs.len(), 1);
    assert_eq!(c.hubs[0].backends[0].id, DEFAULT_BACKEND);
    assert!(matches!(c.hubs[0].backends[0].kind, BackendKind::Vc(_)));
    assert_eq!(c.hubs[0].frontend.kind, FrontendKind::Command(vec!["top".into()]));
    assert_eq!(c.vnc.len(), 1);
    assert_eq!(c.vnc[0].listen, VncListen::Tcp { host: "127.0.0.1".into(), port: 5900 });
    assert_eq!(c.vnc[0].vc, DEFAULT_BACKEND);
}

#[test]
fn two_listeners_on_one_address_are_refused() {
    let message =
        error(&["socket,id=a,path=/x,server=on", "socket,id=b,path=/x,server=on,wait=off"], &[], &[]);
    assert!(message.contains("'a'") && message.contains("'b'") && message.contains("unix:/x"), "{message}");
    config(&["socket,id=a,port=0,server=on", "socket,id=b,port=0,server=on"], &[], &[]).unwrap();
}

#[test]
fn a_vc_s_screen_is_bounded_in_pixels() {
    // 10x19 cells at the default size: 768x227 is 7680x4313, 500x300 is 5000x5700.
    config(&["vc,id=v,cols=768,rows=227"], &[], &[]).unwrap();
    config(&["vc,id=v,cols=500,rows=300"], &[], &[]).unwrap();
    for (vc, screen) in [
        ("vc,id=v,cols=1000,rows=1000", "10000x19000"),
        ("vc,id=v,cols=820,rows=10", "8200x190"),
        ("vc,id=v,cols=600,rows=400", "6000x7600"),
        ("vc,id=v,cols=100,rows=100,font-size=96", "5800x11200"),
    ] {
        let e = error(&[vc], &[], &[]);
        assert!(e.starts_with(&format!("-chardev '{vc}'")) && e.contains(screen), "{e}");
        assert!(e.contains(crate::frame::MAX_SIZE_TEXT), "{e}");
    }
    let e = error(&["vc,id=v,font-size=4"], &[], &[]);
    assert!(e.contains("from 6 to 96"), "{e}");
    let e = error(&["vc,id=v,font=/nonexistent.ttf"], &[], &[]);
    assert!(e.contains("/nonexistent.ttf"), "{e}");
}

#[test]
fn sockets_ptys_and_files_take_a_replay_size() {
    let c = config(
        &["socket,id=s,path=/a,server=on,replay=64K", "pty,id=p,replay=1M", "file,id=f,path=/l", "null,id=n"],
        &[],
        &[],
    )
    .unwrap();
    let sizes: Vec<usize> = c.hubs[0].backends.iter().map(|b| b.replay).collect();
    assert_eq!(sizes, [64 << 10, 1 << 20, 0, 0]);
    assert_eq!(MAX_REPLAY, 64 << 20);
}

#[test]
fn sockets_and_ptys_have_a_lag_of_8m_and_the_others_none_unless_they_say() {
    let c =
        config(&["socket,id=s,path=/a,server=on", "pty,id=p", "file,id=f,path=/l", "vc,id=v"], &[], &["sh"])
            .unwrap();
    let lags: Vec<usize> = c.hubs[0].backends.iter().map(|b| b.lag).collect();
    assert_eq!(lags, [DEFAULT_LAG, DEFAULT_LAG, 0, 0]);
    assert_eq!(DEFAULT_LAG, 8 << 20);
    let c = config(
        &["socket,id=s,path=/a,server=on,lag=0", "file,id=f,path=/l,lag=64K", "asciicast,id=r,path=/r.cast"],
        &[],
        &["sh"],
    )
    .unwrap();
    let lags: Vec<usize> = c.hubs[0].backends.iter().map(|b| b.lag).collect();
    assert_eq!(lags, [0, 64 << 10, 0]);
    let c = config(&["pty,id=p,lag=64M", "stdio,id=o", "null,id=n,lag=1M"], &[], &["sh"]).unwrap();
    let lags: Vec<usize> = c.hubs[0].backends.iter().map(|b| b.lag).collect();
    assert_eq!(lags, [MAX_LAG, 0, 1 << 20]);
}

fn with_mon(chardevs: &[&str], mon: &[&str]) -> Result<Config, ConfigError> {
    let options = Options {
        chardevs: chardevs.iter().map(|s| s.to_string()).collect(),
        mon: mon.iter().map(|s| s.to_string()).collect(),
        ..Options::default()
    };
    Config::from_options(&options, vec!["/bin/sh".into()])
}

#[test]
fn a_socket_chardev_under_mon_is_a_control_socket_not_a_backend() {
    let config = with_mon(
        &["socket,id=mon0,path=/tmp/m.sock,server=on,wait=off", "file,id=log,path=/tmp/l"],
        &["chardev=mon0,mode=control"],
    )
    .unwrap();
    assert_eq!(config.qmp, [QmpConfig { address: SocketAddress::Unix("/tmp/m.sock".into()) }]);
    let ids: Vec<&str> = config.hubs[0].backends.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(ids, ["log"]);
    // The monitor alone leaves the default graph: one vc.
    let alone = with_mon(
        &["socket,id=m,host=127.0.0.1,port=4444,server=on,wait=off"],
        &["chardev=m,mode=control,pretty=on"],
    )
    .unwrap();
    assert_eq!(alone.qmp[0].address, SocketAddress::Tcp { host: "127.0.0.1".into(), port: 4444 });
    assert_eq!(alone.hubs[0].backends[0].id, DEFAULT_BACKEND);

    for (chardevs, mon, named) in [
        (&["socket,id=m,path=/m,server=on,wait=off"][..], "chardev=m", "mode=control"),
        (&["socket,id=m,path=/m,server=on,wait=off"][..], "chardev=m,mode=readline", "mode=control"),
        (&["socket,id=m,path=/m,server=on,wait=off"][..], "chardev=x,mode=control", "'x'"),
        (&["socket,id=m,path=/m,server=on"][..], "chardev=m,mode=control", "wait=off"),
        (&["socket,id=m,path=/m"][..], "chardev=m,mode=control", "server=on"),
        (&["file,id=m,path=/m"][..], "chardev=m,mode=control", "file"),
        (
            &["mux-be,id=h", "socket,id=m,path=/m,server=on,wait=off,mux-be-id=h"][..],
            "chardev=m,mode=control",
            "mux-be-id",
        ),
        (&["socket,id=m,path=/m,server=on,wait=off"][..], "mode=control", "chardev="),
    ] {
        let error = with_mon(chardevs, &[mon]).expect_err(mon).to_string();
        assert!(error.contains(named), "{mon}: {error}");
        assert!(error.starts_with("-mon ") || error.contains("'m'") || error.contains("'x'"), "{error}");
    }
}
