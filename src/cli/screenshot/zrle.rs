//! ZRLE decoding (RFC 6143 7.7.6) for `vcmux screenshot`: each rectangle's
//! bytes inflated through the connection's one zlib stream, then its 64x64
//! tiles read as raw, solid, packed-palette, plain or palette run-length
//! pixels. Pixels are CPIXELs of three bytes, blue first: the client's 32-bit
//! format with 24 bits of colour.
//!
//! Everything the server says is checked: the compressed length against what
//! the rectangle's tiles could take at most, every subencoding, palette index
//! and run against the tile.

use flate2::{Decompress, FlushDecompress};

use super::error::ClientError;
use super::partial_frame::PartialFrame;
use crate::frame::Rect;

/// Tiles are this many pixels a side (the last in a row or column may be less).
const TILE: usize = 64;

/// Bytes of a CPIXEL in the client's pixel format.
const CPIXEL: usize = 3;

/// The connection's ZRLE state: its zlib stream, and a buffer kept between
/// rectangles.
pub struct Zrle {
    inflate: Decompress,
    tiles: Vec<u8>,
}

impl Zrle {
    /// The stream as the server starts it.
    pub fn new() -> Zrle {
        Zrle { inflate: Decompress::new(true), tiles: Vec::new() }
    }

    /// The most compressed bytes a rectangle of `rect`'s size can take:
    /// its tiles at their largest, plus deflate's stored-block overhead.
    pub fn max_compressed(rect: Rect) -> usize {
        let most = Self::max_tiles_len(rect);
        most + most / 1000 + 1024
    }

    /// The most bytes a rectangle's tiles can take: for each, its
    /// subencoding and a palette of 127 colours, and four bytes a pixel (a
    /// run of one pixel and its length).
    fn max_tiles_len(rect: Rect) -> usize {
        let (w, h) = (usize::from(rect.width), usize::from(rect.height));
        w.div_ceil(TILE) * h.div_ceil(TILE) * (1 + 127 * CPIXEL) + 4 * w * h
    }

    /// Inflates one rectangle's `compressed` bytes and paints its tiles on
    /// `frame_so_far` (the caller has checked that `rect` lies on it).
    pub fn decode(
        &mut self,
        rect: Rect,
        compressed: &[u8],
        frame_so_far: &mut PartialFrame,
    ) -> Result<(), ClientError> {
        self.inflate_all(compressed, Self::max_tiles_len(rect))?;
        let mut data = Tiles { bytes: &self.tiles, at: 0 };
        let mut pixels = Vec::with_capacity(TILE * TILE);
        for ty in (0..usize::from(rect.height)).step_by(TILE) {
            for tx in (0..usize::from(rect.width)).step_by(TILE) {
                let w = TILE.min(usize::from(rect.width) - tx);
                let h = TILE.min(usize::from(rect.height) - ty);
                pixels.clear();
                data.tile(w, h, &mut pixels)?;
                frame_so_far.paint(usize::from(rect.x) + tx, usize::from(rect.y) + ty, w, &pixels);
            }
        }
        // Output past the tiles is ignored, as TigerVNC does.
        Ok(())
    }

    /// Inflates all of `compressed` into `self.tiles`, at most `limit` bytes.
    fn inflate_all(&mut self, compressed: &[u8], limit: usize) -> Result<(), ClientError> {
        self.tiles.clear();
        let mut consumed = 0;
        loop {
            if self.tiles.len() == self.tiles.capacity() {
                if self.tiles.len() >= limit {
                    return Err(bad("a ZRLE rectangle inflates to more than its tiles can take"));
                }
                let more = (limit - self.tiles.len()).min(self.tiles.len().max(64 * 1024));
                self.tiles.reserve_exact(more);
            }
            let (before_in, before_out) = (self.inflate.total_in(), self.inflate.total_out());
            self.inflate
                .decompress_vec(&compressed[consumed..], &mut self.tiles, FlushDecompress::Sync)
                .map_err(|e| bad(format!("ZRLE data does not inflate: {e}")))?;
            let read = (self.inflate.total_in() - before_in) as usize;
            let made = self.inflate.total_out() - before_out;
            consumed += read;
            // Done when all the input is in and the output did not fill up:
            // what is left is at most the start of the next rectangle's first symbol.
            if consumed == compressed.len() && self.tiles.len() < self.tiles.capacity() {
                return Ok(());
            }
            if read == 0 && made == 0 && self.tiles.len() < self.tiles.capacity() {
                return Err(bad("ZRLE data stops inflating before its end"));
            }
        }
    }
}

