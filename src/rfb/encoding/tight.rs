//! Tight without JPEG: each piece of a rectangle is a fill (one colour), a
//! two-colour bitmap, a palette of up to 256 colours with 8-bit indices, or
//! full colour, the last three through their own zlib streams (rfbproto 7.7.6).
//! Text screens are mostly fills and small palettes.

use flate2::{Compress, Compression, FlushCompress};

use super::number;
use super::palette::Palette;
use super::patch::Patch;
use crate::rfb::pixel_format::PixelFormat;
use crate::rfb::server_message::ServerMessage;

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
                ServerMessage::Rectangle { rect: patch.sub_rect(x, y, w, h), encoding: number::TIGHT }
                    .encode(out);
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

/// The zlib level of Tight (ZRLE has its own encoder, [`deflate`](super::deflate)). With
/// zlib-rs (flate2's `zlib-rs` backend, which also picks a fixed-code block
/// when that is smaller, as zlib does), 7 takes the time 6 does and comes
/// within 2% of 9's bytes on text screens; 9 takes twice as long on
/// repetitive ones (`cargo bench --bench rfb`).
const ZLIB_LEVEL: u32 = 7;

/// A zlib stream that lasts as long as the connection.
fn zlib_stream() -> Compress {
    Compress::new(Compression::new(ZLIB_LEVEL), true)
}

