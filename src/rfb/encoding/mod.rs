//! How pixels travel: the RFB encodings this server writes, and the choice
//! among them in the order a viewer prefers.
//!
//! Each encoder takes a [`Patch`] (framebuffer pixels copied out for one
//! rectangle) and appends whole rectangles, headers included, to an update.

pub mod cell_copy;
pub mod copyrect;
mod deflate;
pub mod hextile;
pub mod raw;
pub mod tight;
pub mod zrle;

use flate2::{Compress, Compression, FlushCompress};

use super::pixel_format::PixelFormat;
use crate::frame::{Framebuffer, Move, Rect};

/// RFB encoding numbers (RFC 6143 7.7 and the community rfbproto).
pub mod number {
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
}

/// An encoding that carries pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// [`raw`].
    Raw,
    /// [`hextile`].
    Hextile,
    /// [`zrle`].
    Zrle,
    /// [`tight`].
    Tight,
}

impl Encoding {
    /// The encoding a number stands for, if this server can write it.
    pub fn from_number(number: i32) -> Option<Encoding> {
        match number {
            number::RAW => Some(Encoding::Raw),
            number::HEXTILE => Some(Encoding::Hextile),
            number::ZRLE => Some(Encoding::Zrle),
            number::TIGHT => Some(Encoding::Tight),
            _ => None,
        }
    }

    /// Whether repeated cells may go as copies ([`Encoders::copy_cells`]):
    /// everywhere but Raw, which sends every pixel of a rectangle whatever it
    /// holds, so that a copy there only adds bytes.
    pub fn copies_cells(self) -> bool {
        self != Encoding::Raw
    }

    /// The first pixel encoding in the viewer's list that we write; Raw, which
    /// every viewer takes, when there is none.
    pub fn preferred(announced: &[i32]) -> Encoding {
        announced.iter().find_map(|&n| Encoding::from_number(n)).unwrap_or(Encoding::Raw)
    }
}

/// Framebuffer pixels (`0x00RRGGBB`) copied out for one rectangle, row after row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    /// Where they go.
    pub rect: Rect,
    /// `rect.width * rect.height` pixels.
    pub pixels: Vec<u32>,
}

impl Patch {
    /// Copies the pixels of `tile` (relative to the patch, inside it) into `out`.
    pub(crate) fn tile(&self, x: usize, y: usize, width: usize, height: usize, out: &mut Vec<u32>) {
        out.clear();
        let stride = usize::from(self.rect.width);
        for row in y..y + height {
            out.extend_from_slice(&self.pixels[row * stride + x..row * stride + x + width]);
        }
    }

    /// The part of the patch at (`x`, `y`) of this size, relative to the patch.
    pub(crate) fn sub_rect(&self, x: usize, y: usize, width: usize, height: usize) -> Rect {
        Rect::new(self.rect.x + x as u16, self.rect.y + y as u16, width as u16, height as u16)
    }
}

/// The compression state a connection keeps across updates (ZRLE's zlib
/// stream, Tight's four), and what it knows of the screen's layout.
pub struct Encoders {
    zrle: Option<zrle::Zrle>,
    tight: Option<tight::Tight>,
    cell_size: Option<(u16, u16)>,
}

impl Default for Encoders {
    fn default() -> Self {
        Encoders::new()
    }
}

impl Encoders {
    /// No stream started yet: each starts on first use, as its decoder does.
    pub fn new() -> Encoders {
        Encoders { zrle: None, tight: None, cell_size: None }
    }

    /// The screen's character cell in pixels, if it has one ([`Screen::cell_size`](crate::rfb::screen::Screen::cell_size)).
    pub fn set_cell_size(&mut self, cell_size: Option<(u16, u16)>) {
        self.cell_size = cell_size;
    }

