//! The websocket port as a browser sees it, through the real binary over real
//! sockets: noVNC's page and files over HTTP (`Cache-Control: no-cache`),
//! the WebSocket beside them, and share links made over QMP: a view-only
//! link's keys, clipboard and buttons reach nothing (a fake QEMU is the
//! console, so every byte typed is seen), `query-vnc` names the share each
//! viewer came through, unsharing disconnects its viewers at once, and an
//! expired, used or revoked link is refused before any RFB is spoken. A
//! console with a password lets a link in without it.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{self, Message, WebSocket};

/// A QMP client over a unix socket, negotiated.
struct Qmp {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Qmp {
    fn connect(path: &str) -> Qmp {
        let stream = connect(Path::new(path));
        let mut qmp = Qmp { reader: BufReader::new(stream.try_clone().unwrap()), writer: stream };
        qmp.read();
        qmp.execute("qmp_capabilities", json!({}));
        qmp
    }

    fn read(&mut self) -> Value {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("vcmux answers");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
    }

    /// The answer (events skipped).
    fn answer(&mut self, command: &str, arguments: Value) -> Value {
        let request = json!({"execute": command, "arguments": arguments});
        self.writer.write_all(format!("{request}\n").as_bytes()).unwrap();
        loop {
            let message = self.read();
            if message.get("event").is_none() {
                return message;
            }
        }
    }

    /// The answer's `return`; panics on an error.
    fn execute(&mut self, command: &str, arguments: Value) -> Value {
        let answer = self.answer(command, arguments);
        answer.get("return").cloned().unwrap_or_else(|| panic!("{command}: {answer}"))
    }

    /// The error's description; panics on success.
    fn error(&mut self, command: &str, arguments: Value) -> String {
        let answer = self.answer(command, arguments);
        answer["error"]["desc"]
            .as_str()
            .unwrap_or_else(|| panic!("{command} should fail: {answer}"))
            .to_string()
    }
}

/// vcmux on a fake QEMU, its vc shown on a unix socket and a websocket port
/// on loopback, with a control socket.
struct Setup {
    _dir: tempfile::TempDir,
    console: UnixStream,
    vcmux: Vcmux,
    qmp: Qmp,
    port: u16,
}

fn setup(vnc_options: &str, files: &[(&str, &str)]) -> Setup {
    let dir = temp_dir();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let qmp_path = path_in(&dir, "qmp.sock");
    let qmp = format!("unix:{qmp_path},server=on,wait=off");
    let vnc = format!("unix:{},websocket=127.0.0.1:0{vnc_options}", path_in(&dir, "vnc.sock"))
        .replace("DIR", &dir.path().display().to_string());
    let (qemu, vcmux) =
        start_on_fake_qemu(&dir, &["-chardev", "vc,id=v,cols=40,rows=8", "-vnc", &vnc, "-qmp", &qmp]);
    let console = qemu.accept();
    let line = vcmux.wait_log("WebSocket (noVNC) viewers welcome on 127.0.0.1:");
    let port = line
        .split("welcome on 127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("a port in {line:?}"));
    vcmux.wait_log("control socket (QMP): listening on");
    let qmp = Qmp::connect(&qmp_path);
    Setup { _dir: dir, console, vcmux, qmp, port }
}

/// An HTTP/1.1 answer: status, headers (names lower-cased), body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// One request on a connection of its own, read to its close.
fn http(port: u16, method: &str, path: &str) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(STEP)).unwrap();
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("vcmux answers and closes");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a header");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Answer { status, headers, body: raw[split + 4..].to_vec() }
}

/// A viewer speaking RFB inside WebSocket by hand, as noVNC does.
struct WsViewer {
    socket: WebSocket<TcpStream>,
    buffer: Vec<u8>,
}

