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

/// One event of a recording, as `vcmux render` uses it.
pub struct Event {
    /// Seconds since the recording began.
    pub time: f64,
    /// What happened.
    pub kind: EventKind,
}

/// What an event does to the screen.
pub enum EventKind {
    /// Console output (`"o"`).
    Output(String),
    /// The window became COLS x ROWS (`"r"`), within what a vc may have.
    Resize(u16, u16),
    /// Input, markers and kinds to come: nothing on the screen.
    Other,
}

impl EventKind {
    /// Does this event to `terminal`.
    pub fn apply(&self, terminal: &mut Terminal) {
        match self {
            EventKind::Output(text) => terminal.advance(text.as_bytes()),
            EventKind::Resize(cols, rows) => terminal.resize(*cols, *rows),
            EventKind::Other => {}
        }
    }
}

/// The events after the header, in order; an error names the line (from 1)
/// and what is wrong with it.
pub fn events(bytes: &[u8]) -> impl Iterator<Item = Result<Event, (usize, String)>> + '_ {
    bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .skip(1)
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
        .map(|(i, line)| event(line).map_err(|reason| (i + 1, reason)))
}

fn event(line: &[u8]) -> Result<Event, String> {
    let event: Value = serde_json::from_slice(line).map_err(|e| format!("not a JSON event: {e}"))?;
    let (Some(time), Some(kind), Some(data)) = (
        event.get(0).and_then(Value::as_f64),
        event.get(1).and_then(Value::as_str),
        event.get(2).and_then(Value::as_str),
    ) else {
        return Err("an event is [seconds, kind, data]".to_string());
    };
    let kind = match kind {
        "o" => EventKind::Output(data.to_string()),
        "r" => {
            let size = data.split_once('x').and_then(|(c, r)| Some((c.parse().ok()?, r.parse().ok()?)));
            let Some((cols, rows)) = size else {
                return Err(format!("a resize is \"COLSxROWS\", not {data:?}"));
            };
            EventKind::Resize(clamp_cells(cols), clamp_cells(rows))
        }
        _ => EventKind::Other,
    };
    Ok(Event { time, kind })
}

/// Feeds the events up to `at` seconds (all of them without it) to
/// `terminal`; an error names the line and what is wrong with it.
pub fn play(bytes: &[u8], at: Option<f64>, terminal: &mut Terminal) -> Result<(), (usize, String)> {
    for event in events(bytes) {
        let event = event?;
        if at.is_some_and(|at| event.time > at) {
            break;
        }
        event.kind.apply(terminal);
    }
    Ok(())
}

/// A recording's size, within what a vc may have.
pub fn clamp_cells(n: u64) -> u16 {
    n.clamp(2, u64::from(MAX_VC_CELLS)) as u16
}
