//! The stdio chardev: vcmux's own stdin and stdout, as a backend (the console in
//! the terminal vcmux runs in) or as a frontend (the console arrives on stdin).

use std::io::{self, IsTerminal};
use std::sync::Mutex;

use nix::sys::termios::{InputFlags, LocalFlags, SetArg, Termios, tcgetattr, tcsetattr};

use super::OpenError;
use crate::config::StdioConfig;
use crate::hub::port::{BoxFuture, Connection, Connector};

/// The terminal settings stdin had before a stdio backend made it raw, restored
/// by [`restore_terminal`] however vcmux exits.
static SAVED_TERMINAL: Mutex<Option<Termios>> = Mutex::new(None);

/// stdin and stdout as one connection.
pub struct StdioConnector {
    handed_out: bool,
    /// A frontend ends with its input; a backend stays on (stdout still works).
    frontend: bool,
}

impl StdioConnector {
    /// The stdio backend. When stdin is a terminal it is put in raw mode, as QEMU's
    /// stdio chardev does, keeping Ctrl-C as a signal to vcmux unless `signal=off`.
    pub fn backend(label: &str, config: &StdioConfig) -> Result<StdioConnector, OpenError> {
        if io::stdin().is_terminal() {
            make_raw(config.signal).map_err(|e| OpenError::new(label, "cannot set up the terminal", e))?;
        }
        Ok(StdioConnector { handed_out: false, frontend: false })
    }

    /// The stdio frontend: the console output arrives on stdin.
    pub fn frontend() -> StdioConnector {
        StdioConnector { handed_out: false, frontend: true }
    }
}

impl Connector for StdioConnector {
    fn connect(&mut self) -> BoxFuture<'_, io::Result<Option<Connection>>> {
        let first = !std::mem::replace(&mut self.handed_out, true);
        let frontend = self.frontend;
        Box::pin(async move {
            if !first {
                if frontend {
                    return Ok(None);
                }
                // stdout does not come back once it has failed.
                std::future::pending::<()>().await;
            }
            Ok(Some(Connection {
                peer: "stdio".to_string(),
                writer: Box::new(tokio::io::stdout()),
                reader: Some(Box::new(tokio::io::stdin())),
                eof_is_hangup: frontend,
                typed: None,
            }))
        })
    }
}

/// QEMU's stdio settings: no echo, no line editing, no CR/LF mapping on input.
fn make_raw(keep_signals: bool) -> io::Result<()> {
    let stdin = io::stdin();
    let saved = tcgetattr(&stdin)?;
    let mut raw = saved.clone();
    raw.input_flags &= !(InputFlags::IGNBRK
        | InputFlags::BRKINT
        | InputFlags::PARMRK
        | InputFlags::ISTRIP
        | InputFlags::INLCR
        | InputFlags::IGNCR
        | InputFlags::ICRNL
        | InputFlags::IXON);
    raw.local_flags &= !(LocalFlags::ECHO | LocalFlags::ECHONL | LocalFlags::ICANON | LocalFlags::IEXTEN);
    if !keep_signals {
        raw.local_flags &= !LocalFlags::ISIG;
    }
    tcsetattr(&stdin, SetArg::TCSANOW, &raw)?;
    if let Ok(mut slot) = SAVED_TERMINAL.lock() {
        slot.get_or_insert(saved);
    }
    Ok(())
}

/// Puts stdin's terminal back as it was, if a stdio backend changed it.
pub fn restore_terminal() {
    let saved = SAVED_TERMINAL.lock().ok().and_then(|mut slot| slot.take());
    if let Some(saved) = saved {
        let _ = tcsetattr(io::stdin(), SetArg::TCSANOW, &saved);
    }
}
