//! The mathematical objects integrators act on: vector fields and Hamiltonians.
//!
//! States are batched: an `Array2<f64>` holds one trajectory per row, because datasets integrate
//! thousands of trajectories together. A Hamiltonian state row is laid out as `[q₁..q_d, p₁..p_d]`.

use ndarray::{ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis, s};

/// A first-order system dy/dt = f(t, y), evaluated on every row of a batch.
pub trait VectorField: Sync {
    /// Number of state components (columns of a state row).
    fn dim(&self) -> usize;
    /// Writes f(t, yᵢ) into row i of `dy` for every row yᵢ of `y`.
    fn eval(&self, t: f64, y: ArrayView2<'_, f64>, dy: ArrayViewMut2<'_, f64>);
}

/// A Hamiltonian H(q, p) with d degrees of freedom and its gradients.
///
/// Hamilton's equations q̇ = ∂H/∂p, ṗ = -∂H/∂q define the flow; [`HamiltonianField`] turns a
/// Hamiltonian into a [`VectorField`] on `[q, p]` rows.
pub trait Hamiltonian: Sync {
    /// Degrees of freedom d (a state row has 2d columns).
    fn dof(&self) -> usize;
    /// H(qᵢ, pᵢ) for every row.
    fn energy(&self, q: ArrayView2<'_, f64>, p: ArrayView2<'_, f64>, out: ArrayViewMut1<'_, f64>);
    /// ∂H/∂q for every row.
    fn dh_dq(&self, q: ArrayView2<'_, f64>, p: ArrayView2<'_, f64>, out: ArrayViewMut2<'_, f64>);
    /// ∂H/∂p for every row.
    fn dh_dp(&self, q: ArrayView2<'_, f64>, p: ArrayView2<'_, f64>, out: ArrayViewMut2<'_, f64>);
}

/// A separable Hamiltonian H(q, p) = T(p) + V(q).
///
/// Separability makes the kinetic and potential flows exactly solvable (drifts and kicks), which
/// is what the explicit symplectic splitting methods of [`crate::splitting`] compose.
pub trait SeparableHamiltonian: Sync {
    /// Degrees of freedom d.
    fn dof(&self) -> usize;
    /// Kinetic energy T(pᵢ) for every row.
    fn kinetic(&self, p: ArrayView2<'_, f64>, out: ArrayViewMut1<'_, f64>);
    /// Potential energy V(qᵢ) for every row.
    fn potential(&self, q: ArrayView2<'_, f64>, out: ArrayViewMut1<'_, f64>);
    /// ∇T(p) (the velocity q̇) for every row.
    fn grad_kinetic(&self, p: ArrayView2<'_, f64>, out: ArrayViewMut2<'_, f64>);
    /// ∇V(q) (minus the force) for every row.
    fn grad_potential(&self, q: ArrayView2<'_, f64>, out: ArrayViewMut2<'_, f64>);
}

impl<S: SeparableHamiltonian> Hamiltonian for S {
    fn dof(&self) -> usize {
        SeparableHamiltonian::dof(self)
    }
    fn energy(&self, q: ArrayView2<'_, f64>, p: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        self.kinetic(p, out.view_mut());
        let mut v = ndarray::Array1::zeros(out.len());
        self.potential(q, v.view_mut());
        out += &v;
    }
    fn dh_dq(&self, q: ArrayView2<'_, f64>, _p: ArrayView2<'_, f64>, out: ArrayViewMut2<'_, f64>) {
        self.grad_potential(q, out);
    }
    fn dh_dp(&self, _q: ArrayView2<'_, f64>, p: ArrayView2<'_, f64>, out: ArrayViewMut2<'_, f64>) {
        self.grad_kinetic(p, out);
    }
}

/// Hamilton's equations as a vector field on rows `[q, p]`: f = (∂H/∂p, -∂H/∂q).
#[derive(Debug, Clone, Copy)]
pub struct HamiltonianField<H>(pub H);

impl<H: Hamiltonian> VectorField for HamiltonianField<H> {
    fn dim(&self) -> usize {
        2 * self.0.dof()
    }
    fn eval(&self, _t: f64, y: ArrayView2<'_, f64>, mut dy: ArrayViewMut2<'_, f64>) {
        // split_at is the cheapest way to view the halves: this runs once per stage.
        let (q, p) = y.split_at(Axis(1), self.0.dof());
        let (dq, mut dp) = dy.view_mut().split_at(Axis(1), self.0.dof());
        self.0.dh_dp(q, p, dq);
        self.0.dh_dq(q, p, dp.view_mut());
        for x in dp.iter_mut() {
            *x = -*x;
        }
    }
}

/// Total energy H of every row of a batch of `[q, p]` states.
pub fn energies<H: Hamiltonian + ?Sized>(h: &H, y: ArrayView2<'_, f64>) -> ndarray::Array1<f64> {
    let d = h.dof();
    let mut out = ndarray::Array1::zeros(y.len_of(Axis(0)));
    h.energy(y.slice(s![.., ..d]), y.slice(s![.., d..]), out.view_mut());
    out
}

/// A closure as a vector field: `FnField { dim, f: |t, y, dy| ... }`.
#[derive(Clone, Copy)]
pub struct FnField<F> {
    /// Number of state components.
    pub dim: usize,
    /// The right-hand side, called on a whole batch.
    pub f: F,
}

impl<F> FnField<F>
where
    F: Fn(f64, ArrayView2<'_, f64>, ArrayViewMut2<'_, f64>) + Sync,
{
    /// A batched closure field; the closure's argument types are inferred, so
    /// `FnField::new(2, |_t, y, mut dy| dy.assign(&y))` needs no annotations.
    pub fn new(dim: usize, f: F) -> Self {
        Self { dim, f }
    }
}

/// A closure written for one trajectory, `f(t, y, dy)` on slices, applied to every row of a batch:
/// the row loop is ours, not the user's.
///
/// ```
/// use liouville_integrate::{RowField, adaptive::{Adaptive, AdaptiveMethod, Output}};
/// let oscillator = RowField::new(2, |_t, y: &[f64], dy: &mut [f64]| {
///     dy[0] = y[1];
///     dy[1] = -y[0];
/// });
/// let solver = Adaptive::new(AdaptiveMethod::Dop853).build().unwrap();
/// let y0 = ndarray::array![[1.0, 0.0], [0.0, 1.0]];
/// let sol = solver.solve(&oscillator, 0.0, 1.0, y0.view(), Output::Final).unwrap();
/// assert!((sol.last()[[1, 0]] - 1f64.sin()).abs() < 1e-6);
/// ```
#[derive(Clone, Copy)]
pub struct RowField<F> {
    dim: usize,
    f: F,
}

impl<F> RowField<F>
where
    F: Fn(f64, &[f64], &mut [f64]) + Sync,
{
    /// A field of `dim` components from a per-trajectory closure.
    pub fn new(dim: usize, f: F) -> Self {
        Self { dim, f }
    }
}

impl<F> VectorField for RowField<F>
where
    F: Fn(f64, &[f64], &mut [f64]) + Sync,
{
    fn dim(&self) -> usize {
        self.dim
    }
    fn eval(&self, t: f64, y: ArrayView2<'_, f64>, mut dy: ArrayViewMut2<'_, f64>) {
        let mut scratch: Option<(Vec<f64>, Vec<f64>)> = None;
        for (y, mut dy) in y.outer_iter().zip(dy.outer_iter_mut()) {
            // Rows of standard-layout batches are contiguous; copy only rows that are not.
            if let (Some(y), Some(dy)) = (y.as_slice(), dy.as_slice_mut()) {
                (self.f)(t, y, dy);
                continue;
            }
            let (row_in, row_out) = scratch.get_or_insert_with(|| (vec![0.0; self.dim], vec![0.0; self.dim]));
            row_in.iter_mut().zip(y.iter()).for_each(|(o, v)| *o = *v);
            (self.f)(t, row_in, row_out);
            dy.iter_mut().zip(row_out.iter()).for_each(|(o, v)| *o = *v);
        }
    }
}

impl<F> VectorField for FnField<F>
where
    F: Fn(f64, ArrayView2<'_, f64>, ArrayViewMut2<'_, f64>) + Sync,
{
    fn dim(&self) -> usize {
        self.dim
    }
    fn eval(&self, t: f64, y: ArrayView2<'_, f64>, dy: ArrayViewMut2<'_, f64>) {
        (self.f)(t, y, dy)
    }
}

impl<V: VectorField + ?Sized> VectorField for &V {
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn eval(&self, t: f64, y: ArrayView2<'_, f64>, dy: ArrayViewMut2<'_, f64>) {
        (**self).eval(t, y, dy)
    }
}
