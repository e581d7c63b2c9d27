//! Classical explicit Runge–Kutta methods with a fixed step (Hairer–Nørsett–Wanner I, II.1).
//!
//! kᵢ = f(t + cᵢh, y + h Σⱼ aᵢⱼ kⱼ),  y₁ = y + h Σᵢ bᵢ kᵢ.
//!
//! None of them is symplectic: on a Hamiltonian system their energy error drifts (RK4 linearly
//! in time), which the symplectic methods of [`crate::splitting`] avoid.

use ndarray::{Array2, ArrayViewMut2, Zip};

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
    /// Non-zero entries (j, aᵢⱼ) of each row of A.
    sparse_rows: Vec<Vec<(usize, f64)>>,
    stats: Stats,
}

impl<F: VectorField + Clone + Send> ExplicitRk<F> {
    /// An integrator of `field` with `method`.
    pub fn new(field: F, method: ExplicitMethod) -> Self {
        let (_, a, _) = method.tableau();
        let sparse_rows = a
            .iter()
            .map(|row| row.iter().copied().enumerate().filter(|&(_, v)| v != 0.0).collect())
            .collect();
        Self {
            field,
            method,
            stages: Vec::new(),
            scratch: Array2::zeros((0, 0)),
            sparse_rows,
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
        let (c, _, b) = self.method.tableau();
        if self.scratch.dim() != y.dim() {
            self.stages = vec![Array2::zeros(y.dim()); c.len()];
            self.scratch = Array2::zeros(y.dim());
        }
        for i in 0..c.len() {
            // Stage state y + h Σⱼ aᵢⱼ kⱼ, fused into one pass when a single aᵢⱼ is non-zero (as in
            // every method here): these passes, not the arithmetic, dominate on large batches.
            match self.sparse_rows[i].as_slice() {
                [] => self.scratch.assign(&y),
                [(j, aij)] => {
                    let ha = h * aij;
                    Zip::from(&mut self.scratch)
                        .and(&y)
                        .and(&self.stages[*j])
                        .for_each(|s, &y, &k| *s = y + ha * k);
                }
                _ => {
                    self.scratch.assign(&y);
                    let mut stage_y = self.scratch.view_mut();
                    for &(j, aij) in &self.sparse_rows[i] {
                        axpy(&mut stage_y, h * aij, &self.stages[j]);
                    }
                }
            }
            self.field
                .eval(t + c[i] * h, self.scratch.view(), self.stages[i].view_mut());
        }
        if let ([b0, b1, b2, b3], [k0, k1, k2, k3]) = (b, self.stages.as_slice()) {
            // RK4's update in one pass.
            let (w0, w1, w2, w3) = (h * b0, h * b1, h * b2, h * b3);
            Zip::from(&mut y)
                .and(k0)
                .and(k1)
                .and(k2)
                .and(k3)
                .for_each(|y, &a, &b, &c, &d| *y += w0 * a + w1 * b + w2 * c + w3 * d);
        } else {
            for (i, &bi) in b.iter().enumerate() {
                if bi != 0.0 {
                    axpy(&mut y, h * bi, &self.stages[i]);
                }
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
