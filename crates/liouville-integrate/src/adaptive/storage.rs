//! The state buffers the stepping engine works on: a batch in an `Array2`, or one small state on
//! the stack. The engine only ever sees flat components, so both take identical steps.

use ndarray::{Array2, ArrayView2};

/// A state the adaptive engine can step: a fixed number of components, viewable as a flat slice
/// and as a `[trajectory, component]` batch (for event functions written against batches).
pub(crate) trait Storage: Clone {
    /// A zeroed buffer of the same shape.
    fn zeros_like(&self) -> Self;
    /// The components in row-major order.
    fn flat(&self) -> &[f64];
    /// The components in row-major order, mutably.
    fn flat_mut(&mut self) -> &mut [f64];
    /// The state as a `[trajectory, component]` view.
    fn batch_view(&self) -> ArrayView2<'_, f64>;
    /// self = a·x, component by component.
    #[inline(always)]
    fn set_scaled(&mut self, a: f64, x: &Self) {
        for (o, &v) in self.flat_mut().iter_mut().zip(x.flat()) {
            *o = a * v;
        }
    }
    /// self += a·x, component by component (the stage arithmetic; arrays override it with a
    /// fixed-length loop the compiler vectorises).
    #[inline(always)]
    fn add_scaled(&mut self, a: f64, x: &Self) {
        for (o, &v) in self.flat_mut().iter_mut().zip(x.flat()) {
            *o += a * v;
        }
    }
}

impl Storage for Array2<f64> {
    fn zeros_like(&self) -> Self {
        Array2::zeros(self.dim())
    }
    fn flat(&self) -> &[f64] {
        self.as_slice().expect("solver buffers are in standard layout")
    }
    fn flat_mut(&mut self) -> &mut [f64] {
        self.as_slice_mut().expect("solver buffers are in standard layout")
    }
    fn batch_view(&self) -> ArrayView2<'_, f64> {
        self.view()
    }
}

impl<const N: usize> Storage for [f64; N] {
    fn zeros_like(&self) -> Self {
        [0.0; N]
    }
    fn flat(&self) -> &[f64] {
        self
    }
    fn flat_mut(&mut self) -> &mut [f64] {
        self
    }
    fn batch_view(&self) -> ArrayView2<'_, f64> {
        ArrayView2::from_shape((1, N), self).expect("one row of N components")
    }
    #[inline(always)]
    fn set_scaled(&mut self, a: f64, x: &Self) {
        for i in 0..N {
            self[i] = a * x[i];
        }
    }
    #[inline(always)]
    fn add_scaled(&mut self, a: f64, x: &Self) {
        for i in 0..N {
            self[i] += a * x[i];
        }
    }
}
