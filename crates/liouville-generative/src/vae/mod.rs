//! Variational autoencoders (Kingma & Welling 2014): a Gaussian encoder q(z | x, c) =
//! N(μ(x, c), diag σ²(x, c)), the reparameterised latent z = μ + σ ⊙ ε with ε ~ N(0, I), and a
//! decoder p(y | z, c, q) that is Gaussian (fixed standard deviation) or Bernoulli (logits).
//!
//! One model covers the three variants a user of the peers looks for:
//!
//! - the **β-VAE** (Higgins et al. 2017): y = x, loss E_q[−ln p(x | z)] + β KL(q ‖ N(0, I));
//! - the **conditional VAE** (Sohn et al. 2015): a condition c is given to encoder and decoder;
//! - **SciNet** (Iten et al. 2020): the encoder reads an observation x, the decoder answers a
//!   question q (a time) with y (the position then); see [`scinet`].
//!
//! [`elbo`] holds the loss (traced: every parameter gradient comes from dfdx, checked against
//! finite differences in `tests/vae.rs`), the ELBO in nats, its importance-weighted bound (IWAE,
//! Burda et al. 2016) and the KL per latent that tells used latents from collapsed ones.
//! Training is tensor's loop ([`liouville_tensor::train::train`]) on [`VaeData`].

pub mod data;
pub mod elbo;
pub mod scinet;

use liouville_base::random::Rng;
use liouville_tensor::columns;
use liouville_tensor::config::Configured;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::module::{Module, ParamMut, ParamRef, prefixed};
use liouville_tensor::shapes::Matrix;
use liouville_tensor::train::{TrainConfig, TrainReport};
use liouville_tensor::{Activation, Init, Mlp, MlpConfig, Real, TensorError, host};
use serde::{Deserialize, Serialize};

pub use data::{VaeBatch, VaeData};
pub use elbo::{NegativeElbo, VaeEvaluation, evaluate};

/// The decoder's distribution p(y | z, …).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Likelihood {
    /// N(y; decoder output, std² I): −ln p = ‖y − ŷ‖²/(2 std²) + (d/2) ln(2π std²).
    Gaussian {
        /// The fixed observation noise.
        std: f64,
    },
    /// Bernoulli with the decoder output as logits ℓ: −ln p = Σ softplus(ℓ) − yℓ, y ∈ {0, 1}.
    Bernoulli,
}

/// Architecture of a [`Vae`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VaeConfig {
    /// Width of x, what the encoder reads.
    pub input_dim: usize,
    /// Width of the condition c given to encoder and decoder (0: none).
    pub condition_dim: usize,
    /// Width of the question given to the decoder only (0: none).
    pub question_dim: usize,
    /// Width of y, what the decoder predicts.
    pub output_dim: usize,
    /// Latent dimension.
    pub latent_dim: usize,
    /// Hidden widths of the encoder.
    pub encoder_hidden: Vec<usize>,
    /// Hidden widths of the decoder.
    pub decoder_hidden: Vec<usize>,
    /// Hidden activation of both.
    pub activation: Activation,
    /// The decoder's distribution.
    pub likelihood: Likelihood,
}

