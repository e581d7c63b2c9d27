//! # liouville-dynamics
//!
//! Learned dynamics whose structure carries the physics: Hamiltonian and Lagrangian neural
//! networks, SympNets, neural ODEs, symplectic RNNs, and rollouts through `liouville-integrate`.
//! Its contents arrive with the liouville-dynamics issue; until then the crate is deliberately
//! empty.
