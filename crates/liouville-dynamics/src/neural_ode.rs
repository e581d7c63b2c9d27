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
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::mlp::Matrix;
use liouville_tensor::module::{Module, ParamRef, prefixed};
use liouville_tensor::tape::Threaded;
use liouville_tensor::train::{Examples, Loss, TrainConfig, TrainReport, train};
use liouville_tensor::{Activation, Init, Mlp, Real, TensorError, checkpoint};
use ndarray::{Array2, ArrayView2, Axis};

use crate::DynamicsError;
use crate::models::DynamicsModel;

/// How the gradient of the trajectory loss is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
fn block<E: Real, D: Device<E>>(dev: &D, host: &[E], rows: usize, width: usize, j: usize, dim: usize) -> Matrix<E, D> {
    let v: Vec<E> = (0..rows)
        .flat_map(|r| host[r * width + j * dim..r * width + (j + 1) * dim].iter().copied())
        .collect();
    dev.tensor_from_vec(v, (rows, dim))
}

impl TrajectoryLoss {
    fn check<E: Real, D: Device<E>>(
        &self,
        net: &Mlp<E, D>,
        x: &Matrix<E, D>,
        y: &Matrix<E, D>,
    ) -> Result<usize, TensorError> {
        let dim = net.widths()[0];
        if !(self.interval.is_finite() && self.interval > 0.0 && self.substeps > 0) {
            return Err(TensorError::InvalidConfig(format!(
                "observation interval {} and substeps {} must be positive",
                self.interval, self.substeps
            )));
        }
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
        let dev = x.device().clone();
        let host = y.as_vec();
        let h = self.interval / self.substeps as f64;
        let mut tp = Threaded::new(tape);
        let mut state = x.clone();
        let mut total: Option<Tensor<(), E, D>> = None;
        for j in 0..horizon {
            for _ in 0..self.substeps {
                state = rk4_step(net, &mut tp, &state, h);
            }
            let target = block(&dev, &host, rows, width, j, dim);
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
        let host = y.as_vec();
        let scale = E::of(1.0 / (rows * width) as f64);
        let states = self.observed_states(net, x, horizon);
        let targets: Vec<Matrix<E, D>> = (0..horizon).map(|j| block(&dev, &host, rows, width, j, dim)).collect();
        let loss: f64 = states
            .iter()
            .zip(&targets)
            .map(|(s, t)| (s.clone() - t.clone()).square().sum::<(), _>().as_vec()[0].to64())
            .sum::<f64>()
            * scale.to64();
        if !T::OWNS_TAPE {
            return Ok(dev.tensor(E::of(loss)).put_tape(tape));
        }
        let adjoint = AdjointSolve::new(net, self.interval / self.substeps as f64)?;
        let grads = adjoint.parameter_gradients(&states, &targets, scale, self.substeps)?;
        surrogate(net, &grads, loss, tape)
    }
}

/// A scalar whose value is `loss` and whose parameter gradient is `grads`:
/// Σᵢ ⟨θᵢ, Gᵢ⟩ + (loss − Σᵢ ⟨θᵢ, Gᵢ⟩), the constant in brackets carrying no gradient. This hands
/// an externally computed gradient (the adjoint's) to the ordinary optimiser and training loop.
fn surrogate<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    net: &Mlp<E, D>,
    grads: &[Vec<E>],
    loss: f64,
    tape: T,
) -> Result<Tensor<(), E, D, T>, TensorError> {
    let mut tp = Threaded::new(tape);
    let mut total: Option<Tensor<(), E, D>> = None;
    for ((_, p), g) in net.parameters().into_iter().zip(grads) {
        let term = match p {
            ParamRef::Matrix(w) => {
                let g = w.device().tensor_from_vec(g.clone(), *w.shape());
                tp.step(|t| (w.clone().put_tape(t) * g).sum())
            }
            ParamRef::Vector(b) => {
                let g = b.device().tensor_from_vec(g.clone(), *b.shape());
                tp.step(|t| (b.clone().put_tape(t) * g).sum())
            }
        };
        total = Some(match total {
            None => term,
            Some(acc) => tp.step(|t| acc.put_tape(t) + term.retaped::<T>()),
        });
    }
    let total = total.ok_or_else(|| TensorError::InvalidConfig("the field has no parameters".into()))?;
    let inner = total.as_vec()[0].to64();
    Ok(tp.finish(total) + E::of(loss - inner))
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
        x: &Matrix<E, D>,
        y: &Matrix<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
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

/// A neural ODE on CPU in f32: an MLP field trained through RK4.
pub struct NeuralOde {
    net: Mlp<f32, Cpu>,
    loss: TrajectoryLoss,
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
        let widths: Vec<usize> = std::iter::once(dim)
            .chain(hidden.iter().copied())
            .chain([dim])
            .collect();
        if !(interval.is_finite() && interval > 0.0 && substeps > 0) {
            return Err(DynamicsError::ShapeMismatch(format!(
                "observation interval {interval} and substeps {substeps} must be positive"
            )));
        }
        Ok(Self {
            net: Mlp::new(&Cpu::default(), &widths, Activation::Tanh, Init::Orthogonal, seed)?,
            loss: TrajectoryLoss {
                interval,
                substeps,
                gradient,
            },
        })
    }
    /// Loads a checkpoint written by [`DynamicsModel::save`] (the solver settings are stored in it).
    pub fn load(path: &Path) -> Result<Self, DynamicsError> {
        let (net, _) = checkpoint::load(&Cpu::default(), path)?;
        let fields = crate::fields::CheckpointFields::read(path, false)?;
        let (interval, substeps) = (fields.positive("interval")?, fields.parse::<usize>("substeps")?);
        let gradient = fields
            .get("gradient")
            .and_then(OdeGradient::parse)
            .filter(|_| substeps > 0)
            .ok_or_else(|| {
                DynamicsError::Tensor(TensorError::Checkpoint {
                    path: path.to_owned(),
                    message: "a neural ODE checkpoint needs valid \"gradient\" and \"substeps\" fields".into(),
                })
            })?;
        Ok(Self {
            net,
            loss: TrajectoryLoss {
                interval,
                substeps,
                gradient,
            },
        })
    }
    /// The training loss settings.
    pub fn trajectory_loss(&self) -> TrajectoryLoss {
        self.loss
    }
}