impl VaeConfig {
    /// An autoencoder of `dim`-wide rows (y = x) with the same hidden widths on both sides.
    pub fn autoencoder(dim: usize, latent_dim: usize, hidden: &[usize], likelihood: Likelihood) -> Self {
        Self {
            input_dim: dim,
            condition_dim: 0,
            question_dim: 0,
            output_dim: dim,
            latent_dim,
            encoder_hidden: hidden.to_vec(),
            decoder_hidden: hidden.to_vec(),
            activation: Activation::Elu,
            likelihood,
        }
    }
    /// A conditional autoencoder: rows of width `dim` given conditions of width `condition_dim`.
    pub fn conditional(
        dim: usize,
        condition_dim: usize,
        latent_dim: usize,
        hidden: &[usize],
        likelihood: Likelihood,
    ) -> Self {
        Self {
            condition_dim,
            ..Self::autoencoder(dim, latent_dim, hidden, likelihood)
        }
    }
    /// Width of the encoder's input row [x, c].
    pub fn encoder_input(&self) -> usize {
        self.input_dim + self.condition_dim
    }
    /// Width of the decoder's side input [c, question] that follows z.
    pub fn decoder_side(&self) -> usize {
        self.condition_dim + self.question_dim
    }
    fn validate(&self) -> Result<(), TensorError> {
        if self.input_dim == 0 || self.output_dim == 0 || self.latent_dim == 0 {
            return Err(TensorError::InvalidConfig(format!(
                "a VAE needs input, output and latent widths ≥ 1, got {}, {} and {}",
                self.input_dim, self.output_dim, self.latent_dim
            )));
        }
        if let Likelihood::Gaussian { std } = self.likelihood
            && !(std.is_finite() && std > 0.0)
        {
            return Err(TensorError::InvalidConfig(format!(
                "the Gaussian likelihood's std must be finite and > 0, got {std}"
            )));
        }
        Ok(())
    }
}

/// (μ, ln σ²) of a diagonal Gaussian, `[batch, latent]` each.
pub type Gaussian<E, D, T> = (Matrix<E, D, T>, Matrix<E, D, T>);

/// An encoder q(z | x, c) and a decoder p(y | z, c, question).
#[derive(Debug, Clone)]
pub struct Vae<E: Real, D: Device<E>> {
    config: VaeConfig,
    /// `[x, c] → [μ, ln σ²]` (2 · latent outputs).
    pub encoder: Mlp<E, D>,
    /// `[z, c, question] → ŷ` (means or logits).
    pub decoder: Mlp<E, D>,
}

impl<E: Real, D: Device<E>> Vae<E, D> {
    /// Latent dimension.
    pub fn latent_dim(&self) -> usize {
        self.config.latent_dim
    }
    /// The likelihood.
    pub fn likelihood(&self) -> Likelihood {
        self.config.likelihood
    }
    /// The device the weights live on.
    pub fn device(&self) -> &D {
        self.encoder.device()
    }

    /// μ and ln σ² `[batch, latent]` of q(z | x, c) for the encoder rows `[x, c]`: the encoder's
    /// ops ride on μ's tape, ln σ²'s own tape starts empty (merge both into one loss).
    pub fn posterior<T: Tape<E, D> + Merge<T>>(
        &self,
        encoder_input: &Matrix<E, D>,
        tape: T,
    ) -> Result<Gaussian<E, D, T>, TensorError> {
        let l = self.config.latent_dim;
        let dev = self.device().clone();
        let (h, tape) = self.encoder.forward(encoder_input, tape)?.split_tape();
        let mean = h.clone().put_tape(tape).matmul(columns::select(&dev, 2 * l, 0, l));
        let (mean, tape) = mean.split_tape();
        let log_var = h.put_tape(tape).matmul(columns::select(&dev, 2 * l, l, l));
        let (log_var, tape) = log_var.split_tape();
        Ok((mean.put_tape(tape), log_var.retaped::<T>()))
    }

    /// Decoder outputs (Gaussian means or Bernoulli logits) for latents `z` (traced) and the
    /// side rows `[c, question]` (`None` when the config has neither).
    pub fn decode<T: Tape<E, D> + Merge<T>>(
        &self,
        z: Matrix<E, D, T>,
        side: Option<&Matrix<E, D>>,
    ) -> Result<Matrix<E, D, T>, TensorError> {
        let (l, s) = (self.config.latent_dim, self.config.decoder_side());
        let rows = z.shape().0;
        let input = match (s, side) {
            (0, _) => z,
            (s, Some(side)) if side.shape() == &(rows, s) => {
                let dev = self.device().clone();
                // [z, side] = z·P + [0, side]: only z carries a gradient.
                let mut padded = vec![0.0; rows * (l + s)];
                for (r, row) in host::values(side).chunks(s).enumerate() {
                    padded[r * (l + s) + l..(r + 1) * (l + s)].copy_from_slice(row);
                }
                z.matmul(columns::place(&dev, l, l + s, 0)) + host::matrix(&dev, padded, rows, l + s)
            }
            (s, side) => {
                return Err(TensorError::ShapeMismatch(format!(
                    "the decoder expects {rows} side rows of width {s} (condition + question), got {:?}",
                    side.map(|m| *m.shape())
                )));
            }
        };
        let (input, tape) = input.split_tape();
        self.decoder.forward(&input, tape)
    }

