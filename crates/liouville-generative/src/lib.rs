//! # liouville-generative
//!
//! Generative models: normalizing flows, Boltzmann generators, VAEs, GANs and restricted
//! Boltzmann machines, built on `liouville-tensor`. Its contents arrive with a later issue;
//! until then the crate is deliberately empty.
