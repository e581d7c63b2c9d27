//! The damped harmonic oscillator m ẍ = −k x − b ẋ, and SciNet's observation protocol of it
//! (Iten, Metger, Wilming, del Rio & Renner 2020, "Discovering physical concepts with neural
//! networks", PRL 124, 010508: the network sees x(t) at 50 times, is asked for x at another time,
//! and should encode k and b in two latent neurons).
//!
//! Underdamped (b² < 4mk), released from x(0) = A₀ with phase δ₀ the closed form is
//! x(t) = A₀ e^{−γt} cos(ωt + δ₀), γ = b/(2m), ω = √(k/m − γ²) (SciNet's `osc_eqn`). With δ₀ = 0
//! the initial velocity is −γA₀, not 0: the protocol's series, reproduced as published.

use liouville_base::math;
use liouville_base::random::Rng;
use liouville_integrate::VectorField;
use ndarray::{ArrayView2, ArrayViewMut2};

use crate::SimError;
use crate::error::{finite, non_negative, positive};

/// m ẍ = −k x − b ẋ with b² < 4mk (underdamped: the closed form oscillates).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DampedOscillator {
    mass: f64,
    stiffness: f64,
    damping: f64,
}

impl DampedOscillator {
    /// Validates m > 0, k > 0, b ≥ 0 and b² < 4mk.
    pub fn new(mass: f64, stiffness: f64, damping: f64) -> Result<Self, SimError> {
        let (mass, stiffness) = (positive("mass", mass)?, positive("stiffness", stiffness)?);
        let damping = non_negative("damping", damping)?;
        if damping * damping >= 4.0 * mass * stiffness {
            return Err(SimError::InvalidParameter {
                name: "damping",
                value: damping,
                requirement: "must satisfy b² < 4mk (an underdamped oscillator)",
            });
        }
        Ok(Self {
            mass,
            stiffness,
            damping,
        })
    }
    /// Mass m.
    pub fn mass(&self) -> f64 {
        self.mass
    }
    /// Spring constant k.
    pub fn stiffness(&self) -> f64 {
        self.stiffness
    }
    /// Damping coefficient b.
    pub fn damping(&self) -> f64 {
        self.damping
    }
    /// Decay rate of the envelope, γ = b/(2m).
    pub fn decay_rate(&self) -> f64 {
        self.damping / (2.0 * self.mass)
    }
    /// Angular frequency ω = √(k/m − γ²).
    pub fn angular_frequency(&self) -> f64 {
        let g = self.decay_rate();
        (self.stiffness / self.mass - g * g).sqrt()
    }
    /// x(t) = A₀ e^{−γt} cos(ωt + δ₀).
    pub fn position(&self, t: f64, amplitude: f64, phase: f64) -> f64 {
        amplitude * libm::exp(-self.decay_rate() * t) * math::cos(self.angular_frequency() * t + phase)
    }
    /// ẋ(t) of the same solution.
    pub fn velocity(&self, t: f64, amplitude: f64, phase: f64) -> f64 {
        let (g, w) = (self.decay_rate(), self.angular_frequency());
        let (s, c) = math::sin_cos(w * t + phase);
        -amplitude * libm::exp(-g * t) * (g * c + w * s)
    }
}

impl VectorField for DampedOscillator {
    /// State (x, ẋ).
    fn dim(&self) -> usize {
        2
    }
    fn eval(&self, _t: f64, y: ArrayView2<'_, f64>, mut dy: ArrayViewMut2<'_, f64>) {
        for r in 0..y.nrows() {
            let (x, v) = (y[[r, 0]], y[[r, 1]]);
            dy[[r, 0]] = v;
            dy[[r, 1]] = -(self.stiffness * x + self.damping * v) / self.mass;
        }
    }
}

