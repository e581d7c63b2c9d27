//! Turning a [`DatasetSpec`] into a [`Dataset`]: per-trajectory random streams, DOP853 ground
//! truth on the sample grid, exact derivatives, observation noise, and the split.

use liouville_base::progress::Progress;
use liouville_integrate::adaptive::{Adaptive, AdaptiveMethod, Output};
use liouville_integrate::{HamiltonianField, IntegrateError, SeparableHamiltonian, VectorField};
use ndarray::{Array1, Array2, Array3, ArrayView2, Axis, s};
use rayon::prelude::*;

use super::Dataset;
use super::spec::{DatasetSpec, SystemSpec};
use crate::rng::Rng;
use crate::systems::double_pendulum::DoublePendulum;
use crate::systems::gravity::NBodyGravity;
use crate::systems::lorenz::Lorenz63;
use crate::systems::mass_spring::MassSpring;
use crate::systems::pendulum::{DrivenPendulum, Pendulum};
use crate::systems::seir::Seir;
use crate::systems::springs::NriSprings;
use crate::{SimError, math};

/// Bounds on one generation run, so that absurd settings fail fast with a typed error instead of
/// exhausting memory or running for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest in-memory dataset (states, derivatives and observations, 8 bytes per value),
    /// estimated before any work is done. Default 4 GiB.
    pub max_bytes: u64,
    /// DOP853 step budget per trajectory. Default 10⁶ (the standard datasets need < 10⁴).
    pub max_steps: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 4 << 30,
            max_steps: 1_000_000,
        }
    }
}

/// A contiguous slice `index` of `count` equal parts of the trajectories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which part, 0-based.
    pub index: usize,
    /// Number of parts.
    pub count: usize,
}

impl Shard {
    /// The whole dataset.
    pub fn whole() -> Self {
        Self { index: 0, count: 1 }
    }
    /// Validates index < count.
    pub fn new(index: usize, count: usize) -> Result<Self, SimError> {
        if count == 0 || index >= count {
            return Err(SimError::InvalidOption(format!(
                "shard {index}/{count}: need 0 <= index < count"
            )));
        }
        Ok(Self { index, count })
    }
    /// Trajectory indices of this shard out of `n`.
    pub fn range(&self, n: usize) -> std::ops::Range<usize> {
        n * self.index / self.count..n * (self.index + 1) / self.count
    }
}

/// The concrete vector field of a spec.
enum Model {
    MassSpring(HamiltonianField<MassSpring>),
    Pendulum(HamiltonianField<Pendulum>),
    Driven(DrivenPendulum),
    Double(HamiltonianField<DoublePendulum>),
    Gravity(HamiltonianField<NBodyGravity>),
    Lorenz(Lorenz63),
    Seir(Seir),
    Nri(NriSprings),
}

impl Model {
    fn build(system: &SystemSpec) -> Result<Self, SimError> {
        Ok(match *system {
            SystemSpec::MassSpring { mass, stiffness, .. } => {
                Model::MassSpring(HamiltonianField(MassSpring::new(mass, stiffness)?))
            }
            SystemSpec::Pendulum {
                mass, length, gravity, ..
            } => Model::Pendulum(HamiltonianField(Pendulum::new(mass, length, gravity)?)),
            SystemSpec::DrivenPendulum {
                mass,
                length,
                gravity,
                damping,
                amplitude,
                frequency,
            } => Model::Driven(DrivenPendulum::driven(
                Pendulum::new(mass, length, gravity)?,
                damping,
                amplitude,
                frequency,
            )?),
            SystemSpec::DoublePendulum { m1, m2, l1, l2, g, .. } => {
                Model::Double(HamiltonianField(DoublePendulum::new(m1, m2, l1, l2, g)?))
            }
            SystemSpec::TwoBody { .. } => Model::Gravity(HamiltonianField(NBodyGravity::two_body())),
            SystemSpec::ThreeBody { .. } => Model::Gravity(HamiltonianField(NBodyGravity::three_body())),
            SystemSpec::Lorenz { sigma, rho, beta } => Model::Lorenz(Lorenz63::new(sigma, rho, beta)?),
            SystemSpec::Seir { beta, sigma, gamma } => Model::Seir(Seir::new(beta, sigma, gamma)?),
            SystemSpec::NriSprings {
                balls,
                box_size,
                interaction,
                edge_probability,
                ..
            } => {
                let nri = NriSprings {
                    balls,
                    box_size,
                    interaction,
                    edge_probability,
                };
                nri.validate()?;
                Model::Nri(nri)
            }
        })
    }

