//! The RFB (VNC) server of the vc backend.
//!
//! It serves a [`Screen`](screen::Screen): it asks it for the framebuffer a
//! viewer sees (the shared one, or one of the viewer's own) and the damage
//! since the last render, and hands it every viewer's keys, pointer and
//! clipboard. It knows nothing of terminals.
//!
//! - [`server`]: [`Server`], accepting viewers on TCP, unix or WebSocket listeners;
//! - `viewers`: the registry every connection shares: viewers, their pending
//!   regions, the share policy and the connection limit;
//! - [`config`]: passwords, view-only, share policy, connection limit;
//! - [`handshake`] and [`auth`]: versions 3.3/3.7/3.8, None and VNC authentication;
//! - `connection`: one viewer's messages, updates and throttled output;
//! - [`client_message`]: what viewers send, read with every length checked;
//! - [`server_message`]: what the server sends, encoded as the protocol lays it out;
//! - [`pending`]: each viewer's unsent moves and dirty rectangles, bounded;
//! - [`pixel_format`] and [`encoding`]: pixels in the viewer's format and encoding;
//! - [`websocket`]: RFB inside WebSocket for noVNC;
//! - [`canvas`]: a screen over a plain framebuffer, for tests, benches and demos.

pub mod auth;
pub mod canvas;
pub mod client_message;
pub mod config;
mod connection;
pub mod encoding;
pub mod handshake;
pub mod pending;
pub mod pixel_format;
pub mod screen;
pub mod server;
pub mod server_message;
mod viewers;
pub mod websocket;

pub use config::{Config, ConfigError, SharePolicy};
pub use server::Server;
pub use viewers::Peer;
