//! SympNets (Jin, Zhang, Zhu, Tang, Karniadakis 2020): maps that are symplectic by construction,
//! hence volume-preserving [`Bijection`]s (log|det J| = 0) with closed-form inverses.
//!
//! On rows `[q, p]` (d each) every module is a shear with a symmetric Jacobian block, hence
//! symplectic, and so is their composition. LA-SympNets ([`LaSympNet`]) use
//!
//! - linear "up": p ← p + S q, "low": q ← q + S p, with S = A + Aᵀ symmetric;
//! - activation "up": p ← p + a ⊙ σ(q), "low": q ← q + a ⊙ σ(p) (∂/∂q of a ⊙ σ(q) is diagonal).
//!
//! A layer is `sublayers` alternating linear shears followed by one activation shear; layers
//! alternate up/low; a final bias translation keeps the map symplectic. G-SympNets
//! ([`GSympNet`]) use gradient modules
//!
//! - "up": p ← p + Kᵀ(a ⊙ σ(Kq + b)), "low": q ← q + Kᵀ(a ⊙ σ(Kp + b)), K ∈ ℝ^{w×d},
//!
//! whose Jacobian block Kᵀ diag(a ⊙ σ′) K is symmetric (the shear is the gradient of
//! Σ aᵢ ∫σ(Kq + b)ᵢ). Each shear u ← u + g(v) leaves v alone, so its inverse is u ← u − g(v):
//! the inverse map runs the modules backwards with the opposite sign.

use dfdx::prelude::*;
use liouville_base::random::Rng;
use serde::{Deserialize, Serialize};

use crate::bijection::{Bijection, Transformed, zero_log_det};
use crate::columns;
use crate::config::Configured;
use crate::module::{Module, ParamMut, ParamRef};
use crate::shapes::{Matrix, Vector};
use crate::tape::Threaded;
use crate::{Activation, Real, TensorError};

/// A map on `[q, p]` rows that is symplectic by construction.
pub trait SymplecticMap<E: Real, D: Device<E>>: Bijection<E, D> {
    /// Degrees of freedom d (rows have 2d columns).
    fn dof(&self) -> usize;

    /// Φ(x) for rows `x = [q, p]`, recording on `tape`.
    fn map<T: Tape<E, D> + Merge<T>>(&self, x: &Matrix<E, D>, tape: T) -> Result<Matrix<E, D, T>, TensorError> {
        let mut tp = Threaded::new(tape);
        let (y, _) = self.forward(&mut tp, x)?;
        Ok(tp.finish(y))
    }
}

/// Which half a shear updates.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Half {
    /// p ← p + g(q).
    P,
    /// q ← q + g(p).
    Q,
}

/// The running halves of a map evaluation.
struct Halves<E: Real, D: Device<E>> {
    q: Matrix<E, D>,
    p: Matrix<E, D>,
}

impl<E: Real, D: Device<E>> Halves<E, D> {
    fn split<T: Tape<E, D> + Merge<T>>(
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
        dof: usize,
    ) -> Result<Self, TensorError> {
        if x.shape().1 != 2 * dof {
            return Err(TensorError::ShapeMismatch(format!(
                "states have {} columns, the SympNet takes {}",
                x.shape().1,
                2 * dof
            )));
        }
        let ([sq, sp], _) = columns::canonical::<E, D>(x.device(), dof);
        Ok(Self {
            q: tp.step(|t| x.clone().put_tape(t).matmul(sq.retaped::<T>())),
            p: tp.step(|t| x.clone().put_tape(t).matmul(sp.retaped::<T>())),
        })
    }
    /// The argument of a shear of `half` (the other half).
    fn source(&self, half: Half) -> &Matrix<E, D> {
        match half {
            Half::P => &self.q,
            Half::Q => &self.p,
        }
    }
    /// `half` += sign · g.
    fn add<T: Tape<E, D> + Merge<T>>(&mut self, tp: &mut Threaded<T>, half: Half, g: Matrix<E, D>, sign: E) {
        let target = match half {
            Half::P => &mut self.p,
            Half::Q => &mut self.q,
        };
        let old = target.clone();
        *target = tp.step(|t| g.put_tape(t) * sign + old.retaped::<T>());
    }
    /// `[q, p]` + sign · bias.
    fn join<T: Tape<E, D> + Merge<T>>(self, tp: &mut Threaded<T>, bias: Option<(&Vector<E, D>, E)>) -> Matrix<E, D> {
        let (batch, dof) = *self.q.shape();
        let (_, [pq, pp]) = columns::canonical::<E, D>(self.q.device(), dof);
        let shape = (batch, 2 * dof);
        let joined = tp.step(|t| {
            self.q.clone().put_tape(t).matmul(pq.retaped::<T>()) + self.p.retaped::<T>().matmul(pp.retaped::<T>())
        });
        match bias {
            None => joined,
            Some((b, sign)) => {
                tp.step(|t| b.clone().put_tape(t).broadcast_like::<_, Axis<0>>(&shape) * sign + joined.retaped::<T>())
            }
        }
    }
}

