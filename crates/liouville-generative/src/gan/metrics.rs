//! Scores of samples from a mixture of isotropic Gaussians (gan_toy.py's 8 Gaussians): how many
//! modes the samples cover and how many samples are "good" (within 3σ of some mode). No number
//! is published for the toy; these two are what a reader of its plots judges by eye.

/// Mode coverage of a set of 2-D (or any-D) samples.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeCoverage {
    /// Samples within 3σ of each mode.
    pub per_mode: Vec<usize>,
    /// Modes holding at least [`ModeCoverage::MIN_SHARE`] of the samples within 3σ.
    pub modes_covered: usize,
    /// Fraction of samples within 3σ of their nearest mode.
    pub fraction_within_3_sigma: f64,
}

impl ModeCoverage {
    /// A mode counts as covered when at least this share of a uniform split (1/modes) of the
    /// samples lies within 3σ of it: 10 % of its fair share.
    pub const MIN_SHARE: f64 = 0.1;
}

/// Coverage of `samples` (row-major, `modes[0].len()` columns) by `modes` with per-component
/// standard deviation `sigma`: a sample is within 3σ when its Euclidean distance to the mode is
/// at most 3σ.
pub fn mode_coverage(samples: &[f64], modes: &[Vec<f64>], sigma: f64) -> ModeCoverage {
    let dim = modes.first().map_or(1, |m| m.len());
    let rows = samples.len() / dim;
    let mut per_mode = vec![0usize; modes.len()];
    let mut good = 0usize;
    for x in samples.chunks(dim) {
        let (k, d2) = modes
            .iter()
            .enumerate()
            .map(|(k, m)| (k, x.iter().zip(m).map(|(a, b)| (a - b).powi(2)).sum::<f64>()))
            .fold((0, f64::INFINITY), |a, b| if b.1 < a.1 { b } else { a });
        if d2.is_finite() && d2.sqrt() <= 3.0 * sigma {
            per_mode[k] += 1;
            good += 1;
        }
    }
    let needed = ModeCoverage::MIN_SHARE * rows as f64 / modes.len().max(1) as f64;
    ModeCoverage {
        modes_covered: per_mode.iter().filter(|&&c| c as f64 >= needed && c > 0).count(),
        per_mode,
        fraction_within_3_sigma: if rows == 0 { 0.0 } else { good as f64 / rows as f64 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::{EIGHT_GAUSSIANS_STD, eight_gaussian_modes, eight_gaussians};

    fn modes() -> Vec<Vec<f64>> {
        eight_gaussian_modes().iter().map(|m| m.to_vec()).collect()
    }

    #[test]
    fn the_data_itself_covers_every_mode() {
        let c = mode_coverage(&eight_gaussians(4000, 1), &modes(), EIGHT_GAUSSIANS_STD);
        assert_eq!(c.modes_covered, 8);
        // 3σ in 2-D holds 1 − e^{−9/2} ≈ 98.9 % of an isotropic Gaussian.
        assert!((c.fraction_within_3_sigma - 0.989).abs() < 0.01, "{c:?}");
    }

    #[test]
    fn a_collapsed_or_blurred_generator_scores_low() {
        let m = modes();
        let collapsed: Vec<f64> = (0..1000).flat_map(|_| m[3].clone()).collect();
        let c = mode_coverage(&collapsed, &m, EIGHT_GAUSSIANS_STD);
        assert_eq!((c.modes_covered, c.fraction_within_3_sigma), (1, 1.0));
        // Points on the circle between the modes are near none of them.
        let between: Vec<f64> = (0..800)
            .flat_map(|i| {
                let t = (i as f64 + 0.5) * std::f64::consts::TAU / 800.0;
                [2.0 * t.cos() / 1.414, 2.0 * t.sin() / 1.414]
            })
            .collect();
        let c = mode_coverage(&between, &m, EIGHT_GAUSSIANS_STD);
        assert!(c.fraction_within_3_sigma < 0.2, "{c:?}");
    }
}
