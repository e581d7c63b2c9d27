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

use crate::neural_ode::positive_solver;
use std::path::Path;

use liouville_integrate::SeparableHamiltonian;
use liouville_tensor::Module;
use liouville_tensor::config::Configured;
use liouville_tensor::device::HostDevice;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::energy::Separable;
use liouville_tensor::shapes::Matrix;
use liouville_tensor::tape::Threaded;
use liouville_tensor::train::{Examples, Loss, Supervised, TrainConfig, TrainReport, train};
use liouville_tensor::{Activation, Energy, Init, Mlp, MlpConfig, Real, TensorError, checkpoint, columns, host};
use ndarray::{Array2, ArrayView2, ArrayViewMut1, ArrayViewMut2};
use serde::{Deserialize, Serialize};

use crate::DynamicsError;
use crate::arrays::{check_columns, tensor};
use crate::models::{DynamicsModel, load_default, on_default_device};
use crate::wrapper::{Through, through_field};

/// T_θ(p) and V_θ(q), each an MLP `[d] → hidden → 1`: tensor's separable energy of two MLPs
/// (parameters `kinetic.*` and `potential.*`).
pub type SeparableNet<E, D> = Separable<Mlp<E, D>, Mlp<E, D>>;

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
        positive_solver(interval, substeps)?;
        Ok(Self { interval, substeps })
    }
}

/// Architecture and solver of the leapfrog-trained models ([`Srnn`], `neural_ode::LeapfrogOde`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeapfrogConfig {
    /// State dimension 2·dof.
    pub dim: usize,
    /// Hidden widths of each network.
    pub hidden: Vec<usize>,
    /// Time between observations Δ.
    pub interval: f64,
    /// Leapfrog steps per observation.
    pub substeps: usize,
}

/// The checked loss and the two networks of a leapfrog-trained model.
type LeapfrogParts<E, D> = (LeapfrogLoss, Mlp<E, D>, Mlp<E, D>);

impl LeapfrogConfig {
    /// The config of a model whose networks take the `dof` coordinates `first` does, trained by
    /// `loss`.
    pub(crate) fn of<E: Real, D: Device<E>>(first: &Mlp<E, D>, loss: LeapfrogLoss) -> Self {
        Self {
            dim: 2 * first.widths()[0],
            hidden: first.hidden_widths().to_vec(),
            interval: loss.interval,
            substeps: loss.substeps,
        }
    }

    /// The checked loss, and two tanh MLPs `[dof] → hidden → [out]` (orthogonal initialisation,
    /// seeds `seed` and `seed + 1`).
    pub(crate) fn networks<E: Real, D: Device<E>>(
        &self,
        out: usize,
        device: &D,
        seed: u64,
    ) -> Result<LeapfrogParts<E, D>, TensorError> {
        let loss = LeapfrogLoss::checked(self.dim, self.interval, self.substeps)
            .map_err(|e| TensorError::InvalidConfig(e.to_string()))?;
        let mlp = MlpConfig::new(self.dim / 2, &self.hidden, out, Activation::Tanh, Init::Orthogonal);
        Ok((loss, mlp.init(device, seed)?, mlp.init(device, seed.wrapping_add(1))?))
    }
}

impl LeapfrogConfig {
    /// A leapfrog-trained model of kind `M` on the host device: the settings checked (even
    /// `dim`, positive interval and substeps), then `M::from_config`.
    pub(crate) fn host_model<M: Configured<f32, HostDevice, Config = LeapfrogConfig>>(
        dim: usize,
        hidden: &[usize],
        interval: f64,
        substeps: usize,
        seed: u64,
    ) -> Result<M, DynamicsError> {
        LeapfrogLoss::checked(dim, interval, substeps)?;
        on_default_device(
            &LeapfrogConfig {
                dim,
                hidden: hidden.to_vec(),
                interval,
                substeps,
            },
            seed,
        )
    }
}

/// Columns `[from, from + width)` of `x` through a constant selector, on the thread.
fn columns_of<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    x: &Matrix<E, D>,
    from: usize,
    width: usize,
) -> Matrix<E, D> {
    let sel = columns::select(x.device(), x.shape().1, from, width);
    tp.step(|t| x.clone().put_tape(t).matmul(sel.retaped::<T>()))
}

