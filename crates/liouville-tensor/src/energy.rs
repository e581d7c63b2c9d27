//! Energy functions E: ℝⁿ → ℝ with exact input derivatives, and their compositions.
//!
//! An [`Energy`] gives, at every row of a batch, its value, its gradient ∇ₓE and
//! Hessian-vector products (∇²ₓE)v, all as traced ops threaded on one tape. Compositions reuse
//! the parts' rules, so a new architecture needs no new derivative code:
//!
//! - [`Sum`]: E = A + B;
//! - [`Separable`]: H(q, p) = T(p) + V(q) on rows `[q, p]`;
//! - [`QuadraticKinetic`]: K(v) = ½ vᵀMv with M = LLᵀ + εI through a learned lower-triangular
//!   Cholesky factor L (always symmetric positive definite) — also the fixed kinetic prior ½|v|²
//!   when L = I and the factor is frozen.

use dfdx::prelude::*;

use crate::columns;
use crate::config::Configured;
use crate::module::{Module, ParamMut, ParamRef, prefixed};
use crate::shapes::{Matrix, Vector};
use crate::tape::Threaded;
use crate::{Real, TensorError};

/// Untaped results whose creating ops live on the caller's [`Threaded`] tape.
pub struct Derivatives<E: Real, D: Device<E>> {
    /// E at each row, `[batch]`.
    pub value: Vector<E, D>,
    /// ∇ₓE, `[batch, n]`.
    pub gradient: Matrix<E, D>,
    /// (∇²ₓE) v for each direction, `[batch, n]` each.
    pub hvps: Vec<Matrix<E, D>>,
}

/// An energy function with analytic derivatives.
pub trait Energy<E: Real, D: Device<E>> {
    /// Input width n.
    fn input_dim(&self) -> usize;

    /// Value, gradient and HVPs along `directions`, recorded on `tp`.
    fn derive<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
        directions: &[Matrix<E, D>],
    ) -> Result<Derivatives<E, D>, TensorError>;

    /// [`Energy::derive`] on a fresh thread starting from `tape`.
    fn derivatives<T: Tape<E, D> + Merge<T>>(
        &self,
        x: &Matrix<E, D>,
        directions: &[Matrix<E, D>],
        tape: T,
    ) -> Result<EnergyDerivatives<E, D, T>, TensorError> {
        let mut tp = Threaded::new(tape);
        let d = self.derive(&mut tp, x, directions)?;
        Ok(EnergyDerivatives {
            value: d.value,
            gradient: d.gradient,
            hvps: d.hvps,
            tape: tp,
        })
    }

    /// The Hessian ∇²ₓE at every row, as its n columns `[batch, n]` (HVPs along the unit axes):
    /// the Jacobian of the gradient field.
    fn hessian_columns(&self, x: &Matrix<E, D>) -> Result<Vec<Matrix<E, D>>, TensorError> {
        let (batch, n) = *x.shape();
        let axes: Vec<Matrix<E, D>> = (0..n)
            .map(|k| columns::unit_direction(x.device(), batch, n, k))
            .collect();
        Ok(self.derivatives(x, &axes, NoneTape)?.hvps)
    }
}

/// Rejects directions whose shape differs from the input's.
pub(crate) fn check_directions<E: Real, D: Device<E>>(
    x: &Matrix<E, D>,
    directions: &[Matrix<E, D>],
) -> Result<(), TensorError> {
    for v in directions {
        if v.shape() != x.shape() {
            return Err(TensorError::ShapeMismatch(format!(
                "direction {:?} does not match input {:?}",
                v.shape(),
                x.shape()
            )));
        }
    }
    Ok(())
}

