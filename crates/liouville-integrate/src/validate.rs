//! Input checks shared by every driver, so bad input is a typed error before any work is done.

use ndarray::ArrayView2;

use crate::IntegrateError;

/// The state must have the system's number of columns.
pub(crate) fn check_state_shape(dim: usize, y: ArrayView2<'_, f64>) -> Result<(), IntegrateError> {
    if y.ncols() != dim {
        return Err(IntegrateError::DimensionMismatch {
            expected: dim,
            found: y.ncols(),
        });
    }
    Ok(())
}

/// Every component must be finite.
pub(crate) fn check_finite(t: f64, y: ArrayView2<'_, f64>) -> Result<(), IntegrateError> {
    if y.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(IntegrateError::NonFiniteState { t })
    }
}
