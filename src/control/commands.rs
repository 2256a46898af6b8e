//! The commands a control client runs, with QEMU's argument names and
//! answer shapes where QEMU has the command, and `x-vcmux-` names where it
//! has none. `qmp_capabilities` is the session's (it changes the session's
//! state, not the console's).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use regex::{Regex, RegexBuilder};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::args::Args;
use super::chardev;
use super::console::Console;
use super::error::CommandError;
use super::password;
use super::qcode;
use super::share;
use super::vnc;
use crate::chardev::vc::Vc;
use crate::frame::{Framebuffer, png};

/// Every command, for `query-commands`.
pub const COMMANDS: &[&str] = &[
    "qmp_capabilities",
    "query-version",
    "query-status",
    "query-commands",
    "query-chardev",
    "chardev-add",
    "chardev-remove",
    "query-vnc",
    "query-vnc-servers",
    "screendump",
    "send-key",
    "x-vcmux-send-text",
    "x-vcmux-wait-for-text",
    "x-vcmux-mark-output",
    "set_password",
    "expire_password",
    "x-vcmux-share",
    "x-vcmux-unshare",
    "x-vcmux-query-shares",
    "quit",
];

/// How long a wait for text waits when the request does not say.
const DEFAULT_WAIT: Duration = Duration::from_secs(30);

/// The longest a wait may be asked to wait: a day.
const MAX_WAIT_SECONDS: f64 = 86_400.0;

/// Runs one command (not `qmp_capabilities`) and returns its `return` value.
/// `quit` only answers: the session stops vcmux once the answer is written.
pub async fn execute(console: &Console, command: &str, mut args: Args) -> Result<Value, CommandError> {
    if !COMMANDS.contains(&command) {
        return Err(CommandError::NotFound(command.to_string()));
    }
    let answer = match command {
        "query-version" | "query-status" | "query-commands" | "query-chardev" | "query-vnc"
        | "query-vnc-servers" => {
            // The queries take no arguments.
            args.finish()?;
            query(console, command)
        }
        "chardev-add" => {
            let chardev = chardev::from_arguments(&mut args)?;
            args.finish()?;
            let plugged = console.add_chardev(chardev).await?;
            // QEMU answers with the pty's path; the offset is vcmux's own.
            let mut answer = json!({"x-vcmux-offset": plugged.offset});
            if let Some(pty) = plugged.pty {
                answer["pty"] = json!(pty);
            }
            answer
        }
        "chardev-remove" => {
            let id = args.string("id")?;
            args.finish()?;
            let unplugged = console.remove_chardev(&id).await?;
            json!({"x-vcmux-offset": unplugged.offset})
        }
        "screendump" => return screendump(console, args).await,
        "send-key" => return send_key(console, args),
        "x-vcmux-send-text" => {
            let text = args.string("text")?;
            let device = args.optional_string("device")?;
            args.finish()?;
            console.vc(device.as_deref())?.type_text(&text);
            json!({})
        }
        "x-vcmux-wait-for-text" => return wait_for_text(console, args).await,
        "set_password" => return password::set_password(console, args),
        "expire_password" => return password::expire_password(console, args),
        "x-vcmux-share" => return share::share(console, args),
        "x-vcmux-unshare" => return share::unshare(console, args),
        "x-vcmux-query-shares" => {
            args.finish()?;
            share::query_shares(console)
        }
        "x-vcmux-mark-output" => {
            let device = args.optional_string("device")?;
            args.finish()?;
            console.vc(device.as_deref())?.mark_output();
            json!({})
        }
        "quit" => {
            // The session stops vcmux once the answer is on its way.
            args.finish()?;
            json!({})
        }
        other => return Err(CommandError::NotFound(other.to_string())),
    };
    Ok(answer)
}

/// What the queries answer.
fn query(console: &Console, command: &str) -> Value {
    match command {
        "query-version" => version(),
        "query-commands" => Value::Array(COMMANDS.iter().map(|name| json!({"name": name})).collect()),
        "query-chardev" => Value::Array(
            console
                .chardevs()
                .iter()
                .map(|c| json!({"label": c.label, "filename": c.filename, "frontend-open": true}))
                .collect(),
        ),
        "query-vnc" => vnc::query_vnc(console.vnc()),
        "query-vnc-servers" => vnc::query_vnc_servers(console.vnc()),
        _ => json!({"running": true, "status": "running"}),
    }
}

