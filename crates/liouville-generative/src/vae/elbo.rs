//! The evidence lower bound in nats and its pieces.
//!
//! For one row, with q = N(μ, diag σ²) and the prior N(0, I):
//!
//! - ELBO = E_q[ln p(y | z)] − KL(q ‖ p), KL = ½ Σₗ (μₗ² + σₗ² − 1 − ln σₗ²) (Kingma & Welling
//!   2014, appendix B), one term per latent: a latent the decoder ignores has its KL driven to 0
//!   (it "collapses to the prior");
//! - the β-VAE loss (Higgins et al. 2017) E_q[−ln p(y | z)] + β KL, with one reparameterised
//!   sample z = μ + σ ⊙ ε per row ([`NegativeElbo`]);
//! - the importance-weighted bound (Burda et al. 2016) ln (1/k) Σᵢ p(y | zᵢ) p(zᵢ) / q(zᵢ),
//!   zᵢ ~ q, which is ≥ the ELBO and tends to ln p(y) as k → ∞ ([`evaluate`]).

use liouville_base::random::Rng;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::shapes::Matrix;
use liouville_tensor::train::{Data, Loss};
use liouville_tensor::{Real, TensorError, host};

use super::{Likelihood, Vae, VaeBatch, VaeData};
use crate::traced::softplus;

const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// β-VAE loss: the batch mean of E_q[−ln p(y | z)] + β KL(q(z | x) ‖ N(0, I)) with one
/// reparameterised sample per row (β = 1: the negative ELBO in nats).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NegativeElbo {
    /// Weight of the KL term.
    pub beta: f64,
}

/// ε ~ N(0, I) `[rows, latent]` of a batch's noise stream.
fn noise<E: Real, D: Device<E>>(device: &D, rows: usize, latent: usize, (seed, stream): (u64, u64)) -> Matrix<E, D> {
    let mut rng = Rng::stream(seed, stream);
    host::matrix(device, (0..rows * latent).map(|_| rng.normal()), rows, latent)
}

impl<E: Real, D: Device<E>> Loss<E, D, Vae<E, D>, VaeBatch<E, D>> for NegativeElbo {
    fn loss<T: Tape<E, D> + Merge<T>>(
        &self,
        vae: &Vae<E, D>,
        b: &VaeBatch<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        let rows = b.targets.shape().0;
        let eps = noise::<E, D>(vae.device(), rows, vae.latent_dim(), b.noise);
        let (mean, log_var) = vae.posterior(&b.encoder_input, tape)?;
        let (mean, tape) = mean.split_tape();
        let (log_var, lv_tape) = log_var.split_tape();
        // z = μ + exp(½ ln σ²) ⊙ ε.
        let sigma = (log_var.clone().put_tape(lv_tape) * E::of(0.5)).exp();
        let z = sigma * eps + mean.clone().put_tape(tape);
        let out = vae.decode(z, b.decoder_side.as_ref())?;
        let reconstruction = match vae.likelihood() {
            Likelihood::Gaussian { std } => {
                let d = b.targets.shape().1 as f64;
                let sq = (out - b.targets.clone()).square().sum::<(usize,), Axis<1>>();
                sq * E::of(0.5 / (std * std)) + E::of(0.5 * d * (LN_2PI + 2.0 * std.ln()))
            }
            Likelihood::Bernoulli => {
                let (logits, tape) = out.split_tape();
                let sp = softplus(logits.clone().put_tape(tape));
                (sp - logits.retaped::<T>() * b.targets.clone()).sum::<(usize,), Axis<1>>()
            }
        };
        let kl = (mean.retaped::<T>().square() + log_var.retaped::<T>().exp() - log_var.retaped::<T>() + E::of(-1.0))
            .sum::<(usize,), Axis<1>>()
            * E::of(0.5 * self.beta);
        Ok((reconstruction + kl).mean())
    }
}

/// ln p(y | decoder output) of one row.
pub fn log_likelihood(likelihood: Likelihood, y: &[f64], out: &[f64]) -> f64 {
    match likelihood {
        Likelihood::Gaussian { std } => {
            let sq: f64 = y.iter().zip(out).map(|(a, b)| (a - b) * (a - b)).sum();
            -0.5 * sq / (std * std) - 0.5 * y.len() as f64 * (LN_2PI + 2.0 * std.ln())
        }
        Likelihood::Bernoulli => y
            .iter()
            .zip(out)
            .map(|(&t, &l)| t * l - (l.max(0.0) + (-l.abs()).exp().ln_1p()))
            .sum(),
    }
}

/// A VAE's bounds and diagnostics on a data set, per row, in nats.
#[derive(Debug, Clone, PartialEq)]
pub struct VaeEvaluation {
    /// Rows evaluated.
    pub rows: usize,
    /// Samples zᵢ per row.
    pub samples: usize,
    /// ELBO = E_q[ln p(y | z)] − KL (β = 1), the expectation over the samples.
    pub elbo: f64,
    /// E_q[−ln p(y | z)].
    pub reconstruction: f64,
    /// KL(q ‖ N(0, I)), closed form.
    pub kl: f64,
    /// KL per latent dimension (sums to `kl`): ≈ 0 for a latent collapsed to the prior.
    pub kl_per_latent: Vec<f64>,
    /// The importance-weighted bound with `samples` samples (≥ `elbo` in expectation).
    pub iwae: f64,
    /// RMS error of the deterministic prediction (decoder mean at z = μ) against the targets.
    pub rms_error: f64,
}

