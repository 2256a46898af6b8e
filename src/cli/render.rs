//! `vcmux render`: the final screen of a byte stream (or of an asciicast
//! recording at a given moment), offline, through the same terminal emulator
//! and renderer as the vc backend: as text, text with colours, or a PNG whose
//! pixels are those a VNC viewer of the vc would see; or a whole recording as
//! an animated GIF (`animation.rs`).

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::animation::{self, MAX_FPS, Timing};
use super::asciicast::{self, clamp_cells};
use crate::chardev::file;
use crate::config::MAX_VC_CELLS;
use crate::render::{self, FontConfig, Renderer};
use crate::term::Terminal;
use crate::term::Theme;

/// `vcmux render`'s options.
#[derive(Debug, Args)]
#[command(about = "The final screen of a byte stream or an asciicast recording, as text, ANSI or PNG; \
             a whole recording as an animated GIF")]
pub struct RenderArgs {
    /// The byte stream or asciicast v2 recording (.cast): a file, or - for stdin.
    pub input: PathBuf,
    /// Where to write the screen (default: stdout).
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Terminal width in cells (default: the recording's, else 80).
    #[arg(long, value_parser = clap::value_parser!(u16).range(2..=i64::from(MAX_VC_CELLS)))]
    pub cols: Option<u16>,
    /// Terminal height in cells (default: the recording's, else 24).
    #[arg(long, value_parser = clap::value_parser!(u16).range(2..=i64::from(MAX_VC_CELLS)))]
    pub rows: Option<u16>,
    /// txt (plain text), ansi (text with SGR colours), png, or gif (a whole
    /// asciicast recording, animated); default: from OUT's extension, else txt.
    #[arg(long)]
    pub format: Option<Format>,
    /// For an asciicast recording: the screen at this many seconds in
    /// (default: at its end); for a GIF, where the animation stops.
    #[arg(long, value_name = "SECONDS")]
    pub at: Option<f64>,
    /// GIF: at most this many frames a second, 1 to 50 (default 30); a frame
    /// is made only when the screen changed.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=i64::from(MAX_FPS)))]
    pub fps: Option<u16>,
    /// GIF: play this many times faster (default 1; 0.5 is half speed).
    #[arg(long, value_name = "X", value_parser = positive, allow_hyphen_values = true)]
    pub speed: Option<f64>,
    /// GIF: cut any pause longer than this many seconds to it (default 5).
    #[arg(long, value_name = "SECONDS", value_parser = positive, allow_hyphen_values = true)]
    pub idle_limit: Option<f64>,
    /// For a log written with the file backend's timestamps=on: drop the UTC
    /// time (2026-11-25T19:43:43.123Z ) it put at the start of each line.
    #[arg(long)]
    pub strip_timestamps: bool,
    /// PNG: font size in pixels (the vc's font-size=).
    #[arg(long, value_name = "PX", default_value_t = render::DEFAULT_SIZE)]
    pub font_size: f32,
    /// PNG: a TrueType/OpenType font file instead of the built-in DejaVu Sans
    /// Mono (the vc's font=).
    #[arg(long, value_name = "FILE")]
    pub font: Option<PathBuf>,
    /// PNG: default colours, dark (light grey on black, as a VM console; the
    /// vc's default) or xterm (black on white).
    #[arg(long, default_value = "dark")]
    pub theme: Theme,
}

/// The forms a screen can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One line a row, trailing blanks trimmed.
    Txt,
    /// The same with SGR sequences for colours and attributes.
    Ansi,
    /// The rendered screen, as the vc shows it over VNC.
    Png,
    /// A whole asciicast recording as an animated GIF.
    Gif,
}

/// The GIF defaults, agg's.
const DEFAULT_FPS: u16 = 30;
const DEFAULT_SPEED: f64 = 1.0;
const DEFAULT_IDLE_LIMIT: f64 = 5.0;

/// A number above 0 (`--speed`, `--idle-limit`).
fn positive(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err("it must be a number above 0".to_string()),
    }
}

