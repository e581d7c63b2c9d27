//! The ideal mass-spring oscillator H = p²/(2m) + k q²/2.

use liouville_integrate::reference::HarmonicOscillator;
use liouville_integrate::{SeparableHamiltonian, energies};
use ndarray::{ArrayView2, ArrayViewMut1, ArrayViewMut2};

use super::{Conserved, Invariant};
use crate::SimError;
use crate::error::positive;

/// A mass m on a spring of stiffness k: H = p²/(2m) + k q²/2, angular frequency √(k/m).
///
/// The validated face of `liouville_integrate::reference::HarmonicOscillator`, whose formulas it
/// uses: the integrators' yardstick and the dataset system are the same oscillator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MassSpring(HarmonicOscillator);

impl MassSpring {
    /// Validates m > 0 and k > 0.
    pub fn new(mass: f64, stiffness: f64) -> Result<Self, SimError> {
        Ok(Self(HarmonicOscillator {
            mass: positive("mass", mass)?,
            stiffness: positive("stiffness", stiffness)?,
        }))
    }
    /// Greydanus et al.'s H = q² + p² (m = 1/2, k = 2).
    pub fn hnn_paper() -> Self {
        Self(HarmonicOscillator {
            mass: 0.5,
            stiffness: 2.0,
        })
    }
    /// Mass m.
    pub fn mass(&self) -> f64 {
        self.0.mass
    }
    /// Stiffness k.
    pub fn stiffness(&self) -> f64 {
        self.0.stiffness
    }
}

impl SeparableHamiltonian for MassSpring {
    fn dof(&self) -> usize {
        self.0.dof()
    }
    fn kinetic(&self, p: ArrayView2<'_, f64>, out: ArrayViewMut1<'_, f64>) {
        self.0.kinetic(p, out)
    }
    fn potential(&self, q: ArrayView2<'_, f64>, out: ArrayViewMut1<'_, f64>) {
        self.0.potential(q, out)
    }
    fn grad_kinetic(&self, p: ArrayView2<'_, f64>, out: ArrayViewMut2<'_, f64>) {
        self.0.grad_kinetic(p, out)
    }
    fn grad_potential(&self, q: ArrayView2<'_, f64>, out: ArrayViewMut2<'_, f64>) {
        self.0.grad_potential(q, out)
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
