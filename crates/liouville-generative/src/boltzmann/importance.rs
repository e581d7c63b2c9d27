//! Importance weights of flow samples against the target (Noé et al. 2019, eq. 6–8):
//!
//! w(x) = e^{−u(x)} / q(x),   Z = E_q[w],   ⟨f⟩_p = E_q[w f] / E_q[w],
//!
//! with x ~ q the flow's samples. The log Z estimate is ln(mean w) with the delta-method error
//! σ(ln Ẑ) = sd(w) / (√N mean w); the effective sample size is Kish's (Σw)² / Σw²; reweighted
//! observables are self-normalised, with the delta-method error √(Σ w̄ᵢ² (fᵢ − ⟨f⟩)²), w̄ = w / Σw.

use ndarray::{Array1, Array2, ArrayView1};

use super::target::TargetEnergy;

/// Samples x ~ q with their log-weights ln w = −u(x) − ln q(x).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportanceSample {
    /// `[N, n]`.
    pub x: Array2<f64>,
    /// ln w of each row.
    pub log_weights: Array1<f64>,
}

/// An estimate and its standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Value.
    pub value: f64,
    /// One standard error.
    pub error: f64,
}

impl ImportanceSample {
    /// Weights of `x` (rows) against `target`, given ln q(x) of each row. Rows whose weight is
    /// not finite (the flow's density underflowed, or u overflowed) keep weight zero and are
    /// counted by [`ImportanceSample::non_finite`].
    pub fn new(target: &dyn TargetEnergy, x: Array2<f64>, log_q: ArrayView1<f64>) -> Self {
        let u = target.energy(x.view());
        let log_weights = (&u + &log_q).mapv(|s| if s.is_finite() { -s } else { f64::NEG_INFINITY });
        Self { x, log_weights }
    }

    /// Rows with weight zero from a non-finite u or ln q.
    pub fn non_finite(&self) -> usize {
        self.log_weights.iter().filter(|w| w.is_infinite()).count()
    }

    /// max ln w, and w / e^{max} of each row (scaled so that nothing overflows).
    fn scaled(&self) -> (f64, Array1<f64>) {
        let top = self.log_weights.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (top, self.log_weights.mapv(|l| (l - top).exp()))
    }

    /// ln Z = ln mean(w) and its delta-method standard error.
    pub fn log_partition(&self) -> Estimate {
        let (top, w) = self.scaled();
        let n = w.len() as f64;
        let mean = w.sum() / n;
        let var = w.mapv(|x| (x - mean) * (x - mean)).sum() / (n - 1.0).max(1.0);
        Estimate {
            value: top + mean.ln(),
            error: (var / n).sqrt() / mean,
        }
    }

    /// Kish's effective sample size (Σw)² / Σw², between 1 and N.
    pub fn effective_sample_size(&self) -> f64 {
        let (_, w) = self.scaled();
        let s = w.sum();
        s * s / w.mapv(|x| x * x).sum()
    }

    /// The effective sample size over N.
    pub fn efficiency(&self) -> f64 {
        self.effective_sample_size() / self.log_weights.len() as f64
    }

    /// ⟨f⟩ under the target, self-normalised, with its delta-method standard error.
    pub fn expectation(&self, f: impl Fn(ArrayView1<f64>) -> f64) -> Estimate {
        let (_, w) = self.scaled();
        let w = &w / w.sum();
        let values: Array1<f64> = self.x.rows().into_iter().map(f).collect();
        let mean = (&w * &values).sum();
        let var = (&w * &w * values.mapv(|v| (v - mean) * (v - mean))).sum();
        Estimate {
            value: mean,
            error: var.sqrt(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use liouville_base::random::Rng;
    use ndarray::Array2;

    /// u = |x|²/(2σ²) in n dimensions: Z = (2πσ²)^{n/2}.
    struct Gaussian {
        sigma: f64,
        n: usize,
    }

    impl TargetEnergy for Gaussian {
        fn dim(&self) -> usize {
            self.n
        }
        fn energy(&self, x: ndarray::ArrayView2<f64>) -> Array1<f64> {
            x.rows()
                .into_iter()
                .map(|r| r.dot(&r) / (2.0 * self.sigma * self.sigma))
                .collect()
        }
        fn gradient(&self, x: ndarray::ArrayView2<f64>) -> Array2<f64> {
            x.to_owned() / (self.sigma * self.sigma)
        }
    }

    fn standard_normal(rows: usize, n: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
        let mut rng = Rng::stream(seed, 0);
        let x = Array2::from_shape_fn((rows, n), |_| rng.normal());
        let half_ln_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
        let log_q = x
            .rows()
            .into_iter()
            .map(|r| -0.5 * r.dot(&r) - n as f64 * half_ln_2pi)
            .collect();
        (x, log_q)
    }

    #[test]
    fn estimates_match_a_gaussian_target_within_their_errors() {
        // q = 𝒩(0, I), p = 𝒩(0, σ²I) with σ = 0.8: ln Z = n ln(σ√2π), ⟨x₀²⟩ = σ², and Kish's
        // ESS / N tends to E_q[w]² / E_q[w²] = (σ √(2 − σ²))ⁿ.
        let (sigma, n, rows) = (0.8, 2, 200_000);
        let target = Gaussian { sigma, n };
        let (x, log_q) = standard_normal(rows, n, 5);
        let s = ImportanceSample::new(&target, x, log_q.view());
        let exact = n as f64 * (sigma * (2.0 * std::f64::consts::PI).sqrt()).ln();
        let z = s.log_partition();
        assert!(z.error > 0.0 && z.error < 0.01, "{z:?}");
        assert!((z.value - exact).abs() < 4.0 * z.error, "{z:?} vs {exact}");
        let second = s.expectation(|r| r[0] * r[0]);
        assert!((second.value - sigma * sigma).abs() < 4.0 * second.error, "{second:?}");
        let efficiency = (sigma * (2.0 - sigma * sigma).sqrt()).powi(n as i32);
        assert!(
            (s.efficiency() - efficiency).abs() < 0.01,
            "{} vs {efficiency}",
            s.efficiency()
        );
        assert_eq!(s.non_finite(), 0);
    }

    #[test]
    fn a_perfect_proposal_has_full_efficiency_and_zero_error() {
        let target = Gaussian { sigma: 1.0, n: 3 };
        let (x, log_q) = standard_normal(1000, 3, 1);
        let s = ImportanceSample::new(&target, x, log_q.view());
        assert!((s.efficiency() - 1.0).abs() < 1e-12);
        let z = s.log_partition();
        assert!((z.value - 1.5 * (2.0 * std::f64::consts::PI).ln()).abs() < 1e-12 && z.error < 1e-12);
    }

    #[test]
    fn non_finite_densities_get_zero_weight() {
        let target = Gaussian { sigma: 1.0, n: 1 };
        let x = Array2::from_shape_vec((3, 1), vec![0.0, 1.0, 2.0]).unwrap();
        let log_q = Array1::from(vec![-1.0, f64::NAN, -2.0]);
        let s = ImportanceSample::new(&target, x, log_q.view());
        assert_eq!(s.non_finite(), 1);
        assert!(s.log_partition().value.is_finite());
        assert!(s.effective_sample_size() < 2.0 + 1e-12);
    }
}
