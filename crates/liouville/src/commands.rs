//! The `liouville` subcommands: `gen` (datasets of any system), `train` (any dynamics model, by
//! flags or a TOML config), `rollout` (a trained model through an integrator, to CSV) and `plot`
//! (CSV columns to PNG/SVG).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use liouville_dynamics::catalog::{self, ModelKind, ModelOptions};
use liouville_dynamics::coordinates::to_velocity_state;
use liouville_dynamics::neural_ode::OdeGradient;
use liouville_dynamics::rollout::LearnedField;
use liouville_integrate::IntegrateError;
use liouville_integrate::adaptive::{Adaptive, AdaptiveMethod, Output};
use liouville_sim::SimError;
use liouville_sim::dataset::{Dataset, DatasetSpec, IsingDataset, IsingSpec, Limits, Shard, generate_within};
use liouville_tensor::checkpoint::{self, Provenance};
use liouville_tensor::optim::{Optimizer, Schedule};
use liouville_tensor::train::TrainConfig;
use ndarray::{Array2, Axis};
use serde::Deserialize;

use crate::plot::{Series, line_chart, log_y_chart};

/// `liouville gen`.
#[derive(Debug, clap::Args)]
pub struct GenArgs {
    /// System, with the settings of the papers that use it; `ising` samples L = 8 spin
    /// configurations at the reference temperatures (`--samples` per temperature).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(DatasetSpec::STANDARD_NAMES))]
    pub system: String,
    /// Number of trajectories (default: the system's standard setting).
    #[arg(long)]
    pub trajectories: Option<usize>,
    /// Samples per trajectory.
    #[arg(long)]
    pub samples: Option<usize>,
    /// Trajectory length in time.
    #[arg(long)]
    pub t_end: Option<f64>,
    /// Standard deviation of the observation noise.
    #[arg(long)]
    pub noise: Option<f64>,
    /// Fraction of trajectories held out for testing.
    #[arg(long)]
    pub test_fraction: Option<f64>,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output file: `.lds` (checksummed container) or `.npz` (numpy).
    #[arg(long, short)]
    pub output: PathBuf,
    /// Refuse datasets whose estimated size in memory exceeds this many GiB.
    #[arg(long, default_value_t = 4.0)]
    pub max_gigabytes: f64,
    /// DOP853 step budget per trajectory; a trajectory that needs more is an error naming t_end.
    #[arg(long, default_value_t = 1_000_000)]
    pub max_steps: usize,
}

/// The file format an output path asks for, by its extension (case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetFormat {
    /// `.lds`: the checksummed container `train` reads.
    Container,
    /// `.npz`: numpy's archive, for Python.
    Npz,
}

impl DatasetFormat {
    /// `.lds` or `.npz` in any case; anything else is an error naming the extension.
    pub fn of(path: &Path) -> Result<Self, String> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("lds") => Ok(Self::Container),
            Some("npz") => Ok(Self::Npz),
            other => Err(format!(
                "{}: the output must end in .lds (the container `train` reads) or .npz (numpy), not {}",
                path.display(),
                other.map_or("no extension".to_string(), |e| format!(".{e}"))
            )),
        }
    }
}

/// Generates a dataset; returns a one-line summary.
pub fn gen_data(args: &GenArgs, progress: bool) -> Result<String, String> {
    if args.system == "ising" {
        return gen_ising(args);
    }
    let mut spec = DatasetSpec::standard(&args.system, args.seed).ok_or_else(|| {
        format!(
            "unknown system {:?}; choose one of {}",
            args.system,
            DatasetSpec::STANDARD_NAMES.join(", ")
        )
    })?;
    if let Some(n) = args.trajectories {
        spec.trajectories = n;
    }
    if let Some(n) = args.samples {
        spec.samples = n;
    }
    if let Some(t) = args.t_end {
        spec.t_end = t;
    }
    if let Some(s) = args.noise {
        spec.noise_std = s;
    }
    if let Some(f) = args.test_fraction {
        spec.test_fraction = f;
    }
    let format = DatasetFormat::of(&args.output)?;
    if !(args.max_gigabytes.is_finite() && args.max_gigabytes > 0.0) || args.max_steps == 0 {
        return Err(format!(
            "--max-gigabytes ({}) must be positive and --max-steps ({}) at least 1",
            args.max_gigabytes, args.max_steps
        ));
    }
    let limits = Limits {
        max_bytes: (args.max_gigabytes * (1u64 << 30) as f64) as u64,
        max_steps: args.max_steps,
    };
    let ds = generate_within(&spec, Shard::whole(), progress, limits).map_err(|e| match e {
        SimError::TooLarge { .. } => format!("{e} (--max-gigabytes)"),
        SimError::StepBudget { .. } => format!("{e} (--max-steps)"),
        e => e.to_string(),
    })?;
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    match format {
        DatasetFormat::Npz => ds.save_npz(&args.output),
        DatasetFormat::Container => ds.save(&args.output),
    }
    .map_err(|e| e.to_string())?;
    Ok(format!(
        "wrote {}: {} trajectories × {} samples of {} ({} columns: {})",
        args.output.display(),
        ds.trajectories(),
        ds.times.len(),
        args.system,
        ds.state_labels.len(),
        ds.state_labels.join(", ")
    ))
}

