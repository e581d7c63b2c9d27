//! Toy densities for generative models, seeded (`liouville_base::random`): two moons (the
//! density-estimation benchmark of nflows' and normflows' examples, after scikit-learn's
//! `make_moons`).

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
