//! The partition function Z = Σ_{v,h} e^{−E(v,h)}: exactly by enumeration for small RBMs, and
//! by annealed importance sampling (Salakhutdinov & Murray 2008) for any RBM.

use ndarray::{Array1, Array2, ArrayView1, Axis};
use rayon::prelude::*;

use super::RbmError;
use super::gibbs::{bernoulli_in_place, block_stream};
use super::moments::Moments;
use super::weights::{RbmWeights, VisibleUnits, sigmoid, softplus};

/// The largest layer exact enumeration will visit: 2²⁴ states.
pub const ENUMERATION_LIMIT: usize = 24;

/// States per enumerated chunk.
const CHUNK: usize = 4096;

/// ln Σ exp(xᵢ), stable.
pub fn log_sum_exp(x: impl IntoIterator<Item = f64>) -> f64 {
    let x: Vec<f64> = x.into_iter().collect();
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + x.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

/// Which layer to enumerate: the smaller one (visible on a tie).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    Visible,
    Hidden,
}

fn layer_to_enumerate(rbm: &RbmWeights) -> Result<(Layer, usize), RbmError> {
    // Gaussian visible units are integrated in closed form inside G(h): only h is enumerated.
    let (layer, units) = if rbm.hidden() < rbm.visible() || rbm.units == VisibleUnits::Gaussian {
        (Layer::Hidden, rbm.hidden())
    } else {
        (Layer::Visible, rbm.visible())
    };
    if units > ENUMERATION_LIMIT {
        return Err(RbmError::TooLargeToEnumerate {
            units,
            limit: ENUMERATION_LIMIT,
        });
    }
    Ok((layer, units))
}

/// States `start .. start + rows` of `units` binary units, unit i = bit i of the index.
fn states(start: usize, rows: usize, units: usize) -> Array2<f64> {
    Array2::from_shape_fn((rows, units), |(r, i)| (((start + r) >> i) & 1) as f64)
}

/// The chunks of all 2^units states, each with its unnormalised log-probability −F or −G.
fn for_each_chunk<T: Send>(
    rbm: &RbmWeights,
    layer: Layer,
    units: usize,
    f: impl Fn(Array2<f64>, Array1<f64>) -> T + Sync,
) -> Vec<T> {
    let total = 1usize << units;
    (0..total.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let s = states(c * CHUNK, CHUNK.min(total - c * CHUNK), units);
            let minus_f = match layer {
                Layer::Visible => -rbm.free_energy(s.view()),
                Layer::Hidden => -rbm.hidden_free_energy(s.view()),
            };
            f(s, minus_f)
        })
        .collect()
}

/// ln Z by enumerating the smaller layer: ln Σ_v e^{−F(v)} or ln Σ_h e^{−G(h)}.
pub fn exact_log_partition(rbm: &RbmWeights) -> Result<f64, RbmError> {
    let (layer, units) = layer_to_enumerate(rbm)?;
    let parts = for_each_chunk(rbm, layer, units, |_, lp| log_sum_exp(lp));
    Ok(log_sum_exp(parts))
}

/// The mean log-likelihood (nats per row) of the rows of `v`: mean(−F(v)) − ln Z.
pub fn exact_log_likelihood(rbm: &RbmWeights, v: ndarray::ArrayView2<f64>) -> Result<f64, RbmError> {
    rbm.check_visible(v, "data")?;
    let log_z = exact_log_partition(rbm)?;
    Ok(-rbm.free_energy(v).mean().unwrap_or(f64::NAN) - log_z)
}

/// ⟨v hᵀ⟩, ⟨v⟩, ⟨h⟩ under the model, exactly, by enumerating the smaller layer.
pub fn exact_model_moments(rbm: &RbmWeights) -> Result<Moments, RbmError> {
    let (layer, units) = layer_to_enumerate(rbm)?;
    let log_z = exact_log_partition(rbm)?;
    let parts = for_each_chunk(rbm, layer, units, |s, lp| {
        let p: Array1<f64> = lp.mapv(|x| (x - log_z).exp());
        match layer {
            Layer::Visible => Moments::of_visible(rbm, s.view(), Some(p.view())),
            Layer::Hidden => Moments::of_hidden(rbm, s.view(), p.view()),
        }
    });
    let mut total = Moments {
        vh: Array2::zeros((rbm.visible(), rbm.hidden())),
        v: Array1::zeros(rbm.visible()),
        h: Array1::zeros(rbm.hidden()),
    };
    for m in parts {
        total.vh += &m.vh;
        total.v += &m.v;
        total.h += &m.h;
    }
    Ok(total)
}