/// Rows evaluated per chunk (times `samples` decoder rows).
const CHUNK_DECODER_ROWS: usize = 1 << 15;

/// Evaluates `vae` on every row of `data` with `samples` latents per row drawn from stream
/// `seed` (deterministic for a seed, independent of the data's training noise).
pub fn evaluate<E: Real, D: Device<E>>(
    vae: &Vae<E, D>,
    data: &VaeData,
    samples: usize,
    seed: u64,
) -> Result<VaeEvaluation, TensorError> {
    data.check(&vae.config)?;
    if samples == 0 {
        return Err(TensorError::InvalidConfig(
            "a VAE evaluation needs ≥ 1 sample per row".into(),
        ));
    }
    let dev = vae.device().clone();
    let (n, l, lik) = (data.len(), vae.latent_dim(), vae.likelihood());
    let side_width = vae.config.decoder_side();
    let t = data.targets();
    let chunk = (CHUNK_DECODER_ROWS / samples).max(1);
    let mut rng = Rng::stream(seed, 0x7AE5);
    let (mut elbo, mut rec, mut iwae, mut sq, mut kl) = (0.0, 0.0, 0.0, 0.0, vec![0.0; l]);
    for start in (0..n).step_by(chunk) {
        let idx: Vec<usize> = (start..(start + chunk).min(n)).collect();
        let batch = data.batch::<E, D>(&dev, &idx)?;
        let (mean, log_var) = vae.posterior(&batch.encoder_input, NoneTape)?;
        let (mu, lv) = (host::values(&mean), host::values(&log_var));
        let m = idx.len();
        // The deterministic prediction at z = μ.
        let pred = vae.decode(mean, batch.decoder_side.as_ref())?;
        let pred = vae.output_mean(host::values(&pred));
        let w = t.width;
        for (r, &i) in idx.iter().enumerate() {
            let y = &t.values[i * w..(i + 1) * w];
            sq += y
                .iter()
                .zip(&pred[r * w..(r + 1) * w])
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>();
            for k in 0..l {
                let (u, v) = (mu[r * l + k], lv[r * l + k]);
                kl[k] += 0.5 * (u * u + v.exp() - 1.0 - v);
            }
        }
        // `samples` latents per row: z = μ + σε, with ln p(z) − ln q(z | x) alongside.
        let mut z = Vec::with_capacity(m * samples * l);
        let mut log_prior_over_q = Vec::with_capacity(m * samples);
        let mut side = Vec::with_capacity(m * samples * side_width);
        for (r, &i) in idx.iter().enumerate() {
            let s = data.side_row(i);
            for _ in 0..samples {
                let mut lw = 0.0;
                for k in 0..l {
                    let (u, v) = (mu[r * l + k], lv[r * l + k]);
                    let e = rng.normal();
                    let zk = u + (0.5 * v).exp() * e;
                    z.push(zk);
                    // ln N(z; 0, 1) − ln N(z; μ, σ²) = −½z² + ½ε² + ½ ln σ².
                    lw += -0.5 * zk * zk + 0.5 * e * e + 0.5 * v;
                }
                log_prior_over_q.push(lw);
                side.extend_from_slice(&s);
            }
        }
        let side = (side_width > 0).then(|| host::matrix(&dev, side, m * samples, side_width));
        let out = host::values(&vae.decode(host::matrix(&dev, z, m * samples, l), side.as_ref())?);
        for (r, &i) in idx.iter().enumerate() {
            let y = &t.values[i * w..(i + 1) * w];
            let log_w: Vec<f64> = (0..samples)
                .map(|j| {
                    let o = (r * samples + j) * w;
                    let ll = log_likelihood(lik, y, &out[o..o + w]);
                    rec -= ll / samples as f64;
                    ll + log_prior_over_q[r * samples + j]
                })
                .collect();
            let top = log_w.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            iwae += top + (log_w.iter().map(|v| (v - top).exp()).sum::<f64>() / samples as f64).ln();
        }
    }
    let nf = n as f64;
    let kl_per_latent: Vec<f64> = kl.iter().map(|k| k / nf).collect();
    let kl_total: f64 = kl_per_latent.iter().sum();
    let reconstruction = rec / nf;
    elbo += -reconstruction - kl_total;
    let result = VaeEvaluation {
        rows: n,
        samples,
        elbo,
        reconstruction,
        kl: kl_total,
        kl_per_latent,
        iwae: iwae / nf,
        rms_error: (sq / (nf * t.width as f64)).sqrt(),
    };
    if !(result.elbo.is_finite() && result.iwae.is_finite()) {
        return Err(TensorError::NonFinite {
            what: "VAE evaluation",
            step: 0,
        });
    }
    Ok(result)
}
