//! Neural ODEs (Chen, Rubanova, Bettencourt, Duvenaud 2018): a learned field ẋ = f_θ(x) fitted
//! to observed trajectories *through the integrator*, not to derivative labels.
//!
//! Training examples are windows: a start state x(t₀) and the next `k` observations
//! x(t₀ + jΔ), j = 1..k. The prediction is `substeps` classical RK4 steps of size h = Δ/substeps
//! per observation, and the loss the mean squared error over all k observations. Its gradient
//! comes one of two ways ([`OdeGradient`]):
//!
//! - **backprop**: dfdx records every RK4 stage and differentiates the discrete solver exactly
//!   (memory grows with the number of steps);
//! - **adjoint**: the forward solve keeps only the observed states; the gradient is the solution
//!   of the adjoint system integrated backwards with the same RK4 steps,
//!   ẋ = f, ȧ = -(∂f/∂x)ᵀa, ġ = -(∂f/∂θ)ᵀa, a(t_k) = ∂L/∂x(t_k), with a jump
//!   a += ∂L/∂x(t_j) at every earlier observation and dL/dθ = g(t₀) (memory constant in the
//!   number of steps). Each stage needs one vector–Jacobian product, taken by dfdx on a small tape.
//!   The backward state is reset to the stored forward state at each observation.
//!
//! The two agree to O(h⁴) (the adjoint differentiates the exact flow, backprop the RK4 map);
//! `tests/neural_ode.rs` shows agreement to 1e-6 in f64.
//!
//! [`LeapfrogOde`] is the leapfrog variant: a partitioned field q̇ = v_θ(p), ṗ = a_θ(q), the form
//! leapfrog integrates explicitly, trained by backprop through multi-step leapfrog.

use std::path::Path;

use liouville_sim::dataset::Dataset;
use liouville_tensor::config::Configured;
use liouville_tensor::device::HostDevice;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::module::{Module, ParamRef, prefixed};
use liouville_tensor::shapes::Matrix;
use liouville_tensor::tape::Threaded;
use liouville_tensor::train::{Examples, Loss, Supervised, TrainConfig, TrainReport, train};
use liouville_tensor::{Activation, Init, Mlp, MlpConfig, Real, TensorError, checkpoint, columns, host};
use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::DynamicsError;
use crate::arrays::{array, check_columns, tensor};
use crate::models::{DynamicsModel, load_default, on_default_device};
use crate::srnn::{LeapfrogConfig, LeapfrogLoss};
use crate::wrapper::{Through, through_field};

/// How the gradient of the trajectory loss is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OdeGradient {
    /// Reverse mode through every RK4 stage.
    Backprop,
    /// The continuous adjoint, integrated backwards (constant memory in the number of steps).
    Adjoint,
}

impl OdeGradient {
    /// Parses "backprop" or "adjoint".
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "backprop" => Some(Self::Backprop),
            "adjoint" => Some(Self::Adjoint),
            _ => None,
        }
    }
}

/// The trajectory loss of a field network: targets are `k` states per row, `[rows, k·dim]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrajectoryLoss {
    /// Time between observations Δ.
    pub interval: f64,
    /// RK4 steps per observation interval.
    pub substeps: usize,
    /// Backprop or adjoint.
    pub gradient: OdeGradient,
}

/// One RK4 step x + h/6 (k₁ + 2k₂ + 2k₃ + k₄) on the threaded tape.
fn rk4_step<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    net: &Mlp<E, D>,
    tp: &mut Threaded<T>,
    x: &Matrix<E, D>,
    h: f64,
) -> Matrix<E, D> {
    let f = |tp: &mut Threaded<T>, y: &Matrix<E, D>| tp.step(|t| net.forward(y, t).expect("input width checked"));
    let stage = |tp: &mut Threaded<T>, k: &Matrix<E, D>, c: f64| {
        tp.step(|t| x.clone().put_tape(t) + k.retaped::<T>() * E::of(c))
    };
    let k1 = f(tp, x);
    let x2 = stage(tp, &k1, h / 2.0);
    let k2 = f(tp, &x2);
    let x3 = stage(tp, &k2, h / 2.0);
    let k3 = f(tp, &x3);
    let x4 = stage(tp, &k3, h);
    let k4 = f(tp, &x4);
    tp.step(|t| {
        let two = E::of(2.0);
        x.clone().put_tape(t)
            + (k1.retaped::<T>() + k2.retaped::<T>() * two + k3.retaped::<T>() * two + k4.retaped::<T>())
                * E::of(h / 6.0)
    })
}

