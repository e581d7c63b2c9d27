//! Training an RBM by contrastive divergence (CD-k, Hinton 2002) or persistent contrastive
//! divergence (PCD-k, Tieleman 2008).
//!
//! Each minibatch's gradient is [`RbmGradient::from_moments`] of the data (exact, with p(h|v))
//! and of negative samples: k Gibbs steps from the batch itself (CD-k) or from chains that
//! persist across updates (PCD). It reaches the optimiser through `Trainer::apply_external`. A
//! non-finite gradient stops training with [`RbmError::Diverged`], leaving the model and the
//! checkpoint at the last good state.

use std::path::PathBuf;

use liouville_base::progress::Progress;
use liouville_base::random::Rng;
use liouville_tensor::checkpoint;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::optim::{Optimizer, Schedule};
use liouville_tensor::train::Trainer;
use liouville_tensor::{Real, TensorError};
use ndarray::{Array1, Array2, Axis};

use super::contrastive::ContrastiveWorkspace;
use super::gibbs::random_visible;
use super::moments::RbmGradient;
use super::partition::{ENUMERATION_LIMIT, exact_log_likelihood};
use super::weights::VisibleUnits;
use super::{Rbm, RbmError, VisibleData};

/// Where the negative phase's samples come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NegativePhase {
    /// CD-k: k Gibbs steps started at the minibatch.
    Contrastive {
        /// Gibbs steps k ≥ 1.
        k: usize,
    },
    /// PCD-k: `chains` persistent chains advanced k steps per update, started from uniformly
    /// random states.
    Persistent {
        /// Gibbs steps per update k ≥ 1.
        k: usize,
        /// Number of persistent chains (Tieleman uses one per minibatch row).
        chains: usize,
    },
}

/// Training settings.
#[derive(Debug, Clone, PartialEq)]
pub struct RbmTrainConfig {
    /// Passes over the data.
    pub epochs: usize,
    /// Rows per minibatch.
    pub batch_size: usize,
    /// Base learning rate.
    pub learning_rate: f64,
    /// Update rule (Hinton's guide: SGD with momentum; with `centred`, only SGD keeps the
    /// centred step exact).
    pub optimizer: Optimizer,
    /// Learning-rate schedule over all updates.
    pub schedule: Schedule,
    /// CD-k or PCD-k.
    pub negative: NegativePhase,
    /// Centre the gradient on the data mean μ and a running mean λ of the hidden probabilities
    /// ([`RbmGradient::centred`]; Melchior et al. 2016: faster and better-conditioned learning,
    /// the same model family).
    pub centred: bool,
    /// Seed of the minibatch orders and Gibbs streams.
    pub seed: u64,
    /// Where the model is saved (atomically) after every epoch.
    pub checkpoint: Option<PathBuf>,
    /// Show progress (a bar on a terminal, log lines off one).
    pub progress: bool,
}

impl RbmTrainConfig {
    /// `epochs` of centred CD-k with batch `batch_size`, SGD with momentum 0.9 at
    /// `learning_rate` (Hinton's guide; Adam's per-coordinate scaling would undo the centring).
    pub fn contrastive(epochs: usize, batch_size: usize, learning_rate: f64, k: usize) -> Self {
        Self {
            epochs,
            batch_size,
            learning_rate,
            optimizer: Optimizer::Sgd {
                momentum: 0.9,
                nesterov: false,
                weight_decay: 0.0,
            },
            schedule: Schedule::Constant,
            negative: NegativePhase::Contrastive { k },
            centred: true,
            seed: 0,
            checkpoint: None,
            progress: false,
        }
    }

    fn validate(&self, data: &VisibleData, visible: usize) -> Result<(), RbmError> {
        if data.width() != visible {
            return Err(RbmError::WidthMismatch {
                what: "training data",
                expected: visible,
                found: data.width(),
            });
        }
        let k = match self.negative {
            NegativePhase::Contrastive { k } => k,
            NegativePhase::Persistent { k, chains } => {
                if chains == 0 {
                    return Err(RbmError::InvalidConfig("PCD needs at least one chain".into()));
                }
                k
            }
        };
        if self.epochs == 0 || self.batch_size == 0 || k == 0 {
            return Err(RbmError::InvalidConfig(format!(
                "epochs {}, batch size {}, Gibbs steps {k}: all must be at least 1",
                self.epochs, self.batch_size
            )));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(RbmError::InvalidConfig(format!(
                "learning rate {} must be positive",
                self.learning_rate
            )));
        }
        Ok(())
    }
}

/// What one epoch looked like.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRecord {
    /// Epoch (from 1).
    pub epoch: usize,
    /// Mean squared error of the mean-field reconstruction p(v | p(h | v)) per unit, over (up
    /// to 2,000 rows of) the training data: a cheap monitor, not the objective.
    pub reconstruction_error: f64,
    /// Mean free energy F(v) of the same rows (Hinton's guide §6: compared with held-out rows,
    /// the gap shows over-fitting).
    pub free_energy: f64,
    /// Mean gradient norm of the epoch's updates.
    pub gradient_norm: f64,
    /// Exact mean log-likelihood of the training data (nats per row) when the smaller layer can
    /// be enumerated.
    pub log_likelihood: Option<f64>,
}

/// What training did.
#[derive(Debug, Clone, PartialEq)]
pub struct RbmReport {
    /// One record per epoch.
    pub epochs: Vec<EpochRecord>,
    /// Optimiser updates.
    pub updates: usize,
}

/// Rate of the hidden offset's moving average (Melchior et al. 2016 use 0.01).
const HIDDEN_OFFSET_RATE: f64 = 0.01;

/// Rows of the training data the per-epoch monitors look at.
const MONITOR_ROWS: usize = 2000;