/// E(x), ∇ₓE(x) and Hessian-vector products of an energy, as untaped tensors whose creating
/// ops live on one tape; build a loss from them with `retaped()` and [`EnergyDerivatives::attach`].
pub struct EnergyDerivatives<E: Real, D: Device<E>, T> {
    /// E at each row, `[batch]`.
    pub value: Vector<E, D>,
    /// ∇ₓE, `[batch, in]`.
    pub gradient: Matrix<E, D>,
    /// (∇²ₓE) v for each direction v, `[batch, in]` each.
    pub hvps: Vec<Matrix<E, D>>,
    pub(crate) tape: Threaded<T>,
}

impl<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>> EnergyDerivatives<E, D, T> {
    /// Merges the derivatives' tape into `loss`'s, so `loss.backward()` reaches the parameters.
    pub fn attach<S: Shape>(self, loss: Tensor<S, E, D, T>) -> Tensor<S, E, D, T> {
        let (loss, tape) = loss.split_tape();
        loss.put_tape(tape.merge(self.tape.into_tape()))
    }
}

/// E = A + B.
#[derive(Debug, Clone)]
pub struct Sum<A, B>(pub A, pub B);

impl<E: Real, D: Device<E>, A: Energy<E, D>, B: Energy<E, D>> Energy<E, D> for Sum<A, B> {
    fn input_dim(&self) -> usize {
        self.0.input_dim()
    }
    fn derive<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
        directions: &[Matrix<E, D>],
    ) -> Result<Derivatives<E, D>, TensorError> {
        if self.0.input_dim() != self.1.input_dim() {
            return Err(TensorError::ShapeMismatch(
                "summed energies take different inputs".into(),
            ));
        }
        let a = self.0.derive(tp, x, directions)?;
        let b = self.1.derive(tp, x, directions)?;
        let add_m =
            |tp: &mut Threaded<T>, p: Matrix<E, D>, q: Matrix<E, D>| tp.step(|t| p.put_tape(t) + q.retaped::<T>());
        let value = tp.step(|t| a.value.put_tape(t) + b.value.retaped::<T>());
        let gradient = add_m(tp, a.gradient, b.gradient);
        let hvps = a.hvps.into_iter().zip(b.hvps).map(|(p, q)| add_m(tp, p, q)).collect();
        Ok(Derivatives { value, gradient, hvps })
    }
}

/// Columns [from, from + n) of every row, untraced (inputs are data, not parameters).
fn take_columns<E: Real, D: Device<E>>(x: &Matrix<E, D>, from: usize, n: usize) -> Matrix<E, D> {
    x.clone().matmul(columns::select(x.device(), x.shape().1, from, n))
}

/// H(q, p) = T(p) + V(q) on rows `[q, p]` (d columns each).
#[derive(Debug, Clone)]
pub struct Separable<K, P> {
    /// Kinetic energy T(p).
    pub kinetic: K,
    /// Potential energy V(q).
    pub potential: P,
}

impl<E: Real, D: Device<E>, K: Energy<E, D>, P: Energy<E, D>> Energy<E, D> for Separable<K, P> {
    fn input_dim(&self) -> usize {
        self.kinetic.input_dim() + self.potential.input_dim()
    }
    fn derive<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
        directions: &[Matrix<E, D>],
    ) -> Result<Derivatives<E, D>, TensorError> {
        let (dq, dp) = (self.potential.input_dim(), self.kinetic.input_dim());
        if x.shape().1 != dq + dp {
            return Err(TensorError::ShapeMismatch(format!(
                "rows have {} columns, T and V take {dp} + {dq}",
                x.shape().1
            )));
        }
        check_directions(x, directions)?;
        let dirs_q: Vec<_> = directions.iter().map(|v| take_columns(v, 0, dq)).collect();
        let dirs_p: Vec<_> = directions.iter().map(|v| take_columns(v, dq, dp)).collect();
        let v = self.potential.derive(tp, &take_columns(x, 0, dq), &dirs_q)?;
        let k = self.kinetic.derive(tp, &take_columns(x, dq, dp), &dirs_p)?;
        let dev = x.device();
        let (place_q, place_p) = (
            columns::place::<E, D>(dev, dq, dq + dp, 0),
            columns::place::<E, D>(dev, dp, dq + dp, dq),
        );
        let join = |tp: &mut Threaded<T>, gq: Matrix<E, D>, gp: Matrix<E, D>| {
            tp.step(|t| {
                gq.put_tape(t).matmul(place_q.retaped::<T>()) + gp.retaped::<T>().matmul(place_p.retaped::<T>())
            })
        };
        let value = tp.step(|t| v.value.put_tape(t) + k.value.retaped::<T>());
        let gradient = join(tp, v.gradient, k.gradient);
        let hvps = v.hvps.into_iter().zip(k.hvps).map(|(a, b)| join(tp, a, b)).collect();
        Ok(Derivatives { value, gradient, hvps })
    }
}

