//! Optimisers for runtime-shaped parameters (dfdx's own need compile-time shapes): Adam, AdamW
//! (decoupled weight decay, Loshchilov & Hutter 2019) and SGD with momentum; global-norm
//! gradient clipping; cosine and one-cycle learning-rate schedules. Updates are dfdx tensor ops,
//! so they run on whichever device holds the parameters; on dfdx's CPU device the same
//! arithmetic runs as one host pass per parameter (no tensor allocated per operation).

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
        match crate::fused::on_host::<E, D>() {
            true => self.update_on_host(model, grads, lr, clip),
            false => self.update_by_tensor_ops(model, grads, lr, clip),
        }
    }

    /// [`OptimizerState::update`] on dfdx's CPU device: one pass per parameter over host
    /// buffers, the gradient read in place. The tensor-op form allocates a fresh tensor for each
    /// of its ~8 (SGD) to ~14 (Adam) ops per parameter, which on a 64 × 64 RBM cost more than the
    /// minibatch's Gibbs step. Same arithmetic, element by element, in the same order.
    fn update_on_host(
        &mut self,
        model: &mut impl Module<E, D>,
        grads: &mut Gradients<E, D>,
        lr: f64,
        clip: Option<f64>,
    ) -> Result<UpdateInfo, TensorError> {
        let alloc_err = |e: D::Err| TensorError::InvalidConfig(format!("{e:?}"));
        let params = model.parameters();
        if params.len() != self.slots.len() {
            return Err(TensorError::ShapeMismatch(
                "the model's parameters changed since the optimiser was created".into(),
            ));
        }
        // The gradient buffers, taken out of `grads` (zero-filled where the tape never reached a
        // parameter) and put back below, so that several are borrowed at once.
        let mut gs: Vec<Vec<E>> = Vec::with_capacity(params.len());
        for (_, p) in &params {
            let buffer = match p {
                ParamRef::Matrix(w) => grads.get_or_alloc_mut(*w),
                ParamRef::Vector(b) => grads.get_or_alloc_mut(*b),
            }
            .map_err(alloc_err)?;
            gs.push(std::mem::take(
                crate::fused::host_vec_mut::<E, D>(buffer).expect("dfdx's CPU buffers are host vectors"),
            ));
        }
        drop(params);
        let norm2: f64 = gs
            .iter()
            .map(|g| g.iter().fold(E::zero(), |s, &x| s + x * x).to64())
            .sum();
        let norm = norm2.sqrt();
        let result = if !norm.is_finite() {
            Err(TensorError::NonFinite {
                what: "gradient",
                step: self.step,
            })
        } else {
            let scale = match clip {
                Some(c) if norm > c => c / norm,
                _ => 1.0,
            };
            self.step += 1;
            let step = Step::new(self.rule, lr, scale, self.step as i32);
            let mut outcome = Ok(());
            for ((param, g), slot) in model.parameters_mut().into_iter().zip(&gs).zip(self.slots.iter_mut()) {
                match (param, slot) {
                    (ParamMut::Matrix(p), Slot::Matrix(m, v)) => step.apply_on_host(p, g, m, v),
                    (ParamMut::Vector(p), Slot::Vector(m, v)) => step.apply_on_host(p, g, m, v),
                    _ => {
                        outcome = Err(TensorError::ShapeMismatch(
                            "parameter kinds changed since the optimiser was created".into(),
                        ));
                        break;
                    }
                }
            }
            outcome.map(|()| UpdateInfo {
                gradient_norm: norm,
                learning_rate: lr,
            })
        };
        let params = model.parameters();
        for ((_, p), g) in params.iter().zip(gs) {
            let buffer = match p {
                ParamRef::Matrix(w) => grads.get_or_alloc_mut(*w),
                ParamRef::Vector(b) => grads.get_or_alloc_mut(*b),
            }
            .map_err(alloc_err)?;
            *crate::fused::host_vec_mut::<E, D>(buffer).expect("dfdx's CPU buffers are host vectors") = g;
        }
        result
    }

    /// [`OptimizerState::update`] as dfdx tensor ops, on any device.
    fn update_by_tensor_ops(
        &mut self,
        model: &mut impl Module<E, D>,
        grads: &mut Gradients<E, D>,
        lr: f64,
        clip: Option<f64>,
    ) -> Result<UpdateInfo, TensorError> {
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

/// One update's constants, for the host form of [`apply`].
#[derive(Debug, Clone, Copy)]
struct Step {
    rule: Optimizer,
    lr: f64,
    /// Gradient scale of the norm clipping.
    scale: f64,
    /// Adam's bias corrections 1/(1 − βᵗ).
    correction: (f64, f64),
}

impl Step {
    fn new(rule: Optimizer, lr: f64, scale: f64, t: i32) -> Self {
        let correction = match rule {
            Optimizer::Adam { beta1, beta2, .. } | Optimizer::AdamW { beta1, beta2, .. } => {
                (1.0 / (1.0 - beta1.powi(t)), 1.0 / (1.0 - beta2.powi(t)))
            }
            Optimizer::Sgd { .. } => (1.0, 1.0),
        };
        Self {
            rule,
            lr,
            scale,
            correction,
        }
    }

    /// [`apply`] element by element on host copies of `p`, `m`, `v` (written back) and the
    /// gradient buffer `g`, each operation in [`apply`]'s order and precision.
    fn apply_on_host<S: Shape, E: Real, D: Device<E>>(
        &self,
        p: &mut Tensor<S, E, D>,
        g: &[E],
        m: &mut Tensor<S, E, D>,
        v: &mut Tensor<S, E, D>,
    ) {
        let e = E::of;
        let (lr, scale) = (e(self.lr), e(self.scale));
        let mut ps = vec![E::zero(); g.len()];
        let mut ms = vec![E::zero(); g.len()];
        p.copy_into(&mut ps);
        m.copy_into(&mut ms);
        match self.rule {
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
                let decoupled = matches!(self.rule, Optimizer::AdamW { .. });
                let coupled_decay = !decoupled && weight_decay > 0.0;
                let decay_factor = (decoupled && weight_decay > 0.0).then(|| e(1.0 - self.lr * weight_decay));
                let (b1, one_b1, b2, one_b2) = (e(beta1), e(1.0 - beta1), e(beta2), e(1.0 - beta2));
                let (c1, c2, eps, wd) = (e(self.correction.0), e(self.correction.1), e(eps), e(weight_decay));
                let mut vs = vec![E::zero(); g.len()];
                v.copy_into(&mut vs);
                for (((p, m), v), &g) in ps.iter_mut().zip(&mut ms).zip(&mut vs).zip(g) {
                    let g = g * scale;
                    let g = if coupled_decay { g + *p * wd } else { g };
                    *m = *m * b1 + g * one_b1;
                    *v = *v * b2 + g * g * one_b2;
                    let step = *m * c1 / ((*v * c2).sqrt() + eps) * lr;
                    let kept = match decay_factor {
                        Some(f) => *p * f,
                        None => *p,
                    };
                    *p = kept - step;
                }
                v.copy_from(&vs);
            }
            Optimizer::Sgd {
                momentum,
                nesterov,
                weight_decay,
            } => {
                let (mu, wd) = (e(momentum), e(weight_decay));
                for ((p, m), &g) in ps.iter_mut().zip(&mut ms).zip(g) {
                    let g = g * scale;
                    let g = if weight_decay > 0.0 { g + *p * wd } else { g };
                    *m = *m * mu + g;
                    let direction = if nesterov { g + *m * mu } else { *m };
                    *p -= direction * lr;
                }
            }
        }
        p.copy_from(&ps);
        m.copy_from(&ms);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Configured;
    use crate::mlp::{Init, Mlp, MlpConfig};
    use crate::{Activation, host};

    fn model() -> Mlp<f64, Cpu> {
        let config = MlpConfig::new(3, &[5], 2, Activation::Tanh, Init::Xavier);
        Mlp::from_config(&config, &Cpu::default(), 4).unwrap()
    }

    /// Gradients of `model` with entries drawn from `seed`'s stream.
    fn gradients(model: &Mlp<f64, Cpu>, seed: u64) -> Gradients<f64, Cpu> {
        let mut rng = liouville_base::random::Rng::stream(seed, 0);
        let values: Vec<Vec<f64>> = model
            .parameters()
            .iter()
            .map(|(_, p)| (0..p.dims().iter().product::<usize>()).map(|_| rng.normal()).collect())
            .collect();
        crate::surrogate::gradients(model, &values).unwrap()
    }

    fn values(model: &Mlp<f64, Cpu>) -> Vec<f64> {
        model
            .parameters()
            .iter()
            .flat_map(|(_, p)| match p {
                ParamRef::Matrix(w) => host::values(*w),
                ParamRef::Vector(b) => host::values(*b),
            })
            .collect()
    }

    #[test]
    fn the_host_pass_is_the_tensor_op_update() {
        let rules = [
            Optimizer::adam(0.0),
            Optimizer::adam(0.01),
            Optimizer::adamw(0.1),
            Optimizer::Sgd {
                momentum: 0.9,
                nesterov: false,
                weight_decay: 0.0,
            },
            Optimizer::Sgd {
                momentum: 0.5,
                nesterov: true,
                weight_decay: 0.02,
            },
        ];
        for rule in rules {
            for clip in [None, Some(0.5)] {
                let (mut host_model, mut op_model) = (model(), model());
                let mut host_state = OptimizerState::new(rule, &host_model).unwrap();
                let mut op_state = host_state.clone();
                for step in 0..5 {
                    let mut g = gradients(&host_model, step);
                    let a = host_state.update_on_host(&mut host_model, &mut g, 0.01, clip).unwrap();
                    let mut g = gradients(&op_model, step);
                    let b = op_state
                        .update_by_tensor_ops(&mut op_model, &mut g, 0.01, clip)
                        .unwrap();
                    assert!((a.gradient_norm - b.gradient_norm).abs() < 1e-12 * b.gradient_norm);
                }
                for (x, y) in values(&host_model).iter().zip(values(&op_model)) {
                    assert!(
                        (x - y).abs() <= 1e-14 * y.abs().max(1.0),
                        "{rule:?} {clip:?}: {x} vs {y}"
                    );
                }
                assert_ne!(values(&host_model), values(&model()), "{rule:?}: nothing moved");
            }
        }
    }

    #[test]
    fn a_non_finite_gradient_on_the_host_leaves_the_model_and_the_buffers() {
        let mut m = model();
        let mut state = OptimizerState::new(Optimizer::adam(0.0), &m).unwrap();
        let mut g = gradients(&m, 1);
        if let ParamRef::Vector(b) = m.parameters()[1].1 {
            g.get_or_alloc_mut(b).unwrap()[0] = f64::NAN;
        }
        let before = values(&m);
        let err = state.update_on_host(&mut m, &mut g, 0.01, None).unwrap_err();
        assert!(
            matches!(
                err,
                TensorError::NonFinite {
                    what: "gradient",
                    step: 0
                }
            ),
            "{err}"
        );
        assert_eq!(values(&m), before);
        assert_eq!(state.steps(), 0);
        // The buffers went back into `grads`: the NaN is still where it was put.
        if let ParamRef::Vector(b) = m.parameters()[1].1 {
            assert!(g.get_or_alloc_mut(b).unwrap()[0].is_nan());
        }
    }
}
