//! Tight without JPEG: each piece of a rectangle is a fill (one colour), a
//! two-colour bitmap, a palette of up to 256 colours with 8-bit indices, or
//! full colour, the last three through their own zlib streams (rfbproto 7.7.6).
//!
//! Text goes as ZRLE sends it (`zrle`'s notes say why each choice saves
//! bytes): a patch of text at least `MIN_ROWS` (seven) cells tall goes as one
//! piece per column of cells, in ZRLE's column order, so that a glyph's
//! bytes are contiguous and zlib finds it whole; a piece of glyphs in one
//! colour on another has the renderer's whole coverage ramp as its palette,
//! background first, so that a glyph is the same index bytes in every piece.
//! Other palettes are sorted, so that the same colours give the same indices.
//! The bytes against ZRLE's are in README.md's Performance section
//! (`cargo bench --bench rfb`).
//!
//! Each stream is written as raw deflate, its 2-byte zlib header put by hand
//! in front of its first data: what a viewer reads is a zlib stream, the
//! same bytes zlib itself writes, but the compressor behind it can be
//! replaced by a fresh one ([`Tight::forget`]) without the viewer knowing.
//! Data after a sync flush from a fresh compressor refers to nothing
//! earlier, so it decodes the same in any inflater that has started its
//! stream and stands at a block boundary (after a sync flush), whatever it
//! holds in its window. That is how viewers share one encoding
//! ([`group`](crate::rfb::group)) without ever resetting a stream with a
//! rectangle's reset bits (noVNC's inflater, pako, then fails: "invalid
//! distance too far back"). A stream must have been started (its header
//! sent) for a viewer to take such data: [`Tight::encode`] starts, on the
//! first update large enough, every stream not yet started, with a small
//! rectangle of pixels of its own ([`Tight::started`]).

use flate2::{Compress, Compression, FlushCompress};

use super::number;
use super::palette::Palette;
use super::patch::Patch;
use super::zrle;
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

/// The streams the encoder uses (the fourth never is).
const STREAMS: usize = 3;

/// What zlib writes first at window size 32 KiB and level 7 to 9
/// (RFC 1950: CMF 0x78, FLG with FLEVEL 3 and the check bits).
const ZLIB_HEADER: [u8; 2] = [0x78, 0xda];

/// One of the connection's Tight zlib streams.
#[derive(Default)]
struct Stream {
    /// Its compressor (raw deflate); `None`: the next data starts a fresh
    /// one, matching nothing sent before.
    compressor: Option<Compress>,
    /// Its zlib header was sent: the viewer's inflater has started.
    started: bool,
}

/// The connection's Tight zlib streams (the fourth is never used).
pub struct Tight {
    streams: [Stream; STREAMS],
}

impl Tight {
    /// No stream started yet.
    pub fn new() -> Tight {
        Tight { streams: Default::default() }
    }

    /// The streams of a group of viewers: taken as started (a viewer joins
    /// only once its own are, [`Tight::all_started`]), so no header is sent.
    pub fn shared() -> Tight {
        let mut tight = Tight::new();
        for stream in &mut tight.streams {
            stream.started = true;
        }
        tight
    }

    /// Whether every stream has started, so that a viewer can be sent what
    /// a fresh compressor writes on any of them.
    pub fn all_started(&self) -> bool {
        self.streams.iter().all(|s| s.started)
    }

    /// The next data on each stream matches nothing sent before: it
    /// decodes the same whatever a viewer's inflater holds (a started
    /// stream stays started). Drops the compressors' windows meanwhile.
    pub fn forget(&mut self) {
        for stream in &mut self.streams {
            stream.compressor = None;
        }
    }