/// K(v) = ½ vᵀMv with M = LLᵀ + εI, L lower triangular (its strict upper part is masked out), so
/// M is symmetric positive definite for any parameter values: ∇K = Mv, ∇²K = M.
#[derive(Debug, Clone)]
pub struct QuadraticKinetic<E: Real, D: Device<E>> {
    /// The Cholesky-factor parameter `[d, d]` (only its lower triangle is used).
    pub factor: Matrix<E, D>,
    mask: Matrix<E, D>,
    epsilon: f64,
}

impl<E: Real, D: Device<E>> QuadraticKinetic<E, D> {
    /// ε, the floor of M's eigenvalues.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// Starts at M = I + εI (L = I); `epsilon` ≥ 0 bounds M's smallest eigenvalue from below.
    pub fn identity(device: &D, dim: usize, epsilon: f64) -> Result<Self, TensorError> {
        if dim == 0 || epsilon.is_nan() || epsilon < 0.0 {
            return Err(TensorError::InvalidConfig(format!(
                "kinetic energy of dimension {dim}, epsilon {epsilon}"
            )));
        }
        let eye: Vec<E> = (0..dim * dim)
            .map(|i| if i / dim == i % dim { E::ONE } else { E::default() })
            .collect();
        Ok(Self {
            factor: device.tensor_from_vec(eye, (dim, dim)),
            mask: columns::lower_triangle(device, dim),
            epsilon,
        })
    }

    /// M = LLᵀ + εI on the tape.
    fn mass<T: Tape<E, D> + Merge<T>>(&self, tp: &mut Threaded<T>) -> Matrix<E, D> {
        let d = self.factor.shape().0;
        let eye: Vec<E> = (0..d * d)
            .map(|i| {
                if i / d == i % d {
                    E::of(self.epsilon)
                } else {
                    E::default()
                }
            })
            .collect();
        let eye = self.factor.device().tensor_from_vec(eye, (d, d));
        // L and Lᵀ from two separate ops: dfdx's permute keeps the tensor's id, and a binary op
        // whose operands share an id trips dfdx's gradient bookkeeping.
        let l = tp.step(|t| self.factor.clone().put_tape(t) * self.mask.retaped::<T>());
        let l_t = tp.step(|t| (self.factor.clone().put_tape(t) * self.mask.retaped::<T>()).permute::<_, Axes2<1, 0>>());
        tp.step(|t| l.put_tape(t).matmul(l_t.retaped::<T>()) + eye.retaped::<T>())
    }
}

