//! A small blocking RFB viewer for the bench: None security, a pixel format
//! of its choosing, and every rectangle decoded into its own framebuffer
//! (Raw, CopyRect, ZRLE, and Tight's fill, palette and full-colour pieces),
//! so each update is read to its last byte, as a real viewer's would be.

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::{Decompress, FlushDecompress};

pub const RAW: i32 = 0;
pub const COPY_RECT: i32 = 1;
pub const TIGHT: i32 = 7;
pub const ZRLE: i32 = 16;

/// A true-colour pixel format.
#[derive(Debug, Clone, Copy)]
pub struct Format {
    pub bytes: usize,
    pub depth: u8,
    pub max: [u16; 3],
    pub shift: [u8; 3],
}

impl Format {
    /// 32 bits, little-endian, 0x00RRGGBB.
    pub const RGB888: Format = Format { bytes: 4, depth: 24, max: [255, 255, 255], shift: [16, 8, 0] };
    /// 16 bits, little-endian.
    pub const RGB565: Format = Format { bytes: 2, depth: 16, max: [31, 63, 31], shift: [11, 5, 0] };
    /// 8 bits.
    pub const BGR233: Format = Format { bytes: 1, depth: 8, max: [7, 7, 3], shift: [0, 3, 6] };

    pub fn by_bits(bits: &str) -> Format {
        match bits {
            "32" => Format::RGB888,
            "16" => Format::RGB565,
            "8" => Format::BGR233,
            other => panic!("VIEWERS_FORMATS: {other} is not 32, 16 or 8"),
        }
    }

    fn message(&self) -> Vec<u8> {
        let mut m = vec![0, 0, 0, 0, (self.bytes * 8) as u8, self.depth, 0, 1];
        for max in self.max {
            m.extend_from_slice(&max.to_be_bytes());
        }
        m.extend_from_slice(&self.shift);
        m.extend_from_slice(&[0, 0, 0]);
        m
    }

    /// ZRLE's CPIXEL: three bytes for a 32-bit format whose colours fit in the low ones.
    fn cpixel(&self) -> usize {
        if self.bytes == 4 && self.depth <= 24 { 3 } else { self.bytes }
    }

    /// Tight's TPIXEL: R, G, B for 32-bit 8-8-8, else a pixel.
    fn tpixel_rgb(&self) -> bool {
        self.bytes == 4 && self.depth == 24 && self.max == [255, 255, 255]
    }
}

/// Counts what is read through it.
struct Counted {
    stream: TcpStream,
    count: Arc<AtomicU64>,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.stream.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Types on a viewer's connection ([`Viewer::keyboard`]).
pub struct Keyboard(TcpStream);

impl Keyboard {
    /// A key pressed and released, in one write.
    pub fn key(&mut self, keysym: u32) -> std::io::Result<()> {
        let mut m = Vec::new();
        for down in [1u8, 0] {
            m.extend_from_slice(&[4, down, 0, 0]);
            m.extend_from_slice(&keysym.to_be_bytes());
        }
        self.0.write_all(&m)
    }
}

/// One viewer connection and what it shows.
pub struct Viewer {
    reader: BufReader<Counted>,
    writer: TcpStream,
    pub read: Arc<AtomicU64>,
    pub width: u16,
    pub height: u16,
    pub format: Format,
    pub pixels: Vec<u32>,
    zrle: Decompress,
    tight: [Decompress; 4],
    /// Reused from rectangle to rectangle: what was read, and what it inflated to.
    data: Vec<u8>,
    inflated: Vec<u8>,
}

impl Viewer {
    /// Connects, shares the desktop, sets `format` and the `encoding` (with CopyRect).
    pub fn connect(address: &str, format: Format, encoding: i32) -> std::io::Result<Viewer> {
        let stream = TcpStream::connect(address)?;
        stream.set_nodelay(true)?;
        // A server that stops sending ends the viewer rather than the bench.
        stream.set_read_timeout(Some(std::time::Duration::from_secs(20)))?;
        let read = Arc::new(AtomicU64::new(0));
        let writer = stream.try_clone()?;
        let mut viewer = Viewer {
            reader: BufReader::with_capacity(1 << 16, Counted { stream, count: read.clone() }),
            writer,
            read,
            width: 0,
            height: 0,
            format,
            pixels: Vec::new(),
            zrle: Decompress::new(true),
            tight: std::array::from_fn(|_| Decompress::new(true)),
            data: Vec::new(),
            inflated: Vec::new(),
        };
        let version = viewer.bytes(12)?;
        assert!(version.starts_with(b"RFB 003."), "not an RFB server: {version:?}");
        viewer.writer.write_all(b"RFB 003.008\n")?;
        let types = usize::from(viewer.u8()?);
        let offered = viewer.bytes(types)?;
        assert!(offered.contains(&1), "the server wants a password: {offered:?}");
        viewer.writer.write_all(&[1])?;
        let result = viewer.u32()?;
        assert_eq!(result, 0, "security result");
        viewer.writer.write_all(&[1])?;
        viewer.width = viewer.u16()?;
        viewer.height = viewer.u16()?;
        viewer.bytes(16)?;
        let name = viewer.u32()? as usize;
        viewer.bytes(name)?;
        viewer.pixels = vec![0; usize::from(viewer.width) * usize::from(viewer.height)];
        viewer.writer.write_all(&format.message())?;
        let mut encodings = vec![2, 0, 0, 2];
        for e in [encoding, COPY_RECT] {
            encodings.extend_from_slice(&e.to_be_bytes());
        }
        viewer.writer.write_all(&encodings)?;
        Ok(viewer)
    }

