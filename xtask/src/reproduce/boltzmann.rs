//! `cargo xtask reproduce boltzmann`: a Boltzmann generator (Noé, Olsson, Köhler & Wu 2019) on
//! bgflow's double well u = x⁴ − 4x² + y²/2, whose ln Z = 5.21194, ⟨u⟩ = −2.921 and P(x > 0) = ½
//! are known (`shared/reference/README.md`; our quadrature agrees). A RealNVP is trained two
//! ways — by energy alone (reverse KL with β annealed from 0.01 to 1, bgflow's and normflows'
//! recipe) and by example (maximum likelihood on random-walk Metropolis samples) — and scored by
//! importance sampling: ln Z with its error, Kish's ESS, and reweighted P(x > 0) and ⟨u⟩.
//! Writes `docs/results/boltzmann.md`, samples over the exact density and ln Z during training.

use std::fmt::Write as _;
use std::time::Instant;

use liouville::plot::{DensityMap, Series, density_map, line_chart};
use liouville_generative::boltzmann::draw;
use liouville_generative::boltzmann::mcmc::{MetropolisConfig, metropolis};
use liouville_generative::boltzmann::target::{DoubleWell, TargetEnergy};
use liouville_generative::boltzmann::train::{BoltzmannRecord, BoltzmannTrainConfig, train};
use liouville_generative::flow::{RealNvp, RealNvpConfig};
use liouville_tensor::config::Configured;
use liouville_tensor::device::HostDevice;
use liouville_tensor::optim::Schedule;
use liouville_tensor::train::Rows;

use super::{ReproduceArgs, mean_se};

/// Issue 11's goals: |ln Z − 5.21194| ≤ 0.05 and |P(x > 0) − ½| ≤ 0.01.
const LOG_Z_GOAL: f64 = 0.05;
const BALANCE_GOAL: f64 = 0.01;
/// Flow samples behind each final estimate.
const EVAL_SAMPLES: usize = 100_000;
/// Metropolis chains of the reference samples (each `args.bg_mcmc_samples / CHAINS` long).
const CHAINS: usize = 50;

type Flow = RealNvp<f32, HostDevice>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Energy,
    Example,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Energy => "by energy: reverse KL, β annealed 0.01 → 1 over the first half",
            Method::Example => "by example: maximum likelihood on Metropolis samples",
        }
    }
    fn file(self) -> &'static str {
        match self {
            Method::Energy => "reverse_kl",
            Method::Example => "likelihood",
        }
    }
}

/// The final importance-sampling estimates of one trained flow.
struct Scores {
    log_z: (f64, f64),
    efficiency: f64,
    positive: (f64, f64),
    raw_positive: f64,
    energy: (f64, f64),
}

struct Run {
    scores: Scores,
    records: Vec<BoltzmannRecord>,
    samples: Vec<(f64, f64)>,
    seconds: f64,
}

fn config(method: Method, steps: usize, seed: u64) -> BoltzmannTrainConfig {
    let base = match method {
        Method::Energy => BoltzmannTrainConfig::reverse_kl(steps),
        Method::Example => BoltzmannTrainConfig {
            batch_size: 256,
            ..BoltzmannTrainConfig::likelihood(steps)
        },
    };
    BoltzmannTrainConfig {
        learning_rate: 2e-3,
        schedule: Schedule::Cosine {
            warmup: 100,
            total: steps,
            min_factor: 0.02,
        },
        seed,
        eval_every: (steps / 30).max(1),
        eval_samples: 4096,
        ..base
    }
}

fn train_one(method: Method, seed: u64, steps: usize, samples: Option<&Rows>) -> Result<Run, String> {
    let t = Instant::now();
    let dev = HostDevice::default();
    let target = DoubleWell::bgflow();
    let flow_config = RealNvpConfig::new(2, 6, &[64, 64], 2.0);
    let mut flow = Flow::from_config(&flow_config, &dev, seed).map_err(|e| e.to_string())?;
    if method == Method::Example {
        // Maximum likelihood from the identity is stuck on a saddle for these samples (x and y
        // independent, x symmetric; `RealNvp::perturb_conditioners`).
        flow.perturb_conditioners(0.1, seed).map_err(|e| e.to_string())?;
    }
    let report = train(&mut flow, &target, samples, &config(method, steps, seed)).map_err(|e| e.to_string())?;
    let s = draw(&flow, &target, &dev, EVAL_SAMPLES, 1000 + seed, 0).map_err(|e| e.to_string())?;
    let z = s.log_partition();
    let positive = s.expectation(|x| if x[0] > 0.0 { 1.0 } else { 0.0 });
    let energy = s.expectation(|x| target.energy(x.insert_axis(ndarray::Axis(0)))[0]);
    let raw_positive = s.x.column(0).iter().filter(|&&v| v > 0.0).count() as f64 / s.x.nrows() as f64;
    let shown = s.x.rows().into_iter().take(1500).map(|r| (r[0], r[1])).collect();
    Ok(Run {
        scores: Scores {
            log_z: (z.value, z.error),
            efficiency: s.efficiency(),
            positive: (positive.value, positive.error),
            raw_positive,
            energy: (energy.value, energy.error),
        },
        records: report.records,
        samples: shown,
        seconds: t.elapsed().as_secs_f64(),
    })
}

