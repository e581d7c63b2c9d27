//! The `liouville` command-line tool. Without arguments it runs the main job.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use liouville::showcase::{self, KeplerShowcase};

#[derive(Parser)]
#[command(
    name = "liouville",
    version,
    about = "Physics-informed machine learning: simulate, learn, sample"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Directory for plots and reports.
    #[arg(long, global = true, default_value = "out")]
    out: PathBuf,
    /// No progress bars.
    #[arg(long, global = true)]
    quiet: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Every integrator on the Kepler problem: energy, angular momentum and position errors,
    /// work, and an energy-error plot (the default job).
    Integrators {
        /// Orbital eccentricity in [0, 1).
        #[arg(long, default_value_t = 0.6)]
        eccentricity: f64,
        /// Number of orbital periods.
        #[arg(long, default_value_t = 1000.0)]
        periods: f64,
        /// Step size of the fixed-step methods.
        #[arg(long, default_value_t = 0.01)]
        dt: f64,
        /// rtol = atol of the adaptive methods.
        #[arg(long, default_value_t = 1e-10)]
        tolerance: f64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let cfg = match cli.command {
        None => KeplerShowcase::default(),
        Some(Command::Integrators {
            eccentricity,
            periods,
            dt,
            tolerance,
        }) => KeplerShowcase {
            eccentricity,
            periods,
            dt,
            tolerance,
            ..KeplerShowcase::default()
        },
    };
    if !((0.0..1.0).contains(&cfg.eccentricity) && cfg.periods.is_finite() && cfg.periods > 0.0) {
        eprintln!("error: eccentricity must be in [0, 1) and periods positive");
        return ExitCode::from(2);
    }
    let results = showcase::run_all(&cfg, cli.quiet);
    print!("{}", showcase::table(&cfg, &results));
    match showcase::plot(&cli.out, &results) {
        Ok(paths) => {
            for p in paths {
                println!("wrote {}", p.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
