//! asciicast v2 (asciinema's format): a JSON header line, then one JSON event
//! a line, `[seconds, "o", "output"]`; `"r"` events resize (`"COLSxROWS"`),
//! others (input, markers) are skipped.

use serde_json::Value;

use crate::config::MAX_VC_CELLS;
use crate::term::Terminal;

/// The header's terminal size.
pub struct Header {
    /// Columns.
    pub width: u64,
    /// Rows.
    pub height: u64,
}

/// The header, when `bytes` is a recording: `None` when its first line
/// is not a JSON object with `"version": 2`.
pub fn header(bytes: &[u8]) -> Option<Result<Header, String>> {
    let first = bytes.split(|&b| b == b'\n').next()?;
    let value: Value = serde_json::from_slice(first).ok()?;
    if value.get("version").and_then(Value::as_u64) != Some(2) {
        return None;
    }
    let size = |key: &str| {
        value.get(key).and_then(Value::as_u64).ok_or_else(|| format!("the header has no \"{key}\""))
    };
    Some(size("width").and_then(|width| Ok(Header { width, height: size("height")? })))
}

/// Feeds the output events up to `at` seconds (all of them without it)
/// to `terminal`; an error names the line and what is wrong with it.
pub fn play(bytes: &[u8], at: Option<f64>, terminal: &mut Terminal) -> Result<(), (usize, String)> {
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate().skip(1) {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let event: Value =
            serde_json::from_slice(line).map_err(|e| (i + 1, format!("not a JSON event: {e}")))?;
        let (Some(time), Some(kind), Some(data)) = (
            event.get(0).and_then(Value::as_f64),
            event.get(1).and_then(Value::as_str),
            event.get(2).and_then(Value::as_str),
        ) else {
            return Err((i + 1, "an event is [seconds, kind, data]".to_string()));
        };
        if at.is_some_and(|at| time > at) {
            break;
        }
        match kind {
            "o" => terminal.advance(data.as_bytes()),
            "r" => {
                let size = data.split_once('x').and_then(|(c, r)| Some((c.parse().ok()?, r.parse().ok()?)));
                let Some((cols, rows)) = size else {
                    return Err((i + 1, format!("a resize is \"COLSxROWS\", not {data:?}")));
                };
                terminal.resize(clamp_cells(cols), clamp_cells(rows));
            }
            _ => {}
        }
    }
    Ok(())
}

/// A recording's size, within what a vc may have.
pub fn clamp_cells(n: u64) -> u16 {
    n.clamp(2, u64::from(MAX_VC_CELLS)) as u16
}
