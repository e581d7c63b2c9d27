//! Problems shared by the criterion benches (`benches/bench_main.rs`): a batch of pendulums and
//! direct-sum N-body gravity, the expensive right-hand side used to measure integrator overhead.

use liouville_integrate::SeparableHamiltonian;
use liouville_integrate::adaptive::AdaptiveMethod;
use ndarray::{Array2, ArrayView2, ArrayViewMut1, ArrayViewMut2};

/// `n` pendulums with q ∈ [-2.5, 2.5], p ∈ [-1, 1] from a fixed low-discrepancy sequence, as rows.
pub fn pendulum_batch(n: usize) -> Array2<f64> {
    let golden = 0.618_033_988_749_895;
    Array2::from_shape_fn((n, 2), |(i, c)| {
        let u = ((i as f64 + 1.0) * golden * (c as f64 + 1.0)).fract();
        if c == 0 { 5.0 * u - 2.5 } else { 2.0 * u - 1.0 }
    })
}

/// Softened Newtonian gravity of N unit-mass bodies in 3D (G = 1):
/// V = -Σ_{i<j} 1/√(|qᵢ - qⱼ|² + ε²), T = |p|²/2. One state row holds all 6N coordinates.
#[derive(Debug, Clone, Copy)]
pub struct NBody {
    /// Number of bodies.
    pub n: usize,
    /// Softening length ε.
    pub softening: f64,
}

impl NBody {
    /// Bodies on a jittered cubic lattice at rest, one row.
    pub fn initial_state(&self) -> Array2<f64> {
        let side = (self.n as f64).cbrt().ceil() as usize;
        let mut y = Array2::zeros((1, 6 * self.n));
        for b in 0..self.n {
            let (i, j, k) = (b % side, (b / side) % side, b / (side * side));
            let jitter = |s: usize| ((b * 7 + s) as f64 * 0.618_033_988_749_895).fract() * 0.1;
            y[[0, 3 * b]] = i as f64 + jitter(0);
            y[[0, 3 * b + 1]] = j as f64 + jitter(1);
            y[[0, 3 * b + 2]] = k as f64 + jitter(2);
        }
        y
    }
}

impl SeparableHamiltonian for NBody {
    fn dof(&self) -> usize {
        3 * self.n
    }
    fn kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        for (o, row) in out.iter_mut().zip(p.rows()) {
            *o = 0.5 * row.dot(&row);
        }
    }
    fn potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        let eps2 = self.softening * self.softening;
        for (o, row) in out.iter_mut().zip(q.rows()) {
            let x = row.as_slice().expect("contiguous row");
            let mut v = 0.0;
            for i in 0..self.n {
                for j in i + 1..self.n {
                    let d: f64 = (0..3).map(|c| (x[3 * i + c] - x[3 * j + c]).powi(2)).sum();
                    v -= 1.0 / (d + eps2).sqrt();
                }
            }
            *o = v;
        }
    }
    fn grad_kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        out.assign(&p);
    }
    fn grad_potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        let eps2 = self.softening * self.softening;
        for (row, mut grad) in q.rows().into_iter().zip(out.rows_mut()) {
            grad.fill(0.0);
            let x = row.as_slice().expect("contiguous row");
            let g = grad.as_slice_mut().expect("contiguous row");
            // Pairwise, using Newton's third law: each pair is visited once.
            for i in 0..self.n {
                let (xi, yi, zi) = (x[3 * i], x[3 * i + 1], x[3 * i + 2]);
                let (mut gx, mut gy, mut gz) = (0.0, 0.0, 0.0);
                for j in i + 1..self.n {
                    let (dx, dy, dz) = (xi - x[3 * j], yi - x[3 * j + 1], zi - x[3 * j + 2]);
                    let r2 = dx * dx + dy * dy + dz * dz + eps2;
                    let w = 1.0 / (r2 * r2.sqrt());
                    gx += w * dx;
                    gy += w * dy;
                    gz += w * dz;
                    g[3 * j] -= w * dx;
                    g[3 * j + 1] -= w * dy;
                    g[3 * j + 2] -= w * dz;
                }
                g[3 * i] += gx;
                g[3 * i + 1] += gy;
                g[3 * i + 2] += gz;
            }
        }
    }
}

