//! Invertible maps with tractable Jacobian determinants — the shared interface of normalizing
//! flows and symplectic networks. A flow tracks phase-space volume through log|det J|
//! (change of variables: log p_Y(f(x)) = log p_X(x) − log|det ∂f/∂x|); a symplectic map is the
//! volume-preserving special case, log|det J| = 0 (Liouville's theorem).

use dfdx::prelude::*;

use crate::module::Module;
use crate::shapes::{Matrix, Vector};
use crate::tape::Threaded;
use crate::{Real, TensorError};

/// A transformed batch and the log|det J| of each row: `([batch, n], [batch])`.
pub type Transformed<E, D> = (Matrix<E, D>, Vector<E, D>);

/// A bijection ℝⁿ → ℝⁿ on batches of rows, traced on one tape.
pub trait Bijection<E: Real, D: Device<E>>: Module<E, D> {
    /// n.
    fn dim(&self) -> usize;

    /// y = f(x) and log|det ∂f/∂x| at every row (`[batch, n]`, `[batch]`), recorded on `tp`.
    fn forward<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
    ) -> Result<Transformed<E, D>, TensorError>;

    /// x = f⁻¹(y) and log|det ∂f⁻¹/∂y| (= −log|det ∂f/∂x| at x), recorded on `tp`.
    fn inverse<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        y: &Matrix<E, D>,
    ) -> Result<Transformed<E, D>, TensorError>;

    /// [`Bijection::forward`] without recording (evaluation, sampling).
    fn apply(&self, x: &Matrix<E, D>) -> Result<Transformed<E, D>, TensorError> {
        self.forward(&mut Threaded::new(NoneTape), x)
    }

    /// [`Bijection::inverse`] without recording.
    fn invert(&self, y: &Matrix<E, D>) -> Result<Transformed<E, D>, TensorError> {
        self.inverse(&mut Threaded::new(NoneTape), y)
    }
}

/// A zero log-determinant for every row of `x`: what volume-preserving maps return.
pub fn zero_log_det<E: Real, D: Device<E>>(x: &Matrix<E, D>) -> Vector<E, D> {
    x.device().zeros_like(&(x.shape().0,))
}
