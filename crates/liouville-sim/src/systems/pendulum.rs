//! Pendulums: ideal (Hamiltonian), damped, and damped-driven.
//!
//! H = p²/(2ml²) + mgl(1 - cos q); the damped pendulum adds ṗ = … - γp, the driven one
//! + A cos(ωt). Trigonometry uses [`crate::math`] so trajectories are bit-identical everywhere.

use liouville_integrate::adaptive::{Adaptive, AdaptiveMethod, Output};
use liouville_integrate::{SeparableHamiltonian, VectorField, energies};
use ndarray::{ArrayView2, ArrayViewMut1, ArrayViewMut2, Zip};

use super::{Conserved, Invariant};
use crate::error::{finite, non_negative, positive};
use crate::{SimError, math};

/// The ideal pendulum H = p²/(2ml²) + mgl(1 - cos q).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pendulum {
    mass: f64,
    length: f64,
    gravity: f64,
}

impl Pendulum {
    /// Validates m, l, g > 0.
    pub fn new(mass: f64, length: f64, gravity: f64) -> Result<Self, SimError> {
        Ok(Self {
            mass: positive("mass", mass)?,
            length: positive("length", length)?,
            gravity: positive("gravity", gravity)?,
        })
    }
    /// Greydanus et al.'s H = 3(1 - cos q) + p² (m = 1, l = 1/√2, g = 3√2).
    pub fn hnn_paper() -> Self {
        Self {
            mass: 1.0,
            length: std::f64::consts::FRAC_1_SQRT_2,
            gravity: 3.0 * std::f64::consts::SQRT_2,
        }
    }
    /// Moment of inertia ml².
    pub fn inertia(&self) -> f64 {
        self.mass * self.length * self.length
    }
    /// Torque scale mgl.
    pub fn torque(&self) -> f64 {
        self.mass * self.gravity * self.length
    }
}

/// The arithmetic–geometric mean of a, b > 0 (Gauss), converged to the last bit.
fn agm(mut a: f64, mut b: f64) -> f64 {
    for _ in 0..64 {
        let (next_a, next_b) = (0.5 * (a + b), (a * b).sqrt());
        if next_a == a || (next_a - next_b).abs() <= f64::EPSILON * next_a {
            return next_a;
        }
        (a, b) = (next_a, next_b);
    }
    a
}

impl Pendulum {
    /// The turning angle q_max of the libration at energy E ∈ (0, 2mgl): E = mgl(1 − cos q_max).
    fn turning_angle(&self, energy: f64) -> Result<f64, SimError> {
        let top = 2.0 * self.torque();
        if !(energy.is_finite() && energy > 0.0 && energy < top) {
            return Err(SimError::InvalidParameter {
                name: "energy",
                value: energy,
                requirement: "a libration needs 0 < E < 2mgl",
            });
        }
        Ok((1.0 - energy / self.torque()).acos())
    }

    /// Period of the libration at energy E: T = 4K(k)/ω₀ with k = sin(q_max/2), ω₀ = √(mgl/ml²)
    /// and K(k) = π / (2 AGM(1, √(1 − k²))) (the complete elliptic integral of the first kind).
    pub fn libration_period(&self, energy: f64) -> Result<f64, SimError> {
        let k = (0.5 * self.turning_angle(energy)?).sin();
        let omega0 = (self.torque() / self.inertia()).sqrt();
        let big_k = std::f64::consts::FRAC_PI_2 / agm(1.0, (1.0 - k * k).sqrt());
        Ok(4.0 * big_k / omega0)
    }

