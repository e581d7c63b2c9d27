//! Symplectic recurrent neural networks (Chen, Zhang, Arjovsky, Bottou 2020): a separable learned
//! Hamiltonian H_θ(q, p) = T_θ(p) + V_θ(q) trained *through* multi-step leapfrog.
//!
//! From an observed x(t₀) the model predicts the next `k` observations with `substeps` leapfrog
//! (kick–drift–kick) steps of size h = Δ/substeps per observation,
//!
//! p_{½} = p − (h/2)∇V(q),  q′ = q + h∇T(p_{½}),  p′ = p_{½} − (h/2)∇V(q′),
//!
//! and the loss is the mean squared error over the predicted observations. The gradients ∇T, ∇V
//! are the exact traced passes of `liouville-tensor`, so dfdx's reverse mode differentiates
//! through the whole recurrence (second derivatives of the networks included). Because the map
//! is symplectic for any θ, noisy long trajectories train stably where a one-step HNN loss
//! struggles. The trained model is a [`SeparableHamiltonian`], so every splitting integrator of
//! `liouville-integrate` (leapfrog, Yoshida 4/6/8) rolls it out, as does any integrator through
//! its [`DynamicsModel`] field.

use std::path::Path;

use liouville_integrate::SeparableHamiltonian;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::mlp::Matrix;
use liouville_tensor::module::{Module, ParamMut, ParamRef, prefixed};
use liouville_tensor::tape::Threaded;
use liouville_tensor::train::{Examples, Loss, TrainConfig, TrainReport, train};
use liouville_tensor::{Activation, Energy, Init, Mlp, Real, TensorError, checkpoint};
use ndarray::{Array2, ArrayView2, ArrayViewMut1, ArrayViewMut2};

use crate::DynamicsError;
use crate::fields::widths_field;
use crate::models::DynamicsModel;

/// T_θ(p) and V_θ(q), each an MLP `[d] → hidden → 1`.
#[derive(Debug, Clone)]
pub struct SeparableNet<E: Real, D: Device<E>> {
    /// Kinetic energy T(p).
    pub kinetic: Mlp<E, D>,
    /// Potential energy V(q).
    pub potential: Mlp<E, D>,
}

impl<E: Real, D: Device<E>> Module<E, D> for SeparableNet<E, D> {
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

/// A field in partitioned form, q̇ = v(p), ṗ = a(q), which leapfrog integrates explicitly:
/// p_{½} = p + (h/2)a(q), q′ = q + h v(p_{½}), p′ = p_{½} + (h/2)a(q′). A separable Hamiltonian
/// is the case v = ∇T, a = −∇V; a partitioned neural ODE learns v and a directly.
pub trait PartitionedField<E: Real, D: Device<E>>: Module<E, D> {
    /// Degrees of freedom d.
    fn dof(&self) -> usize;
    /// v(p) `[batch, d]`, recorded on the thread.
    fn velocity<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        p: &Matrix<E, D>,
    ) -> Result<Matrix<E, D>, TensorError>;
    /// a(q) `[batch, d]`, recorded on the thread.
    fn acceleration<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        q: &Matrix<E, D>,
    ) -> Result<Matrix<E, D>, TensorError>;
}

impl<E: Real, D: Device<E>> PartitionedField<E, D> for SeparableNet<E, D> {
    fn dof(&self) -> usize {
        self.kinetic.widths()[0]
    }
    fn velocity<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        p: &Matrix<E, D>,
    ) -> Result<Matrix<E, D>, TensorError> {
        Ok(self.kinetic.derive(tp, p, &[])?.gradient)
    }
    fn acceleration<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        q: &Matrix<E, D>,
    ) -> Result<Matrix<E, D>, TensorError> {
        let g = self.potential.derive(tp, q, &[])?.gradient;
        Ok(tp.step(|t| g.put_tape(t).negate()))
    }
}

/// The multi-step leapfrog loss: targets are `k` states per row, `[rows, k·2d]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeapfrogLoss {
    /// Time between observations Δ.
    pub interval: f64,
    /// Leapfrog steps per observation.
    pub substeps: usize,
}

impl LeapfrogLoss {
    /// The loss for states of `dim` columns (even: `[q, p]`), with a positive interval and
    /// substep count.
    pub(crate) fn checked(dim: usize, interval: f64, substeps: usize) -> Result<Self, DynamicsError> {
        if dim == 0 || !dim.is_multiple_of(2) {
            return Err(DynamicsError::ShapeMismatch(format!(
                "a state [q, p] has an even dimension, got {dim}"
            )));
        }
        if !(interval.is_finite() && interval > 0.0 && substeps > 0) {
            return Err(DynamicsError::ShapeMismatch(format!(
                "observation interval {interval} and substeps {substeps} must be positive"
            )));
        }
        Ok(Self { interval, substeps })
    }