    /// Columns of a state row.
    fn columns(&self) -> usize {
        match self {
            Model::Nri(nri) => 4 * nri.balls,
            other => other.field().expect("ODE model").dim(),
        }
    }

    fn field(&self) -> Option<&dyn VectorField> {
        Some(match self {
            Model::MassSpring(f) => f,
            Model::Pendulum(f) => f,
            Model::Driven(f) => f,
            Model::Double(f) => f,
            Model::Gravity(f) => f,
            Model::Lorenz(f) => f,
            Model::Seir(f) => f,
            Model::Nri(_) => return None,
        })
    }
}

/// Draws an initial condition (one row) for `system`.
fn initial_condition(system: &SystemSpec, rng: &mut Rng) -> Array1<f64> {
    let circle = |rng: &mut Rng, (a, b): (f64, f64)| {
        let r = rng.uniform_in(a, b);
        let (s, c) = math::sin_cos(rng.uniform_in(0.0, std::f64::consts::TAU));
        ndarray::array![r * c, r * s]
    };
    match *system {
        // Greydanus et al.: a uniform direction in the (q, p) plane at radius ~ U[a, b].
        SystemSpec::MassSpring { radius, .. } | SystemSpec::Pendulum { radius, .. } => circle(rng, radius),
        SystemSpec::DrivenPendulum { .. } => {
            ndarray::array![
                rng.uniform_in(-std::f64::consts::FRAC_PI_2, std::f64::consts::FRAC_PI_2),
                rng.uniform_in(-1.0, 1.0)
            ]
        }
        SystemSpec::DoublePendulum { angle, .. } => {
            ndarray::array![rng.uniform_in(-angle, angle), rng.uniform_in(-angle, angle), 0.0, 0.0]
        }
        SystemSpec::TwoBody { radius, velocity_noise } => {
            let (x, y) = (rng.uniform_in(radius.0, radius.1), rng.uniform_in(radius.0, radius.1));
            let r = (x * x + y * y).sqrt();
            // Circular orbit of two unit masses about their centre: |v| = 1/(2√r).
            let scale = (1.0 + velocity_noise * rng.normal()) / (2.0 * r * r.sqrt());
            let (vx, vy) = (-y * scale, x * scale);
            ndarray::array![x, y, -x, -y, vx, vy, -vx, -vy]
        }
        SystemSpec::ThreeBody { radius, velocity_noise } => {
            let r = rng.uniform_in(radius.0, radius.1);
            let phase = rng.uniform_in(0.0, std::f64::consts::TAU);
            // Lagrange's equilateral solution for unit masses: |v| = √(1/(√3 r)).
            let speed = (1.0 / (3f64.sqrt() * r)).sqrt();
            let mut y = Array1::zeros(12);
            for i in 0..3 {
                let (s, c) = math::sin_cos(phase + i as f64 * std::f64::consts::TAU / 3.0);
                let v = speed * (1.0 + velocity_noise * rng.normal());
                y[2 * i] = r * c;
                y[2 * i + 1] = r * s;
                y[6 + 2 * i] = -v * s;
                y[6 + 2 * i + 1] = v * c;
            }
            y
        }
        SystemSpec::Lorenz { .. } => ndarray::array![5.0 * rng.normal(), 5.0 * rng.normal(), 25.0 + 5.0 * rng.normal()],
        SystemSpec::Seir { .. } => {
            let infected = rng.uniform_in(0.001, 0.01);
            ndarray::array![1.0 - infected, 0.0, infected, 0.0]
        }
        SystemSpec::NriSprings { .. } => Array1::zeros(0),
    }
}

