//! # liouville-integrate
//!
//! ODE and symplectic integrators over `ndarray`, in `f64`, batched over trajectories: a state is
//! an `Array2` with one trajectory per row.
//!
//! | family | methods | for |
//! |---|---|---|
//! | [`explicit`] | Euler, midpoint, RK4 | any [`VectorField`], fixed step |
//! | [`adaptive`] | Dormand–Prince 5(4), DOP853 | any [`VectorField`]; PI control, dense output, events |
//! | [`splitting`] | symplectic Euler (both), leapfrog, Yoshida 4/6/8 | [`SeparableHamiltonian`], fixed step |
//! | [`collocation`] | implicit midpoint, Gauss–Legendre 2 and 3 | any [`VectorField`] (symplectic on any Hamiltonian) |
//!
//! Symplectic methods are fixed-step by design: adaptive step sizes destroy the bounded
//! long-time energy error that makes them worth using (Hairer–Lubich–Wanner VIII.1).
//!
//! ```
//! use liouville_integrate::{fixed, reference::Kepler, splitting::{Splitting, SymplecticMethod}};
//! let kepler = Kepler { eccentricity: 0.6 };
//! let stepper = Splitting::new(kepler, SymplecticMethod::Yoshida4);
//! let grid = fixed::FixedGrid::spanning(0.0, kepler.period(), 1e-3).unwrap();
//! let sol = fixed::integrate(&stepper, &grid, kepler.initial_state().view(), grid.n_steps()).unwrap();
//! let exact = kepler.exact_state(kepler.period());
//! assert!((sol.last()[[0, 0]] - exact[0]).abs() < 1e-8);
//! ```
//!
//! Every bad input (non-finite state, non-positive step, tolerances ≤ 0, step-size underflow,
//! non-converging implicit stages) is an [`IntegrateError`], never a panic.

pub mod adaptive;
pub mod collocation;
mod error;
pub mod explicit;
pub mod field;
pub mod fixed;
#[cfg(feature = "lapack")]
mod newton;
pub mod reference;
pub mod splitting;
mod validate;

pub use error::IntegrateError;
pub use field::{FnField, Hamiltonian, HamiltonianField, RowField, SeparableHamiltonian, VectorField, energies};
pub use fixed::{FixedGrid, Solution, Stats, Stepper};
