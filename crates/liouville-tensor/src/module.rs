//! Trainable parameter sets: a [`Module`] lists its parameter tensors by name in a fixed order,
//! so one optimiser, one checkpoint format and one training loop serve every model (MLPs, the
//! Cholesky factor of a kinetic energy, and compositions of energies).

use dfdx::prelude::*;

use crate::Real;
use crate::shapes::{Matrix, Vector};

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

/// `v`'s parameters renamed `prefix.name`: the parameters of a part inside a composite model.
pub fn prefixed<'a, E: Real, D: Device<E>>(
    prefix: &str,
    v: Vec<(String, ParamRef<'a, E, D>)>,
) -> Vec<(String, ParamRef<'a, E, D>)> {
    v.into_iter().map(|(n, p)| (format!("{prefix}.{n}"), p)).collect()
}