/// Trains `rbm` on `data` in place.
pub fn train<E: Real, D: Device<E>>(
    rbm: &mut Rbm<E, D>,
    data: &VisibleData,
    cfg: &RbmTrainConfig,
) -> Result<RbmReport, RbmError> {
    let config = <Rbm<E, D> as liouville_tensor::config::Configured<E, D>>::config(rbm);
    cfg.validate(data, config.visible)?;
    super::check_units(&config, data)?;
    let enumerable = match config.visible_units {
        VisibleUnits::Binary => config.visible.min(config.hidden),
        VisibleUnits::Gaussian => config.hidden,
    } <= ENUMERATION_LIMIT.min(20);
    let mut trainer = Trainer::new(rbm, cfg.optimizer, cfg.learning_rate)?.with_schedule(cfg.schedule, 0);
    let mut chains: Option<Array2<f64>> = match cfg.negative {
        NegativePhase::Persistent { chains, .. } => {
            // Uniformly random starts, not data rows: chains started in the data's modes never
            // visit a spurious mode elsewhere (a disordered one, for an Ising RBM near T_c), so
            // nothing pushes its probability down, and chains sampled later from random states
            // fall into it.
            let mut rng = Rng::stream(cfg.seed, 0xC4A1);
            Some(random_visible(config.visible_units, chains, data.width(), &mut rng))
        }
        NegativePhase::Contrastive { .. } => None,
    };
    let mu = data.rows().mean_axis(Axis(0)).expect("non-empty data");
    let mut lambda: Option<Array1<f64>> = None;
    let batches = data.len().div_ceil(cfg.batch_size);
    let mut workspace = ContrastiveWorkspace::new();
    let bar = Progress::new("RBM training", "epochs", cfg.epochs as u64, cfg.progress);
    let mut report = RbmReport {
        epochs: Vec::with_capacity(cfg.epochs),
        updates: 0,
    };
    for epoch in 1..=cfg.epochs {
        let order = Rng::stream(cfg.seed, epoch as u64).permutation(data.len());
        let mut norm_sum = 0.0;
        for (batch, rows) in order.chunks(cfg.batch_size).enumerate() {
            let weights = rbm.weights().map_err(|e| RbmError::Diverged {
                epoch,
                batch,
                cause: e.to_string(),
            })?;
            let stream = report.updates as u64;
            let (positive, negative) = match (&mut chains, cfg.negative) {
                (Some(state), NegativePhase::Persistent { k, .. }) => {
                    workspace.persistent(&weights, data.rows(), rows, state, k, cfg.seed, stream)
                }
                (_, NegativePhase::Contrastive { k }) | (None, NegativePhase::Persistent { k, .. }) => {
                    workspace.contrastive(&weights, data.rows(), rows, k, cfg.seed, stream)
                }
            };
            let gradient = if cfg.centred {
                // λ: exponential moving average (rate 0.01, Melchior et al.) of ⟨h⟩ on the data.
                let lam = match lambda.take() {
                    None => positive.h.clone(),
                    Some(l) => l * (1.0 - HIDDEN_OFFSET_RATE) + &positive.h * HIDDEN_OFFSET_RATE,
                };
                let g = RbmGradient::centred(&negative, &positive, &mu, &lam);
                lambda = Some(lam);
                g
            } else {
                RbmGradient::from_moments(&negative, &positive)
            };
            // The optimiser refuses a non-finite gradient and leaves the model as it was; only
            // then is the gradient searched for the entry to name.
            match trainer.apply_external(rbm, &gradient.parameter_vectors::<E>()) {
                Ok(info) => norm_sum += info.gradient_norm,
                Err(TensorError::NonFinite { what, .. }) => {
                    bar.finish();
                    let cause = gradient
                        .first_non_finite()
                        .unwrap_or_else(|| format!("non-finite {what} in the optimiser"));
                    return Err(RbmError::Diverged { epoch, batch, cause });
                }
                Err(e) => return Err(e.into()),
            }
            report.updates += 1;
        }
        let weights = rbm.weights().map_err(|e| RbmError::Diverged {
            epoch,
            batch: batches,
            cause: e.to_string(),
        })?;
        let monitored = data.rows().slice_move(ndarray::s![..data.len().min(MONITOR_ROWS), ..]);
        let (reconstruction_error, free_energy) = workspace.monitors(&weights, monitored);
        let record = EpochRecord {
            epoch,
            reconstruction_error,
            free_energy,
            gradient_norm: norm_sum / batches as f64,
            log_likelihood: match enumerable {
                true => Some(exact_log_likelihood(&weights, data.rows())?),
                false => None,
            },
        };
        // Saturated units keep the gradient finite while the weights run off to ±1e308: the
        // monitors are where that shows.
        let monitors = [
            record.reconstruction_error,
            record.free_energy,
            record.log_likelihood.unwrap_or(0.0),
        ];
        if monitors.iter().any(|m| !m.is_finite()) {
            bar.finish();
            return Err(RbmError::Diverged {
                epoch,
                batch: batches,
                cause: format!(
                    "non-finite monitor (reconstruction {}, free energy {}, log-likelihood {:?})",
                    record.reconstruction_error, record.free_energy, record.log_likelihood
                ),
            });
        }
        if let Some(path) = &cfg.checkpoint {
            checkpoint::save(rbm, path, None)?;
        }
        bar.set_message(match record.log_likelihood {
            Some(ll) => format!("log-likelihood {ll:.4}"),
            None => format!("reconstruction {:.4}", record.reconstruction_error),
        });
        bar.inc(1);
        report.epochs.push(record);
    }
    bar.finish();
    Ok(report)
}
