//! RFB encoding numbers (RFC 6143 7.7 and the community rfbproto): what
//! SetEncodings announces and a rectangle header names, pixel encodings and
//! pseudo-encodings alike.

/// Raw pixels.
pub const RAW: i32 = 0;
/// A copy within the framebuffer.
pub const COPY_RECT: i32 = 1;
/// 16x16 tiles with subrectangles.
pub const HEXTILE: i32 = 5;
/// Tight: fill, palette and zlib-compressed rectangles.
pub const TIGHT: i32 = 7;
/// 64x64 run-length tiles through one zlib stream.
pub const ZRLE: i32 = 16;
/// Pseudo-encoding: the framebuffer's size changed.
pub const DESKTOP_SIZE: i32 = -223;
/// Pseudo-encoding: the screen layout changed, or a SetDesktopSize was answered.
pub const EXTENDED_DESKTOP_SIZE: i32 = -308;
/// Pseudo-encoding: the viewer may send QEMU extended key events.
pub const QEMU_EXTENDED_KEY: i32 = -258;
