//! `liouville generative train|sample|eval|boltzmann`: the generative models on rows of data, named
//! (two moons, 8 Gaussians, the pinwheel, a pendulum energy shell) or read from a CSV file.
//!
//! `train` writes a typed checkpoint (the best validation model for flows and VAEs, the last for
//! GANs); `sample` reads any of them back and writes samples as CSV; `eval` scores a checkpoint
//! on data: the mean negative log-likelihood (flows), the ELBO and IWAE bound with the KL per
//! latent (VAEs), and for every model the energy distance between its samples and the data (a
//! two-sample statistic that is 0 only when the distributions agree; Székely & Rizzo 2013).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use liouville_generative::datasets::{eight_gaussians, pinwheel, two_moons};
use liouville_generative::flow::{NegativeLogLikelihood, RealNvp, RealNvpConfig};
use liouville_generative::gan::train::{GanTrainConfig, train as train_gan};
use liouville_generative::gan::{Gan, GanConfig, Objective};
use liouville_generative::maf::{Maf, MafConfig};
use liouville_generative::vae::{self, Likelihood, Vae, VaeConfig, VaeData, evaluate};
use liouville_sim::systems::pendulum::Pendulum;
use liouville_tensor::checkpoint;
use liouville_tensor::config::Configured;
use liouville_tensor::device::HostDevice;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::host;
use liouville_tensor::tape::Threaded;
use liouville_tensor::train::{Rows, TrainConfig, train};

use crate::commands::read_csv;

/// `liouville generative`.
#[derive(Debug, clap::Args)]
pub struct GenerativeArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: GenerativeCommand,
}

/// The verbs.
#[derive(Debug, clap::Subcommand)]
pub enum GenerativeCommand {
    /// Train a model on rows of data and write its checkpoint.
    Train(TrainModelArgs),
    /// Draw samples from a checkpoint into a CSV file.
    Sample(SampleArgs),
    /// Score a checkpoint on rows of data.
    Eval(EvalArgs),
    /// Train a Boltzmann generator (a RealNVP) towards p ∝ e^{−u} of a shipped energy and report
    /// its importance-sampled ln Z, ESS and P(x₀ > 0); its checkpoint samples with `sample`.
    Boltzmann(BoltzmannArgs),
}

/// Energies a Boltzmann generator can be trained on from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TargetName {
    /// bgflow's u = x⁴ − 4x² + y²/2 (ln Z = 5.21194).
    DoubleWell,
    /// normflows' TwoModes (ring radius 2, width 0.2).
    TwoModes,
    /// The canonical ensemble of a mass on a spring (m = k = 1) at `--temperature`:
    /// u = (p²/2 + q²/2)/T, ln Z = ln 2πT.
    MassSpring,
}

/// How a Boltzmann generator learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BoltzmannMethod {
    /// Reverse KL against the energy alone, β annealed from 0.01 to 1 over the first half.
    Energy,
    /// Maximum likelihood on random-walk Metropolis samples of the target.
    Example,
}

/// `liouville generative boltzmann`.
#[derive(Debug, clap::Args)]
pub struct BoltzmannArgs {
    /// The energy.
    #[arg(long, value_enum, default_value = "double-well")]
    pub target: TargetName,
    /// Training by energy or by example.
    #[arg(long, value_enum, default_value = "energy")]
    pub method: BoltzmannMethod,
    /// Temperature of `mass-spring`.
    #[arg(long, default_value_t = 1.0)]
    pub temperature: f64,
    /// Optimiser steps.
    #[arg(long, default_value_t = 3000)]
    pub steps: usize,
    /// Hidden width of the conditioners (two layers, 6 couplings).
    #[arg(long, default_value_t = 64)]
    pub width: usize,
    /// Flow samples behind the final estimates.
    #[arg(long, default_value_t = 50_000)]
    pub eval_samples: usize,
    /// Seed of the initialisation, training and samples.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The checkpoint to write.
    #[arg(long, short)]
    pub output: PathBuf,
}