/// [`Bijection`] (log|det J| = 0, inverse by running the shears backwards) and
/// [`SymplecticMap`] for a SympNet with a `config.dof` and a `run(tp, x, inverse)`.
macro_rules! volume_preserving {
    ($ty:ident) => {
        impl<E: Real, D: Device<E>> Bijection<E, D> for $ty<E, D> {
            fn dim(&self) -> usize {
                2 * self.config.dof
            }
            fn forward<T: Tape<E, D> + Merge<T>>(
                &self,
                tp: &mut Threaded<T>,
                x: &Matrix<E, D>,
            ) -> Result<Transformed<E, D>, TensorError> {
                Ok((self.run(tp, x, false)?, zero_log_det(x)))
            }
            fn inverse<T: Tape<E, D> + Merge<T>>(
                &self,
                tp: &mut Threaded<T>,
                y: &Matrix<E, D>,
            ) -> Result<Transformed<E, D>, TensorError> {
                Ok((self.run(tp, y, true)?, zero_log_det(y)))
            }
        }

        impl<E: Real, D: Device<E>> SymplecticMap<E, D> for $ty<E, D> {
            fn dof(&self) -> usize {
                self.config.dof
            }
        }
    };
}

/// How to build an [`LaSympNet`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaSympNetConfig {
    /// Degrees of freedom d.
    pub dof: usize,
    /// Layers (each: `sublayers` linear shears and one activation shear).
    pub layers: usize,
    /// Linear shears per layer.
    pub sublayers: usize,
    /// σ of the activation shears.
    pub activation: Activation,
}

/// An LA-SympNet on `2·dof`-dimensional states, on any device.
#[derive(Debug, Clone)]
pub struct LaSympNet<E: Real, D: Device<E>> {
    config: LaSympNetConfig,
    /// Per layer: the `sublayers` matrices A (S = A + Aᵀ) and the activation weights a.
    linear: Vec<Vec<Matrix<E, D>>>,
    scales: Vec<Vector<E, D>>,
    bias: Vector<E, D>,
}

/// Random stream of SympNet initialisation.
const INIT_STREAM: u64 = 0x5e4e;

impl<E: Real, D: Device<E>> LaSympNet<E, D> {
    /// `layers` layers of `sublayers` linear shears each, small random initial weights
    /// U(±0.1) (seeded).
    pub fn new(
        device: &D,
        dof: usize,
        layers: usize,
        sublayers: usize,
        activation: Activation,
        seed: u64,
    ) -> Result<Self, TensorError> {
        Self::from_config(
            &LaSympNetConfig {
                dof,
                layers,
                sublayers,
                activation,
            },
            device,
            seed,
        )
    }

    /// The linear-shear parameter matrices, mutably (for tests that rescale the weights).
    pub fn parameters_mut_for_test(&mut self) -> Vec<&mut Matrix<E, D>> {
        self.linear.iter_mut().flatten().collect()
    }

