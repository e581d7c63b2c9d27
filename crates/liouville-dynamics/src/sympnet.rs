//! LA-SympNets (Jin, Zhang, Zhu, Tang, Karniadakis 2020): learned maps that are symplectic by
//! construction, for learning a Hamiltonian flow map x_n → x_{n+1} from trajectory data.
//!
//! On rows `[q, p]` (d each) every module is a shear with a symmetric Jacobian block, hence
//! symplectic, and so is their composition:
//!
//! - linear "up": p ← p + S q, "low": q ← q + S p, with S = A + Aᵀ symmetric;
//! - activation "up": p ← p + a ⊙ σ(q), "low": q ← q + a ⊙ σ(p) (∂/∂q of a ⊙ σ(q) is diagonal).
//!
//! A layer is `sublayers` alternating linear shears followed by one activation shear; layers
//! alternate up/low; a final bias translation keeps the map symplectic.

use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::mlp::{Matrix, Vector};
use liouville_tensor::module::{Module, ParamMut, ParamRef};
use liouville_tensor::tape::Threaded;
use liouville_tensor::train::Loss;
use liouville_tensor::{Activation, Real, TensorError};

/// An LA-SympNet on `2·dof`-dimensional states, on any device.
#[derive(Debug, Clone)]
pub struct LaSympNet<E: Real, D: Device<E>> {
    dof: usize,
    activation: Activation,
    /// Per layer: the `sublayers` matrices A (S = A + Aᵀ) and the activation weights a.
    linear: Vec<Vec<Matrix<E, D>>>,
    scales: Vec<Vector<E, D>>,
    bias: Vector<E, D>,
}

impl<E: Real, D: Device<E>> LaSympNet<E, D> {
    /// `layers` layers of `sublayers` linear shears each, small random initial weights (seeded).
    pub fn new(
        device: &D,
        dof: usize,
        layers: usize,
        sublayers: usize,
        activation: Activation,
        seed: u64,
    ) -> Result<Self, TensorError> {
        if dof == 0 || layers == 0 || sublayers == 0 {
            return Err(TensorError::InvalidConfig(
                "a SympNet needs dof, layers and sublayers >= 1".into(),
            ));
        }
        let dev = device.clone();
        let mut state = seed ^ 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            E::of(((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.2)
        };
        let linear = (0..layers)
            .map(|_| {
                (0..sublayers)
                    .map(|_| dev.tensor_from_vec((0..dof * dof).map(|_| next()).collect(), (dof, dof)))
                    .collect()
            })
            .collect();
        let scales = (0..layers)
            .map(|_| dev.tensor_from_vec((0..dof).map(|_| next()).collect(), (dof,)))
            .collect();
        Ok(Self {
            dof,
            activation,
            linear,
            scales,
            bias: dev.tensor_from_vec(vec![E::default(); 2 * dof], (2 * dof,)),
        })
    }

    /// The linear-shear parameter matrices, mutably (for tests that rescale the weights).
    pub fn parameters_mut_for_test(&mut self) -> Vec<&mut Matrix<E, D>> {
        self.linear.iter_mut().flatten().collect()
    }

    /// Degrees of freedom d.
    pub fn dof(&self) -> usize {
        self.dof
    }

    /// Φ(x) for rows `x = [q, p]`, recording on `tape`.
    pub fn map<T: Tape<E, D> + Merge<T>>(&self, x: &Matrix<E, D>, tape: T) -> Result<Matrix<E, D, T>, TensorError> {
        let (batch, n) = *x.shape();
        let d = self.dof;
        if n != 2 * d {
            return Err(TensorError::ShapeMismatch(format!(
                "states have {n} columns, the SympNet takes {}",
                2 * d
            )));
        }
        let dev = x.device().clone();
        let selector = |offset: usize| {
            let mut m = vec![E::default(); n * d];
            for k in 0..d {
                m[(offset + k) * d + k] = E::ONE;
            }
            dev.tensor_from_vec(m, (n, d))
        };
        let placement = |offset: usize| {
            let mut m = vec![E::default(); d * n];
            for k in 0..d {
                m[k * n + offset + k] = E::ONE;
            }
            dev.tensor_from_vec(m, (d, n))
        };
        let mut tp = Threaded::new(tape);
        let mut q = tp.step(|t| x.clone().put_tape(t).matmul(selector(0).retaped::<T>()));
        let mut p = tp.step(|t| x.clone().put_tape(t).matmul(selector(d).retaped::<T>()));
        for (l, (sub, a)) in self.linear.iter().zip(&self.scales).enumerate() {
            let up = l % 2 == 0;
            for (k, m) in sub.iter().enumerate() {
                // S = A + Aᵀ. dfdx's permute keeps the tensor id, and a binary op on two operands
                // with one id breaks its gradient bookkeeping: the ·1 gives the left one a new id.
                let s = tp.step(|t| m.clone().put_tape(t) * E::ONE + m.retaped::<T>().permute::<_, Axes2<1, 0>>());
                if (k % 2 == 0) == up {
                    p = tp.step(|t| q.clone().put_tape(t).matmul(s.retaped::<T>()) + p.retaped::<T>());
                } else {
                    q = tp.step(|t| p.clone().put_tape(t).matmul(s.retaped::<T>()) + q.retaped::<T>());
                }
            }
            let act = self.activation;
            if up {
                p = tp.step(|t| {
                    act.value(q.clone().put_tape(t)) * a.retaped::<T>().broadcast_like::<_, Axis<0>>(&(batch, d))
                        + p.retaped::<T>()
                });
            } else {
                q = tp.step(|t| {
                    act.value(p.clone().put_tape(t)) * a.retaped::<T>().broadcast_like::<_, Axis<0>>(&(batch, d))
                        + q.retaped::<T>()
                });
            }
        }
        let out = tp.step(|t| {
            q.clone().put_tape(t).matmul(placement(0).retaped::<T>())
                + p.retaped::<T>().matmul(placement(d).retaped::<T>())
                + self.bias.retaped::<T>().broadcast_like::<_, Axis<0>>(&(batch, n))
        });
        Ok(tp.finish(out))
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

/// Flow-map regression: mean squared error of Φ(x_n) against x_{n+1}.
pub struct FlowMapLoss;

impl<E: Real, D: Device<E>> Loss<E, D, LaSympNet<E, D>> for FlowMapLoss {
    fn loss<T: Tape<E, D> + Merge<T>>(
        &self,
        model: &LaSympNet<E, D>,
        x: &Matrix<E, D>,
        y: &Matrix<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        let out = model.map(x, tape)?;
        Ok((out - y.retaped::<T>()).square().mean())
    }
}
