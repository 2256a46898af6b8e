//! Tight without JPEG: each piece of a rectangle is a fill (one colour), a
//! two-colour bitmap, a palette of up to 256 colours with 8-bit indices, or
//! full colour, the last three through their own zlib streams (rfbproto 7.7.6).
//!
//! Text is sent the way ZRLE sends it (`zrle`'s notes say why each choice
//! saves bytes):
//!
//! - A tall rectangle of text goes as one piece per column of character
//!   cells ([`super::columns`]), in the order that keeps glyphs in zlib's
//!   window, so a glyph's bytes are contiguous and found again.
//! - A piece of glyphs in one colour on another has the renderer's whole
//!   coverage ramp as its palette, background first (`palette::ramp_of`): an
//!   index is a coverage level, so a glyph gives the same bytes in every
//!   piece. Other palettes are sorted, so the same colours give the same
//!   indices.
//! - Each stream is vcmux's own deflate ([`super::deflate`]), which cuts the
//!   pieces of one update from one block of codes; TigerVNC and noVNC inflate
//!   a Tight piece as they do a ZRLE rectangle.
//!
//! The bytes against ZRLE's are in README.md's Performance section
//! (`cargo bench --bench rfb`).

use super::columns;
use super::deflate::Deflater;
use super::number;
use super::palette::{Palette, ramp_of};
use super::patch::Patch;
use crate::frame::Rect;
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
    streams: [Option<Deflater>; 3],
}

/// One piece, encoded but not yet compressed.
struct Piece {
    rect: Rect,
    /// The control byte and what follows it before the data: a fill's
    /// colour, or the palette filter and its colours.
    head: Vec<u8>,
    /// The stream the data goes through and the data; none for a fill.
    data: Option<(usize, Vec<u8>)>,
}

impl Tight {
    /// No stream started yet.
    pub fn new() -> Tight {
        Tight { streams: [None, None, None] }
    }

    /// Appends `patch` as Tight rectangles, one per piece, and returns how
    /// many: one piece per column of cells when `cell` (the screen's
    /// character cell) is known and the patch is aligned to it and at least
    /// two cells tall, else pieces as large as decoders take.
    pub fn encode(
        &mut self,
        patch: &Patch,
        format: &PixelFormat,
        cell: Option<(u16, u16)>,
        out: &mut Vec<u8>,
    ) -> u16 {
        let pieces = match columns::cell_columns(patch.rect, cell) {
            None => pieces_of(patch, None, format),
            Some(cell) => {
                let mut by_column: Vec<Vec<Piece>> =
                    columns::cut(patch, cell.0).iter().map(|c| pieces_of(c, Some(cell.1), format)).collect();
                let lengths: Vec<usize> = by_column
                    .iter()
                    .map(|pieces| pieces.iter().filter_map(|p| p.data.as_ref()).map(|(_, d)| d.len()).sum())
                    .collect();
                columns::column_order(patch, cell, &lengths)
                    .into_iter()
                    .flat_map(|column| std::mem::take(&mut by_column[column]))
                    .collect()
            }
        };
        self.put(&pieces, out);
        pieces.len() as u16
    }

    /// Appends the pieces, each stream's data of the update compressed together.
    fn put(&mut self, pieces: &[Piece], out: &mut Vec<u8>) {
        let compressed_through = |stream: usize| {
            pieces.iter().filter_map(move |p| match &p.data {
                Some((s, data)) if *s == stream && data.len() >= MIN_TO_COMPRESS => Some(data.as_slice()),
                _ => None,
            })
        };
        let mut compressed: [std::vec::IntoIter<Vec<u8>>; 3] = Default::default();
        for (stream, slot) in compressed.iter_mut().enumerate() {
            let data: Vec<&[u8]> = compressed_through(stream).collect();
            if !data.is_empty() {
                *slot = self.streams[stream].get_or_insert_with(Deflater::new).compress(&data).into_iter();
            }
        }
        for piece in pieces {
            ServerMessage::Rectangle { rect: piece.rect, encoding: number::TIGHT }.encode(out);
            out.extend_from_slice(&piece.head);
            match &piece.data {
                None => {}
                Some((_, data)) if data.len() < MIN_TO_COMPRESS => out.extend_from_slice(data),
                Some((stream, _)) => {
                    let bytes =
                        compressed[*stream].next().expect("one compressed piece for each piece of data");
                    put_compact_length(bytes.len(), out);
                    out.extend_from_slice(&bytes);
                }
            }
        }
    }
}

impl Default for Tight {
    fn default() -> Self {
        Tight::new()
    }
}

/// `patch` cut into pieces as large as decoders take, each encoded. With
/// `cell_height`, a piece cut short of the whole height ends at a cell row.
fn pieces_of(patch: &Patch, cell_height: Option<u16>, format: &PixelFormat) -> Vec<Piece> {
    let (width, height) = (usize::from(patch.rect.width), usize::from(patch.rect.height));
    let piece_width = width.min(MAX_WIDTH);
    let mut piece_height = (MAX_AREA / piece_width).max(1);
    if let Some(cell_height) = cell_height.map(usize::from).filter(|&h| h > 0 && h <= piece_height) {
        piece_height -= piece_height % cell_height;
    }
    let mut pieces = Vec::new();
    let mut pixels = Vec::new();
    for y in (0..height).step_by(piece_height) {
        let h = piece_height.min(height - y);
        for x in (0..width).step_by(piece_width) {
            let w = piece_width.min(width - x);
            patch.tile(x, y, w, h, &mut pixels);
            let (head, data) = encode_piece(&pixels, w, format);
            pieces.push(Piece { rect: patch.sub_rect(x, y, w, h), head, data });
        }
    }
    pieces
}