    fn run<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
        inverse: bool,
    ) -> Result<Matrix<E, D>, TensorError> {
        let d = self.config.dof;
        let sign = if inverse { -E::ONE } else { E::ONE };
        // The modules in forward order: (layer, Some(k)) a linear shear, (layer, None) the
        // activation shear.
        let mut modules: Vec<(usize, Option<usize>)> = Vec::new();
        for l in 0..self.config.layers {
            modules.extend((0..self.config.sublayers).map(|k| (l, Some(k))));
            modules.push((l, None));
        }
        if inverse {
            modules.reverse();
        }
        let input = if inverse {
            let shape = *x.shape();
            tp.step(|t| x.clone().put_tape(t) - self.bias.retaped::<T>().broadcast_like::<_, Axis<0>>(&shape))
        } else {
            x.clone()
        };
        let mut h = Halves::split(tp, &input, d)?;
        let batch = x.shape().0;
        for (l, k) in modules {
            let up = l % 2 == 0;
            match k {
                Some(k) => {
                    let m = &self.linear[l][k];
                    // S = A + Aᵀ. dfdx's permute keeps the tensor id, and a binary op on two
                    // operands with one id breaks its gradient bookkeeping: the ·1 gives the left
                    // one a new id.
                    let s = tp.step(|t| m.clone().put_tape(t) * E::ONE + m.retaped::<T>().permute::<_, Axes2<1, 0>>());
                    let half = if (k % 2 == 0) == up { Half::P } else { Half::Q };
                    let src = h.source(half).clone();
                    let g = tp.step(|t| src.put_tape(t).matmul(s.retaped::<T>()));
                    h.add(tp, half, g, sign);
                }
                None => {
                    let a = &self.scales[l];
                    let half = if up { Half::P } else { Half::Q };
                    let src = h.source(half).clone();
                    let act = self.config.activation;
                    let g = tp.step(|t| {
                        act.value(src.put_tape(t)) * a.retaped::<T>().broadcast_like::<_, Axis<0>>(&(batch, d))
                    });
                    h.add(tp, half, g, sign);
                }
            }
        }
        Ok(h.join(tp, (!inverse).then_some((&self.bias, E::ONE))))
    }
}

impl<E: Real, D: Device<E>> Configured<E, D> for LaSympNet<E, D> {
    const KIND: &'static str = "la_sympnet";
    type Config = LaSympNetConfig;
    fn config(&self) -> LaSympNetConfig {
        self.config.clone()
    }
    fn from_config(config: &LaSympNetConfig, device: &D, seed: u64) -> Result<Self, TensorError> {
        let LaSympNetConfig {
            dof, layers, sublayers, ..
        } = *config;
        if dof == 0 || layers == 0 || sublayers == 0 {
            return Err(TensorError::InvalidConfig(format!(
                "a SympNet needs dof, layers and sublayers >= 1: {config:?}"
            )));
        }
        let mut rng = Rng::stream(seed, INIT_STREAM);
        let mut small = |n: usize| -> Vec<E> { (0..n).map(|_| E::of(rng.uniform_in(-0.1, 0.1))).collect() };
        let mut linear = Vec::with_capacity(layers);
        let mut scales = Vec::with_capacity(layers);
        for _ in 0..layers {
            linear.push(
                (0..sublayers)
                    .map(|_| device.tensor_from_vec(small(dof * dof), (dof, dof)))
                    .collect(),
            );
            scales.push(device.tensor_from_vec(small(dof), (dof,)));
        }
        Ok(Self {
            config: config.clone(),
            linear,
            scales,
            bias: device.zeros_like(&(2 * dof,)),
        })
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for LaSympNet<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        let mut v = Vec::new();
        for (l, (sub, a)) in self.linear.iter().zip(&self.scales).enumerate() {
            for (k, m) in sub.iter().enumerate() {
                v.push((format!("layers.{l}.linear.{k}"), ParamRef::Matrix(m)));
            }
            v.push((format!("layers.{l}.activation"), ParamRef::Vector(a)));
        }
        v.push(("bias".into(), ParamRef::Vector(&self.bias)));
        v
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        let mut v = Vec::new();
        for (sub, a) in self.linear.iter_mut().zip(self.scales.iter_mut()) {
            for m in sub.iter_mut() {
                v.push(ParamMut::Matrix(m));
            }
            v.push(ParamMut::Vector(a));
        }
        v.push(ParamMut::Vector(&mut self.bias));
        v
    }
}

volume_preserving!(LaSympNet);

/// How to build a [`GSympNet`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GSympNetConfig {
    /// Degrees of freedom d.
    pub dof: usize,
    /// Gradient modules, alternating up/low.
    pub layers: usize,
    /// Width w of each module (K ∈ ℝ^{w×d}).
    pub width: usize,
    /// σ.
    pub activation: Activation,
}

/// A G-SympNet: `layers` gradient modules of width `width`, alternating up/low, then a bias.
#[derive(Debug, Clone)]
pub struct GSympNet<E: Real, D: Device<E>> {
    config: GSympNetConfig,
    /// Per layer: K `[w, d]`, a `[w]`, b `[w]`.
    kernels: Vec<Matrix<E, D>>,
    scales: Vec<Vector<E, D>>,
    shifts: Vec<Vector<E, D>>,
    bias: Vector<E, D>,
}

