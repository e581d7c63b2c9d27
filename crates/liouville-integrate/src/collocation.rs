//! Implicit Gauss–Legendre collocation methods (Hairer–Lubich–Wanner II.1.3, VI.4).
//!
//! kᵢ = f(t + cᵢh, y + h Σⱼ aᵢⱼ kⱼ),  y₁ = y + h Σᵢ bᵢ kᵢ, with the s-stage Gauss nodes.
//! The s-stage method has order 2s, is symplectic for *any* Hamiltonian (separable or not) and
//! symmetric. Implicit midpoint is the 1-stage member.
//!
//! The stage equations are solved by fixed-point iteration, which converges when h·Lip(f) is small
//! (the regime where the methods are accurate anyway). Iteration runs to round-off, so the
//! numerical map inherits symplecticity to near machine precision; if it does not converge within
//! `max_iterations` the step fails with [`IntegrateError::ImplicitNotConverged`]. With the `lapack`
//! feature, [`StageSolver::Newton`] solves them by simplified Newton instead, which also converges
//! for larger h·Lip(f).

use ndarray::{Array2, ArrayViewMut2, Zip};

use crate::fixed::{Stats, Stepper, axpy};
use crate::{IntegrateError, VectorField};

/// Which Gauss–Legendre method to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImplicitMethod {
    /// Implicit midpoint rule, y₁ = y + h f(t + h/2, (y + y₁)/2). Order 2.
    ImplicitMidpoint,
    /// Two-stage Gauss–Legendre. Order 4.
    GaussLegendre2,
    /// Three-stage Gauss–Legendre. Order 6.
    GaussLegendre3,
}

struct Tableau {
    c: Vec<f64>,
    a: Vec<Vec<f64>>,
    b: Vec<f64>,
}

impl ImplicitMethod {
    /// Every implicit method, for tables and sweeps.
    pub const ALL: [ImplicitMethod; 3] = [Self::ImplicitMidpoint, Self::GaussLegendre2, Self::GaussLegendre3];

    /// Classical order 2s.
    pub fn order(self) -> u32 {
        2 * self.stages() as u32
    }

    /// Number of stages s.
    pub fn stages(self) -> usize {
        match self {
            Self::ImplicitMidpoint => 1,
            Self::GaussLegendre2 => 2,
            Self::GaussLegendre3 => 3,
        }
    }

    /// A human-readable name.
    pub fn name(self) -> &'static str {
        match self {
            Self::ImplicitMidpoint => "implicit midpoint",
            Self::GaussLegendre2 => "Gauss-Legendre 2 stages",
            Self::GaussLegendre3 => "Gauss-Legendre 3 stages",
        }
    }

    fn tableau(self) -> Tableau {
        match self {
            Self::ImplicitMidpoint => Tableau {
                c: vec![0.5],
                a: vec![vec![0.5]],
                b: vec![1.0],
            },
            Self::GaussLegendre2 => {
                let r = 3f64.sqrt() / 6.0;
                Tableau {
                    c: vec![0.5 - r, 0.5 + r],
                    a: vec![vec![0.25, 0.25 - r], vec![0.25 + r, 0.25]],
                    b: vec![0.5, 0.5],
                }
            }
            Self::GaussLegendre3 => {
                let r = 15f64.sqrt();
                Tableau {
                    c: vec![0.5 - r / 10.0, 0.5, 0.5 + r / 10.0],
                    a: vec![
                        vec![5.0 / 36.0, 2.0 / 9.0 - r / 15.0, 5.0 / 36.0 - r / 30.0],
                        vec![5.0 / 36.0 + r / 24.0, 2.0 / 9.0, 5.0 / 36.0 - r / 24.0],
                        vec![5.0 / 36.0 + r / 30.0, 2.0 / 9.0 + r / 15.0, 5.0 / 36.0],
                    ],
                    b: vec![5.0 / 18.0, 4.0 / 9.0, 5.0 / 18.0],
                }
            }
        }
    }
}

/// How the stage equations are solved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StageSolver {
    /// Fixed-point iteration kᵢ ← f(t + cᵢh, y + h Σⱼ aᵢⱼ kⱼ).
    FixedPoint,
    /// Simplified Newton iteration with a finite-difference Jacobian of f at the step's start,
    /// factorised once per step by LAPACK (per trajectory row).
    #[cfg(feature = "lapack")]
    Newton,
}

/// Convergence controls of the stage iteration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IterationControl {
    /// The iteration stops once max |h Δkᵢ| / (1 + |y|) ≤ `tolerance`, or once the corrections
    /// stop shrinking below `1e3 × tolerance`-ish round-off levels (see [`Collocation`]).
    pub tolerance: f64,
    /// Iterations allowed per step before [`IntegrateError::ImplicitNotConverged`].
    pub max_iterations: usize,
    /// Stage solver.
    pub solver: StageSolver,
}

impl Default for IterationControl {
    fn default() -> Self {
        Self {
            tolerance: 4.0 * f64::EPSILON,
            max_iterations: 100,
            solver: StageSolver::FixedPoint,
        }
    }
}