fn bad(message: impl Into<String>) -> ClientError {
    ClientError::Protocol(message.into())
}

/// The inflated bytes of one rectangle, read tile after tile.
struct Tiles<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Tiles<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], ClientError> {
        let end = self.at.checked_add(n).filter(|&end| end <= self.bytes.len());
        let end = end.ok_or_else(|| bad("ZRLE data ends inside a tile"))?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn byte(&mut self) -> Result<u8, ClientError> {
        Ok(self.take(1)?[0])
    }

    fn cpixel(&mut self) -> Result<u32, ClientError> {
        let b = self.take(CPIXEL)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], 0]))
    }

    fn palette(&mut self, size: usize) -> Result<Vec<u32>, ClientError> {
        (0..size).map(|_| self.cpixel()).collect()
    }

    /// A run's length: 1 plus bytes that go on while they are 255.
    fn run_length(&mut self) -> Result<usize, ClientError> {
        let mut length = 1;
        loop {
            let b = self.byte()?;
            length += usize::from(b);
            if b != 255 {
                return Ok(length);
            }
        }
    }

    /// One `w` x `h` tile's pixels, row after row, appended to `out`.
    fn tile(&mut self, w: usize, h: usize, out: &mut Vec<u32>) -> Result<(), ClientError> {
        let n = w * h;
        match self.byte()? {
            0 => {
                for _ in 0..n {
                    out.push(self.cpixel()?);
                }
            }
            1 => {
                let colour = self.cpixel()?;
                out.resize(n, colour);
            }
            size @ 2..=16 => {
                let palette = self.palette(usize::from(size))?;
                let bits = match size {
                    2 => 1,
                    3..=4 => 2,
                    _ => 4,
                };
                let row_bytes = (w * bits).div_ceil(8);
                for _ in 0..h {
                    let row = self.take(row_bytes)?;
                    for x in 0..w {
                        let bit = x * bits;
                        let index = (row[bit / 8] >> (8 - bits - bit % 8)) & ((1 << bits) - 1);
                        let colour = palette.get(usize::from(index));
                        out.push(*colour.ok_or_else(|| bad("a ZRLE palette index past its palette"))?);
                    }
                }
            }
            128 => {
                while out.len() < n {
                    let colour = self.cpixel()?;
                    let run = self.run_length()?;
                    push_run(out, colour, run, n)?;
                }
            }
            sub @ 130..=255 => {
                let palette = self.palette(usize::from(sub - 128))?;
                while out.len() < n {
                    let b = self.byte()?;
                    let colour = *palette
                        .get(usize::from(b & 0x7f))
                        .ok_or_else(|| bad("a ZRLE palette index past its palette"))?;
                    let run = if b & 0x80 != 0 { self.run_length()? } else { 1 };
                    push_run(out, colour, run, n)?;
                }
            }
            other => return Err(bad(format!("ZRLE subencoding {other} is not one"))),
        }
        Ok(())
    }
}

