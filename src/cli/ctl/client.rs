//! A small QMP client of `vcmux ctl`'s own: connect, read the greeting,
//! negotiate, then one request at a time, its answer found by `id` among
//! the events the server may send at any moment.
//!
//! It is blocking std I/O: one request, one answer, no concurrency to manage.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::error::CtlError;
use super::target::Target;

/// The longest line read from the server: far past any answer (a screen's
/// text, a list of chardevs), short of letting a stray peer fill memory.
const MAX_LINE: u64 = 16 << 20;

/// How long a TCP connection may take to open.
const CONNECT_WAIT: Duration = Duration::from_secs(30);

/// How much of an unexpected line an error quotes.
const QUOTE: usize = 120;

/// A connection to a control socket, negotiated and ready for commands.
pub struct Client {
    target: String,
    reader: BufReader<Stream>,
    writer: Stream,
    next_id: u64,
}

impl Client {
    /// Connects, reads the greeting and negotiates capabilities, waiting at
    /// most `wait` for each answer.
    pub fn connect(target: &Target, wait: Duration) -> Result<Client, CtlError> {
        let name = target.to_string();
        let stream =
            Stream::connect(target).map_err(|source| CtlError::Connect { target: name.clone(), source })?;
        let reader = stream.try_clone().map_err(|source| CtlError::Io { target: name.clone(), source })?;
        let mut client = Client { target: name, reader: BufReader::new(reader), writer: stream, next_id: 1 };
        let deadline = Instant::now() + wait;
        let greeting = client.read_message(deadline, wait)?;
        if greeting.get("QMP").is_none() {
            return Err(CtlError::NotQmp {
                target: client.target.clone(),
                greeting: quote(&greeting.to_string()),
            });
        }
        client.execute("qmp_capabilities", Map::new(), wait)?;
        Ok(client)
    }

    /// Runs `command` with `arguments` and returns its `return` value.
    pub fn execute(
        &mut self,
        command: &str,
        arguments: Map<String, Value>,
        wait: Duration,
    ) -> Result<Value, CtlError> {
        let mut request = Map::new();
        request.insert("execute".to_string(), Value::String(command.to_string()));
        if !arguments.is_empty() {
            request.insert("arguments".to_string(), Value::Object(arguments));
        }
        self.request(request, wait)
    }

    /// Sends a request as given (an `id` of the client's added when it has
    /// none) and returns its answer's `return` value, or its error.
    pub fn request(&mut self, mut request: Map<String, Value>, wait: Duration) -> Result<Value, CtlError> {
        let id = match request.get("id") {
            Some(id) => id.clone(),
            None => {
                let id = json!(format!("vcmux-ctl-{}", self.next_id));
                self.next_id += 1;
                request.insert("id".to_string(), id.clone());
                id
            }
        };
        let mut line = Value::Object(request).to_string();
        line.push('\n');
        self.writer
            .write_all(line.as_bytes())
            .and_then(|()| self.writer.flush())
            .map_err(|source| CtlError::Io { target: self.target.clone(), source })?;
        let deadline = Instant::now() + wait;
        loop {
            let message = self.read_message(deadline, wait)?;
            if message.get("event").is_some() {
                continue;
            }
            // An answer without an id is to a request the server could not
            // read, and only one request is ever in flight.
            match message.get("id") {
                Some(other) if *other != id => continue,
                _ => {}
            }
            return answer(&self.target, message);
        }
    }

    /// The next JSON object from the server, before `deadline`.
    fn read_message(&mut self, deadline: Instant, wait: Duration) -> Result<Value, CtlError> {
        let no_answer = || CtlError::NoAnswer { target: self.target.clone(), seconds: wait.as_secs() };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(no_answer());
        }
        self.reader
            .get_ref()
            .set_read_timeout(Some(left))
            .map_err(|source| CtlError::Io { target: self.target.clone(), source })?;
        let mut line = String::new();
        match self.reader.by_ref().take(MAX_LINE).read_line(&mut line) {
            Ok(0) => return Err(CtlError::Closed { target: self.target.clone() }),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return Err(no_answer());
            }
            Err(source) => return Err(CtlError::Io { target: self.target.clone(), source }),
        }
        match serde_json::from_str::<Value>(&line) {
            Ok(value @ Value::Object(_)) => Ok(value),
            _ => Err(CtlError::Protocol { target: self.target.clone(), line: quote(line.trim_end()) }),
        }
    }
}

