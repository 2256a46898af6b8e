//! RFB pixel formats: the server's own, the ones viewers ask for with
//! SetPixelFormat, and how a `0x00RRGGBB` framebuffer pixel is written in each.

/// Why a SetPixelFormat was refused; the connection that sent it is closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PixelFormatError {
    /// Only 8, 16 and 32 bits per pixel exist in RFB.
    #[error("{0} bits per pixel (only 8, 16 and 32 are allowed)")]
    BitsPerPixel(u8),
    /// A depth of 0, or deeper than the pixel.
    #[error("depth {depth} with {bits_per_pixel} bits per pixel")]
    Depth {
        /// The depth asked for.
        depth: u8,
        /// The pixel size asked for.
        bits_per_pixel: u8,
    },
    /// Colour-map formats are not served (QEMU drops them too for a true-colour screen).
    #[error("colour-map pixel formats are not supported")]
    ColourMap,
    /// A channel with a maximum of 0 carries nothing.
    #[error("{0} maximum is 0")]
    ZeroMax(&'static str),
    /// A channel whose bits, shifted, do not fit in the pixel (QEMU CVE-2014-7815).
    #[error("{channel} max {max} shifted by {shift} does not fit in {bits_per_pixel} bits")]
    ChannelOutside {
        /// red, green or blue.
        channel: &'static str,
        /// Its maximum.
        max: u16,
        /// Its shift.
        shift: u8,
        /// The pixel size.
        bits_per_pixel: u8,
    },
}

/// A true-colour pixel format, validated: every channel fits in the pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PixelFormat {
    /// 8, 16 or 32.
    pub bits_per_pixel: u8,
    /// Significant bits.
    pub depth: u8,
    /// Multi-byte pixels are sent most significant byte first.
    pub big_endian: bool,
    /// Largest red value.
    pub red_max: u16,
    /// Largest green value.
    pub green_max: u16,
    /// Largest blue value.
    pub blue_max: u16,
    /// Red's position in the pixel.
    pub red_shift: u8,
    /// Green's position in the pixel.
    pub green_shift: u8,
    /// Blue's position in the pixel.
    pub blue_shift: u8,
}

impl PixelFormat {
    /// What the server announces in ServerInit: the framebuffer's own layout,
    /// `0x00RRGGBB` in little-endian 32-bit words, so it is sent unconverted.
    pub const SERVER: PixelFormat = PixelFormat {
        bits_per_pixel: 32,
        depth: 24,
        big_endian: false,
        red_max: 255,
        green_max: 255,
        blue_max: 255,
        red_shift: 16,
        green_shift: 8,
        blue_shift: 0,
    };

    /// Reads and validates the 16-byte PIXEL_FORMAT structure.
    pub fn parse(bytes: &[u8; 16]) -> Result<PixelFormat, PixelFormatError> {
        let max = |i: usize| u16::from_be_bytes([bytes[i], bytes[i + 1]]);
        let format = PixelFormat {
            bits_per_pixel: bytes[0],
            depth: bytes[1],
            big_endian: bytes[2] != 0,
            red_max: max(4),
            green_max: max(6),
            blue_max: max(8),
            red_shift: bytes[10],
            green_shift: bytes[11],
            blue_shift: bytes[12],
        };
        if !matches!(format.bits_per_pixel, 8 | 16 | 32) {
            return Err(PixelFormatError::BitsPerPixel(format.bits_per_pixel));
        }
        if format.depth == 0 || format.depth > format.bits_per_pixel {
            return Err(PixelFormatError::Depth {
                depth: format.depth,
                bits_per_pixel: format.bits_per_pixel,
            });
        }
        if bytes[3] == 0 {
            return Err(PixelFormatError::ColourMap);
        }
        for (channel, max, shift) in format.channels() {
            if max == 0 {
                return Err(PixelFormatError::ZeroMax(channel));
            }
            let bits = 16 - max.leading_zeros();
            if u32::from(shift) + bits > u32::from(format.bits_per_pixel) {
                return Err(PixelFormatError::ChannelOutside {
                    channel,
                    max,
                    shift,
                    bits_per_pixel: format.bits_per_pixel,
                });
            }
        }
        Ok(format)
    }

