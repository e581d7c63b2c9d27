//! Rollouts: a trained model as a `liouville-integrate` vector field, so trajectories, energies
//! and phase portraits of learned dynamics come from the same integrators as ground truth.

use liouville_integrate::VectorField;
use ndarray::{ArrayView2, ArrayViewMut2};

use crate::models::DynamicsModel;

/// A model seen as dy/dt = f_θ(y). A failed evaluation (e.g. a shape error) writes NaN, which
/// the integrators report as [`liouville_integrate::IntegrateError::NonFiniteState`].
pub struct LearnedField<'a, M: ?Sized>(pub &'a M);

impl<M: DynamicsModel + Sync + ?Sized> VectorField for LearnedField<'_, M> {
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn eval(&self, _t: f64, y: ArrayView2<'_, f64>, mut dy: ArrayViewMut2<'_, f64>) {
        match self.0.field(y) {
            Ok(f) => dy.assign(&f),
            Err(_) => dy.fill(f64::NAN),
        }
    }
}

/// A model with a known control input u(t) appended to its rows (`[x, u(t)]`), e.g. a
/// port-Hamiltonian network of a driven system, as a vector field.
pub struct WithInput<'a, M: ?Sized, U> {
    /// The model.
    pub model: &'a M,
    /// u(t).
    pub input: U,
}

impl<M: DynamicsModel + Sync + ?Sized, U: Fn(f64) -> Vec<f64> + Send + Sync> VectorField for WithInput<'_, M, U> {
    fn dim(&self) -> usize {
        self.model.dim()
    }
    fn eval(&self, t: f64, y: ArrayView2<'_, f64>, mut dy: ArrayViewMut2<'_, f64>) {
        let u = (self.input)(t);
        let rows = ndarray::Array2::from_shape_fn((y.nrows(), y.ncols() + u.len()), |(r, c)| {
            if c < y.ncols() { y[[r, c]] } else { u[c - y.ncols()] }
        });
        match self.model.field(rows.view()) {
            Ok(f) => dy.assign(&f),
            Err(_) => dy.fill(f64::NAN),
        }
    }
}
