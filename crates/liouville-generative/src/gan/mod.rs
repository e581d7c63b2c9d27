//! Generative adversarial networks: a generator G: z ↦ x from a standard normal latent and a
//! critic D: x ↦ ℝ, trained against each other (Goodfellow et al. 2014) with either
//!
//! - the **non-saturating** objective: D minimises E[softplus(−D(x))] + E[softplus(D(G(z)))],
//!   G minimises E[softplus(−D(G(z)))] (Goodfellow et al. §3); or
//! - **WGAN-GP** (Gulrajani et al. 2017, Algorithm 1): the critic minimises
//!   E[D(G(z))] − E[D(x)] + λ E[(‖∇ₓD(x̂)‖ − 1)²] on interpolates x̂ = εx + (1 − ε)G(z),
//!   ε ~ U[0, 1], the generator minimises −E[D(G(z))].
//!
//! The penalty uses tensor's exact input gradient ([`liouville_tensor::losses::gradient_penalty`],
//! checked against finite differences there). [`train`] runs k critic steps per generator step,
//! two optimiser states, typed checkpoints of both networks, and stops on a non-finite loss with
//! the last good checkpoint kept. [`metrics`] scores samples of a mixture by mode coverage.

pub mod metrics;
pub mod train;

use liouville_base::random::Rng;
use liouville_tensor::config::Configured;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::losses::gradient_penalty;
use liouville_tensor::module::{Module, ParamMut, ParamRef, prefixed};
use liouville_tensor::shapes::Matrix;
use liouville_tensor::train::Loss;
use liouville_tensor::{Activation, Init, Mlp, MlpConfig, Real, TensorError, host};

use crate::traced::softplus;
use serde::{Deserialize, Serialize};

/// Which game the two networks play.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Objective {
    /// Goodfellow et al.'s non-saturating GAN (a logistic discriminator).
    NonSaturating,
    /// WGAN-GP with penalty weight λ (Gulrajani et al.: 10; their toy script: 0.1).
    WassersteinGp {
        /// λ.
        penalty: f64,
    },
}

/// Architecture of a [`Gan`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GanConfig {
    /// Data dimension.
    pub data_dim: usize,
    /// Latent dimension.
    pub latent_dim: usize,
    /// Hidden widths of the generator.
    pub generator_hidden: Vec<usize>,
    /// Hidden widths of the critic.
    pub critic_hidden: Vec<usize>,
    /// Hidden activation of both (gan_toy.py: ReLU).
    pub activation: Activation,
    /// The objective.
    pub objective: Objective,
}

impl GanConfig {
    /// gan_toy.py's networks: 3 ReLU layers of `width` in both, a 2-D latent of the same size
    /// as the data.
    pub fn toy(data_dim: usize, width: usize, objective: Objective) -> Self {
        Self {
            data_dim,
            latent_dim: data_dim,
            generator_hidden: vec![width; 3],
            critic_hidden: vec![width; 3],
            activation: Activation::Relu,
            objective,
        }
    }
}

/// A generator and its critic.
#[derive(Debug, Clone)]
pub struct Gan<E: Real, D: Device<E>> {
    config: GanConfig,
    /// G: `[latent] → [data]`.
    pub generator: Mlp<E, D>,
    /// D: `[data] → [1]`.
    pub critic: Mlp<E, D>,
}

impl<E: Real, D: Device<E>> Gan<E, D> {
    /// The objective.
    pub fn objective(&self) -> Objective {
        self.config.objective
    }

    /// `rows` latent codes z ~ N(0, I) from stream (`seed`, `stream`).
    pub fn latent(&self, device: &D, rows: usize, seed: u64, stream: u64) -> Matrix<E, D> {
        let mut rng = Rng::stream(seed, stream);
        let n = self.config.latent_dim;
        host::matrix(device, (0..rows * n).map(|_| rng.normal()), rows, n)
    }

    /// `rows` samples G(z), without a tape.
    pub fn sample(&self, device: &D, rows: usize, seed: u64, stream: u64) -> Result<Matrix<E, D>, TensorError> {
        self.generator
            .forward(&self.latent(device, rows, seed, stream), NoneTape)
    }
}

