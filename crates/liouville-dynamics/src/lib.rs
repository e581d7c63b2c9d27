//! # liouville-dynamics
//!
//! Learned dynamics whose structure carries the physics, trained on `liouville-sim` datasets with
//! the `liouville-tensor` layer and rolled out with `liouville-integrate`:
//!
//! - [`models::Baseline`]: an MLP vector field ẋ = f_θ(x), the papers' control;
//! - [`models::Hnn`]: a Hamiltonian neural network (Greydanus et al. 2019), ẋ = J∇H_θ(x);
//! - [`models::DissipativeHnn`]: a learned H plus a learned positive semi-definite damping,
//!   ẋ = (J - R)∇H_θ, for damped systems;
//! - [`models::Lnn`]: a Lagrangian neural network (Cranmer et al. 2020), q̈ from the
//!   Euler–Lagrange equations of a learned L_θ(q, q̇);
//! - [`sympnet::LaSympNet`]: LA-SympNets (Jin et al. 2020), flow maps symplectic by construction.
//!
//! Every model is a [`models::DynamicsModel`]: it trains, predicts, rolls out through
//! [`rollout::LearnedField`] (any integrator of `liouville-integrate`), saves and loads.
//! DeLaN, symplectic RNNs and neural ODEs follow in later work.

pub mod catalog;
pub mod coordinates;
pub mod delan;
mod error;
pub mod models;
pub mod neural_ode;
pub mod rollout;
pub mod srnn;
pub mod sympnet;

pub use error::DynamicsError;