    /// The 16-byte PIXEL_FORMAT structure, padding zeroed.
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut bytes = [0u8; 16];
        bytes[0] = self.bits_per_pixel;
        bytes[1] = self.depth;
        bytes[2] = u8::from(self.big_endian);
        bytes[3] = 1;
        bytes[4..6].copy_from_slice(&self.red_max.to_be_bytes());
        bytes[6..8].copy_from_slice(&self.green_max.to_be_bytes());
        bytes[8..10].copy_from_slice(&self.blue_max.to_be_bytes());
        bytes[10] = self.red_shift;
        bytes[11] = self.green_shift;
        bytes[12] = self.blue_shift;
        bytes
    }

    fn channels(&self) -> [(&'static str, u16, u8); 3] {
        [
            ("red", self.red_max, self.red_shift),
            ("green", self.green_max, self.green_shift),
            ("blue", self.blue_max, self.blue_shift),
        ]
    }

    /// Bytes in one pixel on the wire.
    pub fn bytes_per_pixel(&self) -> usize {
        usize::from(self.bits_per_pixel / 8)
    }

    /// The pixel value of a framebuffer colour: each 8-bit channel scaled to its
    /// maximum (rounded), then shifted into place.
    pub fn convert(&self, rgb: u32) -> u32 {
        let scale = |value: u32, max: u16| (value * u32::from(max) + 127) / 255;
        let (r, g, b) = ((rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff);
        (scale(r, self.red_max) << self.red_shift)
            | (scale(g, self.green_max) << self.green_shift)
            | (scale(b, self.blue_max) << self.blue_shift)
    }

    /// Appends a framebuffer colour as one pixel in this format.
    pub fn put_pixel(&self, rgb: u32, out: &mut Vec<u8>) {
        let value = self.convert(rgb);
        match (self.bits_per_pixel, self.big_endian) {
            (8, _) => out.push(value as u8),
            (16, false) => out.extend_from_slice(&(value as u16).to_le_bytes()),
            (16, true) => out.extend_from_slice(&(value as u16).to_be_bytes()),
            (_, false) => out.extend_from_slice(&value.to_le_bytes()),
            (_, true) => out.extend_from_slice(&value.to_be_bytes()),
        }
    }

    /// Appends framebuffer colours as pixels in this format.
    pub fn put_pixels(&self, pixels: &[u32], out: &mut Vec<u8>) {
        if *self == PixelFormat::SERVER {
            out.reserve(pixels.len() * 4);
            for &p in pixels {
                out.extend_from_slice(&(p & 0x00ff_ffff).to_le_bytes());
            }
        } else {
            for &p in pixels {
                self.put_pixel(p, out);
            }
        }
    }

    /// Which bytes of a 32-bit pixel ZRLE's CPIXEL keeps, if it is shorter than
    /// the pixel: true colour, 32 bpp, depth 24 or less, and every channel bit in
    /// the three least (or most) significant bytes (RFC 6143 7.7.6). The range is
    /// an index range into the pixel's bytes in wire order.
    fn compact_bytes(&self) -> Option<std::ops::Range<usize>> {
        if self.bits_per_pixel != 32 || self.depth > 24 {
            return None;
        }
        let mask = self.channels().iter().fold(0u32, |m, &(_, max, shift)| m | (u32::from(max) << shift));
        // The most significant three bytes first, as vnc-rs tests it.
        if mask & 0x0000_00ff == 0 {
            Some(if self.big_endian { 0..3 } else { 1..4 })
        } else if mask & 0xff00_0000 == 0 {
            Some(if self.big_endian { 1..4 } else { 0..3 })
        } else {
            None
        }
    }

    /// Bytes in one ZRLE CPIXEL.
    pub fn cpixel_len(&self) -> usize {
        self.compact_bytes().map_or(self.bytes_per_pixel(), |r| r.len())
    }

    /// Appends a framebuffer colour as a ZRLE CPIXEL.
    pub fn put_cpixel(&self, rgb: u32, out: &mut Vec<u8>) {
        match self.compact_bytes() {
            Some(range) => {
                let mut pixel = Vec::with_capacity(4);
                self.put_pixel(rgb, &mut pixel);
                out.extend_from_slice(&pixel[range]);
            }
            None => self.put_pixel(rgb, out),
        }
    }

    /// Whether Tight's TPIXEL is 3 bytes R, G, B: 32 bpp, depth 24, 8 bits a channel.
    fn tight_rgb(&self) -> bool {
        self.bits_per_pixel == 32
            && self.depth == 24
            && self.red_max == 255
            && self.green_max == 255
            && self.blue_max == 255
    }

    /// Bytes in one Tight TPIXEL.
    pub fn tpixel_len(&self) -> usize {
        if self.tight_rgb() { 3 } else { self.bytes_per_pixel() }
    }

    /// Appends a framebuffer colour as a Tight TPIXEL.
    pub fn put_tpixel(&self, rgb: u32, out: &mut Vec<u8>) {
        if self.tight_rgb() {
            out.extend_from_slice(&[(rgb >> 16) as u8, (rgb >> 8) as u8, rgb as u8]);
        } else {
            self.put_pixel(rgb, out);
        }
    }
}

#[cfg(test)]
impl PixelFormat {
    /// A format spelt out as a viewer's SetPixelFormat gives it: channel
    /// maxima and shifts in red, green, blue order (tests only).
    pub(crate) fn of(
        bits_per_pixel: u8,
        depth: u8,
        big_endian: bool,
        max: [u16; 3],
        shift: [u8; 3],
    ) -> PixelFormat {
        PixelFormat {
            bits_per_pixel,
            depth,
            big_endian,
            red_max: max[0],
            green_max: max[1],
            blue_max: max[2],
            red_shift: shift[0],
            green_shift: shift[1],
            blue_shift: shift[2],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(bpp: u8, depth: u8, big_endian: u8, true_colour: u8, max: [u16; 3], shift: [u8; 3]) -> [u8; 16] {
        let format = PixelFormat::of(bpp, depth, big_endian != 0, max, shift);
        let mut b = format.to_bytes();
        b[3] = true_colour;
        b
    }

    #[test]
    fn the_server_format_round_trips_and_sends_pixels_as_they_are() {
        let parsed = PixelFormat::parse(&PixelFormat::SERVER.to_bytes()).unwrap();
        assert_eq!(parsed, PixelFormat::SERVER);
        let mut out = Vec::new();
        PixelFormat::SERVER.put_pixels(&[0x00123456], &mut out);
        assert_eq!(out, [0x56, 0x34, 0x12, 0]);
        assert_eq!(PixelFormat::SERVER.cpixel_len(), 3);
        let mut c = Vec::new();
        PixelFormat::SERVER.put_cpixel(0x00123456, &mut c);
        assert_eq!(c, [0x56, 0x34, 0x12]);
    }

    #[test]
    fn sixteen_and_eight_bit_formats_scale_each_channel() {
        let rgb565 = PixelFormat::parse(&bytes(16, 16, 1, 1, [31, 63, 31], [11, 5, 0])).unwrap();
        let mut out = Vec::new();
        rgb565.put_pixel(0x00ff_8000, &mut out);
        // red 31, green 32 (128*63/255 rounded), blue 0.
        assert_eq!(u16::from_be_bytes([out[0], out[1]]), (31 << 11) | (32 << 5));
        let bgr233 = PixelFormat::parse(&bytes(8, 8, 0, 1, [7, 7, 3], [0, 3, 6])).unwrap();
        assert_eq!(bgr233.convert(0x00ffffff), 0xff);
        // An odd maximum still scales: 255 → 5.
        let odd = PixelFormat::parse(&bytes(16, 12, 0, 1, [5, 5, 5], [0, 4, 8])).unwrap();
        assert_eq!(odd.convert(0x00ff0000), 5);
    }

    #[test]
    fn bad_formats_are_refused() {
        use PixelFormatError::*;
        let ok = [255, 255, 255];
        let shifts = [16, 8, 0];
        assert_eq!(PixelFormat::parse(&bytes(24, 24, 0, 1, ok, shifts)), Err(BitsPerPixel(24)));
        assert!(matches!(PixelFormat::parse(&bytes(32, 0, 0, 1, ok, shifts)), Err(Depth { .. })));
        assert!(matches!(PixelFormat::parse(&bytes(16, 24, 0, 1, ok, shifts)), Err(Depth { .. })));
        assert_eq!(PixelFormat::parse(&bytes(8, 8, 0, 0, ok, shifts)), Err(ColourMap));
        assert_eq!(PixelFormat::parse(&bytes(32, 24, 0, 1, [0, 255, 255], shifts)), Err(ZeroMax("red")));
        assert!(matches!(
            PixelFormat::parse(&bytes(16, 16, 0, 1, ok, shifts)),
            Err(ChannelOutside { channel: "red", .. })
        ));
        assert!(matches!(
            PixelFormat::parse(&bytes(32, 24, 0, 1, ok, [16, 8, 40])),
            Err(ChannelOutside { channel: "blue", .. })
        ));
    }

    #[test]
    fn compact_pixels_keep_the_bytes_that_carry_colour() {
        let high = PixelFormat { red_shift: 24, green_shift: 16, blue_shift: 8, ..PixelFormat::SERVER };
        let mut out = Vec::new();
        high.put_cpixel(0x00112233, &mut out);
        assert_eq!(out, [0x33, 0x22, 0x11]);
        let big = PixelFormat { big_endian: true, ..PixelFormat::SERVER };
        out.clear();
        big.put_cpixel(0x00112233, &mut out);
        assert_eq!(out, [0x11, 0x22, 0x33]);
        let mut t = Vec::new();
        PixelFormat::SERVER.put_tpixel(0x00112233, &mut t);
        assert_eq!(t, [0x11, 0x22, 0x33]);
    }
}