    /// Appends `patch` as Tight rectangles, one per piece; returns how many.
    /// Streams not started yet are started first, if the patch is large
    /// enough ([`Tight::start_streams`]). A patch of text (`cell`, the
    /// screen's character cell, known and the patch aligned to it) goes as
    /// a piece per column of cells.
    pub fn encode(
        &mut self,
        patch: &Patch,
        format: &PixelFormat,
        cell: Option<(u16, u16)>,
        out: &mut Vec<u8>,
    ) -> u16 {
        let mut count = 0;
        if !self.all_started() {
            count += self.start_streams(patch, format, &mut Vec::new(), out);
        }
        let pieces = match text_columns(patch.rect, cell) {
            None => pieces_of(patch, None, format),
            Some((cell_width, cell_height)) => {
                let mut pixels = Vec::new();
                let columns = patch.rect.width / cell_width;
                let mut by_column = Vec::with_capacity(usize::from(columns));
                for column in 0..columns {
                    let x = usize::from(column * cell_width);
                    let (w, h) = (usize::from(cell_width), usize::from(patch.rect.height));
                    patch.tile(x, 0, w, h, &mut pixels);
                    let strip =
                        Patch { rect: patch.sub_rect(x, 0, w, h), pixels: std::mem::take(&mut pixels) };
                    by_column.push(pieces_of(&strip, Some(cell_height), format));
                    pixels = strip.pixels;
                }
                let lengths: Vec<usize> = by_column
                    .iter()
                    .map(|pieces| pieces.iter().filter_map(|p| p.data.as_ref()).map(|(_, d)| d.len()).sum())
                    .collect();
                zrle::column_order(patch, (cell_width, cell_height), &lengths)
                    .into_iter()
                    .flat_map(|column| std::mem::take(&mut by_column[column]))
                    .collect()
            }
        };
        for piece in &pieces {
            ServerMessage::Rectangle { rect: piece.rect, encoding: number::TIGHT }.encode(out);
            out.extend_from_slice(&piece.head);
            if let Some((stream, data)) = &piece.data {
                self.put_data(*stream, data, out);
            }
        }
        count + pieces.len() as u16
    }

    /// Starts each stream not started yet with a rectangle of its own: the
    /// first pixels of `patch` (the same screen the patch then repaints) in
    /// full colour through that stream, enough of them to be compressed.
    /// Returns how many rectangles; none if the patch is too small.
    fn start_streams(
        &mut self,
        patch: &Patch,
        format: &PixelFormat,
        pixels: &mut Vec<u32>,
        out: &mut Vec<u8>,
    ) -> u16 {
        let needed = MIN_TO_COMPRESS.div_ceil(format.tpixel_len());
        let width = usize::from(patch.rect.width).min(needed);
        if width == 0 || needed.div_ceil(width) > usize::from(patch.rect.height) {
            return 0;
        }
        let height = needed.div_ceil(width);
        patch.tile(0, 0, width, height, pixels);
        let mut data = Vec::with_capacity(pixels.len() * format.tpixel_len());
        for &p in pixels.iter() {
            format.put_tpixel(p, &mut data);
        }
        let mut count = 0;
        for stream in 0..STREAMS {
            if self.streams[stream].started {
                continue;
            }
            ServerMessage::Rectangle { rect: patch.sub_rect(0, 0, width, height), encoding: number::TIGHT }
                .encode(out);
            out.push((stream as u8) << 4);
            self.put_data(stream, &data, out);
            count += 1;
        }
        count
    }

    /// Appends data, compressed through `stream` unless it is too short to be.
    fn put_data(&mut self, stream: usize, data: &[u8], out: &mut Vec<u8>) {
        if data.len() < MIN_TO_COMPRESS {
            out.extend_from_slice(data);
            return;
        }
        let stream = &mut self.streams[stream];
        let mut compressed = Vec::new();
        if !stream.started {
            compressed.extend_from_slice(&ZLIB_HEADER);
            stream.started = true;
        }
        deflate_sync(stream.compressor.get_or_insert_with(raw_deflate), data, &mut compressed);
        put_compact_length(compressed.len(), out);
        out.extend_from_slice(&compressed);
    }
}

