//! Hextile: 16x16 tiles, each a background with subrectangles over it, or raw
//! (RFC 6143 7.7.4). No zlib: TigerVNC and noVNC take it when nothing better is
//! announced.

use super::number;
use super::patch::Patch;
use crate::rfb::pixel_format::PixelFormat;
use crate::rfb::server_message::ServerMessage;

const TILE: usize = 16;
const RAW: u8 = 1;
const BACKGROUND_SPECIFIED: u8 = 2;
const FOREGROUND_SPECIFIED: u8 = 4;
const ANY_SUBRECTS: u8 = 8;
const SUBRECTS_COLOURED: u8 = 16;

/// One subrectangle of a tile: its colour, corner and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Subrect {
    colour: u32,
    x: usize,
    y: usize,
    width: usize,
    height: usize,
}

/// The colours carried from tile to tile: a tile that leaves them unchanged
/// does not repeat them. Raw tiles make both unknown.
#[derive(Default)]
struct Carried {
    background: Option<u32>,
    foreground: Option<u32>,
}

/// Appends `patch` as one Hextile rectangle.
pub fn encode(patch: &Patch, format: &PixelFormat, out: &mut Vec<u8>) -> u16 {
    ServerMessage::Rectangle { rect: patch.rect, encoding: number::HEXTILE }.encode(out);
    let (width, height) = (usize::from(patch.rect.width), usize::from(patch.rect.height));
    let mut carried = Carried::default();
    let mut pixels = Vec::with_capacity(TILE * TILE);
    for y in (0..height).step_by(TILE) {
        let h = TILE.min(height - y);
        for x in (0..width).step_by(TILE) {
            let w = TILE.min(width - x);
            patch.tile(x, y, w, h, &mut pixels);
            encode_tile(&pixels, w, format, &mut carried, out);
        }
    }
    1
}

/// The most frequent colour of a tile and how many colours it has (counted up to 3).
fn background(pixels: &[u32]) -> (u32, usize) {
    let mut counts: Vec<(u32, usize)> = Vec::new();
    for &p in pixels {
        match counts.iter_mut().find(|(c, _)| *c == p) {
            Some((_, n)) => *n += 1,
            None => counts.push((p, 1)),
        }
    }
    let colours = counts.len().min(3);
    let best = counts.iter().max_by_key(|(_, n)| *n).map_or(0, |&(c, _)| c);
    (best, colours)
}

/// Covers every pixel that is not `background` with rectangles of one colour,
/// each grown right then down from its top-left pixel.
fn subrects(pixels: &[u32], width: usize, background: u32) -> Vec<Subrect> {
    let height = pixels.len() / width;
    let mut covered = vec![false; pixels.len()];
    let mut found = Vec::new();
    for y in 0..height {
        for x in 0..width {
            let colour = pixels[y * width + x];
            if colour == background || covered[y * width + x] {
                continue;
            }
            let same = |xx: usize, yy: usize| pixels[yy * width + xx] == colour && !covered[yy * width + xx];
            let mut right = x + 1;
            while right < width && same(right, y) {
                right += 1;
            }
            let mut bottom = y + 1;
            while bottom < height && (x..right).all(|xx| same(xx, bottom)) {
                bottom += 1;
            }
            for yy in y..bottom {
                covered[yy * width + x..yy * width + right].fill(true);
            }
            found.push(Subrect { colour, x, y, width: right - x, height: bottom - y });
        }
    }
    found
}

/// Roughly what a tile spends on these pixels (a `width`-wide block of it)
/// beyond its background: the subrectangles [`encode_tile`] would write, or
/// the raw pixels when those cost less. [`super::cell_copy`] weighs a copy by it.
pub(crate) fn cost(pixels: &[u32], width: usize, bpp: usize) -> usize {
    let (bg, colours) = background(pixels);
    if colours == 1 {
        return 0;
    }
    let per_rect = if colours == 2 { 2 } else { bpp + 2 };
    (per_rect * subrects(pixels, width, bg).len()).min(pixels.len() * bpp)
}

