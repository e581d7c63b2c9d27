//! The training loop and its step: seeded minibatches of any [`Data`], a validation split, early
//! stopping, learning-rate schedules and clipping, detection of non-finite losses and gradients
//! (which stops with an error and keeps the last good checkpoint), progress (a bar on a
//! terminal, log lines off one), and metrics as JSON lines.
//!
//! [`train`] drives one model with one optimiser; [`Trainer`] is its step, public so a caller can
//! alternate several models and optimisers (a GAN's critic k steps, then its generator) or apply
//! an externally computed gradient ([`Trainer::apply_external`]: CD-k, the adjoint).

use std::io::Write;
use std::path::PathBuf;

use dfdx::prelude::*;
use liouville_base::progress;
use liouville_base::random::Rng;

pub use crate::batch::{Data, Examples, Rows, Supervised, Window, Windows};
use crate::checkpoint::{self, Progress};
use crate::config::Configured;
use crate::energy::Energy;
use crate::mlp::Mlp;
use crate::module::{Module, ParamRef};
use crate::optim::{Optimizer, OptimizerState, Schedule, UpdateInfo};
use crate::{Real, TensorError, host};

/// Training settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Optimiser steps.
    pub steps: usize,
    /// Minibatch size (the whole training split when larger).
    pub batch_size: usize,
    /// Base learning rate.
    pub learning_rate: f64,
    /// Update rule.
    pub optimizer: Optimizer,
    /// Learning-rate schedule.
    pub schedule: Schedule,
    /// Steps already taken by earlier calls on the same model: the schedule continues from here
    /// (training in stages, with an evaluation between them, follows one schedule).
    pub schedule_offset: usize,
    /// Global gradient-norm clip.
    pub clip: Option<f64>,
    /// Fraction of rows held out for validation (0 for none).
    pub validation_fraction: f64,
    /// Evaluate (and log, checkpoint, early-stop) every this many steps.
    pub eval_every: usize,
    /// Stop after this many evaluations without improvement of the validation loss.
    pub patience: Option<usize>,
    /// Relative decrease that counts as an improvement.
    pub min_improvement: f64,
    /// Seed of shuffling.
    pub seed: u64,
    /// Where the best model is checkpointed.
    pub checkpoint: Option<PathBuf>,
    /// Where metrics go, one JSON object per line.
    pub metrics: Option<PathBuf>,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            steps: 1000,
            batch_size: 256,
            learning_rate: 1e-3,
            optimizer: Optimizer::adam(0.0),
            schedule: Schedule::Constant,
            schedule_offset: 0,
            clip: None,
            validation_fraction: 0.0,
            eval_every: 100,
            patience: None,
            min_improvement: 1e-4,
            seed: 0,
            checkpoint: None,
            metrics: None,
            progress: false,
        }
    }
}

/// What training did.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    /// Steps taken.
    pub steps: usize,
    /// (step, training loss) at each evaluation.
    pub train_curve: Vec<(usize, f64)>,
    /// (step, validation loss) at each evaluation (empty without a validation split).
    pub validation_curve: Vec<(usize, f64)>,
    /// Best validation (or training) loss seen.
    pub best_loss: f64,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
}

/// A loss of a model `M` on a batch `B` (by default supervised rows): `(model, batch, tape) ->
/// scalar`.
pub trait Loss<E: Real, D: Device<E>, M, B = Supervised<E, D>> {
    /// The loss with its tape.
    fn loss<T: Tape<E, D> + Merge<T>>(&self, model: &M, batch: &B, tape: T)
    -> Result<Tensor<(), E, D, T>, TensorError>;
}

/// Plain regression: mean squared error of the network's output.
pub struct Regression;

impl<E: Real, D: Device<E>> Loss<E, D, Mlp<E, D>> for Regression {
    fn loss<T: Tape<E, D> + Merge<T>>(
        &self,
        model: &Mlp<E, D>,
        batch: &Supervised<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        let out = model.forward(&batch.inputs, tape)?;
        if out.shape() != batch.targets.shape() {
            return Err(TensorError::ShapeMismatch(format!(
                "output {:?} vs target {:?}",
                out.shape(),
                batch.targets.shape()
            )));
        }
        Ok((out - batch.targets.retaped::<T>()).square().mean())
    }
}

/// The HNN loss (targets are the time derivatives of the inputs).
pub struct Hamiltonian;

impl<E: Real, D: Device<E>, H: Energy<E, D>> Loss<E, D, H> for Hamiltonian {
    fn loss<T: Tape<E, D> + Merge<T>>(
        &self,
        model: &H,
        batch: &Supervised<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        crate::losses::hnn_loss(model, &batch.inputs, &batch.targets, tape)
    }
}

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepInfo {
    /// The loss before the update.
    pub loss: f64,
    /// Global gradient norm before clipping.
    pub gradient_norm: f64,
    /// Learning rate used.
    pub learning_rate: f64,
}

