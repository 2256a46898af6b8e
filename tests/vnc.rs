//! vcmux's vc over VNC, end to end: the real binary running a shell under its
//! PTY, a vc and a console log, and vnc-rs viewers on its `-vnc unix:` socket.
//! What a viewer shows is compared pixel for pixel with a fresh render of the
//! log's bytes (what `vcmux render` makes of them).

mod common;
mod rfb_support;

use std::path::{Path, PathBuf};

use common::{FakeQemu, STEP, Vcmux, path_in, temp_dir};
use rfb_support::{Mirror, connect_over, type_text};
use std::io::Write;
use tokio::net::UnixStream;
use tokio::time::{Instant, timeout_at};
use vcmux::frame::Framebuffer;
use vcmux::frame::png;
use vcmux::render::{FontConfig, Renderer};
use vcmux::term::Terminal;
use vnc::{ClientMouseEvent, PixelFormat, VncClient, VncEncoding, VncEvent, X11Event};

/// RFB's button mask bit for a notch of the wheel up.
const WHEEL_UP: u8 = 8;

/// vcmux with a shell, a vc, a log of the console and a VNC unix socket.
struct Console {
    vcmux: Vcmux,
    log: String,
    socket: PathBuf,
    dir: tempfile::TempDir,
}

impl Console {
    fn start(vnc_options: &str, files: &[(&str, &str)]) -> Console {
        let dir = temp_dir();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let log = path_in(&dir, "console.log");
        let socket = dir.path().join("vnc.sock");
        let vnc = format!("unix:{}{vnc_options}", socket.display())
            .replace("DIR", &dir.path().display().to_string());
        let vcmux = Vcmux::start_with(
            &[
                "-chardev",
                "vc,id=vc0",
                "-chardev",
                &format!("file,id=log,path={log}"),
                "-vnc",
                &vnc,
                "--",
                "sh",
            ],
            |c| {
                c.env("PS1", "$ ").env("ENV", "/dev/null");
            },
        );
        vcmux.wait_log("VNC viewers welcome");
        vcmux.wait_log("started 'sh'");
        Console { vcmux, log, socket, dir }
    }

    async fn viewer(&self, password: Option<&str>) -> Result<VncClient, vnc::VncError> {
        let stream = UnixStream::connect(&self.socket).await?;
        connect_over(
            stream,
            password,
            &[VncEncoding::Zrle, VncEncoding::CopyRect, VncEncoding::Raw],
            PixelFormat::bgra(),
            true,
        )
        .await
    }

    /// The frame `vcmux screenshot` grabs from the vc.
    async fn screenshot(&self) -> Framebuffer {
        let png = self.dir.path().join("screenshot.png");
        let status = tokio::process::Command::new(env!("CARGO_BIN_EXE_vcmux"))
            .arg("screenshot")
            .arg(format!("unix:{}", self.socket.display()))
            .arg("-o")
            .arg(&png)
            .status()
            .await
            .expect("vcmux screenshot runs");
        assert!(status.success(), "vcmux screenshot failed: {status}");
        png::decode(&std::fs::read(&png).unwrap()).unwrap().expect("the screenshot has pixels")
    }

    fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    /// Waits for the console log to contain `needle`.
    fn wait_output(&self, needle: &str) {
        let shown = std::panic::catch_unwind(|| {
            common::poll_until(&format!("the console shows {needle:?}"), || self.log_text().contains(needle))
        });
        if let Err(panic) = shown {
            let log = self.log_text();
            let tail = &log[log.len().saturating_sub(2000)..];
            eprintln!("the console log ends with {tail:?}\nvcmux's log:\n{}", self.vcmux.log());
            std::panic::resume_unwind(panic);
        }
    }
}

/// What `vcmux render` shows for these bytes at the vc's default geometry.
fn render(bytes: &[u8]) -> Framebuffer {
    render_scrolled(bytes, 0)
}

