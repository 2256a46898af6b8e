//! `vcmux render REC.cast -o out.gif`: a whole asciicast recording as an
//! animated GIF, drawn by the same terminal emulator and renderer as the vc,
//! so each frame is what a VNC viewer would have seen at that moment.
//!
//! Timing follows agg (asciinema's GIF generator): at most `fps` frames a
//! second, a frame only when the screen changed, each frame shown until the
//! next change; a pause longer than the idle limit is cut to it, and then
//! everything is sped up by `speed`. Frames are streamed to the encoder, one
//! held back until the next one's time gives its delay, so memory stays at
//! two frames whatever the recording's length.
//!
//! Colours: the `image` crate's GIF encoder gives each frame an exact palette
//! when it has at most 256 colours (a text console nearly always does: a few
//! colours and their anti-aliased blends) and falls back to its NeuQuant
//! quantiser otherwise.

use std::io::Write;
use std::time::Instant;

use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, Frame, RgbaImage};

use super::asciicast::{self, Event, EventKind};
use crate::frame::Framebuffer;
use crate::render::Renderer;
use crate::term::{Terminal, Theme};

/// The most frames a second: GIF delays are in hundredths of a second, and
/// browsers slow down any delay under two of them.
pub const MAX_FPS: u16 = 50;

/// The NeuQuant speed for frames of more than 256 colours (1 best, 30 fastest).
const QUANTISER_SPEED: i32 = 10;

/// How a recording's time becomes the GIF's.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// The most frames a second.
    pub fps: u16,
    /// Played this many times faster.
    pub speed: f64,
    /// A pause longer than this many seconds (before `speed`) is cut to it.
    pub idle_limit: f64,
    /// Stop at this many seconds of the recording (default: its end).
    pub until: Option<f64>,
}

/// What was made, for the summary line.
#[derive(Debug, Clone, Copy)]
pub struct Made {
    /// Frames written.
    pub frames: u64,
    /// The animation's length in seconds.
    pub seconds: f64,
}

/// Why the GIF could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AnimationError {
    /// A line of the recording is not a valid event.
    #[error("line {0}: {1}")]
    Cast(usize, String),
    /// The encoder failed (or could not write).
    #[error("GIF: {0}")]
    Gif(#[from] image::ImageError),
    /// A frame would be larger than a GIF can be.
    #[error("a {0}x{1} pixel frame is larger than a GIF can hold")]
    TooLarge(u32, u32),
}

/// Plays `bytes` (a recording whose header gave `terminal` its size) into a
/// GIF written to `out`. `progress` is called now and then with the
/// recording's seconds done so far.
pub fn animate(
    bytes: &[u8],
    terminal: &mut Terminal,
    renderer: &mut Renderer,
    theme: Theme,
    timing: Timing,
    out: impl Write,
    mut progress: impl FnMut(f64, u64),
) -> Result<Made, AnimationError> {
    let canvas = canvas_size(bytes, terminal, renderer, timing.until)?;
    let mut sink = Sink::new(out, canvas, theme)?;
    let interval = 1.0 / f64::from(timing.fps.max(1));

    // The GIF's clock, the recording's last event time, and the frame slot
    // (a multiple of `interval`) whose events are being gathered.
    let (mut clock, mut last) = (0.0f64, 0.0f64);
    let mut gathering: Option<u64> = None;
    let mut reported = Instant::now();
    for event in asciicast::events(bytes) {
        let Event { time, kind } = event.map_err(|(line, reason)| AnimationError::Cast(line, reason))?;
        if timing.until.is_some_and(|until| time > until) {
            break;
        }
        let gap = (time - last).max(0.0);
        last = last.max(time);
        clock += gap.min(timing.idle_limit) / timing.speed;
        if matches!(kind, EventKind::Other) {
            continue;
        }
        // A hair over, so that a time on a slot's edge (0.5 s at 30 fps) is in it.
        let slot = (clock / interval + 1e-9).floor() as u64;
        if let Some(gathered) = gathering
            && gathered < slot
        {
            sink.capture(terminal, renderer, gathered as f64 * interval)?;
        }
        kind.apply(terminal);
        gathering = Some(slot);
        if reported.elapsed().as_secs() >= 2 {
            progress(time, sink.frames);
            reported = Instant::now();
        }
    }
    // The last slot's screen (for a recording without output, the empty one).
    sink.capture(terminal, renderer, gathering.unwrap_or(0) as f64 * interval)?;
    // The last frame stays up as long as the longest pause may.
    sink.finish(timing.idle_limit / timing.speed)
}

