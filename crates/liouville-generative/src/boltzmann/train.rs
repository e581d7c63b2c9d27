//! The Boltzmann generator's training loop: at each step fresh latents z ~ 𝒩(0, I) for the
//! reverse KL and/or a batch of reference samples (drawn with replacement) for the likelihood,
//! one update of [`super::BoltzmannLoss`], the inverse temperature β of the KL term annealed
//! towards 1, and every `eval_every` steps an importance-sampling estimate of ln Z and the
//! sampling efficiency (Kish's ESS / N) at β = 1, with an atomic checkpoint of the flow.
//!
//! A loss, gradient or flow sample that stops being finite stops training with
//! [`TensorError::NonFinite`], leaving the last good checkpoint on disk.

use std::path::PathBuf;

use liouville_base::progress::Progress;
use liouville_base::random::Rng;
use liouville_tensor::bijection::Bijection;
use liouville_tensor::checkpoint;
use liouville_tensor::config::Configured;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::optim::{Optimizer, Schedule};
use liouville_tensor::train::{Rows, Trainer};
use liouville_tensor::{Real, TensorError};

use super::target::TargetEnergy;
use super::{BoltzmannBatch, BoltzmannLoss, draw};
use crate::flow::standard_normal_latents;
use crate::gan::train::real_batch;

/// Linear annealing of the reverse-KL term's inverse temperature:
/// β(t) = min(1, β₀ + (1 − β₀) t / steps) (normflows' examples start at β₀ = 0.01).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Annealing {
    /// β₀ in (0, 1].
    pub start: f64,
    /// Steps to reach β = 1.
    pub steps: usize,
}

impl Annealing {
    /// β at step `t` (0-based).
    pub fn beta(&self, t: usize) -> f64 {
        (self.start + (1.0 - self.start) * t as f64 / self.steps.max(1) as f64).min(1.0)
    }
}

/// Settings of [`train`].
#[derive(Debug, Clone, PartialEq)]
pub struct BoltzmannTrainConfig {
    /// Updates.
    pub iterations: usize,
    /// Latents and samples per step.
    pub batch_size: usize,
    /// Base learning rate.
    pub learning_rate: f64,
    /// Update rule.
    pub optimizer: Optimizer,
    /// Learning-rate schedule over the updates.
    pub schedule: Schedule,
    /// w_KL (energy training).
    pub reverse_kl: f64,
    /// w_ML (training on samples; needs them).
    pub likelihood: f64,
    /// β of the KL term over the steps; `None` keeps β = 1.
    pub annealing: Option<Annealing>,
    /// Global gradient-norm clip.
    pub clip: Option<f64>,
    /// Seed of latents and sample batches.
    pub seed: u64,
    /// Estimate ln Z (and checkpoint) every this many steps, and after the last.
    pub eval_every: usize,
    /// Flow samples per estimate.
    pub eval_samples: usize,
    /// Where the flow is saved, atomically, at every estimate.
    pub checkpoint: Option<PathBuf>,
    /// Show progress.
    pub progress: bool,
}

impl BoltzmannTrainConfig {
    /// Training by energy: reverse KL alone, Adam at 1e-3 with gradients clipped to norm 10,
    /// batch 256, β annealed from 0.01 over the first half, 20 estimates of 4,096 samples.
    pub fn reverse_kl(iterations: usize) -> Self {
        Self {
            iterations,
            batch_size: 256,
            learning_rate: 1e-3,
            optimizer: Optimizer::adam(0.0),
            schedule: Schedule::Constant,
            reverse_kl: 1.0,
            likelihood: 0.0,
            annealing: Some(Annealing {
                start: 0.01,
                steps: iterations / 2,
            }),
            clip: Some(10.0),
            seed: 0,
            eval_every: (iterations / 20).max(1),
            eval_samples: 4096,
            checkpoint: None,
            progress: false,
        }
    }

    /// Training by example: maximum likelihood alone on reference samples (bgflow's example:
    /// Adam at 5e-3, batch 32 — here 128 rows at 1e-3 for smoother estimates).
    pub fn likelihood(iterations: usize) -> Self {
        Self {
            reverse_kl: 0.0,
            likelihood: 1.0,
            annealing: None,
            batch_size: 128,
            ..Self::reverse_kl(iterations)
        }
    }
}

/// One estimate during training.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoltzmannRecord {
    /// Updates taken.
    pub iteration: usize,
    /// The last step's loss (at its β).
    pub loss: f64,
    /// β of the last step.
    pub beta: f64,
    /// ln Z by importance sampling at β = 1.
    pub log_partition: f64,
    /// Its standard error.
    pub log_partition_error: f64,
    /// Kish's ESS / N of the estimate's samples.
    pub efficiency: f64,
}

/// What training did.
#[derive(Debug, Clone, PartialEq)]
pub struct BoltzmannReport {
    /// One record per estimate.
    pub records: Vec<BoltzmannRecord>,
}