impl DynamicsModel for NeuralOde {
    fn dim(&self) -> usize {
        self.net.widths()[0]
    }
    fn field(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, DynamicsError> {
        if x.ncols() != self.dim() {
            return Err(DynamicsError::ShapeMismatch(format!(
                "states have {} columns, the model takes {}",
                x.ncols(),
                self.dim()
            )));
        }
        let t = Cpu::default().tensor_from_vec(x.iter().map(|&v| v as f32).collect(), x.dim());
        let out = self.net.forward(&t, NoneTape)?.as_vec();
        Ok(Array2::from_shape_vec(x.dim(), out.into_iter().map(f64::from).collect()).expect("tensor shape"))
    }
    /// Trains on [`windows`] of trajectories (targets: `k` states per row).
    fn fit(&mut self, data: &Examples, cfg: &TrainConfig) -> Result<TrainReport, DynamicsError> {
        Ok(train(&mut self.net, data, &self.loss, cfg)?)
    }
    fn save(&self, path: &Path) -> Result<(), DynamicsError> {
        let gradient = match self.loss.gradient {
            OdeGradient::Backprop => "backprop",
            OdeGradient::Adjoint => "adjoint",
        };
        Ok(checkpoint::save(
            &self.net,
            path,
            &[
                ("model", "neural_ode".into()),
                ("interval", self.loss.interval.to_string()),
                ("substeps", self.loss.substeps.to_string()),
                ("gradient", gradient.into()),
            ],
        )?)
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

/// A partitioned neural ODE on CPU in f32, trained through leapfrog on trajectory windows.
#[derive(Debug, Clone)]
pub struct LeapfrogOde {
    net: PartitionedNet<f32, Cpu>,
    loss: crate::srnn::LeapfrogLoss,
}

impl LeapfrogOde {
    /// v_θ and a_θ as tanh MLPs `[dof] → hidden → [dof]`; observations `interval` apart,
    /// `substeps` leapfrog steps between them.
    pub fn new(dim: usize, hidden: &[usize], interval: f64, substeps: usize, seed: u64) -> Result<Self, DynamicsError> {
        let loss = crate::srnn::LeapfrogLoss::checked(dim, interval, substeps)?;
        let d = dim / 2;
        let widths: Vec<usize> = std::iter::once(d).chain(hidden.iter().copied()).chain([d]).collect();
        let dev = Cpu::default();
        Ok(Self {
            net: PartitionedNet {
                velocity: Mlp::new(&dev, &widths, Activation::Tanh, Init::Orthogonal, seed)?,
                acceleration: Mlp::new(&dev, &widths, Activation::Tanh, Init::Orthogonal, seed.wrapping_add(1))?,
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
}

impl DynamicsModel for LeapfrogOde {
    fn dim(&self) -> usize {
        2 * self.net.velocity.widths()[0]
    }
    /// (v(p), a(q)) at every row `[q, p]`.
    fn field(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, DynamicsError> {
        let d = self.dim() / 2;
        if x.ncols() != 2 * d {
            return Err(DynamicsError::ShapeMismatch(format!(
                "states have {} columns, the model takes {}",
                x.ncols(),
                2 * d
            )));
        }
        let dev = Cpu::default();
        let half = |from: usize| {
            dev.tensor_from_vec(
                x.rows()
                    .into_iter()
                    .flat_map(|r| r.iter().skip(from).take(d).map(|&v| v as f32).collect::<Vec<_>>())
                    .collect(),
                (x.nrows(), d),
            )
        };
        let v = self.net.velocity.forward(&half(d), NoneTape)?.as_vec();
        let a = self.net.acceleration.forward(&half(0), NoneTape)?.as_vec();
        Ok(Array2::from_shape_fn(x.dim(), |(r, c)| {
            f64::from(if c < d { v[r * d + c] } else { a[r * d + c - d] })
        }))
    }
    /// Trains on trajectory windows ([`windows`]).
    fn fit(&mut self, data: &Examples, cfg: &TrainConfig) -> Result<TrainReport, DynamicsError> {
        Ok(train(&mut self.net, data, &self.loss, cfg)?)
    }
    fn save(&self, path: &Path) -> Result<(), DynamicsError> {
        let [interval, substeps] = self.loss.fields();
        Ok(checkpoint::save(
            &self.net,
            path,
            &[
                ("model", "leapfrog_ode".into()),
                crate::fields::widths_field(self.net.velocity.widths()),
                interval,
                substeps,
            ],
        )?)
    }
}