/// One model's optimiser, schedule and clipping: the training step.
#[derive(Debug, Clone)]
pub struct Trainer<E: Real, D: Device<E>> {
    state: OptimizerState<E, D>,
    learning_rate: f64,
    schedule: Schedule,
    clip: Option<f64>,
    step: usize,
}

impl<E: Real, D: Device<E>> Trainer<E, D> {
    /// `optimizer` at a constant `learning_rate` for `model`, no clipping.
    pub fn new(model: &impl Module<E, D>, optimizer: Optimizer, learning_rate: f64) -> Result<Self, TensorError> {
        if !(learning_rate.is_finite() && learning_rate > 0.0) {
            return Err(TensorError::InvalidConfig(format!(
                "learning rate {learning_rate} must be positive"
            )));
        }
        Ok(Self {
            state: OptimizerState::new(optimizer, model)?,
            learning_rate,
            schedule: Schedule::Constant,
            clip: None,
            step: 0,
        })
    }
    /// The optimiser, learning rate, schedule (continuing from `schedule_offset`) and clip of `cfg`.
    pub fn from_config(model: &impl Module<E, D>, cfg: &TrainConfig) -> Result<Self, TensorError> {
        let mut t =
            Self::new(model, cfg.optimizer, cfg.learning_rate)?.with_schedule(cfg.schedule, cfg.schedule_offset);
        t.clip = cfg.clip;
        Ok(t)
    }
    /// Follows `schedule`, as if `offset` steps had been taken already.
    pub fn with_schedule(mut self, schedule: Schedule, offset: usize) -> Self {
        self.schedule = schedule;
        self.step = offset;
        self
    }
    /// Clips the global gradient norm to `clip`.
    pub fn with_clip(mut self, clip: f64) -> Self {
        self.clip = Some(clip);
        self
    }
    /// Steps taken (including the schedule offset).
    pub fn steps(&self) -> usize {
        self.step
    }
    /// The learning rate of the next step.
    pub fn learning_rate(&self) -> f64 {
        self.learning_rate * self.schedule.factor(self.step)
    }

    /// Loss on `batch`, backward, one update. A non-finite loss or gradient is
    /// [`TensorError::NonFinite`] and leaves the model untouched.
    pub fn step<M: Module<E, D>, B, L: Loss<E, D, M, B>>(
        &mut self,
        model: &mut M,
        loss: &L,
        batch: &B,
    ) -> Result<StepInfo, TensorError> {
        let l = loss.loss(model, batch, OwnedTape::default())?;
        let value = host::scalar(&l);
        if !value.is_finite() {
            return Err(TensorError::NonFinite {
                what: "loss",
                step: self.step,
            });
        }
        let mut grads = l.backward();
        let info = self.apply(model, &mut grads)?;
        Ok(StepInfo {
            loss: value,
            gradient_norm: info.gradient_norm,
            learning_rate: info.learning_rate,
        })
    }

    /// One update from gradients the caller computed with dfdx.
    pub fn apply(
        &mut self,
        model: &mut impl Module<E, D>,
        grads: &mut Gradients<E, D>,
    ) -> Result<UpdateInfo, TensorError> {
        let lr = self.learning_rate();
        let info = self.state.update(model, grads, lr, self.clip).map_err(|e| match e {
            TensorError::NonFinite { what, .. } => TensorError::NonFinite { what, step: self.step },
            other => other,
        })?;
        self.step += 1;
        Ok(info)
    }

    /// One update from a gradient computed elsewhere (one host vector per parameter, in
    /// [`Module::parameters`] order), through [`crate::surrogate::gradients`].
    pub fn apply_external(
        &mut self,
        model: &mut impl Module<E, D>,
        gradient: &[Vec<E>],
    ) -> Result<UpdateInfo, TensorError> {
        let mut grads = crate::surrogate::gradients(model, gradient)?;
        self.apply(model, &mut grads)
    }
}

fn device_of<E: Real, D: Device<E>>(model: &impl Module<E, D>) -> Result<D, TensorError> {
    match model.parameters().first() {
        Some((_, ParamRef::Matrix(m))) => Ok(m.device().clone()),
        Some((_, ParamRef::Vector(v))) => Ok(v.device().clone()),
        None => Err(TensorError::InvalidConfig("the model has no parameters".into())),
    }
}

/// The random stream of minibatch orders (epoch e draws stream e + 1, the split stream 0).
fn order(n: usize, seed: u64, stream: u64) -> Vec<usize> {
    Rng::stream(seed, stream).permutation(n)
}

