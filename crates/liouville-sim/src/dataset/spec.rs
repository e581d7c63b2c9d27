//! What to simulate: the system with its parameters and initial-condition distribution, and the
//! sampling settings. A spec plus a seed determines a dataset bit for bit.

use serde::{Deserialize, Serialize};

use crate::SimError;
use crate::error::{non_negative, positive};

/// A system and how its initial conditions are drawn. Each variant's fields are the physical
/// parameters named in its documentation (same names as the system's constructor).
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SystemSpec {
    /// H = p²/(2m) + kq²/2; (q, p) on a circle of radius ~ U[r_min, r_max] in (q, p) at a uniform
    /// angle (Greydanus et al.).
    MassSpring {
        mass: f64,
        stiffness: f64,
        radius: (f64, f64),
    },
    /// The ideal pendulum; (q, p) drawn as for the mass-spring.
    Pendulum {
        mass: f64,
        length: f64,
        gravity: f64,
        radius: (f64, f64),
    },
    /// Damped and driven pendulum, q ~ U[-π/2, π/2], p ~ U[-1, 1].
    DrivenPendulum {
        mass: f64,
        length: f64,
        gravity: f64,
        damping: f64,
        amplitude: f64,
        frequency: f64,
    },
    /// Double pendulum, angles ~ U[-angle, angle], momenta zero.
    DoublePendulum {
        m1: f64,
        m2: f64,
        l1: f64,
        l2: f64,
        g: f64,
        angle: f64,
    },
    /// Two unit masses (G = 1) on a near-circular orbit: separation vector with components
    /// ~ U[r_min, r_max], circular velocity scaled by 1 + noise·N(0, 1) (Greydanus et al.).
    TwoBody { radius: (f64, f64), velocity_noise: f64 },
    /// Three unit masses near the Lagrange equilateral solution, radius ~ U[r_min, r_max],
    /// random phase, velocities scaled by 1 + noise·N(0, 1).
    ThreeBody { radius: (f64, f64), velocity_noise: f64 },
    /// The NRI balls-in-a-box springs (symplectic Euler with wall reflections, step dt, recorded
    /// every `sample_every` steps; `DatasetSpec::samples` recordings).
    NriSprings {
        balls: usize,
        box_size: f64,
        interaction: f64,
        edge_probability: f64,
        dt: f64,
        sample_every: usize,
    },
    /// Lorenz-63, start ~ N((0, 0, 25), 5²) per component.
    Lorenz { sigma: f64, rho: f64, beta: f64 },
    /// SEIR with population 1, initial infected fraction ~ U[0.001, 0.01].
    Seir { beta: f64, sigma: f64, gamma: f64 },
}

