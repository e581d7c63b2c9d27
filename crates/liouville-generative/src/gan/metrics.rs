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

/// How well 2-D phase-space samples (q, p) reproduce the microcanonical distribution on one
/// closed energy shell H = E: the energy error, and how evenly they spread along the shell.
#[derive(Debug, Clone, PartialEq)]
pub struct ShellScore {
    /// Median of |H(x) − E| / E over the samples.
    pub median_relative_energy_error: f64,
    /// Fraction of samples with |H(x) − E| ≤ `tolerance` · E.
    pub fraction_on_shell: f64,
    /// Arcs of equal time along the shell holding at least [`ShellScore::MIN_SHARE`] of their
    /// fair share of the samples.
    pub arcs_covered: usize,
    /// Number of arcs.
    pub arcs: usize,
    /// Total-variation distance between the samples' and the exact (uniform) arc occupancy.
    pub arc_total_variation: f64,
}

impl ShellScore {
    /// An arc counts as covered when it holds at least this share of a uniform split.
    pub const MIN_SHARE: f64 = 0.1;
}

/// Scores `samples` (row-major (q, p)) against the shell H = `energy`. `reference` holds exact
/// shell states drawn uniformly in time; the shell is cut into `arcs` arcs of equal time by the
/// reference states' quantiles of the polar angle atan2(p / p_max, q / q_max) (a libration orbit
/// winds once around the origin). `tolerance` is the relative energy band of
/// [`ShellScore::fraction_on_shell`].
pub fn shell_score(
    samples: &[f64],
    hamiltonian: impl Fn(f64, f64) -> f64,
    energy: f64,
    reference: &[[f64; 2]],
    arcs: usize,
    tolerance: f64,
) -> ShellScore {
    let q_max = reference
        .iter()
        .map(|s| s[0].abs())
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let p_max = reference
        .iter()
        .map(|s| s[1].abs())
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let angle = |q: f64, p: f64| (p / p_max).atan2(q / q_max);
    let mut reference_angles: Vec<f64> = reference.iter().map(|s| angle(s[0], s[1])).collect();
    reference_angles.sort_by(f64::total_cmp);
    let arcs = arcs.max(1);
    let bounds: Vec<f64> = (1..arcs)
        .map(|k| reference_angles[k * reference_angles.len() / arcs])
        .collect();
    let rows = samples.len() / 2;
    let mut errors = Vec::with_capacity(rows);
    let mut per_arc = vec![0usize; arcs];
    for x in samples.chunks(2) {
        errors.push(((hamiltonian(x[0], x[1]) - energy) / energy).abs());
        let a = angle(x[0], x[1]);
        if a.is_finite() {
            per_arc[bounds.partition_point(|&b| b <= a)] += 1;
        }
    }
    errors.sort_by(f64::total_cmp);
    let n = rows.max(1) as f64;
    let fair = n / arcs as f64;
    ShellScore {
        median_relative_energy_error: errors.get(rows / 2).copied().unwrap_or(f64::NAN),
        fraction_on_shell: errors.iter().filter(|&&e| e <= tolerance).count() as f64 / n,
        arcs_covered: per_arc
            .iter()
            .filter(|&&c| c as f64 >= ShellScore::MIN_SHARE * fair)
            .count(),
        arcs,
        arc_total_variation: 0.5
            * per_arc
                .iter()
                .map(|&c| (c as f64 / n - 1.0 / arcs as f64).abs())
                .sum::<f64>(),
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

    fn shell() -> (liouville_sim::systems::pendulum::Pendulum, impl Fn(f64, f64) -> f64) {
        let p = liouville_sim::systems::pendulum::Pendulum::new(1.0, 1.0, 1.0).unwrap();
        (p, |q: f64, p: f64| 0.5 * p * p + 1.0 - q.cos())
    }

    #[test]
    fn exact_shell_states_score_perfectly_and_half_a_shell_does_not() {
        let (pendulum, h) = shell();
        let reference = pendulum.energy_shell(1.0, 4000, 1).unwrap();
        let exact: Vec<f64> = pendulum.energy_shell(1.0, 4000, 2).unwrap().concat();
        let s = shell_score(&exact, &h, 1.0, &reference, 16, 0.05);
        assert!(s.median_relative_energy_error < 1e-9, "{s:?}");
        assert_eq!((s.fraction_on_shell, s.arcs_covered), (1.0, 16));
        // 4000 samples over 16 arcs: the total variation of a fair multinomial is ≈ 0.04.
        assert!(s.arc_total_variation < 0.06, "{s:?}");
        // Only the upper half of the orbit (p > 0): half the arcs, TV = 1/2.
        let upper: Vec<f64> = exact.chunks(2).filter(|x| x[1] > 0.0).flatten().copied().collect();
        let s = shell_score(&upper, &h, 1.0, &reference, 16, 0.05);
        assert_eq!(s.arcs_covered, 8, "{s:?}");
        assert!((s.arc_total_variation - 0.5).abs() < 0.03, "{s:?}");
        // A shell of the wrong energy is never within 5 %.
        let low: Vec<f64> = pendulum.energy_shell(0.5, 1000, 3).unwrap().concat();
        let s = shell_score(&low, &h, 1.0, &reference, 16, 0.05);
        assert_eq!(s.fraction_on_shell, 0.0);
        assert!((s.median_relative_energy_error - 0.5).abs() < 1e-9, "{s:?}");
    }
}
