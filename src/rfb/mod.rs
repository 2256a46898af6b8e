//! The RFB (VNC) server of the vc backend.
//!
//! It serves a [`Desktop`](desktop::Desktop): it asks it for the framebuffer a
//! viewer sees (the shared one, or one of the viewer's own) and the damage
//! since the last render, and hands it every viewer's keys, pointer and
//! clipboard. It knows nothing of terminals.
//!
//! - [`server`]: [`Server`], accepting viewers on TCP, unix or WebSocket listeners;
//! - [`reverse`]: connecting out to a viewer that listens (`reverse=on`), and
//!   again whenever that fails or ends;
//! - `viewers`: the registry every connection shares: viewers, their pending
//!   regions, the share policy and the connection limit;
//! - [`lifecycle`]: who each connection is ([`Peer`], [`ViewerInfo`]), the
//!   open ones, and their arrivals and departures as [`ViewerEvent`]s for the
//!   server's owner (plain data: the owner gives them its own shape);
//! - [`settings`]: passwords, view-only, share policy, connection limit;
//! - `password`: the password as `set_password`/`expire_password` changed it;
//! - [`handshake`] and [`auth`]: versions 3.3/3.7/3.8, None and VNC authentication;
//! - [`vencrypt`]: VeNCrypt's X509None and X509Vnc, TLS on the RFB port when
//!   the settings have [`Tls`] (and wss on the WebSocket port, in `server`);
//! - `connection`: one viewer's session, from handshake to goodbye, and its
//!   pacing (updates sent when asked for and the throttle allows);
//! - `incoming` and `outgoing`: a viewer's read and write halves, each a task
//!   of its own;
//! - `dispatch`: what a viewer's messages do;
//! - `update`: one FramebufferUpdate, cut from the framebuffer and encoded;
//! - `group`: encode once, send to many: viewers wanting the same encoding
//!   and format share one encoding of each update, on a frame clock;
//! - [`client_message`]: what viewers send, read with every length checked;
//! - [`server_message`]: what the server sends, encoded as the protocol lays it out;
//! - [`pending`]: each viewer's unsent moves and dirty rectangles, bounded;
//! - [`pixel_format`] and [`encoding`]: pixels in the viewer's format and encoding;
//! - `http`: the websocket port's HTTP: noVNC's page, and upgrades to viewers;
//! - [`websocket`]: RFB inside WebSocket for noVNC;
//! - [`shares`]: share links, tokens that let browsers in, view-only or not, revocable;
//! - [`painted_desktop`]: a desktop over a plain framebuffer its owner paints, for tests.

pub mod auth;
pub mod client_message;
mod connection;
pub mod desktop;
mod dispatch;
pub mod encoding;
mod group;
mod group_key;
pub mod handshake;
mod http;
mod incoming;
pub mod lifecycle;
mod outgoing;
pub mod painted_desktop;
mod password;
pub mod pending;
pub mod pixel_format;
pub mod reverse;
pub mod server;
pub mod server_message;
pub mod settings;
pub mod shares;
mod update;
pub mod vencrypt;
mod viewers;
pub mod websocket;

pub use lifecycle::{Peer, ViewerEvent, ViewerInfo};
pub use reverse::Listening;
pub use server::Server;
pub use settings::{ServerSettings, SettingsError, SharePolicy, Tls};
pub use shares::{ShareError, ShareInfo, ShareOptions, Shares};
