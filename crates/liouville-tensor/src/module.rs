//! Trainable parameter sets: a [`Module`] lists its parameter tensors by name in a fixed order,
//! so one optimiser, one checkpoint format and one training loop serve every model (MLPs, the
//! Cholesky factor of a kinetic energy, and compositions of energies).

use dfdx::prelude::*;

use crate::Real;
use crate::energy::{QuadraticKinetic, Separable, Sum};
use crate::mlp::{Matrix, Mlp, Vector};

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
    /// Architecture fields recorded in checkpoints (e.g. widths, activation).
    fn describe(&self) -> Vec<(String, String)> {
        Vec::new()
    }
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
    fn describe(&self) -> Vec<(String, String)> {
        vec![
            (
                "widths".into(),
                self.widths()
                    .iter()
                    .map(|w| w.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            (
                "activation".into(),
                crate::checkpoint::activation_name(self.activation()).into(),
            ),
        ]
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
