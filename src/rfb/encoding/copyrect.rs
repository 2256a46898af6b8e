//! CopyRect: the viewer copies pixels it already has. A terminal scroll costs
//! 16 bytes instead of a screenful.

use super::number;
use crate::frame::Move;
use crate::rfb::server_message::ServerMessage;

/// Appends a move as one CopyRect rectangle.
pub fn encode(mv: &Move, out: &mut Vec<u8>) {
    ServerMessage::Rectangle { rect: mv.dst, encoding: number::COPY_RECT }.encode(out);
    out.extend_from_slice(&mv.src_x.to_be_bytes());
    out.extend_from_slice(&mv.src_y.to_be_bytes());
}
