//! `cargo xtask reproduce flows`: RealNVP (plain, in Glow's ActNorm → permutation steps, and in
//! Glow's ActNorm → LU linear map steps), a neural spline flow and a MAF on two moons (noise 0.1),
//! trained by maximum likelihood as nflows' and FrEIA's examples do, all scored by the held-out
//! negative log-likelihood against the data's entropy (the lowest NLL any model can reach,
//! 1.008 ± 0.005 nats; `shared/reference/README.md`); then the spline flow conditioned on the
//! one-hot moon (a conditional INN), scored by its held-out NLL of x given the moon. Writes
//! `docs/results/flows.md` with density maps (learned p(x), and p(x | moon), with samples over
//! them) and the validation curves.

use std::fmt::Write as _;
use std::time::Instant;

use liouville::plot::{DensityMap, Series, density_map, line_chart};
use liouville_generative::datasets::two_moons;
use liouville_generative::flow::{NegativeLogLikelihood, RealNvp, RealNvpConfig};
use liouville_generative::maf::{Maf, MafConfig};
use liouville_tensor::config::Configured;
use liouville_tensor::device::HostDevice;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::host;
use liouville_tensor::optim::Schedule;
use liouville_tensor::shapes::Matrix;
use liouville_tensor::tape::Threaded;
use liouville_tensor::train::{Rows, TrainConfig, train};

use super::{ReproduceArgs, mean_se};

/// The data's entropy, the floor of the expected held-out NLL (reference README).
const ENTROPY_FLOOR: f64 = 1.008;
/// Issue 11's goal for the held-out NLL of a RealNVP and of a spline flow.
const GOAL: f64 = 1.10;
const TRAIN_POINTS: usize = 10_000;
const HELD_OUT_POINTS: usize = 5_000;
const NOISE: f64 = 0.1;

/// The architectures compared.
enum Architecture {
    /// RealNVP or a neural spline flow, with or without Glow's layers.
    Coupling(RealNvpConfig),
    /// A masked autoregressive flow.
    Autoregressive(MafConfig),
}

/// A trained flow of either architecture.
enum Flow {
    Coupling(RealNvp<f32, HostDevice>),
    Autoregressive(Maf<f32, HostDevice>),
}

impl Flow {
    /// log p(x) of every row.
    fn log_prob(&self, x: &Matrix<f32, HostDevice>) -> Result<Vec<f64>, String> {
        let mut tp = Threaded::new(NoneTape);
        let lp = match self {
            Flow::Coupling(f) => f.log_prob(&mut tp, x),
            Flow::Autoregressive(f) => f.log_prob(&mut tp, x),
        };
        Ok(host::values(&lp.map_err(|e| e.to_string())?))
    }

    /// `rows` samples, row-major.
    fn sample(&self, rows: usize, seed: u64) -> Result<Vec<f64>, String> {
        let dev = HostDevice::default();
        let x = match self {
            Flow::Coupling(f) => f.sample(&dev, rows, seed, 0),
            Flow::Autoregressive(f) => f.sample(&dev, rows, seed, 0),
        };
        Ok(host::values(&x.map_err(|e| e.to_string())?.0))
    }
}

/// One model of the comparison.
struct Variant {
    name: &'static str,
    file: &'static str,
    architecture: Architecture,
}

