//! # liouville-sim
//!
//! Physical systems, simulators and reproducible datasets, built on `liouville-integrate`.
//!
//! - [`systems`]: mass-spring; pendulums (ideal, damped, driven); double pendulum; Kepler
//!   two-body, three-body (with the figure-eight choreography) and softened N-body gravity
//!   (parallel direct sum); spring networks from petgraph graphs and the NRI balls-in-a-box
//!   springs; the 2D Ising model (checkerboard Metropolis and Wolff); Lorenz-63 (with its
//!   largest Lyapunov exponent); SEIR epidemics. Constructors validate their parameters.
//! - [`dataset`]: seeded, bit-reproducible trajectory datasets with exact derivatives, noise and
//!   a split by trajectory; a checksummed binary container (bincode behind [`dataset::codec`]),
//!   atomic writes, `.npz` export, sharding and merging.
//! - [`stats`]: binning, jackknife and autocorrelation times for Monte Carlo error bars.
//! - [`rng`] and [`math`]: a specified random generator and deterministic trigonometry, so the
//!   same seed gives the same bytes on every machine.

pub mod dataset;
mod error;
/// Deterministic sin/cos (they live in `liouville-base`, shared with the random streams).
pub use liouville_base::math;
/// Seeded random streams (the workspace's one source, in `liouville-base`).
pub use liouville_base::random as rng;
pub mod stats;
pub mod systems;

pub use error::SimError;
