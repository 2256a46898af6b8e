//! The header every rectangle of an update starts with (RFC 6143 7.6.1).

use crate::frame::Rect;

/// Appends a rectangle header.
pub fn put_header(rect: Rect, encoding: i32, out: &mut Vec<u8>) {
    for v in [rect.x, rect.y, rect.width, rect.height] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(&encoding.to_be_bytes());
}