/// Trains a Boltzmann generator, checkpoints it and reports its estimates.
pub fn boltzmann(args: &BoltzmannArgs, progress: bool) -> Result<String, String> {
    use liouville_generative::boltzmann::mcmc::{MetropolisConfig, metropolis};
    use liouville_generative::boltzmann::target::{Canonical, DoubleWell, TargetEnergy, TwoModes};
    use liouville_generative::boltzmann::train::{BoltzmannTrainConfig, train as train_bg};
    use liouville_sim::systems::mass_spring::MassSpring;

    if args.steps == 0 || args.width == 0 || args.eval_samples < 2 {
        return Err(format!(
            "--steps {} and --width {} must be at least 1, --eval-samples {} at least 2",
            args.steps, args.width, args.eval_samples
        ));
    }
    let err = |e: liouville_tensor::TensorError| e.to_string();
    let (target, exact): (Box<dyn TargetEnergy>, Option<f64>) = match args.target {
        TargetName::DoubleWell => {
            let t = DoubleWell::bgflow();
            let z = t.log_partition();
            (Box::new(t), Some(z))
        }
        TargetName::TwoModes => (Box::new(TwoModes { loc: 2.0, scale: 0.2 }), None),
        TargetName::MassSpring => {
            let system = MassSpring::new(1.0, 1.0).map_err(|e| e.to_string())?;
            let t = Canonical::new(system, args.temperature).map_err(err)?;
            (Box::new(t), Some((2.0 * std::f64::consts::PI * args.temperature).ln()))
        }
    };
    let dev = Dev::default();
    let config = RealNvpConfig::new(target.dim(), 6, &[args.width, args.width], 2.0);
    let mut flow = RealNvp::<f32, Dev>::from_config(&config, &dev, args.seed).map_err(err)?;
    let base = match args.method {
        BoltzmannMethod::Energy => BoltzmannTrainConfig::reverse_kl(args.steps),
        BoltzmannMethod::Example => BoltzmannTrainConfig {
            batch_size: 256,
            ..BoltzmannTrainConfig::likelihood(args.steps)
        },
    };
    let cfg = BoltzmannTrainConfig {
        learning_rate: 2e-3,
        schedule: liouville_tensor::optim::Schedule::Cosine {
            warmup: 100.min(args.steps / 10),
            total: args.steps,
            min_factor: 0.02,
        },
        seed: args.seed,
        checkpoint: Some(args.output.clone()),
        progress,
        ..base
    };
    let samples = match args.method {
        BoltzmannMethod::Energy => None,
        BoltzmannMethod::Example => {
            // Away from the identity: there, likelihood on independent, symmetric coordinates
            // sits on a saddle (`RealNvp::perturb_conditioners`).
            flow.perturb_conditioners(0.1, args.seed).map_err(err)?;
            let mcmc = metropolis(target.as_ref(), &MetropolisConfig::new(50, 1000, args.seed)).map_err(err)?;
            Some(Rows::new(mcmc.samples.iter().copied().collect(), target.dim()).map_err(err)?)
        }
    };
    train_bg(&mut flow, target.as_ref(), samples.as_ref(), &cfg).map_err(err)?;
    let s = liouville_generative::boltzmann::draw(&flow, target.as_ref(), &dev, args.eval_samples, args.seed, 1)
        .map_err(err)?;
    let z = s.log_partition();
    let positive = s.expectation(|x| if x[0] > 0.0 { 1.0 } else { 0.0 });
    let mut out = String::new();
    write!(out, "ln Z {:.4} ± {:.4}", z.value, z.error).ok();
    if let Some(e) = exact {
        write!(out, " (exact {e:.5}, |Δ| {:.4})", (z.value - e).abs()).ok();
    }
    writeln!(
        out,
        ", ESS {:.1} % of {} samples, reweighted P(x₀ > 0) {:.4} ± {:.4}",
        100.0 * s.efficiency(),
        args.eval_samples,
        positive.value,
        positive.error
    )
    .ok();
    write!(out, "wrote {}", args.output.display()).ok();
    Ok(out)
}

