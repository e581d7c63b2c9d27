//! Reference Hamiltonian problems with known behaviour, used to verify integrators
//! (Hairer–Lubich–Wanner I.1–I.2): the harmonic oscillator, the pendulum, the Kepler problem with
//! its exact solution, and the Hénon–Heiles system. The physical systems for datasets live in
//! `liouville-sim`; these are the integrators' own yardsticks.

use ndarray::{Array2, ArrayView2, ArrayViewMut1, ArrayViewMut2, Zip, array};

use crate::SeparableHamiltonian;

/// Harmonic oscillator H = p²/(2m) + k q²/2 in one degree of freedom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HarmonicOscillator {
    /// Mass m.
    pub mass: f64,
    /// Spring constant k.
    pub stiffness: f64,
}

impl Default for HarmonicOscillator {
    fn default() -> Self {
        Self {
            mass: 1.0,
            stiffness: 1.0,
        }
    }
}

impl SeparableHamiltonian for HarmonicOscillator {
    fn dof(&self) -> usize {
        1
    }
    fn kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        Zip::from(&mut out)
            .and(p.column(0))
            .for_each(|o, &p| *o = 0.5 * p * p / self.mass);
    }
    fn potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        Zip::from(&mut out)
            .and(q.column(0))
            .for_each(|o, &q| *o = 0.5 * self.stiffness * q * q);
    }
    fn grad_kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        Zip::from(&mut out).and(&p).for_each(|o, &p| *o = p / self.mass);
    }
    fn grad_potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        Zip::from(&mut out).and(&q).for_each(|o, &q| *o = self.stiffness * q);
    }
}

/// Mathematical pendulum H = p²/2 + 1 - cos q (unit mass, length and gravity).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pendulum;

impl SeparableHamiltonian for Pendulum {
    fn dof(&self) -> usize {
        1
    }
    fn kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        Zip::from(&mut out).and(p.column(0)).for_each(|o, &p| *o = 0.5 * p * p);
    }
    fn potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        Zip::from(&mut out)
            .and(q.column(0))
            .for_each(|o, &q| *o = 1.0 - q.cos());
    }
    fn grad_kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        out.assign(&p);
    }
    fn grad_potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        Zip::from(&mut out).and(&q).for_each(|o, &q| *o = q.sin());
    }
}

/// Hénon–Heiles H = |p|²/2 + (q₁² + q₂²)/2 + q₁²q₂ - q₂³/3, a non-integrable two-degree-of-freedom
/// system (chaotic above energy ≈ 1/8).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HenonHeiles;

impl SeparableHamiltonian for HenonHeiles {
    fn dof(&self) -> usize {
        2
    }
    fn kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        Zip::from(&mut out).and(p.rows()).for_each(|o, p| *o = 0.5 * p.dot(&p));
    }
    fn potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        Zip::from(&mut out).and(q.rows()).for_each(|o, q| {
            let (x, y) = (q[0], q[1]);
            *o = 0.5 * (x * x + y * y) + x * x * y - y * y * y / 3.0;
        });
    }
    fn grad_kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        out.assign(&p);
    }
    fn grad_potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        for r in 0..q.nrows() {
            let (x, y) = (q[[r, 0]], q[[r, 1]]);
            out[[r, 0]] = x + 2.0 * x * y;
            out[[r, 1]] = y + x * x - y * y;
        }
    }
}

/// The Kepler problem H = |p|²/2 - 1/|q| in the plane (μ = 1, semi-major axis 1, period 2π).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kepler {
    /// Orbital eccentricity e ∈ [0, 1).
    pub eccentricity: f64,
}

impl Kepler {
    /// Hairer–Lubich–Wanner's initial condition at perihelion:
    /// q₀ = (1 - e, 0), p₀ = (0, √((1 + e)/(1 - e))).
    pub fn initial_state(&self) -> Array2<f64> {
        let e = self.eccentricity;
        array![[1.0 - e, 0.0, 0.0, ((1.0 + e) / (1.0 - e)).sqrt()]]
    }

    /// Orbital period 2π.
    pub fn period(&self) -> f64 {
        std::f64::consts::TAU
    }

    /// Energy of the orbit, -1/2 (semi-major axis 1).
    pub fn exact_energy(&self) -> f64 {
        -0.5
    }

    /// Angular momentum √(1 - e²).
    pub fn exact_angular_momentum(&self) -> f64 {
        (1.0 - self.eccentricity.powi(2)).sqrt()
    }

    /// The exact state at time t, from Kepler's equation E - e sin E = t solved by Newton:
    /// q = (cos E - e, √(1-e²) sin E), p = (-sin E, √(1-e²) cos E)/(1 - e cos E).
    pub fn exact_state(&self, t: f64) -> [f64; 4] {
        let e = self.eccentricity;
        let tau = std::f64::consts::TAU;
        let mean_anomaly = t - tau * (t / tau).round();
        let mut big_e = if e < 0.8 {
            mean_anomaly
        } else {
            std::f64::consts::PI.copysign(mean_anomaly)
        };
        for _ in 0..50 {
            let delta = (big_e - e * big_e.sin() - mean_anomaly) / (1.0 - e * big_e.cos());
            big_e -= delta;
            if delta.abs() < 1e-16 {
                break;
            }
        }
        let (s, c) = big_e.sin_cos();
        let w = (1.0 - e * e).sqrt();
        let r = 1.0 - e * c;
        [c - e, w * s, -s / r, w * c / r]
    }
}