/// One piece's head and data (`pixels`, `width` a row): a fill, a glyph
/// ramp's indices, a two-colour bitmap, a sorted palette's indices, or full colour.
fn encode_piece(pixels: &[u32], width: usize, format: &PixelFormat) -> (Vec<u8>, Option<(usize, Vec<u8>)>) {
    let mut palette = Palette::of(pixels, 256);
    let mut head = Vec::new();
    if palette.colours.len() == 1 {
        head.push(FILL);
        format.put_tpixel(palette.colours[0], &mut head);
        return (head, None);
    }
    if let Some(ramp) = ramp_of(&palette, pixels) {
        palette.colours = ramp.to_vec();
    } else if palette.overflow {
        head.push((STREAM_FULL_COLOUR as u8) << 4);
        let mut data = Vec::with_capacity(pixels.len() * format.tpixel_len());
        for &p in pixels {
            format.put_tpixel(p, &mut data);
        }
        return (head, Some((STREAM_FULL_COLOUR, data)));
    } else {
        palette.colours.sort_unstable();
    }
    if palette.colours.len() == 2 {
        head.push(((STREAM_MONO as u8) | EXPLICIT_FILTER) << 4);
        put_palette(&palette.colours, format, &mut head);
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
        return (head, Some((STREAM_MONO, bits)));
    }
    head.push(((STREAM_INDEXED as u8) | EXPLICIT_FILTER) << 4);
    put_palette(&palette.colours, format, &mut head);
    let mut indices = Vec::with_capacity(pixels.len());
    let mut last = (u32::MAX, 0u8);
    for &p in pixels {
        if p != last.0 {
            last = (p, palette.index(p) as u8);
        }
        indices.push(last.1);
    }
    (head, Some((STREAM_INDEXED, indices)))
}

/// The palette filter's header: filter id, colour count − 1, the colours.
fn put_palette(colours: &[u32], format: &PixelFormat, out: &mut Vec<u8>) {
    out.push(PALETTE_FILTER);
    out.push((colours.len() - 1) as u8);
    for &c in colours {
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
        assert_eq!(Tight::new().encode(&patch, &PixelFormat::SERVER, None, &mut out), 1);
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
                // As TigerVNC inflates: output until the piece's length, all
                // of its input taken by then.
                let mut out = Vec::with_capacity(len);
                let start = streams[stream].total_in();
                while out.len() < len {
                    let taken = (streams[stream].total_in() - start) as usize;
                    assert!(taken < input.len(), "input ran out at {} of {len} bytes", out.len());
                    streams[stream]
                        .decompress_vec(&input[taken..], &mut out, flate2::FlushDecompress::Sync)
                        .unwrap();
                }
                assert_eq!(out.len(), len);
                assert_eq!((streams[stream].total_in() - start) as usize, input.len(), "all input taken");
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
                let count = tight.encode(&patch, &format, None, &mut out);
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
    fn text_goes_by_columns_of_cells_and_decodes() {
        // 12 columns of 4x6 cells, 5 rows: glyphs at the renderer's coverage
        // levels of grey on black, a green column, a blank one, a two-colour one.
        let ramp = crate::frame::coverage::ramp(0xaaaaaa, 0);
        let green = crate::frame::coverage::ramp(0x00aa00, 0);
        let (w, h) = (48u16, 30u16);
        let pixels: Vec<u32> = (0..usize::from(w) * usize::from(h))
            .map(|i| {
                let (x, y) = (i % usize::from(w), i / usize::from(w));
                let (column, glyph) = (x / 4, (x / 4 * 7 + y / 6 * 3) % 5);
                let level = (x % 4 + y % 6 + glyph) % 4;
                match column {
                    3 => 0,
                    5 => [0, 0xffffff][level % 2],
                    7 => green[level],
                    _ => ramp[level],
                }
            })
            .collect();
        let patch = Patch { rect: Rect::new(0, 0, w, h), pixels: pixels.clone() };
        let mut tight = Tight::new();
        let mut streams: Vec<flate2::Decompress> = (0..4).map(|_| flate2::Decompress::new(true)).collect();
        for _ in 0..2 {
            let mut out = Vec::new();
            let count = tight.encode(&patch, &PixelFormat::SERVER, Some((4, 6)), &mut out);
            assert_eq!(count, 12, "one piece a column");
            let mut seen = vec![false; pixels.len()];
            for (piece, got) in decode(&out, &PixelFormat::SERVER, count, &mut streams) {
                assert_eq!((piece.width, piece.height), (4, h));
                for (i, value) in got.iter().enumerate() {
                    let (x, y) = (usize::from(piece.x) + i % 4, i / 4);
                    assert_eq!(*value, pixels[y * usize::from(w) + x], "at ({x},{y})");
                    seen[y * usize::from(w) + x] = true;
                }
            }
            assert!(seen.iter().all(|&s| s), "every pixel sent");
        }
    }

    #[test]
    fn wide_rectangles_are_cut_into_pieces() {
        let patch = Patch { rect: Rect::new(0, 0, 3000, 40), pixels: vec![0; 3000 * 40] };
        let mut out = Vec::new();
        // At most 2048 wide and 65536 pixels: 32 rows of 2048 + 952, twice.
        assert_eq!(Tight::new().encode(&patch, &PixelFormat::SERVER, None, &mut out), 4);
    }
}
