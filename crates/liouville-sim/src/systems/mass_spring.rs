//! The ideal mass-spring oscillator H = p²/(2m) + k q²/2.

use liouville_integrate::{SeparableHamiltonian, energies};
use ndarray::{ArrayView2, ArrayViewMut1, ArrayViewMut2, Zip};

use super::{Conserved, Invariant};
use crate::SimError;
use crate::error::positive;

/// A mass m on a spring of stiffness k: H = p²/(2m) + k q²/2, angular frequency √(k/m).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MassSpring {
    mass: f64,
    stiffness: f64,
}

impl MassSpring {
    /// Validates m > 0 and k > 0.
    pub fn new(mass: f64, stiffness: f64) -> Result<Self, SimError> {
        Ok(Self {
            mass: positive("mass", mass)?,
            stiffness: positive("stiffness", stiffness)?,
        })
    }
    /// Greydanus et al.'s H = q² + p² (m = 1/2, k = 2).
    pub fn hnn_paper() -> Self {
        Self {
            mass: 0.5,
            stiffness: 2.0,
        }
    }
    /// Mass m.
    pub fn mass(&self) -> f64 {
        self.mass
    }
    /// Stiffness k.
    pub fn stiffness(&self) -> f64 {
        self.stiffness
    }
}

impl SeparableHamiltonian for MassSpring {
    fn dof(&self) -> usize {
        1
    }
    fn kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        Zip::from(&mut out)
            .and(p.column(0))
            .for_each(|o, &p| *o = 0.5 * p * p / self.mass);
    }
    fn potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        Zip::from(&mut out)
            .and(q.column(0))
            .for_each(|o, &q| *o = 0.5 * self.stiffness * q * q);
    }
    fn grad_kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        Zip::from(&mut out).and(&p).for_each(|o, &p| *o = p / self.mass);
    }
    fn grad_potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        Zip::from(&mut out).and(&q).for_each(|o, &q| *o = self.stiffness * q);
    }
}

impl Conserved for MassSpring {
    fn conserved(&self, y: ArrayView2<'_, f64>) -> Vec<Invariant> {
        vec![Invariant {
            name: "energy",
            values: energies(self, y),
        }]
    }
}