impl SystemSpec {
    /// Short name used for files and the CLI.
    pub fn name(&self) -> &'static str {
        match self {
            Self::MassSpring { .. } => "mass_spring",
            Self::Pendulum { .. } => "pendulum",
            Self::DrivenPendulum { .. } => "driven_pendulum",
            Self::DoublePendulum { .. } => "double_pendulum",
            Self::TwoBody { .. } => "two_body",
            Self::ThreeBody { .. } => "three_body",
            Self::NriSprings { .. } => "nri_springs",
            Self::Lorenz { .. } => "lorenz",
            Self::Seir { .. } => "seir",
        }
    }

    /// Whether the flow conserves an autonomous energy H(q, p): false for the driven, damped
    /// pendulum (time-dependent forcing, friction), Lorenz-63 and SEIR (dissipative, not
    /// Hamiltonian at all). NRI springs conserve their spring energy.
    pub fn conservative(&self) -> bool {
        !matches!(
            self,
            Self::DrivenPendulum { .. } | Self::Lorenz { .. } | Self::Seir { .. }
        )
    }

    /// Names of the state components.
    pub fn state_labels(&self) -> Vec<String> {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect();
        match self {
            Self::MassSpring { .. } | Self::Pendulum { .. } | Self::DrivenPendulum { .. } => v(&["q", "p"]),
            Self::DoublePendulum { .. } => v(&["q1", "q2", "p1", "p2"]),
            Self::TwoBody { .. } => v(&["x1", "y1", "x2", "y2", "px1", "py1", "px2", "py2"]),
            Self::ThreeBody { .. } => v(&[
                "x1", "y1", "x2", "y2", "x3", "y3", "px1", "py1", "px2", "py2", "px3", "py3",
            ]),
            Self::NriSprings { balls, .. } => {
                let mut l: Vec<String> = (0..*balls).flat_map(|i| [format!("x{i}"), format!("y{i}")]).collect();
                l.extend((0..*balls).flat_map(|i| [format!("vx{i}"), format!("vy{i}")]));
                l
            }
            Self::Lorenz { .. } => v(&["x", "y", "z"]),
            Self::Seir { .. } => v(&["S", "E", "I", "R"]),
        }
    }

    /// The HNN paper's mass-spring (H = q² + p², radius ~ U[0.1, 1]).
    pub fn hnn_mass_spring() -> Self {
        Self::MassSpring {
            mass: 0.5,
            stiffness: 2.0,
            radius: (0.1, 1.0),
        }
    }
    /// The HNN paper's pendulum (H = 3(1 - cos q) + p², radius ~ U[1.3, 2.3]).
    pub fn hnn_pendulum() -> Self {
        Self::Pendulum {
            mass: 1.0,
            length: std::f64::consts::FRAC_1_SQRT_2,
            gravity: 3.0 * std::f64::consts::SQRT_2,
            radius: (1.3, 2.3),
        }
    }
    /// The HNN paper's two-body task.
    pub fn hnn_two_body() -> Self {
        Self::TwoBody {
            radius: (0.5, 1.5),
            velocity_noise: 0.05,
        }
    }
    /// The HNN paper's three-body task.
    pub fn hnn_three_body() -> Self {
        Self::ThreeBody {
            radius: (0.9, 1.2),
            velocity_noise: 0.05,
        }
    }
    /// The LNN paper's double pendulum (m = l = 1, g = 9.8).
    pub fn lnn_double_pendulum() -> Self {
        Self::DoublePendulum {
            m1: 1.0,
            m2: 1.0,
            l1: 1.0,
            l2: 1.0,
            g: 9.8,
            angle: std::f64::consts::FRAC_PI_2,
        }
    }
    /// The NRI springs system (5 balls).
    pub fn nri_springs() -> Self {
        Self::NriSprings {
            balls: 5,
            box_size: 5.0,
            interaction: 0.1,
            edge_probability: 0.5,
            dt: 0.001,
            sample_every: 100,
        }
    }
}

/// Everything that determines a trajectory dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetSpec {
    /// The system.
    pub system: SystemSpec,
    /// Number of trajectories.
    pub trajectories: usize,
    /// Time points per trajectory (including t = 0).
    pub samples: usize,
    /// Final time (ignored for NRI springs, whose times follow from dt and sample_every).
    pub t_end: f64,
    /// Standard deviation of the Gaussian observation noise added to every state component.
    pub noise_std: f64,
    /// Fraction of trajectories in the test split.
    pub test_fraction: f64,
    /// Seed of every random draw.
    pub seed: u64,
    /// rtol = atol of the DOP853 ground truth.
    pub tolerance: f64,
}