    /// Plans [`cell_copy`] copies for an update of `patches` over `screen` in
    /// `encoding`, for a viewer that takes CopyRect; the moves go after the
    /// patches, in the same update. Hextile copies every repeated glyph it
    /// would spend more than a CopyRect on. ZRLE and Tight copy only in
    /// patches less than two cell rows tall (a new line at the bottom, an
    /// echoed key): taller ones zlib matches glyph by glyph for a few bytes
    /// each (ZRLE by cell columns), where a CopyRect costs 16.
    pub fn copy_cells(
        &self,
        encoding: Encoding,
        screen: &Framebuffer,
        patches: &mut Vec<Patch>,
        format: &PixelFormat,
    ) -> Vec<Move> {
        let Some(cell) = self.cell_size else { return Vec::new() };
        let rects: Vec<Rect> = patches.iter().map(|p| p.rect).collect();
        if !cell_copy::worth_planning(cell, &rects) {
            return Vec::new();
        }
        match encoding {
            Encoding::Raw => Vec::new(),
            Encoding::Hextile => {
                let bpp = format.bytes_per_pixel();
                cell_copy::plan(screen, cell, patches, &|pixels, width| hextile::cost(pixels, width, bpp))
            }
            Encoding::Zrle | Encoding::Tight => {
                let (mut short, tall): (Vec<Patch>, Vec<Patch>) =
                    std::mem::take(patches).into_iter().partition(|p| p.rect.height < 2 * cell.1);
                let moves =
                    cell_copy::plan(screen, cell, &mut short, &|pixels, _| match Palette::of(pixels, 2) {
                        Palette { overflow: true, .. } => ZLIB_GLYPH_BYTES,
                        Palette { colours, .. } if colours.len() == 2 => ZLIB_TWO_COLOUR_GLYPH_BYTES,
                        _ => 0,
                    });
                patches.extend(short);
                patches.extend(tall);
                moves
            }
        }
    }

    /// Appends `patch` in `encoding` (headers included) and returns how many
    /// rectangles that took.
    pub fn encode(
        &mut self,
        encoding: Encoding,
        patch: &Patch,
        format: &PixelFormat,
        out: &mut Vec<u8>,
    ) -> u16 {
        match encoding {
            Encoding::Raw => raw::encode(patch, format, out),
            Encoding::Hextile => hextile::encode(patch, format, out),
            Encoding::Zrle => {
                self.zrle.get_or_insert_with(zrle::Zrle::new).encode(patch, format, self.cell_size, out)
            }
            Encoding::Tight => self.tight.get_or_insert_with(tight::Tight::new).encode(patch, format, out),
        }
    }
}

/// Appends a rectangle header.
pub fn put_header(rect: Rect, encoding: i32, out: &mut Vec<u8>) {
    for v in [rect.x, rect.y, rect.width, rect.height] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(&encoding.to_be_bytes());
}

/// What a glyph cell costs in ZRLE or Tight in a patch one cell row tall,
/// where zlib finds few repeats: about 20 bytes (a 10x20 line of kernel log,
/// 1.3 KB for 60 glyphs, `cargo bench --bench rfb`). More than a CopyRect.
const ZLIB_GLYPH_BYTES: usize = 20;

/// The same for a glyph in two colours (a bitmap font), which packs at a bit
/// a pixel: a copy pays for runs of three or more.
const ZLIB_TWO_COLOUR_GLYPH_BYTES: usize = 6;

/// The zlib level of Tight (ZRLE has its own encoder, [`deflate`]). With
/// zlib-rs (flate2's `zlib-rs` backend, which also picks a fixed-code block
/// when that is smaller, as zlib does), 7 takes the time 6 does and comes
/// within 2% of 9's bytes on text screens; 9 takes twice as long on
/// repetitive ones (`cargo bench --bench rfb`).
const ZLIB_LEVEL: u32 = 7;

/// A zlib stream that lasts as long as the connection.
pub(crate) fn zlib_stream() -> Compress {
    Compress::new(Compression::new(ZLIB_LEVEL), true)
}

/// Compresses `input` into `out` through `stream`, ending with a sync flush so
/// the viewer can decode everything sent so far.
pub(crate) fn deflate_sync(stream: &mut Compress, input: &[u8], out: &mut Vec<u8>) {
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

/// Distinct colours of some pixels, in order of first appearance, counted up to a limit.
pub(crate) struct Palette {
    /// The colours seen, at most `limit`.
    pub colours: Vec<u32>,
    /// Whether more than `limit` distinct colours were seen.
    pub overflow: bool,
}

impl Palette {
    /// The palette of `pixels`, stopping once more than `limit` colours are seen.
    pub fn of(pixels: &[u32], limit: usize) -> Palette {
        let mut colours: Vec<u32> = Vec::new();
        let mut last = None;
        for &p in pixels {
            if last == Some(p) {
                continue;
            }
            last = Some(p);
            if !colours.contains(&p) {
                if colours.len() == limit {
                    return Palette { colours, overflow: true };
                }
                colours.push(p);
            }
        }
        Palette { colours, overflow: false }
    }

    /// The index of a colour known to be in the palette.
    pub fn index(&self, colour: u32) -> usize {
        self.colours.iter().position(|&c| c == colour).unwrap_or(0)
    }
}
