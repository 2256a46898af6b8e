//! vcmux: one console byte stream fanned out to several backends.
//!
//! vcmux does, as a process of its own, what QEMU's `mux-be` chardev (merged as
//! `-chardev hub` in QEMU 10) does inside QEMU: it attaches to one console stream
//! (a command under a PTY, a QEMU serial socket, stdio) and multiplexes it to up to
//! four backends (sockets, PTYs, log files, stdio and a VNC-served terminal).

/// The terminal emulator of the vc backend: console bytes to a grid of cells.
pub mod term;
