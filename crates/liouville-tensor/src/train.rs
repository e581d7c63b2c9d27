//! The training loop: seeded shuffling and minibatches, a validation split, early stopping,
//! learning-rate schedules and clipping, detection of non-finite losses and gradients (which
//! stops with an error and keeps the last good checkpoint), an indicatif progress bar, and
//! metrics as JSON lines.

use std::io::Write;
use std::path::PathBuf;

use dfdx::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};

use crate::checkpoint;
use crate::energy::Energy;
use crate::mlp::{Matrix, Mlp};
use crate::module::{Module, ParamRef};
use crate::optim::{Optimizer, OptimizerState, Schedule};
use crate::{Real, TensorError};

/// Inputs and targets on the host, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Examples {
    /// `[rows, input]`.
    pub inputs: Vec<f64>,
    /// `[rows, target]`.
    pub targets: Vec<f64>,
    /// Input width.
    pub input_width: usize,
    /// Target width.
    pub target_width: usize,
}

impl Examples {
    /// Validates that both arrays hold the same number of finite rows.
    pub fn new(
        inputs: Vec<f64>,
        input_width: usize,
        targets: Vec<f64>,
        target_width: usize,
    ) -> Result<Self, TensorError> {
        if input_width == 0
            || target_width == 0
            || !inputs.len().is_multiple_of(input_width)
            || !targets.len().is_multiple_of(target_width)
        {
            return Err(TensorError::ShapeMismatch(
                "array lengths are not multiples of their widths".into(),
            ));
        }
        if inputs.len() / input_width != targets.len() / target_width || inputs.is_empty() {
            return Err(TensorError::ShapeMismatch(
                "inputs and targets have different row counts".into(),
            ));
        }
        if inputs.iter().chain(&targets).any(|v| !v.is_finite()) {
            return Err(TensorError::NonFinite {
                what: "training data",
                step: 0,
            });
        }
        Ok(Self {
            inputs,
            targets,
            input_width,
            target_width,
        })
    }
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.inputs.len() / self.input_width
    }
    fn gather<E: Real, D: Device<E>>(&self, device: &D, rows: &[usize]) -> (Matrix<E, D>, Matrix<E, D>) {
        let pick = |data: &[f64], w: usize| -> Vec<E> {
            rows.iter()
                .flat_map(|&r| data[r * w..(r + 1) * w].iter().map(|&v| E::of(v)))
                .collect()
        };
        (
            device.tensor_from_vec(pick(&self.inputs, self.input_width), (rows.len(), self.input_width)),
            device.tensor_from_vec(pick(&self.targets, self.target_width), (rows.len(), self.target_width)),
        )
    }
}

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

/// A loss of a model `M` on a batch: `(model, inputs, targets, tape) -> scalar`.
pub trait Loss<E: Real, D: Device<E>, M> {
    /// The loss with its tape.
    fn loss<T: Tape<E, D> + Merge<T>>(
        &self,
        model: &M,
        x: &Matrix<E, D>,
        y: &Matrix<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError>;
}

/// Plain regression: mean squared error of the network's output.
pub struct Regression;

impl<E: Real, D: Device<E>> Loss<E, D, Mlp<E, D>> for Regression {
    fn loss<T: Tape<E, D> + Merge<T>>(
        &self,
        model: &Mlp<E, D>,
        x: &Matrix<E, D>,
        y: &Matrix<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        let out = model.forward(x, tape)?;
        if out.shape() != y.shape() {
            return Err(TensorError::ShapeMismatch(format!(
                "output {:?} vs target {:?}",
                out.shape(),
                y.shape()
            )));
        }
        Ok((out - y.retaped::<T>()).square().mean())
    }
}

/// The HNN loss (targets are the time derivatives of the inputs).
pub struct Hamiltonian;

impl<E: Real, D: Device<E>, H: Energy<E, D>> Loss<E, D, H> for Hamiltonian {
    fn loss<T: Tape<E, D> + Merge<T>>(
        &self,
        model: &H,
        x: &Matrix<E, D>,
        y: &Matrix<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        crate::losses::hnn_loss(model, x, y, tape)
    }
}

fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut state = seed ^ 0xA076_1D64_78BD_642F;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, (next() % (i as u64 + 1)) as usize);
    }
    order
}

/// Trains `model` in place. On a non-finite loss or gradient it stops with
/// [`TensorError::NonFinite`]; the checkpoint file (if any) still holds the last good model.
pub fn train<E: Real, D: Device<E>, M: Module<E, D>, L: Loss<E, D, M>>(
    model: &mut M,
    data: &Examples,
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
    let device = match model.parameters().first() {
        Some((_, ParamRef::Matrix(m))) => m.device().clone(),
        Some((_, ParamRef::Vector(v))) => v.device().clone(),
        None => return Err(TensorError::InvalidConfig("the model has no parameters".into())),
    };
    let order = shuffled(data.rows(), cfg.seed);
    let n_val = (data.rows() as f64 * cfg.validation_fraction).round() as usize;
    let (val_rows, train_rows) = order.split_at(n_val);
    if train_rows.is_empty() {
        return Err(TensorError::InvalidConfig(
            "no training rows left after the validation split".into(),
        ));
    }
    let val = (!val_rows.is_empty()).then(|| data.gather::<E, D>(&device, val_rows));
    let mut opt = OptimizerState::new(cfg.optimizer, model)?;
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
    let bar = if cfg.progress {
        ProgressBar::new(cfg.steps as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} training [{bar:30}] {pos}/{len} steps {msg} {elapsed} eta {eta}")
            .expect("static template")
            .progress_chars("=> "),
    );
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
            let perm = shuffled(train_rows.len(), cfg.seed.wrapping_add(1 + epoch));
            epoch_order = perm.into_iter().map(|i| train_rows[i]).collect();
            cursor = 0;
            epoch += 1;
        }
        let rows = &epoch_order[cursor..cursor + batch];
        cursor += batch;
        let (x, y) = data.gather::<E, D>(&device, rows);
        let l = loss.loss(model, &x, &y, OwnedTape::default())?;
        let value = l.as_vec()[0].to64();
        if !value.is_finite() {
            bar.abandon();
            return Err(TensorError::NonFinite { what: "loss", step });
        }
        let mut grads = l.backward();
        let lr = cfg.learning_rate * cfg.schedule.factor(step + cfg.schedule_offset);
        if let Err(e) = opt.update(model, &mut grads, lr, cfg.clip) {
            bar.abandon();
            return Err(match e {
                TensorError::NonFinite { what, .. } => TensorError::NonFinite { what, step },
                other => other,
            });
        }
        running += value;
        running_n += 1;
        report.steps = step + 1;
        bar.inc(1);
        if (step + 1) % cfg.eval_every == 0 || step + 1 == cfg.steps {
            let train_loss = running / running_n as f64;
            (running, running_n) = (0.0, 0);
            report.train_curve.push((step + 1, train_loss));
            let monitored = match &val {
                Some((vx, vy)) => {
                    let v = loss.loss(model, vx, vy, NoneTape)?.as_vec()[0].to64();
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
                        &[("step", (step + 1).to_string()), ("loss", format!("{monitored:e}"))],
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
    bar.finish_and_clear();
    Ok(report)
}