    /// The decoder's mean output at the posterior mean z = μ(x, c), without a tape: the
    /// deterministic prediction (Gaussian means; Bernoulli probabilities).
    pub fn predict(&self, batch: &VaeBatch<E, D>) -> Result<Vec<f64>, TensorError> {
        let (mean, _) = self.posterior(&batch.encoder_input, NoneTape)?;
        let out = self.decode(mean, batch.decoder_side.as_ref())?;
        Ok(self.output_mean(host::values(&out)))
    }

    /// Decoder means for `rows` latents drawn from the prior N(0, I) (stream `seed`, `stream`),
    /// with side rows `[c, question]` when the config has them.
    pub fn sample(
        &self,
        rows: usize,
        side: Option<&Matrix<E, D>>,
        seed: u64,
        stream: u64,
    ) -> Result<Vec<f64>, TensorError> {
        let mut rng = Rng::stream(seed, stream);
        let l = self.config.latent_dim;
        let z = host::matrix(self.device(), (0..rows * l).map(|_| rng.normal()), rows, l);
        let out = self.decode(z, side)?;
        Ok(self.output_mean(host::values(&out)))
    }

    fn output_mean(&self, out: Vec<f64>) -> Vec<f64> {
        match self.config.likelihood {
            Likelihood::Gaussian { .. } => out,
            Likelihood::Bernoulli => out.into_iter().map(|l| 1.0 / (1.0 + (-l).exp())).collect(),
        }
    }
}

/// Trains `vae` on `data` with tensor's loop ([`liouville_tensor::train::train`]: minibatches,
/// validation split, early stopping, checkpoints, a stop on non-finite losses) on the β-VAE loss,
/// after checking the data's widths (and 0/1 targets for a Bernoulli decoder) and β ≥ 0.
pub fn train<E: Real, D: Device<E>>(
    vae: &mut Vae<E, D>,
    data: &VaeData,
    beta: f64,
    cfg: &TrainConfig,
) -> Result<TrainReport, TensorError> {
    data.check(&vae.config)?;
    if !(beta.is_finite() && beta >= 0.0) {
        return Err(TensorError::InvalidConfig(format!("β = {beta} must be finite and ≥ 0")));
    }
    liouville_tensor::train::train(vae, data, &NegativeElbo { beta }, cfg)
}

impl<E: Real, D: Device<E>> Configured<E, D> for Vae<E, D> {
    const KIND: &'static str = "vae";
    type Config = VaeConfig;
    fn config(&self) -> VaeConfig {
        self.config.clone()
    }
    fn from_config(c: &VaeConfig, device: &D, seed: u64) -> Result<Self, TensorError> {
        c.validate()?;
        let encoder = MlpConfig::new(
            c.encoder_input(),
            &c.encoder_hidden,
            2 * c.latent_dim,
            c.activation,
            Init::Xavier,
        )
        .init(device, seed)?;
        let decoder = MlpConfig::new(
            c.latent_dim + c.decoder_side(),
            &c.decoder_hidden,
            c.output_dim,
            c.activation,
            Init::Xavier,
        )
        .init(device, seed.wrapping_add(0x7AE))?;
        Ok(Self {
            config: c.clone(),
            encoder,
            decoder,
        })
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for Vae<E, D> {
    /// `encoder.…` then `decoder.…`.
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        let mut p = prefixed("encoder", self.encoder.parameters());
        p.extend(prefixed("decoder", self.decoder.parameters()));
        p
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        let mut p = self.encoder.parameters_mut();
        p.extend(self.decoder.parameters_mut());
        p
    }
}
