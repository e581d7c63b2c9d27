//! SciNet (Iten, Metger, Wilming, del Rio & Renner 2020, PRL 124, 010508): a β-VAE whose
//! encoder reads 50 samples of a damped oscillator x(t) = e^{−bt/2} cos(ωt), ω = √(k − b²/4),
//! and whose decoder, given the latent and a question time t′, answers x(t′). The physics a user
//! can check: of three latent neurons two are used and track the spring constant k and the
//! damping b, the third carries no information (its KL to the prior is ≈ 0).

use liouville_sim::systems::damped_oscillator::OscillatorSeries;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::train::{Data, Rows};
use liouville_tensor::{Activation, Real, TensorError, host};

use super::{Likelihood, Vae, VaeConfig, VaeData, VaeEvaluation, evaluate};

/// SciNet's network for `samples` observations: encoder 500–100, 3 latents, decoder 100–100,
/// ELU, a Gaussian answer of standard deviation `std`.
pub fn config(samples: usize, std: f64) -> VaeConfig {
    VaeConfig {
        input_dim: samples,
        condition_dim: 0,
        question_dim: 1,
        output_dim: 1,
        latent_dim: 3,
        encoder_hidden: vec![500, 100],
        decoder_hidden: vec![100, 100],
        activation: Activation::Elu,
        likelihood: Likelihood::Gaussian { std },
    }
}

/// The series as VAE data: observations in, question times to the decoder, answers out.
pub fn data(series: &OscillatorSeries, seed: u64) -> Result<VaeData, TensorError> {
    let n = series.observation_times.len();
    VaeData::new(Rows::new(series.observations.clone(), n)?, seed)
        .with_questions(Rows::new(series.question_times.clone(), 1)?)?
        .with_targets(Rows::new(series.answers.clone(), 1)?)
}

/// Pearson's r of two equally long samples (NaN when either is constant).
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len()) as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    sab / (saa * sbb).sqrt()
}

/// What one latent neuron does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatentNeuron {
    /// Mean KL of this latent to the prior, nats.
    pub kl: f64,
    /// Pearson r of its posterior mean with the spring constant k.
    pub stiffness_r: f64,
    /// Pearson r of its posterior mean with the damping b.
    pub damping_r: f64,
}

/// A trained SciNet judged by the physics.
#[derive(Debug, Clone, PartialEq)]
pub struct ScinetAnalysis {
    /// Bounds and the prediction RMS error on the series.
    pub evaluation: VaeEvaluation,
    /// One entry per latent neuron.
    pub latents: Vec<LatentNeuron>,
    /// The posterior means μ `[series, latent]`, for plots.
    pub latent_means: Vec<f64>,
}

impl ScinetAnalysis {
    /// Latents whose KL exceeds `threshold` nats (the used ones), most informative first.
    pub fn used(&self, threshold: f64) -> Vec<usize> {
        let mut u: Vec<usize> = (0..self.latents.len())
            .filter(|&k| self.latents[k].kl > threshold)
            .collect();
        u.sort_by(|&a, &b| self.latents[b].kl.total_cmp(&self.latents[a].kl));
        u
    }
}

/// Evaluates `vae` on `series` (`samples` latents per row for the bounds) and correlates each
/// latent's posterior mean with the series' k and b.
pub fn analyse<E: Real, D: Device<E>>(
    vae: &Vae<E, D>,
    series: &OscillatorSeries,
    samples: usize,
    seed: u64,
) -> Result<ScinetAnalysis, TensorError> {
    let data = data(series, seed)?;
    let evaluation = evaluate(vae, &data, samples, seed)?;
    let dev = vae.device().clone();
    let l = vae.latent_dim();
    let mut means = Vec::with_capacity(series.len() * l);
    let idx: Vec<usize> = (0..data.len()).collect();
    for chunk in idx.chunks(4096) {
        let b = data.batch::<E, D>(&dev, chunk)?;
        let (m, _) = vae.posterior(&b.encoder_input, NoneTape)?;
        means.extend(host::values(&m));
    }
    let latents = (0..l)
        .map(|k| {
            let column: Vec<f64> = means.iter().skip(k).step_by(l).copied().collect();
            LatentNeuron {
                kl: evaluation.kl_per_latent[k],
                stiffness_r: pearson(&column, &series.stiffness),
                damping_r: pearson(&column, &series.damping),
            }
        })
        .collect();
    Ok(ScinetAnalysis {
        evaluation,
        latents,
        latent_means: means,
    })
}

#[cfg(test)]
mod tests {
    use super::pearson;

    #[test]
    fn pearson_of_lines_and_noise() {
        let a: Vec<f64> = (0..50).map(|i| i as f64).collect();
        let up: Vec<f64> = a.iter().map(|x| 3.0 * x - 2.0).collect();
        let down: Vec<f64> = a.iter().map(|x| -0.5 * x + 7.0).collect();
        assert!((pearson(&a, &up) - 1.0).abs() < 1e-12);
        assert!((pearson(&a, &down) + 1.0).abs() < 1e-12);
        // x against x² on a symmetric range: uncorrelated.
        let sym: Vec<f64> = (-25..=25).map(|i| i as f64).collect();
        let sq: Vec<f64> = sym.iter().map(|x| x * x).collect();
        assert!(pearson(&sym, &sq).abs() < 1e-12);
    }
}