/// The models `train` builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelName {
    /// RealNVP: 8 affine couplings with ActNorm (maximum likelihood).
    Realnvp,
    /// A neural spline flow: 4 rational-quadratic spline couplings (`--bins` bins on
    /// ±`--bound`, identity tails) with ActNorm (maximum likelihood).
    SplineFlow,
    /// A masked autoregressive flow: 8 MADE layers with reversals between them (maximum
    /// likelihood; sampling takes one pass per dimension).
    Maf,
    /// WGAN-GP (λ = 0.1, 5 critic steps, Adam (0.5, 0.9)).
    WganGp,
    /// The non-saturating GAN.
    Gan,
    /// A Gaussian β-VAE.
    Vae,
}

/// Where rows come from.
#[derive(Debug, Clone, clap::Args)]
pub struct DataArgs {
    /// `two-moons`, `eight-gaussians`, `pinwheel`, `pendulum-shell` (states of H = p²/2 + 1 − cos q = 1,
    /// uniform in time) or a CSV file with a header row.
    #[arg(long)]
    pub data: String,
    /// Rows drawn from a named data set.
    #[arg(long, default_value_t = 10_000)]
    pub rows: usize,
    /// Seed of a named data set.
    #[arg(long, default_value_t = 0)]
    pub data_seed: u64,
}

/// `liouville generative train`.
#[derive(Debug, clap::Args)]
pub struct TrainModelArgs {
    /// Which model.
    #[arg(long, value_enum)]
    pub model: ModelName,
    /// The data.
    #[command(flatten)]
    pub data: DataArgs,
    /// Optimiser steps (generator steps for GANs).
    #[arg(long, default_value_t = 5000)]
    pub steps: usize,
    /// Learning rate (default: 1e-3 for flows and VAEs, 5e-4 for GANs).
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// Hidden width of every network (two layers for flows and VAEs, three for GANs).
    #[arg(long, default_value_t = 64)]
    pub width: usize,
    /// Flows: the last N columns of every row are a condition c, and the flow learns p(x | c)
    /// (a conditional INN); `sample` then needs `--condition`.
    #[arg(long, default_value_t = 0)]
    pub condition_columns: usize,
    /// Spline flow: bins of every spline.
    #[arg(long, default_value_t = 8)]
    pub bins: usize,
    /// Spline flow: the splines act on [−bound, bound] (after ActNorm standardises the data) and
    /// are the identity outside.
    #[arg(long, default_value_t = 4.0)]
    pub bound: f64,
    /// VAE: latent dimension.
    #[arg(long, default_value_t = 2)]
    pub latent: usize,
    /// VAE: standard deviation of the Gaussian decoder, in data units.
    #[arg(long, default_value_t = 0.05)]
    pub noise_std: f64,
    /// VAE: weight of the KL term.
    #[arg(long, default_value_t = 1.0)]
    pub beta: f64,
    /// Seed of the initialisation and of training.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The checkpoint to write.
    #[arg(long, short)]
    pub output: PathBuf,
}

/// `liouville generative sample`.
#[derive(Debug, clap::Args)]
pub struct SampleArgs {
    /// A checkpoint written by `train`.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Samples to draw.
    #[arg(long, default_value_t = 1000)]
    pub count: usize,
    /// Seed of the latent draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// A conditional flow's condition c, comma-separated (`--condition 1,0`): every sample is
    /// drawn from p(x | c).
    #[arg(long)]
    pub condition: Option<String>,
    /// Output CSV (columns x1, x2, …).
    #[arg(long, short)]
    pub output: PathBuf,
}

/// `liouville generative eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// A checkpoint written by `train`.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// The data to score on (use another `--data-seed` than training for held-out rows).
    #[command(flatten)]
    pub data: DataArgs,
    /// Seed of the samples drawn for the scores.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

type Dev = HostDevice;

