//! Variational integrator networks (Saemundsson, Terenin, Hofmann, Deisenroth 2020, "Variational
//! Integrator Networks for Physically Structured Embeddings", AISTATS; the velocity-Verlet
//! variant VIN-VV): a learned potential V_θ(q) and a learned diagonal mass M = diag(e^{s}),
//! trained *through* the variational integrator of the Lagrangian L = ½q̇ᵀMq̇ − V(q).
//!
//! The discrete Euler–Lagrange equations of the trapezoidal discrete Lagrangian are velocity
//! Verlet; in canonical coordinates p = Mq̇, with h = Δ/substeps,
//!
//! p_{½} = p − (h/2)∇V(q),  q′ = q + h M⁻¹p_{½},  p′ = p_{½} − (h/2)∇V(q′),
//!
//! which is `srnn::LeapfrogLoss` with v(p) = M⁻¹p and a(q) = −∇V(q): the loss is the mean
//! squared error of the next k observations of trajectory windows. The map is symplectic for any
//! θ, and its modified energy is conserved, so long rollouts stay bounded. Compared with the SRNN
//! the kinetic energy is known up to the masses. On canonical data (q, p) both parts are
//! identified — q̇ = M⁻¹p fixes M, ṗ = −∇V fixes V; from positions and velocities alone (p = q̇)
//! only M⁻¹∇V is, and the masses stay a gauge. The trained model is a
//! [`SeparableHamiltonian`] (T = ½pᵀM⁻¹p), so every splitting integrator rolls it out.

use std::path::Path;

use liouville_integrate::SeparableHamiltonian;
use liouville_tensor::config::Configured;
use liouville_tensor::device::HostDevice;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::module::{Module, ParamMut, ParamRef, prefixed};
use liouville_tensor::shapes::{Matrix, Vector};
use liouville_tensor::tape::Threaded;
use liouville_tensor::train::{Examples, TrainConfig, TrainReport, train};
use liouville_tensor::{Energy, Mlp, Real, TensorError, checkpoint, host};
use ndarray::{Array2, ArrayView2, ArrayViewMut1, ArrayViewMut2};

use crate::DynamicsError;
use crate::arrays::{check_columns, tensor};
use crate::models::{DynamicsModel, load_default};
use crate::srnn::{LeapfrogConfig, LeapfrogLoss, PartitionedField};

/// A variational integrator network: V_θ(q) (tanh MLP `[d] → hidden → 1`) and log-masses s.
#[derive(Debug, Clone)]
pub struct Vin<E: Real = f32, D: Device<E> = HostDevice> {
    potential: Mlp<E, D>,
    /// s, with M = diag(e^{s}); zero (unit masses) at initialisation.
    log_mass: Vector<E, D>,
    loss: LeapfrogLoss,
}

impl<E: Real, D: Device<E>> Module<E, D> for Vin<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        let mut v = prefixed("potential", self.potential.parameters());
        v.push(("log_mass".into(), ParamRef::Vector(&self.log_mass)));
        v
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        let mut v = self.potential.parameters_mut();
        v.push(ParamMut::Vector(&mut self.log_mass));
        v
    }
}

impl<E: Real, D: Device<E>> PartitionedField<E, D> for Vin<E, D> {
    fn dof(&self) -> usize {
        self.potential.widths()[0]
    }
    /// M⁻¹p = e^{−s} ⊙ p.
    fn velocity<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        p: &Matrix<E, D>,
    ) -> Result<Matrix<E, D>, TensorError> {
        let shape = *p.shape();
        Ok(tp.step(|t| {
            p.clone().put_tape(t)
                * self
                    .log_mass
                    .retaped::<T>()
                    .negate()
                    .exp()
                    .broadcast_like::<_, Axis<0>>(&shape)
        }))
    }
    /// −∇V(q).
    fn acceleration<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        q: &Matrix<E, D>,
    ) -> Result<Matrix<E, D>, TensorError> {
        let g = self.potential.derive(tp, q, &[])?.gradient;
        Ok(tp.step(|t| g.put_tape(t).negate()))
    }
}

impl<E: Real, D: Device<E>> Configured<E, D> for Vin<E, D> {
    const KIND: &'static str = "vin";
    type Config = LeapfrogConfig;
    fn config(&self) -> LeapfrogConfig {
        LeapfrogConfig::of(&self.potential, self.loss)
    }
    /// V_θ as a tanh MLP `[dof] → hidden → 1` (orthogonal initialisation), unit masses.
    fn from_config(c: &LeapfrogConfig, device: &D, seed: u64) -> Result<Self, TensorError> {
        let (loss, potential, _) = c.networks(1, device, seed)?;
        Ok(Self {
            log_mass: device.zeros_like(&(c.dim / 2,)),
            potential,
            loss,
        })
    }
}

