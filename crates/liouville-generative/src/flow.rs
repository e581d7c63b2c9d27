//! Normalizing flows (Rezende & Mohamed 2015; Papamakarios et al. 2021): an invertible f from data
//! x to a latent z with a standard normal base, so that by the change of variables
//!
//! log p(x) = log 𝒩(f(x); 0, I) + log|det ∂f/∂x|.
//!
//! [`RealNvp`] chains affine couplings whose conditioning halves alternate (Dinh et al. 2017);
//! [`NegativeLogLikelihood`] trains it by maximum likelihood on target-less rows through tensor's
//! ordinary loop; [`RealNvp::sample`] draws z and inverts.

use liouville_base::random::Rng;
use liouville_tensor::bijection::{Bijection, Transformed};
use liouville_tensor::config::Configured;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::module::{Module, ParamMut, ParamRef, prefixed};
use liouville_tensor::shapes::{Matrix, Vector};
use liouville_tensor::tape::Threaded;
use liouville_tensor::train::Loss;
use liouville_tensor::{Real, TensorError, host};
use serde::{Deserialize, Serialize};

use crate::coupling::AffineCoupling;

/// ln √(2π).
const HALF_LN_TWO_PI: f64 = 0.918_938_533_204_672_7;

/// Architecture of a [`RealNvp`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RealNvpConfig {
    /// Data dimension (≥ 2).
    pub dim: usize,
    /// Affine couplings.
    pub couplings: usize,
    /// Hidden widths of every conditioner.
    pub hidden: Vec<usize>,
    /// Soft clamp c of the log-scales.
    pub clamp: f64,
}

/// A RealNVP flow: affine couplings with alternating halves, standard normal base.
#[derive(Debug, Clone)]
pub struct RealNvp<E: Real, D: Device<E>> {
    config: RealNvpConfig,
    couplings: Vec<AffineCoupling<E, D>>,
}

impl<E: Real, D: Device<E>> RealNvp<E, D> {
    /// The couplings, mutably (for tests that move a flow away from the identity).
    pub fn couplings_mut(&mut self) -> &mut [AffineCoupling<E, D>] {
        &mut self.couplings
    }

    /// log p(x) of every row, `[batch]`, recorded on `tp`.
    pub fn log_prob<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
    ) -> Result<Vector<E, D>, TensorError> {
        let (z, log_det) = self.forward(tp, x)?;
        let n = E::of(self.config.dim as f64 * HALF_LN_TWO_PI);
        let base = tp.step(|t| (z.put_tape(t).square() * E::of(-0.5)).sum::<(usize,), Axis<1>>() - n);
        Ok(tp.step(|t| base.put_tape(t) + log_det.retaped::<T>()))
    }

    /// `rows` samples x = f⁻¹(z), z ~ 𝒩(0, I) from random stream (`seed`, `stream`), with their
    /// log p(x).
    pub fn sample(&self, device: &D, rows: usize, seed: u64, stream: u64) -> Result<Transformed<E, D>, TensorError> {
        let mut rng = Rng::stream(seed, stream);
        let n = self.config.dim;
        let z = host::matrix(device, (0..rows * n).map(|_| rng.normal()), rows, n);
        let mut tp = Threaded::new(NoneTape);
        let (x, log_det_inverse) = self.inverse(&mut tp, &z)?;
        let base: Vector<E, D> =
            (z.square() * E::of(-0.5)).sum::<(usize,), Axis<1>>() - E::of(n as f64 * HALF_LN_TWO_PI);
        // log p(x) = log 𝒩(z) − log|det ∂x/∂z|.
        Ok((x, base - log_det_inverse))
    }
}

impl<E: Real, D: Device<E>> Bijection<E, D> for RealNvp<E, D> {
    fn dim(&self) -> usize {
        self.config.dim
    }
    fn forward<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
    ) -> Result<Transformed<E, D>, TensorError> {
        let mut y = x.clone();
        let mut total: Option<Vector<E, D>> = None;
        for c in &self.couplings {
            let (next, ld) = c.forward(tp, &y)?;
            y = next;
            total = Some(match total {
                None => ld,
                Some(acc) => tp.step(|t| acc.put_tape(t) + ld.retaped::<T>()),
            });
        }
        Ok((y, total.expect("at least one coupling")))
    }
    fn inverse<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        z: &Matrix<E, D>,
    ) -> Result<Transformed<E, D>, TensorError> {
        let mut x = z.clone();
        let mut total: Option<Vector<E, D>> = None;
        for c in self.couplings.iter().rev() {
            let (next, ld) = c.inverse(tp, &x)?;
            x = next;
            total = Some(match total {
                None => ld,
                Some(acc) => tp.step(|t| acc.put_tape(t) + ld.retaped::<T>()),
            });
        }
        Ok((x, total.expect("at least one coupling")))
    }
}

impl<E: Real, D: Device<E>> Configured<E, D> for RealNvp<E, D> {
    const KIND: &'static str = "realnvp";
    type Config = RealNvpConfig;
    fn config(&self) -> RealNvpConfig {
        self.config.clone()
    }
    fn from_config(c: &RealNvpConfig, device: &D, seed: u64) -> Result<Self, TensorError> {
        if c.couplings == 0 {
            return Err(TensorError::InvalidConfig("a flow needs at least one coupling".into()));
        }
        let couplings = (0..c.couplings)
            .map(|k| {
                AffineCoupling::new(
                    device,
                    c.dim,
                    &c.hidden,
                    k % 2 == 0,
                    c.clamp,
                    seed.wrapping_add(k as u64),
                )
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            config: c.clone(),
            couplings,
        })
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for RealNvp<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        self.couplings
            .iter()
            .enumerate()
            .flat_map(|(k, c)| prefixed(&format!("couplings.{k}"), c.parameters()))
            .collect()
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        self.couplings.iter_mut().flat_map(|c| c.parameters_mut()).collect()
    }
}

/// Maximum likelihood: the mean of −log p(x) over a batch of rows, in nats.
pub struct NegativeLogLikelihood;

impl<E: Real, D: Device<E>> Loss<E, D, RealNvp<E, D>, Matrix<E, D>> for NegativeLogLikelihood {
    fn loss<T: Tape<E, D> + Merge<T>>(
        &self,
        flow: &RealNvp<E, D>,
        x: &Matrix<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        let mut tp = Threaded::new(tape);
        let lp = flow.log_prob(&mut tp, x)?;
        let l = tp.step(|t| lp.put_tape(t).mean().negate());
        Ok(tp.finish(l))
    }
}
