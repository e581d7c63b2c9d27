//! Optimisers for runtime-shaped parameters (dfdx's own need compile-time shapes): Adam, AdamW
//! (decoupled weight decay, Loshchilov & Hutter 2019) and SGD with momentum; global-norm
//! gradient clipping; cosine and one-cycle learning-rate schedules. Updates are dfdx tensor ops,
//! so they run on whichever device holds the parameters.

use dfdx::prelude::*;
use serde::{Deserialize, Serialize};

use crate::mlp::{Matrix, Vector};
use crate::module::{Module, ParamMut, ParamRef};
use crate::{Real, TensorError};

/// Which update rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Optimizer {
    /// Adam (Kingma & Ba 2015) with L2 weight decay added to the gradient.
    Adam {
        /// Exponential decay of the first moment.
        beta1: f64,
        /// Exponential decay of the second moment.
        beta2: f64,
        /// Denominator guard.
        eps: f64,
        /// L2 coefficient.
        weight_decay: f64,
    },
    /// AdamW: Adam with decoupled weight decay θ ← θ - lr·λ·θ.
    AdamW {
        /// First-moment decay.
        beta1: f64,
        /// Second-moment decay.
        beta2: f64,
        /// Denominator guard.
        eps: f64,
        /// Decoupled decay λ.
        weight_decay: f64,
    },
    /// SGD with (optionally Nesterov) momentum and L2 weight decay.
    Sgd {
        /// Momentum μ.
        momentum: f64,
        /// Nesterov's variant.
        nesterov: bool,
        /// L2 coefficient.
        weight_decay: f64,
    },
}

impl Optimizer {
    /// Adam with the usual β = (0.9, 0.999), ε = 1e-8, and L2 weight decay.
    pub fn adam(weight_decay: f64) -> Self {
        Self::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
        }
    }
    /// AdamW with β = (0.9, 0.999), ε = 1e-8.
    pub fn adamw(weight_decay: f64) -> Self {
        Self::AdamW {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
        }
    }
    fn validate(&self) -> Result<(), TensorError> {
        let ok = match *self {
            Self::Adam {
                beta1,
                beta2,
                eps,
                weight_decay,
            }
            | Self::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
            } => (0.0..1.0).contains(&beta1) && (0.0..1.0).contains(&beta2) && eps > 0.0 && weight_decay >= 0.0,
            Self::Sgd {
                momentum, weight_decay, ..
            } => (0.0..1.0).contains(&momentum) && weight_decay >= 0.0,
        };
        if ok {
            Ok(())
        } else {
            Err(TensorError::InvalidConfig(format!(
                "invalid optimiser settings {self:?}"
            )))
        }
    }
}

/// Learning rate as a function of the step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Schedule {
    /// Constant.
    Constant,
    /// Linear warm-up over `warmup` steps, then cosine decay to `min_factor`·lr at `total`.
    Cosine {
        /// Warm-up steps.
        warmup: usize,
        /// Total steps.
        total: usize,
        /// Final fraction of the base rate.
        min_factor: f64,
    },
    /// Smith & Topin's one-cycle: cosine rise from lr/`div_factor` to lr over `pct_start` of
    /// `total`, then cosine fall to lr/(`div_factor`·`final_div_factor`).
    OneCycle {
        /// Total steps.
        total: usize,
        /// Fraction of steps rising.
        pct_start: f64,
        /// Initial division.
        div_factor: f64,
        /// Extra final division.
        final_div_factor: f64,
    },
}

impl Schedule {
    /// Multiplier of the base learning rate at `step` (0-based).
    pub fn factor(&self, step: usize) -> f64 {
        let cosine = |from: f64, to: f64, frac: f64| {
            to + 0.5 * (from - to) * (1.0 + (std::f64::consts::PI * frac.clamp(0.0, 1.0)).cos())
        };
        match *self {
            Schedule::Constant => 1.0,
            Schedule::Cosine {
                warmup,
                total,
                min_factor,
            } => {
                if step < warmup {
                    (step + 1) as f64 / warmup as f64
                } else {
                    cosine(
                        1.0,
                        min_factor,
                        (step - warmup) as f64 / (total.saturating_sub(warmup)).max(1) as f64,
                    )
                }
            }
            Schedule::OneCycle {
                total,
                pct_start,
                div_factor,
                final_div_factor,
            } => {
                let up = ((total as f64 * pct_start) as usize).max(1);
                if step < up {
                    cosine(1.0 / div_factor, 1.0, step as f64 / up as f64)
                } else {
                    cosine(
                        1.0,
                        1.0 / (div_factor * final_div_factor),
                        (step - up) as f64 / (total - up).max(1) as f64,
                    )
                }
            }
        }
    }
}

/// Moments of one parameter tensor.
#[derive(Debug, Clone)]
enum Slot<E: Real, D: Device<E>> {
    Matrix(Matrix<E, D>, Matrix<E, D>),
    Vector(Vector<E, D>, Vector<E, D>),
}

/// Optimiser state for a [`Module`].
#[derive(Debug, Clone)]
pub struct OptimizerState<E: Real, D: Device<E>> {
    rule: Optimizer,
    slots: Vec<Slot<E, D>>,
    step: usize,
}

/// What one update did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UpdateInfo {
    /// Global gradient norm before clipping.
    pub gradient_norm: f64,
    /// Learning rate used.
    pub learning_rate: f64,
}

