//! QMP's wire format, as QEMU speaks it (docs/interop/qmp-spec.rst): JSON
//! objects in both directions, a greeting first, then requests
//! `{"execute": NAME, "arguments": {…}, "id": ANY}` answered by
//! `{"return": …, "id": …}` or `{"error": {"class": …, "desc": …}, "id": …}`,
//! and events `{"event": NAME, "data": {…}, "timestamp": {…}}` at any time.
//!
//! Requests are read from a byte stream that may cut them anywhere or carry
//! several at once ([`RequestDecoder`]); what is not a well-formed request is
//! answered with QEMU's own error text, and the connection goes on.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

/// The longest request vcmux reads: past it, the bytes so far are an error
/// and are dropped (QEMU's parser stops at 64 MiB; no command of vcmux's
/// takes more than a line of text).
pub const MAX_REQUEST: usize = 1 << 20;

/// A request, checked for its shape (not yet for its command's arguments).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// `execute`: the command's name.
    pub command: String,
    /// `arguments`, empty when absent.
    pub arguments: Map<String, Value>,
    /// `id`, echoed in the answer, any JSON value.
    pub id: Option<Value>,
}

impl Request {
    /// Checks that `value` is a request, in QEMU's words when it is not. The
    /// error carries the request's `id` when it had one, for the answer.
    pub fn from_value(value: Value) -> Result<Request, (Option<Value>, String)> {
        let Value::Object(mut object) = value else {
            return Err((None, "QMP input must be a JSON object".to_string()));
        };
        let id = object.remove("id");
        let fail = |desc: String| Err((id.clone(), desc));
        let command = match object.remove("execute") {
            Some(Value::String(command)) => command,
            Some(_) => return fail("QMP input member 'execute' must be a string".to_string()),
            None => return fail("QMP input lacks member 'execute'".to_string()),
        };
        let arguments = match object.remove("arguments") {
            Some(Value::Object(arguments)) => arguments,
            Some(_) => return fail("QMP input member 'arguments' must be an object".to_string()),
            None => Map::new(),
        };
        if let Some(unexpected) = object.keys().next() {
            return fail(format!("QMP input member '{unexpected}' is unexpected"));
        }
        Ok(Request { command, arguments, id })
    }
}

/// Splits a byte stream into JSON values: bytes go in as they arrive, whole
/// values come out.
#[derive(Debug, Default)]
pub struct RequestDecoder {
    buffer: Vec<u8>,
    /// The rest of a malformed line is still to come: drop it.
    skipping: bool,
}

impl RequestDecoder {
    /// Adds bytes read from the client.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next whole value, an error for bytes that cannot become one (they
    /// are dropped up to the end of their line, so that the next request is
    /// read), or `None` until more bytes arrive.
    pub fn next_value(&mut self) -> Option<Result<Value, String>> {
        if self.skipping {
            let Some(end) = self.buffer.iter().position(|&b| b == b'\n') else {
                self.buffer.clear();
                return None;
            };
            self.buffer.drain(..=end);
            self.skipping = false;
        }
        let mut values = serde_json::Deserializer::from_slice(&self.buffer).into_iter::<Value>();
        match values.next() {
            None => {
                self.buffer.clear();
                None
            }
            // A number that ends where the bytes so far end may go on in the
            // next read ("12" then "34"): it is whole only once something
            // follows it, as in QEMU's lexer. Cut there, its second half
            // could be a malformed number ("00") whose error drops the rest
            // of its line, requests and all.
            Some(Ok(value))
                if value.is_number()
                    && values.byte_offset() == self.buffer.len()
                    && self.buffer.len() <= MAX_REQUEST =>
            {
                None
            }
            Some(Ok(value)) => {
                let used = values.byte_offset();
                self.buffer.drain(..used);
                Some(Ok(value))
            }
            Some(Err(e)) if e.is_eof() && self.buffer.len() <= MAX_REQUEST => None,
            Some(Err(e)) if e.is_eof() => {
                self.buffer.clear();
                Some(Err(format!("JSON parse error, request longer than {MAX_REQUEST} bytes")))
            }
            Some(Err(e)) => {
                // The malformed line (the error's, which may follow the end
                // of the last value) goes, up to its end even if that is
                // still to come: one line, one error.
                let newlines: Vec<usize> =
                    self.buffer.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i).collect();
                match newlines.get(e.line().saturating_sub(1)) {
                    Some(&end) => drop(self.buffer.drain(..=end)),
                    None => {
                        self.buffer.clear();
                        self.skipping = true;
                    }
                }
                Some(Err(format!("JSON parse error, {e}")))
            }
        }
    }
}