/// Column block `j` (`dim` wide) of every row of a host matrix, as a device tensor.
/// Observation `j` (columns `j·dim..(j+1)·dim`) of every target row, through a selector.
fn block<E: Real, D: Device<E>>(y: &Matrix<E, D>, j: usize, dim: usize) -> Matrix<E, D> {
    y.clone().matmul(columns::select(y.device(), y.shape().1, j * dim, dim))
}

impl TrajectoryLoss {
    fn check<E: Real, D: Device<E>>(
        &self,
        net: &Mlp<E, D>,
        x: &Matrix<E, D>,
        y: &Matrix<E, D>,
    ) -> Result<usize, TensorError> {
        let dim = net.widths()[0];
        positive_solver(self.interval, self.substeps)?;
        if x.shape().1 != dim || *net.widths().last().expect("non-empty") != dim {
            return Err(TensorError::ShapeMismatch(format!(
                "the field maps {dim} columns to {dim}, got states with {}",
                x.shape().1
            )));
        }
        if y.shape().1 == 0 || !y.shape().1.is_multiple_of(dim) || y.shape().0 != x.shape().0 {
            return Err(TensorError::ShapeMismatch(format!(
                "targets {:?} are not k whole states per row of {:?}",
                y.shape(),
                x.shape()
            )));
        }
        Ok(y.shape().1 / dim)
    }

    fn backprop<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
        &self,
        net: &Mlp<E, D>,
        x: &Matrix<E, D>,
        y: &Matrix<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        let horizon = self.check(net, x, y)?;
        let (rows, width) = *y.shape();
        let dim = width / horizon;
        let h = self.interval / self.substeps as f64;
        let mut tp = Threaded::new(tape);
        let mut state = x.clone();
        let mut total: Option<Tensor<(), E, D>> = None;
        for j in 0..horizon {
            for _ in 0..self.substeps {
                state = rk4_step(net, &mut tp, &state, h);
            }
            let target = block(y, j, dim);
            let sq = tp.step(|t| (state.clone().put_tape(t) - target).square().sum());
            total = Some(match total {
                None => sq,
                Some(acc) => tp.step(|t| acc.put_tape(t) + sq.retaped::<T>()),
            });
        }
        let total = total.expect("horizon >= 1");
        Ok(tp.finish(total) / E::of((rows * width) as f64))
    }

    /// The forward solve without a tape: the states at every observation, `horizon` of them.
    fn observed_states<E: Real, D: Device<E>>(
        &self,
        net: &Mlp<E, D>,
        x: &Matrix<E, D>,
        horizon: usize,
    ) -> Vec<Matrix<E, D>> {
        let h = self.interval / self.substeps as f64;
        let mut tp = Threaded::new(NoneTape);
        let mut state = x.clone();
        let mut out = Vec::with_capacity(horizon);
        for _ in 0..horizon {
            for _ in 0..self.substeps {
                state = rk4_step(net, &mut tp, &state, h);
            }
            out.push(state.clone());
        }
        out
    }

    fn adjoint<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
        &self,
        net: &Mlp<E, D>,
        x: &Matrix<E, D>,
        y: &Matrix<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        let horizon = self.check(net, x, y)?;
        let (rows, width) = *y.shape();
        let dim = width / horizon;
        let dev = x.device().clone();
        let scale = E::of(1.0 / (rows * width) as f64);
        let states = self.observed_states(net, x, horizon);
        let targets: Vec<Matrix<E, D>> = (0..horizon).map(|j| block(y, j, dim)).collect();
        let loss: f64 = states
            .iter()
            .zip(&targets)
            .map(|(s, t)| host::scalar(&(s.clone() - t.clone()).square().sum::<(), _>()))
            .sum::<f64>()
            * scale.to64();
        if !T::OWNS_TAPE {
            return Ok(dev.tensor(E::of(loss)).put_tape(tape));
        }
        let adjoint = AdjointSolve::new(net, self.interval / self.substeps as f64)?;
        let grads = adjoint.parameter_gradients(&states, &targets, scale, self.substeps)?;
        liouville_tensor::surrogate::with_gradient(net, &grads, loss, tape)
    }
}

