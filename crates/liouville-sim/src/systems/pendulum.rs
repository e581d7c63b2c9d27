//! Pendulums: ideal (Hamiltonian), damped, and damped-driven.
//!
//! H = p²/(2ml²) + mgl(1 - cos q); the damped pendulum adds ṗ = … - γp, the driven one
//! + A cos(ωt). Trigonometry uses [`crate::math`] so trajectories are bit-identical everywhere.

use liouville_integrate::{SeparableHamiltonian, VectorField, energies};
use ndarray::{ArrayView2, ArrayViewMut1, ArrayViewMut2, Zip};

use super::{Conserved, Invariant};
use crate::error::{finite, non_negative, positive};
use crate::{SimError, math};

/// The ideal pendulum H = p²/(2ml²) + mgl(1 - cos q).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pendulum {
    mass: f64,
    length: f64,
    gravity: f64,
}

impl Pendulum {
    /// Validates m, l, g > 0.
    pub fn new(mass: f64, length: f64, gravity: f64) -> Result<Self, SimError> {
        Ok(Self {
            mass: positive("mass", mass)?,
            length: positive("length", length)?,
            gravity: positive("gravity", gravity)?,
        })
    }
    /// Greydanus et al.'s H = 3(1 - cos q) + p² (m = 1, l = 1/√2, g = 3√2).
    pub fn hnn_paper() -> Self {
        Self {
            mass: 1.0,
            length: std::f64::consts::FRAC_1_SQRT_2,
            gravity: 3.0 * std::f64::consts::SQRT_2,
        }
    }
    /// Moment of inertia ml².
    pub fn inertia(&self) -> f64 {
        self.mass * self.length * self.length
    }
    /// Torque scale mgl.
    pub fn torque(&self) -> f64 {
        self.mass * self.gravity * self.length
    }
}

impl SeparableHamiltonian for Pendulum {
    fn dof(&self) -> usize {
        1
    }
    fn kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        let i = self.inertia();
        Zip::from(&mut out)
            .and(p.column(0))
            .for_each(|o, &p| *o = 0.5 * p * p / i);
    }
    fn potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        let k = self.torque();
        Zip::from(&mut out)
            .and(q.column(0))
            .for_each(|o, &q| *o = k * (1.0 - math::cos(q)));
    }
    // Indexed loops: the q and p halves of a state are strided one-column views, on which
    // per-element `Zip` overhead costs more than the arithmetic.
    fn grad_kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        let inv = 1.0 / self.inertia();
        for r in 0..p.nrows() {
            out[[r, 0]] = p[[r, 0]] * inv;
        }
    }
    fn grad_potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        let k = self.torque();
        for r in 0..q.nrows() {
            out[[r, 0]] = k * math::sin(q[[r, 0]]);
        }
    }
}

impl Conserved for Pendulum {
    fn conserved(&self, y: ArrayView2<'_, f64>) -> Vec<Invariant> {
        vec![Invariant {
            name: "energy",
            values: energies(self, y),
        }]
    }
}

/// A damped, optionally driven pendulum: q̇ = p/(ml²), ṗ = -mgl sin q - γp + A cos(ωt).
/// Energy decays (γ > 0) or is pumped (A ≠ 0): nothing is conserved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrivenPendulum {
    pendulum: Pendulum,
    damping: f64,
    amplitude: f64,
    frequency: f64,
}

impl DrivenPendulum {
    /// A damped pendulum without drive (γ ≥ 0).
    pub fn damped(pendulum: Pendulum, damping: f64) -> Result<Self, SimError> {
        Self::driven(pendulum, damping, 0.0, 0.0)
    }
    /// Damping γ ≥ 0, drive amplitude A (any finite sign), drive angular frequency ω ≥ 0.
    pub fn driven(pendulum: Pendulum, damping: f64, amplitude: f64, frequency: f64) -> Result<Self, SimError> {
        Ok(Self {
            pendulum,
            damping: non_negative("damping", damping)?,
            amplitude: finite("amplitude", amplitude)?,
            frequency: non_negative("frequency", frequency)?,
        })
    }
    /// The undamped, undriven pendulum underneath.
    pub fn pendulum(&self) -> Pendulum {
        self.pendulum
    }
}

impl VectorField for DrivenPendulum {
    fn dim(&self) -> usize {
        2
    }
    fn eval(&self, t: f64, y: ArrayView2<'_, f64>, mut dy: ArrayViewMut2<'_, f64>) {
        let (i, k) = (self.pendulum.inertia(), self.pendulum.torque());
        let drive = self.amplitude * math::cos(self.frequency * t);
        for r in 0..y.nrows() {
            let (q, p) = (y[[r, 0]], y[[r, 1]]);
            dy[[r, 0]] = p / i;
            dy[[r, 1]] = -k * math::sin(q) - self.damping * p + drive;
        }
    }
}