/// Why `vcmux render` failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The output's extension names no format and `--format` was not given.
    #[error("cannot tell the format of {0}: use --format txt|ansi|png|gif")]
    UnknownFormat(PathBuf),
    /// `--at` was given for an input that is not a recording.
    #[error("--at is for asciicast recordings, and {0} is not one")]
    AtWithoutCast(PathBuf),
    /// A GIF was asked of an input that is not a recording.
    #[error("a GIF is made from an asciicast recording, and {0} is not one")]
    GifWithoutCast(PathBuf),
    /// A GIF option was given for another format.
    #[error("{0} is for GIF output (-o OUT.gif or --format gif)")]
    GifOption(&'static str),
    /// The GIF could not be made.
    #[error("{path}: {source}")]
    Animation {
        /// The input.
        path: PathBuf,
        /// Why.
        source: animation::AnimationError,
    },
    /// `--strip-timestamps` was given for an asciicast recording.
    #[error("--strip-timestamps is for logs written with timestamps=on, and {0} is an asciicast recording")]
    StripCast(PathBuf),
    /// The input could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The input.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The recording is not valid asciicast v2.
    #[error("{path}: line {line}: {reason}")]
    Cast {
        /// The input.
        path: PathBuf,
        /// The line at fault, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The font could not be used.
    #[error(transparent)]
    Font(#[from] render::FontError),
    /// The screen is larger than a PNG of this font size can be.
    #[error("{cols}x{rows} cells at this font size do not fit 65535 pixels")]
    TooLarge {
        /// Columns.
        cols: u16,
        /// Rows.
        rows: u16,
    },
    /// The PNG could not be made.
    #[error(transparent)]
    Png(#[from] crate::frame::png::PngError),
    /// The output could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The output.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

impl RenderError {
    /// Usage errors exit 2, failures to read, parse or write 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            RenderError::UnknownFormat(_)
            | RenderError::AtWithoutCast(_)
            | RenderError::StripCast(_)
            | RenderError::GifWithoutCast(_)
            | RenderError::GifOption(_)
            | RenderError::Font(_)
            | RenderError::TooLarge { .. } => 2,
            RenderError::Read { .. }
            | RenderError::Cast { .. }
            | RenderError::Png(_)
            | RenderError::Animation { .. }
            | RenderError::Write { .. } => 1,
        }
    }
}

impl RenderArgs {
    /// The format to write: `--format`, else OUT's extension, else txt.
    fn format(&self) -> Result<Format, RenderError> {
        if let Some(format) = self.format {
            return Ok(format);
        }
        let Some(output) = &self.output else { return Ok(Format::Txt) };
        match output.extension().and_then(|e| e.to_str()) {
            Some("txt") => Ok(Format::Txt),
            Some("ansi") => Ok(Format::Ansi),
            Some("png") => Ok(Format::Png),
            Some("gif") => Ok(Format::Gif),
            _ => Err(RenderError::UnknownFormat(output.clone())),
        }
    }
}

/// Runs `vcmux render`.
pub fn run(args: &RenderArgs) -> Result<(), RenderError> {
    let format = args.format()?;
    if format != Format::Gif {
        let given = [
            ("--fps", args.fps.is_some()),
            ("--speed", args.speed.is_some()),
            ("--idle-limit", args.idle_limit.is_some()),
        ];
        if let Some((option, _)) = given.into_iter().find(|(_, given)| *given) {
            return Err(RenderError::GifOption(option));
        }
    }
    let bytes =
        read_input(&args.input).map_err(|source| RenderError::Read { path: args.input.clone(), source })?;
    let mut terminal = match asciicast::header(&bytes) {
        Some(_) if args.strip_timestamps => return Err(RenderError::StripCast(args.input.clone())),
        Some(header) => {
            let header =
                header.map_err(|reason| RenderError::Cast { path: args.input.clone(), line: 1, reason })?;
            let cols = args.cols.unwrap_or(clamp_cells(header.width));
            let rows = args.rows.unwrap_or(clamp_cells(header.height));
            let mut terminal = Terminal::new(cols, rows, 0);
            terminal.set_theme(args.theme);
            if format == Format::Gif {
                return gif(args, &bytes, &mut terminal);
            }
            asciicast::play(&bytes, args.at, &mut terminal).map_err(|(line, reason)| RenderError::Cast {
                path: args.input.clone(),
                line,
                reason,
            })?;
            terminal
        }
        None if args.input.extension().is_some_and(|e| e == "cast") => {
            return Err(RenderError::Cast {
                path: args.input.clone(),
                line: 1,
                reason: "not an asciicast v2 header (a JSON object with \"version\": 2)".to_string(),
            });
        }
        None if format == Format::Gif => return Err(RenderError::GifWithoutCast(args.input.clone())),
        None if args.at.is_some() => return Err(RenderError::AtWithoutCast(args.input.clone())),
        None => {
            let mut terminal = Terminal::new(args.cols.unwrap_or(80), args.rows.unwrap_or(24), 0);
            terminal.set_theme(args.theme);
            if args.strip_timestamps {
                terminal.advance(&file::strip_timestamps(&bytes));
            } else {
                terminal.advance(&bytes);
            }
            terminal
        }
    };
    let screen = match format {
        Format::Txt => terminal.screen_text().into_bytes(),
        Format::Ansi => terminal.screen_ansi().into_bytes(),
        // A GIF was made above, from a recording, or refused.
        Format::Png | Format::Gif => {
            let mut renderer = renderer(args, &terminal)?;
            renderer.render(&mut terminal, true);
            crate::frame::png::encode(renderer.framebuffer())?
        }
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, screen).map_err(|source| RenderError::Write { path: path.clone(), source })
        }
        None => io::stdout()
            .write_all(&screen)
            .map_err(|source| RenderError::Write { path: PathBuf::from("stdout"), source }),
    }
}