/// (x, a) of the backward solve.
type StateAndAdjoint<E, D> = (Matrix<E, D>, Matrix<E, D>);

/// The backward adjoint solve of one batch.
struct AdjointSolve<'a, E: Real, D: Device<E>> {
    net: &'a Mlp<E, D>,
    h: f64,
}

/// f(x), aᵀ∂f/∂x and aᵀ∂f/∂θ (per parameter, host) at one point.
struct Vjp<E: Real, D: Device<E>> {
    field: Matrix<E, D>,
    state: Matrix<E, D>,
    params: Vec<Vec<E>>,
}

impl<'a, E: Real, D: Device<E>> AdjointSolve<'a, E, D> {
    fn new(net: &'a Mlp<E, D>, h: f64) -> Result<Self, TensorError> {
        Ok(Self { net, h })
    }

    fn vjp(&self, x: &Matrix<E, D>, a: &Matrix<E, D>) -> Result<Vjp<E, D>, TensorError> {
        let out = self.net.forward(x, OwnedTape::<E, D>::default())?;
        let (field, tape) = out.split_tape();
        let mut grads = (field.clone().put_tape(tape) * a.clone()).sum().backward();
        let alloc = |e: D::Err| TensorError::InvalidConfig(format!("{e:?}"));
        grads.try_alloc_for(x).map_err(alloc)?;
        let state = grads.get(x);
        let mut params = Vec::new();
        for (_, p) in self.net.parameters() {
            params.push(match p {
                ParamRef::Matrix(w) => {
                    grads.try_alloc_for(w).map_err(alloc)?;
                    grads.get(w).as_vec()
                }
                ParamRef::Vector(b) => {
                    grads.try_alloc_for(b).map_err(alloc)?;
                    grads.get(b).as_vec()
                }
            });
        }
        Ok(Vjp { field, state, params })
    }

    /// One RK4 step of the reversed augmented system (s = -t):
    /// dx/ds = -f, da/ds = (∂f/∂x)ᵀa, dg/ds = (∂f/∂θ)ᵀa.
    fn step(&self, x: &Matrix<E, D>, a: &Matrix<E, D>, g: &mut [Vec<E>]) -> Result<StateAndAdjoint<E, D>, TensorError> {
        let h = self.h;
        let shift = |base: &Matrix<E, D>, k: &Matrix<E, D>, c: f64| base.clone() + k.clone() * E::of(c);
        let v1 = self.vjp(x, a)?;
        let v2 = self.vjp(&shift(x, &v1.field, -h / 2.0), &shift(a, &v1.state, h / 2.0))?;
        let v3 = self.vjp(&shift(x, &v2.field, -h / 2.0), &shift(a, &v2.state, h / 2.0))?;
        let v4 = self.vjp(&shift(x, &v3.field, -h), &shift(a, &v3.state, h))?;
        let combine = |k1: &Matrix<E, D>, k2: &Matrix<E, D>, k3: &Matrix<E, D>, k4: &Matrix<E, D>| {
            (k1.clone() + k2.clone() * E::of(2.0) + k3.clone() * E::of(2.0) + k4.clone()) * E::of(h / 6.0)
        };
        let x_next = x.clone() - combine(&v1.field, &v2.field, &v3.field, &v4.field);
        let a_next = a.clone() + combine(&v1.state, &v2.state, &v3.state, &v4.state);
        for (i, acc) in g.iter_mut().enumerate() {
            for (j, gj) in acc.iter_mut().enumerate() {
                let s = v1.params[i][j] + E::of(2.0) * (v2.params[i][j] + v3.params[i][j]) + v4.params[i][j];
                *gj += E::of(h / 6.0) * s;
            }
        }
        Ok((x_next, a_next))
    }