impl<E: Real, D: Device<E>> GSympNet<E, D> {
    /// Seeded small random weights (K ~ U(±0.5/√d), a ~ U(±0.1), b ~ U(±0.5)).
    pub fn new(
        device: &D,
        dof: usize,
        layers: usize,
        width: usize,
        activation: Activation,
        seed: u64,
    ) -> Result<Self, TensorError> {
        Self::from_config(
            &GSympNetConfig {
                dof,
                layers,
                width,
                activation,
            },
            device,
            seed,
        )
    }

    fn run<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
        inverse: bool,
    ) -> Result<Matrix<E, D>, TensorError> {
        let sign = if inverse { -E::ONE } else { E::ONE };
        let input = if inverse {
            let shape = *x.shape();
            tp.step(|t| x.clone().put_tape(t) - self.bias.retaped::<T>().broadcast_like::<_, Axis<0>>(&shape))
        } else {
            x.clone()
        };
        let mut h = Halves::split(tp, &input, self.config.dof)?;
        let batch = x.shape().0;
        let act = self.config.activation;
        let mut layers: Vec<usize> = (0..self.config.layers).collect();
        if inverse {
            layers.reverse();
        }
        for l in layers {
            let (k, a, b) = (&self.kernels[l], &self.scales[l], &self.shifts[l]);
            let w = k.shape().0;
            let half = if l % 2 == 0 { Half::P } else { Half::Q };
            let u = h.source(half).clone();
            // Kᵀ(a ⊙ σ(K·u + b)) for rows u: (σ(u Kᵀ + b) ⊙ a) K. The ·1 gives Kᵀ a fresh id
            // (dfdx's permute keeps it, and K enters twice).
            let z = tp.step(|t| {
                u.put_tape(t)
                    .matmul((k.retaped::<T>() * E::ONE).permute::<_, Axes2<1, 0>>())
                    + b.retaped::<T>().broadcast_like::<_, Axis<0>>(&(batch, w))
            });
            let g = tp.step(|t| {
                (act.value(z.put_tape(t)) * a.retaped::<T>().broadcast_like::<_, Axis<0>>(&(batch, w)))
                    .matmul(k.retaped::<T>())
            });
            h.add(tp, half, g, sign);
        }
        Ok(h.join(tp, (!inverse).then_some((&self.bias, E::ONE))))
    }
}

impl<E: Real, D: Device<E>> Configured<E, D> for GSympNet<E, D> {
    const KIND: &'static str = "g_sympnet";
    type Config = GSympNetConfig;
    fn config(&self) -> GSympNetConfig {
        self.config.clone()
    }
    fn from_config(config: &GSympNetConfig, device: &D, seed: u64) -> Result<Self, TensorError> {
        let GSympNetConfig { dof, layers, width, .. } = *config;
        if dof == 0 || layers == 0 || width == 0 {
            return Err(TensorError::InvalidConfig(format!(
                "a G-SympNet needs dof, layers and width >= 1: {config:?}"
            )));
        }
        let mut rng = Rng::stream(seed, INIT_STREAM);
        let mut uniform =
            |n: usize, scale: f64| -> Vec<E> { (0..n).map(|_| E::of(rng.uniform_in(-scale, scale))).collect() };
        let k_scale = 0.5 / (dof as f64).sqrt();
        let (mut kernels, mut scales, mut shifts) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..layers {
            kernels.push(device.tensor_from_vec(uniform(width * dof, k_scale), (width, dof)));
            scales.push(device.tensor_from_vec(uniform(width, 0.1), (width,)));
            shifts.push(device.tensor_from_vec(uniform(width, 0.5), (width,)));
        }
        Ok(Self {
            config: config.clone(),
            kernels,
            scales,
            shifts,
            bias: device.zeros_like(&(2 * dof,)),
        })
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for GSympNet<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        let mut v = Vec::new();
        for (l, ((k, a), b)) in self.kernels.iter().zip(&self.scales).zip(&self.shifts).enumerate() {
            v.push((format!("layers.{l}.kernel"), ParamRef::Matrix(k)));
            v.push((format!("layers.{l}.scale"), ParamRef::Vector(a)));
            v.push((format!("layers.{l}.shift"), ParamRef::Vector(b)));
        }
        v.push(("bias".into(), ParamRef::Vector(&self.bias)));
        v
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        let mut v = Vec::new();
        for ((k, a), b) in self
            .kernels
            .iter_mut()
            .zip(self.scales.iter_mut())
            .zip(self.shifts.iter_mut())
        {
            v.push(ParamMut::Matrix(k));
            v.push(ParamMut::Vector(a));
            v.push(ParamMut::Vector(b));
        }
        v.push(ParamMut::Vector(&mut self.bias));
        v
    }
}

volume_preserving!(GSympNet);