/// SciNet's damped-oscillator protocol: k and b drawn uniformly, x(t) observed at `samples`
/// equally spaced times on [0, `observation_end`], one question time drawn uniformly on
/// [0, `question_end`] per series.
#[derive(Debug, Clone, PartialEq)]
pub struct OscillatorSeriesSpec {
    /// Number of series.
    pub count: usize,
    /// Observations per series (SciNet: 50).
    pub samples: usize,
    /// Last observation time (SciNet: 5 s).
    pub observation_end: f64,
    /// Questions are drawn on [0, question_end] (SciNet: 10 s).
    pub question_end: f64,
    /// Range of the spring constant k (SciNet: [5, 10] kg/s²).
    pub stiffness: (f64, f64),
    /// Range of the damping b (SciNet: [0.5, 1] kg/s).
    pub damping: (f64, f64),
    /// Mass (SciNet: 1 kg).
    pub mass: f64,
    /// A₀ (SciNet: 1 m).
    pub amplitude: f64,
    /// δ₀ (SciNet: 0).
    pub phase: f64,
    /// Seed: series i draws from stream (seed, i), so any prefix of a larger set is the same.
    pub seed: u64,
}

impl OscillatorSeriesSpec {
    /// The published protocol with `count` series.
    pub fn scinet(count: usize, seed: u64) -> Self {
        Self {
            count,
            samples: 50,
            observation_end: 5.0,
            question_end: 10.0,
            stiffness: (5.0, 10.0),
            damping: (0.5, 1.0),
            mass: 1.0,
            amplitude: 1.0,
            phase: 0.0,
            seed,
        }
    }
}

/// Series of damped oscillators with their physical parameters (row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct OscillatorSeries {
    /// The `samples` observation times.
    pub observation_times: Vec<f64>,
    /// `count × samples` positions x(tⱼ).
    pub observations: Vec<f64>,
    /// One question time per series.
    pub question_times: Vec<f64>,
    /// x at the question time.
    pub answers: Vec<f64>,
    /// k of each series.
    pub stiffness: Vec<f64>,
    /// b of each series.
    pub damping: Vec<f64>,
}

impl OscillatorSeries {
    /// Number of series.
    pub fn len(&self) -> usize {
        self.answers.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }
}

/// Largest set [`oscillator_series`] builds: 2²⁶ values (512 MiB of f64).
const MAX_VALUES: u128 = 1 << 26;

fn range(name: &'static str, (lo, hi): (f64, f64)) -> Result<(f64, f64), SimError> {
    let lo = finite(name, lo)?;
    if !(hi.is_finite() && hi >= lo) {
        return Err(SimError::InvalidParameter {
            name,
            value: hi,
            requirement: "the upper end must be finite and ≥ the lower end",
        });
    }
    Ok((lo, hi))
}