/// A Gauss–Legendre collocation integrator for any [`VectorField`].
pub struct Collocation<F> {
    field: F,
    method: ImplicitMethod,
    control: IterationControl,
    tableau: Tableau,
    k: Vec<Array2<f64>>,
    k_new: Vec<Array2<f64>>,
    stage_y: Array2<f64>,
    stats: Stats,
}

impl<F: VectorField + Clone + Send> Collocation<F> {
    /// An integrator of `field` with `method` and default iteration control.
    pub fn new(field: F, method: ImplicitMethod) -> Self {
        Self::with_control(field, method, IterationControl::default()).expect("the default iteration control is valid")
    }

    /// An integrator with explicit iteration control; rejects a non-positive tolerance or a zero
    /// iteration cap.
    pub fn with_control(field: F, method: ImplicitMethod, control: IterationControl) -> Result<Self, IntegrateError> {
        if !(control.tolerance.is_finite() && control.tolerance > 0.0) || control.max_iterations == 0 {
            return Err(IntegrateError::InvalidOption(format!(
                "iteration tolerance must be > 0 and max_iterations ≥ 1, got {control:?}"
            )));
        }
        Ok(Self {
            field,
            method,
            control,
            tableau: method.tableau(),
            k: Vec::new(),
            k_new: Vec::new(),
            stage_y: Array2::zeros((0, 0)),
            stats: Stats::default(),
        })
    }

    /// Forms y + h Σⱼ aᵢⱼ kⱼ into `stage_y`.
    fn stage_state(&mut self, i: usize, h: f64, y: &ArrayViewMut2<'_, f64>) {
        self.stage_y.assign(y);
        let mut sy = self.stage_y.view_mut();
        for (j, &aij) in self.tableau.a[i].iter().enumerate() {
            axpy(&mut sy, h * aij, &self.k[j]);
        }
    }

    fn solve_fixed_point(&mut self, t: f64, h: f64, y: &ArrayViewMut2<'_, f64>) -> Result<(), IntegrateError> {
        let s = self.tableau.c.len();
        let mut previous = f64::INFINITY;
        for iteration in 1..=self.control.max_iterations {
            let mut correction: f64 = 0.0;
            for i in 0..s {
                self.stage_state(i, h, y);
                self.field
                    .eval(t + self.tableau.c[i] * h, self.stage_y.view(), self.k_new[i].view_mut());
                Zip::from(&self.k_new[i])
                    .and(&self.k[i])
                    .and(y)
                    .for_each(|&kn, &ko, &yv| {
                        correction = correction.max((h * (kn - ko)).abs() / (1.0 + yv.abs()));
                    });
            }
            std::mem::swap(&mut self.k, &mut self.k_new);
            self.stats.evaluations += s;
            self.stats.iterations += 1;
            if !correction.is_finite() {
                return Err(IntegrateError::ImplicitNotConverged {
                    t,
                    iterations: iteration,
                    correction,
                });
            }
            // Converged at the tolerance, or at the round-off floor: once corrections are tiny and
            // stop shrinking, further iterations only shuffle the last bits.
            if correction <= self.control.tolerance || (correction >= previous && correction < 1e-12) {
                return Ok(());
            }
            previous = correction;
        }
        Err(IntegrateError::ImplicitNotConverged {
            t,
            iterations: self.control.max_iterations,
            correction: previous,
        })
    }
}

impl<F: VectorField + Clone + Send> Stepper for Collocation<F> {
    fn order(&self) -> u32 {
        self.method.order()
    }
    fn dim(&self) -> usize {
        self.field.dim()
    }
    fn step(&mut self, t: f64, h: f64, mut y: ArrayViewMut2<'_, f64>) -> Result<(), IntegrateError> {
        let s = self.tableau.c.len();
        if self.stage_y.dim() != y.dim() {
            self.k = vec![Array2::zeros(y.dim()); s];
            self.k_new = vec![Array2::zeros(y.dim()); s];
            self.stage_y = Array2::zeros(y.dim());
        }
        // Start every stage from f(t, y).
        self.field.eval(t, y.view(), self.k[0].view_mut());
        self.stats.evaluations += 1;
        for i in 1..s {
            let (first, rest) = self.k.split_at_mut(1);
            rest[i - 1].assign(&first[0]);
        }
        match self.control.solver {
            StageSolver::FixedPoint => self.solve_fixed_point(t, h, &y)?,
            #[cfg(feature = "lapack")]
            StageSolver::Newton => crate::newton::solve_stages(
                &self.field,
                &self.tableau.c,
                &self.tableau.a,
                self.control.tolerance,
                self.control.max_iterations,
                t,
                h,
                y.view(),
                &mut self.k,
                &mut self.stats,
            )?,
        }
        for i in 0..s {
            axpy(&mut y, h * self.tableau.b[i], &self.k[i]);
        }
        self.stats.steps += 1;
        Ok(())
    }
    fn stats(&self) -> Stats {
        self.stats
    }
    fn fork(&self) -> Self {
        Self::with_control(self.field.clone(), self.method, self.control).expect("control was validated")
    }
}