/// QMP's error classes that vcmux answers with (QEMU's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Every error but the two below, as in QEMU today.
    GenericError,
    /// An unknown command, or any command before `qmp_capabilities`.
    CommandNotFound,
    /// A `device` argument that names no device.
    DeviceNotFound,
}

impl ErrorClass {
    fn name(self) -> &'static str {
        match self {
            ErrorClass::GenericError => "GenericError",
            ErrorClass::CommandNotFound => "CommandNotFound",
            ErrorClass::DeviceNotFound => "DeviceNotFound",
        }
    }
}

/// The greeting a client reads first. The version is vcmux's; `package`
/// says it is vcmux to a client that logs it.
pub fn greeting() -> Value {
    let version = env!("CARGO_PKG_VERSION");
    let mut parts = version.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    let (major, minor, micro) =
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    json!({"QMP": {
        "version": {"qemu": {"major": major, "minor": minor, "micro": micro}, "package": format!("vcmux {version}")},
        "capabilities": [],
    }})
}

/// A command's answer.
pub fn success(id: Option<Value>, value: Value) -> Value {
    with_id(json!({"return": value}), id)
}

/// A command's error.
pub fn failure(id: Option<Value>, class: ErrorClass, desc: &str) -> Value {
    with_id(json!({"error": {"class": class.name(), "desc": desc}}), id)
}

/// An event, stamped with the time it happened.
pub fn event(name: &str, data: Option<Value>, at: SystemTime) -> Value {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let mut event = json!({
        "event": name,
        "timestamp": {"seconds": since.as_secs(), "microseconds": since.subsec_micros()},
    });
    if let (Some(data), Value::Object(object)) = (data, &mut event) {
        object.insert("data".to_string(), data);
    }
    event
}

fn with_id(mut answer: Value, id: Option<Value>) -> Value {
    if let (Some(id), Value::Object(object)) = (id, &mut answer) {
        object.insert("id".to_string(), id);
    }
    answer
}