fn check(
    dim: usize,
    target: &dyn TargetEnergy,
    samples: Option<&Rows>,
    cfg: &BoltzmannTrainConfig,
) -> Result<(), TensorError> {
    if target.dim() != dim {
        return Err(TensorError::ShapeMismatch(format!(
            "a target energy of dimension {} for a flow of dimension {dim}",
            target.dim()
        )));
    }
    let weights_ok = cfg.reverse_kl.is_finite()
        && cfg.likelihood.is_finite()
        && cfg.reverse_kl >= 0.0
        && cfg.likelihood >= 0.0
        && cfg.reverse_kl + cfg.likelihood > 0.0;
    let annealing_ok = cfg.annealing.is_none_or(|a| a.start > 0.0 && a.start <= 1.0);
    if cfg.iterations == 0
        || cfg.batch_size == 0
        || cfg.eval_every == 0
        || cfg.eval_samples < 2
        || !weights_ok
        || !annealing_ok
    {
        return Err(TensorError::InvalidConfig(format!(
            "invalid Boltzmann-generator training settings: {} iterations, batch {}, eval every {} with {} \
             samples, weights KL {} / ML {} (non-negative, not both zero), annealing {:?} (β₀ in (0, 1])",
            cfg.iterations,
            cfg.batch_size,
            cfg.eval_every,
            cfg.eval_samples,
            cfg.reverse_kl,
            cfg.likelihood,
            cfg.annealing
        )));
    }
    if cfg.likelihood > 0.0 {
        let rows = samples.ok_or_else(|| {
            TensorError::InvalidConfig(format!(
                "likelihood weight {} needs samples of the target",
                cfg.likelihood
            ))
        })?;
        if rows.width != dim || rows.values.is_empty() || rows.values.len() % dim != 0 {
            return Err(TensorError::ShapeMismatch(format!(
                "{} sample values in rows of width {} for a flow of dimension {dim}",
                rows.values.len(),
                rows.width
            )));
        }
        if let Some(i) = rows.values.iter().position(|v| !v.is_finite()) {
            return Err(TensorError::NonFiniteInput(format!(
                "Boltzmann-generator samples: row {}, column {} is {}",
                i / dim,
                i % dim,
                rows.values[i]
            )));
        }
    }
    Ok(())
}

/// Trains `flow` in place towards p ∝ e^{−u} of `target`, by reverse KL, by likelihood on
/// `samples`, or both, as `cfg` weighs them.
pub fn train<E: Real, D: Device<E>, F: Bijection<E, D> + Configured<E, D>>(
    flow: &mut F,
    target: &dyn TargetEnergy,
    samples: Option<&Rows>,
    cfg: &BoltzmannTrainConfig,
) -> Result<BoltzmannReport, TensorError> {
    let n = flow.dim();
    check(n, target, samples, cfg)?;
    let device: D = match flow.parameters().first() {
        Some((_, liouville_tensor::module::ParamRef::Matrix(m))) => m.device().clone(),
        Some((_, liouville_tensor::module::ParamRef::Vector(v))) => v.device().clone(),
        None => return Err(TensorError::InvalidConfig("the flow has no parameters".into())),
    };
    let mut trainer = Trainer::new(flow, cfg.optimizer, cfg.learning_rate)?.with_schedule(cfg.schedule, 0);
    if let Some(clip) = cfg.clip {
        trainer = trainer.with_clip(clip);
    }
    let mut rng = Rng::stream(cfg.seed, 0xB01);
    let bar = Progress::new("Boltzmann generator", "steps", cfg.iterations as u64, cfg.progress);
    let mut report = BoltzmannReport { records: Vec::new() };
    let b = cfg.batch_size;
    for step in 0..cfg.iterations {
        let beta = cfg.annealing.map_or(1.0, |a| a.beta(step));
        let batch = BoltzmannBatch {
            latents: (cfg.reverse_kl > 0.0).then(|| standard_normal_latents(&device, b, n, cfg.seed, step as u64)),
            samples: match samples {
                Some(rows) if cfg.likelihood > 0.0 => Some(real_batch::<E, D>(&device, rows, b, &mut rng)),
                _ => None,
            },
        };
        let loss = BoltzmannLoss {
            target,
            beta,
            reverse_kl: cfg.reverse_kl,
            likelihood: cfg.likelihood,
        };
        let info = trainer.step(flow, &loss, &batch).inspect_err(|_| bar.finish())?;
        bar.inc(1);
        let iteration = step + 1;
        if iteration % cfg.eval_every == 0 || iteration == cfg.iterations {
            // Estimates draw from streams above every step's, so they never reuse a latent.
            let eval_stream = u64::MAX - iteration as u64;
            let s =
                draw(flow, target, &device, cfg.eval_samples, cfg.seed, eval_stream).inspect_err(|_| bar.finish())?;
            if s.x.iter().any(|v| !v.is_finite()) || s.non_finite() == s.log_weights.len() {
                bar.finish();
                return Err(TensorError::NonFinite {
                    what: "flow sample",
                    step: iteration,
                });
            }
            let z = s.log_partition();
            let record = BoltzmannRecord {
                iteration,
                loss: info.loss,
                beta,
                log_partition: z.value,
                log_partition_error: z.error,
                efficiency: s.efficiency(),
            };
            bar.set_message(format!(
                "loss {:.4}, ln Z {:.4} ± {:.4}, ESS {:.1} %",
                info.loss,
                z.value,
                z.error,
                100.0 * record.efficiency
            ));
            if let Some(path) = &cfg.checkpoint {
                checkpoint::save(flow, path, None).inspect_err(|_| bar.finish())?;
            }
            report.records.push(record);
        }
    }
    bar.finish();
    Ok(report)
}