    /// FramebufferUpdateRequest for the whole screen.
    pub fn request(&mut self, incremental: bool) -> std::io::Result<()> {
        let mut m = vec![3, u8::from(incremental), 0, 0, 0, 0];
        m.extend_from_slice(&self.width.to_be_bytes());
        m.extend_from_slice(&self.height.to_be_bytes());
        self.writer.write_all(&m)
    }

    /// A keyboard on this connection, to type from another thread while
    /// this one reads updates.
    pub fn keyboard(&self) -> std::io::Result<Keyboard> {
        Ok(Keyboard(self.writer.try_clone()?))
    }

    /// The pointer moved to (`x`, `y`), no button down: X gives the keyboard
    /// to the window under it when no window manager does.
    pub fn point(&mut self, x: u16, y: u16) -> std::io::Result<()> {
        let mut m = vec![5, 0];
        m.extend_from_slice(&x.to_be_bytes());
        m.extend_from_slice(&y.to_be_bytes());
        self.writer.write_all(&m)
    }

    /// Reads messages until a FramebufferUpdate has been read and applied.
    pub fn next_update(&mut self) -> std::io::Result<()> {
        loop {
            match self.u8()? {
                0 => {
                    self.u8()?;
                    let count = self.u16()?;
                    for _ in 0..count {
                        self.rectangle()?;
                    }
                    return Ok(());
                }
                1 => {
                    self.u8()?;
                    self.u16()?;
                    let n = usize::from(self.u16()?);
                    self.bytes(6 * n)?;
                }
                2 => {}
                3 => {
                    self.bytes(3)?;
                    let n = self.u32()? as usize;
                    self.bytes(n)?;
                }
                other => panic!("unknown server message {other}"),
            }
        }
    }

    /// The pixel at (`x`, `y`).
    pub fn pixel(&self, x: usize, y: usize) -> u32 {
        self.pixels[y * usize::from(self.width) + x]
    }

    fn rectangle(&mut self) -> std::io::Result<()> {
        let (x, y, w, h) = (self.u16()?, self.u16()?, self.u16()?, self.u16()?);
        let encoding = self.u32()? as i32;
        let (x, y, w, h) = (usize::from(x), usize::from(y), usize::from(w), usize::from(h));
        match encoding {
            RAW => {
                let bytes = self.format.bytes;
                let mut data = std::mem::take(&mut self.data);
                self.read_into(w * h * bytes, &mut data)?;
                self.paint(x, y, w, h, |i| pixel(&data[i * bytes..], bytes));
                self.data = data;
            }
            COPY_RECT => {
                let (sx, sy) = (usize::from(self.u16()?), usize::from(self.u16()?));
                let stride = usize::from(self.width);
                // Overlapping source and destination: copy rows in the order that reads each before it is written.
                let rows: Box<dyn Iterator<Item = usize>> =
                    if sy < y { Box::new((0..h).rev()) } else { Box::new(0..h) };
                for r in rows {
                    let from = (sy + r) * stride + sx;
                    self.pixels.copy_within(from..from + w, (y + r) * stride + x);
                }
            }
            ZRLE => {
                let length = self.u32()? as usize;
                let mut data = std::mem::take(&mut self.data);
                self.read_into(length, &mut data)?;
                let mut inflated = std::mem::take(&mut self.inflated);
                inflate(&mut self.zrle, &data, &mut inflated, None);
                self.zrle_tiles(&inflated, x, y, w, h);
                self.inflated = inflated;
                self.data = data;
            }
            TIGHT => self.tight(x, y, w, h)?,
            -223 | -224 | -308 => {}
            other => panic!("unexpected encoding {other}"),
        }
        Ok(())
    }