/// `liouville gen --system ising`: spin configurations; the trajectory settings do not apply.
fn gen_ising(args: &GenArgs) -> Result<String, String> {
    let not_for_ising = [
        ("--trajectories", args.trajectories.is_some()),
        ("--t-end", args.t_end.is_some()),
        ("--noise", args.noise.is_some()),
        ("--test-fraction", args.test_fraction.is_some()),
    ];
    if let Some((flag, _)) = not_for_ising.iter().find(|(_, given)| *given) {
        return Err(format!(
            "{flag} does not apply to ising, which samples spin configurations (--samples per temperature)"
        ));
    }
    let format = DatasetFormat::of(&args.output)?;
    let standard = IsingSpec::standard(args.seed);
    let spec = IsingSpec {
        samples: args.samples.unwrap_or(standard.samples),
        ..standard
    };
    let bytes = spec.temperatures.len() as u128 * spec.samples as u128 * (spec.l * spec.l) as u128;
    if bytes > (args.max_gigabytes * (1u64 << 30) as f64) as u128 {
        return Err(format!(
            "{} × {} configurations of {} spins would take {bytes} bytes, over --max-gigabytes {}",
            spec.temperatures.len(),
            spec.samples,
            spec.l * spec.l,
            args.max_gigabytes
        ));
    }
    let ds = IsingDataset::generate(&spec).map_err(|e| e.to_string())?;
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    match format {
        DatasetFormat::Npz => ds.save_npz(&args.output),
        DatasetFormat::Container => ds.save(&args.output),
    }
    .map_err(|e| e.to_string())?;
    Ok(format!(
        "wrote {}: {} temperatures × {} configurations of the L = {} Ising model",
        args.output.display(),
        spec.temperatures.len(),
        spec.samples,
        spec.l
    ))
}

/// `liouville train` settings from a TOML file; every field is optional and a flag given on the
/// command line wins.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrainFile {
    /// Model kind.
    pub model: Option<String>,
    /// Hidden widths.
    pub hidden: Option<Vec<usize>>,
    /// Optimiser steps.
    pub steps: Option<usize>,
    /// Minibatch size.
    pub batch: Option<usize>,
    /// Learning rate.
    pub learning_rate: Option<f64>,
    /// Decoupled weight decay (AdamW).
    pub weight_decay: Option<f64>,
    /// Seed.
    pub seed: Option<u64>,
    /// Validation fraction of the training rows.
    pub validation_fraction: Option<f64>,
    /// Where the model with the best validation loss is checkpointed during training.
    pub best: Option<PathBuf>,
    /// Neural ODE: observations per window.
    pub horizon: Option<usize>,
    /// Neural ODE: RK4 steps per observation interval.
    pub substeps: Option<usize>,
    /// Neural ODE: "backprop" or "adjoint".
    pub gradient: Option<String>,
}

/// `liouville train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Dataset written by `liouville gen` (.lds).
    #[arg(long)]
    pub data: PathBuf,
    /// Model kind.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(ModelKind::ALL.map(|k| k.name())))]
    pub model: Option<String>,
    /// Hidden widths, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub hidden: Option<Vec<usize>>,
    /// Optimiser steps (default 2000).
    #[arg(long)]
    pub steps: Option<usize>,
    /// Minibatch size (default 256).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Learning rate (default 1e-3, cosine-decayed).
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// Decoupled weight decay (default 1e-4).
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Neural ODE and SRNN: observations per training window (default 4).
    #[arg(long)]
    pub horizon: Option<usize>,
    /// Neural ODE and SRNN: integrator steps per observation interval (default 2).
    #[arg(long)]
    pub substeps: Option<usize>,
    /// Neural ODE: how gradients pass through the solver (default adjoint).
    #[arg(long, value_parser = ["backprop", "adjoint"])]
    pub gradient: Option<String>,
    /// TOML file with any of the settings above (flags override it).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Metrics as JSON lines.
    #[arg(long)]
    pub metrics: Option<PathBuf>,
    /// Fraction of the training rows held out for validation (default 0).
    #[arg(long)]
    pub validation: Option<f64>,
    /// Also checkpoint the model with the best validation (or training) loss here, while it
    /// trains; it loads and rolls out like the final one.
    #[arg(long)]
    pub best: Option<PathBuf>,
    /// Checkpoint to write (.safetensors).
    #[arg(long, short)]
    pub output: PathBuf,
}

