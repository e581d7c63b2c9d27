//! # liouville-generative
//!
//! Generative models built on `liouville-tensor`. So far the first normalizing flow:
//!
//! - [`coupling`]: affine coupling layers (RealNVP) with soft-clamped log-scales, tensor
//!   `Bijection`s with closed-form inverses and log-determinants;
//! - [`actnorm`]: Glow's ActNorm with data-dependent initialisation;
//! - [`permutation`]: fixed (reversed or seeded random) column permutations;
//! - [`flow`]: the RealNVP flow (log p(x), sampling, maximum-likelihood loss on target-less rows,
//!   typed config and checkpoints);
//! - [`datasets`]: seeded toy densities (two moons, 8 Gaussians);
//! - [`gan`]: the non-saturating GAN and WGAN-GP with two-player training and mode-coverage
//!   metrics;
//! - [`rbm`]: binary restricted Boltzmann machines (CD-k, PCD, exact and AIS partition
//!   functions, Ising observables of their samples);
//! - [`vae`]: β-VAEs, conditional VAEs and SciNet (Gaussian or Bernoulli decoders, ELBO and
//!   IWAE bounds in nats, KL per latent).
//!
//! - [`boltzmann`]: Boltzmann generators (Noé et al. 2019): flows trained on an energy by
//!   reverse KL and/or on samples by likelihood, reweighted to the target (ln Z, ESS,
//!   observables), with Metropolis reference samples.
//!
//! Splines, MAF, Glow's 1×1 maps and conditional flows come with the generative issues.

pub mod actnorm;
pub mod boltzmann;
pub mod coupling;
pub mod datasets;
pub mod flow;
pub mod gan;
pub mod permutation;
pub mod rbm;
mod traced;
pub mod vae;