impl Kepler {
    /// The initial state as one `[q₁, q₂, p₁, p₂]` array, for the single-state API.
    pub fn initial(&self) -> [f64; 4] {
        let e = self.eccentricity;
        [1.0 - e, 0.0, 0.0, ((1.0 + e) / (1.0 - e)).sqrt()]
    }

    /// Hamilton's equations on one state: (q̇, ṗ) = (p, -q/|q|³), with the same arithmetic as the
    /// batched [`HamiltonianField`](crate::HamiltonianField), so both paths take identical steps.
    #[inline]
    pub fn rate(&self, _t: f64, y: &[f64; 4]) -> [f64; 4] {
        let (x, v) = (y[0], y[1]);
        let r2 = x * x + v * v;
        let inv_r3 = 1.0 / (r2 * r2.sqrt());
        [y[2], y[3], -(x * inv_r3), -(v * inv_r3)]
    }
}

/// The Arenstorf orbit of the restricted three-body problem (Hairer–Nørsett–Wanner I, §II.0): a
/// satellite of the Earth–Moon system with μ = 0.012277471 that returns to its initial state
/// after one period T = 17.0652165601579625588917206249. State `[x, y, ẋ, ẏ]` in the rotating
/// frame:
///
/// ẍ = x + 2ẏ - μ'(x + μ)/D₁ - μ(x - μ')/D₂,  ÿ = y - 2ẋ - μ'y/D₁ - μy/D₂,
/// D₁ = ((x + μ)² + y²)^{3/2}, D₂ = ((x - μ')² + y²)^{3/2}, μ' = 1 - μ.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arenstorf;

impl Arenstorf {
    /// The Moon's mass fraction μ.
    pub const MU: f64 = 0.012277471;
    /// The period of the orbit.
    pub const PERIOD: f64 = 17.065_216_560_157_964;

    /// The initial state (x, y, ẋ, ẏ) = (0.994, 0, 0, -2.00158510637908252240537862224).
    pub fn initial(&self) -> [f64; 4] {
        [0.994, 0.0, 0.0, -2.001_585_106_379_082_4]
    }

    /// The equations of motion on one state.
    #[inline]
    pub fn rate(&self, _t: f64, y: &[f64; 4]) -> [f64; 4] {
        let mu = Self::MU;
        let mu1 = 1.0 - mu;
        let (x, v, dx, dv) = (y[0], y[1], y[2], y[3]);
        let a = (x + mu) * (x + mu) + v * v;
        let b = (x - mu1) * (x - mu1) + v * v;
        let d1 = a * a.sqrt();
        let d2 = b * b.sqrt();
        [
            dx,
            dv,
            x + 2.0 * dv - mu1 * (x + mu) / d1 - mu * (x - mu1) / d2,
            v - 2.0 * dx - mu1 * v / d1 - mu * v / d2,
        ]
    }
}

/// Angular momentum q₁p₂ - q₂p₁ of every row of a batch of planar `[q₁, q₂, p₁, p₂]` states.
pub fn angular_momentum(y: ArrayView2<'_, f64>) -> ndarray::Array1<f64> {
    y.rows().into_iter().map(|r| r[0] * r[3] - r[1] * r[2]).collect()
}

impl SeparableHamiltonian for Kepler {
    fn dof(&self) -> usize {
        2
    }
    fn kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        Zip::from(&mut out).and(p.rows()).for_each(|o, p| *o = 0.5 * p.dot(&p));
    }
    fn potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        Zip::from(&mut out)
            .and(q.rows())
            .for_each(|o, q| *o = -1.0 / q.dot(&q).sqrt());
    }
    fn grad_kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        out.assign(&p);
    }
    fn grad_potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        // Indexed rather than zipped over rows: per-row views cost more than the arithmetic.
        for r in 0..q.nrows() {
            let (x, y) = (q[[r, 0]], q[[r, 1]]);
            let r2 = x * x + y * y;
            let inv_r3 = 1.0 / (r2 * r2.sqrt());
            out[[r, 0]] = x * inv_r3;
            out[[r, 1]] = y * inv_r3;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::energies;

    #[test]
    fn kepler_exact_solution_conserves_invariants() {
        let k = Kepler { eccentricity: 0.6 };
        let y0 = k.initial_state();
        assert_eq!(k.exact_state(0.0).to_vec(), y0.row(0).to_vec());
        for &t in &[0.3, 1.7, 4.0, 100.0, 628.3] {
            let y = Array2::from_shape_vec((1, 4), k.exact_state(t).to_vec()).unwrap();
            assert!((energies(&k, y.view())[0] + 0.5).abs() < 1e-13, "t = {t}");
            assert!((angular_momentum(y.view())[0] - 0.8).abs() < 1e-13, "t = {t}");
        }
        let after_period = k.exact_state(k.period());
        for (a, b) in after_period.iter().zip(y0.iter()) {
            assert!((a - b).abs() < 1e-14);
        }
    }
}