impl<E: Real, D: Device<E>, M: PartitionedField<E, D>> Loss<E, D, M> for LeapfrogLoss {
    fn loss<T: Tape<E, D> + Merge<T>>(
        &self,
        model: &M,
        batch: &Supervised<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        let (x, y) = (&batch.inputs, &batch.targets);
        let d = model.dof();
        let n = 2 * d;
        positive_solver(self.interval, self.substeps)?;
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
        let mut tp = Threaded::new(tape);
        let mut q = columns_of(&mut tp, x, 0, d);
        let mut p = columns_of(&mut tp, x, d, d);
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
            let target = |from: usize| y.clone().matmul(columns::select(y.device(), width, j * n + from, d));
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

/// A symplectic RNN: a separable learned H = T(p) + V(q) trained through leapfrog.
#[derive(Debug, Clone)]
pub struct Srnn<E: Real = f32, D: Device<E> = HostDevice> {
    net: SeparableNet<E, D>,
    loss: LeapfrogLoss,
}

through_field!(Srnn, net, SeparableNet<E, D>);

impl<E: Real, D: Device<E>> Configured<E, D> for Srnn<E, D> {
    const KIND: &'static str = "srnn";
    type Config = LeapfrogConfig;
    fn config(&self) -> LeapfrogConfig {
        LeapfrogConfig::of(&self.net.kinetic, self.loss)
    }
    /// T_θ and V_θ as tanh MLPs `[dof] → hidden → 1`.
    fn from_config(c: &LeapfrogConfig, device: &D, seed: u64) -> Result<Self, TensorError> {
        let (loss, kinetic, potential) = c.networks(1, device, seed)?;
        Ok(Self {
            net: SeparableNet { kinetic, potential },
            loss,
        })
    }
}

impl Srnn {
    /// T_θ and V_θ as tanh MLPs `[dof] → hidden → 1`; observations `interval` apart,
    /// `substeps` leapfrog steps between them.
    pub fn new(dim: usize, hidden: &[usize], interval: f64, substeps: usize, seed: u64) -> Result<Self, DynamicsError> {
        LeapfrogConfig::host_model(dim, hidden, interval, substeps, seed)
    }

    /// Loads a checkpoint written by [`DynamicsModel::save`].
    pub fn load(path: &Path) -> Result<Self, DynamicsError> {
        load_default(path)
    }
}

impl<E: Real, D: Device<E>> Srnn<E, D> {
    /// The learned H = T(p) + V(q) at every row `[q, p]`.
    pub fn energy(&self, x: ArrayView2<'_, f64>) -> Result<ndarray::Array1<f64>, DynamicsError> {
        let d = self.net.kinetic.widths()[0];
        check_columns(x, 2 * d)?;
        let (t, _) = Self::eval(&self.net.kinetic, x.slice(ndarray::s![.., d..]));
        let (v, _) = Self::eval(&self.net.potential, x.slice(ndarray::s![.., ..d]));
        Ok(t.iter().zip(&v).map(|(t, v)| t + v).collect())
    }

    /// The training loss settings.
    pub fn leapfrog_loss(&self) -> LeapfrogLoss {
        self.loss
    }

    /// Value and gradient of one of the networks at rows `x` (NaN where the rows do not fit:
    /// the integrator's traits have no error channel, and NaN stops its step control).
    fn eval(net: &Mlp<E, D>, x: ArrayView2<'_, f64>) -> (Vec<f64>, Vec<f64>) {
        match net.energy_derivatives(&tensor(net.device(), x), &[], NoneTape) {
            Ok(d) => (host::values(&d.value), host::values(&d.gradient)),
            Err(_) => (vec![f64::NAN; x.nrows()], vec![f64::NAN; x.len()]),
        }
    }
}

impl<E: Real, D: Device<E>> SeparableHamiltonian for Srnn<E, D>
where
    Self: Send + Sync,
{
    fn dof(&self) -> usize {
        self.net.kinetic.widths()[0]
    }
    fn kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        let (v, _) = Self::eval(&self.net.kinetic, p);
        out.iter_mut().zip(v).for_each(|(o, v)| *o = v);
    }
    fn potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        let (v, _) = Self::eval(&self.net.potential, q);
        out.iter_mut().zip(v).for_each(|(o, v)| *o = v);
    }
    fn grad_kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        let (_, g) = Self::eval(&self.net.kinetic, p);
        out.iter_mut().zip(g).for_each(|(o, g)| *o = g);
    }
    fn grad_potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        let (_, g) = Self::eval(&self.net.potential, q);
        out.iter_mut().zip(g).for_each(|(o, g)| *o = g);
    }
}

impl<E: Real, D: Device<E>> DynamicsModel for Srnn<E, D> {
    fn dim(&self) -> usize {
        2 * self.net.kinetic.widths()[0]
    }
    /// (∂T/∂p, −∂V/∂q) at every row `[q, p]`.
    fn field(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, DynamicsError> {
        let d = self.dim() / 2;
        check_columns(x, 2 * d)?;
        let (q, p) = (x.slice(ndarray::s![.., ..d]), x.slice(ndarray::s![.., d..]));
        let (_, dt_dp) = Self::eval(&self.net.kinetic, p);
        let (_, dv_dq) = Self::eval(&self.net.potential, q);
        Ok(Array2::from_shape_fn(x.dim(), |(r, c)| {
            if c < d { dt_dp[r * d + c] } else { -dv_dq[r * d + c - d] }
        }))
    }
    /// Trains on trajectory windows (`neural_ode::windows`).
    fn fit(&mut self, data: &Examples, cfg: &TrainConfig) -> Result<TrainReport, DynamicsError> {
        let loss = self.loss;
        Ok(train(self, data, &Through(&loss), cfg)?)
    }
    fn save(&self, path: &Path) -> Result<(), DynamicsError> {
        Ok(checkpoint::save(self, path, None)?)
    }
}
