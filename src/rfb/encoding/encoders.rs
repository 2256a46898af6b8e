//! One connection's encoders: the compression state kept across updates, the
//! dispatch of a patch to the encoder of the viewer's encoding, and where each
//! encoding uses [`cell_copy`](super::cell_copy).

use std::sync::Arc;

use super::cell_copy;
use super::deflate::Effort;
use super::hextile;
use super::kind::Encoding;
use super::palette::Palette;
use super::patch::Patch;
use super::raw;
use super::tight;
use super::zrle;
use crate::frame::{Framebuffer, Move, Rect};
use crate::rfb::pixel_format::PixelFormat;

/// The compression state a connection keeps across updates (ZRLE's zlib
/// stream, Tight's four), and what it knows of the screen's layout.
pub struct Encoders {
    zrle: Option<zrle::Zrle>,
    tight: Option<tight::Tight>,
    cell_size: Option<(u16, u16)>,
    /// How hard ZRLE's stream compresses the next update ([`Encoders::set_effort`]).
    effort: Effort,
}

/// Where a viewer's streams stand after an update, enough for an encoder of
/// its own to go on from there ([`Encoders::resume`]): the window of its ZRLE
/// stream, if it started. Tight's streams need none: a viewer leaving a group
/// goes on with fresh compressors ([`Encoders::hand_over`]).
#[derive(Clone, Default)]
pub struct Checkpoint {
    zrle_window: Option<Arc<[u8]>>,
}

impl Default for Encoders {
    fn default() -> Self {
        Encoders::new()
    }
}

impl Encoders {
    /// No stream started yet: each starts on first use, as its decoder does.
    pub fn new() -> Encoders {
        Encoders { zrle: None, tight: None, cell_size: None, effort: Effort::Best }
    }

    /// The encoders of a group of viewers that share one encoding
    /// ([`Encoders::forget`] before their first update): a ZRLE stream and
    /// Tight's taken as started, since a viewer joins only once its own have
    /// ([`Encoders::can_join`]).
    pub fn shared() -> Encoders {
        Encoders {
            zrle: Some(zrle::Zrle::resume(&[])),
            tight: Some(tight::Tight::shared()),
            cell_size: None,
            effort: Effort::Best,
        }
    }

    /// Where the streams stand now.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint { zrle_window: self.zrle.as_ref().map(|z| Arc::from(z.window())) }
    }

    /// Drops the streams a group's encoders now hold for this viewer (when
    /// the group's encoding is `encoding`), whose decoders they keep in step:
    /// ZRLE's, and Tight's compressors (its streams stay started, and go on
    /// from fresh compressors if the viewer leaves).
    pub fn hand_over(&mut self, encoding: Encoding) {
        match encoding {
            Encoding::Zrle => self.zrle = None,
            Encoding::Tight => {
                if let Some(tight) = &mut self.tight {
                    tight.forget();
                }
            }
            Encoding::Raw | Encoding::Hextile => {}
        }
    }

    /// Takes the streams back from a group, going on from `checkpoint`: its
    /// ZRLE stream where the last frame left it (if the group's was ZRLE).
    pub fn resume(&mut self, checkpoint: &Checkpoint) {
        if let Some(window) = &checkpoint.zrle_window {
            self.zrle = Some(zrle::Zrle::resume(window));
        }
    }

    /// Whether a viewer with these encoders can be sent what a group's
    /// encoders write after [`Encoders::forget`] in `encoding`: its ZRLE
    /// stream, or each of its Tight streams, must have started (the group's
    /// send no zlib header). Tight's streams are never reset (the reset bits
    /// of a rectangle): noVNC's inflater (pako) fails on the next data after
    /// a reset ("invalid distance too far back") once a piece larger than
    /// its 100 KB output buffer came before.
    pub fn can_join(&self, encoding: Encoding) -> bool {
        match encoding {
            Encoding::Zrle => self.zrle.is_some(),
            Encoding::Tight => self.tight.as_ref().is_some_and(tight::Tight::all_started),
            Encoding::Raw | Encoding::Hextile => true,
        }
    }

    /// The next update depends on nothing sent before (ZRLE matches nothing
    /// earlier, Tight's streams go on from fresh compressors), so that any
    /// viewer that [`can_join`](Encoders::can_join) decodes it the same.
    pub fn forget(&mut self) {
        if let Some(zrle) = &mut self.zrle {
            zrle.forget();
        }
        if let Some(tight) = &mut self.tight {
            tight.forget();
        }
    }

    /// How hard ZRLE compresses from the next update on. The sender chooses by
    /// load ([`Effort::for_load`]); any update may change it.
    pub fn set_effort(&mut self, effort: Effort) {
        self.effort = effort;
    }

    /// The screen's character cell in pixels, if it has one ([`Desktop::cell_size`](crate::rfb::desktop::Desktop::cell_size)).
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
        if !plans_copies(encoding, cell, &rects) {
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
                    std::mem::take(patches).into_iter().partition(|p| short(cell, p.rect));
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
                let zrle = self.zrle.get_or_insert_with(zrle::Zrle::new);
                zrle.set_effort(self.effort);
                zrle.encode(patch, format, self.cell_size, out)
            }
            Encoding::Tight => {
                self.tight.get_or_insert_with(tight::Tight::new).encode(patch, format, self.cell_size, out)
            }
        }
    }
}

/// Whether [`Encoders::copy_cells`] would plan copies for an update of
/// `rects` in `encoding` on a screen of `cell` cells: what it reads then is
/// the whole screen, which the update must carry a copy of
/// ([`Cut::take`](crate::rfb::update::Cut::take)), and which planning hashes
/// cell by cell. Raw never: it sends every pixel of a rectangle whatever it
/// holds, so that a copy there only adds bytes. ZRLE and Tight plan only
/// when some rectangle is short enough for copies to be used (a full screen
/// repainted goes without).
pub fn plans_copies(encoding: Encoding, cell: (u16, u16), rects: &[Rect]) -> bool {
    match encoding {
        Encoding::Raw => false,
        Encoding::Hextile => cell_copy::worth_planning(cell, rects),
        Encoding::Zrle | Encoding::Tight => {
            rects.iter().any(|&rect| short(cell, rect)) && cell_copy::worth_planning(cell, rects)
        }
    }
}

/// Whether `rect` is short enough for ZRLE and Tight to copy cells in it:
/// less than two rows of `cell` tall.
fn short(cell: (u16, u16), rect: Rect) -> bool {
    rect.height < 2 * cell.1
}

/// What a glyph cell costs in ZRLE or Tight in a patch one cell row tall,
/// where zlib finds few repeats: about 20 bytes (a 10x20 line of kernel log,
/// 1.3 KB for 60 glyphs, `cargo bench --bench rfb`). More than a CopyRect.
const ZLIB_GLYPH_BYTES: usize = 20;

/// The same for a glyph in two colours (a bitmap font), which packs at a bit
/// a pixel: a copy pays for runs of three or more.
const ZLIB_TWO_COLOUR_GLYPH_BYTES: usize = 6;
