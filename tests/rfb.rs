//! The VNC server driven by a real client, vnc-rs, over real sockets: every
//! encoding it decodes shows exactly the server's framebuffer, through paints,
//! scrolls and resizes; authentication; several viewers; view-only; a viewer
//! that stops reading.

mod rfb_support;

use std::sync::Arc;

use rfb_support::{
    Mirror, RawClient, STEP, busy_canvas, connect, draw_specks, draw_text, rgb565, start, sync, wait_event,
};
use vcmux::frame::Rect;
use vcmux::rfb::desktop::ViewerInput;
use vcmux::rfb::painted_desktop::PaintedDesktop;
use vcmux::rfb::{ServerSettings, SharePolicy};
use vnc::{PixelFormat, VncEncoding, VncError, VncEvent, X11Event};

/// Paints, scrolls (reported as moves) and fills, syncing the viewer after each.
async fn follow_changes(encodings: &[VncEncoding], format: PixelFormat) {
    follow_changes_on(busy_canvas(333, 211), encodings, format).await;
}

/// The same on a screen of 9x17 character cells (37x12 of them, and a margin).
async fn follow_changes_in_cells(encodings: &[VncEncoding], format: PixelFormat) {
    let canvas = busy_canvas(333, 211);
    canvas.set_cell_size(Some((9, 17)));
    follow_changes_on(canvas, encodings, format).await;
}