fn encode_tile(pixels: &[u32], width: usize, format: &PixelFormat, carried: &mut Carried, out: &mut Vec<u8>) {
    let bpp = format.bytes_per_pixel();
    let (bg, colours) = background(pixels);
    let new_bg = carried.background != Some(bg);
    let bg_cost = if new_bg { bpp } else { 0 };
    if colours == 1 {
        out.push(if new_bg { BACKGROUND_SPECIFIED } else { 0 });
        if new_bg {
            format.put_pixel(bg, out);
        }
        carried.background = Some(bg);
        return;
    }
    let rects = subrects(pixels, width, bg);
    let raw_size = pixels.len() * bpp;
    let size = if colours == 2 {
        let fg_cost = if carried.foreground != Some(rects[0].colour) { bpp } else { 0 };
        bg_cost + fg_cost + 1 + 2 * rects.len()
    } else {
        bg_cost + 1 + (bpp + 2) * rects.len()
    };
    if rects.len() > 255 || size >= raw_size {
        out.push(RAW);
        format.put_pixels(pixels, out);
        *carried = Carried::default();
        return;
    }
    let mut flags = ANY_SUBRECTS;
    if new_bg {
        flags |= BACKGROUND_SPECIFIED;
    }
    let foreground = (colours == 2).then_some(rects[0].colour);
    match foreground {
        Some(fg) if carried.foreground != Some(fg) => flags |= FOREGROUND_SPECIFIED,
        Some(_) => {}
        None => flags |= SUBRECTS_COLOURED,
    }
    out.push(flags);
    if new_bg {
        format.put_pixel(bg, out);
    }
    if flags & FOREGROUND_SPECIFIED != 0 {
        format.put_pixel(rects[0].colour, out);
    }
    out.push(rects.len() as u8);
    for r in &rects {
        if foreground.is_none() {
            format.put_pixel(r.colour, out);
        }
        out.push(((r.x as u8) << 4) | r.y as u8);
        out.push((((r.width - 1) as u8) << 4) | (r.height - 1) as u8);
    }
    carried.background = Some(bg);
    // Coloured subrectangles leave the foreground undefined for the next tile.
    carried.foreground = foreground;
}

/// A Hextile decoder for 32-bit little-endian pixels, enough to check the
/// encoder (vnc-rs has none): the pixels of one rectangle's payload.
#[cfg(test)]
pub(crate) fn decode(data: &[u8], width: usize, height: usize) -> Vec<u32> {
    let mut pixels = vec![0u32; width * height];
    let mut at = 0;
    let mut take = |n: usize| {
        let s = &data[at..at + n];
        at += n;
        s.to_vec()
    };
    let pixel = |b: Vec<u8>| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let (mut bg, mut fg) = (0u32, 0u32);
    for ty in (0..height).step_by(TILE) {
        for tx in (0..width).step_by(TILE) {
            let (w, h) = (TILE.min(width - tx), TILE.min(height - ty));
            let flags = take(1)[0];
            if flags & RAW != 0 {
                for y in 0..h {
                    for x in 0..w {
                        pixels[(ty + y) * width + tx + x] = pixel(take(4));
                    }
                }
                continue;
            }
            if flags & BACKGROUND_SPECIFIED != 0 {
                bg = pixel(take(4));
            }
            for y in 0..h {
                for x in 0..w {
                    pixels[(ty + y) * width + tx + x] = bg;
                }
            }
            if flags & FOREGROUND_SPECIFIED != 0 {
                fg = pixel(take(4));
            }
            if flags & ANY_SUBRECTS == 0 {
                continue;
            }
            let n = take(1)[0];
            for _ in 0..n {
                let colour = if flags & SUBRECTS_COLOURED != 0 { pixel(take(4)) } else { fg };
                let b = take(2);
                let (x, y) = (usize::from(b[0] >> 4), usize::from(b[0] & 15));
                let (sw, sh) = (usize::from(b[1] >> 4) + 1, usize::from(b[1] & 15) + 1);
                for yy in y..y + sh {
                    for xx in x..x + sw {
                        pixels[(ty + yy) * width + tx + xx] = colour;
                    }
                }
            }
        }
    }
    assert_eq!(at, data.len(), "trailing bytes");
    pixels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Rect;

    #[test]
    fn tiles_decode_to_the_same_pixels() {
        let (w, h) = (37usize, 21usize);
        let pixels: Vec<u32> = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                match (x / 5 + y / 3) % 4 {
                    0 => 0x000000,
                    1 if x > 20 => 0x123456,
                    1 => 0xffffff,
                    2 if y > 16 => (x * 7 + y) as u32,
                    _ => 0x00aa00,
                }
            })
            .collect();
        let patch = Patch { rect: Rect::new(3, 4, w as u16, h as u16), pixels: pixels.clone() };
        let mut out = Vec::new();
        encode(&patch, &PixelFormat::SERVER, &mut out);
        assert_eq!(decode(&out[12..], w, h), pixels);
    }
}
