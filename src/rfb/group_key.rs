//! What makes two viewers' updates the same bytes: the key of a group of
//! viewers sharing one encoding (`group`), in a file of its own so that the
//! registry (`viewers`) can hold groups without importing them.

use super::encoding::Encoding;
use super::pixel_format::PixelFormat;

/// What makes two viewers' updates the same bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct GroupKey {
    /// The encoding of the pixels.
    pub encoding: Encoding,
    /// The pixel format.
    pub format: PixelFormat,
    /// Moves go as CopyRect.
    pub copy_rect: bool,
}