/// Rows of the named data set or CSV file, validated.
fn load_rows(d: &DataArgs) -> Result<Rows, String> {
    if d.rows == 0 {
        return Err("--rows must be at least 1".into());
    }
    let (values, width) = match d.data.as_str() {
        "two-moons" => (two_moons(d.rows, 0.1, d.data_seed), 2),
        "eight-gaussians" => (eight_gaussians(d.rows, d.data_seed), 2),
        "pinwheel" => (pinwheel(d.rows, d.data_seed), 2),
        "pendulum-shell" => {
            let p = Pendulum::new(1.0, 1.0, 1.0).map_err(|e| e.to_string())?;
            (
                p.energy_shell(1.0, d.rows, d.data_seed)
                    .map_err(|e| e.to_string())?
                    .concat(),
                2,
            )
        }
        path => {
            let (header, rows) = read_csv(Path::new(path))?;
            if rows.is_empty() {
                return Err(format!("{path}: no data rows"));
            }
            (rows.concat(), header.len())
        }
    };
    Rows::new(values, width).map_err(|e| format!("{}: {e}", d.data))
}

/// Trains and checkpoints.
pub fn train_model(args: &TrainModelArgs, progress: bool) -> Result<String, String> {
    let rows = load_rows(&args.data)?;
    let dev = Dev::default();
    let (dim, n) = (rows.width, rows.values.len() / rows.width);
    if args.steps == 0 || args.width == 0 {
        return Err("--steps and --width must be at least 1".into());
    }
    let fit = |lr: f64| TrainConfig {
        steps: args.steps,
        batch_size: 256,
        learning_rate: args.learning_rate.unwrap_or(lr),
        validation_fraction: 0.1,
        eval_every: (args.steps / 20).max(1),
        seed: args.seed,
        checkpoint: Some(args.output.clone()),
        progress,
        ..TrainConfig::default()
    };
    let mut s = String::new();
    // Conditions are read by coupling flows only.
    let flow_model = matches!(args.model, ModelName::Realnvp | ModelName::SplineFlow);
    if args.condition_columns > 0 && !flow_model {
        return Err(format!(
            "--condition-columns is for flows (realnvp, spline-flow), not {:?}",
            args.model
        ));
    }
    match args.model {
        ModelName::Realnvp | ModelName::SplineFlow => {
            let width = args.condition_columns;
            if dim < width + 2 {
                return Err(format!(
                    "a coupling flow needs at least 2 data columns besides {width} condition columns, {} has {dim}",
                    args.data.data
                ));
            }
            let hidden = [args.width, args.width];
            let x_dim = dim - width;
            let config = match args.model {
                ModelName::SplineFlow => RealNvpConfig::new(x_dim, 4, &hidden, 2.0).with_spline(args.bins, args.bound),
                _ => RealNvpConfig::new(x_dim, 8, &hidden, 2.0),
            }
            .with_actnorm()
            .with_condition(width);
            let mut flow = RealNvp::<f32, Dev>::from_config(&config, &dev, args.seed).map_err(|e| e.to_string())?;
            let first = &rows.values[..n.min(1024) * dim];
            let (x, c) = split_columns(first, dim, x_dim);
            let m = n.min(1024);
            let c = (width > 0).then(|| host::matrix(&dev, c, m, width));
            flow.initialise_actnorm_given(&host::matrix(&dev, x, m, x_dim), c.as_ref())
                .map_err(|e| e.to_string())?;
            let report = train(&mut flow, &rows, &NegativeLogLikelihood, &fit(1e-3)).map_err(|e| e.to_string())?;
            let name = if config.spline.is_some() {
                "spline flow"
            } else {
                "RealNVP"
            };
            writeln!(s, "{name}: best validation NLL {:.4} nats per row", report.best_loss).ok();
        }
        ModelName::Maf => {
            if dim < 2 {
                return Err(format!(
                    "a MAF needs rows of at least 2 columns, {} has {dim}",
                    args.data.data
                ));
            }
            let config = MafConfig {
                dim,
                layers: 8,
                hidden: vec![args.width.max(dim - 1); 2],
                clamp: 2.0,
            };
            let mut flow = Maf::<f32, Dev>::from_config(&config, &dev, args.seed).map_err(|e| e.to_string())?;
            let report = train(&mut flow, &rows, &NegativeLogLikelihood, &fit(1e-3)).map_err(|e| e.to_string())?;
            writeln!(s, "MAF: best validation NLL {:.4} nats per row", report.best_loss).ok();
        }
        ModelName::WganGp | ModelName::Gan => {
            let objective = match args.model {
                ModelName::WganGp => Objective::WassersteinGp { penalty: 0.1 },
                _ => Objective::NonSaturating,
            };
            let mut gan = Gan::<f32, Dev>::from_config(&GanConfig::toy(dim, args.width, objective), &dev, args.seed)
                .map_err(|e| e.to_string())?;
            let cfg = GanTrainConfig {
                learning_rate: args.learning_rate.unwrap_or(5e-4),
                seed: args.seed,
                checkpoint: Some(args.output.clone()),
                progress,
                ..GanTrainConfig::paper(objective, args.steps)
            };
            let report = train_gan(&mut gan, &rows, &cfg).map_err(|e| e.to_string())?;
            if let Some(r) = report.records.last() {
                writeln!(
                    s,
                    "{:?}: critic loss {:.4}, generator loss {:.4}, mean ‖∇ₓD‖ on interpolates {:.3}",
                    args.model, r.critic_loss, r.generator_loss, r.interpolate_gradient_norm
                )
                .ok();
            }
        }
        ModelName::Vae => {
            let config = VaeConfig::autoencoder(
                dim,
                args.latent,
                &[args.width, args.width],
                Likelihood::Gaussian { std: args.noise_std },
            );
            let mut model = Vae::<f32, Dev>::from_config(&config, &dev, args.seed).map_err(|e| e.to_string())?;
            let data = VaeData::new(rows, args.seed);
            let report = vae::train(&mut model, &data, args.beta, &fit(1e-3)).map_err(|e| e.to_string())?;
            writeln!(
                s,
                "VAE: best validation loss (β-weighted negative ELBO) {:.4} nats per row",
                report.best_loss
            )
            .ok();
        }
    }
    write!(s, "wrote {}", args.output.display()).ok();
    Ok(s)
}