/// Trains a model; returns a summary (train and test loss).
pub fn train(args: &TrainArgs, progress: bool) -> Result<String, String> {
    let file: TrainFile = match &args.config {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            toml::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?
        }
        None => TrainFile::default(),
    };
    let model_name = args
        .model
        .clone()
        .or(file.model)
        .ok_or("choose a model with --model or `model = ...` in the config")?;
    let kind = ModelKind::parse(&model_name).ok_or_else(|| {
        format!(
            "unknown model {model_name:?}; choose one of {}",
            ModelKind::ALL.map(|k| k.name()).join(", ")
        )
    })?;
    let hidden = args.hidden.clone().or(file.hidden).unwrap_or_else(|| vec![200, 200]);
    let steps = args.steps.or(file.steps).unwrap_or(2000);
    let seed = args.seed.or(file.seed).unwrap_or(0);
    let gradient_name = args
        .gradient
        .clone()
        .or(file.gradient)
        .unwrap_or_else(|| "adjoint".into());
    let options = ModelOptions {
        horizon: args.horizon.or(file.horizon).unwrap_or(4),
        substeps: args.substeps.or(file.substeps).unwrap_or(2),
        gradient: OdeGradient::parse(&gradient_name)
            .ok_or_else(|| format!("gradient {gradient_name:?} is neither backprop nor adjoint"))?,
        ..ModelOptions::default()
    };
    let ds = Dataset::load(&args.data).map_err(|e| e.to_string())?;
    let warning = (kind.conservative() && !ds.spec.system.conservative()).then(|| {
        format!(
            "warning: {} conserves a learned energy, but {} is not a conservative system (it is driven or dissipative); expect a poor fit — baseline, dissipative_hnn or neural_ode can represent it",
            kind.name(),
            ds.spec.system.name()
        )
    });
    let train_rows = kind
        .examples(&ds, &ds.train_indices(), &options)
        .map_err(|e| e.to_string())?;
    let cfg = TrainConfig {
        steps,
        batch_size: args.batch.or(file.batch).unwrap_or(256),
        learning_rate: args.learning_rate.or(file.learning_rate).unwrap_or(1e-3),
        optimizer: Optimizer::adamw(args.weight_decay.or(file.weight_decay).unwrap_or(1e-4)),
        schedule: Schedule::Cosine {
            warmup: 0,
            total: steps,
            min_factor: 0.05,
        },
        validation_fraction: args.validation.or(file.validation_fraction).unwrap_or(0.0),
        eval_every: (steps / 50).max(1),
        checkpoint: args.best.clone().or(file.best.clone()),
        seed,
        metrics: args.metrics.clone(),
        progress,
        ..TrainConfig::default()
    };
    let mut model = kind.build(&ds, &hidden, &options, seed).map_err(|e| e.to_string())?;
    let report = model.fit(&train_rows, &cfg).map_err(|e| e.to_string())?;
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    model.save(&args.output).map_err(|e| e.to_string())?;
    // Rollouts label their columns and check their starting data against this.
    let provenance = Provenance {
        system: ds.spec.system.name().to_string(),
        state_labels: model_labels(kind, &ds),
    };
    for path in std::iter::once(&args.output).chain(cfg.checkpoint.as_ref().filter(|p| p.exists())) {
        checkpoint::record_provenance(path, provenance.clone()).map_err(|e| e.to_string())?;
    }
    let mut s = format!(
        "trained {} ({} steps) on {} rows; final training loss {:.3e}",
        kind.name(),
        report.steps,
        train_rows.rows(),
        report.train_curve.last().map(|p| p.1).unwrap_or(f64::NAN)
    );
    // Test error of the field on held-out trajectories (derivative targets only).
    if !ds.test_indices().is_empty() && !kind.trains_on_windows() {
        let test = kind
            .examples(&ds, &ds.test_indices(), &options)
            .map_err(|e| e.to_string())?;
        let rows = test.rows();
        let x = Array2::from_shape_vec((rows, test.input_width), test.inputs).map_err(|e| e.to_string())?;
        let y = Array2::from_shape_vec((rows, test.target_width), test.targets).map_err(|e| e.to_string())?;
        let f = model.field(x.view()).map_err(|e| e.to_string())?;
        let mse = (&f - &y).mapv(|v| v * v).mean().unwrap_or(f64::NAN);
        write!(s, ", test field MSE {mse:.3e}").ok();
    }
    write!(s, "\nwrote {}", args.output.display()).ok();
    if let Some(w) = warning {
        write!(s, "\n{w}").ok();
    }
    Ok(s)
}