/// Settings of annealed importance sampling.
#[derive(Debug, Clone, PartialEq)]
pub struct AisConfig {
    /// Intermediate inverse temperatures β, spaced evenly on [0, 1].
    pub betas: usize,
    /// Independent annealing runs.
    pub runs: usize,
    /// Visible biases of the base-rate RBM p₀(v) ∝ e^{a₀ᵀv} (W = 0); the data's base rate
    /// ([`super::VisibleData::base_rate_bias`]) makes the estimate tighter, zeros work too.
    pub base_visible_bias: Vec<f64>,
    /// Seed of the runs' random streams.
    pub seed: u64,
}

/// An AIS estimate of ln Z.
#[derive(Debug, Clone, PartialEq)]
pub struct AisEstimate {
    /// ln Ẑ = ln Z₀ + ln mean(w).
    pub log_z: f64,
    /// Standard error of ln Ẑ (delta method: sd(w) / (mean(w) √runs)).
    pub standard_error: f64,
    /// ln(Ẑ − 3σ_Ẑ) and ln(Ẑ + 3σ_Ẑ), Salakhutdinov & Murray's interval (lower is −∞ when the
    /// weights are too spread for it).
    pub interval: (f64, f64),
    /// ln w of every run.
    pub log_weights: Vec<f64>,
}

/// ln p*_β(v) of the annealing path between the base rate (β = 0) and the RBM (β = 1):
///
/// p*_β(v) = e^{(1−β) a₀ᵀv + β aᵀv} Π_j (1 + e^{β (b_j + (vW)_j)}),
///
/// the visible marginal of the joint e^{(1−β) a₀ᵀv − β E(v,h)} (Salakhutdinov & Murray 2008,
/// eq. 14–15), so Z₀ = 2^{n_h} Π_i (1 + e^{a₀ᵢ}) and Z₁ = Z.
fn log_path_density(
    beta: f64,
    base: ArrayView1<f64>,
    rbm: &RbmWeights,
    v: ndarray::ArrayView2<f64>,
    hidden_input: &Array2<f64>,
) -> Array1<f64> {
    let bias = &base * (1.0 - beta) + &rbm.a * beta;
    v.dot(&bias) + hidden_input.mapv(|x| softplus(beta * x)).sum_axis(Axis(1))
}

