//! # liouville-generative
//!
//! Generative models built on `liouville-tensor`. So far the first normalizing flow:
//!
//! - [`coupling`]: coupling layers, affine (RealNVP, soft-clamped log-scales) or
//!   rational-quadratic splines, optionally reading a condition vector (cINN), tensor
//!   `Bijection`s with closed-form inverses and log-determinants;
//! - [`spline`]: monotone rational-quadratic splines with identity tails (neural spline flows);
//! - [`actnorm`]: Glow's ActNorm with data-dependent initialisation;
//! - [`permutation`]: fixed (reversed or seeded random) column permutations;
//! - [`lu`]: invertible linear maps W = LU (Glow's 1×1 convolution on vectors);
//! - [`maf`]: masked autoregressive flows (MADE layers, one pass to evaluate, d to sample);
//! - [`flow`]: the coupling flow — RealNVP or a neural spline flow, unconditional or conditional
//!   (log p(x) and log p(x | c), sampling, maximum-likelihood loss on target-less rows, typed
//!   config and checkpoints);
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

pub mod actnorm;
pub mod boltzmann;
pub mod coupling;
pub mod datasets;
pub mod flow;
pub mod gan;
pub mod lu;
pub mod maf;
pub mod permutation;
pub mod rbm;
pub mod spline;
mod traced;
pub mod vae;
