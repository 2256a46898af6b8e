//! The control socket: QEMU's QMP (JSON over a unix or TCP socket) for
//! scripts and CI, so that the tools people already drive QEMU with (the
//! `qemu.qmp` Python library, qmp-shell, socat) drive a vcmux console too:
//! take a screendump, type, wait for text, ask what is running, stop.
//!
//! - [`wire`]: QMP's messages, and requests read from a byte stream;
//! - `session`: one client (greeting, negotiation, answers, events);
//! - `commands`: what each command does, over a [`Console`];
//! - `args`, `error`: arguments read by name, failures as QMP errors;
//! - [`chardev`]: chardevs as `query-chardev` lists them, and QEMU's
//!   backend JSON (`chardev-add`) read into a backend's options;
//! - [`plug`]: `chardev-add`/`chardev-remove` as requests to the task that
//!   runs the hubs (launch's plugboard);
//! - `qcode`: QEMU's key names as the keysyms a viewer sends;
//! - [`vnc`]: the VNC servers and their viewers in QEMU's shapes
//!   (`query-vnc`, `query-vnc-servers`, `VNC_CONNECTED`, `VNC_INITIALIZED`,
//!   `VNC_DISCONNECTED`), from the RFB server's plain snapshots and events;
//! - `password`: QEMU's `set_password` and `expire_password` for VNC;
//! - `share`: share links (`x-vcmux-share`, `x-vcmux-unshare`,
//!   `x-vcmux-query-shares`) over each display's RFB server's shares;
//! - [`server`]: the listener, any number of clients at once.
//!
//! Unlike QEMU's monitor, many clients are served at once, each with its own
//! negotiation, and none can hold back the console or another client.
//!
//! Events: `SHUTDOWN` (after `quit`), QEMU's `VNC_CONNECTED`,
//! `VNC_INITIALIZED` and `VNC_DISCONNECTED`, and two of vcmux's own, as QEMU
//! has none: `X_VCMUX_FRONTEND_CLOSED` when a hub's console goes away (QEMU
//! restarted behind a `reconnect=` socket) and `X_VCMUX_FRONTEND_OPENED`
//! when it connects or comes back, both with `{"hub": ID}`; and
//! `X_VCMUX_BACKEND_LAGGED` when a hub cuts a backend off for falling further
//! behind than its `lag=SIZE`, with `{"id", "hub", "lag", "dropped",
//! "offset"}` (the bytes it had not yet written, dropped, and the console
//! offset of the cut). `launch` feeds them in ([`Console::emit_vnc`],
//! [`Console::emit_frontend`], [`Console::emit_backend_lagged`]); this module
//! never reaches up for them.

mod args;
pub mod chardev;
mod commands;
mod console;
mod error;
mod password;
pub mod plug;
mod qcode;
pub mod server;
pub(crate) mod session;
mod share;
pub mod vnc;
pub mod wire;

pub use chardev::ChardevInfo;
pub use console::{BACKEND_LAGGED, Console, FRONTEND_CLOSED, FRONTEND_OPENED};
pub use error::CommandError;
pub use server::ControlListener;
