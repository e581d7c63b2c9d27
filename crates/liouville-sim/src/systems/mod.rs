//! The physical systems. Each is a type with a validated constructor (a zero mass or negative
//! length is a [`crate::SimError`]), implements the `liouville-integrate` traits, and reports
//! its conserved quantities through [`Conserved`].

pub mod damped_oscillator;
pub mod double_pendulum;
pub mod gravity;
pub mod ising;
pub mod lorenz;
pub mod mass_spring;
pub mod pendulum;
pub mod seir;
pub mod springs;

use ndarray::{Array1, ArrayView2};

/// A named quantity evaluated on every row of a batch of states.
#[derive(Debug, Clone, PartialEq)]
pub struct Invariant {
    /// Name, e.g. "energy" or "momentum_x".
    pub name: &'static str,
    /// One value per state row.
    pub values: Array1<f64>,
}

/// Quantities that the exact flow conserves (energy, momentum, angular momentum, population…).
pub trait Conserved {
    /// Every conserved quantity of each row of `y`.
    fn conserved(&self, y: ArrayView2<'_, f64>) -> Vec<Invariant>;
}