    /// `count` states (q, p) on the energy shell H = E, uniform in time along the libration (the
    /// microcanonical measure on the shell): times drawn uniformly on one period from stream
    /// (`seed`, 0), the orbit integrated from the turning point (q_max, 0) by DOP853 at
    /// rtol = atol = 1e-12, states returned in the order the times were drawn.
    pub fn energy_shell(&self, energy: f64, count: usize, seed: u64) -> Result<Vec<[f64; 2]>, SimError> {
        if count == 0 {
            return Err(SimError::InvalidOption("an energy shell needs count ≥ 1".into()));
        }
        if count > 1 << 24 {
            return Err(SimError::TooLarge {
                bytes: count as u128 * 16,
                limit: (1u64 << 24) * 16,
                what: format!("{count} shell states"),
            });
        }
        let q_max = self.turning_angle(energy)?;
        let period = self.libration_period(energy)?;
        let mut rng = crate::rng::Rng::stream(seed, 0);
        let times: Vec<f64> = (0..count).map(|_| rng.uniform() * period).collect();
        let mut order: Vec<usize> = (0..count).collect();
        order.sort_by(|&a, &b| times[a].total_cmp(&times[b]));
        let sorted: Vec<f64> = order.iter().map(|&i| times[i]).collect();
        let solver = Adaptive::new(AdaptiveMethod::Dop853).rtol(1e-12).atol(1e-12).build()?;
        let y0 = ndarray::array![[q_max, 0.0]];
        let sol = solver.solve(
            &liouville_integrate::HamiltonianField(*self),
            0.0,
            period,
            y0.view(),
            Output::Times(&sorted),
        )?;
        let mut out = vec![[0.0; 2]; count];
        for (j, &i) in order.iter().enumerate() {
            out[i] = [sol.states[[j, 0, 0]], sol.states[[j, 0, 1]]];
        }
        Ok(out)
    }
}

impl SeparableHamiltonian for Pendulum {
    fn dof(&self) -> usize {
        1
    }
    fn kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        let i = self.inertia();
        Zip::from(&mut out)
            .and(p.column(0))
            .for_each(|o, &p| *o = 0.5 * p * p / i);
    }
    fn potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        let k = self.torque();
        Zip::from(&mut out)
            .and(q.column(0))
            .for_each(|o, &q| *o = k * (1.0 - math::cos(q)));
    }
    // Indexed loops: the q and p halves of a state are strided one-column views, on which
    // per-element `Zip` overhead costs more than the arithmetic.
    fn grad_kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        let inv = 1.0 / self.inertia();
        for r in 0..p.nrows() {
            out[[r, 0]] = p[[r, 0]] * inv;
        }
    }
    fn grad_potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        let k = self.torque();
        for r in 0..q.nrows() {
            out[[r, 0]] = k * math::sin(q[[r, 0]]);
        }
    }
}

impl Conserved for Pendulum {
    fn conserved(&self, y: ArrayView2<'_, f64>) -> Vec<Invariant> {
        vec![Invariant {
            name: "energy",
            values: energies(self, y),
        }]
    }
}

/// A damped, optionally driven pendulum: q̇ = p/(ml²), ṗ = -mgl sin q - γp + A cos(ωt).
/// Energy decays (γ > 0) or is pumped (A ≠ 0): nothing is conserved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrivenPendulum {
    pendulum: Pendulum,
    damping: f64,
    amplitude: f64,
    frequency: f64,
}

impl DrivenPendulum {
    /// A damped pendulum without drive (γ ≥ 0).
    pub fn damped(pendulum: Pendulum, damping: f64) -> Result<Self, SimError> {
        Self::driven(pendulum, damping, 0.0, 0.0)
    }
    /// Damping γ ≥ 0, drive amplitude A (any finite sign), drive angular frequency ω ≥ 0.
    pub fn driven(pendulum: Pendulum, damping: f64, amplitude: f64, frequency: f64) -> Result<Self, SimError> {
        Ok(Self {
            pendulum,
            damping: non_negative("damping", damping)?,
            amplitude: finite("amplitude", amplitude)?,
            frequency: non_negative("frequency", frequency)?,
        })
    }
    /// The undamped, undriven pendulum underneath.
    pub fn pendulum(&self) -> Pendulum {
        self.pendulum
    }
}

