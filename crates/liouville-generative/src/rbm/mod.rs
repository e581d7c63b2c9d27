//! Restricted Boltzmann machines (Smolensky 1986; Hinton 2002): binary hidden units with binary
//! or unit-variance Gaussian visible units (Hinton 2010 §13.2), trained by contrastive
//! divergence (CD-k) or persistent CD (Tieleman 2008).
//!
//! The parameters live in a tensor [`Module`] ([`Rbm`]) so that the optimisers, typed
//! checkpoints and the `Trainer` apply to them unchanged; the sampling kernels run on the host
//! in f64 ([`weights::RbmWeights`]), and the CD-k gradient reaches the optimiser as an
//! external gradient (`Trainer::apply_external`), as QuCumber applies its CD gradient.
//!
//! - [`weights`]: energy, free energy, conditionals;
//! - [`gibbs`]: block Gibbs sampling on seeded streams, in parallel over chain blocks;
//! - [`moments`]: the log-likelihood gradient as model minus data moments;
//! - [`contrastive`]: both moments of a CD-k / PCD-k minibatch in reused block buffers;
//! - [`partition`]: exact ln Z, log-likelihood and model moments by enumeration, and annealed
//!   importance sampling;
//! - [`train`]: CD-k / PCD training with progress, metrics and checkpoints;
//! - [`ising`]: thermodynamic observables of Ising configurations sampled from an RBM;
//! - [`data`]: validated visible data: binary (from arrays or sim's Ising datasets) or real.

pub mod contrastive;
pub mod data;
mod error;
pub mod gibbs;
pub mod ising;
pub mod moments;
pub mod partition;
pub mod train;
pub mod weights;

pub use data::VisibleData;
pub use error::RbmError;
pub use weights::{RbmWeights, VisibleUnits};

use liouville_base::random::Rng;
use liouville_tensor::config::Configured;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::module::{Module, ParamMut, ParamRef};
use liouville_tensor::shapes::{Matrix, Vector};
use liouville_tensor::{Real, TensorError, host};
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

/// Architecture and initialisation of a [`Rbm`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RbmConfig {
    /// Visible units.
    pub visible: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Initial couplings W ~ N(0, init_std²) (Hinton's guide §8: 0.01); biases start at 0.
    pub init_std: f64,
    /// The visible units (binary unless the config says otherwise).
    #[serde(default)]
    pub visible_units: VisibleUnits,
}

impl RbmConfig {
    /// `visible × hidden` binary units, W ~ N(0, 0.01²).
    pub fn new(visible: usize, hidden: usize) -> Self {
        Self {
            visible,
            hidden,
            init_std: 0.01,
            visible_units: VisibleUnits::Binary,
        }
    }
    /// `visible` unit-variance Gaussian units over `hidden` binary ones, W ~ N(0, 0.01²).
    pub fn gaussian(visible: usize, hidden: usize) -> Self {
        Self {
            visible_units: VisibleUnits::Gaussian,
            ..Self::new(visible, hidden)
        }
    }
}

/// An RBM: W `[visible, hidden]`, visible biases a, hidden biases b, binary hidden units and
/// the config's visible units.
#[derive(Debug, Clone)]
pub struct Rbm<E: Real, D: Device<E>> {
    config: RbmConfig,
    w: Matrix<E, D>,
    a: Vector<E, D>,
    b: Vector<E, D>,
}

impl<E: Real, D: Device<E>> Rbm<E, D> {
    /// The parameters on the host in f64, for the sampling kernels.
    pub fn weights(&self) -> Result<RbmWeights, RbmError> {
        let (nv, nh) = (self.config.visible, self.config.hidden);
        let w = Array2::from_shape_vec((nv, nh), host::values(&self.w)).expect("[visible, hidden] weights");
        Ok(RbmWeights::new(
            w,
            Array1::from(host::values(&self.a)),
            Array1::from(host::values(&self.b)),
        )?
        .with_units(self.config.visible_units))
    }

    /// Replaces the parameters by `weights` (rounded to `E`); the shapes must match.
    pub fn set_weights(&mut self, weights: &RbmWeights) -> Result<(), RbmError> {
        if weights.visible() != self.config.visible || weights.hidden() != self.config.hidden {
            return Err(RbmError::WidthMismatch {
                what: "new weights",
                expected: self.config.visible * self.config.hidden,
                found: weights.visible() * weights.hidden(),
            });
        }
        let device = self.w.device().clone();
        self.w = host::matrix(
            &device,
            weights.w.iter().copied(),
            self.config.visible,
            self.config.hidden,
        );
        self.a = host::vector(&device, weights.a.iter().copied());
        self.b = host::vector(&device, weights.b.iter().copied());
        Ok(())
    }

    /// Sets the visible biases to the data's base rate (Hinton's guide §8.1).
    pub fn initialise_visible_bias(&mut self, data: &VisibleData) -> Result<(), RbmError> {
        check_units(&self.config, data)?;
        if data.width() != self.config.visible {
            return Err(RbmError::WidthMismatch {
                what: "data",
                expected: self.config.visible,
                found: data.width(),
            });
        }
        self.a = host::vector(self.a.device(), data.base_rate_bias());
        Ok(())
    }
}

/// Binary data for binary units, real data for Gaussian ones.
pub(crate) fn check_units(config: &RbmConfig, data: &VisibleData) -> Result<(), RbmError> {
    if data.units() != config.visible_units {
        return Err(RbmError::InvalidConfig(format!(
            "{:?} data for an RBM with {:?} visible units",
            data.units(),
            config.visible_units
        )));
    }
    Ok(())
}

impl<E: Real, D: Device<E>> Configured<E, D> for Rbm<E, D> {
    const KIND: &'static str = "rbm";
    type Config = RbmConfig;
    fn config(&self) -> RbmConfig {
        self.config.clone()
    }
    fn from_config(c: &RbmConfig, device: &D, seed: u64) -> Result<Self, TensorError> {
        if c.visible == 0 || c.hidden == 0 || !(c.init_std.is_finite() && c.init_std >= 0.0) {
            return Err(TensorError::InvalidConfig(format!(
                "an RBM needs at least one visible and one hidden unit and a finite init_std ≥ 0, got {c:?}"
            )));
        }
        let mut rng = Rng::stream(seed, 0x4B4D);
        let w = (0..c.visible * c.hidden)
            .map(|_| c.init_std * rng.normal())
            .collect::<Vec<_>>();
        Ok(Self {
            config: c.clone(),
            w: host::matrix(device, w, c.visible, c.hidden),
            a: host::vector(device, vec![0.0; c.visible]),
            b: host::vector(device, vec![0.0; c.hidden]),
        })
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for Rbm<E, D> {
    /// `w`, `visible_bias`, `hidden_bias`: the order of [`moments::RbmGradient::parameter_vectors`].
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        vec![
            ("w".into(), ParamRef::Matrix(&self.w)),
            ("visible_bias".into(), ParamRef::Vector(&self.a)),
            ("hidden_bias".into(), ParamRef::Vector(&self.b)),
        ]
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        vec![
            ParamMut::Matrix(&mut self.w),
            ParamMut::Vector(&mut self.a),
            ParamMut::Vector(&mut self.b),
        ]
    }
}
