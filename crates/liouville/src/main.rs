//! The `liouville` command-line tool. Without arguments it runs the flagship demo: pendulum data,
//! an HNN and the baseline trained, rolled out, scored and plotted.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use liouville::commands::{self, GenArgs, PlotArgs, RolloutArgs, TrainArgs};
use liouville::demo::{self, Demo};
use liouville::generative_commands::{self, GenerativeArgs, GenerativeCommand};
use liouville::showcase::{self, KeplerShowcase};

#[derive(Parser)]
#[command(
    name = "liouville",
    version,
    about = "Physics-informed machine learning: simulate, learn, roll out, plot",
    long_about = "Physics-informed machine learning: simulate, learn, roll out, plot.\n\nWithout a subcommand: the flagship demo (pendulum data, an HNN and the MLP baseline trained, rolled out, scored, plotted into --plot-dir)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Directory for the default demo's plots (the `demo` and `integrators` subcommands take
    /// their own `--plot-dir`; the other subcommands write only the files they are given).
    #[arg(long, default_value = "out")]
    plot_dir: PathBuf,
    /// No progress bars.
    #[arg(long, global = true)]
    quiet: bool,
}

#[derive(Subcommand)]
enum Command {
    /// The flagship demo (the default): HNN against the baseline on the pendulum.
    Demo {
        /// Training steps per model.
        #[arg(long, default_value_t = 2000)]
        steps: usize,
        /// Rollout horizon.
        #[arg(long, default_value_t = 20.0)]
        t_end: f64,
        /// Seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Directory for the plots.
        #[arg(long, default_value = "out")]
        plot_dir: PathBuf,
    },
    /// Generate a dataset of any system.
    Gen(GenArgs),
    /// Train a dynamics model on a dataset.
    Train(TrainArgs),
    /// Roll a trained model out through DOP853 to CSV.
    Rollout(RolloutArgs),
    /// Plot CSV columns (e.g. a rollout) to PNG or SVG.
    Plot(PlotArgs),
    /// Generative models (RealNVP, GANs, VAEs): train on rows, sample, evaluate.
    Generative(GenerativeArgs),
    /// Every integrator on the Kepler problem: energy, angular momentum and position errors,
    /// work, and an energy-error plot.
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
        /// Directory for the plots.
        #[arg(long, default_value = "out")]
        plot_dir: PathBuf,
    },
}

fn run_demo(cfg: Demo, out: &std::path::Path) -> Result<String, String> {
    if cfg.steps == 0 || !(cfg.t_end.is_finite() && cfg.t_end > 0.0) {
        return Err("steps and t_end must be positive".into());
    }
    let report = demo::run(&cfg, out)?;
    let mut s = demo::table(&cfg, &report);
    for p in &report.plots {
        s.push_str(&format!("wrote {}\n", p.display()));
    }
    s.push_str(&format!("done in {:.0} s", report.seconds));
    Ok(s)
}

fn run_integrators(cfg: KeplerShowcase, out: &std::path::Path, quiet: bool) -> Result<String, String> {
    if !((0.0..1.0).contains(&cfg.eccentricity) && cfg.periods.is_finite() && cfg.periods > 0.0) {
        return Err("eccentricity must be in [0, 1) and periods positive".into());
    }
    let results = showcase::run_all(&cfg, quiet);
    let mut s = showcase::table(&cfg, &results);
    for p in showcase::plot(out, &results).map_err(|e| e.to_string())? {
        s.push_str(&format!("wrote {}\n", p.display()));
    }
    Ok(s)
}

fn main() -> ExitCode {
    // Training steps reuse their freed buffers instead of page-faulting fresh ones each step.
    liouville_tensor::host_memory::keep_freed_memory();
    let cli = Cli::parse();
    let progress = !cli.quiet;
    let result = match cli.command {
        None => run_demo(
            Demo {
                progress,
                ..Demo::default()
            },
            &cli.plot_dir,
        ),
        Some(Command::Demo {
            steps,
            t_end,
            seed,
            plot_dir,
        }) => run_demo(
            Demo {
                steps,
                t_end,
                seed,
                progress,
                ..Demo::default()
            },
            &plot_dir,
        ),
        Some(Command::Gen(args)) => commands::gen_data(&args, progress),
        Some(Command::Train(args)) => commands::train(&args, progress),
        Some(Command::Rollout(args)) => commands::rollout(&args),
        Some(Command::Plot(args)) => commands::plot(&args),
        Some(Command::Generative(args)) => match args.command {
            GenerativeCommand::Train(a) => generative_commands::train_model(&a, progress),
            GenerativeCommand::Sample(a) => generative_commands::sample(&a),
            GenerativeCommand::Eval(a) => generative_commands::eval(&a),
            GenerativeCommand::Boltzmann(a) => generative_commands::boltzmann(&a, progress),
        },
        Some(Command::Integrators {
            eccentricity,
            periods,
            dt,
            tolerance,
            plot_dir,
        }) => run_integrators(
            KeplerShowcase {
                eccentricity,
                periods,
                dt,
                tolerance,
                ..KeplerShowcase::default()
            },
            &plot_dir,
            cli.quiet,
        ),
    };
    match result {
        Ok(s) => {
            println!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