/// An answer's `return` value, or its error as [`CtlError::Qmp`].
fn answer(target: &str, mut message: Value) -> Result<Value, CtlError> {
    if let Some(value) = message.get_mut("return") {
        return Ok(value.take());
    }
    match message.get("error") {
        Some(error) => {
            let text = |key: &str| error.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
            Err(CtlError::Qmp { class: text("class"), desc: text("desc") })
        }
        None => Err(CtlError::Protocol { target: target.to_string(), line: quote(&message.to_string()) }),
    }
}

/// The first [`QUOTE`] characters of `text`.
fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// The socket, unix or TCP.
enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Stream {
    fn connect(target: &Target) -> io::Result<Stream> {
        match target {
            Target::Unix(path) => UnixStream::connect(path).map(Stream::Unix),
            Target::Tcp { host, port } => {
                let mut last = io::Error::new(io::ErrorKind::NotFound, "the host has no address");
                for address in (host.as_str(), *port).to_socket_addrs()? {
                    match TcpStream::connect_timeout(&address, CONNECT_WAIT) {
                        Ok(stream) => return Ok(Stream::Tcp(stream)),
                        Err(e) => last = e,
                    }
                }
                Err(last)
            }
        }
    }

    fn try_clone(&self) -> io::Result<Stream> {
        match self {
            Stream::Unix(s) => s.try_clone().map(Stream::Unix),
            Stream::Tcp(s) => s.try_clone().map(Stream::Tcp),
        }
    }

    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Unix(s) => s.set_read_timeout(timeout),
            Stream::Tcp(s) => s.set_read_timeout(timeout),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Unix(s) => s.flush(),
            Stream::Tcp(s) => s.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_and_errors_are_read_from_qmps_shapes() {
        assert_eq!(answer("t", json!({"return": {"a": 1}, "id": 1})).unwrap(), json!({"a": 1}));
        match answer("t", json!({"error": {"class": "DeviceNotFound", "desc": "Device 'x' not found"}})) {
            Err(CtlError::Qmp { class, desc }) => {
                assert_eq!((class.as_str(), desc.as_str()), ("DeviceNotFound", "Device 'x' not found"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(answer("t", json!({"what": 1})), Err(CtlError::Protocol { .. })));
        assert_eq!(quote(&"é".repeat(200)).chars().count(), QUOTE + 1);
    }

    /// A server that greets, then answers each request with `script`'s
    /// lines (`ID` standing for the request's id), and hangs up.
    fn fake_server(script: &'static [&'static str]) -> (tempfile::TempDir, Target) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.sock");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut writer = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            writer.write_all(b"{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n").unwrap();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let request: Value = serde_json::from_str(&line).unwrap();
            assert_eq!(request["execute"], "qmp_capabilities");
            writer
                .write_all(format!("{{\"return\": {{}}, \"id\": {}}}\r\n", request["id"]).as_bytes())
                .unwrap();
            line.clear();
            reader.read_line(&mut line).unwrap();
            let request: Value = serde_json::from_str(&line).unwrap();
            for answer in script {
                let answer = answer.replace("ID", &request["id"].to_string());
                writer.write_all(format!("{answer}\r\n").as_bytes()).unwrap();
            }
        });
        (dir, Target::Unix(path))
    }

    #[test]
    fn events_and_other_answers_are_skipped_until_the_requests_own() {
        let (_dir, target) = fake_server(&[
            r#"{"event": "VNC_CONNECTED", "data": {}, "timestamp": {"seconds": 1, "microseconds": 0}}"#,
            r#"{"return": "not mine", "id": "someone else"}"#,
            r#"{"return": {"status": "running"}, "id": ID}"#,
        ]);
        let mut client = Client::connect(&target, Duration::from_secs(60)).unwrap();
        let got = client.execute("query-status", Map::new(), Duration::from_secs(60)).unwrap();
        assert_eq!(got, json!({"status": "running"}));
    }

    #[test]
    fn a_server_that_hangs_up_or_stays_silent_is_an_error_not_a_hang() {
        let (_dir, target) = fake_server(&[]);
        let mut client = Client::connect(&target, Duration::from_secs(60)).unwrap();
        let got = client.execute("query-status", Map::new(), Duration::from_secs(60));
        assert!(matches!(got, Err(CtlError::Closed { .. })), "{got:?}");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("silent.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let got = Client::connect(&Target::Unix(path), Duration::from_millis(200));
        assert!(matches!(got, Err(CtlError::NoAnswer { .. })), "{:?}", got.err());
    }
}