/// A checkpoint of any generative model `train` writes.
enum Model {
    Flow(RealNvp<f32, Dev>),
    Autoregressive(Maf<f32, Dev>),
    Gan(Gan<f32, Dev>),
    Vae(Vae<f32, Dev>),
}

fn load_model(path: &Path) -> Result<Model, String> {
    let dev = Dev::default();
    let kind = checkpoint::read_header(path).map_err(|e| e.to_string())?.kind;
    let err = |e: liouville_tensor::TensorError| e.to_string();
    match kind.as_str() {
        k if k == <RealNvp<f32, Dev> as Configured<f32, Dev>>::KIND => {
            Ok(Model::Flow(checkpoint::load(&dev, path).map_err(err)?.0))
        }
        k if k == <Maf<f32, Dev> as Configured<f32, Dev>>::KIND => {
            Ok(Model::Autoregressive(checkpoint::load(&dev, path).map_err(err)?.0))
        }
        k if k == <Gan<f32, Dev> as Configured<f32, Dev>>::KIND => {
            Ok(Model::Gan(checkpoint::load(&dev, path).map_err(err)?.0))
        }
        k if k == <Vae<f32, Dev> as Configured<f32, Dev>>::KIND => {
            Ok(Model::Vae(checkpoint::load(&dev, path).map_err(err)?.0))
        }
        other => Err(format!(
            "{}: a {other:?} checkpoint is not a generative model (realnvp, maf, gan or vae)",
            path.display()
        )),
    }
}

/// Rows of `width` columns split into their first `left` columns and the rest, row-major.
fn split_columns(values: &[f64], width: usize, left: usize) -> (Vec<f64>, Vec<f64>) {
    let x = values.chunks(width).flat_map(|r| r[..left].to_vec()).collect();
    let c = values.chunks(width).flat_map(|r| r[left..].to_vec()).collect();
    (x, c)
}