impl WsViewer {
    /// Opens `path` (with its query) on the websocket port; the HTTP status
    /// if the upgrade is refused.
    fn open(port: u16, path: &str) -> Result<WsViewer, u16> {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(STEP)).unwrap();
        let request =
            tungstenite::ClientRequestBuilder::new(format!("ws://127.0.0.1:{port}{path}").parse().unwrap())
                .with_sub_protocol("binary");
        match tungstenite::client(request, stream) {
            Ok((socket, _)) => Ok(WsViewer { socket, buffer: Vec::new() }),
            Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(response))) => {
                Err(response.status().as_u16())
            }
            Err(e) => panic!("the websocket handshake failed: {e}"),
        }
    }

    fn read(&mut self, n: usize) -> Vec<u8> {
        while self.buffer.len() < n {
            match self.socket.read().expect("the server keeps the connection") {
                Message::Binary(data) => self.buffer.extend_from_slice(&data),
                Message::Close(_) => panic!("the server closed the connection"),
                _ => {}
            }
        }
        self.buffer.drain(..n).collect()
    }

    fn write(&mut self, bytes: &[u8]) {
        self.socket.send(Message::Binary(bytes.to_vec().into())).expect("the server takes our bytes");
    }

    /// Version 3.8 and the security type the server offers (it must offer
    /// one only), then ClientInit (shared) and ServerInit; returns the
    /// offered type and the framebuffer's size.
    fn handshake(&mut self, password: Option<&str>) -> (u8, u16, u16) {
        let offered = self.authenticate(password);
        assert_eq!(offered.1, [0; 4], "the security handshake succeeds");
        self.write(&[1]);
        let init = self.read(24);
        let name_len = u32::from_be_bytes([init[20], init[21], init[22], init[23]]) as usize;
        self.read(name_len);
        // Raw only, so that updates can be read here.
        self.write(&[2, 0, 0, 1, 0, 0, 0, 0]);
        (offered.0, u16::from_be_bytes([init[0], init[1]]), u16::from_be_bytes([init[2], init[3]]))
    }

    /// Version 3.8 and security: the type offered and the SecurityResult.
    fn authenticate(&mut self, password: Option<&str>) -> (u8, Vec<u8>) {
        assert_eq!(self.read(12), b"RFB 003.008\n");
        self.write(b"RFB 003.008\n");
        let count = self.read(1)[0];
        let types = self.read(usize::from(count));
        let offered = types[0];
        self.write(&[offered]);
        if offered == 2 {
            let challenge = self.read(16);
            let password = password.expect("a password for VNC authentication");
            let challenge: [u8; 16] = challenge.try_into().unwrap();
            self.write(&vcmux::rfb::auth::response(password.as_bytes(), &challenge));
        }
        (offered, self.read(4))
    }

    /// A full update asked for and read: everything sent before it has been
    /// acted on by the server, which handles a viewer's messages in order.
    fn sync(&mut self, width: u16, height: u16) {
        let mut request = vec![3, 0, 0, 0, 0, 0];
        request.extend_from_slice(&width.to_be_bytes());
        request.extend_from_slice(&height.to_be_bytes());
        self.write(&request);
        loop {
            let head = self.read(4);
            if head[0] != 0 {
                // A ServerCutText or a bell: skip it.
                assert!(head[0] == 3 || head[0] == 2, "a server message {head:?}");
                if head[0] == 3 {
                    let len = self.read(4);
                    self.read(u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize);
                }
                continue;
            }
            for _ in 0..u16::from_be_bytes([head[2], head[3]]) {
                let rect = self.read(12);
                let (w, h) = (u16::from_be_bytes([rect[4], rect[5]]), u16::from_be_bytes([rect[6], rect[7]]));
                assert_eq!(&rect[8..], [0, 0, 0, 0], "Raw only");
                self.read(usize::from(w) * usize::from(h) * 4);
            }
            return;
        }
    }

    /// Types `c`, then sets the clipboard to `paste` and pastes it with a
    /// middle click.
    fn type_paste_click(&mut self, c: char, paste: &str) {
        for down in [1, 0] {
            let mut key = vec![4, down, 0, 0];
            key.extend_from_slice(&u32::from(c).to_be_bytes());
            self.write(&key);
        }
        let mut cut = vec![6, 0, 0, 0];
        cut.extend_from_slice(&(paste.len() as u32).to_be_bytes());
        cut.extend_from_slice(paste.as_bytes());
        self.write(&cut);
        // A middle click pastes the clipboard into the console.
        self.write(&[5, 2, 0, 1, 0, 1]);
        self.write(&[5, 0, 0, 1, 0, 1]);
    }

    /// Waits until the server closes the connection; how long it took.
    fn closed(&mut self) -> Duration {
        let start = Instant::now();
        loop {
            match self.socket.read() {
                Ok(Message::Close(_)) | Err(_) => return start.elapsed(),
                Ok(_) => assert!(start.elapsed() < STEP, "the server kept the connection open"),
            }
        }
    }
}

