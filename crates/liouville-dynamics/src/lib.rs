//! # liouville-dynamics
//!
//! Learned dynamics whose structure carries the physics, trained on `liouville-sim` datasets with
//! the `liouville-tensor` layer and rolled out with `liouville-integrate`:
//!
//! - [`models::Baseline`]: an MLP vector field ẋ = f_θ(x), the papers' control;
//! - [`models::Hnn`]: a Hamiltonian neural network (Greydanus et al. 2019), ẋ = J∇H_θ(x);
//! - [`models::DissipativeHnn`]: port-Hamiltonian, a learned H plus a learned positive
//!   semi-definite damping and an optional learned input gain, ẋ = (J - R)∇H_θ + Bu;
//! - [`models::Lnn`]: a Lagrangian neural network (Cranmer et al. 2020), q̈ from the
//!   Euler–Lagrange equations of a learned L_θ(q, q̇);
//! - [`delan::Delan`]: a deep Lagrangian network (Lutter et al. 2019), L = ½q̇ᵀM(q)q̇ − V(q)
//!   with M through a Cholesky factor;
//! - [`srnn::Srnn`]: a symplectic RNN (Chen et al. 2020), separable H trained through leapfrog;
//! - [`vin::Vin`]: a variational integrator network (Saemundsson et al. 2020), a learned
//!   potential and diagonal mass trained through velocity Verlet;
//! - [`neural_ode::NeuralOde`]: a neural ODE (Chen et al. 2018) trained through RK4 by backprop
//!   or the adjoint method;
//! - [`sympnet`]: LA- and G-SympNets (Jin et al. 2020), flow maps symplectic by construction.
//!
//! Every vector-field model is a [`models::DynamicsModel`]: it trains, predicts, rolls out
//! through [`rollout::LearnedField`] (any integrator of `liouville-integrate`), saves and loads;
//! [`catalog`] builds and loads them by name. SympNets are flow maps
//! ([`sympnet::SympNetModel`]): they roll out by iteration.

mod arrays;
pub mod catalog;
pub mod coordinates;
pub mod delan;
mod error;
pub mod models;
pub mod neural_ode;
pub mod rollout;
pub mod srnn;
pub mod sympnet;
pub mod vin;
mod wrapper;

pub use error::DynamicsError;