/// `count` samples of `model`, row-major; a conditional flow draws sample r from p(x | c_r),
/// with `conditions` holding `count` condition rows.
fn draw(model: &Model, count: usize, seed: u64, conditions: Option<&[f64]>) -> Result<Vec<f64>, String> {
    let dev = Dev::default();
    let err = |e: liouville_tensor::TensorError| e.to_string();
    if let (Some(_), Model::Autoregressive(_) | Model::Gan(_) | Model::Vae(_)) = (conditions, model) {
        return Err("only a conditional flow takes a condition".into());
    }
    Ok(match model {
        Model::Flow(f) => {
            let width = f.settings().condition;
            match (conditions, width) {
                (None, 0) => host::values(&f.sample(&dev, count, seed, 0).map_err(err)?.0),
                (None, w) => {
                    return Err(format!(
                        "this flow is conditional on {w} columns: pass --condition with {w} values"
                    ));
                }
                (Some(c), w) => {
                    if w == 0 || c.len() != count * w {
                        return Err(format!(
                            "a condition of {} values for a flow conditional on {w} columns",
                            c.len() / count.max(1)
                        ));
                    }
                    let c = host::matrix(&dev, c.iter().copied(), count, w);
                    host::values(&f.sample_given(&dev, &c, seed, 0).map_err(err)?.0)
                }
            }
        }
        Model::Autoregressive(f) => host::values(&f.sample(&dev, count, seed, 0).map_err(err)?.0),
        Model::Gan(g) => host::values(&g.sample(&dev, count, seed, 0).map_err(err)?),
        Model::Vae(v) => v.sample(count, None, seed, 0).map_err(err)?,
    })
}

/// Writes samples as CSV, atomically.
pub fn sample(args: &SampleArgs) -> Result<String, String> {
    if args.count == 0 {
        return Err("--count must be at least 1".into());
    }
    let model = load_model(&args.checkpoint)?;
    let condition = match &args.condition {
        None => None,
        Some(text) => {
            let values = text
                .split(',')
                .map(|v| {
                    v.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .ok_or_else(|| format!("--condition {text:?}: {v:?} is not a finite number"))
                })
                .collect::<Result<Vec<f64>, String>>()?;
            Some(values.repeat(args.count))
        }
    };
    let x = draw(&model, args.count, args.seed, condition.as_deref())?;
    let dim = x.len() / args.count;
    let mut csv = (1..=dim).map(|i| format!("x{i}")).collect::<Vec<_>>().join(",");
    csv.push('\n');
    for row in x.chunks(dim) {
        let line: Vec<String> = row.iter().map(|v| format!("{v:.9e}")).collect();
        csv.push_str(&line.join(","));
        csv.push('\n');
    }
    liouville_base::files::write_atomic_with(&args.output, |tmp| std::fs::write(tmp, csv.as_bytes()))
        .map_err(|e| format!("{}: {e}", args.output.display()))?;
    Ok(format!(
        "wrote {} ({} samples of {dim} columns)",
        args.output.display(),
        args.count
    ))
}

/// The energy distance 2E‖X − Y‖ − E‖X − X′‖ − E‖Y − Y′‖ between two sets of rows (the V-statistic).
pub fn energy_distance(x: &[f64], y: &[f64], dim: usize) -> f64 {
    let mean_distance = |a: &[f64], b: &[f64]| {
        let mut total = 0.0;
        for p in a.chunks(dim) {
            for q in b.chunks(dim) {
                total += p.iter().zip(q).map(|(u, v)| (u - v) * (u - v)).sum::<f64>().sqrt();
            }
        }
        total / ((a.len() / dim) * (b.len() / dim)) as f64
    };
    2.0 * mean_distance(x, y) - mean_distance(x, x) - mean_distance(y, y)
}

/// Rows compared in the energy distance.
const DISTANCE_ROWS: usize = 2000;