impl DatasetSpec {
    /// A spec with noise 0, test fraction ½, seed 0 and tolerance 1e-10.
    pub fn new(system: SystemSpec, trajectories: usize, samples: usize, t_end: f64) -> Self {
        Self {
            system,
            trajectories,
            samples,
            t_end,
            noise_std: 0.0,
            test_fraction: 0.5,
            seed: 0,
            tolerance: 1e-10,
        }
    }
    /// Sets the observation noise.
    pub fn noise(mut self, std: f64) -> Self {
        self.noise_std = std;
        self
    }
    /// Sets the test fraction.
    pub fn test_fraction(mut self, f: f64) -> Self {
        self.test_fraction = f;
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Validates counts, times, noise, tolerances and the system's parameters.
    pub fn validate(&self) -> Result<(), SimError> {
        if self.trajectories == 0 || self.samples < 2 {
            return Err(SimError::InvalidOption(
                "need at least 1 trajectory and 2 time points".into(),
            ));
        }
        positive("t_end", self.t_end)?;
        non_negative("noise_std", self.noise_std)?;
        positive("tolerance", self.tolerance)?;
        if !(0.0..=1.0).contains(&self.test_fraction) {
            return Err(SimError::InvalidParameter {
                name: "test_fraction",
                value: self.test_fraction,
                requirement: "must be in [0, 1]",
            });
        }
        let range = |name: &'static str, (a, b): (f64, f64)| -> Result<(), SimError> {
            non_negative(name, a)?;
            if !(b.is_finite() && b >= a) {
                return Err(SimError::InvalidParameter {
                    name,
                    value: b,
                    requirement: "upper bound must be finite and >= lower",
                });
            }
            Ok(())
        };
        match &self.system {
            SystemSpec::MassSpring { radius, .. } | SystemSpec::Pendulum { radius, .. } => range("radius", *radius),
            SystemSpec::TwoBody { radius, velocity_noise } | SystemSpec::ThreeBody { radius, velocity_noise } => {
                positive("radius", radius.0)?;
                range("radius", *radius)?;
                non_negative("velocity_noise", *velocity_noise).map(|_| ())
            }
            SystemSpec::DoublePendulum { angle, .. } => non_negative("angle", *angle).map(|_| ()),
            SystemSpec::NriSprings { dt, sample_every, .. } => {
                positive("dt", *dt)?;
                if *sample_every == 0 {
                    return Err(SimError::InvalidOption("sample_every must be >= 1".into()));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

impl DatasetSpec {
    /// Names accepted by [`DatasetSpec::standard`].
    pub const STANDARD_NAMES: [&'static str; 10] = [
        "mass_spring",
        "pendulum",
        "two_body",
        "three_body",
        "double_pendulum",
        "driven_pendulum",
        "nri_springs",
        "lorenz",
        "seir",
        "ising",
    ];

    /// The standard settings of a named system (those of the papers that use it), seeded;
    /// `None` for an unknown name and for `ising` (see [`crate::dataset::IsingSpec`]).
    pub fn standard(name: &str, seed: u64) -> Option<DatasetSpec> {
        let spec = |system, n, samples, t_end, noise, test| {
            DatasetSpec::new(system, n, samples, t_end)
                .noise(noise)
                .test_fraction(test)
                .seed(seed)
        };
        Some(match name {
            // Greydanus et al.: 50 trajectories split 25/25, 30 points over [0, 3], σ = 0.1.
            "mass_spring" => spec(SystemSpec::hnn_mass_spring(), 50, 30, 3.0, 0.1, 0.5),
            // 45 points over [0, 3], σ = 0.1.
            "pendulum" => spec(SystemSpec::hnn_pendulum(), 50, 45, 3.0, 0.1, 0.5),
            // 1000 near-circular orbits, 50 steps over [0, 20], 80/20 split.
            "two_body" => spec(SystemSpec::hnn_two_body(), 1000, 50, 20.0, 0.0, 0.2),
            "three_body" => spec(SystemSpec::hnn_three_body(), 1000, 50, 5.0, 0.0, 0.2),
            "double_pendulum" => spec(SystemSpec::lnn_double_pendulum(), 200, 101, 10.0, 0.0, 0.2),
            "driven_pendulum" => spec(
                SystemSpec::DrivenPendulum {
                    mass: 1.0,
                    length: 1.0,
                    gravity: 9.8,
                    damping: 0.1,
                    amplitude: 1.2,
                    frequency: 2.0 / 3.0,
                },
                100,
                201,
                20.0,
                0.0,
                0.2,
            ),
            // NRI: 5 balls, dt = 0.001, recorded every 100 steps, 49 recordings.
            "nri_springs" => spec(SystemSpec::nri_springs(), 1000, 49, 4.9, 0.0, 0.2),
            "lorenz" => spec(
                SystemSpec::Lorenz {
                    sigma: 10.0,
                    rho: 28.0,
                    beta: 8.0 / 3.0,
                },
                100,
                1001,
                10.0,
                0.0,
                0.2,
            ),
            "seir" => spec(
                SystemSpec::Seir {
                    beta: 0.5,
                    sigma: 0.2,
                    gamma: 0.1,
                },
                100,
                201,
                200.0,
                0.0,
                0.2,
            ),
            _ => return None,
        })
    }
}
