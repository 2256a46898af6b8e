//! How pixels travel: the RFB encodings this server writes, one file each
//! ([`raw`], [`copyrect`], [`hextile`], [`zrle`], [`tight`], and [`cell_copy`]
//! over them), and a connection's [`Encoders`] choosing among them.
//!
//! Each encoder takes a [`Patch`] (framebuffer pixels copied out for one
//! rectangle) and appends whole rectangles, headers included
//! ([`ServerMessage::Rectangle`](crate::rfb::server_message::ServerMessage::Rectangle)),
//! to an update.

pub mod cell_copy;
pub mod copyrect;
mod deflate;
mod encoders;
pub mod hextile;
mod kind;
pub mod number;
mod palette;
mod patch;
pub mod raw;
pub mod tight;
pub mod zrle;

pub use deflate::Effort;
pub use encoders::{Checkpoint, Encoders, plans_copies};
pub use kind::Encoding;
pub use patch::Patch;