/// The same, with the view scrolled `rows` back into the history.
fn render_scrolled(bytes: &[u8], rows: isize) -> Framebuffer {
    let mut terminal = Terminal::new(80, 24, 10_000);
    terminal.advance(bytes);
    terminal.scroll_display(rows);
    let mut renderer = Renderer::new(&FontConfig::default()).unwrap();
    renderer.render(&mut terminal, true);
    renderer.framebuffer().clone()
}

/// What the console log renders to, rendered again only when the log grew:
/// a viewer's update comes as hundreds of events, and rendering (or reading a
/// 50 MiB log) at each would take longer than the update.
struct LogScreen<'a> {
    log: &'a Path,
    /// Render only the last this many bytes (from a line start), if set.
    tail: Option<u64>,
    rendered: Option<(u64, Framebuffer)>,
}

impl LogScreen<'_> {
    fn whole(log: &Path) -> LogScreen<'_> {
        LogScreen { log, tail: None, rendered: None }
    }

    /// The last `tail` bytes only: the screen after a flood of output does not
    /// depend on what scrolled away long before.
    fn tail(log: &Path, tail: u64) -> LogScreen<'_> {
        LogScreen { log, tail: Some(tail), rendered: None }
    }

    fn expected(&mut self) -> &Framebuffer {
        let len = std::fs::metadata(self.log).map_or(0, |m| m.len());
        if self.rendered.as_ref().is_none_or(|(rendered_len, _)| *rendered_len != len) {
            let frame = render(&self.read(len));
            self.rendered = Some((len, frame));
        }
        &self.rendered.as_ref().expect("just rendered").1
    }

    fn read(&self, len: u64) -> Vec<u8> {
        use std::io::{Read, Seek, SeekFrom};
        let Ok(mut file) = std::fs::File::open(self.log) else { return Vec::new() };
        let from = self.tail.map_or(0, |tail| len.saturating_sub(tail));
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(from)).unwrap();
        file.take(len - from).read_to_end(&mut bytes).unwrap();
        if from == 0 {
            return bytes;
        }
        // Start at a line start, so the tail renders as the whole log does.
        let start = bytes.iter().position(|&b| b == b'\n').map_or(0, |p| p + 1);
        bytes.split_off(start)
    }
}

/// Asks for updates until the viewer shows what the log renders to.
async fn sync_with(client: &VncClient, mirror: &mut Mirror, screen: &mut LogScreen<'_>) {
    sync_until(client, mirror, "what vcmux render shows for the log", |mirror| {
        mirror.shows(screen.expected())
    })
    .await;
}

/// Asks for updates until what the viewer shows passes `done`.
async fn sync_until(
    client: &VncClient,
    mirror: &mut Mirror,
    what: &str,
    mut done: impl FnMut(&Mirror) -> bool,
) {
    let deadline = Instant::now() + STEP;
    loop {
        if done(mirror) {
            return;
        }
        client.input(X11Event::Refresh).await.expect("the viewer takes input");
        match timeout_at(deadline, client.recv_event()).await {
            Ok(Ok(event)) => mirror.apply(event),
            Ok(Err(e)) => panic!("the viewer failed: {e}"),
            Err(_) => panic!("the viewer never showed {what}"),
        }
    }
}

/// Asks for updates until the viewer shows the render of the console log.
async fn sync_with_log(client: &VncClient, mirror: &mut Mirror, log: &Path) {
    sync_with(client, mirror, &mut LogScreen::whole(log)).await;
}

/// Asks for a whole frame and applies events until every pixel of it came:
/// then the viewer shows what the server shows it now, whatever it showed before.
async fn whole_frame(client: &VncClient, mirror: &mut Mirror) {
    // Never a pixel: they are masked to the format's 24 bits.
    mirror.pixels.fill(u32::MAX);
    client.input(X11Event::FullRefresh).await.expect("the viewer takes input");
    sync_until(client, mirror, "a whole frame", |m| !m.pixels.contains(&u32::MAX)).await;
}

