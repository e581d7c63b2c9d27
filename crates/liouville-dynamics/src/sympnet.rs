//! SympNets as trainable flow maps (Jin, Zhang, Zhu, Tang, Karniadakis 2020). The networks —
//! LA- and G-SympNets, symplectic by construction and volume-preserving bijections — live in
//! `liouville_tensor::sympnet` (flows use them too); here they learn a Hamiltonian flow map
//! x_n → x_{n+1} of step Δ from trajectory data ([`SympNetModel`]), and roll out by iteration.

use std::path::Path;

use liouville_tensor::config::Configured;
use liouville_tensor::device::HostDevice;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::module::{Module, ParamMut, ParamRef};
pub use liouville_tensor::sympnet::{GSympNet, GSympNetConfig, LaSympNet, LaSympNetConfig, SymplecticMap};
use liouville_tensor::train::{Examples, Loss, Supervised, TrainConfig, TrainReport, train};
use liouville_tensor::{Activation, TensorError, checkpoint};
use serde::{Deserialize, Serialize};

use crate::DynamicsError;
use crate::arrays::{array, check_columns, tensor};

/// Flow-map regression: mean squared error of Φ(x_n) against x_{n+1}.
pub struct FlowMapLoss;

impl<E: liouville_tensor::Real, D: Device<E>, M: SymplecticMap<E, D>> Loss<E, D, M> for FlowMapLoss {
    fn loss<T: Tape<E, D> + Merge<T>>(
        &self,
        model: &M,
        batch: &Supervised<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        let out = model.map(&batch.inputs, tape)?;
        Ok((out - batch.targets.retaped::<T>()).square().mean())
    }
}

/// Which SympNet, with its architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SympNetArchitecture {
    /// Linear and activation shears.
    La(LaSympNetConfig),
    /// Gradient modules.
    G(GSympNetConfig),
}

/// Architecture and time step of a [`SympNetModel`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SympNetConfig {
    /// The network.
    pub architecture: SympNetArchitecture,
    /// Time step Δ of one application of the map.
    pub dt: f64,
}

/// The two SympNet families inside a [`SympNetModel`].
#[derive(Debug, Clone)]
enum Net<D: Device<f64>> {
    La(LaSympNet<f64, D>),
    G(GSympNet<f64, D>),
}

/// A SympNet as a trainable flow map of time step Δ (f64: iterating a map thousands of times
/// rewards the precision). Flow maps have no vector field; rollouts iterate Φ.
#[derive(Debug, Clone)]
pub struct SympNetModel<D: Device<f64> = HostDevice> {
    net: Net<D>,
    dt: f64,
    device: D,
}

fn positive_step(dt: f64) -> Result<f64, TensorError> {
    if dt.is_finite() && dt > 0.0 {
        Ok(dt)
    } else {
        Err(TensorError::InvalidConfig(format!(
            "the map's time step must be positive, got {dt}"
        )))
    }
}

impl<D: Device<f64>> Configured<f64, D> for SympNetModel<D> {
    const KIND: &'static str = "sympnet";
    type Config = SympNetConfig;
    fn config(&self) -> SympNetConfig {
        SympNetConfig {
            architecture: match &self.net {
                Net::La(n) => SympNetArchitecture::La(n.config()),
                Net::G(n) => SympNetArchitecture::G(n.config()),
            },
            dt: self.dt,
        }
    }
    fn from_config(c: &SympNetConfig, device: &D, seed: u64) -> Result<Self, TensorError> {
        Ok(Self {
            net: match &c.architecture {
                SympNetArchitecture::La(a) => Net::La(LaSympNet::from_config(a, device, seed)?),
                SympNetArchitecture::G(a) => Net::G(GSympNet::from_config(a, device, seed)?),
            },
            dt: positive_step(c.dt)?,
            device: device.clone(),
        })
    }
}

impl<D: Device<f64>> Module<f64, D> for SympNetModel<D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, f64, D>)> {
        match &self.net {
            Net::La(n) => n.parameters(),
            Net::G(n) => n.parameters(),
        }
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, f64, D>> {
        match &mut self.net {
            Net::La(n) => n.parameters_mut(),
            Net::G(n) => n.parameters_mut(),
        }
    }
}