/// Reads the console until `marker` arrives, and returns all that came.
fn console_until(console: &mut UnixStream, marker: &[u8]) -> Vec<u8> {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(marker) {
        console.read_exact(&mut byte).expect("the console receives the marker");
        got.push(byte[0]);
    }
    got
}

/// The token of a share made with `arguments`, and its id.
fn share(qmp: &mut Qmp, arguments: Value) -> (String, String) {
    let made = qmp.execute("x-vcmux-share", arguments);
    let token = made["token"].as_str().unwrap().to_string();
    assert_eq!(token.len(), 32, "128 bits in hex: {made}");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    let url = made["url"].as_str().unwrap();
    assert!(url.contains(&format!("#path=websockify%3Ftoken%3D{token}")), "{url}");
    (token, made["id"].as_str().unwrap().to_string())
}

#[test]
fn the_page_and_its_files_are_served_uncached_beside_the_websocket() {
    let s = setup("", &[]);
    let page = http(s.port, "GET", "/");
    assert_eq!(page.status, 200);
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    let html = String::from_utf8(page.body).unwrap();
    assert!(html.contains("<title>noVNC</title>") && html.contains("app/ui.js"), "vnc.html");
    let module = http(s.port, "GET", "/core/rfb.js");
    assert_eq!((module.status, module.header("cache-control")), (200, Some("no-cache")));
    assert!(module.header("content-type").unwrap().starts_with("text/javascript"));
    let defaults: Value = serde_json::from_slice(&http(s.port, "GET", "/defaults.json").body).unwrap();
    assert_eq!((&defaults["autoconnect"], &defaults["path"]), (&json!(true), &json!("websockify")));
    let licence = String::from_utf8(http(s.port, "GET", "/LICENSE.txt").body).unwrap();
    assert!(
        licence.contains("noVNC is Copyright") && licence.contains("MPL 2.0"),
        "noVNC's licence is served"
    );
    assert_eq!(http(s.port, "HEAD", "/").status, 200);
    assert_eq!(http(s.port, "GET", "/../Cargo.toml").status, 404);
    assert_eq!(http(s.port, "GET", "/nothing.js").status, 404);
    let post = http(s.port, "POST", "/");
    assert_eq!((post.status, post.header("allow")), (405, Some("GET, HEAD")));
    // The page's WebSocket path, and / as viewers without a page use it:
    // both speak RFB, with no password on this console.
    for path in ["/websockify", "/"] {
        let mut viewer = WsViewer::open(s.port, path).expect("the upgrade");
        assert_eq!(viewer.handshake(None).0, 1, "security None");
    }
    assert_eq!(WsViewer::open(s.port, "/elsewhere").err(), Some(404));
    drop(s.vcmux);
}