impl VectorField for DrivenPendulum {
    fn dim(&self) -> usize {
        2
    }
    fn eval(&self, t: f64, y: ArrayView2<'_, f64>, mut dy: ArrayViewMut2<'_, f64>) {
        let (i, k) = (self.pendulum.inertia(), self.pendulum.torque());
        let drive = self.amplitude * math::cos(self.frequency * t);
        for r in 0..y.nrows() {
            let (q, p) = (y[[r, 0]], y[[r, 1]]);
            dy[[r, 0]] = p / i;
            dy[[r, 1]] = -k * math::sin(q) - self.damping * p + drive;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libration_period_is_the_elliptic_integral() {
        let p = Pendulum::new(1.0, 1.0, 1.0).unwrap();
        // q_max = π/2: T = 4K(1/√2), K(1/√2) = 1.854 074 677 301 371 9 (Abramowitz & Stegun, table 17.1).
        let t = p.libration_period(1.0).unwrap();
        assert!((t - 4.0 * 1.854_074_677_301_371_9).abs() < 1e-13, "{t}");
        // Small amplitudes: 2π/ω₀ (1 + q²/16 + …), ω₀ = √(g/l).
        let q = Pendulum::new(2.0, 0.5, 9.81).unwrap();
        let small = q.libration_period(1e-10).unwrap();
        assert!(
            (small - std::f64::consts::TAU / (9.81f64 / 0.5).sqrt()).abs() < 1e-9,
            "{small}"
        );
    }

    #[test]
    fn energy_shell_states_lie_on_the_shell_uniformly_in_time() {
        let p = Pendulum::new(1.0, 1.0, 1.0).unwrap();
        let states = p.energy_shell(1.0, 4000, 7).unwrap();
        let h = |s: &[f64; 2]| 0.5 * s[1] * s[1] + 1.0 - s[0].cos();
        assert!(states.iter().all(|s| (h(s) - 1.0).abs() < 1e-9));
        // Symmetric in q and p; the turning points are reached.
        let mean = |k: usize| states.iter().map(|s| s[k]).sum::<f64>() / 4000.0;
        assert!(mean(0).abs() < 0.05 && mean(1).abs() < 0.05, "{} {}", mean(0), mean(1));
        let q_top = states.iter().map(|s| s[0]).fold(0.0, f64::max);
        assert!(q_top > std::f64::consts::FRAC_PI_2 - 0.01 && q_top <= std::f64::consts::FRAC_PI_2 + 1e-9);
        // Uniform in time: the time spent with |q| < π/4 is 2·(time from 0 to π/4)/(T/2). The
        // time from q = 0 to q is ∫ dq / √(2(cos q − cos q_max)) = F(φ, k) with sin φ = sin(q/2)/k.
        let near = states
            .iter()
            .filter(|s| s[0].abs() < std::f64::consts::FRAC_PI_4)
            .count() as f64
            / 4000.0;
        let k = std::f64::consts::FRAC_PI_4.sin();
        let phi = ((std::f64::consts::FRAC_PI_8).sin() / k).asin();
        // F(φ, k) by Simpson's rule on ∫₀^φ dθ / √(1 − k² sin² θ).
        let n = 2000;
        let f = |t: f64| 1.0 / (1.0 - k * k * t.sin().powi(2)).sqrt();
        let h_step = phi / n as f64;
        let simpson: f64 = (0..=n)
            .map(|i| {
                let w = if i == 0 || i == n {
                    1.0
                } else if i % 2 == 1 {
                    4.0
                } else {
                    2.0
                };
                w * f(i as f64 * h_step)
            })
            .sum::<f64>()
            * h_step
            / 3.0;
        let expected = 4.0 * simpson / p.libration_period(1.0).unwrap();
        // 4000 samples: the binomial standard error is ≈ 0.008.
        assert!((near - expected).abs() < 0.03, "{near} vs {expected}");
    }

    #[test]
    fn shells_outside_the_libration_range_are_named() {
        let p = Pendulum::new(1.0, 1.0, 1.0).unwrap();
        for e in [0.0, -1.0, 2.0, 3.0, f64::NAN] {
            match p.energy_shell(e, 10, 0) {
                Err(SimError::InvalidParameter { name: "energy", .. }) => {}
                other => panic!("{e}: {other:?}"),
            }
        }
        assert!(p.energy_shell(1.0, 0, 0).is_err());
    }
}
