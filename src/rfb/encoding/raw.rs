//! Raw: every pixel as it is, in the viewer's pixel format. The encoding every
//! viewer takes.

use super::header::put_header;
use super::number;
use super::patch::Patch;
use crate::rfb::pixel_format::PixelFormat;

/// Appends `patch` as one Raw rectangle.
pub fn encode(patch: &Patch, format: &PixelFormat, out: &mut Vec<u8>) -> u16 {
    put_header(patch.rect, number::RAW, out);
    format.put_pixels(&patch.pixels, out);
    1
}