/// Trains `model` in place. On a non-finite loss or gradient it stops with
/// [`TensorError::NonFinite`]; the checkpoint file (if any) still holds the last good model.
pub fn train<E: Real, D: Device<E>, M: Configured<E, D>, S: Data, L: Loss<E, D, M, S::Batch<E, D>>>(
    model: &mut M,
    data: &S,
    loss: &L,
    cfg: &TrainConfig,
) -> Result<TrainReport, TensorError> {
    if cfg.steps == 0
        || cfg.batch_size == 0
        || cfg.eval_every == 0
        || !(0.0..1.0).contains(&cfg.validation_fraction)
        || cfg.learning_rate.is_nan()
        || cfg.learning_rate <= 0.0
    {
        return Err(TensorError::InvalidConfig(format!("invalid training settings {cfg:?}")));
    }
    let device = device_of(model)?;
    let split = order(data.len(), cfg.seed, 0);
    let n_val = (data.len() as f64 * cfg.validation_fraction).round() as usize;
    let (val_rows, train_rows) = split.split_at(n_val);
    if train_rows.is_empty() {
        return Err(TensorError::InvalidConfig(
            "no training rows left after the validation split".into(),
        ));
    }
    let val = match val_rows.is_empty() {
        true => None,
        false => Some(data.batch::<E, D>(&device, val_rows)?),
    };
    let mut trainer = Trainer::from_config(model, cfg)?;
    let mut metrics = match &cfg.metrics {
        Some(p) => {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| TensorError::Io {
                    path: p.clone(),
                    source,
                })?;
            }
            Some((
                std::fs::File::create(p).map_err(|source| TensorError::Io {
                    path: p.clone(),
                    source,
                })?,
                p.clone(),
            ))
        }
        None => None,
    };
    let bar = progress::Progress::new("training", "steps", cfg.steps as u64, cfg.progress);
    let mut report = TrainReport {
        steps: 0,
        train_curve: vec![],
        validation_curve: vec![],
        best_loss: f64::INFINITY,
        stopped_early: false,
    };
    let mut since_best = 0;
    let mut epoch = 0u64;
    let mut cursor = train_rows.len();
    let mut epoch_order: Vec<usize> = Vec::new();
    let batch = cfg.batch_size.min(train_rows.len());
    let mut running = 0.0;
    let mut running_n = 0;
    for step in 0..cfg.steps {
        if cursor + batch > train_rows.len() {
            let perm = order(train_rows.len(), cfg.seed, 1 + epoch);
            epoch_order = perm.into_iter().map(|i| train_rows[i]).collect();
            cursor = 0;
            epoch += 1;
        }
        let rows = &epoch_order[cursor..cursor + batch];
        cursor += batch;
        let batch = data.batch::<E, D>(&device, rows)?;
        let lr = trainer.learning_rate();
        let value = match trainer.step(model, loss, &batch) {
            Ok(info) => info.loss,
            Err(e) => {
                bar.abandon();
                return Err(match e {
                    TensorError::NonFinite { what, .. } => TensorError::NonFinite { what, step },
                    other => other,
                });
            }
        };
        running += value;
        running_n += 1;
        report.steps = step + 1;
        bar.inc(1);
        if (step + 1) % cfg.eval_every == 0 || step + 1 == cfg.steps {
            let train_loss = running / running_n as f64;
            (running, running_n) = (0.0, 0);
            report.train_curve.push((step + 1, train_loss));
            let monitored = match &val {
                Some(vb) => {
                    let v = host::scalar(&loss.loss(model, vb, NoneTape)?);
                    report.validation_curve.push((step + 1, v));
                    v
                }
                None => train_loss,
            };
            if let Some((f, p)) = &mut metrics {
                let val_field = report
                    .validation_curve
                    .last()
                    .map(|v| format!(",\"validation_loss\":{:e}", v.1))
                    .unwrap_or_default();
                writeln!(
                    f,
                    "{{\"step\":{},\"train_loss\":{train_loss:e}{val_field},\"learning_rate\":{lr:e}}}",
                    step + 1
                )
                .map_err(|source| TensorError::Io {
                    path: p.clone(),
                    source,
                })?;
            }
            bar.set_message(format!("loss {monitored:.3e}"));
            if monitored.is_finite() && monitored < report.best_loss * (1.0 - cfg.min_improvement) {
                report.best_loss = monitored;
                since_best = 0;
                if let Some(path) = &cfg.checkpoint {
                    checkpoint::save(
                        model,
                        path,
                        Some(Progress {
                            step: step + 1 + cfg.schedule_offset,
                            loss: monitored,
                        }),
                    )?;
                }
            } else {
                since_best += 1;
                if cfg.patience.is_some_and(|p| since_best >= p) {
                    report.stopped_early = true;
                    break;
                }
            }
        }
    }
    bar.finish();
    Ok(report)
}