/// `query-version`: vcmux's version where QEMU puts its own.
fn version() -> Value {
    let version = env!("CARGO_PKG_VERSION");
    let part = |n: usize| version.split('.').nth(n).and_then(|p| p.parse::<u64>().ok()).unwrap_or(0);
    json!({"qemu": {"major": part(0), "minor": part(1), "micro": part(2)}, "package": format!("vcmux {version}")})
}

/// `screendump`: the vc's screen at this moment, as the file QEMU would
/// write (`ppm` by default, as QEMU) or as text.
async fn screendump(console: &Console, mut args: Args) -> Result<Value, CommandError> {
    let filename = PathBuf::from(args.string("filename")?);
    let device = args.optional_string("device")?;
    let head = args.optional_integer("head")?;
    let format = args.optional_string("format")?.unwrap_or_else(|| "ppm".to_string());
    args.finish()?;
    let vc = console.vc(device.as_deref())?;
    if let Some(head) = head.filter(|&h| h != 0) {
        return Err(CommandError::Failed(format!("a vc has one head, 0; there is no head {head}")));
    }
    let contents = match format.as_str() {
        "png" | "ppm" => {
            let framebuffer = vc.screendump();
            let png = format == "png";
            tokio::task::spawn_blocking(
                move || if png { encode_png(&framebuffer) } else { Ok(ppm(&framebuffer)) },
            )
            .await
            .map_err(|e| CommandError::Failed(format!("screendump failed: {e}")))??
        }
        "txt" => vc.screen_text().into_bytes(),
        "ansi" => vc.screen_ansi().into_bytes(),
        other => {
            return Err(CommandError::Failed(format!(
                "Parameter 'format' does not accept value '{other}' (png, ppm, txt or ansi)"
            )));
        }
    };
    let path = filename.clone();
    tokio::task::spawn_blocking(move || std::fs::write(&path, contents))
        .await
        .map_err(|e| CommandError::Failed(format!("screendump failed: {e}")))?
        .map_err(|e| CommandError::Failed(format!("cannot write {}: {e}", filename.display())))?;
    Ok(json!({}))
}

fn encode_png(framebuffer: &Framebuffer) -> Result<Vec<u8>, CommandError> {
    png::encode(framebuffer).map_err(|e| CommandError::Failed(format!("screendump failed: {e}")))
}

/// A binary PPM (P6), as QEMU's screendump writes by default.
fn ppm(framebuffer: &Framebuffer) -> Vec<u8> {
    let header = format!("P6\n{} {}\n255\n", framebuffer.width(), framebuffer.height());
    let mut out = Vec::with_capacity(header.len() + framebuffer.pixels().len() * 3);
    out.extend_from_slice(header.as_bytes());
    for &p in framebuffer.pixels() {
        out.extend_from_slice(&[(p >> 16) as u8, (p >> 8) as u8, p as u8]);
    }
    out
}

