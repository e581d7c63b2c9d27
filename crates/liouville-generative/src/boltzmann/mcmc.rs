//! Random-walk Metropolis sampling of a target density p ∝ e^{−u} (Metropolis et al. 1953): the
//! reference samples a Boltzmann generator is trained on by maximum likelihood, and the
//! baseline it is compared with.
//!
//! Each chain draws from its own seeded stream and chains run in parallel on rayon, so the
//! samples depend on the seed and the chain count only, never on the number of threads.

use liouville_base::random::Rng;
use liouville_tensor::TensorError;
use ndarray::{Array1, Array2, Axis};
use rayon::prelude::*;

use super::target::TargetEnergy;

/// Settings of [`metropolis`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetropolisConfig {
    /// Independent chains, each started from 𝒩(0, `start_scale`² I).
    pub chains: usize,
    /// Steps discarded at the start of each chain.
    pub burn_in: usize,
    /// Samples kept per chain.
    pub per_chain: usize,
    /// Steps between kept samples.
    pub spacing: usize,
    /// Standard deviation of the Gaussian proposal x′ = x + σξ.
    pub step: f64,
    /// Scale of the starting states.
    pub start_scale: f64,
    /// Seed of the chains' streams.
    pub seed: u64,
}

impl MetropolisConfig {
    /// `chains` chains of `per_chain` samples with a burn-in of 1,000 steps, 10 steps apart,
    /// proposal σ = 0.5, starts from 𝒩(0, I).
    pub fn new(chains: usize, per_chain: usize, seed: u64) -> Self {
        Self {
            chains,
            burn_in: 1000,
            per_chain,
            spacing: 10,
            step: 0.5,
            start_scale: 1.0,
            seed,
        }
    }
}

/// Samples and how often proposals were taken.
#[derive(Debug, Clone, PartialEq)]
pub struct MetropolisSamples {
    /// `[chains · per_chain, n]`, chain-major.
    pub samples: Array2<f64>,
    /// Accepted proposals over all proposals.
    pub acceptance: f64,
}

/// Runs `cfg.chains` random-walk Metropolis chains on `target`. Zero counts, a non-positive or
/// non-finite step, or a start where u is not finite are typed errors.
pub fn metropolis(target: &dyn TargetEnergy, cfg: &MetropolisConfig) -> Result<MetropolisSamples, TensorError> {
    if cfg.chains == 0 || cfg.per_chain == 0 || cfg.spacing == 0 {
        return Err(TensorError::InvalidConfig(format!(
            "Metropolis with {} chains, {} samples each, spacing {}: all must be at least 1",
            cfg.chains, cfg.per_chain, cfg.spacing
        )));
    }
    if !(cfg.step.is_finite() && cfg.step > 0.0 && cfg.start_scale.is_finite()) {
        return Err(TensorError::InvalidConfig(format!(
            "Metropolis proposal step {} and start scale {} must be finite, the step positive",
            cfg.step, cfg.start_scale
        )));
    }
    let n = target.dim();
    let chains: Vec<Result<(Array2<f64>, usize), TensorError>> = (0..cfg.chains)
        .into_par_iter()
        .map(|c| {
            let mut rng = Rng::stream(cfg.seed, c as u64);
            let mut x = Array2::from_shape_fn((1, n), |_| cfg.start_scale * rng.normal());
            let mut u = target.energy(x.view())[0];
            if !u.is_finite() {
                return Err(TensorError::NonFiniteInput(format!(
                    "the target energy is {u} at chain {c}'s start {x}"
                )));
            }
            let mut kept = Array2::zeros((cfg.per_chain, n));
            let mut accepted = 0;
            let mut proposal = x.clone();
            let total = cfg.burn_in + cfg.per_chain * cfg.spacing;
            for t in 1..=total {
                proposal.zip_mut_with(&x, |p, &xi| *p = xi + cfg.step * rng.normal());
                let u_new = target.energy(proposal.view())[0];
                // Accept with probability min(1, e^{−(u′ − u)}); a NaN energy is never accepted.
                if u_new <= u || rng.uniform() < (u - u_new).exp() {
                    std::mem::swap(&mut x, &mut proposal);
                    u = u_new;
                    accepted += 1;
                }
                if t > cfg.burn_in && (t - cfg.burn_in).is_multiple_of(cfg.spacing) {
                    kept.row_mut((t - cfg.burn_in) / cfg.spacing - 1).assign(&x.row(0));
                }
            }
            Ok((kept, accepted))
        })
        .collect();
    let mut parts = Vec::with_capacity(cfg.chains);
    let mut accepted = 0;
    for chain in chains {
        let (kept, a) = chain?;
        parts.push(kept);
        accepted += a;
    }
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    let samples = ndarray::concatenate(Axis(0), &views).expect("equal widths");
    let proposals = cfg.chains * (cfg.burn_in + cfg.per_chain * cfg.spacing);
    Ok(MetropolisSamples {
        samples,
        acceptance: accepted as f64 / proposals as f64,
    })
}

/// The mean of u over rows (a convenience for reports).
pub fn mean_energy(target: &dyn TargetEnergy, x: &Array2<f64>) -> f64 {
    let u: Array1<f64> = target.energy(x.view());
    u.mean().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boltzmann::target::DoubleWell;

    #[test]
    fn metropolis_reproduces_the_double_well() {
        // ⟨u⟩ = −2.921 and P(x > 0) = ½ (../shared/reference), within a few standard errors of
        // 200 chains × 200 samples (spacing 10: nearly independent within a well; wells are
        // crossed every few hundred steps at σ = 0.5, so P(x > 0) carries the chains' spread).
        let dw = DoubleWell::bgflow();
        let s = metropolis(&dw, &MetropolisConfig::new(200, 200, 3)).unwrap();
        assert!(s.acceptance > 0.3 && s.acceptance < 0.9, "{}", s.acceptance);
        let u = mean_energy(&dw, &s.samples);
        assert!((u - dw.mean_energy()).abs() < 0.05, "⟨u⟩ = {u}");
        let positive = s.samples.column(0).iter().filter(|&&x| x > 0.0).count() as f64 / s.samples.nrows() as f64;
        assert!((positive - 0.5).abs() < 0.05, "P(x > 0) = {positive}");
    }

    #[test]
    fn chains_do_not_depend_on_the_thread_count_and_bad_settings_are_refused() {
        let dw = DoubleWell::bgflow();
        let cfg = MetropolisConfig {
            burn_in: 10,
            ..MetropolisConfig::new(9, 5, 1)
        };
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let three = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let a = one.install(|| metropolis(&dw, &cfg)).unwrap();
        let b = three.install(|| metropolis(&dw, &cfg)).unwrap();
        assert_eq!(a, b);
        assert!(metropolis(&dw, &MetropolisConfig { step: 0.0, ..cfg }).is_err());
        assert!(metropolis(&dw, &MetropolisConfig { chains: 0, ..cfg }).is_err());
    }
}
