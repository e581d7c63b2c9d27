//! Between ndarray (states as integrators and datasets hold them, f64) and tensors of a model's
//! dtype on its device: one place, through `liouville_tensor::host`.

use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::shapes::Matrix;
use liouville_tensor::{Real, host};
use ndarray::{Array2, ArrayView2};

use crate::DynamicsError;

/// `x` as a `[rows, cols]` tensor on `device`.
pub(crate) fn tensor<E: Real, D: Device<E>>(device: &D, x: ArrayView2<'_, f64>) -> Matrix<E, D> {
    host::matrix(device, x.iter().copied(), x.nrows(), x.ncols())
}

/// A `[rows, cols]` tensor as an f64 array.
pub(crate) fn array<E: Real, D: Device<E>>(t: &Matrix<E, D>) -> Array2<f64> {
    Array2::from_shape_vec(*t.shape(), host::values(t)).expect("a tensor's values fill its shape")
}

/// A typed error unless `x` has `dim` columns.
pub(crate) fn check_columns(x: ArrayView2<'_, f64>, dim: usize) -> Result<(), DynamicsError> {
    if x.ncols() != dim {
        return Err(DynamicsError::ShapeMismatch(format!(
            "states have {} columns, the model takes {dim}",
            x.ncols()
        )));
    }
    Ok(())
}
