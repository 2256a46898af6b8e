//! vcmux: one console byte stream fanned out to several backends.
//!
//! vcmux does, as a process of its own, what QEMU's `mux-be` chardev (merged as
//! `-chardev hub` in QEMU 10) does inside QEMU: it attaches to one console stream
//! (a command under a PTY, a QEMU serial socket, stdio) and multiplexes it to up to
//! four backends (sockets, PTYs, log files, stdio).
//!
//! The layers, lowest first, each knowing nothing of the ones above it:
//!
//! - [`config`]: the QEMU-style `-chardev`/`-frontend` options parsed into a typed,
//!   validated graph of hubs, each with one frontend and its backends.
//! - [`chardev`]: one module per kind of endpoint (pty, socket, file, stdio, null, vc,
//!   asciicast),
//!   each a source of connections.
//! - [`hub`]: the mux-be core: fan-out with per-backend progress, fan-in, events.
//! - [`term`]: the vc's terminal emulator: console bytes to a grid of cells.
//! - [`render`]: the vc's cells drawn as pixels (fonts, glyphs, box drawing).
//! - [`frame`]: pixels: framebuffer, rectangles, moves, frame damage, PNG.
//! - [`rfb`]: the VNC server that shows a [`rfb::desktop::Desktop`] to viewers.
//! - [`tls`]: TLS credentials (QEMU's `tls-creds-x509` files, self-signed, `vcmux certs`).
//! - [`novnc`]: noVNC's browser client, compiled in, which the websocket port serves.
//! - [`control`]: the QMP control socket: screendumps, typing, waiting for text.
//! - [`launch`]: opens the chardevs of a configuration and runs its hubs.
//! - [`cli`]: the command line and its help.
//! - [`unix_socket`]: listening on a unix socket path without clobbering or leaving files.
//! - `fuzzing` (with the cargo feature `fuzzing` only): what the fuzz targets
//!   drive that is not public otherwise.

pub mod chardev;
pub mod cli;
pub mod config;
pub mod control;
pub mod frame;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod hub;
pub mod launch;
pub mod memory;
pub mod novnc;
pub mod render;
pub mod rfb;
/// The vc's terminal emulator, the crate `vcmux-term` (buildable without
/// tokio, and all the fuzz target needs), under the name it has always had
/// here, so that `crate::term::…` and `vcmux::term::…` name it as before.
pub use vcmux_term as term;
pub mod tls;
pub mod unix_socket;
