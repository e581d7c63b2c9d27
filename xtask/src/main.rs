//! Project automation in the cargo-xtask pattern: `cargo xtask <command>`.
//!
//! - `ci`: everything CI checks (fmt, clippy `-D warnings`, `cargo test --workspace`, the `lapack`
//!   feature's tests when a system LAPACK is present, and a type-check of the `cuda` feature).
//!
//! - `gen-data`: the standard dataset suite into `data/`, any system, shards (`--shard i/n`) and
//!   `gen-data merge`.
//!
//! - `reproduce hnn|lnn|flows|boltzmann|generative`: a paper's experiments, written to
//!   `docs/results/<paper>.md` with their plots.
//!
//! - `bench-report`: the criterion suite and the peer scripts, back to back in rounds, written to
//!   `docs/BENCHMARKS.md`.

mod bench_report;
mod ci;
mod gen_data;
mod reproduce;
mod stats;
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
    /// Generate datasets (the standard suite without arguments).
    GenData(Box<gen_data::GenDataArgs>),
    /// Reproduce a paper's experiments (tables and plots generated, never typed).
    Reproduce(Box<reproduce::ReproduceArgs>),
    /// Run the benches and the peers back to back and regenerate docs/BENCHMARKS.md.
    BenchReport(bench_report::BenchReportArgs),
}

fn main() -> ExitCode {
    // Training steps reuse their freed buffers instead of page-faulting fresh ones each step.
    liouville_tensor::host_memory::keep_freed_memory();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ci(args) => ci::run(&args).map_err(|e| e.to_string()),
        Command::GenData(args) => gen_data::run(&args).map_err(|e| e.to_string()),
        Command::Reproduce(args) => reproduce::run(&args),
        Command::BenchReport(args) => bench_report::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
