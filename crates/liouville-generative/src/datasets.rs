//! Toy densities for generative models, seeded (`liouville_base::random`): two moons (the
//! density-estimation benchmark of nflows' and normflows' examples, after scikit-learn's
//! `make_moons`), gan_toy.py's 8 Gaussians, and the pinwheel (Johnson et al. 2016; FFJORD's toy
//! data).

use liouville_base::random::Rng;

/// `n` points of two interleaved half circles with Gaussian noise of standard deviation `noise`,
/// row-major `[n, 2]`: half on (cos θ, sin θ), half on (1 − cos θ, ½ − sin θ), θ ~ U[0, π].
pub fn two_moons(n: usize, noise: f64, seed: u64) -> Vec<f64> {
    let mut rng = Rng::stream(seed, 0x2_0000);
    let mut out = Vec::with_capacity(2 * n);
    for i in 0..n {
        let theta = rng.uniform_in(0.0, std::f64::consts::PI);
        let (x, y) = if i % 2 == 0 {
            (theta.cos(), theta.sin())
        } else {
            (1.0 - theta.cos(), 0.5 - theta.sin())
        };
        out.push(x + noise * rng.normal());
        out.push(y + noise * rng.normal());
    }
    out
}

/// Standard deviation of each component of [`eight_gaussians`] after its final scaling:
/// 0.02 / 1.414.
pub const EIGHT_GAUSSIANS_STD: f64 = 0.02 / 1.414;

/// The 8 mode centres of [`eight_gaussians`], `[8][2]`: radius 2 / 1.414 at angles kπ/4.
pub fn eight_gaussian_modes() -> Vec<[f64; 2]> {
    (0..8)
        .map(|k| {
            let (s, c) = (k as f64 * std::f64::consts::FRAC_PI_4).sin_cos();
            [2.0 * c / 1.414, 2.0 * s / 1.414]
        })
        .collect()
}

/// `n` points of gan_toy.py's 8 Gaussians (Gulrajani et al. 2017), row-major `[n, 2]`: a mode
/// chosen uniformly among 8 on the circle of radius 2, plus N(0, 0.02²) noise, all divided by
/// 1.414.
pub fn eight_gaussians(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = Rng::stream(seed, 0x8_0000);
    let mut out = Vec::with_capacity(2 * n);
    for _ in 0..n {
        let k = rng.below(8) as f64;
        let (s, c) = (k * std::f64::consts::FRAC_PI_4).sin_cos();
        out.push((2.0 * c + 0.02 * rng.normal()) / 1.414);
        out.push((2.0 * s + 0.02 * rng.normal()) / 1.414);
    }
    out
}

/// Arms of [`pinwheel`].
pub const PINWHEEL_ARMS: usize = 5;
/// Radial and tangential standard deviations and the spiral rate of [`pinwheel`].
const PINWHEEL_SHAPE: (f64, f64, f64) = (0.3, 0.1, 0.25);

/// `n` points of the pinwheel (Johnson et al. 2016, as FFJORD's toy data draws it), row-major
/// `[n, 2]`: point i belongs to arm k = i mod 5 at angle a_k = 2πk/5; f = (1 + 0.3 ε₁, 0.1 ε₂)
/// with standard normal ε, θ = a_k + 0.25 e^{f₁}, and x = 2 fR with R = [[cos θ, −sin θ],
/// [sin θ, cos θ]], i.e. x = 2 (f₁ cos θ + f₂ sin θ, −f₁ sin θ + f₂ cos θ).
pub fn pinwheel(n: usize, seed: u64) -> Vec<f64> {
    let (radial, tangential, rate) = PINWHEEL_SHAPE;
    let mut rng = Rng::stream(seed, 0x9_0000);
    let mut out = Vec::with_capacity(2 * n);
    for i in 0..n {
        let arm = (i % PINWHEEL_ARMS) as f64 * std::f64::consts::TAU / PINWHEEL_ARMS as f64;
        let f1 = 1.0 + radial * rng.normal();
        let f2 = tangential * rng.normal();
        let (s, c) = (arm + rate * f1.exp()).sin_cos();
        out.push(2.0 * (f1 * c + f2 * s));
        out.push(2.0 * (-f1 * s + f2 * c));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Undoing the spiral (polar angle −φ minus 0.25 e^{|x|/2}) lands every point near one of the
    /// five arm angles, a fifth of the points on each; the tangential spread (0.1 against a
    /// radius ≈ 1) allows ≈ 0.1 rad, the test 0.45.
    #[test]
    fn pinwheel_points_lie_on_five_spiral_arms() {
        let x = pinwheel(10_000, 4);
        assert_eq!(x, pinwheel(10_000, 4));
        assert_ne!(x, pinwheel(10_000, 5));
        let tau = std::f64::consts::TAU;
        let mut counts = [0usize; PINWHEEL_ARMS];
        let mut far = 0;
        for p in x.chunks(2) {
            let r = (p[0] * p[0] + p[1] * p[1]).sqrt() / 2.0;
            let unwound = (-p[1].atan2(p[0]) - 0.25 * r.exp()).rem_euclid(tau);
            let (arm, gap) = (0..PINWHEEL_ARMS)
                .map(|k| {
                    let d = (unwound - k as f64 * tau / PINWHEEL_ARMS as f64).rem_euclid(tau);
                    (k, d.min(tau - d))
                })
                .fold((0, f64::INFINITY), |a, b| if b.1 < a.1 { b } else { a });
            if gap > 0.45 {
                far += 1;
            }
            counts[arm] += 1;
        }
        assert!(far < 100, "{far} of 10,000 points off every arm");
        assert!(counts.iter().all(|&c| (1900..2100).contains(&c)), "{counts:?}");
    }

    #[test]
    fn eight_gaussians_sit_on_their_modes() {
        let x = eight_gaussians(8000, 3);
        let modes = eight_gaussian_modes();
        let mut counts = [0usize; 8];
        for p in x.chunks(2) {
            let (k, d) = modes
                .iter()
                .enumerate()
                .map(|(k, m)| (k, ((p[0] - m[0]).powi(2) + (p[1] - m[1]).powi(2)).sqrt()))
                .fold((0, f64::INFINITY), |a, b| if b.1 < a.1 { b } else { a });
            assert!(d < 5.0 * EIGHT_GAUSSIANS_STD, "{p:?} is {d} from mode {k}");
            counts[k] += 1;
        }
        assert!(counts.iter().all(|&c| (850..1150).contains(&c)), "{counts:?}");
    }
}