/// Generates `spec`'s series. Invalid ranges, a range that reaches the overdamped regime, fewer
/// than 2 samples and absurd counts are typed errors.
pub fn oscillator_series(spec: &OscillatorSeriesSpec) -> Result<OscillatorSeries, SimError> {
    if spec.count == 0 || spec.samples < 2 {
        return Err(SimError::InvalidOption(format!(
            "oscillator series need count ≥ 1 and samples ≥ 2, got {} and {}",
            spec.count, spec.samples
        )));
    }
    let values = spec.count as u128 * (spec.samples as u128 + 4);
    if values > MAX_VALUES {
        return Err(SimError::TooLarge {
            bytes: values * 8,
            limit: (MAX_VALUES * 8) as u64,
            what: format!("{} series of {} samples", spec.count, spec.samples),
        });
    }
    let t_obs = positive("observation_end", spec.observation_end)?;
    let t_question = positive("question_end", spec.question_end)?;
    let (k_lo, k_hi) = range("stiffness", spec.stiffness)?;
    let (b_lo, b_hi) = range("damping", spec.damping)?;
    finite("amplitude", spec.amplitude)?;
    finite("phase", spec.phase)?;
    // The corners of the box decide: the weakest spring with the strongest damping.
    DampedOscillator::new(spec.mass, k_lo, b_lo)?;
    DampedOscillator::new(spec.mass, k_lo, b_hi)?;
    let n = spec.samples;
    let observation_times: Vec<f64> = (0..n).map(|j| t_obs * j as f64 / (n - 1) as f64).collect();
    let mut out = OscillatorSeries {
        observations: Vec::with_capacity(spec.count * n),
        observation_times,
        question_times: Vec::with_capacity(spec.count),
        answers: Vec::with_capacity(spec.count),
        stiffness: Vec::with_capacity(spec.count),
        damping: Vec::with_capacity(spec.count),
    };
    for i in 0..spec.count {
        let mut rng = Rng::stream(spec.seed, i as u64);
        let k = rng.uniform_in(k_lo, k_hi);
        let b = rng.uniform_in(b_lo, b_hi);
        let t = rng.uniform_in(0.0, t_question);
        let osc = DampedOscillator::new(spec.mass, k, b)?;
        out.observations.extend(
            out.observation_times
                .iter()
                .map(|&tj| osc.position(tj, spec.amplitude, spec.phase)),
        );
        out.question_times.push(t);
        out.answers.push(osc.position(t, spec.amplitude, spec.phase));
        out.stiffness.push(k);
        out.damping.push(b);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use liouville_integrate::adaptive::{Adaptive, AdaptiveMethod, Output};
    use ndarray::array;

    #[test]
    fn closed_form_solves_the_equation_of_motion() {
        let osc = DampedOscillator::new(1.3, 7.0, 0.8).unwrap();
        let (a, d) = (0.9, 0.4);
        let y0 = array![[osc.position(0.0, a, d), osc.velocity(0.0, a, d)]];
        let solver = Adaptive::new(AdaptiveMethod::Dop853)
            .rtol(1e-12)
            .atol(1e-12)
            .build()
            .unwrap();
        let sol = solver.solve(&osc, 0.0, 6.0, y0.view(), Output::Final).unwrap();
        let y = sol.last();
        assert!((y[[0, 0]] - osc.position(6.0, a, d)).abs() < 1e-9, "{y}");
        assert!((y[[0, 1]] - osc.velocity(6.0, a, d)).abs() < 1e-9, "{y}");
    }

    #[test]
    fn overdamped_and_nonpositive_parameters_are_named() {
        for (m, k, b, name) in [
            (0.0, 5.0, 0.5, "mass"),
            (1.0, -1.0, 0.5, "stiffness"),
            (1.0, 5.0, f64::NAN, "damping"),
            (1.0, 1.0, 2.0, "damping"),
        ] {
            match DampedOscillator::new(m, k, b) {
                Err(SimError::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{m} {k} {b}: {other:?}"),
            }
        }
    }

    #[test]
    fn scinet_series_follow_the_protocol() {
        let s = oscillator_series(&OscillatorSeriesSpec::scinet(200, 3)).unwrap();
        assert_eq!((s.len(), s.observations.len()), (200, 200 * 50));
        assert_eq!(s.observation_times[49], 5.0);
        for i in 0..s.len() {
            assert!((5.0..=10.0).contains(&s.stiffness[i]) && (0.5..=1.0).contains(&s.damping[i]));
            assert!((0.0..=10.0).contains(&s.question_times[i]));
            // Released at x = A₀ = 1.
            assert_eq!(s.observations[i * 50], 1.0);
            let osc = DampedOscillator::new(1.0, s.stiffness[i], s.damping[i]).unwrap();
            assert_eq!(s.answers[i], osc.position(s.question_times[i], 1.0, 0.0));
        }
        // A prefix of a larger set is the same set.
        let more = oscillator_series(&OscillatorSeriesSpec::scinet(300, 3)).unwrap();
        assert_eq!(more.observations[..200 * 50], s.observations[..]);
        assert_eq!(more.stiffness[..200], s.stiffness[..]);
    }

    #[test]
    fn bad_specs_are_typed_errors() {
        let ok = OscillatorSeriesSpec::scinet(10, 0);
        let cases = [
            OscillatorSeriesSpec { count: 0, ..ok.clone() },
            OscillatorSeriesSpec {
                samples: 1,
                ..ok.clone()
            },
            OscillatorSeriesSpec {
                count: usize::MAX / 2,
                ..ok.clone()
            },
            OscillatorSeriesSpec {
                stiffness: (5.0, f64::NAN),
                ..ok.clone()
            },
            OscillatorSeriesSpec {
                damping: (0.5, 10.0),
                ..ok.clone()
            },
            OscillatorSeriesSpec {
                observation_end: -1.0,
                ..ok.clone()
            },
        ];
        for spec in cases {
            assert!(oscillator_series(&spec).is_err(), "{spec:?}");
        }
    }
}