    /// Its checkpoint metadata fields.
    pub(crate) fn fields(&self) -> [(&'static str, String); 2] {
        [
            ("interval", self.interval.to_string()),
            ("substeps", self.substeps.to_string()),
        ]
    }
}

/// Columns `[from, from + width)` of `x` through a constant selector, on the thread.
fn columns<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    x: &Matrix<E, D>,
    from: usize,
    width: usize,
) -> Matrix<E, D> {
    let n = x.shape().1;
    let mut m = vec![E::default(); n * width];
    for k in 0..width {
        m[(from + k) * width + k] = E::ONE;
    }
    let sel = x.device().tensor_from_vec(m, (n, width));
    tp.step(|t| x.clone().put_tape(t).matmul(sel.retaped::<T>()))
}

impl<E: Real, D: Device<E>, M: PartitionedField<E, D>> Loss<E, D, M> for LeapfrogLoss {
    fn loss<T: Tape<E, D> + Merge<T>>(
        &self,
        model: &M,
        x: &Matrix<E, D>,
        y: &Matrix<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        let d = model.dof();
        let n = 2 * d;
        if !(self.interval.is_finite() && self.interval > 0.0 && self.substeps > 0) {
            return Err(TensorError::InvalidConfig(format!(
                "observation interval {} and substeps {} must be positive",
                self.interval, self.substeps
            )));
        }
        let (rows, width) = *y.shape();
        if x.shape().1 != n || width == 0 || !width.is_multiple_of(n) || x.shape().0 != rows {
            return Err(TensorError::ShapeMismatch(format!(
                "inputs {:?} must be [rows, {n}] and targets k whole states per row, got {:?}",
                x.shape(),
                y.shape()
            )));
        }
        let horizon = width / n;
        let h = self.interval / self.substeps as f64;
        let dev = x.device().clone();
        let host = y.as_vec();
        let mut tp = Threaded::new(tape);
        let mut q = columns(&mut tp, x, 0, d);
        let mut p = columns(&mut tp, x, d, d);
        // a(q) at the current q, reused by the next step's first kick.
        let mut force = model.acceleration(&mut tp, &q)?;
        let mut total: Option<Tensor<(), E, D>> = None;
        for j in 0..horizon {
            for _ in 0..self.substeps {
                let p_half = tp.step(|t| p.clone().put_tape(t) + force.retaped::<T>() * E::of(h / 2.0));
                let velocity = model.velocity(&mut tp, &p_half)?;
                q = tp.step(|t| q.clone().put_tape(t) + velocity.retaped::<T>() * E::of(h));
                force = model.acceleration(&mut tp, &q)?;
                p = tp.step(|t| p_half.clone().put_tape(t) + force.retaped::<T>() * E::of(h / 2.0));
            }
            let target = |from: usize| {
                let v: Vec<E> = (0..rows)
                    .flat_map(|r| {
                        host[r * width + j * n + from..r * width + j * n + from + d]
                            .iter()
                            .copied()
                    })
                    .collect();
                dev.tensor_from_vec(v, (rows, d))
            };
            let (tq, tpm) = (target(0), target(d));
            let sq = tp.step(|t| {
                (q.clone().put_tape(t) - tq).square().sum::<(), _>() + (p.retaped::<T>() - tpm).square().sum::<(), _>()
            });
            total = Some(match total {
                None => sq,
                Some(acc) => tp.step(|t| acc.put_tape(t) + sq.retaped::<T>()),
            });
        }
        let total = total.expect("horizon >= 1");
        Ok(tp.finish(total) / E::of((rows * width) as f64))
    }
}

/// A symplectic RNN on CPU in f32.
#[derive(Debug, Clone)]
pub struct Srnn {
    net: SeparableNet<f32, Cpu>,
    loss: LeapfrogLoss,
}

impl Srnn {
    /// T_θ and V_θ as tanh MLPs `[dof] → hidden → 1`; observations `interval` apart,
    /// `substeps` leapfrog steps between them.
    pub fn new(dim: usize, hidden: &[usize], interval: f64, substeps: usize, seed: u64) -> Result<Self, DynamicsError> {
        let loss = LeapfrogLoss::checked(dim, interval, substeps)?;
        let widths: Vec<usize> = std::iter::once(dim / 2)
            .chain(hidden.iter().copied())
            .chain([1])
            .collect();
        let dev = Cpu::default();
        Ok(Self {
            net: SeparableNet {
                kinetic: Mlp::new(&dev, &widths, Activation::Tanh, Init::Orthogonal, seed)?,
                potential: Mlp::new(&dev, &widths, Activation::Tanh, Init::Orthogonal, seed.wrapping_add(1))?,
            },
            loss,
        })
    }

