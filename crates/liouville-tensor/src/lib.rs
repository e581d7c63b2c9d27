//! # liouville-tensor
//!
//! The dfdx 0.13 autodiff layer of Liouville. dfdx has no double backward, yet Hamiltonian and
//! Lagrangian networks and gradient penalties need input derivatives *inside* the loss; here
//! they are explicit, traced forward/VJP/JVP passes built from ordinary dfdx ops ([`mlp`]), so
//! dfdx's reverse mode gives the parameter gradients. Every such derivative is checked against
//! finite differences in f64 (`tests/finite_differences.rs`, through [`testing`]).
//!
//! It is also the training substrate every model of the workspace stands on: [`train::Data`]
//! (supervised rows, target-less rows, trajectory windows, graph sets), losses over any batch
//! type, [`train::Trainer`] (one optimiser's step, alternated between models or fed an external
//! gradient), the [`train::train`] loop, typed configs ([`Configured`]) and checkpoints that load
//! in one call ([`checkpoint`]), the [`Bijection`] trait of flows and SympNets, LayerNorm, a GRU
//! cell and device-generic segment reductions.
//!
//! Devices: dfdx's CPU backend by default, its CUDA backend with the `cuda` feature — every model
//! is generic over dtype and device, and nothing outside [`device`] names either.

mod activation;
pub mod batch;
pub mod bijection;
pub mod checkpoint;
pub mod columns;
pub mod config;
pub mod device;
pub mod energy;
mod error;
pub mod fused;
pub mod host;
pub mod host_memory;
pub mod host_product;
pub mod losses;
pub mod mlp;
pub mod module;
pub mod normalization;
pub mod optim;
mod real;
pub mod recurrent;
pub mod segment;
pub mod shapes;
pub mod surrogate;
pub mod sympnet;
pub mod tape;
pub mod testing;
pub mod train;
pub mod vector_math;

pub use activation::Activation;
pub use bijection::Bijection;
pub use config::Configured;
pub use dfdx;
pub use energy::{Energy, EnergyDerivatives};
pub use error::TensorError;
pub use mlp::{Init, Mlp, MlpConfig};
pub use module::Module;
pub use real::Real;