/// (method, rtol = atol) of the single-state benches; `examples/small_system_errors.rs` reports
/// the final error of each, for the comparison at equal or smaller error.
pub struct SmallSystemRuns {
    /// Kepler e = 0.6 over 100 periods.
    pub kepler: [(AdaptiveMethod, f64); 3],
    /// The Arenstorf orbit over one period.
    pub arenstorf: [(AdaptiveMethod, f64); 2],
}

/// The runs: DOP853 at 1e-10 errs more than diffrax's Dopri8 at 1e-10 on Kepler, so it also runs
/// at 5e-11, where its error is below Dopri8's.
pub const SMALL_SYSTEM_RUNS: SmallSystemRuns = SmallSystemRuns {
    kepler: [
        (AdaptiveMethod::Dop853, 1e-10),
        (AdaptiveMethod::Dop853, 5e-11),
        (AdaptiveMethod::Dopri5, 1e-10),
    ],
    arenstorf: [(AdaptiveMethod::Dop853, 1e-13), (AdaptiveMethod::Dopri5, 1e-13)],
};

/// Initial states spread over the attractor's box; the same formula as the diffrax script.
pub fn lorenz_starts(n: usize) -> Vec<[f64; 3]> {
    (0..n)
        .map(|i| {
            let frac = |k: usize| ((k * i) % n) as f64 / n as f64;
            [-15.0 + 30.0 * frac(1), -15.0 + 30.0 * frac(7), 5.0 + 35.0 * frac(13)]
        })
        .collect()
}

/// The RBM benches' data: 10,000 rows of 64 binary units with structure (8 noisy prototypes,
/// every tenth unit flipped), seeded; `benches/peers/torch_rbm.py` builds the same problem.
pub fn rbm_binary_rows() -> liouville_generative::rbm::VisibleData {
    let mut rng = liouville_sim::rng::Rng::stream(12, 0);
    let prototypes: Vec<Vec<f64>> = (0..8)
        .map(|_| (0..64).map(|_| (rng.uniform() < 0.5) as u8 as f64).collect())
        .collect();
    let rows = Array2::from_shape_fn((10_000, 64), |(r, i)| {
        let bit = prototypes[r % 8][i];
        if (r * 64 + i) % 10 == 0 { 1.0 - bit } else { bit }
    });
    liouville_generative::rbm::VisibleData::binary(rows).expect("binary rows")
}

/// The RBM benches' training settings: one epoch of CD-1 in batches of 100, plain SGD at 0.05
/// (the update `benches/peers/torch_rbm.py` writes out).
pub fn rbm_epoch_config() -> liouville_generative::rbm::train::RbmTrainConfig {
    liouville_generative::rbm::train::RbmTrainConfig {
        optimizer: liouville_tensor::optim::Optimizer::Sgd {
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        },
        ..liouville_generative::rbm::train::RbmTrainConfig::contrastive(1, 100, 0.05, 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The analytic gradient matches central differences of the potential.
    #[test]
    fn nbody_gradient_matches_finite_differences() {
        let sys = NBody { n: 5, softening: 0.1 };
        let y = sys.initial_state();
        let q = y.slice(ndarray::s![.., ..15]).to_owned();
        let mut grad = Array2::zeros((1, 15));
        sys.grad_potential(q.view(), grad.view_mut());
        let v = |q: &Array2<f64>| {
            let mut out = ndarray::Array1::zeros(1);
            sys.potential(q.view(), out.view_mut());
            out[0]
        };
        for c in 0..15 {
            let (mut qp, mut qm) = (q.clone(), q.clone());
            qp[[0, c]] += 1e-6;
            qm[[0, c]] -= 1e-6;
            let fd = (v(&qp) - v(&qm)) / 2e-6;
            assert!(
                (fd - grad[[0, c]]).abs() < 1e-7,
                "component {c}: {fd} vs {}",
                grad[[0, c]]
            );
        }
    }
}