/// The names of a model's state components on `ds`: the dataset's for canonical models, (q, q̇)
/// for Lagrangian ones.
fn model_labels(kind: ModelKind, ds: &Dataset) -> Vec<String> {
    if kind.lagrangian() {
        let dof = ds.state_labels.len() / 2;
        (0..dof)
            .map(|i| format!("q{i}"))
            .chain((0..dof).map(|i| format!("qdot{i}")))
            .collect()
    } else {
        ds.state_labels.clone()
    }
}

/// `liouville rollout`.
#[derive(Debug, clap::Args)]
pub struct RolloutArgs {
    /// Checkpoint written by `liouville train`.
    #[arg(long)]
    pub model: PathBuf,
    /// Start from the first test trajectories of this dataset (converted to (q, q̇) for
    /// Lagrangian models)...
    #[arg(long, conflicts_with = "start")]
    pub data: Option<PathBuf>,
    /// ...or from this state, comma-separated, in the model's coordinates.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub start: Option<Vec<f64>>,
    /// Number of dataset starts.
    #[arg(long, default_value_t = 3)]
    pub starts: usize,
    /// Horizon.
    #[arg(long, default_value_t = 20.0)]
    pub t_end: f64,
    /// Recorded points.
    #[arg(long, default_value_t = 200)]
    pub points: usize,
    /// rtol = atol of the DOP853 integrator.
    #[arg(long, default_value_t = 1e-6)]
    pub tolerance: f64,
    /// DOP853 step budget; a horizon that needs more is an error naming t_end.
    #[arg(long, default_value_t = 100_000)]
    pub max_steps: usize,
    /// CSV output: t, trajectory, then one column per state component.
    #[arg(long, short)]
    pub output: PathBuf,
}

/// Rolls a trained model out to CSV.
pub fn rollout(args: &RolloutArgs) -> Result<String, String> {
    let (kind, model) = catalog::load(&args.model).map_err(|e| e.to_string())?;
    let trained_on = checkpoint::read_header(&args.model)
        .map_err(|e| e.to_string())?
        .trained_on;
    let dim = model.dim();
    let mut warning = None;
    let (y0, labels) = match (&args.data, &args.start) {
        (Some(path), None) => {
            let ds = Dataset::load(path).map_err(|e| e.to_string())?;
            let mut picks = ds.test_indices();
            if picks.is_empty() {
                picks = ds.train_indices();
            }
            if args.starts == 0 {
                return Err("--starts must be at least 1".into());
            }
            picks.truncate(args.starts);
            let rows: Vec<Vec<f64>> = picks
                .iter()
                .map(|&k| {
                    let s = ds.initial_conditions.row(k).to_vec();
                    if kind.lagrangian() {
                        to_velocity_state(&ds.spec.system, &s).map_err(|e| e.to_string())
                    } else {
                        Ok(s)
                    }
                })
                .collect::<Result<_, _>>()?;
            if let Some(t) = trained_on.as_ref().filter(|t| t.system != ds.spec.system.name()) {
                warning = Some(format!(
                    "warning: the model was trained on {} data, these starts are from {}",
                    t.system,
                    ds.spec.system.name()
                ));
            }
            (rows, model_labels(kind, &ds))
        }
        (None, Some(s)) => {
            // The trained-on labels when the checkpoint records them, so `plot --x q --y p` works.
            let labels = match &trained_on {
                Some(t) if t.state_labels.len() == dim => t.state_labels.clone(),
                _ => (0..dim).map(|i| format!("x{i}")).collect(),
            };
            (vec![s.clone()], labels)
        }
        _ => return Err("give --data or --start".into()),
    };
    if y0.iter().any(|r| r.len() != dim) {
        return Err(format!("the model takes {dim} state components"));
    }
    if !(args.t_end.is_finite() && args.t_end > 0.0 && args.points >= 2) {
        return Err("t_end must be positive and points at least 2".into());
    }
    let y0 = Array2::from_shape_vec((y0.len(), dim), y0.concat()).map_err(|e| e.to_string())?;
    let times: Vec<f64> = (0..args.points)
        .map(|k| args.t_end * k as f64 / (args.points - 1) as f64)
        .collect();
    let sol = Adaptive::new(AdaptiveMethod::Dop853)
        .rtol(args.tolerance)
        .atol(args.tolerance)
        .max_steps(args.max_steps.max(1))
        .build()
        .map_err(|e| e.to_string())?
        .solve(
            &LearnedField(model.as_ref()),
            0.0,
            args.t_end,
            y0.view(),
            Output::Times(&times),
        )
        .map_err(|e| match e {
            IntegrateError::TooManySteps { t, max_steps } => format!(
                "t_end = {:e}: the rollout used its budget of {max_steps} DOP853 steps by t = {t:.6e}; lower --t-end or raise --max-steps",
                args.t_end
            ),
            e => e.to_string(),
        })?;
    let mut csv = format!("t,trajectory,{}\n", labels.join(","));
    for (k, &t) in sol.times.iter().enumerate() {
        for (r, row) in sol.states.index_axis(Axis(0), k).rows().into_iter().enumerate() {
            let values: Vec<String> = row.iter().map(|v| format!("{v:e}")).collect();
            writeln!(csv, "{t:e},{r},{}", values.join(",")).ok();
        }
    }
    liouville_sim::dataset::container::write_atomic(&args.output, csv.as_bytes()).map_err(|e| e.to_string())?;
    let mut summary = format!(
        "rolled {} out from {} start(s) to t = {}: {} rows, wrote {}",
        kind.name(),
        y0.nrows(),
        args.t_end,
        sol.times.len() * y0.nrows(),
        args.output.display()
    );
    if let Some(w) = warning {
        write!(summary, "\n{w}").ok();
    }
    Ok(summary)
}