fn variants() -> Vec<Variant> {
    let base = RealNvpConfig::new(2, 8, &[64, 64], 2.0);
    vec![
        Variant {
            name: "RealNVP, 8 affine couplings (2 → 64 → 64 → 2 conditioners)",
            file: "realnvp",
            architecture: Architecture::Coupling(base.clone()),
        },
        Variant {
            name: "same, each coupling after an ActNorm and a fixed random permutation (Glow's step)",
            file: "realnvp_actnorm",
            architecture: Architecture::Coupling(base.clone().with_actnorm().with_shuffle()),
        },
        Variant {
            name: "same, each coupling after an ActNorm and an LU-parameterised invertible linear map (Glow's step with its 1×1 convolution)",
            file: "realnvp_glow_lu",
            architecture: Architecture::Coupling(base.with_actnorm().with_lu()),
        },
        Variant {
            name: "neural spline flow, 4 rational-quadratic spline couplings (8 bins on ±4, identity tails; 2 → 64 → 64 → 23 conditioners)",
            file: "spline",
            architecture: Architecture::Coupling(RealNvpConfig::new(2, 4, &[64, 64], 2.0).with_spline(8, 4.0)),
        },
        Variant {
            name: "MAF, 8 masked autoregressive layers with reversals between them (MADE 2 → 64 → 64 → 4)",
            file: "maf",
            architecture: Architecture::Autoregressive(MafConfig {
                dim: 2,
                layers: 8,
                hidden: vec![64, 64],
                clamp: 2.0,
            }),
        },
    ]
}

/// Held-out NLL (nats, mean over points) and its standard error over points.
fn held_out_nll(flow: &Flow, x: &Matrix<f32, HostDevice>) -> Result<(f64, f64), String> {
    nll_and_error(&flow.log_prob(x)?)
}

