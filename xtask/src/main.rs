//! Project automation in the cargo-xtask pattern: `cargo xtask <command>`.
//!
//! - `ci`: everything CI checks (fmt, clippy `-D warnings`, `cargo test --workspace`, the `lapack`
//!   feature's tests when a system LAPACK is present, and a type-check of the `cuda` feature).
//!
//! `gen-data` and `reproduce` arrive with the liouville-sim and liouville-dynamics issues.

mod ci;
#[cfg(test)]
mod tidy;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "xtask", about = "Liouville project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every check CI runs.
    Ci(ci::CiArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ci(args) => ci::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