/// One message as QEMU writes it: one line of JSON ending in CR LF.
pub fn line(message: &Value) -> String {
    let mut line = message.to_string();
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(decoder: &mut RequestDecoder) -> Vec<Result<Value, String>> {
        std::iter::from_fn(|| decoder.next_value()).collect()
    }

    #[test]
    fn requests_cut_anywhere_or_run_together_come_out_whole() {
        let text = br#"{"execute": "query-status", "id": 1}{"execute":"quit"}
"#;
        for cut in 0..text.len() {
            let mut decoder = RequestDecoder::default();
            decoder.push(&text[..cut]);
            let mut got = decode_all(&mut decoder);
            decoder.push(&text[cut..]);
            got.extend(decode_all(&mut decoder));
            let got: Vec<Value> = got.into_iter().map(Result::unwrap).collect();
            assert_eq!(
                got,
                [json!({"execute": "query-status", "id": 1}), json!({"execute": "quit"})],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn a_number_cut_by_a_read_is_one_number_and_the_request_after_it_is_read() {
        // Found by the qmp fuzz target: a number cut so that its second half
        // starts with "00" made an error that dropped the request after it.
        let text = b"4400000002{\"execute\": \"qmp_capabilities\"}\n";
        let whole = decode_all(&mut {
            let mut decoder = RequestDecoder::default();
            decoder.push(text);
            decoder
        });
        for piece in 1..text.len() {
            let mut decoder = RequestDecoder::default();
            let mut got = Vec::new();
            for chunk in text.chunks(piece) {
                decoder.push(chunk);
                got.extend(decode_all(&mut decoder));
            }
            assert_eq!(got, whole, "in pieces of {piece}");
        }
        assert_eq!(whole.len(), 2, "{whole:?}");
        assert_eq!(whole[0], Ok(json!(4_400_000_002u64)));
        assert_eq!(whole[1], Ok(json!({"execute": "qmp_capabilities"})));
    }

    #[test]
    fn a_malformed_line_is_one_error_and_the_next_request_is_read() {
        let mut decoder = RequestDecoder::default();
        decoder.push(b"{\"execute\": ]\n{\"execute\": \"quit\"}\n");
        let got = decode_all(&mut decoder);
        assert!(got[0].as_ref().is_err_and(|e| e.starts_with("JSON parse error")), "{got:?}");
        assert_eq!(got[1], Ok(json!({"execute": "quit"})));
        assert_eq!(got.len(), 2);

        // After a good request, on a line of its own; and one cut in two.
        let mut decoder = RequestDecoder::default();
        decoder.push(b"{\"execute\": \"a\"}\n{garbage\n{\"execute\": \"b\"}\n}\n{\"execute\": \"c\"}\n{bad");
        let got = decode_all(&mut decoder);
        assert_eq!(got.iter().filter(|r| r.is_err()).count(), 3, "{got:?}");
        assert_eq!(got.iter().filter(|r| r.is_ok()).count(), 3, "{got:?}");
        decoder.push(b" still bad\n{\"execute\": \"d\"}\n");
        assert_eq!(decode_all(&mut decoder), [Ok(json!({"execute": "d"}))]);
    }

    #[test]
    fn a_request_past_the_bound_is_dropped() {
        let mut decoder = RequestDecoder::default();
        decoder.push(b"{\"execute\": \"");
        decoder.push(&vec![b'a'; MAX_REQUEST]);
        assert!(decoder.next_value().is_some_and(|r| r.is_err()));
        assert!(decoder.buffer.is_empty());
    }

    #[test]
    fn shapes_are_checked_in_qemus_words_with_the_id_kept() {
        let check = Request::from_value;
        assert_eq!(check(json!([1])), Err((None, "QMP input must be a JSON object".into())));
        assert_eq!(check(json!({"id": 7})), Err((Some(json!(7)), "QMP input lacks member 'execute'".into())));
        assert_eq!(
            check(json!({"execute": 1})),
            Err((None, "QMP input member 'execute' must be a string".into()))
        );
        assert_eq!(
            check(json!({"execute": "x", "arguments": []})),
            Err((None, "QMP input member 'arguments' must be an object".into()))
        );
        assert_eq!(
            check(json!({"execute": "x", "extra": 1})),
            Err((None, "QMP input member 'extra' is unexpected".into()))
        );
        let request = check(json!({"execute": "x", "arguments": {"a": 1}, "id": "abc"})).unwrap();
        assert_eq!(request.command, "x");
        assert_eq!(request.id, Some(json!("abc")));
        assert_eq!(request.arguments["a"], json!(1));
    }

    #[test]
    fn answers_and_events_have_qemus_shapes() {
        assert_eq!(success(Some(json!(3)), json!({})), json!({"return": {}, "id": 3}));
        assert_eq!(success(None, json!([])), json!({"return": []}));
        assert_eq!(
            failure(None, ErrorClass::GenericError, "no"),
            json!({"error": {"class": "GenericError", "desc": "no"}})
        );
        let at = UNIX_EPOCH + std::time::Duration::from_micros(1_500_000);
        assert_eq!(
            event("VNC_CONNECTED", Some(json!({"a": 1})), at),
            json!({"event": "VNC_CONNECTED", "data": {"a": 1}, "timestamp": {"seconds": 1, "microseconds": 500_000}})
        );
        let greeting = greeting();
        assert!(greeting["QMP"]["version"]["qemu"]["major"].is_u64());
        assert_eq!(greeting["QMP"]["capabilities"], json!([]));
        assert!(line(&json!({})).ends_with("}\r\n"));
    }
}