impl<E: Real, D: Device<E>> OptimizerState<E, D> {
    /// Fresh state (zero moments) for `model`.
    pub fn new(rule: Optimizer, model: &impl Module<E, D>) -> Result<Self, TensorError> {
        rule.validate()?;
        let slots = model
            .parameters()
            .into_iter()
            .map(|(_, p)| match p {
                ParamRef::Matrix(w) => Slot::Matrix(w.device().zeros_like(w.shape()), w.device().zeros_like(w.shape())),
                ParamRef::Vector(b) => Slot::Vector(b.device().zeros_like(b.shape()), b.device().zeros_like(b.shape())),
            })
            .collect();
        Ok(Self { rule, slots, step: 0 })
    }

    /// Steps taken.
    pub fn steps(&self) -> usize {
        self.step
    }

    /// Applies one update with learning rate `lr` from `grads`, after clipping the global norm to
    /// `clip` (if given). A non-finite gradient is an error and leaves the model untouched.
    pub fn update(
        &mut self,
        model: &mut impl Module<E, D>,
        grads: &mut Gradients<E, D>,
        lr: f64,
        clip: Option<f64>,
    ) -> Result<UpdateInfo, TensorError> {
        if !(lr.is_finite() && lr >= 0.0) {
            return Err(TensorError::InvalidConfig(format!("learning rate {lr}")));
        }
        let alloc_err = |e: D::Err| TensorError::InvalidConfig(format!("{e:?}"));
        // Gradients in parameter order; zero-filled where the tape never reached a parameter.
        let mut gs: Vec<Slot<E, D>> = Vec::new();
        for (_, p) in model.parameters() {
            gs.push(match p {
                ParamRef::Matrix(w) => {
                    grads.try_alloc_for(w).map_err(alloc_err)?;
                    let g = grads.get(w);
                    Slot::Matrix(g.clone(), g)
                }
                ParamRef::Vector(b) => {
                    grads.try_alloc_for(b).map_err(alloc_err)?;
                    let g = grads.get(b);
                    Slot::Vector(g.clone(), g)
                }
            });
        }
        if gs.len() != self.slots.len() {
            return Err(TensorError::ShapeMismatch(
                "the model's parameters changed since the optimiser was created".into(),
            ));
        }
        let norm2: f64 = gs
            .iter()
            .map(|g| match g {
                Slot::Matrix(g, _) => g.clone().square().sum::<(), _>().as_vec()[0].to64(),
                Slot::Vector(g, _) => g.clone().square().sum::<(), _>().as_vec()[0].to64(),
            })
            .sum();
        let norm = norm2.sqrt();
        if !norm.is_finite() {
            return Err(TensorError::NonFinite {
                what: "gradient",
                step: self.step,
            });
        }
        let scale = match clip {
            Some(c) if norm > c => c / norm,
            _ => 1.0,
        };
        self.step += 1;
        let t = self.step as i32;
        for ((param, g), slot) in model.parameters_mut().into_iter().zip(gs).zip(self.slots.iter_mut()) {
            match (param, g, slot) {
                (ParamMut::Matrix(p), Slot::Matrix(g, _), Slot::Matrix(m, v)) => {
                    *p = apply(self.rule, p, g * E::of(scale), m, v, lr, t)
                }
                (ParamMut::Vector(p), Slot::Vector(g, _), Slot::Vector(m, v)) => {
                    *p = apply(self.rule, p, g * E::of(scale), m, v, lr, t)
                }
                _ => {
                    return Err(TensorError::ShapeMismatch(
                        "parameter kinds changed since the optimiser was created".into(),
                    ));
                }
            }
        }
        Ok(UpdateInfo {
            gradient_norm: norm,
            learning_rate: lr,
        })
    }
}

/// One update of one tensor.
fn apply<S: Shape, E: Real, D: Device<E>>(
    rule: Optimizer,
    p: &Tensor<S, E, D>,
    g: Tensor<S, E, D>,
    m: &mut Tensor<S, E, D>,
    v: &mut Tensor<S, E, D>,
    lr: f64,
    t: i32,
) -> Tensor<S, E, D> {
    let e = E::of;
    match rule {
        Optimizer::Adam {
            beta1,
            beta2,
            eps,
            weight_decay,
        }
        | Optimizer::AdamW {
            beta1,
            beta2,
            eps,
            weight_decay,
        } => {
            let decoupled = matches!(rule, Optimizer::AdamW { .. });
            let g = if !decoupled && weight_decay > 0.0 {
                g + p.clone() * e(weight_decay)
            } else {
                g
            };
            *m = m.clone() * e(beta1) + g.clone() * e(1.0 - beta1);
            *v = v.clone() * e(beta2) + g.square() * e(1.0 - beta2);
            let m_hat = m.clone() * e(1.0 / (1.0 - beta1.powi(t)));
            let v_hat = v.clone() * e(1.0 / (1.0 - beta2.powi(t)));
            let step = m_hat / (v_hat.sqrt() + e(eps)) * e(lr);
            let p = if decoupled && weight_decay > 0.0 {
                p.clone() * e(1.0 - lr * weight_decay)
            } else {
                p.clone()
            };
            p - step
        }
        Optimizer::Sgd {
            momentum,
            nesterov,
            weight_decay,
        } => {
            let g = if weight_decay > 0.0 {
                g + p.clone() * e(weight_decay)
            } else {
                g
            };
            *m = m.clone() * e(momentum) + g.clone();
            let direction = if nesterov {
                g + m.clone() * e(momentum)
            } else {
                m.clone()
            };
            p.clone() - direction * e(lr)
        }
    }
}