async fn follow_changes_on(canvas: Arc<PaintedDesktop>, encodings: &[VncEncoding], format: PixelFormat) {
    let (_server, addr) = start(&canvas, ServerSettings::default()).await;
    let client = connect(addr, None, encodings, format, true).await.expect("the viewer connects");
    let mut mirror = Mirror::new(&format);
    sync(&client, &mut mirror, &canvas).await;

    let screen = Rect::new(0, 0, 333, 211);
    for step in 0..6u32 {
        canvas.scroll_up(screen, 16, 0x00202020);
        draw_specks(&canvas, Rect::new(0, 195, 333, 16), step);
        if step % 2 == 0 {
            // A scroll of a region, then another of the same: one move.
            canvas.scroll_up(Rect::new(0, 20, 333, 100), 7, 0x00000080);
            canvas.scroll_up(Rect::new(0, 20, 333, 100), 7, 0x00000080);
        }
        canvas.fill(Rect::new(5 + step as u16 * 20, 40, 9, 70), 0x0000ffff);
        sync(&client, &mut mirror, &canvas).await;
    }
    // Something with more colours than any palette.
    canvas.paint(|fb| {
        let w = usize::from(fb.width());
        for (i, p) in fb.pixels_mut().iter_mut().enumerate() {
            *p = ((i % w) as u32 * 0x010203) ^ ((i / w) as u32 * 0x030201);
        }
        vcmux::frame::FrameDamage { moves: vec![], rects: vec![screen] }
    });
    sync(&client, &mut mirror, &canvas).await;
    let _ = client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_shows_the_framebuffer() {
    follow_changes(&[VncEncoding::Raw], PixelFormat::bgra()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copyrect_and_raw_show_the_framebuffer() {
    follow_changes(&[VncEncoding::CopyRect, VncEncoding::Raw], PixelFormat::bgra()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tight_shows_the_framebuffer() {
    follow_changes(&[VncEncoding::Tight, VncEncoding::CopyRect, VncEncoding::Raw], PixelFormat::bgra()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zrle_shows_the_framebuffer() {
    follow_changes(&[VncEncoding::Zrle, VncEncoding::CopyRect, VncEncoding::Raw], PixelFormat::bgra()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zrle_by_cell_columns_shows_the_framebuffer() {
    follow_changes_in_cells(
        &[VncEncoding::Zrle, VncEncoding::CopyRect, VncEncoding::Raw],
        PixelFormat::bgra(),
    )
    .await;
    follow_changes_in_cells(&[VncEncoding::Zrle, VncEncoding::Raw], rgb565()).await;
}

/// A screen of text whose glyphs repeat: the full screen, a scroll by one line
/// with a new line at the bottom, and one echoed key all go partly as copies
/// of cells the viewer has, and the viewer ends with the screen each time.
async fn follow_text(encodings: &[VncEncoding]) {
    let cell = (6, 8);
    let canvas = busy_canvas(6 * 40 + 3, 8 * 10);
    canvas.set_cell_size(Some(cell));
    let lines =
        ["[    0.000000] Linux version", "[    0.000001] Command line: ro quiet", "the cat sat on the mat"];
    for row in 0..10u16 {
        draw_text(&canvas, cell, row, lines[usize::from(row) % 3]);
    }
    let (_server, addr) = start(&canvas, ServerSettings::default()).await;
    let client =
        connect(addr, None, encodings, PixelFormat::bgra(), true).await.expect("the viewer connects");
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    sync(&client, &mut mirror, &canvas).await;
    for step in 0..3 {
        canvas.scroll_up(Rect::new(0, 0, 6 * 40 + 3, 8 * 10), 8, 0x00202020);
        draw_text(&canvas, cell, 9, ["on the mat [    0.1] sat", "ro cat line", "Linux the quiet"][step]);
        sync(&client, &mut mirror, &canvas).await;
    }
    draw_text(&canvas, cell, 9, "on the mat [    0.1] sat t");
    sync(&client, &mut mirror, &canvas).await;
    let _ = client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_sent_partly_as_cell_copies_shows_the_framebuffer() {
    follow_text(&[VncEncoding::Zrle, VncEncoding::CopyRect, VncEncoding::Raw]).await;
    follow_text(&[VncEncoding::Tight, VncEncoding::CopyRect, VncEncoding::Raw]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_bit_pixels_show_the_framebuffer() {
    follow_changes(&[VncEncoding::Zrle, VncEncoding::CopyRect, VncEncoding::Raw], rgb565()).await;
    follow_changes(&[VncEncoding::Raw], rgb565()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resizes_reach_the_viewer_in_both_directions() {
    let canvas = busy_canvas(200, 100);
    let (_server, addr) = start(&canvas, ServerSettings::default()).await;
    let encodings = [
        VncEncoding::Zrle,
        VncEncoding::CopyRect,
        VncEncoding::Raw,
        VncEncoding::DesktopSizePseudo,
        VncEncoding::ExtendedDesktopSizePseudo,
    ];
    let client = connect(addr, None, &encodings, PixelFormat::bgra(), true).await.expect("connects");
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    sync(&client, &mut mirror, &canvas).await;

    // The server resizes.
    canvas.resize(120, 90);
    draw_specks(&canvas, Rect::new(0, 0, 120, 90), 3);
    sync(&client, &mut mirror, &canvas).await;

    // The viewer asks for a size: the screen gets ViewerInput::Resize, and the
    // viewer its answer, then the new screen.
    let asked = client.clone();
    let mut resizing = tokio::spawn(async move { asked.resize_desktop(160, 80).await });
    // Keep reading (the answer comes in an update) until the resize is confirmed.
    let deadline = tokio::time::Instant::now() + STEP;
    let layout = loop {
        tokio::select! {
            done = &mut resizing => break done.expect("the resize task").expect("the resize is confirmed"),
            event = client.recv_event() => mirror.apply(event.expect("the viewer stays connected")),
            () = tokio::time::sleep_until(deadline) => panic!("the resize was not confirmed within {STEP:?}"),
        }
    };
    let mut inputs = canvas.inputs();
    inputs
        .wait_for(|i| i.iter().any(|e| matches!(e, ViewerInput::Resize { width: 160, height: 80, .. })))
        .await
        .expect("the screen hears of the resize");
    assert_eq!((layout.width, layout.height), (160, 80));
    sync(&client, &mut mirror, &canvas).await;
    assert_eq!((mirror.width, mirror.height), (160, 80));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_password_opens_and_a_wrong_one_is_refused() {
    let canvas = busy_canvas(64, 48);
    let config = ServerSettings { password: Some("s3cret".into()), ..ServerSettings::default() };
    let (_server, addr) = start(&canvas, config).await;
    let client =
        connect(addr, Some("s3cret"), &[VncEncoding::Raw], PixelFormat::bgra(), true).await.expect("in");
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    sync(&client, &mut mirror, &canvas).await;

    match connect(addr, Some("wrong"), &[VncEncoding::Raw], PixelFormat::bgra(), true).await {
        Err(VncError::General(reason)) => assert!(reason.contains("authentication failed"), "{reason}"),
        Err(e) => panic!("a wrong password fails with a reason, not {e}"),
        Ok(_) => panic!("a wrong password was accepted"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_from_one_address_are_refused_for_a_while() {
    let canvas = busy_canvas(64, 48);
    let config = ServerSettings { password: Some("s3cret".into()), ..ServerSettings::default() };
    let (_server, addr) = start(&canvas, config).await;
    for _ in 0..5 {
        assert!(connect(addr, Some("guess"), &[VncEncoding::Raw], PixelFormat::bgra(), true).await.is_err());
    }
    // Now even the right password is refused, at once and with a reason.
    let started = std::time::Instant::now();
    let refused = connect(addr, Some("s3cret"), &[VncEncoding::Raw], PixelFormat::bgra(), true).await;
    match refused {
        Err(VncError::General(reason)) => assert!(reason.contains("too many"), "{reason}"),
        Err(e) => panic!("refused without the reason: {e}"),
        Ok(_) => panic!("a backing-off address got in"),
    }
    assert!(started.elapsed() < STEP);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_viewers_see_the_same_screen_and_both_can_type() {
    let canvas = busy_canvas(300, 200);
    let (server, addr) = start(&canvas, ServerSettings::default()).await;
    let a = connect(addr, None, &[VncEncoding::Zrle, VncEncoding::CopyRect], PixelFormat::bgra(), true)
        .await
        .unwrap();
    let b = connect(addr, None, &[VncEncoding::Tight, VncEncoding::CopyRect], PixelFormat::bgra(), true)
        .await
        .unwrap();
    let (mut ma, mut mb) = (Mirror::new(&PixelFormat::bgra()), Mirror::new(&PixelFormat::bgra()));
    for step in 0..4 {
        canvas.scroll_up(Rect::new(0, 0, 300, 200), 10, 0);
        draw_specks(&canvas, Rect::new(0, 190, 300, 10), step);
        sync(&a, &mut ma, &canvas).await;
        sync(&b, &mut mb, &canvas).await;
    }
    assert_eq!(server.viewers(), 2);
    a.input(X11Event::KeyEvent((0x61, true).into())).await.unwrap();
    b.input(X11Event::KeyEvent((0x62, true).into())).await.unwrap();
    let mut inputs = canvas.inputs();
    inputs
        .wait_for(|i| {
            let keys: Vec<u32> = i
                .iter()
                .filter_map(|e| if let ViewerInput::Key { keysym, .. } = e { Some(*keysym) } else { None })
                .collect();
            keys.contains(&0x61) && keys.contains(&0x62)
        })
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_only_viewer_watches_but_cannot_type() {
    let canvas = busy_canvas(100, 60);
    let config = ServerSettings {
        password: Some("full".into()),
        view_only_password: Some("look".into()),
        ..ServerSettings::default()
    };
    let (_server, addr) = start(&canvas, config).await;
    let watcher = connect(addr, Some("look"), &[VncEncoding::Raw], PixelFormat::bgra(), true).await.unwrap();
    let typist = connect(addr, Some("full"), &[VncEncoding::Raw], PixelFormat::bgra(), true).await.unwrap();
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    sync(&watcher, &mut mirror, &canvas).await;
    watcher.input(X11Event::KeyEvent((0x71, true).into())).await.unwrap();
    watcher.input(X11Event::PointerEvent((5, 5, 1).into())).await.unwrap();
    watcher.input(X11Event::CopyText("from the watcher".into())).await.unwrap();
    // The typist's key comes after the watcher's input on the server's side of
    // things only if it is read later; wait for it, then look at everything.
    typist.input(X11Event::KeyEvent((0x72, true).into())).await.unwrap();
    canvas
        .inputs()
        .wait_for(|i| i.iter().any(|e| matches!(e, ViewerInput::Key { keysym: 0x72, .. })))
        .await
        .unwrap();
    // The watcher's input, sent before a request it then got answered, was read.
    sync(&watcher, &mut mirror, &canvas).await;
    canvas.fill(Rect::new(0, 0, 10, 10), 0x00ff00ff);
    sync(&watcher, &mut mirror, &canvas).await;
    let inputs = canvas.inputs().borrow().clone();
    assert!(
        inputs.iter().all(|e| !matches!(
            e,
            ViewerInput::Key { keysym: 0x71, .. }
                | ViewerInput::Pointer { .. }
                | ViewerInput::Clipboard { .. }
        )),
        "the view-only viewer's input reached the screen: {inputs:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn view_only_config_ignores_everyone() {
    let canvas = busy_canvas(50, 40);
    let (_server, addr) =
        start(&canvas, ServerSettings { view_only: true, ..ServerSettings::default() }).await;
    let client = connect(addr, None, &[VncEncoding::Raw], PixelFormat::bgra(), true).await.unwrap();
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    client.input(X11Event::KeyEvent((0x61, true).into())).await.unwrap();
    sync(&client, &mut mirror, &canvas).await;
    canvas.fill(Rect::new(0, 0, 5, 5), 0x00ffffff);
    sync(&client, &mut mirror, &canvas).await;
    assert!(canvas.inputs().borrow().iter().all(|e| !matches!(e, ViewerInput::Key { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clipboards_travel_both_ways_and_leaving_is_reported() {
    let canvas = busy_canvas(50, 40);
    let (_server, addr) = start(&canvas, ServerSettings::default()).await;
    let client = connect(addr, None, &[VncEncoding::Raw], PixelFormat::bgra(), true).await.unwrap();
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    sync(&client, &mut mirror, &canvas).await;
    canvas.set_clipboard("from the console");
    let text = wait_event(&client, |e| if let VncEvent::Text(t) = e { Some(t) } else { None }).await;
    assert_eq!(text, "from the console");
    client.input(X11Event::CopyText("from the viewer".into())).await.unwrap();
    let mut inputs = canvas.inputs();
    inputs
        .wait_for(|i| {
            i.iter().any(|e| matches!(e, ViewerInput::Clipboard { text, .. } if text == "from the viewer"))
        })
        .await
        .unwrap();
    client.close().await.unwrap();
    drop(client);
    inputs.wait_for(|i| i.iter().any(|e| matches!(e, ViewerInput::Left { .. }))).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exclusive_viewers_follow_the_share_policy() {
    let canvas = busy_canvas(50, 40);
    // allow-exclusive: an exclusive viewer disconnects the shared one.
    let (server, addr) = start(&canvas, ServerSettings::default()).await;
    let shared = connect(addr, None, &[VncEncoding::Raw], PixelFormat::bgra(), true).await.unwrap();
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    sync(&shared, &mut mirror, &canvas).await;
    let exclusive = connect(addr, None, &[VncEncoding::Raw], PixelFormat::bgra(), false).await.unwrap();
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        match tokio::time::timeout_at(deadline, shared.recv_event()).await {
            Ok(Ok(_)) => continue,
            Ok(Err(_)) => break,
            Err(_) => panic!("the shared viewer was not disconnected"),
        }
    }
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    sync(&exclusive, &mut mirror, &canvas).await;
    assert_eq!(server.viewers(), 1);

    // force-shared: an exclusive viewer is refused.
    let config = ServerSettings { share: SharePolicy::ForceShared, ..ServerSettings::default() };
    let (_server, addr) = start(&canvas, config).await;
    let refused = connect(addr, None, &[VncEncoding::Raw], PixelFormat::bgra(), false).await;
    if let Ok(client) = refused {
        // The handshake may complete on the client's side before the server closes.
        let failed = tokio::time::timeout(STEP, async {
            loop {
                if client.recv_event().await.is_err() {
                    break;
                }
            }
        })
        .await;
        assert!(failed.is_ok(), "an exclusive viewer stayed on a force-shared server");
    }
}

/// A viewer that never drains vnc-rs's event channel stops reading its socket.
/// While it asks and asks, a flood of changes goes on and another viewer keeps up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_that_never_reads_holds_back_nobody() {
    let (w, h) = (640u16, 384u16);
    let canvas = busy_canvas(w, h);
    let (_server, addr) = start(&canvas, ServerSettings::default()).await;
    let stalled = connect(addr, None, &[VncEncoding::Raw], PixelFormat::bgra(), true).await.unwrap();
    let good = connect(addr, None, &[VncEncoding::Zrle, VncEncoding::CopyRect], PixelFormat::bgra(), true)
        .await
        .unwrap();
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    sync(&good, &mut mirror, &canvas).await;
    for step in 0..300u32 {
        draw_specks(&canvas, Rect::new(0, (step % 24) as u16 * 16, w, 16), step);
        canvas.scroll_up(Rect::new(0, 0, w, h), 16, 0x00202020);
        // The stalled viewer keeps asking for full updates it never reads.
        let _ = tokio::time::timeout(STEP, stalled.input(X11Event::FullRefresh)).await;
        if step % 50 == 0 {
            sync(&good, &mut mirror, &canvas).await;
        }
    }
    sync(&good, &mut mirror, &canvas).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_password_is_refused_at_construction() {
    let canvas = Arc::new(PaintedDesktop::new("x", 10, 10));
    let config = ServerSettings { password: Some("nine chars".into()), ..ServerSettings::default() };
    let error = vcmux::rfb::Server::new(canvas, config).err().expect("refused");
    assert!(error.to_string().contains("at most 8"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_only_viewer_cannot_resize() {
    let canvas = busy_canvas(80, 60);
    let config = ServerSettings {
        password: Some("full".into()),
        view_only_password: Some("look".into()),
        ..ServerSettings::default()
    };
    let (_server, addr) = start(&canvas, config).await;
    let encodings = [VncEncoding::Raw, VncEncoding::ExtendedDesktopSizePseudo];
    let watcher = connect(addr, Some("look"), &encodings, PixelFormat::bgra(), true).await.unwrap();
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    sync(&watcher, &mut mirror, &canvas).await;
    // The layout announcement may come after the first pixels: wait for it.
    while watcher.desktop_layout().is_none() {
        watcher.input(X11Event::Refresh).await.unwrap();
        let event = wait_event(&watcher, Some).await;
        mirror.apply(event);
    }
    let asked = watcher.clone();
    let mut resizing = tokio::spawn(async move { asked.resize_desktop(40, 30).await });
    let deadline = tokio::time::Instant::now() + STEP;
    let answer = loop {
        tokio::select! {
            done = &mut resizing => break done.expect("the resize task"),
            event = watcher.recv_event() => mirror.apply(event.expect("the viewer stays connected")),
            () = tokio::time::sleep_until(deadline) => panic!("the resize was not answered within {STEP:?}"),
        }
    };
    assert_eq!(answer, Err(vnc::ResizeError::Denied(vnc::DesktopStatus::Prohibited)));
    assert_eq!(canvas.framebuffer().width(), 80);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unix_socket_serves_too() {
    let canvas = busy_canvas(90, 50);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vnc.sock");
    let server = vcmux::rfb::Server::new(canvas.clone(), ServerSettings::default()).unwrap();
    let listener = tokio::net::UnixListener::bind(&path).unwrap();
    let serving = server.clone();
    tokio::spawn(async move { serving.serve_unix(listener).await });
    let stream = tokio::net::UnixStream::connect(&path).await.unwrap();
    let client = rfb_support::connect_over(stream, None, &[VncEncoding::Tight], PixelFormat::bgra(), true)
        .await
        .unwrap();
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    sync(&client, &mut mirror, &canvas).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_disconnects_everyone() {
    let canvas = busy_canvas(40, 30);
    let (server, addr) = start(&canvas, ServerSettings::default()).await;
    let client = connect(addr, None, &[VncEncoding::Raw], PixelFormat::bgra(), true).await.unwrap();
    let mut mirror = Mirror::new(&PixelFormat::bgra());
    sync(&client, &mut mirror, &canvas).await;
    // One more, stuck in its handshake.
    let mut halfway = rfb_support::RawClient::connect(addr).await;
    halfway.read(12).await;
    server.shutdown();
    halfway.closed().await;
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        match tokio::time::timeout_at(deadline, client.recv_event()).await {
            Ok(Ok(_)) => continue,
            Ok(Err(_)) => break,
            Err(_) => panic!("the viewer stayed connected after shutdown"),
        }
    }
    assert_eq!(server.viewers(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desktop_size_past_the_framebuffer_bound_is_refused() {
    let canvas = busy_canvas(64, 48);
    let (_server, addr) = start(&canvas, ServerSettings::default()).await;
    let mut raw = RawClient::connect(addr).await;
    let (width, height, _) = raw.handshake().await;
    raw.set_encodings(&[0, -308]).await;
    raw.request(false, width, height).await;
    // Asks for a size and returns the ExtendedDesktopSize status that answers it.
    async fn ask(raw: &mut RawClient, width: u16, height: u16) -> u16 {
        let mut message = vec![251, 0];
        message.extend_from_slice(&width.to_be_bytes());
        message.extend_from_slice(&height.to_be_bytes());
        message.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        message.extend_from_slice(&width.to_be_bytes());
        message.extend_from_slice(&height.to_be_bytes());
        message.extend_from_slice(&[0, 0, 0, 0]);
        raw.write(&message).await;
        loop {
            let (rects, _) = raw.read_update().await;
            // Reason 1 (x): this viewer's request; the status is in y.
            if let Some(&(_, status, ..)) = rects.iter().find(|r| r.4 == -308 && r.0 == 1) {
                return status;
            }
            raw.request(true, width, height).await;
        }
    }
    // One pixel past each bound: a side of 8193, 7681x4320 pixels; and far past.
    for (w, h) in [(8193, 100), (100, 8193), (7681, 4320), (8000, 8000), (65535, 65535)] {
        assert_eq!(ask(&mut raw, w, h).await, 3, "{w}x{h} is an invalid layout");
        raw.request(true, width, height).await;
    }
    assert!(
        !canvas.inputs().borrow().iter().any(|i| matches!(i, ViewerInput::Resize { .. })),
        "no refused size reached the screen"
    );
    assert_eq!(ask(&mut raw, 8192, 100).await, 0, "a side of 8192 is within the bound");
    let mut inputs = canvas.inputs();
    inputs
        .wait_for(|i| i.iter().any(|e| matches!(e, ViewerInput::Resize { width: 8192, height: 100, .. })))
        .await
        .expect("the screen hears of the resize");
}
