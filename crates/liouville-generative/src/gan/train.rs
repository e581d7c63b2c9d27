//! The two-player loop (improved_wgan_training's `gan_toy.py`, Algorithm 1 of Gulrajani et al.):
//! k critic steps on fresh real and generated batches, then one generator step, each player with
//! its own optimiser state; metrics every `eval_every` iterations, typed checkpoints of both
//! networks, and a stop with [`TensorError::NonFinite`] when a loss or gradient stops being
//! finite, leaving the last good checkpoint on disk.

use std::path::PathBuf;

use liouville_base::progress::Progress;
use liouville_base::random::Rng;
use liouville_tensor::checkpoint;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::energy::Energy;
use liouville_tensor::optim::{Optimizer, Schedule};
use liouville_tensor::train::{Rows, StepInfo, Trainer};
use liouville_tensor::{Real, TensorError, host};

use super::{CriticBatch, CriticLoss, Gan, GeneratorLoss, Objective};

/// Settings of [`train`].
#[derive(Debug, Clone, PartialEq)]
pub struct GanTrainConfig {
    /// Generator steps.
    pub iterations: usize,
    /// Critic steps per generator step (WGAN-GP: 5; the non-saturating GAN: 1).
    pub critic_steps: usize,
    /// Rows per batch (real, generated and interpolated alike).
    pub batch_size: usize,
    /// Learning rate of both players.
    pub learning_rate: f64,
    /// Update rule of both (Gulrajani et al.: Adam, β = (0.5, 0.9)).
    pub optimizer: Optimizer,
    /// Learning-rate schedule of both, over generator steps (the critic's factor follows the
    /// generator step it belongs to). Gulrajani et al.: constant.
    pub schedule: Schedule,
    /// Seed of batches, latents and interpolation weights.
    pub seed: u64,
    /// Record metrics (and checkpoint) every this many iterations.
    pub eval_every: usize,
    /// Where both networks are saved, atomically, at every evaluation.
    pub checkpoint: Option<PathBuf>,
    /// Show progress.
    pub progress: bool,
}

impl GanTrainConfig {
    /// Gulrajani et al.'s settings for `objective`: Adam (0.5, 0.9) at 1e-4, batch 256, 5 critic
    /// steps for WGAN-GP and 1 for the non-saturating GAN.
    pub fn paper(objective: Objective, iterations: usize) -> Self {
        Self {
            iterations,
            critic_steps: match objective {
                Objective::WassersteinGp { .. } => 5,
                Objective::NonSaturating => 1,
            },
            batch_size: 256,
            learning_rate: 1e-4,
            optimizer: Optimizer::Adam {
                beta1: 0.5,
                beta2: 0.9,
                eps: 1e-8,
                weight_decay: 0.0,
            },
            schedule: Schedule::Constant,
            seed: 0,
            eval_every: (iterations / 20).max(1),
            checkpoint: None,
            progress: false,
        }
    }
}

/// Metrics at one evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GanRecord {
    /// Generator steps taken.
    pub iteration: usize,
    /// The last critic loss.
    pub critic_loss: f64,
    /// The last generator loss.
    pub generator_loss: f64,
    /// E[D(x)] − E[D(G(z))] on the last critic batch (the Wasserstein estimate, for WGAN-GP).
    pub critic_gap: f64,
    /// Mean ‖∇ₓD‖ on the last batch's interpolates (WGAN-GP drives it to 1).
    pub interpolate_gradient_norm: f64,
}

/// What training did.
#[derive(Debug, Clone, PartialEq)]
pub struct GanReport {
    /// One record per evaluation.
    pub records: Vec<GanRecord>,
}

/// `rows` random rows of `data` (with replacement) as a matrix.
pub(crate) fn real_batch<E: Real, D: Device<E>>(device: &D, data: &Rows, rows: usize, rng: &mut Rng) -> Matrix<E, D> {
    let n = data.values.len() / data.width;
    let mut v = Vec::with_capacity(rows * data.width);
    for _ in 0..rows {
        let r = rng.below(n as u64) as usize;
        v.extend_from_slice(&data.values[r * data.width..(r + 1) * data.width]);
    }
    host::matrix(device, v, rows, data.width)
}

type Matrix<E, D> = liouville_tensor::shapes::Matrix<E, D>;

/// One critic step on the data rows `real`: as many generated rows G(z) (latents from stream
/// (`seed`, a draw of `rng`)), interpolates x̂ = εx + (1 − ε)G(z) with ε ~ U[0, 1] per row, the
/// critic's loss under the GAN's objective, one update. Returns the step and its batch.
pub fn critic_step<E: Real, D: Device<E>>(
    gan: &mut Gan<E, D>,
    trainer: &mut Trainer<E, D>,
    real: Matrix<E, D>,
    seed: u64,
    rng: &mut Rng,
) -> Result<(StepInfo, CriticBatch<E, D>), TensorError> {
    let device = gan.critic.device().clone();
    let (b, w) = *real.shape();
    let z = gan.latent(&device, b, seed, rng.next_u64());
    let fake = gan.generator.forward(&z, NoneTape)?;
    let eps: Vec<f64> = (0..b).map(|_| rng.uniform()).collect();
    let (rv, fv) = (host::values(&real), host::values(&fake));
    let mixed: Vec<f64> = (0..b * w)
        .map(|i| eps[i / w] * rv[i] + (1.0 - eps[i / w]) * fv[i])
        .collect();
    let batch = CriticBatch {
        interpolates: host::matrix(&device, mixed, b, w),
        real,
        fake,
    };
    let info = trainer.step(&mut gan.critic, &CriticLoss(gan.config.objective), &batch)?;
    Ok((info, batch))
}