/// Scores a checkpoint on data.
pub fn eval(args: &EvalArgs) -> Result<String, String> {
    let rows = load_rows(&args.data)?;
    let model = load_model(&args.checkpoint)?;
    let dev = Dev::default();
    let (width, n) = (rows.width, rows.values.len() / rows.width);
    // A conditional flow scores the data columns given the condition columns.
    let condition_width = match &model {
        Model::Flow(f) => f.settings().condition,
        _ => 0,
    };
    if width <= condition_width {
        return Err(format!(
            "{}: {width} columns for a flow conditional on {condition_width} columns",
            args.data.data
        ));
    }
    let dim = width - condition_width;
    let (data_x, data_c) = split_columns(&rows.values, width, dim);
    let mut s = String::new();
    match &model {
        Model::Flow(f) => {
            let x = host::matrix(&dev, data_x.iter().copied(), n, dim);
            let c = (condition_width > 0).then(|| host::matrix(&dev, data_c.iter().copied(), n, condition_width));
            let lp = host::values(
                &f.log_prob_given(&mut Threaded::new(NoneTape), &x, c.as_ref())
                    .map_err(|e| e.to_string())?,
            );
            let nll = -lp.iter().sum::<f64>() / n as f64;
            writeln!(
                s,
                "{}: mean negative log-likelihood {nll:.4} nats per row ({n} rows)",
                match (f.settings().spline.is_some(), condition_width > 0) {
                    (true, false) => "spline flow",
                    (false, false) => "RealNVP",
                    (true, true) => "conditional spline flow (x given the condition columns)",
                    (false, true) => "conditional RealNVP (x given the condition columns)",
                }
            )
            .ok();
        }
        Model::Autoregressive(f) => {
            let x = host::matrix(&dev, data_x.iter().copied(), n, dim);
            let lp = host::values(
                &f.log_prob(&mut Threaded::new(NoneTape), &x)
                    .map_err(|e| e.to_string())?,
            );
            let nll = -lp.iter().sum::<f64>() / n as f64;
            writeln!(s, "MAF: mean negative log-likelihood {nll:.4} nats per row ({n} rows)").ok();
        }
        Model::Gan(_) => {
            writeln!(s, "GAN: no likelihood; compare samples with the data below").ok();
        }
        Model::Vae(v) => {
            let e = evaluate(v, &VaeData::new(rows.clone(), 0), 64, args.seed).map_err(|e| e.to_string())?;
            writeln!(
                s,
                "VAE: ELBO {:.4} nats per row, IWAE bound (64 samples) {:.4}, reconstruction RMS {:.4}, KL per latent {}",
                e.elbo,
                e.iwae,
                e.rms_error,
                e.kl_per_latent
                    .iter()
                    .map(|k| format!("{k:.4}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
            .ok();
        }
    }
    let m = n.min(DISTANCE_ROWS);
    let conditions = (condition_width > 0).then(|| &data_c[..m * condition_width]);
    let samples = draw(&model, m, args.seed, conditions)?;
    if samples.len() != m * dim {
        return Err(format!(
            "the model generates {} columns, the data has {dim}",
            samples.len() / m
        ));
    }
    let distance = energy_distance(&samples, &data_x[..m * dim], dim);
    write!(
        s,
        "energy distance between {m} samples and {m} data rows: {distance:.5}"
    )
    .ok();
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::{DataArgs, energy_distance, load_rows};

    #[test]
    fn named_data_sets_load_as_their_generators_draw_them() {
        let args = |name: &str| DataArgs {
            data: name.into(),
            rows: 50,
            data_seed: 3,
        };
        let rows = load_rows(&args("pinwheel")).unwrap();
        assert_eq!(rows.width, 2);
        assert_eq!(rows.values, liouville_generative::datasets::pinwheel(50, 3));
        assert!(load_rows(&args("no-such-set.csv")).is_err());
    }

    #[test]
    fn energy_distance_separates_shifted_sets() {
        let a: Vec<f64> = (0..400).map(|i| ((i * 37) % 101) as f64 / 101.0).collect();
        let same = energy_distance(&a, &a, 2);
        assert!(same.abs() < 1e-12, "{same}");
        let shifted: Vec<f64> = a.iter().map(|v| v + 1.0).collect();
        // Two point sets one unit apart along both axes: clearly positive.
        assert!(energy_distance(&a, &shifted, 2) > 1.0);
    }
}
