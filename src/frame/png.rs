//! Framebuffers as PNG files, and back: what `vcmux render` writes and the
//! golden-image tests compare. The encoding has fixed settings and no
//! timestamp, so the same framebuffer always gives the same bytes.

use image::codecs::png::{CompressionType, FilterType, PngDecoder, PngEncoder};
use image::{ExtendedColorType, ImageDecoder, ImageEncoder};

use super::buffer::Framebuffer;

/// Why a PNG could not be made or read.
#[derive(Debug, thiserror::Error)]
#[error("PNG: {0}")]
pub struct PngError(#[from] image::ImageError);

/// The framebuffer as an 8-bit RGB PNG.
pub fn encode(fb: &Framebuffer) -> Result<Vec<u8>, PngError> {
    let rgb: Vec<u8> = fb.pixels().iter().flat_map(|&p| [(p >> 16) as u8, (p >> 8) as u8, p as u8]).collect();
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Best, FilterType::Adaptive).write_image(
        &rgb,
        u32::from(fb.width()),
        u32::from(fb.height()),
        ExtendedColorType::Rgb8,
    )?;
    Ok(out)
}

/// A PNG (RGB or RGBA, 8 bits) read back into a framebuffer; alpha is
/// dropped. `None` when it is larger than a framebuffer can be.
pub fn decode(png: &[u8]) -> Result<Option<Framebuffer>, PngError> {
    let decoder = PngDecoder::new(std::io::Cursor::new(png))?;
    let (width, height) = decoder.dimensions();
    let channels = usize::from(decoder.color_type().channel_count());
    let mut bytes = vec![0; usize::try_from(decoder.total_bytes()).unwrap_or(usize::MAX)];
    decoder.read_image(&mut bytes)?;
    let (Ok(width), Ok(height)) = (u16::try_from(width), u16::try_from(height)) else { return Ok(None) };
    if channels < 3 {
        return Ok(None);
    }
    let mut fb = Framebuffer::new(width, height);
    for (p, px) in fb.pixels_mut().iter_mut().zip(bytes.chunks_exact(channels)) {
        *p = u32::from(px[0]) << 16 | u32::from(px[1]) << 8 | u32::from(px[2]);
    }
    Ok(Some(fb))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_same_bytes() {
        let mut fb = Framebuffer::new(3, 2);
        fb.pixels_mut().copy_from_slice(&[0x123456, 0xff0000, 0x00ff00, 0x0000ff, 0, 0xffffff]);
        let png = encode(&fb).unwrap();
        assert_eq!(encode(&fb).unwrap(), png);
        assert_eq!(decode(&png).unwrap(), Some(fb));
    }
}
