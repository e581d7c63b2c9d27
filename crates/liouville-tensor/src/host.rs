//! Moving numbers between the host (f64 slices, as datasets and integrators hold them) and
//! tensors of any dtype on any device: the one place where f64 becomes f32 and back.

use dfdx::prelude::*;

use crate::shapes::{Matrix, Vector};
use crate::{Real, TensorError};

/// A `[rows, cols]` tensor on `device` from row-major f64 values (rounded to `E`).
pub fn matrix<E: Real, D: Device<E>>(
    device: &D,
    values: impl IntoIterator<Item = f64>,
    rows: usize,
    cols: usize,
) -> Matrix<E, D> {
    let v: Vec<E> = values.into_iter().map(E::of).collect();
    debug_assert_eq!(v.len(), rows * cols, "host matrix of the wrong length");
    device.tensor_from_vec(v, (rows, cols))
}

/// A `[n]` tensor on `device` from f64 values.
pub fn vector<E: Real, D: Device<E>>(device: &D, values: impl IntoIterator<Item = f64>) -> Vector<E, D> {
    let v: Vec<E> = values.into_iter().map(E::of).collect();
    let n = v.len();
    device.tensor_from_vec(v, (n,))
}

/// The values of any tensor as f64, row-major (copied off the device). An empty tensor (a graph
/// without edges) gives an empty vector (dfdx 0.13's `as_vec` indexes out of bounds on one).
pub fn values<S: Shape, E: Real, D: Device<E>, T>(t: &Tensor<S, E, D, T>) -> Vec<f64> {
    if t.shape().num_elements() == 0 {
        return Vec::new();
    }
    t.as_vec().into_iter().map(Real::to64).collect()
}

/// `Ok` when every entry of `m` is finite, else [`TensorError::NonFiniteInput`] naming `what`
/// and the first bad entry's row, column and value (one copy to the host).
pub fn check_finite<E: Real, D: Device<E>, T>(
    m: &Tensor<(usize, usize), E, D, T>,
    what: &str,
) -> Result<(), TensorError> {
    let cols = m.shape().1;
    let values = values(m);
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(TensorError::NonFiniteInput(format!(
            "{what}: row {}, column {} is {}",
            i / cols,
            i % cols,
            values[i]
        ))),
    }
}

/// A scalar tensor's value as f64.
pub fn scalar<E: Real, D: Device<E>, T>(t: &Tensor<(), E, D, T>) -> f64 {
    t.as_vec()[0].to64()
}