impl Vin {
    /// V_θ as a tanh MLP `[dof] → hidden → 1`, unit masses to start; observations `interval`
    /// apart, `substeps` velocity-Verlet steps between them.
    pub fn new(dim: usize, hidden: &[usize], interval: f64, substeps: usize, seed: u64) -> Result<Self, DynamicsError> {
        LeapfrogConfig::host_model(dim, hidden, interval, substeps, seed)
    }

    /// Loads a checkpoint written by [`DynamicsModel::save`].
    pub fn load(path: &Path) -> Result<Self, DynamicsError> {
        load_default(path)
    }
}

impl<E: Real, D: Device<E>> Vin<E, D> {
    /// The learned masses e^{s}, by degree of freedom.
    pub fn masses(&self) -> Vec<f64> {
        host::values(&self.log_mass).into_iter().map(f64::exp).collect()
    }

    /// Sets the masses (a starting point for training, or known masses), one per degree of
    /// freedom, each positive and finite.
    pub fn set_masses(&mut self, masses: &[f64]) -> Result<(), DynamicsError> {
        let d = self.potential.widths()[0];
        if masses.len() != d {
            return Err(DynamicsError::ShapeMismatch(format!(
                "{} masses for {d} degrees of freedom",
                masses.len()
            )));
        }
        if let Some(bad) = masses.iter().find(|m| !(m.is_finite() && **m > 0.0)) {
            return Err(TensorError::InvalidConfig(format!("masses must be positive and finite, got {bad}")).into());
        }
        let dev = self.potential.device().clone();
        self.log_mass = host::vector(&dev, masses.iter().map(|m| m.ln()));
        Ok(())
    }

    /// The training loss settings.
    pub fn leapfrog_loss(&self) -> LeapfrogLoss {
        self.loss
    }

    /// V and ∇V at rows `q` (NaN where they do not fit: the integrators' traits have no error
    /// channel, and NaN stops their step control).
    fn eval(&self, q: ArrayView2<'_, f64>) -> (Vec<f64>, Vec<f64>) {
        match self
            .potential
            .energy_derivatives(&tensor(self.potential.device(), q), &[], NoneTape)
        {
            Ok(d) => (host::values(&d.value), host::values(&d.gradient)),
            Err(_) => (vec![f64::NAN; q.nrows()], vec![f64::NAN; q.len()]),
        }
    }

    /// The learned energy ½pᵀM⁻¹p + V(q) at every row `[q, p]`.
    pub fn energy(&self, x: ArrayView2<'_, f64>) -> Result<ndarray::Array1<f64>, DynamicsError> {
        let d = self.potential.widths()[0];
        check_columns(x, 2 * d)?;
        let (v, _) = self.eval(x.slice(ndarray::s![.., ..d]));
        let m = self.masses();
        Ok(x.rows()
            .into_iter()
            .zip(v)
            .map(|(row, v)| v + (0..d).map(|k| row[d + k] * row[d + k] / (2.0 * m[k])).sum::<f64>())
            .collect())
    }
}

impl<E: Real, D: Device<E>> SeparableHamiltonian for Vin<E, D>
where
    Self: Send + Sync,
{
    fn dof(&self) -> usize {
        self.potential.widths()[0]
    }
    fn kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        let m = self.masses();
        for (o, row) in out.iter_mut().zip(p.rows()) {
            *o = row.iter().zip(&m).map(|(p, m)| p * p / (2.0 * m)).sum();
        }
    }
    fn potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        let (v, _) = self.eval(q);
        out.iter_mut().zip(v).for_each(|(o, v)| *o = v);
    }
    fn grad_kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        let m = self.masses();
        for (mut o, p) in out.rows_mut().into_iter().zip(p.rows()) {
            for k in 0..p.len() {
                o[k] = p[k] / m[k];
            }
        }
    }
    fn grad_potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        let (_, g) = self.eval(q);
        out.iter_mut().zip(g).for_each(|(o, g)| *o = g);
    }
}

impl<E: Real, D: Device<E>> DynamicsModel for Vin<E, D> {
    fn dim(&self) -> usize {
        2 * self.potential.widths()[0]
    }
    /// (M⁻¹p, −∇V(q)) at every row `[q, p]`.
    fn field(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, DynamicsError> {
        let d = self.dim() / 2;
        check_columns(x, 2 * d)?;
        let (_, dv_dq) = self.eval(x.slice(ndarray::s![.., ..d]));
        let m = self.masses();
        Ok(Array2::from_shape_fn(x.dim(), |(r, c)| {
            if c < d {
                x[[r, d + c]] / m[c]
            } else {
                -dv_dq[r * d + c - d]
            }
        }))
    }
    /// Trains on trajectory windows (`neural_ode::windows`).
    fn fit(&mut self, data: &Examples, cfg: &TrainConfig) -> Result<TrainReport, DynamicsError> {
        let loss = self.loss;
        Ok(train(self, data, &loss, cfg)?)
    }
    fn save(&self, path: &Path) -> Result<(), DynamicsError> {
        Ok(checkpoint::save(self, path, None)?)
    }
}