#[test]
fn a_view_only_link_watches_and_what_it_types_reaches_nothing() {
    let mut s = setup("", &[]);
    let (watch_token, watch_id) = share(&mut s.qmp, json!({"view-only": true}));
    let (type_token, type_id) = share(&mut s.qmp, json!({}));
    let mut watcher = WsViewer::open(s.port, &format!("/websockify?token={watch_token}")).expect("admitted");
    let (_, width, height) = watcher.handshake(None);
    let mut typist = WsViewer::open(s.port, &format!("/websockify?token={type_token}")).expect("admitted");
    typist.handshake(None);

    watcher.type_paste_click('x', "pasted-by-the-watcher");
    watcher.sync(width, height);
    typist.type_paste_click('y', "Y-MARK");
    typist.sync(width, height);
    // Everything the console received: only the typist's key and paste.
    let got = console_until(&mut s.console, b"Y-MARK");
    assert_eq!(String::from_utf8_lossy(&got), "yY-MARK");

    let vnc = s.qmp.execute("query-vnc", json!({}));
    let mut clients: Vec<(Value, Value)> = vnc["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["x-vcmux-share"].clone(), c["x-vcmux-view-only"].clone()))
        .collect();
    clients.sort_by_key(|c| c.0.to_string());
    assert_eq!(clients, [(json!(watch_id), json!(true)), (json!(type_id), json!(false))], "{vnc}");
    let shares = s.qmp.execute("x-vcmux-query-shares", json!({}));
    assert_eq!(shares[0]["viewers"], 1, "{shares}");
    assert!(shares[0].get("token").is_none(), "tokens are shown only when made: {shares}");
    s.vcmux.wait_log(&format!("through share {watch_id} (view-only)"));
}

#[test]
fn unsharing_disconnects_its_viewers_at_once_and_its_link_is_refused() {
    let mut s = setup("", &[]);
    let (token, id) = share(&mut s.qmp, json!({}));
    let (other, _) = share(&mut s.qmp, json!({}));
    let mut viewer = WsViewer::open(s.port, &format!("/websockify?token={token}")).expect("admitted");
    let (_, width, height) = viewer.handshake(None);
    viewer.sync(width, height);
    let mut stays = WsViewer::open(s.port, &format!("/websockify?token={other}")).expect("admitted");
    stays.handshake(None);
    let revoked = s.qmp.execute("x-vcmux-unshare", json!({"token": id}));
    assert_eq!(revoked["id"], json!(id));
    let took = viewer.closed();
    assert!(took < Duration::from_secs(1), "disconnected within a second, not {took:?}");
    assert_eq!(WsViewer::open(s.port, &format!("/websockify?token={token}")).err(), Some(403));
    // The other share's viewer stays.
    stays.sync(width, height);
    s.vcmux.wait_log(&format!("its share {id} was revoked or expired"));
}

#[test]
fn an_expired_or_used_link_is_refused_and_expiry_ends_its_viewers() {
    let mut s = setup("", &[]);
    let (once, _) = share(&mut s.qmp, json!({"once": true}));
    let mut first = WsViewer::open(s.port, &format!("/websockify?token={once}")).expect("admitted once");
    first.handshake(None);
    assert_eq!(WsViewer::open(s.port, &format!("/websockify?token={once}")).err(), Some(403));

    let (brief, id) = share(&mut s.qmp, json!({"expires": 1.5}));
    let mut viewer = WsViewer::open(s.port, &format!("/websockify?token={brief}")).expect("admitted");
    viewer.handshake(None);
    viewer.closed();
    let listed = s.qmp.execute("x-vcmux-query-shares", json!({}));
    assert!(listed.as_array().unwrap().iter().all(|s| s["id"] != json!(id)), "{listed}");
    assert_eq!(WsViewer::open(s.port, &format!("/websockify?token={brief}")).err(), Some(403));
    assert_eq!(WsViewer::open(s.port, "/websockify?token=00112233445566778899aabbccddeeff").err(), Some(403));
    s.vcmux.wait_log("has expired");
}

#[test]
fn a_console_with_a_password_lets_a_link_in_without_it() {
    let mut s = setup(",password-file=DIR/pw", &[("pw", "sekrit\n")]);
    let mut plain = WsViewer::open(s.port, "/websockify").expect("the upgrade");
    assert_eq!(plain.handshake(Some("sekrit")).0, 2, "VNC authentication without a link");
    let (token, _) = share(&mut s.qmp, json!({}));
    let mut linked = WsViewer::open(s.port, &format!("/websockify?token={token}")).expect("admitted");
    assert_eq!(linked.handshake(None).0, 1, "security None with a link");
}

#[test]
fn set_password_and_expire_password_change_who_gets_in_as_qemus_do() {
    let mut s = setup(",password-file=DIR/pw", &[("pw", "old\n")]);
    let refused = |s: &Setup, password| {
        let mut viewer = WsViewer::open(s.port, "/websockify").expect("the upgrade");
        viewer.authenticate(Some(password)).1 != [0; 4]
    };
    let mut kept = WsViewer::open(s.port, "/websockify").expect("the upgrade");
    let (_, width, height) = kept.handshake(Some("old"));
    s.qmp.execute("set_password", json!({"protocol": "vnc", "password": "new", "connected": "keep"}));
    kept.sync(width, height);
    assert!(refused(&s, "old"), "the old password no longer lets anyone in");
    let mut dropped = WsViewer::open(s.port, "/websockify").expect("the upgrade");
    dropped.handshake(Some("new"));
    s.qmp.execute("set_password", json!({"protocol": "vnc", "password": "newer", "connected": "disconnect"}));
    dropped.closed();
    kept.closed();
    WsViewer::open(s.port, "/websockify").expect("the upgrade").handshake(Some("newer"));

    s.qmp.execute("expire_password", json!({"protocol": "vnc", "time": "now"}));
    assert!(refused(&s, "newer"), "an expired password lets no one in");
    let (token, _) = share(&mut s.qmp, json!({}));
    let mut linked = WsViewer::open(s.port, &format!("/websockify?token={token}")).expect("admitted");
    assert_eq!(linked.handshake(None).0, 1, "a share link needs no password, expired or not");
    s.qmp.execute("expire_password", json!({"protocol": "vnc", "time": "never"}));
    WsViewer::open(s.port, "/websockify").expect("the upgrade").handshake(Some("newer"));
    s.qmp.execute("expire_password", json!({"protocol": "vnc", "time": "+3600"}));
    WsViewer::open(s.port, "/websockify").expect("the upgrade").handshake(Some("newer"));

    let too_long = s.qmp.error("set_password", json!({"protocol": "vnc", "password": "123456789"}));
    assert!(too_long.contains("at most 8"), "{too_long}");
    let spice = s.qmp.error("set_password", json!({"protocol": "spice", "password": "x"}));
    assert!(spice.contains("'protocol'"), "{spice}");
    let time = s.qmp.error("expire_password", json!({"protocol": "vnc", "time": "soon"}));
    assert!(time.contains("'time'"), "{time}");
    let connected =
        s.qmp.error("set_password", json!({"protocol": "vnc", "password": "x", "connected": "fail"}));
    assert!(connected.contains("'connected'"), "{connected}");
}

#[test]
fn a_display_without_a_password_takes_none_from_set_password() {
    let mut s = setup("", &[]);
    let error = s.qmp.error("set_password", json!({"protocol": "vnc", "password": "x"}));
    assert!(error.contains("takes no password"), "{error}");
    assert_eq!(WsViewer::open(s.port, "/websockify").expect("the upgrade").handshake(None).0, 1);
}

#[test]
fn a_link_for_a_page_behind_a_proxy_starts_with_that_page_and_its_token_still_lets_in() {
    let mut s = setup("", &[]);
    // nginx serving this port's page at /console/a/: the page's WebSocket
    // path is relative, so the link is the page's URL and the same fragment,
    // and what reaches vcmux is /websockify?token=… as without the proxy.
    let page = "https://consoles.example/console/a/";
    let made = s.qmp.execute("x-vcmux-share", json!({"page": page, "view-only": true}));
    let token = made["token"].as_str().unwrap();
    assert_eq!(made["url"], format!("{page}#path=websockify%3Ftoken%3D{token}&view_only=true"));
    let mut viewer = WsViewer::open(s.port, &format!("/websockify?token={token}")).expect("admitted");
    assert_eq!(viewer.handshake(None).0, 1, "security None");
    for (arguments, why) in [
        (json!({"page": "https://consoles.example/console/a"}), "must end with /"),
        (json!({"page": "consoles.example/console/a/"}), "must start with https:// or http://"),
        (json!({"page": "https://x/#a/"}), "no #"),
        (json!({"page": page, "host": "x"}), "either 'host' or 'page'"),
    ] {
        let error = s.qmp.error("x-vcmux-share", arguments.clone());
        assert!(error.contains(why), "{arguments}: {error}");
    }
    assert_eq!(
        s.qmp.execute("x-vcmux-query-shares", json!({})).as_array().unwrap().len(),
        1,
        "no share made by a bad page"
    );
}