/// `liouville plot`.
#[derive(Debug, clap::Args)]
pub struct PlotArgs {
    /// CSV with a header row (as written by `liouville rollout`).
    pub input: PathBuf,
    /// Column on the x axis.
    #[arg(long, default_value = "t")]
    pub x: String,
    /// Column(s) on the y axis, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub y: Vec<String>,
    /// Logarithmic y axis.
    #[arg(long)]
    pub log_y: bool,
    /// Chart title.
    #[arg(long, default_value = "")]
    pub title: String,
    /// Output image: .png or .svg.
    #[arg(long, short)]
    pub output: PathBuf,
}

/// A CSV table: header and rows of numbers.
pub(crate) fn read_csv(path: &Path) -> Result<(Vec<String>, Vec<Vec<f64>>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .ok_or_else(|| format!("{}: empty file", path.display()))?
        .split(',')
        .map(|h| h.trim().to_string())
        .collect();
    let rows = lines
        .enumerate()
        .map(|(i, l)| {
            let row: Vec<f64> = l
                .split(',')
                .map(|v| v.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|e| format!("{} line {}: {e}", path.display(), i + 2))?;
            if row.len() == header.len() {
                Ok(row)
            } else {
                Err(format!(
                    "{} line {}: {} values for {} columns",
                    path.display(),
                    i + 2,
                    row.len(),
                    header.len()
                ))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((header, rows))
}

/// Plots CSV columns, one series per (trajectory, y column).
pub fn plot(args: &PlotArgs) -> Result<String, String> {
    let (header, rows) = read_csv(&args.input)?;
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("no column {name:?} (have {})", header.join(", ")))
    };
    let x = col(&args.x)?;
    let ys: Vec<String> = if args.y.is_empty() {
        header
            .iter()
            .filter(|h| *h != "t" && *h != "trajectory" && **h != args.x)
            .cloned()
            .collect()
    } else {
        args.y.clone()
    };
    let traj = header.iter().position(|h| h == "trajectory");
    let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for name in &ys {
        let y = col(name)?;
        let mut by_traj: std::collections::BTreeMap<i64, Vec<(f64, f64)>> = Default::default();
        for r in &rows {
            let key = traj.map(|c| r[c] as i64).unwrap_or(0);
            by_traj.entry(key).or_default().push((r[x], r[y]));
        }
        for (k, points) in by_traj {
            let label = if traj.is_some() {
                format!("{name} ({k})")
            } else {
                name.clone()
            };
            series.push((label, points));
        }
    }
    let s: Vec<Series<'_>> = series.iter().map(|(l, p)| Series { label: l, points: p }).collect();
    let y_label = ys.join(", ");
    if args.log_y {
        log_y_chart(&args.output, &args.title, &args.x, &y_label, &s)
    } else {
        line_chart(&args.output, &args.title, &args.x, &y_label, &s)
    }
    .map_err(|e| e.to_string())?;
    Ok(format!("wrote {} ({} series)", args.output.display(), s.len()))
}