/// [`FlowMapLoss`] of the model's network.
struct ModelLoss;

impl<D: Device<f64>> Loss<f64, D, SympNetModel<D>> for ModelLoss {
    fn loss<T: Tape<f64, D> + Merge<T>>(
        &self,
        m: &SympNetModel<D>,
        batch: &Supervised<f64, D>,
        tape: T,
    ) -> Result<Tensor<(), f64, D, T>, TensorError> {
        match &m.net {
            Net::La(n) => FlowMapLoss.loss(n, batch, tape),
            Net::G(n) => FlowMapLoss.loss(n, batch, tape),
        }
    }
}

impl SympNetModel {
    /// `architecture` with step `dt` on the host device, weights from stream `seed`.
    fn on_host(architecture: SympNetArchitecture, dt: f64, seed: u64) -> Result<Self, DynamicsError> {
        Ok(Self::from_config(
            &SympNetConfig { architecture, dt },
            &HostDevice::default(),
            seed,
        )?)
    }

    /// An LA-SympNet flow map on the default device.
    pub fn la(
        dof: usize,
        layers: usize,
        sublayers: usize,
        activation: Activation,
        dt: f64,
        seed: u64,
    ) -> Result<Self, DynamicsError> {
        let architecture = SympNetArchitecture::La(LaSympNetConfig {
            dof,
            layers,
            sublayers,
            activation,
        });
        Self::on_host(architecture, dt, seed)
    }

    /// A G-SympNet flow map on the default device.
    pub fn g(
        dof: usize,
        layers: usize,
        width: usize,
        activation: Activation,
        dt: f64,
        seed: u64,
    ) -> Result<Self, DynamicsError> {
        let architecture = SympNetArchitecture::G(GSympNetConfig {
            dof,
            layers,
            width,
            activation,
        });
        Self::on_host(architecture, dt, seed)
    }

    /// Loads a checkpoint written by [`SympNetModel::save`].
    pub fn load(path: &Path) -> Result<Self, DynamicsError> {
        Ok(checkpoint::load(&HostDevice::default(), path)?.0)
    }
}

impl<D: Device<f64>> SympNetModel<D> {
    /// The time step Δ of one application of the map.
    pub fn dt(&self) -> f64 {
        self.dt
    }

    fn dim(&self) -> usize {
        2 * match &self.net {
            Net::La(n) => n.dof(),
            Net::G(n) => n.dof(),
        }
    }

    /// Trains on (x_n, x_{n+1}) pairs, e.g. `neural_ode::windows(ds, rows, 1)`.
    pub fn fit(&mut self, data: &Examples, cfg: &TrainConfig) -> Result<TrainReport, DynamicsError> {
        Ok(train(self, data, &ModelLoss, cfg)?)
    }

    /// One application x_{n+1} = Φ(x_n) to every row.
    pub fn step(&self, x: ndarray::ArrayView2<'_, f64>) -> Result<ndarray::Array2<f64>, DynamicsError> {
        check_columns(x, self.dim())?;
        let x = tensor(&self.device, x);
        let out = match &self.net {
            Net::La(n) => n.map(&x, NoneTape)?,
            Net::G(n) => n.map(&x, NoneTape)?,
        };
        Ok(array(&out))
    }

    /// `steps` iterates from `y0`: states `[steps + 1, rows, dim]` at times kΔ.
    pub fn rollout(
        &self,
        y0: ndarray::ArrayView2<'_, f64>,
        steps: usize,
    ) -> Result<ndarray::Array3<f64>, DynamicsError> {
        let (rows, dim) = y0.dim();
        let mut out = ndarray::Array3::zeros((steps + 1, rows, dim));
        out.index_axis_mut(ndarray::Axis(0), 0).assign(&y0);
        let mut x = y0.to_owned();
        for k in 1..=steps {
            x = self.step(x.view())?;
            out.index_axis_mut(ndarray::Axis(0), k).assign(&x);
        }
        Ok(out)
    }

    /// Writes a checkpoint (architecture and Δ in its config).
    pub fn save(&self, path: &Path) -> Result<(), DynamicsError> {
        Ok(checkpoint::save(self, path, None)?)
    }
}
