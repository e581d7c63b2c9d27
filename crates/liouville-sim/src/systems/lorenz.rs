//! The Lorenz-63 system and its largest Lyapunov exponent.
//!
//! ẋ = σ(y - x), ẏ = x(ρ - z) - y, ż = xy - βz. At σ = 10, ρ = 28, β = 8/3 the attractor is
//! chaotic with largest Lyapunov exponent ≈ 0.906.

use liouville_integrate::VectorField;
use liouville_integrate::explicit::{ExplicitMethod, ExplicitRk};
use liouville_integrate::fixed::Stepper;
use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use crate::SimError;
use crate::error::positive;

/// Lorenz-63 with parameters σ, ρ, β.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lorenz63 {
    sigma: f64,
    rho: f64,
    beta: f64,
}

impl Lorenz63 {
    /// Validates σ, ρ, β > 0.
    pub fn new(sigma: f64, rho: f64, beta: f64) -> Result<Self, SimError> {
        Ok(Self {
            sigma: positive("sigma", sigma)?,
            rho: positive("rho", rho)?,
            beta: positive("beta", beta)?,
        })
    }
    /// The classical chaotic parameters σ = 10, ρ = 28, β = 8/3.
    pub fn classic() -> Self {
        Self {
            sigma: 10.0,
            rho: 28.0,
            beta: 8.0 / 3.0,
        }
    }

    /// The right-hand side on one state, for the single-state and ensemble solvers
    /// ([`Adaptive::solve_ensemble`](liouville_integrate::adaptive::Adaptive::solve_ensemble)).
    #[inline]
    pub fn rate(&self, _t: f64, y: &[f64; 3]) -> [f64; 3] {
        [
            self.sigma * (y[1] - y[0]),
            y[0] * (self.rho - y[2]) - y[1],
            y[0] * y[1] - self.beta * y[2],
        ]
    }

    /// The largest Lyapunov exponent by Benettin's method: the state and a tangent vector are
    /// integrated together with RK4 (the variational equation δ̇ = J(x)δ), the tangent vector is
    /// renormalised every step, and λ = (1/T) Σ ln |δ|. A transient of `transient` time units is
    /// discarded first.
    pub fn largest_lyapunov(&self, x0: [f64; 3], dt: f64, transient: f64, duration: f64) -> Result<f64, SimError> {
        positive("dt", dt)?;
        positive("duration", duration)?;
        crate::error::non_negative("transient", transient)?;
        let tangent = Tangent(*self);
        let mut stepper = ExplicitRk::new(tangent, ExplicitMethod::Rk4);
        let mut y = Array2::from_shape_vec((1, 6), vec![x0[0], x0[1], x0[2], 1.0, 0.0, 0.0]).expect("6 values");
        let mut t = 0.0;
        let transient_steps = (transient / dt).round() as usize;
        let steps = (duration / dt).round().max(1.0) as usize;
        let mut log_growth = 0.0;
        for k in 0..transient_steps + steps {
            stepper.step(t, dt, y.view_mut())?;
            t += dt;
            let norm = (y[[0, 3]].powi(2) + y[[0, 4]].powi(2) + y[[0, 5]].powi(2)).sqrt();
            if !norm.is_finite() || norm == 0.0 {
                return Err(SimError::Integrate(
                    liouville_integrate::IntegrateError::NonFiniteState { t },
                ));
            }
            for c in 3..6 {
                y[[0, c]] /= norm;
            }
            if k >= transient_steps {
                log_growth += libm::log(norm);
            }
        }
        Ok(log_growth / (steps as f64 * dt))
    }
}

impl VectorField for Lorenz63 {
    fn dim(&self) -> usize {
        3
    }
    fn eval(&self, t: f64, y: ArrayView2<'_, f64>, mut dy: ArrayViewMut2<'_, f64>) {
        for r in 0..y.nrows() {
            let d = self.rate(t, &[y[[r, 0]], y[[r, 1]], y[[r, 2]]]);
            for (c, v) in d.into_iter().enumerate() {
                dy[[r, c]] = v;
            }
        }
    }
}

/// Lorenz-63 with its variational equation: rows `[x, y, z, δx, δy, δz]`.
#[derive(Debug, Clone, Copy)]
struct Tangent(Lorenz63);

impl VectorField for Tangent {
    fn dim(&self) -> usize {
        6
    }
    fn eval(&self, t: f64, y: ArrayView2<'_, f64>, mut dy: ArrayViewMut2<'_, f64>) {
        let l = self.0;
        l.eval(t, y.slice(ndarray::s![.., ..3]), dy.slice_mut(ndarray::s![.., ..3]));
        for r in 0..y.nrows() {
            let (x, yy, z) = (y[[r, 0]], y[[r, 1]], y[[r, 2]]);
            let (dx, dyy, dz) = (y[[r, 3]], y[[r, 4]], y[[r, 5]]);
            dy[[r, 3]] = l.sigma * (dyy - dx);
            dy[[r, 4]] = (l.rho - z) * dx - dyy - x * dz;
            dy[[r, 5]] = yy * dx + x * dyy - l.beta * dz;
        }
    }
}