    /// dL/dθ for L = scale · Σⱼ |x(tⱼ) − yⱼ|², from the stored observed states.
    fn parameter_gradients(
        &self,
        states: &[Matrix<E, D>],
        targets: &[Matrix<E, D>],
        scale: E,
        substeps: usize,
    ) -> Result<Vec<Vec<E>>, TensorError> {
        let mut g: Vec<Vec<E>> = self
            .net
            .parameters()
            .iter()
            .map(|(_, p)| vec![E::default(); p.dims().iter().product()])
            .collect();
        let cotangent = |j: usize| (states[j].clone() - targets[j].clone()) * (scale * E::of(2.0));
        let last = states.len() - 1;
        let mut a = cotangent(last);
        for j in (0..states.len()).rev() {
            let mut x = states[j].clone();
            if j < last {
                a = a + cotangent(j);
            }
            for _ in 0..substeps {
                (x, a) = self.step(&x, &a, &mut g)?;
            }
        }
        Ok(g)
    }
}

impl<E: Real, D: Device<E>> Loss<E, D, Mlp<E, D>> for TrajectoryLoss {
    fn loss<T: Tape<E, D> + Merge<T>>(
        &self,
        model: &Mlp<E, D>,
        batch: &Supervised<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        let (x, y) = (&batch.inputs, &batch.targets);
        match self.gradient {
            OdeGradient::Backprop => self.backprop(model, x, y, tape),
            OdeGradient::Adjoint => self.adjoint(model, x, y, tape),
        }
    }
}

/// Windows of `horizon` consecutive observations after each start state of the chosen
/// trajectories: inputs `[dim]`, targets `[horizon·dim]` (noisy observations both).
pub fn windows(ds: &Dataset, trajectories: &[usize], horizon: usize) -> Result<Examples, DynamicsError> {
    let samples = ds.observations.len_of(Axis(1));
    let dim = ds.observations.len_of(Axis(2));
    if horizon == 0 || horizon >= samples {
        return Err(DynamicsError::ShapeMismatch(format!(
            "a window of {horizon} observations needs 1 ≤ horizon < {samples} samples"
        )));
    }
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for &k in trajectories {
        let obs = ds.observations.index_axis(Axis(0), k);
        for start in 0..samples - horizon {
            x.extend(obs.row(start).iter().copied());
            for j in 1..=horizon {
                y.extend(obs.row(start + j).iter().copied());
            }
        }
    }
    Ok(Examples::new(x, dim, y, horizon * dim)?)
}

/// Architecture and solver of a [`NeuralOde`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeuralOdeConfig {
    /// State dimension.
    pub dim: usize,
    /// Hidden widths of the field MLP.
    pub hidden: Vec<usize>,
    /// Time between observations Δ.
    pub interval: f64,
    /// RK4 steps per observation interval.
    pub substeps: usize,
    /// Backprop or adjoint.
    pub gradient: OdeGradient,
}

/// The solver settings of the recurrent models (neural ODE, SRNN): a finite positive observation
/// interval and at least one integrator substep, each named when it is wrong.
pub(crate) fn positive_solver(interval: f64, substeps: usize) -> Result<(), TensorError> {
    if substeps == 0 {
        return Err(TensorError::InvalidConfig(
            "substeps = 0: the integrator needs at least 1 step per observation interval".into(),
        ));
    }
    if !(interval.is_finite() && interval > 0.0) {
        return Err(TensorError::InvalidConfig(format!(
            "observation interval = {interval}: it must be finite and positive (the dataset's sample spacing)"
        )));
    }
    Ok(())
}

/// A neural ODE: an MLP field trained through RK4.
#[derive(Debug, Clone)]
pub struct NeuralOde<E: Real = f32, D: Device<E> = HostDevice> {
    net: Mlp<E, D>,
    loss: TrajectoryLoss,
}

through_field!(NeuralOde, net, Mlp<E, D>);