/// `send-key`: keys pressed together (`ctrl`, `alt`, `delete`), as QEMU's.
fn send_key(console: &Console, mut args: Args) -> Result<Value, CommandError> {
    let keys = args.objects("keys")?;
    let device = args.optional_string("device")?;
    // Keys are bytes to a terminal: there is nothing to hold.
    let _hold_time = args.optional_integer("hold-time")?;
    args.finish()?;
    let vc = console.vc(device.as_deref())?;
    let mut names = Vec::with_capacity(keys.len());
    for key in &keys {
        match (key.get("type").and_then(Value::as_str), key.get("data")) {
            (Some("qcode"), Some(Value::String(name))) => names.push(name.as_str()),
            (Some("number"), _) => {
                return Err(CommandError::Failed(
                    "keys as numbers (scancodes) are not supported: name them as qcodes".to_string(),
                ));
            }
            _ => {
                return Err(CommandError::Failed(format!(
                    "a key is {{\"type\": \"qcode\", \"data\": NAME}}, not {}",
                    Value::Object(key.clone())
                )));
            }
        }
    }
    if names.is_empty() {
        return Err(CommandError::Failed("Parameter 'keys' is empty".to_string()));
    }
    let shift = names.iter().any(|n| qcode::is_shift(n));
    let keysyms = names
        .iter()
        .map(|name| {
            qcode::keysym(name, shift)
                .ok_or_else(|| CommandError::Failed(format!("Parameter 'keys' has no key '{name}'")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    vc.press_keys(&keysyms);
    Ok(json!({}))
}

/// Where a wait looks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum WaitMode {
    /// The console's output since the last match (or mark).
    Stream,
    /// The visible screen as text.
    Screen,
}

/// `x-vcmux-wait-for-text`: waits until one of the patterns shows, at most
/// `timeout` seconds.
async fn wait_for_text(console: &Console, mut args: Args) -> Result<Value, CommandError> {
    let sources = args.strings("pattern")?;
    let device = args.optional_string("device")?;
    let timeout = args.optional_number("timeout")?;
    let mode = args.optional_string("mode")?;
    args.finish()?;
    let vc = console.vc(device.as_deref())?.clone();
    let patterns = sources
        .iter()
        .map(|source| {
            // `^` and `$` are a line's ends, as a console is read.
            RegexBuilder::new(source).multi_line(true).build().map_err(|e| {
                CommandError::Failed(format!("pattern '{source}' is not a regex: {}", one_line(&e)))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let timeout = match timeout {
        None => DEFAULT_WAIT,
        Some(s) if s.is_finite() && (0.0..=MAX_WAIT_SECONDS).contains(&s) => Duration::from_secs_f64(s),
        Some(s) => {
            return Err(CommandError::Failed(format!(
                "Parameter 'timeout' must be 0 to {MAX_WAIT_SECONDS} seconds, not {s}"
            )));
        }
    };
    let mode = match mode.as_deref() {
        None | Some("stream") => WaitMode::Stream,
        Some("screen") => WaitMode::Screen,
        Some(other) => {
            return Err(CommandError::Failed(format!(
                "Parameter 'mode' does not accept value '{other}' (stream or screen)"
            )));
        }
    };
    wait(&vc, &patterns, &sources, mode, timeout).await
}

async fn wait(
    vc: &Arc<Vc>,
    patterns: &[Regex],
    sources: &[String],
    mode: WaitMode,
    timeout: Duration,
) -> Result<Value, CommandError> {
    let deadline = Instant::now() + timeout;
    let mut changes = vc.watch_changes();
    loop {
        // Seen before looking, so that output arriving meanwhile wakes the next turn.
        changes.borrow_and_update();
        let found = match mode {
            WaitMode::Stream => vc.find_in_output(patterns).map(|f| (f.pattern, f.matched, f.before)),
            WaitMode::Screen => find_on_screen(&vc.screen_text(), patterns),
        };
        if let Some((pattern, matched, before)) = found {
            return Ok(
                json!({"pattern": pattern, "regex": sources[pattern], "match": matched, "before": before}),
            );
        }
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    return Err(CommandError::Failed("the vc has gone".to_string()));
                }
            }
            () = tokio::time::sleep_until(deadline) => {
                return Err(CommandError::Failed(format!(
                    "timed out after {} s waiting for {}; the screen:\n{}",
                    timeout.as_secs_f64(),
                    sources.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(" or "),
                    vc.screen_text().trim_end()
                )));
            }
        }
    }
}

/// The first match of any pattern on the screen's text, with the text before it.
fn find_on_screen(text: &str, patterns: &[Regex]) -> Option<(usize, String, String)> {
    patterns
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.find(text).map(|m| (i, m)))
        .min_by_key(|(i, m)| (m.start(), *i))
        .map(|(i, m)| (i, m.as_str().to_string(), text[..m.start()].to_string()))
}

/// A regex error on one line: the regex crate draws a caret under the
/// pattern on lines of their own, which a QMP `desc` and `vcmux ctl`'s one
/// line of error cannot show; its last line says what is wrong.
fn one_line(error: &regex::Error) -> String {
    let text = error.to_string();
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .trim_start_matches("error: ")
        .to_string()
}
