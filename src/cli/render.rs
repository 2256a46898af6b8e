//! `vcmux render`: the final screen of a byte stream, offline, through the same
//! terminal emulator as the vc backend.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::config::MAX_VC_CELLS;
use crate::term::Terminal;

/// `vcmux render`'s options.
#[derive(Debug, Args)]
#[command(about = "The final screen of a byte stream (a console log, a recording), as text or ANSI")]
pub struct RenderArgs {
    /// The byte stream: a file, or - for stdin.
    pub input: PathBuf,
    /// Where to write the screen (default: stdout).
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Terminal width in cells.
    #[arg(long, default_value_t = 80, value_parser = clap::value_parser!(u16).range(2..=i64::from(MAX_VC_CELLS)))]
    pub cols: u16,
    /// Terminal height in cells.
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u16).range(2..=i64::from(MAX_VC_CELLS)))]
    pub rows: u16,
    /// txt (plain text) or ansi (text with SGR colours); default: from OUT's
    /// extension, else txt.
    #[arg(long)]
    pub format: Option<Format>,
}

/// The forms a screen can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One line a row, trailing blanks trimmed.
    Txt,
    /// The same with SGR sequences for colours and attributes.
    Ansi,
}

/// Why `vcmux render` failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The output's extension names no format and `--format` was not given.
    #[error("cannot tell the format of {0}: use --format txt|ansi")]
    UnknownFormat(PathBuf),
    /// The input could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The input.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
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
    /// Usage errors exit 2, I/O failures 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            RenderError::UnknownFormat(_) => 2,
            RenderError::Read { .. } | RenderError::Write { .. } => 1,
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
            _ => Err(RenderError::UnknownFormat(output.clone())),
        }
    }
}

/// Runs `vcmux render`.
pub fn run(args: &RenderArgs) -> Result<(), RenderError> {
    let format = args.format()?;
    let bytes =
        read_input(&args.input).map_err(|source| RenderError::Read { path: args.input.clone(), source })?;
    let mut terminal = Terminal::new(args.cols, args.rows, 0);
    terminal.advance(&bytes);
    let screen = match format {
        Format::Txt => terminal.screen_text(),
        Format::Ansi => terminal.screen_ansi(),
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, screen).map_err(|source| RenderError::Write { path: path.clone(), source })
        }
        None => io::stdout()
            .write_all(screen.as_bytes())
            .map_err(|source| RenderError::Write { path: PathBuf::from("stdout"), source }),
    }
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