/// Appends a run, which must end within the tile's `n` pixels.
fn push_run(out: &mut Vec<u32>, colour: u32, run: usize, n: usize) -> Result<(), ClientError> {
    if out.len() + run > n {
        return Err(bad("a ZRLE run goes past its tile"));
    }
    out.resize(out.len() + run, colour);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rfb::encoding::Patch;
    use crate::rfb::encoding::zrle::Zrle as Encoder;
    use crate::rfb::pixel_format::PixelFormat;

    /// Reads the rectangles of `out` (as the server wrote them) through `decoder`.
    fn decode_all(decoder: &mut Zrle, mut out: &[u8], count: u16, frame_so_far: &mut PartialFrame) {
        for _ in 0..count {
            let at = |i: usize| u16::from_be_bytes([out[i], out[i + 1]]);
            let rect = Rect::new(at(0), at(2), at(4), at(6));
            assert_eq!(i32::from_be_bytes([out[8], out[9], out[10], out[11]]), 16);
            let len = u32::from_be_bytes([out[12], out[13], out[14], out[15]]) as usize;
            assert!(len <= Zrle::max_compressed(rect));
            decoder.decode(rect, &out[16..16 + len], frame_so_far).unwrap();
            out = &out[16 + len..];
        }
        assert!(out.is_empty());
    }

    #[test]
    fn what_the_server_encodes_decodes_to_the_same_pixels() {
        let (w, h) = (300u16, 260u16);
        // Bands for every subencoding: solid, two colours, a few, glyph-like
        // ramps, many colours (raw), long runs.
        let pixels: Vec<u32> = (0..u32::from(w) * u32::from(h))
            .map(|i| {
                let (x, y) = (i % u32::from(w), i / u32::from(w));
                match y / 40 {
                    0 => 0x00123456,
                    1 => [0x00ffffff, 0][((x / 3 + y) % 2) as usize],
                    2 => [0x00ff0000, 0x0000ff00, 0x000000ff, 0x00777777, 0x00010203][((x + y) % 5) as usize],
                    3 => (x * 0x10203 + y * 0x30201) & 0xffffff,
                    4 => [0x00ff00ff, 0x0000ffff][(x / 90 % 2) as usize],
                    _ => ((x * 7 + y) % 40) * 0x030201,
                }
            })
            .collect();
        let mut encoder = Encoder::new();
        let mut decoder = Zrle::new();
        let mut frame_so_far = PartialFrame::new(w, h);
        // The whole at once, then in cell columns (several rectangles through
        // one deflate block), then small pieces.
        let rects = [
            (Rect::new(0, 0, w, h), None),
            (Rect::new(0, 0, w, h), Some((10, 20))),
            (Rect::new(7, 9, 3, 2), None),
        ];
        for (rect, cell) in rects {
            let mut patch_pixels = Vec::new();
            for y in rect.y..rect.y + rect.height {
                let row = usize::from(y) * usize::from(w) + usize::from(rect.x);
                patch_pixels.extend_from_slice(&pixels[row..row + usize::from(rect.width)]);
            }
            let mut out = Vec::new();
            let count =
                encoder.encode(&Patch { rect, pixels: patch_pixels }, &PixelFormat::SERVER, cell, &mut out);
            decode_all(&mut decoder, &out, count, &mut frame_so_far);
            assert_eq!(frame_so_far.frame.pixels(), &pixels[..], "{rect:?} {cell:?}");
        }
        assert!(frame_so_far.is_complete());
    }

    #[test]
    fn bad_tiles_are_errors_not_panics() {
        let rect = Rect::new(0, 0, 4, 2);
        for tiles in [
            &[0u8, 1, 2][..],               // raw, cut short
            &[17],                          // no such subencoding
            &[2, 0, 0, 0, 1, 1, 1, 0xff],   // packed, cut short
            &[128, 1, 2, 3, 8],             // a run past the tile
            &[130, 1, 2, 3, 4, 5, 6, 0x05], // an index past the palette
            &[128, 1, 2, 3, 255, 255, 255], // a run's length cut short
        ] {
            let mut deflate = flate2::Compress::new(flate2::Compression::default(), true);
            let mut compressed = Vec::with_capacity(1024);
            deflate.compress_vec(tiles, &mut compressed, flate2::FlushCompress::Sync).unwrap();
            let mut frame_so_far = PartialFrame::new(4, 2);
            assert!(Zrle::new().decode(rect, &compressed, &mut frame_so_far).is_err(), "{tiles:?}");
        }
        let mut frame_so_far = PartialFrame::new(4, 2);
        let junk = Zrle::new().decode(rect, b"not zlib at all", &mut frame_so_far);
        assert!(matches!(junk, Err(ClientError::Protocol(_))));
    }
}
