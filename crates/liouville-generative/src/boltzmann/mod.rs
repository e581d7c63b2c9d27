//! Boltzmann generators (Noé, Olsson, Köhler & Wu 2019, *Science* 365, eaaw1147; bgflow): a
//! normalizing flow x = f⁻¹(z), z ~ 𝒩(0, I), trained to sample a Boltzmann density
//! p(x) = e^{−u(x)} / Z known only through its energy u, then reweighted to be exact.
//!
//! Two objectives, alone or mixed (Noé et al. eq. 9–12):
//!
//! - **reverse KL** ("training by energy"), on latents z:
//!   KL(q‖p) − ln Z = E_z[βu(f⁻¹(z)) + log 𝒩(z) − log|det ∂f⁻¹/∂z|], which needs no samples of p
//!   and is minimal, at β = 1, at −ln Z;
//! - **maximum likelihood** ("training by example"), on samples x of p (for example from
//!   [`mcmc::metropolis`]): E_x[−log q(x)].
//!
//! [`draw`] returns flow samples with their importance weights w = e^{−u}/q
//! ([`importance::ImportanceSample`]): ln Z, the effective sample size, and unbiased
//! (self-normalised) observables follow. [`train`] runs the loop, with the temperature annealing
//! of normflows' examples (β rising from a small value to 1).
//!
//! - [`target`]: energies (bgflow's double well, normflows' two modes, Hamiltonians at a
//!   temperature) and their traced form;
//! - [`mcmc`]: random-walk Metropolis reference samples;
//! - [`importance`]: weights, ln Z, ESS, reweighted observables;
//! - [`train`]: the training loop.

pub mod importance;
pub mod mcmc;
pub mod target;
pub mod train;

use liouville_tensor::bijection::Bijection;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::shapes::Matrix;
use liouville_tensor::tape::Threaded;
use liouville_tensor::train::Loss;
use liouville_tensor::{Real, TensorError, host};

use crate::flow::{standard_normal_log_density, standard_normal_log_prob, standard_normal_sample};
use importance::ImportanceSample;
use target::{TargetEnergy, host_rows, traced_energy};

/// One batch of a Boltzmann generator's loss: latents for the reverse KL, samples of p for the
/// likelihood, either or both.
#[derive(Debug, Clone)]
pub struct BoltzmannBatch<E: Real, D: Device<E>> {
    /// z ~ 𝒩(0, I), `[batch, n]`.
    pub latents: Option<Matrix<E, D>>,
    /// x ~ p, `[batch, n]`.
    pub samples: Option<Matrix<E, D>>,
}

/// w_KL · E_z[βu(f⁻¹(z)) + log 𝒩(z) − log|det ∂f⁻¹/∂z|] + w_ML · E_x[−log q(x)], in nats.
///
/// A term whose weight is non-zero needs its part of the batch (a typed error otherwise); a term
/// with weight zero is skipped.
#[derive(Clone, Copy)]
pub struct BoltzmannLoss<'a> {
    /// The target energy u.
    pub target: &'a dyn TargetEnergy,
    /// Inverse temperature β of the reverse-KL term (1 for the target itself).
    pub beta: f64,
    /// w_KL.
    pub reverse_kl: f64,
    /// w_ML.
    pub likelihood: f64,
}

impl<E: Real, D: Device<E>, F: Bijection<E, D>> Loss<E, D, F, BoltzmannBatch<E, D>> for BoltzmannLoss<'_> {
    fn loss<T: Tape<E, D> + Merge<T>>(
        &self,
        flow: &F,
        batch: &BoltzmannBatch<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        if self.target.dim() != flow.dim() {
            return Err(TensorError::ShapeMismatch(format!(
                "a target energy of dimension {} for a flow of dimension {}",
                self.target.dim(),
                flow.dim()
            )));
        }
        let mut tp = Threaded::new(tape);
        let mut total: Option<Tensor<(), E, D>> = None;
        let mut add = |tp: &mut Threaded<T>, term: Tensor<(), E, D>| {
            total = Some(match total.take() {
                None => term,
                Some(acc) => tp.step(|t| acc.put_tape(t) + term.retaped::<T>()),
            });
        };
        if self.reverse_kl != 0.0 {
            let z = batch.latents.as_ref().ok_or_else(|| {
                TensorError::InvalidConfig(format!("reverse-KL weight {} without latents", self.reverse_kl))
            })?;
            let (x, log_det_inverse) = flow.inverse(&mut tp, z)?;
            let (energy, _) = traced_energy(&mut tp, &x, self.target, self.beta)?;
            let base = standard_normal_log_density(&mut Threaded::new(NoneTape), z);
            let w = E::of(self.reverse_kl);
            let kl = tp.step(|t| ((energy.put_tape(t) - log_det_inverse.retaped::<T>()) + base).mean() * w);
            add(&mut tp, kl);
        }
        if self.likelihood != 0.0 {
            let x = batch.samples.as_ref().ok_or_else(|| {
                TensorError::InvalidConfig(format!("likelihood weight {} without samples", self.likelihood))
            })?;
            let lp = standard_normal_log_prob(flow, &mut tp, x)?;
            let w = E::of(-self.likelihood);
            let ml = tp.step(|t| lp.put_tape(t).mean() * w);
            add(&mut tp, ml);
        }
        let total = total.ok_or_else(|| {
            TensorError::InvalidConfig("a Boltzmann loss with both weights zero has nothing to train".into())
        })?;
        Ok(tp.finish(total))
    }
}

/// `rows` flow samples from random stream (`seed`, `stream`) with their importance weights
/// against `target`, on the host in f64.
pub fn draw<E: Real, D: Device<E>, F: Bijection<E, D>>(
    flow: &F,
    target: &dyn TargetEnergy,
    device: &D,
    rows: usize,
    seed: u64,
    stream: u64,
) -> Result<ImportanceSample, TensorError> {
    if target.dim() != flow.dim() {
        return Err(TensorError::ShapeMismatch(format!(
            "a target energy of dimension {} for a flow of dimension {}",
            target.dim(),
            flow.dim()
        )));
    }
    let (x, log_q) = standard_normal_sample(flow, device, rows, seed, stream)?;
    let log_q = ndarray::Array1::from(host::values(&log_q));
    Ok(ImportanceSample::new(target, host_rows(&x), log_q.view()))
}
