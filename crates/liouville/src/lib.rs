//! # Liouville
//!
//! Physics-informed machine learning in Rust. This facade re-exports the workspace's crates and
//! hosts the `liouville` command-line tool:
//!
//! - [`base`]: seeded random streams, deterministic sin/cos, atomic file writes;
//! - [`integrate`]: ODE and symplectic integrators over ndarray (batched, f64);
//! - [`sim`]: physical systems and datasets;
//! - [`tensor`]: the dfdx autodiff layer and training substrate (CPU; GPU with the `cuda` feature);
//! - [`graph`]: graph batches, GN blocks, encode-process-decode, MPNN, Hamiltonian graph networks;
//! - [`dynamics`]: Hamiltonian/Lagrangian networks, SympNets, neural ODEs;
//! - [`generative`]: flows, Boltzmann generators, VAEs, GANs, RBMs.
//!
//! Liouville's theorem — Hamiltonian flows conserve phase-space volume — is the thread that ties
//! symplectic integrators, Hamiltonian learning and volume-tracking normalizing flows together.

pub use liouville_base as base;
pub use liouville_dynamics as dynamics;
pub use liouville_generative as generative;
pub use liouville_graph as graph;
pub use liouville_integrate as integrate;
pub use liouville_sim as sim;
pub use liouville_tensor as tensor;

pub mod commands;
pub mod demo;
pub mod generative_commands;
pub mod plot;
pub mod showcase;