/// One generated trajectory.
struct Trajectory {
    initial: Array1<f64>,
    states: Array2<f64>,
    derivatives: Array2<f64>,
    observations: Array2<f64>,
    edges: Option<Array2<f64>>,
}

fn sample_times(spec: &DatasetSpec) -> Vec<f64> {
    match spec.system {
        SystemSpec::NriSprings { dt, sample_every, .. } => {
            (1..=spec.samples).map(|k| (k * sample_every) as f64 * dt).collect()
        }
        _ => (0..spec.samples)
            .map(|k| spec.t_end * k as f64 / (spec.samples - 1) as f64)
            .collect(),
    }
}

fn trajectory(
    spec: &DatasetSpec,
    model: &Model,
    times: &[f64],
    index: usize,
    limits: Limits,
) -> Result<Trajectory, SimError> {
    let mut rng = Rng::stream(spec.seed, index as u64);
    let (initial, states, derivatives, edges) = match model {
        Model::Nri(nri) => {
            let SystemSpec::NriSprings { dt, sample_every, .. } = spec.system else {
                unreachable!("model matches spec")
            };
            let run = nri.simulate(&mut rng, spec.samples * sample_every, sample_every, dt)?;
            let n = nri.balls;
            let mut states = Array2::zeros((spec.samples, 4 * n));
            for k in 0..spec.samples {
                for i in 0..n {
                    states[[k, 2 * i]] = run.states[[k, i, 0]];
                    states[[k, 2 * i + 1]] = run.states[[k, i, 1]];
                    states[[k, 2 * n + 2 * i]] = run.states[[k, i, 2]];
                    states[[k, 2 * n + 2 * i + 1]] = run.states[[k, i, 3]];
                }
            }
            let net = nri.network(&run.edges)?;
            let mut derivatives = Array2::zeros(states.dim());
            let (q, p) = states.view().split_at(Axis(1), 2 * n);
            derivatives.slice_mut(s![.., ..2 * n]).assign(&p);
            let mut force = Array2::zeros(q.dim());
            net.grad_potential(q, force.view_mut());
            derivatives.slice_mut(s![.., 2 * n..]).assign(&(-force));
            (states.row(0).to_owned(), states, derivatives, Some(run.edges))
        }
        _ => {
            let field = model.field().expect("ODE model");
            let initial = initial_condition(&spec.system, &mut rng);
            let solver = Adaptive::new(AdaptiveMethod::Dop853)
                .rtol(spec.tolerance)
                .atol(spec.tolerance)
                .max_steps(limits.max_steps)
                .build()?;
            let y0 = initial.view().insert_axis(Axis(0));
            let sol = solver
                .solve(field, 0.0, spec.t_end, y0, Output::Times(times))
                .map_err(|e| match e {
                    IntegrateError::TooManySteps { t, max_steps } => SimError::StepBudget {
                        t_end: spec.t_end,
                        trajectory: index,
                        max_steps,
                        t,
                    },
                    other => other.into(),
                })?;
            let states = sol.states.index_axis(Axis(1), 0).to_owned();
            let mut derivatives = Array2::zeros(states.dim());
            for (k, &t) in times.iter().enumerate() {
                field.eval(
                    t,
                    states.slice(s![k..k + 1, ..]),
                    derivatives.slice_mut(s![k..k + 1, ..]),
                );
            }
            (initial, states, derivatives, None)
        }
    };
    let mut observations = states.clone();
    if spec.noise_std > 0.0 {
        observations.mapv_inplace(|v| v + spec.noise_std * rng.normal());
    }
    Ok(Trajectory {
        initial,
        states,
        derivatives,
        observations,
        edges,
    })
}