impl<E: Real, D: Device<E>> Configured<E, D> for NeuralOde<E, D> {
    const KIND: &'static str = "neural_ode";
    type Config = NeuralOdeConfig;
    fn config(&self) -> NeuralOdeConfig {
        NeuralOdeConfig {
            dim: self.net.widths()[0],
            hidden: self.net.hidden_widths().to_vec(),
            interval: self.loss.interval,
            substeps: self.loss.substeps,
            gradient: self.loss.gradient,
        }
    }
    /// A tanh MLP field `[dim] → hidden → [dim]`, orthogonal initialisation.
    fn from_config(c: &NeuralOdeConfig, device: &D, seed: u64) -> Result<Self, TensorError> {
        positive_solver(c.interval, c.substeps)?;
        Ok(Self {
            net: MlpConfig::new(c.dim, &c.hidden, c.dim, Activation::Tanh, Init::Orthogonal).init(device, seed)?,
            loss: TrajectoryLoss {
                interval: c.interval,
                substeps: c.substeps,
                gradient: c.gradient,
            },
        })
    }
}

impl NeuralOde {
    /// A tanh MLP field `[dim] → hidden → [dim]`; observations `interval` apart, `substeps` RK4
    /// steps between them, gradients by `gradient`.
    pub fn new(
        dim: usize,
        hidden: &[usize],
        interval: f64,
        substeps: usize,
        gradient: OdeGradient,
        seed: u64,
    ) -> Result<Self, DynamicsError> {
        positive_solver(interval, substeps)?;
        on_default_device(
            &NeuralOdeConfig {
                dim,
                hidden: hidden.to_vec(),
                interval,
                substeps,
                gradient,
            },
            seed,
        )
    }
    /// Loads a checkpoint written by [`DynamicsModel::save`] (the solver settings are stored in it).
    pub fn load(path: &Path) -> Result<Self, DynamicsError> {
        load_default(path)
    }
}

impl<E: Real, D: Device<E>> NeuralOde<E, D> {
    /// The training loss settings.
    pub fn trajectory_loss(&self) -> TrajectoryLoss {
        self.loss
    }
}

impl<E: Real, D: Device<E>> DynamicsModel for NeuralOde<E, D> {
    fn dim(&self) -> usize {
        self.net.widths()[0]
    }
    fn field(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, DynamicsError> {
        check_columns(x, self.dim())?;
        Ok(array(&self.net.forward(&tensor(self.net.device(), x), NoneTape)?))
    }
    /// Trains on [`windows`] of trajectories (targets: `k` states per row).
    fn fit(&mut self, data: &Examples, cfg: &TrainConfig) -> Result<TrainReport, DynamicsError> {
        let loss = self.loss;
        Ok(train(self, data, &Through(&loss), cfg)?)
    }
    fn save(&self, path: &Path) -> Result<(), DynamicsError> {
        Ok(checkpoint::save(self, path, None)?)
    }
}

/// A partitioned neural ODE, q̇ = v_θ(p), ṗ = a_θ(q) (two MLPs `[d] → hidden → [d]`), the form
/// leapfrog integrates explicitly: trained by backprop through multi-step leapfrog with
/// [`crate::srnn::LeapfrogLoss`]. Unlike the SRNN, v and a need not be gradients, so the learned
/// flow is time-reversible but not necessarily symplectic.
#[derive(Debug, Clone)]
pub struct PartitionedNet<E: Real, D: Device<E>> {
    /// v(p).
    pub velocity: Mlp<E, D>,
    /// a(q).
    pub acceleration: Mlp<E, D>,
}

impl<E: Real, D: Device<E>> Module<E, D> for PartitionedNet<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        let mut v = prefixed("velocity", self.velocity.parameters());
        v.extend(prefixed("acceleration", self.acceleration.parameters()));
        v
    }
    fn parameters_mut(&mut self) -> Vec<liouville_tensor::module::ParamMut<'_, E, D>> {
        let mut v = self.velocity.parameters_mut();
        v.extend(self.acceleration.parameters_mut());
        v
    }
}

