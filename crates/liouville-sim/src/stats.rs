//! Error bars for correlated Monte Carlo series: binning (blocking), the jackknife over bins for
//! non-linear estimators, and integrated autocorrelation times with Sokal's automatic window.

use crate::SimError;

/// A mean with its standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Estimated value.
    pub value: f64,
    /// One standard error.
    pub error: f64,
}

impl Estimate {
    /// The z-score (value - exact)/error: signed, so a bias shows its direction; compare its
    /// absolute value with a threshold.
    pub fn deviation(&self, exact: f64) -> f64 {
        (self.value - exact) / self.error
    }
}

/// Bin averages of f(chain, k) over `bins` equal bins per chain (a trailing remainder is
/// dropped). Bins much longer than the autocorrelation time are nearly independent.
pub fn bin_chains(
    lengths: impl Iterator<Item = usize>,
    bins: usize,
    f: &dyn Fn(usize, usize) -> f64,
) -> Result<Vec<f64>, SimError> {
    let mut out = Vec::new();
    for (c, len) in lengths.enumerate() {
        if bins == 0 || len < bins {
            return Err(SimError::InvalidOption(format!(
                "cannot make {bins} bins from {len} samples"
            )));
        }
        let width = len / bins;
        for b in 0..bins {
            out.push((b * width..(b + 1) * width).map(|k| f(c, k)).sum::<f64>() / width as f64);
        }
    }
    Ok(out)
}

/// Mean and standard error of (approximately independent) bin averages.
pub fn mean_estimate(bins: &[f64]) -> Estimate {
    let n = bins.len() as f64;
    let mean = bins.iter().sum::<f64>() / n;
    let var = bins.iter().map(|b| (b - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Estimate {
        value: mean,
        error: (var / n).sqrt(),
    }
}

/// Jackknife estimate of g(means of several binned series) with its standard error.
pub fn jackknife(series: &[&[f64]], g: impl Fn(&[f64]) -> f64) -> Estimate {
    let n = series[0].len();
    let totals: Vec<f64> = series.iter().map(|s| s.iter().sum()).collect();
    let full: Vec<f64> = totals.iter().map(|t| t / n as f64).collect();
    let leave_one_out: Vec<f64> = (0..n)
        .map(|i| {
            let means: Vec<f64> = series
                .iter()
                .zip(&totals)
                .map(|(s, t)| (t - s[i]) / (n - 1) as f64)
                .collect();
            g(&means)
        })
        .collect();
    let mean_loo = leave_one_out.iter().sum::<f64>() / n as f64;
    let var = leave_one_out.iter().map(|v| (v - mean_loo).powi(2)).sum::<f64>() * (n - 1) as f64 / n as f64;
    let g_full = g(&full);
    // Bias-corrected estimate.
    Estimate {
        value: n as f64 * g_full - (n - 1) as f64 * mean_loo,
        error: var.sqrt(),
    }
}

/// Integrated autocorrelation time τ = ½ + Σ_{t=1}^{W} ρ(t), with W the smallest window such that
/// W ≥ 6τ(W) (Sokal 1997). In units of the series' spacing.
pub fn integrated_autocorrelation(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 2 {
        return 0.5;
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
    if var == 0.0 {
        return 0.5;
    }
    let mut tau = 0.5;
    for t in 1..n / 2 {
        let c: f64 = (0..n - t).map(|k| (x[k] - mean) * (x[k + t] - mean)).sum::<f64>() / ((n - t) as f64 * var);
        tau += c;
        if t as f64 >= 6.0 * tau {
            break;
        }
    }
    tau
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// An AR(1) process x_{k+1} = a x_k + noise has τ_int = ½(1 + a)/(1 - a).
    #[test]
    fn autocorrelation_time_of_ar1() {
        let a: f64 = 0.8;
        let mut rng = Rng::stream(3, 0);
        let mut x = vec![0.0; 400_000];
        for k in 1..x.len() {
            x[k] = a * x[k - 1] + rng.normal();
        }
        let tau = integrated_autocorrelation(&x);
        let exact = 0.5 * (1.0 + a) / (1.0 - a);
        assert!((tau / exact - 1.0).abs() < 0.05, "tau {tau} vs {exact}");
        // Binning gives an honest error bar: the mean of the correlated series is 0 within 3σ.
        let bins = bin_chains([x.len()].into_iter(), 40, &|_, k| x[k]).unwrap();
        let est = mean_estimate(&bins);
        assert!(est.deviation(0.0).abs() < 3.0);
        let naive = (1.0 / (1.0 - a * a) / x.len() as f64).sqrt();
        assert!(
            est.error > 2.0 * naive,
            "binned error {} should exceed naive {naive}",
            est.error
        );
    }
}