/// Compresses `input` into `out` through `stream`, ending with a sync flush so
/// the viewer can decode everything sent so far.
fn deflate_sync(stream: &mut Compress, input: &[u8], out: &mut Vec<u8>) {
    let start = stream.total_in();
    loop {
        out.reserve(input.len() / 4 + 64);
        let consumed = (stream.total_in() - start) as usize;
        // A sync flush into spare room cannot fail: the stream is ours and whole.
        stream
            .compress_vec(&input[consumed..], out, FlushCompress::Sync)
            .expect("a zlib stream of our own accepts a sync flush");
        let done = (stream.total_in() - start) as usize == input.len();
        if done && out.len() < out.capacity() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Rect;

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

    /// A Tight decoder (no JPEG, no gradient) returning pixel values in
    /// `format`, enough to check the encoder where vnc-rs cannot (it takes
    /// only 32-bit formats): the pixels of every rectangle in `data`, with the
    /// connection's zlib streams.
    fn decode(
        mut data: &[u8],
        format: &PixelFormat,
        count: u16,
        streams: &mut [flate2::Decompress],
    ) -> Vec<(Rect, Vec<u32>)> {
        let take = |n: usize, data: &mut &[u8]| {
            let (head, rest) = data.split_at(n);
            *data = rest;
            head.to_vec()
        };
        let pixel = |b: &[u8]| -> u32 {
            if format.tpixel_len() == 3 {
                return format.convert(u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]));
            }
            match (b.len(), format.big_endian) {
                (1, _) => u32::from(b[0]),
                (2, false) => u32::from(u16::from_le_bytes([b[0], b[1]])),
                (2, true) => u32::from(u16::from_be_bytes([b[0], b[1]])),
                (_, false) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                (_, true) => u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            }
        };
        let tp = format.tpixel_len();
        let mut rects = Vec::new();
        for _ in 0..count {
            let h = take(12, &mut data);
            let at = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
            let rect = Rect::new(at(0), at(2), at(4), at(6));
            let n = usize::from(rect.width) * usize::from(rect.height);
            let ctrl = take(1, &mut data)[0];
            if ctrl == FILL {
                let c = pixel(&take(tp, &mut data));
                rects.push((rect, vec![c; n]));
                continue;
            }
            let stream = usize::from((ctrl >> 4) & 3);
            let palette: Vec<u32> = if ctrl & 0x40 != 0 {
                assert_eq!(take(1, &mut data)[0], PALETTE_FILTER);
                let colours = usize::from(take(1, &mut data)[0]) + 1;
                (0..colours).map(|_| pixel(&take(tp, &mut data))).collect()
            } else {
                Vec::new()
            };
            let row_bytes = usize::from(rect.width).div_ceil(8);
            let len = match palette.len() {
                0 => n * tp,
                2 => row_bytes * usize::from(rect.height),
                _ => n,
            };
            let raw = if len < MIN_TO_COMPRESS {
                take(len, &mut data)
            } else {
                let b = take(1, &mut data)[0];
                let mut compressed = usize::from(b & 0x7f);
                if b & 0x80 != 0 {
                    let b = take(1, &mut data)[0];
                    compressed |= usize::from(b & 0x7f) << 7;
                    if b & 0x80 != 0 {
                        compressed |= usize::from(take(1, &mut data)[0]) << 14;
                    }
                }
                let input = take(compressed, &mut data);
                let mut out = Vec::with_capacity(len);
                streams[stream].decompress_vec(&input, &mut out, flate2::FlushDecompress::Sync).unwrap();
                assert_eq!(out.len(), len);
                out
            };
            let pixels = match palette.len() {
                0 => raw.chunks(tp).map(pixel).collect(),
                2 => (0..n)
                    .map(|i| {
                        let (x, y) = (i % usize::from(rect.width), i / usize::from(rect.width));
                        palette[usize::from(raw[y * row_bytes + x / 8] >> (7 - x % 8) & 1)]
                    })
                    .collect(),
                _ => raw.iter().map(|&i| palette[usize::from(i)]).collect(),
            };
            rects.push((rect, pixels));
        }
        assert!(data.is_empty(), "trailing bytes");
        rects
    }

    #[test]
    fn every_kind_of_piece_decodes_in_every_format() {
        let formats = [
            PixelFormat::SERVER,
            PixelFormat { big_endian: true, red_shift: 0, blue_shift: 16, ..PixelFormat::SERVER },
            PixelFormat {
                bits_per_pixel: 16,
                depth: 16,
                big_endian: true,
                red_max: 31,
                green_max: 63,
                blue_max: 31,
                red_shift: 11,
                green_shift: 5,
                blue_shift: 0,
            },
            PixelFormat {
                bits_per_pixel: 8,
                depth: 8,
                big_endian: false,
                red_max: 7,
                green_max: 7,
                blue_max: 3,
                red_shift: 0,
                green_shift: 3,
                blue_shift: 6,
            },
        ];
        let (w, h) = (300u16, 250u16);
        let pixels: Vec<u32> = (0..u32::from(w) * u32::from(h))
            .map(|i| {
                let (x, y) = (i % u32::from(w), i / u32::from(w));
                match y / 50 {
                    0 => 0x00123456,                                                      // fill
                    1 => [0x00ffffff, 0x00000000][((x / 3 + y) % 2) as usize],            // mono
                    2 => [0x00ff0000, 0x0000ff00, 0x000000ff, 0][((x + y) % 4) as usize], // palette
                    3 => (x * 0x10203 + y * 0x30201) & 0xffffff,                          // full colour
                    _ => (x % 7) * 0x101010,                                              // palette
                }
            })
            .collect();
        for format in formats {
            let mut tight = Tight::new();
            let mut streams: Vec<flate2::Decompress> =
                (0..4).map(|_| flate2::Decompress::new(true)).collect();
            // The whole, each band alone (fill, mono, palette, full colour,
            // palette), and rectangles too small to compress.
            let bands = (0..5).map(|b| Rect::new(0, b * 50, w, 50));
            let small = [Rect::new(0, 50, 3, 2), Rect::new(0, 50, 1, 1), Rect::new(0, 100, 2, 1)];
            for rect in std::iter::once(Rect::new(0, 0, w, h)).chain(bands).chain(small) {
                let mut patch_pixels = Vec::new();
                for y in rect.y..rect.y + rect.height {
                    let row = usize::from(y) * usize::from(w);
                    patch_pixels.extend_from_slice(&pixels[row..row + usize::from(rect.width)]);
                }
                let patch = Patch { rect, pixels: patch_pixels };
                let mut out = Vec::new();
                let count = tight.encode(&patch, &format, &mut out);
                for (piece, got) in decode(&out, &format, count, &mut streams) {
                    for (i, value) in got.iter().enumerate() {
                        let (x, y) = (
                            usize::from(piece.x) + i % usize::from(piece.width),
                            usize::from(piece.y) + i / usize::from(piece.width),
                        );
                        let want = format.convert(pixels[y * usize::from(w) + x]);
                        assert_eq!(*value, want, "{format:?} at ({x},{y})");
                    }
                }
            }
        }
    }

    #[test]
    fn wide_rectangles_are_cut_into_pieces() {
        let patch = Patch { rect: Rect::new(0, 0, 3000, 40), pixels: vec![0; 3000 * 40] };
        let mut out = Vec::new();
        // At most 2048 wide and 65536 pixels: 32 rows of 2048 + 952, twice.
        assert_eq!(Tight::new().encode(&patch, &PixelFormat::SERVER, &mut out), 4);
    }
}