    /// Paints `w` x `h` pixels at (`x`, `y`), the `i`th (row by row) being `colour(i)`.
    fn paint(&mut self, x: usize, y: usize, w: usize, h: usize, mut colour: impl FnMut(usize) -> u32) {
        let stride = usize::from(self.width);
        for r in 0..h {
            let row = &mut self.pixels[(y + r) * stride + x..][..w];
            for (i, p) in row.iter_mut().enumerate() {
                *p = colour(r * w + i);
            }
        }
    }

    /// Decodes ZRLE's 64x64 tiles (inflated `data`) straight into the framebuffer.
    fn zrle_tiles(&mut self, data: &[u8], x: usize, y: usize, w: usize, h: usize) {
        let cpixel = self.format.cpixel();
        let stride = usize::from(self.width);
        let mut at = 0;
        let mut palette = [0u32; 127];
        for ty in (0..h).step_by(64) {
            for tx in (0..w).step_by(64) {
                let (tw, th) = (64.min(w - tx), 64.min(h - ty));
                let origin = (y + ty) * stride + x + tx;
                let sub = data[at];
                at += 1;
                match sub {
                    0 => {
                        for r in 0..th {
                            let row = &mut self.pixels[origin + r * stride..][..tw];
                            for (i, p) in row.iter_mut().enumerate() {
                                *p = pixel(&data[at + i * cpixel..], cpixel);
                            }
                            at += tw * cpixel;
                        }
                    }
                    1 => {
                        let p = pixel(&data[at..], cpixel);
                        at += cpixel;
                        for r in 0..th {
                            self.pixels[origin + r * stride..][..tw].fill(p);
                        }
                    }
                    2..=16 => {
                        let n = usize::from(sub);
                        for (i, p) in palette[..n].iter_mut().enumerate() {
                            *p = pixel(&data[at + i * cpixel..], cpixel);
                        }
                        at += n * cpixel;
                        let bits = match sub {
                            2 => 1,
                            3 | 4 => 2,
                            _ => 4,
                        };
                        let mask = (1u8 << bits) - 1;
                        let row_bytes = (tw * bits).div_ceil(8);
                        for r in 0..th {
                            let packed = &data[at..at + row_bytes];
                            let row = &mut self.pixels[origin + r * stride..][..tw];
                            for (i, p) in row.iter_mut().enumerate() {
                                let bit = i * bits;
                                let index = (packed[bit / 8] >> (8 - bits - bit % 8)) & mask;
                                *p = palette[usize::from(index)];
                            }
                            at += row_bytes;
                        }
                    }
                    128 | 130..=255 => {
                        let n = usize::from(sub - 128);
                        for (i, p) in palette[..n].iter_mut().enumerate() {
                            *p = pixel(&data[at + i * cpixel..], cpixel);
                        }
                        at += n * cpixel;
                        // Runs fill the tile row by row.
                        let (mut r, mut c) = (0, 0);
                        while r < th {
                            let (p, run) = if sub == 128 {
                                at += cpixel;
                                (pixel(&data[at - cpixel..], cpixel), true)
                            } else {
                                let index = data[at];
                                at += 1;
                                (palette[usize::from(index & 127)], index & 128 != 0)
                            };
                            let mut length = 1;
                            if run {
                                loop {
                                    let b = data[at];
                                    at += 1;
                                    length += usize::from(b);
                                    if b != 255 {
                                        break;
                                    }
                                }
                            }
                            while length > 0 {
                                assert!(r < th, "a ZRLE run past its tile");
                                let span = length.min(tw - c);
                                self.pixels[origin + r * stride + c..][..span].fill(p);
                                length -= span;
                                c += span;
                                if c == tw {
                                    (r, c) = (r + 1, 0);
                                }
                            }
                        }
                    }
                    other => panic!("ZRLE subencoding {other}"),
                }
            }
        }
        assert_eq!(at, data.len(), "ZRLE data past its tiles");
    }