impl<E: Real, D: Device<E>> Energy<E, D> for QuadraticKinetic<E, D> {
    fn input_dim(&self) -> usize {
        self.factor.shape().0
    }
    fn derive<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
        directions: &[Matrix<E, D>],
    ) -> Result<Derivatives<E, D>, TensorError> {
        if x.shape().1 != self.input_dim() {
            return Err(TensorError::ShapeMismatch(format!(
                "rows have {} columns, the kinetic energy takes {}",
                x.shape().1,
                self.input_dim()
            )));
        }
        check_directions(x, directions)?;
        let m = self.mass(tp);
        let gradient = tp.step(|t| x.clone().put_tape(t).matmul(m.retaped::<T>()));
        let value =
            tp.step(|t| (gradient.clone().put_tape(t) * x.retaped::<T>()).sum::<(usize,), Axis<1>>() * E::of(0.5));
        let hvps = directions
            .iter()
            .map(|v| tp.step(|t| v.clone().put_tape(t).matmul(m.retaped::<T>())))
            .collect();
        Ok(Derivatives { value, gradient, hvps })
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for QuadraticKinetic<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        vec![("cholesky_factor".into(), ParamRef::Matrix(&self.factor))]
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        vec![ParamMut::Matrix(&mut self.factor)]
    }
}

impl<E: Real, D: Device<E>, A: Module<E, D>, B: Module<E, D>> Module<E, D> for Sum<A, B> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        let mut v = prefixed("0", self.0.parameters());
        v.extend(prefixed("1", self.1.parameters()));
        v
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        let mut v = self.0.parameters_mut();
        v.extend(self.1.parameters_mut());
        v
    }
}

impl<E: Real, D: Device<E>, K: Module<E, D>, P: Module<E, D>> Module<E, D> for Separable<K, P> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        let mut v = prefixed("kinetic", self.kinetic.parameters());
        v.extend(prefixed("potential", self.potential.parameters()));
        v
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        let mut v = self.kinetic.parameters_mut();
        v.extend(self.potential.parameters_mut());
        v
    }
}

/// How to build a [`QuadraticKinetic`]: dimension and the floor ε of M's eigenvalues.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QuadraticKineticConfig {
    /// Dimension of v.
    pub dim: usize,
    /// ε in M = LLᵀ + εI.
    pub epsilon: f64,
}

impl<E: Real, D: Device<E>> Configured<E, D> for QuadraticKinetic<E, D> {
    const KIND: &'static str = "quadratic_kinetic";
    type Config = QuadraticKineticConfig;
    fn config(&self) -> QuadraticKineticConfig {
        QuadraticKineticConfig {
            dim: self.factor.shape().0,
            epsilon: self.epsilon(),
        }
    }
    fn from_config(config: &QuadraticKineticConfig, device: &D, _seed: u64) -> Result<Self, TensorError> {
        QuadraticKinetic::identity(device, config.dim, config.epsilon)
    }
}

/// The configs of the two parts of a composite energy.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PairConfig<A, B> {
    /// First part (A of a [`Sum`], T of a [`Separable`]).
    pub first: A,
    /// Second part (B of a [`Sum`], V of a [`Separable`]).
    pub second: B,
}

impl<E: Real, D: Device<E>, A: Configured<E, D>, B: Configured<E, D>> Configured<E, D> for Sum<A, B> {
    const KIND: &'static str = "sum";
    type Config = PairConfig<A::Config, B::Config>;
    fn config(&self) -> Self::Config {
        PairConfig {
            first: self.0.config(),
            second: self.1.config(),
        }
    }
    fn from_config(config: &Self::Config, device: &D, seed: u64) -> Result<Self, TensorError> {
        Ok(Sum(
            A::from_config(&config.first, device, seed)?,
            B::from_config(&config.second, device, seed.wrapping_add(1))?,
        ))
    }
}

impl<E: Real, D: Device<E>, K: Configured<E, D>, P: Configured<E, D>> Configured<E, D> for Separable<K, P> {
    const KIND: &'static str = "separable";
    type Config = PairConfig<K::Config, P::Config>;
    fn config(&self) -> Self::Config {
        PairConfig {
            first: self.kinetic.config(),
            second: self.potential.config(),
        }
    }
    fn from_config(config: &Self::Config, device: &D, seed: u64) -> Result<Self, TensorError> {
        Ok(Separable {
            kinetic: K::from_config(&config.first, device, seed)?,
            potential: P::from_config(&config.second, device, seed.wrapping_add(1))?,
        })
    }
}