/// Mean −log p over points and its standard error over points.
fn nll_and_error(log_prob: &[f64]) -> Result<(f64, f64), String> {
    let nll: Vec<f64> = log_prob.iter().map(|v| -v).collect();
    if nll.iter().any(|v| !v.is_finite()) {
        return Err("a held-out point has a non-finite log-density".into());
    }
    let n = nll.len() as f64;
    let m = nll.iter().sum::<f64>() / n;
    let sd = (nll.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    Ok((m, sd / n.sqrt()))
}

/// The training recipe of every model here.
fn fit_config(steps: usize, seed: u64) -> TrainConfig {
    TrainConfig {
        steps,
        batch_size: 256,
        learning_rate: 2e-3,
        schedule: Schedule::Cosine {
            warmup: 100,
            total: steps,
            min_factor: 0.01,
        },
        validation_fraction: 0.1,
        eval_every: (steps / 25).max(1),
        seed,
        ..TrainConfig::default()
    }
}

struct Run {
    nll: (f64, f64),
    curve: Vec<(f64, f64)>,
    flow: Flow,
}

fn train_one(variant: &Variant, seed: u64, steps: usize, held_out: &Matrix<f32, HostDevice>) -> Result<Run, String> {
    let dev = HostDevice::default();
    let points = two_moons(TRAIN_POINTS, NOISE, 100 + seed);
    let data = Rows::new(points.clone(), 2).map_err(|e| e.to_string())?;
    let cfg = fit_config(steps, seed);
    let err = |e: liouville_tensor::TensorError| e.to_string();
    let (report, flow) = match &variant.architecture {
        Architecture::Coupling(config) => {
            let mut flow = RealNvp::<f32, HostDevice>::from_config(config, &dev, seed).map_err(err)?;
            // Glow's data-dependent initialisation on the first 1,000 training points.
            let first = host::matrix(&dev, points[..2000].iter().copied(), 1000, 2);
            flow.initialise_actnorm(&first).map_err(err)?;
            let report = train(&mut flow, &data, &NegativeLogLikelihood, &cfg).map_err(err)?;
            (report, Flow::Coupling(flow))
        }
        Architecture::Autoregressive(config) => {
            let mut flow = Maf::<f32, HostDevice>::from_config(config, &dev, seed).map_err(err)?;
            let report = train(&mut flow, &data, &NegativeLogLikelihood, &cfg).map_err(err)?;
            (report, Flow::Autoregressive(flow))
        }
    };
    let curve = report.validation_curve.iter().map(|&(s, l)| (s as f64, l)).collect();
    Ok(Run {
        nll: held_out_nll(&flow, held_out)?,
        curve,
        flow,
    })
}

/// Densities at the cell centres of [`GRID`], and sample points.
type DensityAndSamples = (Vec<f64>, Vec<(f64, f64)>);

/// The centres of [`GRID`]'s cells over [`X_RANGE`] × [`Y_RANGE`], row-major `[nx·ny, 2]`.
fn grid_cells() -> Vec<f64> {
    let (nx, ny) = GRID;
    (0..ny)
        .flat_map(|j| {
            (0..nx).flat_map(move |i| {
                let x = X_RANGE.0 + (i as f64 + 0.5) * (X_RANGE.1 - X_RANGE.0) / nx as f64;
                let y = Y_RANGE.0 + (j as f64 + 0.5) * (Y_RANGE.1 - Y_RANGE.0) / ny as f64;
                [x, y]
            })
        })
        .collect()
}

/// The learned density on a grid over the moons, and samples, as a [`DensityMap`]'s data.
fn density_grid(flow: &Flow) -> Result<DensityAndSamples, String> {
    let dev = HostDevice::default();
    let (nx, ny) = (GRID.0, GRID.1);
    let cells = grid_cells();
    let grid = host::matrix(&dev, cells, nx * ny, 2);
    let density = flow.log_prob(&grid)?.iter().map(|v| v.exp()).collect();
    let s = flow.sample(600, 7)?;
    Ok((density, s.chunks(2).map(|p| (p[0], p[1])).collect()))
}

/// Rows [x, c] of two moons with c the one-hot moon: `two_moons` alternates upper and lower.
fn labelled_moons(n: usize, seed: u64) -> Vec<f64> {
    two_moons(n, NOISE, seed)
        .chunks(2)
        .enumerate()
        .flat_map(|(i, p)| {
            let upper = if i % 2 == 0 { 1.0 } else { 0.0 };
            [p[0], p[1], upper, 1.0 - upper]
        })
        .collect()
}

/// Columns `cols` of rows of width 4.
fn columns_of(rows: &[f64], cols: std::ops::Range<usize>) -> Vec<f64> {
    rows.chunks(4).flat_map(|r| r[cols.clone()].to_vec()).collect()
}

/// The conditional flow of the comparison: the spline flow reading the one-hot moon.
fn conditional_config() -> RealNvpConfig {
    RealNvpConfig::new(2, 4, &[64, 64], 2.0)
        .with_spline(8, 4.0)
        .with_condition(2)
}

/// Trains the conditional flow on labelled moons; the held-out conditional NLL and the flow.
/// A held-out NLL with its standard error, and the trained conditional flow.
type ConditionalRun = ((f64, f64), RealNvp<f32, HostDevice>);

fn train_conditional(seed: u64, steps: usize, held_out: &[f64]) -> Result<ConditionalRun, String> {
    let dev = HostDevice::default();
    let err = |e: liouville_tensor::TensorError| e.to_string();
    let data = Rows::new(labelled_moons(TRAIN_POINTS, 100 + seed), 4).map_err(err)?;
    let mut flow = RealNvp::<f32, HostDevice>::from_config(&conditional_config(), &dev, seed).map_err(err)?;
    train(&mut flow, &data, &NegativeLogLikelihood, &fit_config(steps, seed)).map_err(err)?;
    let n = held_out.len() / 4;
    let x = host::matrix(&dev, columns_of(held_out, 0..2), n, 2);
    let c = host::matrix(&dev, columns_of(held_out, 2..4), n, 2);
    let lp = flow
        .log_prob_given(&mut Threaded::new(NoneTape), &x, Some(&c))
        .map_err(err)?;
    Ok((nll_and_error(&host::values(&lp))?, flow))
}

/// p(x | moon) on the grid and 300 samples for that moon.
fn conditional_density_grid(flow: &RealNvp<f32, HostDevice>, upper: bool) -> Result<DensityAndSamples, String> {
    let dev = HostDevice::default();
    let err = |e: liouville_tensor::TensorError| e.to_string();
    let (nx, ny) = GRID;
    let label = if upper { [1.0, 0.0] } else { [0.0, 1.0] };
    let cells = grid_cells();
    let grid = host::matrix(&dev, cells, nx * ny, 2);
    let labels = host::matrix(&dev, (0..nx * ny).flat_map(|_| label), nx * ny, 2);
    let lp = flow
        .log_prob_given(&mut Threaded::new(NoneTape), &grid, Some(&labels))
        .map_err(err)?;
    let density = host::values(&lp).iter().map(|v| v.exp()).collect();
    let c = host::matrix(&dev, (0..300).flat_map(|_| label), 300, 2);
    let s = host::values(&flow.sample_given(&dev, &c, 7, u64::from(upper)).map_err(err)?.0);
    Ok((density, s.chunks(2).map(|p| (p[0], p[1])).collect()))
}

const GRID: (usize, usize) = (105, 65);
const X_RANGE: (f64, f64) = (-1.6, 2.6);
const Y_RANGE: (f64, f64) = (-1.0, 1.6);

/// Runs the reproduction.
pub fn run(args: &ReproduceArgs) -> Result<(), String> {
    let start = Instant::now();
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let dev = HostDevice::default();
    let held_out = host::matrix(&dev, two_moons(HELD_OUT_POINTS, NOISE, 7), HELD_OUT_POINTS, 2);
    let mut rows = Vec::new();
    let mut curves = Vec::new();
    let mut plots = Vec::new();
    for variant in variants() {
        let mut per_seed = Vec::new();
        for seed in 0..args.seeds {
            let t = Instant::now();
            let run = train_one(&variant, seed, args.flow_steps, &held_out)?;
            eprintln!(
                "reproduce flows: {} seed {seed}: held-out NLL {:.4} ± {:.4} nats ({:.0} s)",
                variant.file,
                run.nll.0,
                run.nll.1,
                t.elapsed().as_secs_f64()
            );
            if seed == 0 {
                let (density, samples) = density_grid(&run.flow)?;
                let map = DensityMap {
                    x_range: X_RANGE,
                    y_range: Y_RANGE,
                    nx: GRID.0,
                    ny: GRID.1,
                    values: &density,
                    points: &samples,
                };
                for ext in ["png", "svg"] {
                    let path = args.out.join(format!("flows_{}_density.{ext}", variant.file));
                    let title = format!("two moons: learned p(x) and 600 samples ({})", variant.file);
                    density_map(&path, &title, "x₁", "x₂", &map).map_err(|e| e.to_string())?;
                    plots.push(path);
                }
                curves.push((variant.file, run.curve.clone()));
            }
            per_seed.push(run.nll);
        }
        rows.push((variant, per_seed));
    }
    let labelled_held_out = labelled_moons(HELD_OUT_POINTS, 7);
    let mut conditional = Vec::new();
    for seed in 0..args.seeds {
        let t = Instant::now();
        let (nll, flow) = train_conditional(seed, args.flow_steps, &labelled_held_out)?;
        eprintln!(
            "reproduce flows: conditional spline seed {seed}: held-out NLL given the moon {:.4} ± {:.4} nats ({:.0} s)",
            nll.0,
            nll.1,
            t.elapsed().as_secs_f64()
        );
        if seed == 0 {
            for (upper, which) in [(true, "upper"), (false, "lower")] {
                let (density, samples) = conditional_density_grid(&flow, upper)?;
                let map = DensityMap {
                    x_range: X_RANGE,
                    y_range: Y_RANGE,
                    nx: GRID.0,
                    ny: GRID.1,
                    values: &density,
                    points: &samples,
                };
                for ext in ["png", "svg"] {
                    let path = args.out.join(format!("flows_conditional_{which}_density.{ext}"));
                    let title = format!("two moons: conditional spline flow, p(x | {which} moon) and 300 samples");
                    density_map(&path, &title, "x₁", "x₂", &map).map_err(|e| e.to_string())?;
                    plots.push(path);
                }
            }
        }
        conditional.push(nll);
    }
    for ext in ["png", "svg"] {
        let series: Vec<Series<'_>> = curves.iter().map(|(label, points)| Series { label, points }).collect();
        let path = args.out.join(format!("flows_validation.{ext}"));
        line_chart(
            &path,
            "two moons: validation NLL during training (seed 0)",
            "step",
            "NLL (nats)",
            &series,
        )
        .map_err(|e| e.to_string())?;
        plots.push(path);
    }

    let mut report = String::new();
    writeln!(report, "# Normalizing flows: two moons\n").ok();
    writeln!(
        report,
        "Generated by `cargo xtask reproduce flows --seeds {} --flow-steps {}` in {:.0} s; do not edit by hand.\n",
        args.seeds,
        args.flow_steps,
        start.elapsed().as_secs_f64()
    )
    .ok();
    writeln!(
        report,
        "Data: two moons with noise σ = {NOISE} (scikit-learn's `make_moons` layout), {TRAIN_POINTS} training points drawn afresh per seed (10 % held back for validation), one held-out set of {HELD_OUT_POINTS} points for every model. Training: maximum likelihood with a standard normal base, Adam, learning rate 2e-3 with 100 warm-up steps and a cosine decay, batch 256, {} steps, f32; ActNorms initialised from the first 1,000 training points (Kingma & Dhariwal's data-dependent initialisation). Score: held-out NLL in nats, mean over points (± its standard error over points); the data's entropy, {ENTROPY_FLOOR} ± 0.005 nats, is the floor no model can beat. Issue 11's goal: ≤ {GOAL:.2} nats.\n",
        args.flow_steps
    )
    .ok();
    writeln!(
        report,
        "| model | held-out NLL per seed (nats) | mean ± standard error over seeds | best seed | goal ≤ {GOAL:.2} |"
    )
    .ok();
    writeln!(report, "|---|---|---|---|---|").ok();
    for (variant, per_seed) in &rows {
        let values: Vec<f64> = per_seed.iter().map(|p| p.0).collect();
        let (m, se) = mean_se(&values);
        let best = values.iter().copied().fold(f64::INFINITY, f64::min);
        let seeds: Vec<String> = per_seed.iter().map(|(v, e)| format!("{v:.4} ± {e:.4}")).collect();
        let verdict = if m <= GOAL { "met (mean)" } else { "**not met**" };
        writeln!(
            report,
            "| {} | {} | {m:.4} ± {se:.4} | {best:.4} | {verdict} |",
            variant.name,
            seeds.join(" · ")
        )
        .ok();
    }
    writeln!(report, "\n## Conditional flow: p(x | moon)\n").ok();
    writeln!(
        report,
        "The neural spline flow above with a condition vector read by every coupling's conditioner (a conditional INN): rows [x, c] with c the one-hot moon, the same data, held-out points and training. Given the label, the entropy left is H(x) − I(x; c) ≈ {ENTROPY_FLOOR} − ln 2 = {:.3} nats (the moons barely overlap, so the label carries ≈ ln 2 nats), the floor of the conditional NLL.\n",
        ENTROPY_FLOOR - std::f64::consts::LN_2
    )
    .ok();
    let values: Vec<f64> = conditional.iter().map(|p| p.0).collect();
    let (m, se) = mean_se(&values);
    let seeds: Vec<String> = conditional.iter().map(|(v, e)| format!("{v:.4} ± {e:.4}")).collect();
    writeln!(
        report,
        "| model | held-out NLL of x given the moon, per seed (nats) | mean ± standard error over seeds |"
    )
    .ok();
    writeln!(report, "|---|---|---|").ok();
    writeln!(
        report,
        "| conditional spline flow, 4 couplings, conditioners (1 + 2) → 64 → 64 → 23 | {} | {m:.4} ± {se:.4} |",
        seeds.join(" · ")
    )
    .ok();
    writeln!(report, "\n{}", super::plots_line(&plots)).ok();
    let path = args.out.join("flows.md");
    std::fs::write(&path, report).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("wrote {} in {:.0} s", path.display(), start.elapsed().as_secs_f64());
    Ok(())
}