impl<E: Real, D: Device<E>> Configured<E, D> for Gan<E, D> {
    const KIND: &'static str = "gan";
    type Config = GanConfig;
    fn config(&self) -> GanConfig {
        self.config.clone()
    }
    fn from_config(c: &GanConfig, device: &D, seed: u64) -> Result<Self, TensorError> {
        if c.data_dim == 0 || c.latent_dim == 0 {
            return Err(TensorError::InvalidConfig(format!(
                "a GAN needs data and latent dimensions ≥ 1, got {} and {}",
                c.data_dim, c.latent_dim
            )));
        }
        if let Objective::WassersteinGp { penalty } = c.objective
            && !(penalty.is_finite() && penalty >= 0.0)
        {
            return Err(TensorError::InvalidConfig(format!("gradient-penalty weight {penalty}")));
        }
        let generator = MlpConfig::new(
            c.latent_dim,
            &c.generator_hidden,
            c.data_dim,
            c.activation,
            Init::Xavier,
        )
        .init(device, seed)?;
        let critic = MlpConfig::new(c.data_dim, &c.critic_hidden, 1, c.activation, Init::Xavier)
            .init(device, seed.wrapping_add(0x6A4))?;
        Ok(Self {
            config: c.clone(),
            generator,
            critic,
        })
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for Gan<E, D> {
    /// `generator.…` then `critic.…`.
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        let mut p = prefixed("generator", self.generator.parameters());
        p.extend(prefixed("critic", self.critic.parameters()));
        p
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        let mut p = self.generator.parameters_mut();
        p.extend(self.critic.parameters_mut());
        p
    }
}

/// One critic step's inputs: real rows, generated rows and (for WGAN-GP) their interpolates.
#[derive(Debug, Clone)]
pub struct CriticBatch<E: Real, D: Device<E>> {
    /// Data rows x.
    pub real: Matrix<E, D>,
    /// Generated rows G(z), no tape.
    pub fake: Matrix<E, D>,
    /// x̂ = εx + (1 − ε)G(z), one ε per row.
    pub interpolates: Matrix<E, D>,
}

/// The critic's loss under `objective`.
pub struct CriticLoss(pub Objective);

impl<E: Real, D: Device<E>> Loss<E, D, Mlp<E, D>, CriticBatch<E, D>> for CriticLoss {
    fn loss<T: Tape<E, D> + Merge<T>>(
        &self,
        critic: &Mlp<E, D>,
        b: &CriticBatch<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        let rows = b.real.shape().0;
        let (real, tape) = critic.forward(&b.real, tape)?.split_tape();
        let (fake, tape) = critic.forward(&b.fake, tape)?.split_tape();
        let real = real.put_tape(tape).reshape_like(&(rows,));
        let (real, tape) = real.split_tape();
        let fake = fake.reshape_like(&(b.fake.shape().0,));
        match self.0 {
            Objective::NonSaturating => {
                // softplus(−D(x)) + softplus(D(G(z))), each a mean over its rows.
                let r = softplus(real.put_tape(tape).negate()).mean();
                let (r, tape) = r.split_tape();
                let f = softplus(fake.put_tape(tape)).mean();
                Ok(f + r.retaped::<T>())
            }
            Objective::WassersteinGp { penalty } => {
                let gp = gradient_penalty(critic, &b.interpolates, tape)?;
                let (gp, tape) = gp.split_tape();
                let w = fake.put_tape(tape).mean() - real.retaped::<T>().mean();
                Ok(w + gp.retaped::<T>() * E::of(penalty))
            }
        }
    }
}

/// The generator's loss against a fixed critic.
pub struct GeneratorLoss<'a, E: Real, D: Device<E>> {
    /// The critic, read only.
    pub critic: &'a Mlp<E, D>,
    /// The objective.
    pub objective: Objective,
}

impl<E: Real, D: Device<E>> Loss<E, D, Mlp<E, D>, Matrix<E, D>> for GeneratorLoss<'_, E, D> {
    fn loss<T: Tape<E, D> + Merge<T>>(
        &self,
        generator: &Mlp<E, D>,
        z: &Matrix<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        let (x, tape) = generator.forward(z, tape)?.split_tape();
        let d = self.critic.forward(&x, tape)?.reshape_like(&(z.shape().0,));
        Ok(match self.objective {
            Objective::NonSaturating => softplus(d.negate()).mean(),
            Objective::WassersteinGp { .. } => d.mean().negate(),
        })
    }
}
