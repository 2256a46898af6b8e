//! Raw: every pixel as it is, in the viewer's pixel format. The encoding every
//! viewer takes.

use super::number;
use super::patch::Patch;
use crate::rfb::pixel_format::PixelFormat;
use crate::rfb::server_message::ServerMessage;

/// Appends `patch` as one Raw rectangle.
pub fn encode(patch: &Patch, format: &PixelFormat, out: &mut Vec<u8>) -> u16 {
    ServerMessage::Rectangle { rect: patch.rect, encoding: number::RAW }.encode(out);
    format.put_pixels(&patch.pixels, out);
    1
}
