//! Arbitrary bytes from a control client (`-qmp`) into vcmux's QMP session:
//! requests cut out of the stream (`control::wire::RequestDecoder`), checked
//! (`Request`), negotiated and run (every command's arguments read and
//! checked) over a console with one real vc and a plugboard that refuses
//! every `chardev-add`. Nothing may panic, and the session must end when the
//! bytes do (or after `quit`).
//!
//! The decoder is also checked on its own: fed the whole input at once or in
//! pieces (of a size the first byte chooses), it finds the same requests.
//!
//! A `screendump` writes a file: its `filename` is replaced by one in a
//! temporary directory before the bytes go in, so that the fuzzer never
//! writes anywhere else.
//!
//! `cargo +nightly fuzz run qmp` (from the repository root).

#![no_main]

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use vcmux::chardev::vc::Vc;
use vcmux::config::VcConfig;
use vcmux::control::plug::PlugRequest;
use vcmux::control::wire::{self, RequestDecoder};
use vcmux::control::{CommandError, Console};
use vcmux::fuzzing::serve_control_client;

/// Where screendumps go: a directory of this process's own.
static DUMPS: LazyLock<std::path::PathBuf> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join(format!("vcmux-fuzz-qmp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir.join("screendump")
});

fuzz_target!(|data: &[u8]| {
    let Some((&piece, bytes)) = data.split_first() else { return };
    let requests = decoder_agrees(bytes, usize::from(piece % 16) + 1);
    let bytes = redirect_screendumps(bytes, &requests);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime");
    runtime.block_on(session(&bytes));
});

/// What one decoder found: each value, or `None` for bytes it refused.
fn decode(chunks: impl Iterator<Item = impl AsRef<[u8]>>) -> Vec<Option<Value>> {
    let mut decoder = RequestDecoder::default();
    let mut found = Vec::new();
    for chunk in chunks {
        decoder.push(chunk.as_ref());
        while let Some(value) = decoder.next_value() {
            found.push(value.ok());
        }
    }
    found
}

/// Decodes `bytes` whole and in pieces of `piece` bytes, checks that both find
/// the same objects (the values that can be requests), and returns what the
/// whole found.
fn decoder_agrees(bytes: &[u8], piece: usize) -> Vec<Option<Value>> {
    let whole = decode(std::iter::once(bytes));
    let pieces = decode(bytes.chunks(piece));
    let objects = |values: &[Option<Value>]| -> Vec<Value> {
        values.iter().flatten().filter(|v| v.is_object()).cloned().collect()
    };
    assert_eq!(objects(&whole), objects(&pieces), "fed whole and in pieces of {piece}");
    whole
}

/// `bytes`, or, if a request is a screendump, the requests written again with
/// each screendump's `filename` in [`DUMPS`] (and a line the decoder refuses
/// where it refused one).
fn redirect_screendumps<'a>(bytes: &'a [u8], requests: &[Option<Value>]) -> Cow<'a, [u8]> {
    let is_screendump = |v: &Value| v.get("execute").and_then(Value::as_str) == Some("screendump");
    if !requests.iter().flatten().any(is_screendump) {
        return Cow::Borrowed(bytes);
    }
    let mut out = String::new();
    for request in requests {
        match request {
            Some(value) => {
                let mut value = value.clone();
                if is_screendump(&value)
                    && let Some(Value::Object(arguments)) = value.get_mut("arguments")
                    && arguments.get("filename").is_some_and(Value::is_string)
                {
                    arguments.insert("filename".into(), Value::String(DUMPS.display().to_string()));
                }
                out.push_str(&wire::line(&value));
            }
            None => out.push_str("{]\n"),
        }
    }
    Cow::Owned(out.into_bytes())
}

async fn session(bytes: &[u8]) {
    // A small vc with a line of output, for screendumps, keys and waits.
    let config = VcConfig { cols: 20, rows: 6, scrollback: 20, ..VcConfig::default() };
    let (vc, _connector) = Vc::open("vc0", &config).expect("the shipped font loads");
    let (plugboard, mut requests) = mpsc::channel(1);
    // The plugboard: every chardev-add and chardev-remove refused, nothing opened.
    let refuse = async move {
        while let Some(request) = requests.recv().await {
            let refused = || CommandError::Failed("the fuzz target opens nothing".to_string());
            match request {
                PlugRequest::Add { reply, .. } => drop(reply.send(Err(refused()))),
                PlugRequest::Remove { reply, .. } => drop(reply.send(Err(refused()))),
            }
        }
    };
    // quit cancels `stop` too, as it stops vcmux.
    let stop = CancellationToken::new();
    let console =
        Arc::new(Console::new(vec![("vc0".into(), vc)], Vec::new(), Vec::new(), plugboard, stop.clone()));
    let (client, server_end) = tokio::io::duplex(64 * 1024);
    let (reader, writer) = tokio::io::split(server_end);
    let serve = serve_control_client("fuzz".to_string(), reader, writer, console.clone(), stop.clone());
    let (mut from_server, mut to_server) = tokio::io::split(client);
    let write = async {
        let _ = to_server.write_all(bytes).await;
        let _ = to_server.shutdown().await;
    };
    let read = async {
        let mut answers = Vec::new();
        let _ = from_server.read_to_end(&mut answers).await;
        answers
    };
    let served = async {
        serve.await;
        drop(console);
    };
    let ((), (), answers, ()) = tokio::join!(served, write, read, async {
        tokio::select! {
            () = refuse => {}
            () = stop.cancelled() => {}
        }
    });
    // Every line the server wrote is one JSON object.
    for line in answers.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let value: Result<Map<String, Value>, _> = serde_json::from_slice(line);
        assert!(value.is_ok(), "not a JSON object: {:?}", String::from_utf8_lossy(line));
    }
}
