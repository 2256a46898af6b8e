//! The command line's `-chardev`, `-frontend`, `-vnc`, `-object` and `-qmp` options, parsed and validated into
//! a graph of hubs, each with one frontend and 1 to 4 backends.
//!
//! Both of QEMU's ways of building a hub are accepted and give the same graph:
//! the mux-be patch's (`-chardev mux-be,id=HUB` plus `mux-be-id=HUB` on each
//! backend) and QEMU 10's (`-chardev hub,id=HUB,chardevs.0=ID,…`). Every error is
//! found here, before anything is opened or started, and reads as one line that
//! names the ids involved.

mod address;
mod error;
mod object;
mod opts;
mod parse;
mod qmp;
mod types;
mod vnc;

pub use address::SocketAddress;
pub use error::ConfigError;
pub use object::TlsCredsConfig;
pub use parse::parse_backend;
pub use qmp::QmpConfig;
pub use types::{
    AsciicastConfig, BackendConfig, BackendKind, Config, DEFAULT_BACKEND, DEFAULT_LAG, FileConfig,
    FrontendConfig, FrontendKind, HubConfig, IMPLICIT_HUB, LogfileConfig, MAX_BACKENDS, MAX_LAG, MAX_REPLAY,
    MAX_VC_CELLS, Options, PtyConfig, SocketConfig, StdioConfig, VcConfig,
};
pub use vnc::{AddressError, PortRule, VNC_BASE_PORT, VncConfig, VncListen, VncTls, parse_address};

#[cfg(test)]
mod tests;
