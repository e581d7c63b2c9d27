//! The models. Each maps a batch of states `[rows, dim]` to time derivatives, trains on
//! (state, derivative) pairs, and checkpoints as safetensors.

use std::path::Path;

use liouville_sim::dataset::Dataset;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::losses::hamiltonian_field;
use liouville_tensor::train::{Examples, Hamiltonian, Regression, TrainConfig, TrainReport, train};
use liouville_tensor::{Activation, Energy, Init, Mlp, checkpoint};
use ndarray::{Array1, Array2, ArrayView2, Axis};

use crate::DynamicsError;

/// A learned vector field ẋ = f(x) on states of a fixed dimension.
pub trait DynamicsModel: Send + Sync {
    /// State dimension.
    fn dim(&self) -> usize;
    /// ẋ for every row of `x`.
    fn field(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, DynamicsError>;
    /// Trains on `data` (inputs: states, targets: their time derivatives).
    fn fit(&mut self, data: &Examples, cfg: &TrainConfig) -> Result<TrainReport, DynamicsError>;
    /// Writes a checkpoint.
    fn save(&self, path: &Path) -> Result<(), DynamicsError>;
}

/// The (state → derivative) pairs of the chosen trajectories of a dataset: noisy observations
/// as inputs, exact derivatives at the clean states as targets (Greydanus et al.'s protocol).
pub fn examples(ds: &Dataset, trajectories: &[usize]) -> Result<Examples, DynamicsError> {
    let dim = ds.states.len_of(Axis(2));
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for &k in trajectories {
        x.extend(ds.observations.index_axis(Axis(0), k).iter().copied());
        y.extend(ds.derivatives.index_axis(Axis(0), k).iter().copied());
    }
    Ok(Examples::new(x, dim, y, dim)?)
}

fn to_tensor(dev: &Cpu, x: ArrayView2<'_, f64>) -> Tensor<(usize, usize), f32, Cpu> {
    dev.tensor_from_vec(x.iter().map(|&v| v as f32).collect(), x.dim())
}

fn check_dim(x: ArrayView2<'_, f64>, dim: usize) -> Result<(), DynamicsError> {
    if x.ncols() != dim {
        return Err(DynamicsError::ShapeMismatch(format!(
            "states have {} columns, the model takes {dim}",
            x.ncols()
        )));
    }
    Ok(())
}

fn from_vec(v: Vec<f32>, rows: usize, cols: usize) -> Array2<f64> {
    Array2::from_shape_vec((rows, cols), v.into_iter().map(f64::from).collect()).expect("tensor shape")
}

/// The baseline: an MLP vector field `[dim] → hidden → [dim]` trained by regression on ẋ.
pub struct Baseline {
    net: Mlp<f32, Cpu>,
}

impl Baseline {
    /// A tanh MLP with the given hidden widths, orthogonal initialisation.
    pub fn new(dim: usize, hidden: &[usize], seed: u64) -> Result<Self, DynamicsError> {
        let widths: Vec<usize> = std::iter::once(dim)
            .chain(hidden.iter().copied())
            .chain([dim])
            .collect();
        Ok(Self {
            net: Mlp::new(&Cpu::default(), &widths, Activation::Tanh, Init::Orthogonal, seed)?,
        })
    }
    /// Loads a checkpoint written by [`DynamicsModel::save`].
    pub fn load(path: &Path) -> Result<Self, DynamicsError> {
        let (net, _) = checkpoint::load(&Cpu::default(), path)?;
        Ok(Self { net })
    }
}

impl DynamicsModel for Baseline {
    fn dim(&self) -> usize {
        self.net.widths()[0]
    }
    fn field(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, DynamicsError> {
        check_dim(x, self.dim())?;
        let out = self.net.forward(&to_tensor(&Cpu::default(), x), NoneTape)?;
        Ok(from_vec(out.as_vec(), x.nrows(), self.dim()))
    }
    fn fit(&mut self, data: &Examples, cfg: &TrainConfig) -> Result<TrainReport, DynamicsError> {
        Ok(train(&mut self.net, data, &Regression, cfg)?)
    }
    fn save(&self, path: &Path) -> Result<(), DynamicsError> {
        Ok(checkpoint::save(&self.net, path, &[("model", "baseline".into())])?)
    }
}

/// A Hamiltonian neural network: a scalar H_θ(q, p) and the field (∂H/∂p, -∂H/∂q).
pub struct Hnn {
    h: Mlp<f32, Cpu>,
}

impl Hnn {
    /// H_θ as a tanh MLP `[dim] → hidden → 1` (dim even: rows are `[q, p]`).
    pub fn new(dim: usize, hidden: &[usize], seed: u64) -> Result<Self, DynamicsError> {
        if dim == 0 || !dim.is_multiple_of(2) {
            return Err(DynamicsError::ShapeMismatch(format!(
                "a Hamiltonian state has an even dimension, got {dim}"
            )));
        }
        let widths: Vec<usize> = std::iter::once(dim).chain(hidden.iter().copied()).chain([1]).collect();
        Ok(Self {
            h: Mlp::new(&Cpu::default(), &widths, Activation::Tanh, Init::Orthogonal, seed)?,
        })
    }
    /// Loads a checkpoint written by [`DynamicsModel::save`].
    pub fn load(path: &Path) -> Result<Self, DynamicsError> {
        let (h, _) = checkpoint::load(&Cpu::default(), path)?;
        Ok(Self { h })
    }
    /// The learned H at every row (defined up to an additive constant).
    pub fn energy(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>, DynamicsError> {
        check_dim(x, self.dim())?;
        let d = self.h.derivatives(&to_tensor(&Cpu::default(), x), &[], NoneTape)?;
        Ok(d.value.as_vec().into_iter().map(f64::from).collect())
    }
}

impl DynamicsModel for Hnn {
    fn dim(&self) -> usize {
        self.h.widths()[0]
    }
    fn field(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, DynamicsError> {
        check_dim(x, self.dim())?;
        let f = hamiltonian_field(&self.h, &to_tensor(&Cpu::default(), x), NoneTape)?;
        Ok(from_vec(f.as_vec(), x.nrows(), self.dim()))
    }
    fn fit(&mut self, data: &Examples, cfg: &TrainConfig) -> Result<TrainReport, DynamicsError> {
        Ok(train(&mut self.h, data, &Hamiltonian, cfg)?)
    }
    fn save(&self, path: &Path) -> Result<(), DynamicsError> {
        Ok(checkpoint::save(&self.h, path, &[("model", "hnn".into())])?)
    }
}
