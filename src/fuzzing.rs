//! The seams the cargo-fuzz targets (`fuzz/`) drive that are not part of
//! vcmux's public API, compiled only with the cargo feature `fuzzing` (which
//! only `fuzz/Cargo.toml` turns on).
//!
//! Everything else the targets need is public already: the VNC server takes
//! any byte stream (`rfb::Server::handle`, `handle_http`), the command
//! line is `cli::parse`, the QMP wire is `control::wire`. A control client's
//! session is not: the server spawns it on each accepted socket, and the fuzz
//! target serves one over an in-memory stream instead.

pub use crate::control::session::serve as serve_control_client;
