//! Tight without JPEG: each piece of a rectangle is a fill (one colour), a
//! two-colour bitmap, a palette of up to 256 colours with 8-bit indices, or
//! full colour, the last three through their own zlib streams (rfbproto 7.7.6).
//! Text screens are mostly fills and small palettes.

use flate2::Compress;

use super::{Palette, Patch, deflate_sync, number, put_header, zlib_stream};
use crate::rfb::pixel_format::PixelFormat;

/// Widest piece: TigerVNC's and libvncserver's decoders take no wider.
const MAX_WIDTH: usize = 2048;
/// Largest piece, in pixels (libvncserver's limit).
const MAX_AREA: usize = 65536;
/// Data shorter than this is sent uncompressed, as the protocol requires.
const MIN_TO_COMPRESS: usize = 12;

const FILL: u8 = 0x80;
const EXPLICIT_FILTER: u8 = 0x04;
const PALETTE_FILTER: u8 = 1;

/// Which zlib stream carries what.
const STREAM_FULL_COLOUR: usize = 0;
const STREAM_MONO: usize = 1;
const STREAM_INDEXED: usize = 2;

/// The connection's Tight zlib streams (the fourth is never used).
pub struct Tight {
    streams: [Option<Compress>; 3],
}

impl Tight {
    /// No stream started yet.
    pub fn new() -> Tight {
        Tight { streams: [None, None, None] }
    }

    /// Appends `patch` as Tight rectangles, one per piece; returns how many.
    pub fn encode(&mut self, patch: &Patch, format: &PixelFormat, out: &mut Vec<u8>) -> u16 {
        let (width, height) = (usize::from(patch.rect.width), usize::from(patch.rect.height));
        let piece_width = width.min(MAX_WIDTH);
        let piece_height = (MAX_AREA / piece_width).max(1);
        let mut count = 0;
        let mut pixels = Vec::new();
        for y in (0..height).step_by(piece_height) {
            let h = piece_height.min(height - y);
            for x in (0..width).step_by(piece_width) {
                let w = piece_width.min(width - x);
                patch.tile(x, y, w, h, &mut pixels);
                put_header(patch.sub_rect(x, y, w, h), number::TIGHT, out);
                self.encode_piece(&pixels, w, format, out);
                count += 1;
            }
        }
        count
    }

    fn encode_piece(&mut self, pixels: &[u32], width: usize, format: &PixelFormat, out: &mut Vec<u8>) {
        let mut palette = Palette::of(pixels, 256);
        palette.colours.sort_unstable();
        match palette.colours.len() {
            1 => {
                out.push(FILL);
                format.put_tpixel(palette.colours[0], out);
            }
            2 if !palette.overflow => {
                out.push(((STREAM_MONO as u8) | EXPLICIT_FILTER) << 4);
                put_palette(&palette, format, out);
                let mut bits = Vec::with_capacity(pixels.len() / 8 + 1);
                for row in pixels.chunks(width) {
                    for byte in row.chunks(8) {
                        let b = byte
                            .iter()
                            .enumerate()
                            .fold(0u8, |b, (i, &p)| b | (u8::from(p == palette.colours[1]) << (7 - i)));
                        bits.push(b);
                    }
                }
                self.put_data(STREAM_MONO, &bits, out);
            }
            _ if !palette.overflow => {
                out.push(((STREAM_INDEXED as u8) | EXPLICIT_FILTER) << 4);
                put_palette(&palette, format, out);
                let mut indices = Vec::with_capacity(pixels.len());
                let mut last = (u32::MAX, 0u8);
                for &p in pixels {
                    if p != last.0 {
                        last = (p, palette.index(p) as u8);
                    }
                    indices.push(last.1);
                }
                self.put_data(STREAM_INDEXED, &indices, out);
            }
            _ => {
                out.push((STREAM_FULL_COLOUR as u8) << 4);
                let mut data = Vec::with_capacity(pixels.len() * format.tpixel_len());
                for &p in pixels {
                    format.put_tpixel(p, &mut data);
                }
                self.put_data(STREAM_FULL_COLOUR, &data, out);
            }
        }
    }

    /// Appends data, compressed through `stream` unless it is too short to be.
    fn put_data(&mut self, stream: usize, data: &[u8], out: &mut Vec<u8>) {
        if data.len() < MIN_TO_COMPRESS {
            out.extend_from_slice(data);
            return;
        }
        let mut compressed = Vec::new();
        deflate_sync(self.streams[stream].get_or_insert_with(zlib_stream), data, &mut compressed);
        put_compact_length(compressed.len(), out);
        out.extend_from_slice(&compressed);
    }
}

impl Default for Tight {
    fn default() -> Self {
        Tight::new()
    }
}

/// The palette filter's header: filter id, colour count − 1, the colours.
fn put_palette(palette: &Palette, format: &PixelFormat, out: &mut Vec<u8>) {
    out.push(PALETTE_FILTER);
    out.push((palette.colours.len() - 1) as u8);
    for &c in &palette.colours {
        format.put_tpixel(c, out);
    }
}

/// Tight's 1-3 byte length: 7 bits a byte, low bits first, the high bit saying
/// another byte follows (the third takes 8 bits).
fn put_compact_length(length: usize, out: &mut Vec<u8>) {
    if length < 0x80 {
        out.push(length as u8);
    } else if length < 0x4000 {
        out.extend_from_slice(&[(length as u8 & 0x7f) | 0x80, (length >> 7) as u8]);
    } else {
        out.extend_from_slice(&[
            (length as u8 & 0x7f) | 0x80,
            ((length >> 7) as u8 & 0x7f) | 0x80,
            (length >> 14) as u8,
        ]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::frame::Rect;

    #[test]
    fn compact_lengths_take_one_to_three_bytes() {
        let mut out = Vec::new();
        put_compact_length(10, &mut out);
        put_compact_length(0x80, &mut out);
        put_compact_length(0x4000, &mut out);
        assert_eq!(out, [10, 0x80, 1, 0x80, 0x80, 1]);
    }

    #[test]
    fn a_solid_piece_is_a_fill() {
        let patch = Patch { rect: Rect::new(0, 0, 4, 4), pixels: vec![0x00102030; 16] };
        let mut out = Vec::new();
        assert_eq!(Tight::new().encode(&patch, &PixelFormat::SERVER, &mut out), 1);
        assert_eq!(&out[12..], &[FILL, 0x10, 0x20, 0x30]);
    }

    #[test]
    fn wide_rectangles_are_cut_into_pieces() {
        let patch = Patch { rect: Rect::new(0, 0, 3000, 40), pixels: vec![0; 3000 * 40] };
        let mut out = Vec::new();
        // At most 2048 wide and 65536 pixels: 32 rows of 2048 + 952, twice.
        assert_eq!(Tight::new().encode(&patch, &PixelFormat::SERVER, &mut out), 4);
    }
}