/// The first and last pixel rows where two frames differ, if they do.
fn differing_rows(a: &Framebuffer, b: &Framebuffer) -> Option<(u16, u16)> {
    if (a.width(), a.height()) != (b.width(), b.height()) {
        return Some((0, a.height().max(b.height())));
    }
    let differs = |y: &u16| a.row(*y) != b.row(*y);
    let first = (0..a.height()).find(differs)?;
    let last = (0..a.height()).rev().find(differs)?;
    Some((first, last))
}

/// Turns the wheel up `steps` notches over the screen.
async fn wheel_up(client: &VncClient, steps: usize) {
    for _ in 0..steps {
        for bottons in [WHEEL_UP, 0] {
            let event = ClientMouseEvent { position_x: 10, position_y: 10, bottons };
            client.input(X11Event::PointerEvent(event)).await.expect("the viewer takes input");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_keys_reach_the_shell_and_the_screen_is_what_render_shows() {
    let mut console = Console::start("", &[]);
    let client = console.viewer(None).await.expect("no password needed");
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    type_text(&client, "echo $((6 * 7))").await;
    // Not "\r\n42": the shell may print its prompt after the PTY echoed the line.
    console.wait_output("42\r\n");
    sync_with_log(&client, &mut mirror, Path::new(&console.log)).await;
    type_text(&client, "exit 4").await;
    assert_eq!(console.vcmux.wait_exit(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_viewers_see_the_same_screen() {
    let console = Console::start("", &[]);
    let (a, b) = (console.viewer(None).await.unwrap(), console.viewer(None).await.unwrap());
    let (mut ma, mut mb) = (Mirror::new(&PixelFormat::bgra()), Mirror::new(&PixelFormat::bgra()));
    type_text(&a, "seq 1 40").await;
    console.wait_output("40\r\n$ ");
    sync_with_log(&a, &mut ma, Path::new(&console.log)).await;
    sync_with_log(&b, &mut mb, Path::new(&console.log)).await;
    assert_eq!(ma.pixels, mb.pixels);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_viewer_scrolls_the_history_on_its_own() {
    let console = Console::start("", &[]);
    let log = Path::new(&console.log);
    let (a, b) = (console.viewer(None).await.unwrap(), console.viewer(None).await.unwrap());
    let (mut ma, mut mb) = (Mirror::new(&PixelFormat::bgra()), Mirror::new(&PixelFormat::bgra()));
    type_text(&a, "seq 1 60").await;
    console.wait_output("60\r\n$ ");
    sync_with_log(&a, &mut ma, log).await;
    sync_with_log(&b, &mut mb, log).await;

    // Two notches up on A: A shows six rows of history; B and a screenshot
    // still show the live screen.
    wheel_up(&a, 2).await;
    let bytes = std::fs::read(log).unwrap();
    let (live, back) = (render(&bytes), render_scrolled(&bytes, 6));
    sync_until(&a, &mut ma, "six rows back in the history", |m| m.shows(&back)).await;
    whole_frame(&b, &mut mb).await;
    assert!(mb.shows(&live), "the other viewer was scrolled too");
    let shot = console.screenshot().await;
    assert!(
        shot == live,
        "a screenshot is not the live screen (it {} the scrolled view; pixel rows {:?} differ)",
        if shot == back { "is" } else { "is not" },
        differing_rows(&shot, &live),
    );

    // B types, output arrives: A's view stays on the same lines.
    type_text(&b, "seq 61 70").await;
    console.wait_output("70\r\n$ ");
    sync_with_log(&b, &mut mb, log).await;
    whole_frame(&a, &mut ma).await;
    assert!(ma.shows(&back), "new output moved the scrolled-back view");

    // A types: A is back at the live screen.
    type_text(&a, "echo back-$((6 * 7))").await;
    console.wait_output("back-42\r\n$ ");
    sync_with_log(&a, &mut ma, log).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_decide_who_may_type() {
    let console = Console::start(
        ",password-file=DIR/rw.pass,viewonly-password-file=DIR/ro.pass",
        &[("rw.pass", "s3cret\n"), ("ro.pass", "lookonly\n")],
    );
    assert!(console.viewer(Some("wrong")).await.is_err(), "a wrong password is refused");
    assert!(console.viewer(None).await.is_err(), "no password is refused");
    let watcher = console.viewer(Some("lookonly")).await.expect("the view-only password lets in");
    let typist = console.viewer(Some("s3cret")).await.expect("the password lets in");

    type_text(&watcher, "echo watcher-typed").await;
    // A round trip on the watcher's connection: its keys were handled before.
    watcher.input(X11Event::FullRefresh).await.unwrap();
    rfb_support::wait_event(&watcher, |e| matches!(e, VncEvent::RawImage(..)).then_some(())).await;
    type_text(&typist, "echo typist-$((6 * 7))").await;
    console.wait_output("typist-42\r\n");
    assert!(!console.log_text().contains("watcher"), "a view-only viewer typed: {:?}", console.log_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_that_never_reads_holds_back_neither_a_flood_nor_another_viewer() {
    let mut console = Console::start("", &[]);
    // vnc-rs stops reading its socket when nobody takes its events.
    let stuck = console.viewer(None).await.unwrap();
    stuck.input(X11Event::Refresh).await.unwrap();
    let active = console.viewer(None).await.unwrap();
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    // 50 MiB of output through the vc while the stuck viewer is connected.
    type_text(&active, "head -c 37500000 /dev/zero | base64 -w 79; echo flood-done").await;
    console.wait_output("\r\nflood-done\r\n$ ");
    sync_with(&active, &mut mirror, &mut LogScreen::tail(Path::new(&console.log), 64 << 10)).await;
    type_text(&active, "exit").await;
    assert_eq!(console.vcmux.wait_exit(), 0);
    drop(stuck);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_that_goes_away_is_said_on_the_screen_until_it_is_back() {
    let dir = temp_dir();
    let qemu_socket = dir.path().join("qemu.sock");
    let qemu = FakeQemu::listen(&qemu_socket);
    let socket = dir.path().join("vnc.sock");
    let vcmux = Vcmux::start(&[
        "-frontend",
        &format!("socket,path={},reconnect=1", qemu_socket.display()),
        "-chardev",
        "vc,id=vc0",
        "-vnc",
        &format!("unix:{}", socket.display()),
    ]);
    vcmux.wait_log("VNC viewers welcome");
    let mut guest = qemu.accept();
    guest.write_all(b"login: ").unwrap();
    let stream = UnixStream::connect(&socket).await.unwrap();
    let formats = [VncEncoding::Zrle, VncEncoding::CopyRect, VncEncoding::Raw];
    let client = connect_over(stream, None, &formats, PixelFormat::bgra(), true).await.unwrap();
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    let before = render(b"login: ");
    sync_until(&client, &mut mirror, "the guest's output", |m| m.shows(&before)).await;

    // QEMU goes away: the bottom row says so, the rest of the screen stays.
    drop(guest);
    let bottom_row = before.pixels().len() - before.pixels().len() / 24;
    sync_until(&client, &mut mirror, "a status line over the bottom row", |m| {
        let (top, bottom) = m.pixels.split_at(bottom_row);
        let same = |got: &[u32], want: &[u32]| got.iter().zip(want).all(|(&g, &w)| g == m.format.convert(w));
        same(top, &before.pixels()[..bottom_row]) && !same(bottom, &before.pixels()[bottom_row..])
    })
    .await;

    // It comes back (vcmux reconnects): the status line goes, the console goes on.
    let mut guest = qemu.accept();
    guest.write_all(b"root").unwrap();
    let after = render(b"login: root");
    sync_until(&client, &mut mirror, "the console back, without the status line", |m| m.shows(&after)).await;
}