fn forward_on_thread<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    net: &Mlp<E, D>,
    tp: &mut Threaded<T>,
    x: &Matrix<E, D>,
) -> Result<Matrix<E, D>, TensorError> {
    if x.shape().1 != net.widths()[0] {
        return Err(TensorError::ShapeMismatch(format!(
            "input has {} columns, the MLP takes {}",
            x.shape().1,
            net.widths()[0]
        )));
    }
    Ok(tp.step(|t| net.forward(x, t).expect("input width checked")))
}

impl<E: Real, D: Device<E>> crate::srnn::PartitionedField<E, D> for PartitionedNet<E, D> {
    fn dof(&self) -> usize {
        self.velocity.widths()[0]
    }
    fn velocity<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        p: &Matrix<E, D>,
    ) -> Result<Matrix<E, D>, TensorError> {
        forward_on_thread(&self.velocity, tp, p)
    }
    fn acceleration<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        q: &Matrix<E, D>,
    ) -> Result<Matrix<E, D>, TensorError> {
        forward_on_thread(&self.acceleration, tp, q)
    }
}

/// A partitioned neural ODE, trained through leapfrog on trajectory windows.
#[derive(Debug, Clone)]
pub struct LeapfrogOde<E: Real = f32, D: Device<E> = HostDevice> {
    net: PartitionedNet<E, D>,
    loss: LeapfrogLoss,
}

through_field!(LeapfrogOde, net, PartitionedNet<E, D>);

impl<E: Real, D: Device<E>> Configured<E, D> for LeapfrogOde<E, D> {
    const KIND: &'static str = "leapfrog_ode";
    type Config = LeapfrogConfig;
    fn config(&self) -> LeapfrogConfig {
        LeapfrogConfig::of(&self.net.velocity, self.loss)
    }
    /// v_θ and a_θ as tanh MLPs `[dof] → hidden → [dof]`.
    fn from_config(c: &LeapfrogConfig, device: &D, seed: u64) -> Result<Self, TensorError> {
        let (loss, velocity, acceleration) = c.networks(c.dim / 2, device, seed)?;
        Ok(Self {
            net: PartitionedNet { velocity, acceleration },
            loss,
        })
    }
}

impl LeapfrogOde {
    /// v_θ and a_θ as tanh MLPs `[dof] → hidden → [dof]`; observations `interval` apart,
    /// `substeps` leapfrog steps between them.
    pub fn new(dim: usize, hidden: &[usize], interval: f64, substeps: usize, seed: u64) -> Result<Self, DynamicsError> {
        LeapfrogConfig::host_model(dim, hidden, interval, substeps, seed)
    }

    /// Loads a checkpoint written by [`DynamicsModel::save`].
    pub fn load(path: &Path) -> Result<Self, DynamicsError> {
        load_default(path)
    }
}

impl<E: Real, D: Device<E>> DynamicsModel for LeapfrogOde<E, D> {
    fn dim(&self) -> usize {
        2 * self.net.velocity.widths()[0]
    }
    /// (v(p), a(q)) at every row `[q, p]`.
    fn field(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, DynamicsError> {
        check_columns(x, self.dim())?;
        let d = self.dim() / 2;
        let dev = self.net.velocity.device();
        let v = array(
            &self
                .net
                .velocity
                .forward(&tensor(dev, x.slice(ndarray::s![.., d..])), NoneTape)?,
        );
        let a = array(
            &self
                .net
                .acceleration
                .forward(&tensor(dev, x.slice(ndarray::s![.., ..d])), NoneTape)?,
        );
        Ok(ndarray::concatenate(Axis(1), &[v.view(), a.view()]).expect("two halves of one batch"))
    }
    /// Trains on trajectory windows ([`windows`]).
    fn fit(&mut self, data: &Examples, cfg: &TrainConfig) -> Result<TrainReport, DynamicsError> {
        let loss = self.loss;
        Ok(train(self, data, &Through(&loss), cfg)?)
    }
    fn save(&self, path: &Path) -> Result<(), DynamicsError> {
        Ok(checkpoint::save(self, path, None)?)
    }
}