const GRID: (usize, usize) = (120, 80);
const X_RANGE: (f64, f64) = (-2.4, 2.4);
const Y_RANGE: (f64, f64) = (-3.2, 3.2);

/// The exact density e^{−u}/Z at the cell centres.
fn exact_density(target: &DoubleWell) -> Vec<f64> {
    let (nx, ny) = GRID;
    let log_z = target.log_partition();
    let cells: Vec<f64> = (0..ny)
        .flat_map(|j| {
            (0..nx).flat_map(move |i| {
                let x = X_RANGE.0 + (i as f64 + 0.5) * (X_RANGE.1 - X_RANGE.0) / nx as f64;
                let y = Y_RANGE.0 + (j as f64 + 0.5) * (Y_RANGE.1 - Y_RANGE.0) / ny as f64;
                [x, y]
            })
        })
        .collect();
    let x = ndarray::Array2::from_shape_vec((nx * ny, 2), cells).expect("grid shape");
    target.energy(x.view()).iter().map(|u| (-u - log_z).exp()).collect()
}

/// Runs the reproduction.
pub fn run(args: &ReproduceArgs) -> Result<(), String> {
    let start = Instant::now();
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let target = DoubleWell::bgflow();
    let exact = (
        target.log_partition(),
        target.probability_positive(),
        target.mean_energy(),
    );
    let density = exact_density(&target);
    let mut plots = Vec::new();
    let mut table = Vec::new();
    let mut curves: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    let mut mcmc_line = String::new();
    for method in [Method::Energy, Method::Example] {
        let mut runs = Vec::new();
        for seed in 0..args.seeds {
            let samples = if method == Method::Example {
                let per_chain = (args.bg_mcmc_samples / CHAINS).max(1);
                let mcmc = metropolis(&target, &MetropolisConfig::new(CHAINS, per_chain, 500 + seed))
                    .map_err(|e| e.to_string())?;
                let positive =
                    mcmc.samples.column(0).iter().filter(|&&v| v > 0.0).count() as f64 / mcmc.samples.nrows() as f64;
                if seed == 0 {
                    mcmc_line = format!(
                        "{CHAINS} chains × {per_chain} samples, 1,000 burn-in steps, 10 steps apart, proposal σ = 0.5 (seed 0: acceptance {:.1} %, fraction with x > 0 {:.3})",
                        100.0 * mcmc.acceptance,
                        positive
                    );
                }
                Some(Rows::new(mcmc.samples.iter().copied().collect(), 2).map_err(|e| e.to_string())?)
            } else {
                None
            };
            let run = train_one(method, seed, args.bg_steps, samples.as_ref())?;
            let s = &run.scores;
            eprintln!(
                "reproduce boltzmann: {} seed {seed}: ln Z {:.4} ± {:.4}, ESS {:.1} %, P(x>0) {:.4} ± {:.4} ({:.0} s)",
                method.file(),
                s.log_z.0,
                s.log_z.1,
                100.0 * s.efficiency,
                s.positive.0,
                s.positive.1,
                run.seconds
            );
            if seed == 0 {
                let map = DensityMap {
                    x_range: X_RANGE,
                    y_range: Y_RANGE,
                    nx: GRID.0,
                    ny: GRID.1,
                    values: &density,
                    points: &run.samples,
                };
                for ext in ["png", "svg"] {
                    let path = args.out.join(format!("boltzmann_{}_samples.{ext}", method.file()));
                    let title = format!("double well: exact p(x) and 1,500 flow samples ({})", method.file());
                    density_map(&path, &title, "x", "y", &map).map_err(|e| e.to_string())?;
                    plots.push(path);
                }
                curves.push((
                    format!("ln Z estimate, {}", method.file()),
                    run.records
                        .iter()
                        .map(|r| (r.iteration as f64, r.log_partition))
                        .collect(),
                ));
            }
            runs.push(run);
        }
        table.push((method, runs));
    }
    let exact_line = vec![(0.0, exact.0), (args.bg_steps as f64, exact.0)];
    for ext in ["png", "svg"] {
        let mut series: Vec<Series<'_>> = curves.iter().map(|(label, points)| Series { label, points }).collect();
        series.push(Series {
            label: "exact ln Z = 5.21194",
            points: &exact_line,
        });
        let path = args.out.join(format!("boltzmann_log_partition.{ext}"));
        line_chart(
            &path,
            "double well: importance-sampled ln Z during training (seed 0, 4,096 samples each)",
            "step",
            "ln Z",
            &series,
        )
        .map_err(|e| e.to_string())?;
        plots.push(path);
    }

    let mut report = String::new();
    writeln!(report, "# Boltzmann generators: the double well\n").ok();
    writeln!(
        report,
        "Generated by `cargo xtask reproduce boltzmann --seeds {} --bg-steps {} --bg-mcmc-samples {}` in {:.0} s; do not edit by hand.\n",
        args.seeds,
        args.bg_steps,
        args.bg_mcmc_samples,
        start.elapsed().as_secs_f64()
    )
    .ok();
    writeln!(
        report,
        "Target: bgflow's `DoubleWellEnergy`, u(x, y) = x⁴ − 4x² + y²/2 (wells at x = ±√2, a barrier of 4 kT). Exact values by quadrature: ln Z = {:.5}, P(x > 0) = {:.3}, ⟨u⟩ = {:.4} (reference: 5.21194, ½, −2.921). Flow: RealNVP, 6 affine couplings with 2 → 64 → 64 → 2 conditioners, standard normal base, f32; for training by example the conditioners' last layers start from U(−0.1, 0.1) instead of zero (from the identity, maximum likelihood on samples with independent, symmetric coordinates sits on a saddle and never learns the second well: ESS 34 % on every seed, the identity's own). Training: Adam, learning rate 2e-3 with 100 warm-up steps and a cosine decay to 2 %, gradients clipped to norm 10, {} steps of 256 latents (by energy) or 256 samples drawn with replacement (by example). Reference samples for training by example: {mcmc_line}. Scores: {EVAL_SAMPLES} fresh flow samples x with importance weights w = e^{{−u(x)}}/q(x): ln Z = ln mean w (± its delta-method standard error), ESS = (Σw)²/Σw² as a fraction of the samples, and self-normalised P(x > 0) and ⟨u⟩ (± their standard errors); \"raw\" is the unweighted fraction of samples with x > 0, which shows whether the flow itself covers both wells. Issue 11's goals: |ln Z − 5.21194| ≤ {LOG_Z_GOAL} and |P(x > 0) − ½| ≤ {BALANCE_GOAL}.\n",
        exact.0,
        exact.1,
        exact.2,
        args.bg_steps
    )
    .ok();
    writeln!(
        report,
        "| training | seed | ln Z | \\|Δ ln Z\\| | ESS | P(x > 0) reweighted | raw P(x > 0) | ⟨u⟩ reweighted | seconds |"
    )
    .ok();
    writeln!(report, "|---|---|---|---|---|---|---|---|---|").ok();
    let mut verdicts = Vec::new();
    for (method, runs) in &table {
        for (seed, run) in runs.iter().enumerate() {
            let s = &run.scores;
            writeln!(
                report,
                "| {} | {seed} | {:.4} ± {:.4} | {:.4} | {:.1} % | {:.4} ± {:.4} | {:.3} | {:.3} ± {:.3} | {:.0} |",
                method.name(),
                s.log_z.0,
                s.log_z.1,
                (s.log_z.0 - exact.0).abs(),
                100.0 * s.efficiency,
                s.positive.0,
                s.positive.1,
                s.raw_positive,
                s.energy.0,
                s.energy.1,
                run.seconds
            )
            .ok();
        }
        let log_z: Vec<f64> = runs.iter().map(|r| r.scores.log_z.0).collect();
        let positive: Vec<f64> = runs.iter().map(|r| r.scores.positive.0).collect();
        let worst_z = log_z.iter().map(|v| (v - exact.0).abs()).fold(0.0, f64::max);
        let worst_p = positive.iter().map(|v| (v - 0.5).abs()).fold(0.0, f64::max);
        let (mz, sez) = mean_se(&log_z);
        let met = worst_z <= LOG_Z_GOAL && worst_p <= BALANCE_GOAL;
        verdicts.push(format!(
            "- {}: ln Z {mz:.4} ± {sez:.4} over seeds; worst |Δ ln Z| {worst_z:.4}, worst |P(x > 0) − ½| {worst_p:.4} — {}.",
            method.name(),
            if met {
                "both goals met on every seed"
            } else {
                "**not met on every seed**"
            }
        ));
    }
    writeln!(report, "\n{}\n", verdicts.join("\n")).ok();
    writeln!(report, "{}", super::plots_line(&plots)).ok();
    let path = args.out.join("boltzmann.md");
    std::fs::write(&path, report).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("wrote {} in {:.0} s", path.display(), start.elapsed().as_secs_f64());
    Ok(())
}
