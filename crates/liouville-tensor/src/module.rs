//! Trainable parameter sets: a [`Module`] lists its parameter tensors by name in a fixed order,
//! so one optimiser, one checkpoint format and one training loop serve every model (MLPs, the
//! Cholesky factor of a kinetic energy, and compositions of energies).

use dfdx::prelude::*;

use crate::config::Configured;
use crate::energy::{QuadraticKinetic, Separable, Sum};
use crate::mlp::Mlp;
use crate::shapes::{Matrix, Vector};
use crate::{Real, TensorError};

/// A borrowed parameter tensor.
pub enum ParamRef<'a, E: Real, D: Device<E>> {
    /// A matrix.
    Matrix(&'a Matrix<E, D>),
    /// A vector.
    Vector(&'a Vector<E, D>),
}

/// A mutably borrowed parameter tensor.
pub enum ParamMut<'a, E: Real, D: Device<E>> {
    /// A matrix.
    Matrix(&'a mut Matrix<E, D>),
    /// A vector.
    Vector(&'a mut Vector<E, D>),
}

impl<E: Real, D: Device<E>> ParamRef<'_, E, D> {
    /// Shape as a list of dimensions.
    pub fn dims(&self) -> Vec<usize> {
        match self {
            ParamRef::Matrix(m) => vec![m.shape().0, m.shape().1],
            ParamRef::Vector(v) => vec![v.shape().0],
        }
    }
    /// Values on the host, row-major.
    pub fn to_vec(&self) -> Vec<E> {
        match self {
            ParamRef::Matrix(m) => m.as_vec(),
            ParamRef::Vector(v) => v.as_vec(),
        }
    }
}

/// A model with named, ordered parameter tensors.
pub trait Module<E: Real, D: Device<E>> {
    /// `(name, tensor)` pairs; names are unique and the order is fixed.
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)>;
    /// The same tensors, mutably, in the same order.
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>>;
    /// Number of trainable scalars.
    fn num_scalars(&self) -> usize {
        self.parameters()
            .iter()
            .map(|(_, p)| p.dims().iter().product::<usize>())
            .sum()
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for Mlp<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        let mut v = Vec::new();
        for (l, (w, b)) in self.weights.iter().zip(&self.biases).enumerate() {
            v.push((format!("layers.{l}.weight"), ParamRef::Matrix(w)));
            v.push((format!("layers.{l}.bias"), ParamRef::Vector(b)));
        }
        v
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        self.weights
            .iter_mut()
            .zip(self.biases.iter_mut())
            .flat_map(|(w, b)| [ParamMut::Matrix(w), ParamMut::Vector(b)])
            .collect()
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

/// `v`'s parameters renamed `prefix.name`: the parameters of a part inside a composite model.
pub fn prefixed<'a, E: Real, D: Device<E>>(
    prefix: &str,
    v: Vec<(String, ParamRef<'a, E, D>)>,
) -> Vec<(String, ParamRef<'a, E, D>)> {
    v.into_iter().map(|(n, p)| (format!("{prefix}.{n}"), p)).collect()
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