/// `schedule` (over generator steps) restated over critic steps, `k` per generator step.
fn per_critic_step(schedule: Schedule, k: usize) -> Schedule {
    match schedule {
        Schedule::Constant => Schedule::Constant,
        Schedule::Cosine {
            warmup,
            total,
            min_factor,
        } => Schedule::Cosine {
            warmup: warmup * k,
            total: total * k,
            min_factor,
        },
        Schedule::OneCycle {
            total,
            pct_start,
            div_factor,
            final_div_factor,
        } => Schedule::OneCycle {
            total: total * k,
            pct_start,
            div_factor,
            final_div_factor,
        },
    }
}

/// Trains `gan` on the rows of `data` in place.
pub fn train<E: Real, D: Device<E>>(
    gan: &mut Gan<E, D>,
    data: &Rows,
    cfg: &GanTrainConfig,
) -> Result<GanReport, TensorError> {
    if data.width != gan.config.data_dim {
        return Err(TensorError::ShapeMismatch(format!(
            "data rows have {} columns, the GAN generates {}",
            data.width, gan.config.data_dim
        )));
    }
    if cfg.iterations == 0 || cfg.critic_steps == 0 || cfg.batch_size == 0 || cfg.eval_every == 0 {
        return Err(TensorError::InvalidConfig(format!(
            "invalid GAN training settings {cfg:?}"
        )));
    }
    if let Some(i) = data.values.iter().position(|v| !v.is_finite()) {
        return Err(TensorError::NonFiniteInput(format!(
            "GAN data: row {}, column {} is {}",
            i / data.width,
            i % data.width,
            data.values[i]
        )));
    }
    let device = gan.critic.device().clone();
    let objective = gan.config.objective;
    let mut critic_trainer = Trainer::new(&gan.critic, cfg.optimizer, cfg.learning_rate)?
        .with_schedule(per_critic_step(cfg.schedule, cfg.critic_steps), 0);
    let mut generator_trainer =
        Trainer::new(&gan.generator, cfg.optimizer, cfg.learning_rate)?.with_schedule(cfg.schedule, 0);
    let mut rng = Rng::stream(cfg.seed, 0x6A11);
    let bar = Progress::new("GAN training", "iterations", cfg.iterations as u64, cfg.progress);
    let mut report = GanReport { records: Vec::new() };
    let mut critic_loss = f64::NAN;
    // The last critic batch: its gap and interpolate gradients are measured only at evaluations
    // (the critic does not change between its last step and the evaluation).
    let mut last_batch: Option<CriticBatch<E, D>> = None;
    let b = cfg.batch_size;
    for iteration in 1..=cfg.iterations {
        for _ in 0..cfg.critic_steps {
            let real = real_batch::<E, D>(&device, data, b, &mut rng);
            let (info, batch) =
                critic_step(gan, &mut critic_trainer, real, cfg.seed, &mut rng).inspect_err(|_| bar.finish())?;
            critic_loss = info.loss;
            last_batch = Some(batch);
        }
        let z = gan.latent(&device, b, cfg.seed, rng.next_u64());
        let loss = GeneratorLoss {
            critic: &gan.critic,
            objective,
        };
        let info = generator_trainer
            .step(&mut gan.generator, &loss, &z)
            .inspect_err(|_| bar.finish())?;
        bar.inc(1);
        if iteration % cfg.eval_every == 0 || iteration == cfg.iterations {
            // Finite losses before an update do not make the updated networks finite: probe them
            // before anything is recorded or checkpointed.
            let probe = gan.sample(&device, b, cfg.seed, u64::MAX)?;
            let scores = gan.critic.forward(&probe, NoneTape)?;
            if host::values(&probe)
                .iter()
                .chain(&host::values(&scores))
                .any(|v| !v.is_finite())
            {
                bar.finish();
                return Err(TensorError::NonFinite {
                    what: "generated sample or critic score",
                    step: iteration,
                });
            }
            let (critic_gap, norm) = match &last_batch {
                Some(batch) => {
                    let d_real = host::values(&gan.critic.forward(&batch.real, NoneTape)?);
                    let d_fake = host::values(&gan.critic.forward(&batch.fake, NoneTape)?);
                    let gap = d_real.iter().sum::<f64>() / b as f64 - d_fake.iter().sum::<f64>() / b as f64;
                    let g = host::values(&gan.critic.derivatives(&batch.interpolates, &[], NoneTape)?.gradient);
                    let w = data.width;
                    let norm = g
                        .chunks(w)
                        .map(|r| r.iter().map(|v| v * v).sum::<f64>().sqrt())
                        .sum::<f64>()
                        / (g.len() / w) as f64;
                    (gap, norm)
                }
                None => (f64::NAN, f64::NAN),
            };
            let record = GanRecord {
                iteration,
                critic_loss,
                generator_loss: info.loss,
                critic_gap,
                interpolate_gradient_norm: norm,
            };
            bar.set_message(format!("critic {critic_loss:.4}, generator {:.4}", info.loss));
            if let Some(path) = &cfg.checkpoint {
                checkpoint::save(gan, path, None)?;
            }
            report.records.push(record);
        }
    }
    bar.finish();
    Ok(report)
}