/// Annealed importance sampling of ln Z (Neal 2001; Salakhutdinov & Murray 2008 §4): each run
/// draws v₁ from the base rate, then for k = 1 … K adds ln p*_{β_k}(v_k) − ln p*_{β_{k−1}}(v_k)
/// to its log-weight and moves v_k by one Gibbs step that leaves p_{β_k} invariant. Runs go in
/// blocks of [`super::gibbs::BLOCK`] on their own streams (thread-count independent).
pub fn annealed_log_partition(rbm: &RbmWeights, cfg: &AisConfig) -> Result<AisEstimate, RbmError> {
    if rbm.units == VisibleUnits::Gaussian {
        return Err(RbmError::InvalidConfig(
            "AIS is implemented for binary visible units; a Gaussian–binary RBM's ln Z is exact \
             (enumerating up to 24 hidden units)"
                .into(),
        ));
    }
    if cfg.betas < 1 || cfg.runs < 2 {
        return Err(RbmError::InvalidConfig(format!(
            "AIS needs at least 1 intermediate temperature and 2 runs, got {} and {}",
            cfg.betas, cfg.runs
        )));
    }
    if cfg.base_visible_bias.len() != rbm.visible() {
        return Err(RbmError::WidthMismatch {
            what: "AIS base visible bias",
            expected: rbm.visible(),
            found: cfg.base_visible_bias.len(),
        });
    }
    if let Some((column, &value)) = cfg.base_visible_bias.iter().enumerate().find(|(_, b)| !b.is_finite()) {
        return Err(RbmError::NonFinite { row: 0, column, value });
    }
    let base = Array1::from(cfg.base_visible_bias.clone());
    let nv = rbm.visible();
    let steps = cfg.betas + 1;
    let beta = |k: usize| k as f64 / steps as f64;
    let block = super::gibbs::BLOCK;
    let log_weights: Vec<f64> = (0..cfg.runs.div_ceil(block))
        .into_par_iter()
        .flat_map_iter(|blk| {
            let rows = block.min(cfg.runs - blk * block);
            let mut rng = block_stream(cfg.seed, 0xA15, blk);
            let p0 = base.mapv(sigmoid);
            let mut v = Array2::from_shape_fn((rows, nv), |(_, i)| p0[i]);
            bernoulli_in_place(v.view_mut(), &mut rng);
            let mut log_w = Array1::<f64>::zeros(rows);
            for k in 1..=steps {
                let (previous, current) = (beta(k - 1), beta(k));
                let input = rbm.hidden_input(v.view());
                log_w += &(log_path_density(current, base.view(), rbm, v.view(), &input)
                    - log_path_density(previous, base.view(), rbm, v.view(), &input));
                if k == steps {
                    break;
                }
                // Gibbs step at β_k: h ~ σ(β (b + vW)), v ~ σ((1−β) a₀ + β (a + hWᵀ)).
                let mut h = input.mapv(|x| sigmoid(current * x));
                bernoulli_in_place(h.view_mut(), &mut rng);
                let mut pv = (h.dot(&rbm.w.t()) + &rbm.a) * current + &base * (1.0 - current);
                pv.mapv_inplace(sigmoid);
                bernoulli_in_place(pv.view_mut(), &mut rng);
                v = pv;
            }
            log_w.to_vec()
        })
        .collect();
    let log_z0 = rbm.hidden() as f64 * std::f64::consts::LN_2 + base.iter().map(|&a| softplus(a)).sum::<f64>();
    let n = log_weights.len() as f64;
    let log_mean = log_sum_exp(log_weights.iter().copied()) - n.ln();
    // Relative spread of the weights, computed around their mean in log space.
    let rel: Vec<f64> = log_weights.iter().map(|lw| (lw - log_mean).exp()).collect();
    let rel_var = rel.iter().map(|r| (r - 1.0).powi(2)).sum::<f64>() / (n - 1.0);
    let rel_se = (rel_var / n).sqrt();
    let log_z = log_z0 + log_mean;
    Ok(AisEstimate {
        log_z,
        standard_error: rel_se,
        interval: (log_z + (1.0 - 3.0 * rel_se).ln(), log_z + (1.0 + 3.0 * rel_se).ln()),
        log_weights,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use liouville_base::random::Rng;

    fn random_rbm(nv: usize, nh: usize, scale: f64, seed: u64) -> RbmWeights {
        let mut rng = Rng::stream(seed, 0);
        RbmWeights::new(
            Array2::from_shape_fn((nv, nh), |_| scale * rng.normal()),
            Array1::from_shape_fn(nv, |_| rng.normal()),
            Array1::from_shape_fn(nh, |_| rng.normal()),
        )
        .unwrap()
    }

    /// ln Z straight from the definition, over every (v, h) pair.
    fn brute_force_log_z(rbm: &RbmWeights) -> f64 {
        let (nv, nh) = (rbm.visible(), rbm.hidden());
        let vs = states(0, 1 << nv, nv);
        let hs = states(0, 1 << nh, nh);
        let mut terms = vec![];
        for v in vs.rows() {
            for h in hs.rows() {
                let e = -(v.dot(&rbm.a) + h.dot(&rbm.b) + v.dot(&rbm.w.dot(&h)));
                terms.push(-e);
            }
        }
        log_sum_exp(terms)
    }

    #[test]
    fn both_enumerations_agree_with_the_definition() {
        for (nv, nh) in [(6, 4), (4, 6), (5, 5)] {
            let m = random_rbm(nv, nh, 1.0, nv as u64 * 10 + nh as u64);
            let exact = brute_force_log_z(&m);
            let got = exact_log_partition(&m).unwrap();
            assert!((got - exact).abs() < 1e-12, "{nv}×{nh}: {got} vs {exact}");
        }
    }

    #[test]
    fn model_moments_agree_across_the_two_enumerations() {
        // The same RBM transposed (visible ↔ hidden) enumerates the other layer.
        let m = random_rbm(5, 3, 0.8, 3);
        let t = RbmWeights::new(m.w.t().to_owned(), m.b.clone(), m.a.clone()).unwrap();
        let a = exact_model_moments(&m).unwrap(); // enumerates the 3 hidden units
        let b = exact_model_moments(&t).unwrap(); // enumerates the 3 visible units
        assert!((&a.vh - &b.vh.t()).iter().all(|d| d.abs() < 1e-13));
        assert!((&a.v - &b.h).iter().all(|d| d.abs() < 1e-13));
        assert!((&a.h - &b.v).iter().all(|d| d.abs() < 1e-13));
    }

    #[test]
    fn large_layers_are_refused_not_enumerated() {
        let m = random_rbm(30, 26, 0.1, 1);
        let e = exact_log_partition(&m).unwrap_err();
        assert!(
            matches!(e, RbmError::TooLargeToEnumerate { units: 26, limit: 24 }),
            "{e}"
        );
    }

    #[test]
    fn ais_brackets_the_exact_log_partition() {
        let m = random_rbm(12, 8, 1.0, 17);
        let exact = exact_log_partition(&m).unwrap();
        let est = annealed_log_partition(
            &m,
            &AisConfig {
                betas: 2000,
                runs: 256,
                base_visible_bias: vec![0.0; 12],
                seed: 3,
            },
        )
        .unwrap();
        assert!(est.standard_error < 0.05, "{est:?}");
        assert!(
            est.interval.0 <= exact && exact <= est.interval.1,
            "exact {exact} outside {:?} (ln Ẑ {})",
            est.interval,
            est.log_z
        );
        assert!(
            (est.log_z - exact).abs() < 3.0 * est.standard_error + 1e-3,
            "{} vs {exact}",
            est.log_z
        );
    }
}