impl Default for Tight {
    fn default() -> Self {
        Tight::new()
    }
}

/// One piece of a patch, encoded but not yet compressed.
struct Piece {
    rect: Rect,
    /// The control byte and what follows it before the data: a fill's
    /// colour, or the palette filter and its colours.
    head: Vec<u8>,
    /// The stream the data goes through, and the data; none for a fill.
    data: Option<(usize, Vec<u8>)>,
}

/// The most cell columns a patch is cut into (a terminal 256 columns wide);
/// wider ones go in pieces as large as decoders take.
const MAX_COLUMNS: u16 = 256;

/// Rows of cells a patch must have to go as columns: each column's piece
/// costs a rectangle header, a palette and a zlib block of its own (about 50
/// bytes), which a glyph found whole by zlib repays (4 bytes instead of about
/// 12 in rows). Shorter patches go in rows: a flood's updates, damage in
/// bands of 3-9 rows, came out 10 % larger and slower with every band in
/// columns (`cargo bench --bench viewers`).
const MIN_ROWS: u16 = 7;

/// The cell of a patch of text to be cut into columns of cells: `cell` known,
/// the patch aligned to it, more than a column wide and at least
/// [`MIN_ROWS`] cells tall.
fn text_columns(rect: Rect, cell: Option<(u16, u16)>) -> Option<(u16, u16)> {
    cell.filter(|&(w, h)| {
        w > 0
            && h > 0
            && rect.x.is_multiple_of(w)
            && rect.width.is_multiple_of(w)
            && rect.width > w
            && rect.width / w <= MAX_COLUMNS
            && rect.height >= MIN_ROWS * h
    })
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
/// ramp's indices (a coverage level each, so a glyph gives the same bytes
/// in every piece), a two-colour bitmap, a sorted palette's indices, or
/// full colour.
fn encode_piece(pixels: &[u32], width: usize, format: &PixelFormat) -> (Vec<u8>, Option<(usize, Vec<u8>)>) {
    let mut palette = Palette::of(pixels, 256);
    let mut head = Vec::new();
    if palette.colours.len() == 1 {
        head.push(FILL);
        format.put_tpixel(palette.colours[0], &mut head);
        return (head, None);
    }
    if let Some(ramp) = zrle::ramp_of(&palette, pixels) {
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
        put_palette(&palette, format, &mut head);
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
    put_palette(&palette, format, &mut head);
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

/// A compressor with no history, writing raw deflate (its zlib header is
/// [`ZLIB_HEADER`], sent by hand).
fn raw_deflate() -> Compress {
    Compress::new(Compression::new(ZLIB_LEVEL), false)
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
        assert_eq!(Tight::shared().encode(&patch, &PixelFormat::SERVER, None, &mut out), 1);
        assert_eq!(&out[12..], &[FILL, 0x10, 0x20, 0x30]);
    }

    #[test]
    fn the_first_update_starts_every_stream_as_zlib_would() {
        let format = PixelFormat::SERVER;
        let mut tight = Tight::new();
        // Too small to start a stream (4 pixels of 3 bytes are needed): nothing but the fill.
        let tiny = Patch { rect: Rect::new(5, 5, 1, 3), pixels: vec![0x00102030; 3] };
        let mut out = Vec::new();
        assert_eq!(tight.encode(&tiny, &format, None, &mut out), 1);
        assert!(!tight.all_started());

        let pixels = vec![0x00010203, 0x00040506, 0x00070809, 0x000a0b0c, 0, 0, 0, 0];
        let patch = Patch { rect: Rect::new(10, 20, 4, 2), pixels };
        let mut out = Vec::new();
        assert_eq!(
            tight.encode(&patch, &format, None, &mut out),
            4,
            "a rectangle per stream, then the patch"
        );
        assert!(tight.all_started());
        // Each starting rectangle: the patch's first row through stream k,
        // its bytes what zlib writes for them, header included.
        let data: Vec<u8> = (1..=12).collect();
        let mut zlib = Vec::new();
        deflate_sync(&mut Compress::new(Compression::new(ZLIB_LEVEL), true), &data, &mut zlib);
        let mut rest = &out[..];
        for stream in 0..3u8 {
            let mut want = Vec::new();
            ServerMessage::Rectangle { rect: Rect::new(10, 20, 4, 1), encoding: number::TIGHT }
                .encode(&mut want);
            want.push(stream << 4);
            put_compact_length(zlib.len(), &mut want);
            want.extend_from_slice(&zlib);
            assert_eq!(&rest[..want.len()], &want[..], "stream {stream}");
            rest = &rest[want.len()..];
        }
        let mut out = Vec::new();
        assert_eq!(tight.encode(&patch, &format, None, &mut out), 1, "started once only");
    }

    /// A viewer's four inflaters, as its decoder has them.
    fn inflaters() -> Vec<flate2::Decompress> {
        (0..4).map(|_| flate2::Decompress::new(true)).collect()
    }

    /// Asserts that `out` (`count` rectangles) decodes, through `streams`,
    /// to the pixels of `image` (`width` wide) where it lies.
    fn assert_decodes(
        out: &[u8],
        count: u16,
        format: &PixelFormat,
        streams: &mut [flate2::Decompress],
        image: &[u32],
        width: u16,
    ) {
        for (piece, got) in decode(out, format, count, streams) {
            for (i, value) in got.iter().enumerate() {
                let (x, y) = (
                    usize::from(piece.x) + i % usize::from(piece.width),
                    usize::from(piece.y) + i / usize::from(piece.width),
                );
                let want = format.convert(image[y * usize::from(width) + x]);
                assert_eq!(*value, want, "{format:?} at ({x},{y})");
            }
        }
    }

    /// A screen of every kind of piece (fill, mono, palette, full colour)
    /// in bands, different for each `seed`.
    fn screen(w: u16, h: u16, seed: u32) -> Vec<u32> {
        (0..u32::from(w) * u32::from(h))
            .map(|i| {
                let (x, y) = (i % u32::from(w), i / u32::from(w));
                let s = seed.wrapping_mul(0x9e37_79b9);
                match (y / 40 + seed) % 4 {
                    0 => s & 0xffffff,
                    1 => [0x00ffffff, s & 0xffffff][((x / 3 + y + seed) % 2) as usize],
                    2 => [0x00ff0000, 0x0000ff00, 0x000000ff, s & 0xff][((x + y + seed) % 4) as usize],
                    _ => (x * 0x10203 + y * 0x30201 + s) & 0xffffff,
                }
            })
            .collect()
    }

    /// A screen of noise, different for each `seed`: zlib finds nothing to
    /// match in it but an earlier copy.
    fn noise(w: u16, h: u16, seed: u32) -> Vec<u32> {
        let mut state = seed.wrapping_mul(2_654_435_761) | 1;
        (0..u32::from(w) * u32::from(h))
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state & 0xffffff
            })
            .collect()
    }

    /// Encodes the whole of `image` with `tight`.
    fn encode_screen(
        tight: &mut Tight,
        image: &[u32],
        w: u16,
        h: u16,
        format: &PixelFormat,
    ) -> (Vec<u8>, u16) {
        let patch = Patch { rect: Rect::new(0, 0, w, h), pixels: image.to_vec() };
        let mut out = Vec::new();
        let count = tight.encode(&patch, format, None, &mut out);
        (out, count)
    }

    #[test]
    fn a_groups_bytes_after_forget_decode_whatever_each_viewer_was_sent_before() {
        let format = PixelFormat::SERVER;
        // Small enough for a whole screen's data to fit in a zlib window.
        let (w, h) = (100u16, 60u16);
        // Two viewers, each with streams of its own and a different history.
        let mut viewers: Vec<(Tight, Vec<flate2::Decompress>)> = Vec::new();
        for seed in [1, 2] {
            let mut tight = Tight::new();
            let mut inflaters = inflaters();
            for step in 0..3 {
                let image = screen(w, h, seed * 10 + step);
                let (out, count) = encode_screen(&mut tight, &image, w, h, &format);
                assert_decodes(&out, count, &format, &mut inflaters, &image, w);
            }
            assert!(tight.all_started());
            viewers.push((tight, inflaters));
        }
        // The group's encoder, with a history of its own (the very screen
        // it sends next, which it would otherwise send as one match),
        // forgets it: its keyframe and the frames after it decode alike in
        // both viewers.
        let mut group = Tight::shared();
        encode_screen(&mut group, &noise(w, h, 20), w, h, &format);
        group.forget();
        for image in [noise(w, h, 20), screen(w, h, 21), noise(w, h, 20)] {
            let (out, count) = encode_screen(&mut group, &image, w, h, &format);
            for (_, inflaters) in &mut viewers {
                assert_decodes(&out, count, &format, inflaters, &image, w);
            }
        }
        // One leaves: its own compressors, forgotten when the group took
        // over, go on from nothing, and it decodes them.
        let (tight, inflaters) = &mut viewers[0];
        tight.forget();
        for step in 0..2 {
            let image = screen(w, h, 30 + step);
            let (out, count) = encode_screen(tight, &image, w, h, &format);
            assert_decodes(&out, count, &format, inflaters, &image, w);
        }
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
            let mut streams = inflaters();
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
                assert_decodes(&out, count, &format, &mut streams, &pixels, w);
            }
        }
    }

    #[test]
    fn text_goes_by_columns_of_cells_and_decodes() {
        // 12 columns of 4x6 cells, MIN_ROWS rows: glyphs at the renderer's
        // coverage levels of grey on black, a green column, a blank one, a
        // two-colour one.
        let ramp = crate::frame::coverage::ramp(0xaaaaaa, 0);
        let green = crate::frame::coverage::ramp(0x00aa00, 0);
        let (w, h) = (48u16, 6 * MIN_ROWS);
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
        let mut streams = inflaters();
        for starting in [3, 0] {
            let mut out = Vec::new();
            let count = tight.encode(&patch, &PixelFormat::SERVER, Some((4, 6)), &mut out);
            assert_eq!(count, starting + 12, "one piece a column");
            let mut seen = vec![false; pixels.len()];
            for (piece, got) in
                decode(&out, &PixelFormat::SERVER, count, &mut streams).split_off(starting.into())
            {
                assert_eq!((piece.width, piece.height), (4, h));
                for (i, value) in got.iter().enumerate() {
                    let (x, y) = (usize::from(piece.x) + i % 4, i / 4);
                    assert_eq!(*value, pixels[y * usize::from(w) + x], "at ({x},{y})");
                    seen[y * usize::from(w) + x] = true;
                }
            }
            assert!(seen.iter().all(|&s| s), "every pixel sent");
        }
        // A cell row fewer: in rows, one piece.
        let short =
            Patch { rect: Rect::new(0, 0, w, h - 6), pixels: pixels[..usize::from(w * (h - 6))].to_vec() };
        let mut out = Vec::new();
        let count = tight.encode(&short, &PixelFormat::SERVER, Some((4, 6)), &mut out);
        assert_eq!(count, 1);
        assert_decodes(&out, count, &PixelFormat::SERVER, &mut streams, &pixels, w);
    }

    #[test]
    fn wide_rectangles_are_cut_into_pieces() {
        let patch = Patch { rect: Rect::new(0, 0, 3000, 40), pixels: vec![0; 3000 * 40] };
        let mut out = Vec::new();
        // At most 2048 wide and 65536 pixels: 32 rows of 2048 + 952, twice.
        assert_eq!(Tight::shared().encode(&patch, &PixelFormat::SERVER, None, &mut out), 4);
    }
}