/// The GIF's size: the largest screen the recording has (up to `until`), so
/// that a resize never falls outside it.
fn canvas_size(
    bytes: &[u8],
    terminal: &Terminal,
    renderer: &Renderer,
    until: Option<f64>,
) -> Result<(u16, u16), AnimationError> {
    let mut sizes = vec![(terminal.cols(), terminal.rows())];
    for event in asciicast::events(bytes) {
        let Event { time, kind } = event.map_err(|(line, reason)| AnimationError::Cast(line, reason))?;
        if until.is_some_and(|until| time > until) {
            break;
        }
        if let EventKind::Resize(cols, rows) = kind {
            sizes.push((cols, rows));
        }
    }
    let (mut width, mut height) = (0u16, 0u16);
    for (cols, rows) in sizes {
        let (cell_w, cell_h) = renderer.cell_size();
        let Some((w, h)) = renderer.frame_size(cols, rows) else {
            return Err(AnimationError::TooLarge(
                u32::from(cols) * u32::from(cell_w),
                u32::from(rows) * u32::from(cell_h),
            ));
        };
        (width, height) = (width.max(w), height.max(h));
    }
    Ok((width, height))
}

/// The encoder, and the frame held back until the next one's time is known.
struct Sink<W: Write> {
    encoder: GifEncoder<W>,
    size: (u16, u16),
    /// What a screen smaller than the GIF leaves around it.
    background: [u8; 4],
    /// The last frame made, and its time in hundredths of a second.
    held: Option<(RgbaImage, u64)>,
    frames: u64,
}

impl<W: Write> Sink<W> {
    fn new(out: W, size: (u16, u16), theme: Theme) -> Result<Self, AnimationError> {
        let mut encoder = GifEncoder::new_with_speed(out, QUANTISER_SPEED);
        encoder.set_repeat(Repeat::Infinite)?;
        let (r, g, b) = theme.background();
        Ok(Sink { encoder, size, background: [r, g, b, 255], held: None, frames: 0 })
    }

    /// Renders the screen at `time` (GIF seconds) and, when it changed, makes
    /// it the next frame, writing the one held back.
    fn capture(
        &mut self,
        terminal: &mut Terminal,
        renderer: &mut Renderer,
        time: f64,
    ) -> Result<(), AnimationError> {
        let changed = !renderer.render(terminal, true).is_empty();
        if !changed && self.held.is_some() {
            return Ok(());
        }
        let image = self.image(renderer.framebuffer());
        let at = (time * 100.0).round() as u64;
        if let Some((previous, since)) = self.held.replace((image, at)) {
            self.write(previous, at.saturating_sub(since))?;
        }
        Ok(())
    }

    /// The framebuffer on the GIF's canvas, from its top left corner.
    fn image(&self, fb: &Framebuffer) -> RgbaImage {
        let (width, height) = (u32::from(self.size.0), u32::from(self.size.1));
        let mut image = RgbaImage::from_pixel(width, height, image::Rgba(self.background));
        for y in 0..fb.height().min(self.size.1) {
            let row = fb.row(y);
            for (x, &p) in row.iter().enumerate().take(usize::from(self.size.0)) {
                let pixel = image::Rgba([(p >> 16) as u8, (p >> 8) as u8, p as u8, 255]);
                image.put_pixel(x as u32, u32::from(y), pixel);
            }
        }
        image
    }

    fn write(&mut self, image: RgbaImage, hundredths: u64) -> Result<(), AnimationError> {
        let delay = Delay::from_numer_denom_ms(u32::try_from(hundredths * 10).unwrap_or(u32::MAX), 1);
        self.encoder.encode_frame(Frame::from_parts(image, 0, 0, delay))?;
        self.frames += 1;
        Ok(())
    }

    /// Writes the frame held back, shown for `last` seconds, and ends the GIF.
    fn finish(mut self, last: f64) -> Result<Made, AnimationError> {
        let mut end = 0;
        if let Some((image, at)) = self.held.take() {
            let hundredths = ((last * 100.0).round() as u64).max(1);
            self.write(image, hundredths)?;
            end = at + hundredths;
        }
        // Dropping the encoder writes the GIF's trailer.
        drop(self.encoder);
        Ok(Made { frames: self.frames, seconds: end as f64 / 100.0 })
    }
}