/// The renderer for `terminal`'s screen at `--font-size`/`--font`.
fn renderer(args: &RenderArgs, terminal: &Terminal) -> Result<Renderer, RenderError> {
    let renderer = Renderer::new(&FontConfig { size: args.font_size, path: args.font.clone() })?;
    let (cols, rows) = (terminal.cols(), terminal.rows());
    if renderer.frame_size(cols, rows).is_none() {
        return Err(RenderError::TooLarge { cols, rows });
    }
    Ok(renderer)
}

/// The whole recording as a GIF, to OUT or stdout, with a line of progress
/// every few seconds and a summary on stderr.
fn gif(args: &RenderArgs, bytes: &[u8], terminal: &mut Terminal) -> Result<(), RenderError> {
    let mut renderer = renderer(args, terminal)?;
    let timing = Timing {
        fps: args.fps.unwrap_or(DEFAULT_FPS),
        speed: args.speed.unwrap_or(DEFAULT_SPEED),
        idle_limit: args.idle_limit.unwrap_or(DEFAULT_IDLE_LIMIT),
        until: args.at,
    };
    let (name, sink): (PathBuf, Box<dyn Write>) = match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|source| RenderError::Write { path: path.clone(), source })?;
            (path.clone(), Box::new(file))
        }
        None => (PathBuf::from("stdout"), Box::new(io::stdout())),
    };
    let mut out = io::BufWriter::new(sink);
    let started = std::time::Instant::now();
    let progress = |seconds: f64, frames: u64| {
        eprintln!("vcmux render: {seconds:.1} s of the recording, {frames} frames so far");
    };
    let made = animation::animate(bytes, terminal, &mut renderer, args.theme, timing, &mut out, progress)
        .map_err(|source| RenderError::Animation { path: args.input.clone(), source })?;
    out.flush().map_err(|source| RenderError::Write { path: name.clone(), source })?;
    eprintln!(
        "vcmux render: {}: {} frames, {:.2} s, made in {:.1} s",
        name.display(),
        made.frames,
        made.seconds,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn read_input(path: &Path) -> io::Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        io::stdin().read_to_end(&mut bytes)?;
        Ok(bytes)
    } else {
        std::fs::read(path)
    }
}
