//! Classical explicit Runge–Kutta methods with a fixed step (Hairer–Nørsett–Wanner I, II.1).
//!
//! kᵢ = f(t + cᵢh, y + h Σⱼ aᵢⱼ kⱼ),  y₁ = y + h Σᵢ bᵢ kᵢ.
//!
//! None of them is symplectic: on a Hamiltonian system their energy error drifts (RK4 linearly
//! in time), which the symplectic methods of [`crate::splitting`] avoid.

use ndarray::{Array2, ArrayViewMut2};

use crate::fixed::{Stats, Stepper, axpy};
use crate::{IntegrateError, VectorField};

/// Which explicit Runge–Kutta tableau to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExplicitMethod {
    /// Explicit Euler, y₁ = y + h f(t, y). Order 1.
    Euler,
    /// Explicit midpoint, y₁ = y + h f(t + h/2, y + h/2 f(t, y)). Order 2.
    Midpoint,
    /// The classical fourth-order method of Kutta (1901). Order 4.
    Rk4,
}

impl ExplicitMethod {
    /// Every explicit method, for tables and sweeps.
    pub const ALL: [ExplicitMethod; 3] = [Self::Euler, Self::Midpoint, Self::Rk4];

    /// Classical order.
    pub fn order(self) -> u32 {
        match self {
            Self::Euler => 1,
            Self::Midpoint => 2,
            Self::Rk4 => 4,
        }
    }

    /// (c, strictly lower A row by row, b).
    fn tableau(self) -> (&'static [f64], &'static [&'static [f64]], &'static [f64]) {
        match self {
            Self::Euler => (&[0.0], &[&[]], &[1.0]),
            Self::Midpoint => (&[0.0, 0.5], &[&[], &[0.5]], &[0.0, 1.0]),
            Self::Rk4 => (
                &[0.0, 0.5, 0.5, 1.0],
                &[&[], &[0.5], &[0.0, 0.5], &[0.0, 0.0, 1.0]],
                &[1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0],
            ),
        }
    }

    /// A human-readable name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Euler => "explicit Euler",
            Self::Midpoint => "explicit midpoint",
            Self::Rk4 => "RK4",
        }
    }
}

/// A fixed-step explicit Runge–Kutta integrator for any [`VectorField`].
pub struct ExplicitRk<F> {
    field: F,
    method: ExplicitMethod,
    stages: Vec<Array2<f64>>,
    scratch: Array2<f64>,
    stats: Stats,
}

impl<F: VectorField + Clone + Send> ExplicitRk<F> {
    /// An integrator of `field` with `method`.
    pub fn new(field: F, method: ExplicitMethod) -> Self {
        Self {
            field,
            method,
            stages: Vec::new(),
            scratch: Array2::zeros((0, 0)),
            stats: Stats::default(),
        }
    }
}

impl<F: VectorField + Clone + Send> Stepper for ExplicitRk<F> {
    fn order(&self) -> u32 {
        self.method.order()
    }
    fn dim(&self) -> usize {
        self.field.dim()
    }
    fn step(&mut self, t: f64, h: f64, mut y: ArrayViewMut2<'_, f64>) -> Result<(), IntegrateError> {
        let (c, a, b) = self.method.tableau();
        if self.scratch.dim() != y.dim() {
            self.stages = vec![Array2::zeros(y.dim()); c.len()];
            self.scratch = Array2::zeros(y.dim());
        }
        for i in 0..c.len() {
            self.scratch.assign(&y);
            let mut stage_y = self.scratch.view_mut();
            for (j, &aij) in a[i].iter().enumerate() {
                if aij != 0.0 {
                    axpy(&mut stage_y, h * aij, &self.stages[j]);
                }
            }
            self.field
                .eval(t + c[i] * h, self.scratch.view(), self.stages[i].view_mut());
        }
        for (i, &bi) in b.iter().enumerate() {
            if bi != 0.0 {
                axpy(&mut y, h * bi, &self.stages[i]);
            }
        }
        self.stats.steps += 1;
        self.stats.evaluations += c.len();
        Ok(())
    }
    fn stats(&self) -> Stats {
        self.stats
    }
    fn fork(&self) -> Self {
        Self::new(self.field.clone(), self.method)
    }
}