    /// Loads a checkpoint written by [`DynamicsModel::save`].
    pub fn load(path: &Path) -> Result<Self, DynamicsError> {
        let fields = crate::fields::CheckpointFields::read(path, false)?;
        let (widths, interval, substeps) = (
            fields.widths()?,
            fields.positive("interval")?,
            fields.parse("substeps")?,
        );
        let mut model = Self::new(2 * widths[0], &widths[1..widths.len() - 1], interval, substeps, 0)?;
        checkpoint::load_into(&mut model.net, path)?;
        Ok(model)
    }

    /// The learned H = T(p) + V(q) at every row `[q, p]`.
    pub fn energy(&self, x: ArrayView2<'_, f64>) -> Result<ndarray::Array1<f64>, DynamicsError> {
        let d = self.dim() / 2;
        if x.ncols() != 2 * d {
            return Err(DynamicsError::ShapeMismatch(format!(
                "states have {} columns, the model takes {}",
                x.ncols(),
                2 * d
            )));
        }
        let (mut t, mut v) = (ndarray::Array1::zeros(x.nrows()), ndarray::Array1::zeros(x.nrows()));
        self.kinetic(x.slice(ndarray::s![.., d..]), t.view_mut());
        self.potential(x.slice(ndarray::s![.., ..d]), v.view_mut());
        Ok(t + v)
    }

    /// The training loss settings.
    pub fn leapfrog_loss(&self) -> LeapfrogLoss {
        self.loss
    }

    fn eval(net: &Mlp<f32, Cpu>, x: ArrayView2<'_, f64>) -> (Vec<f32>, Vec<f32>) {
        let t = Cpu::default().tensor_from_vec(x.iter().map(|&v| v as f32).collect(), x.dim());
        match net.derivatives(&t, &[], NoneTape) {
            Ok(d) => (d.value.as_vec(), d.gradient.as_vec()),
            Err(_) => (vec![f32::NAN; x.nrows()], vec![f32::NAN; x.len()]),
        }
    }
}

impl SeparableHamiltonian for Srnn {
    fn dof(&self) -> usize {
        self.net.kinetic.widths()[0]
    }
    fn kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        let (v, _) = Self::eval(&self.net.kinetic, p);
        out.iter_mut().zip(v).for_each(|(o, v)| *o = f64::from(v));
    }
    fn potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        let (v, _) = Self::eval(&self.net.potential, q);
        out.iter_mut().zip(v).for_each(|(o, v)| *o = f64::from(v));
    }
    fn grad_kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        let (_, g) = Self::eval(&self.net.kinetic, p);
        out.iter_mut().zip(g).for_each(|(o, g)| *o = f64::from(g));
    }
    fn grad_potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        let (_, g) = Self::eval(&self.net.potential, q);
        out.iter_mut().zip(g).for_each(|(o, g)| *o = f64::from(g));
    }
}

impl DynamicsModel for Srnn {
    fn dim(&self) -> usize {
        2 * self.net.kinetic.widths()[0]
    }
    /// (∂T/∂p, −∂V/∂q) at every row `[q, p]`.
    fn field(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, DynamicsError> {
        let d = self.dim() / 2;
        if x.ncols() != 2 * d {
            return Err(DynamicsError::ShapeMismatch(format!(
                "states have {} columns, the model takes {}",
                x.ncols(),
                2 * d
            )));
        }
        let mut out = Array2::zeros(x.dim());
        let (q, p) = (x.slice(ndarray::s![.., ..d]), x.slice(ndarray::s![.., d..]));
        {
            let (mut dq, mut dp) = out.view_mut().split_at(ndarray::Axis(1), d);
            self.grad_kinetic(p, dq.view_mut());
            self.grad_potential(q, dp.view_mut());
            dp.mapv_inplace(|v| -v);
        }
        Ok(out)
    }
    /// Trains on trajectory windows (`neural_ode::windows`).
    fn fit(&mut self, data: &Examples, cfg: &TrainConfig) -> Result<TrainReport, DynamicsError> {
        Ok(train(&mut self.net, data, &self.loss, cfg)?)
    }
    fn save(&self, path: &Path) -> Result<(), DynamicsError> {
        let [interval, substeps] = self.loss.fields();
        Ok(checkpoint::save(
            &self.net,
            path,
            &[
                ("model", "srnn".into()),
                widths_field(self.net.kinetic.widths()),
                interval,
                substeps,
            ],
        )?)
    }
}