    fn tpixel(&mut self) -> std::io::Result<u32> {
        if self.format.tpixel_rgb() {
            let b: [u8; 3] = self.array()?;
            Ok(u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]))
        } else {
            let mut b = [0u8; 4];
            self.reader.read_exact(&mut b[..self.format.bytes])?;
            Ok(u32::from_le_bytes(b))
        }
    }

    fn tight(&mut self, x: usize, y: usize, w: usize, h: usize) -> std::io::Result<()> {
        let control = self.u8()?;
        for (i, stream) in self.tight.iter_mut().enumerate() {
            if control & (1 << i) != 0 {
                stream.reset(true);
            }
        }
        let kind = control >> 4;
        if kind == 8 {
            let p = self.tpixel()?;
            self.paint(x, y, w, h, |_| p);
            return Ok(());
        }
        assert!(kind < 8, "Tight JPEG or unknown compression {kind}");
        let filter = if kind & 4 != 0 { self.u8()? } else { 0 };
        let palette = if filter == 1 {
            let n = usize::from(self.u8()?) + 1;
            (0..n).map(|_| self.tpixel()).collect::<std::io::Result<Vec<u32>>>()?
        } else {
            assert_eq!(filter, 0, "Tight gradient filter");
            Vec::new()
        };
        let tpixel = if self.format.tpixel_rgb() { 3 } else { self.format.bytes };
        let size = match palette.len() {
            0 => w * h * tpixel,
            2 => w.div_ceil(8) * h,
            _ => w * h,
        };
        let mut data = std::mem::take(&mut self.inflated);
        if size < 12 {
            self.read_into(size, &mut data)?;
        } else {
            let length = self.compact_length()?;
            let mut compressed = std::mem::take(&mut self.data);
            self.read_into(length, &mut compressed)?;
            inflate(&mut self.tight[usize::from(kind & 3)], &compressed, &mut data, Some(size));
            self.data = compressed;
        }
        assert_eq!(data.len(), size, "Tight data of the wrong size");
        match palette.len() {
            0 if tpixel == 3 => self.paint(x, y, w, h, |i| {
                let b = &data[i * 3..];
                u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2])
            }),
            0 => self.paint(x, y, w, h, |i| pixel(&data[i * tpixel..], tpixel)),
            2 => {
                let row_bytes = w.div_ceil(8);
                let stride = usize::from(self.width);
                for r in 0..h {
                    let packed = &data[r * row_bytes..];
                    let row = &mut self.pixels[(y + r) * stride + x..][..w];
                    for (i, p) in row.iter_mut().enumerate() {
                        *p = palette[usize::from((packed[i / 8] >> (7 - i % 8)) & 1)];
                    }
                }
            }
            _ => self.paint(x, y, w, h, |i| palette[usize::from(data[i])]),
        }
        self.inflated = data;
        Ok(())
    }

    fn compact_length(&mut self) -> std::io::Result<usize> {
        let mut length = 0;
        for i in 0..3 {
            let b = self.u8()?;
            let bits = if i == 2 { usize::from(b) } else { usize::from(b & 0x7f) };
            length |= bits << (7 * i);
            if b & 0x80 == 0 || i == 2 {
                break;
            }
        }
        Ok(length)
    }

    /// Reads `n` bytes into `buffer` (its old contents dropped, its allocation kept).
    fn read_into(&mut self, n: usize, buffer: &mut Vec<u8>) -> std::io::Result<()> {
        buffer.clear();
        buffer.resize(n, 0);
        self.reader.read_exact(buffer)
    }

    fn bytes(&mut self, n: usize) -> std::io::Result<Vec<u8>> {
        let mut b = vec![0; n];
        self.reader.read_exact(&mut b)?;
        Ok(b)
    }

    fn array<const N: usize>(&mut self) -> std::io::Result<[u8; N]> {
        let mut b = [0; N];
        self.reader.read_exact(&mut b)?;
        Ok(b)
    }

    fn u8(&mut self) -> std::io::Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> std::io::Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> std::io::Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }
}

/// A little-endian pixel of `bytes` (1 to 4) bytes at the start of `b`.
fn pixel(b: &[u8], bytes: usize) -> u32 {
    match bytes {
        4 => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        3 => u32::from_le_bytes([b[0], b[1], b[2], 0]),
        2 => u32::from(u16::from_le_bytes([b[0], b[1]])),
        _ => u32::from(b[0]),
    }
}

/// Inflates all of `data` (exactly `size` bytes out, if given) into `out`.
fn inflate(stream: &mut Decompress, data: &[u8], out: &mut Vec<u8>, size: Option<usize>) {
    out.clear();
    let start = stream.total_in();
    loop {
        if out.capacity() - out.len() < 1 << 16 {
            out.reserve(1 << 16);
        }
        let before = (stream.total_in(), stream.total_out());
        let consumed = (stream.total_in() - start) as usize;
        stream.decompress_vec(&data[consumed..], out, FlushDecompress::Sync).expect("the zlib data inflates");
        let done = (stream.total_in() - start) as usize == data.len();
        let progress = (stream.total_in(), stream.total_out()) != before;
        if (done && out.capacity() > out.len()) || !progress {
            break;
        }
    }
    if let Some(size) = size {
        assert_eq!(out.len(), size, "inflated to the wrong size");
    }
}