/// The test split: a seeded permutation of all trajectory indices; the first
/// round(N·test_fraction) are test. Every shard computes the same permutation.
fn test_mask(spec: &DatasetSpec) -> Vec<bool> {
    let n = spec.trajectories;
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = Rng::stream(spec.seed, u64::MAX);
    for i in (1..n).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let n_test = (n as f64 * spec.test_fraction).round() as usize;
    let mut mask = vec![false; n];
    for &i in &order[..n_test] {
        mask[i] = true;
    }
    mask
}

/// Generates the trajectories of `shard` in parallel, with a progress bar when `progress` is set
/// and standard error is a terminal.
pub fn generate(spec: &DatasetSpec, shard: Shard, progress: bool) -> Result<Dataset, SimError> {
    generate_within(spec, shard, progress, Limits::default())
}

/// [`generate`] under explicit [`Limits`]: the dataset's size is estimated before any work and
/// refused beyond `max_bytes`; each trajectory's integration stops at `max_steps`.
pub fn generate_within(spec: &DatasetSpec, shard: Shard, progress: bool, limits: Limits) -> Result<Dataset, SimError> {
    spec.validate()?;
    let model = Model::build(&spec.system)?;
    let bytes = (shard.range(spec.trajectories).len() as u128) * spec.samples as u128 * model.columns() as u128 * 3 * 8;
    if bytes > limits.max_bytes as u128 {
        return Err(SimError::TooLarge {
            bytes,
            limit: limits.max_bytes,
            what: format!(
                "{} trajectories × {} samples × {} columns (states, derivatives, observations)",
                shard.range(spec.trajectories).len(),
                spec.samples,
                model.columns()
            ),
        });
    }
    let times = sample_times(spec);
    let range = shard.range(spec.trajectories);
    if range.is_empty() {
        return Err(SimError::InvalidOption(format!(
            "shard {}/{} of {} trajectories is empty",
            shard.index, shard.count, spec.trajectories
        )));
    }
    let bar = Progress::new(spec.system.name(), "trajectories", range.len() as u64, progress);
    let results: Vec<Result<Trajectory, SimError>> = range
        .clone()
        .into_par_iter()
        .map(|i| {
            let r = trajectory(spec, &model, &times, i, limits);
            bar.inc(1);
            r
        })
        .collect();
    bar.finish();
    let trajectories = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let (t, d) = trajectories[0].states.dim();
    let n = trajectories.len();
    let stack = |f: &dyn Fn(&Trajectory) -> ArrayView2<'_, f64>| {
        let mut out = Array3::zeros((n, t, d));
        for (k, tr) in trajectories.iter().enumerate() {
            out.index_axis_mut(Axis(0), k).assign(&f(tr));
        }
        out
    };
    let mut initial_conditions = Array2::zeros((n, d));
    for (k, tr) in trajectories.iter().enumerate() {
        initial_conditions.row_mut(k).assign(&tr.initial);
    }
    let edges = trajectories[0].edges.as_ref().map(|e0| {
        let mut out = Array3::zeros((n, e0.nrows(), e0.ncols()));
        for (k, tr) in trajectories.iter().enumerate() {
            out.index_axis_mut(Axis(0), k)
                .assign(tr.edges.as_ref().expect("every NRI trajectory has edges"));
        }
        out
    });
    let mask = test_mask(spec);
    let ds = Dataset {
        spec: spec.clone(),
        first_trajectory: range.start,
        times,
        states: stack(&|tr| tr.states.view()),
        observations: stack(&|tr| tr.observations.view()),
        derivatives: stack(&|tr| tr.derivatives.view()),
        initial_conditions,
        is_test: mask[range].to_vec(),
        state_labels: spec.system.state_labels(),
        edges,
    };
    ds.validate()?;
    Ok(ds)
}
