//! SEIR epidemic compartments (Kermack–McKendrick with a latent stage):
//!
//! Ṡ = -βSI/N, Ė = βSI/N - σE, İ = σE - γI, Ṙ = γI; the population N = S + E + I + R is conserved.

use liouville_integrate::VectorField;
use ndarray::{ArrayView2, ArrayViewMut2};

use super::{Conserved, Invariant};
use crate::SimError;
use crate::error::positive;

/// Transmission rate β, incubation rate σ (1/latent period), recovery rate γ.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seir {
    beta: f64,
    sigma: f64,
    gamma: f64,
}

impl Seir {
    /// Validates β, σ, γ > 0.
    pub fn new(beta: f64, sigma: f64, gamma: f64) -> Result<Self, SimError> {
        Ok(Self {
            beta: positive("beta", beta)?,
            sigma: positive("sigma", sigma)?,
            gamma: positive("gamma", gamma)?,
        })
    }
    /// Basic reproduction number R₀ = β/γ.
    pub fn r0(&self) -> f64 {
        self.beta / self.gamma
    }
}

impl VectorField for Seir {
    fn dim(&self) -> usize {
        4
    }
    fn eval(&self, _t: f64, y: ArrayView2<'_, f64>, mut dy: ArrayViewMut2<'_, f64>) {
        for r in 0..y.nrows() {
            let (s, e, i, rec) = (y[[r, 0]], y[[r, 1]], y[[r, 2]], y[[r, 3]]);
            let n = s + e + i + rec;
            let infection = if n > 0.0 { self.beta * s * i / n } else { 0.0 };
            dy[[r, 0]] = -infection;
            dy[[r, 1]] = infection - self.sigma * e;
            dy[[r, 2]] = self.sigma * e - self.gamma * i;
            dy[[r, 3]] = self.gamma * i;
        }
    }
}

impl Conserved for Seir {
    fn conserved(&self, y: ArrayView2<'_, f64>) -> Vec<Invariant> {
        vec![Invariant {
            name: "population",
            values: y.rows().into_iter().map(|r| r.sum()).collect(),
        }]
    }
}
