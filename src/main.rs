//! The `vcmux` binary: reads the command line, runs the configuration, exits with
//! the console's status. Everything it does lives in the library.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use tracing_subscriber::EnvFilter;
use vcmux::cli::{self, Parsed, Tool};

fn main() -> ExitCode {
    return_large_buffers();
    let cli = match cli::parse(std::env::args_os()) {
        Parsed::Run(cli) => cli,
        Parsed::Print(text) => {
            println!("{}", text.trim_end());
            return ExitCode::SUCCESS;
        }
        Parsed::Error(message) => return usage_error(&message),
    };
    match &cli.tool {
        Some(Tool::Render(args)) => {
            return match cli::render::run(args) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("vcmux render: {e}");
                    ExitCode::from(e.exit_code())
                }
            };
        }
        Some(Tool::Screenshot(args)) => {
            return match cli::screenshot::run(args) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("vcmux screenshot: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(Tool::Ctl(args)) => {
            return match cli::ctl::run(args, &mut std::io::stdout().lock()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("vcmux ctl: {e}");
                    ExitCode::from(e.exit_code())
                }
            };
        }
        Some(Tool::Certs(args)) => {
            return match cli::certs::run(args) {
                Ok(written) => {
                    println!("{written}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("vcmux certs: {e}");
                    ExitCode::from(2)
                }
            };
        }
        None => {}
    }
    let config = match cli.config() {
        Ok(config) => config,
        Err(e) => return usage_error(&e.to_string()),
    };
    init_logging();
    let code = match run(config) {
        Ok(code) => code,
        // It could not start as configured: nothing ran.
        Err(e) => {
            eprintln!("vcmux: {e:#}");
            2
        }
    };
    vcmux::chardev::stdio::restore_terminal();
    std::process::exit(code)
}

fn run(config: vcmux::config::Config) -> anyhow::Result<i32> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let code = runtime.block_on(vcmux::launch::run(config));
    // Every backend is flushed by now; a thread still blocked reading stdin must
    // not keep vcmux alive.
    runtime.shutdown_background();
    Ok(code?)
}

/// A bad command line: one line naming the problem, exit status 2.
fn usage_error(message: &str) -> ExitCode {
    eprintln!("vcmux: {message}");
    ExitCode::from(2)
}

fn init_logging() {
    // rustls warns of every viewer that names an IP address in SNI
    // (TigerVNC does) and ignores it: noise at info, there at RUST_LOG=rustls=warn.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,rustls=error"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// Makes glibc's malloc hand buffers of 256 KiB and more (a viewer's update, a
/// paste) back to the system when they are freed. By default the threshold
/// grows with the largest buffer freed, after which such buffers stay in the
/// heap, and a burst of viewers' updates would keep the process's resident
/// memory up long after it is over.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_buffers() {
    // SAFETY: mallopt only sets a parameter of malloc; no other thread runs yet.
    unsafe {
        nix::libc::mallopt(nix::libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_buffers() {}
