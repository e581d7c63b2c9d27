//! # liouville-tensor
//!
//! The dfdx 0.13 autodiff layer of Liouville. dfdx has no double backward, yet Hamiltonian and
//! Lagrangian networks and gradient penalties need input derivatives *inside* the loss; here
//! they are explicit, traced forward/VJP/JVP passes built from ordinary dfdx ops ([`mlp`]), so
//! dfdx's reverse mode gives the parameter gradients. Every such derivative is checked against
//! finite differences in f64 (`tests/finite_differences.rs`).
//!
//! Devices: dfdx's `Cpu` by default; `Cuda` with the `cuda` feature — every model is generic
//! over the device.

mod activation;
pub mod checkpoint;
pub mod device;
pub mod energy;
mod error;
pub mod losses;
pub mod mlp;
pub mod module;
pub mod optim;
mod real;
pub mod segment;
pub mod tape;
pub mod train;

pub use activation::Activation;
pub use dfdx;
pub use energy::{Energy, EnergyDerivatives};
pub use error::TensorError;
pub use mlp::{Init, Mlp};
pub use module::Module;
pub use real::Real;
