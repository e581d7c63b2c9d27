//! The GNS recipe: statistics, exact noise-free targets, the random-walk noise's size, a rollout
//! that keeps free particles on straight lines, learning a spring chain from positions alone, and
//! bad input.

use liouville_graph::GraphError;
use liouville_graph::blocks::Aggregation;
use liouville_graph::data::DeviceGraphs;
use liouville_graph::gns::{GnsRecipe, PositionTrajectory};
use liouville_graph::models::{EncodeProcessDecode, EncodeProcessDecodeConfig, NodeModel, NodeRegression};
use liouville_graph::neighbourhoods::chain_graph;
use liouville_graph::potential::Topology;
use liouville_sim::systems::springs::{ChainRun, Spring};
use liouville_tensor::config::Configured;
use liouville_tensor::device::HostDevice;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::module::{Module, ParamMut, ParamRef};
use liouville_tensor::optim::Schedule;
use liouville_tensor::shapes::Matrix;
use liouville_tensor::tape::Threaded;
use liouville_tensor::train::{Data, TrainConfig, train};
use liouville_tensor::{TensorError, host};

type Dev = HostDevice;
const D: usize = 2;

/// Positions x_k = x₀ + k·v of free particles, `samples` rows.
fn straight_lines(n: usize, samples: usize) -> Vec<f64> {
    (0..samples)
        .flat_map(|k| (0..n * D).map(move |j| j as f64 * 0.5 + k as f64 * (0.01 + 0.002 * j as f64)))
        .collect()
}

/// Positions only, `[run][sample · N·d]`, of chain runs.
fn chain_positions(n: usize, runs: usize, samples: usize, seed: u64) -> Vec<Vec<f64>> {
    let run = ChainRun {
        particles: n,
        dim: D,
        spring: Spring {
            stiffness: 4.0,
            rest_length: 1.0,
        },
        jitter: 0.25,
        momentum: 0.4,
        interval: 0.1,
        samples,
        substeps: 10,
    };
    let (_, states) = run.simulate(runs, seed).unwrap();
    states
        .outer_iter()
        .map(|traj| {
            traj.rows()
                .into_iter()
                .flat_map(|r| r.to_vec()[..n * D].to_vec())
                .collect()
        })
        .collect()
}

#[test]
fn statistics_and_noise_free_targets_are_the_finite_differences() {
    let t = Topology::new(3, chain_graph(3)).unwrap();
    let x = straight_lines(3, 10);
    let traj = [PositionTrajectory {
        topology: &t,
        positions: &x,
    }];
    let recipe = GnsRecipe::fit(&traj, D, 3, 0.0, 1.0).unwrap();
    // Velocity components j: 0.01 + 0.002·(2i + c) per particle: mean over particles.
    for c in 0..D {
        let expected = (0..3).map(|i| 0.01 + 0.002 * (2 * i + c) as f64).sum::<f64>() / 3.0;
        assert!((recipe.velocity.mean[c] - expected).abs() < 1e-12);
        assert!(recipe.acceleration.mean[c].abs() < 1e-12);
    }
    // A chain: the noise-free targets decode to x_{t+1} − 2x_t + x_{t−1}.
    let positions = chain_positions(4, 1, 12, 3);
    let t4 = Topology::new(4, chain_graph(4)).unwrap();
    let traj = [PositionTrajectory {
        topology: &t4,
        positions: &positions[0],
    }];
    let recipe = GnsRecipe::fit(&traj, D, 5, 0.0, 1.0).unwrap();
    assert_eq!(recipe.widths(), (10, 3));
    let set = recipe.examples(&traj, 0).unwrap();
    assert_eq!(set.len(), 12 - 5 - 1);
    let batch = set.batch::<f64, Dev>(&Dev::default(), &[2]).unwrap();
    let targets = host::values(&batch.targets);
    let w = 4 * D;
    let row = |k: usize| &positions[0][k * w..(k + 1) * w];
    // Example 2: window 2..=7, target at t = 7.
    for j in 0..w {
        let a = row(8)[j] - 2.0 * row(7)[j] + row(6)[j];
        let decoded = targets[j] * recipe.acceleration.std[j % D] + recipe.acceleration.mean[j % D];
        assert!((decoded - a).abs() < 1e-12, "component {j}: {decoded} vs {a}");
    }
    // Node features: the normalised velocities of the window, oldest first.
    let nodes = host::values(&batch.graphs.nodes);
    let v = row(3)[1] - row(2)[1];
    let expected = (v - recipe.velocity.mean[1]) / recipe.velocity.std[1];
    assert!((nodes[1] - expected).abs() < 1e-12);
}

#[test]
fn random_walk_noise_has_the_requested_size_on_the_last_velocity() {
    let t = Topology::new(5, chain_graph(5)).unwrap();
    let x = straight_lines(5, 400);
    let traj = [PositionTrajectory {
        topology: &t,
        positions: &x,
    }];
    let sigma = 0.003;
    let clean = GnsRecipe::fit(&traj, D, 5, 0.0, 1.0).unwrap();
    let noisy = GnsRecipe {
        noise_std: sigma,
        ..clean.clone()
    };
    let (a, b) = (clean.examples(&traj, 1).unwrap(), noisy.examples(&traj, 1).unwrap());
    let all: Vec<usize> = (0..a.len()).collect();
    let dev = Dev::default();
    let (fa, fb) = (
        host::values(&a.batch::<f64, Dev>(&dev, &all).unwrap().graphs.nodes),
        host::values(&b.batch::<f64, Dev>(&dev, &all).unwrap().graphs.nodes),
    );
    // Last velocity of every node: columns 4·d .. 5·d of the node rows.
    let mut sq = 0.0;
    let mut count = 0.0;
    for (ra, rb) in fa.chunks(5 * D).zip(fb.chunks(5 * D)) {
        for c in 0..D {
            let e = (rb[4 * D + c] - ra[4 * D + c]) * clean.velocity.std[c];
            sq += e * e;
            count += 1.0;
        }
    }
    let measured = (sq / count).sqrt();
    assert!(
        (measured / sigma - 1.0).abs() < 0.1,
        "last-velocity noise σ {measured}, asked {sigma}"
    );
}

/// A model that predicts one constant per node column.
struct Constant(Vec<f64>);

impl Module<f64, Dev> for Constant {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, f64, Dev>)> {
        Vec::new()
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, f64, Dev>> {
        Vec::new()
    }
}

impl NodeModel<f64, Dev> for Constant {
    fn forward<T: Tape<f64, Dev> + Merge<T>>(
        &self,
        _: &mut Threaded<T>,
        g: &DeviceGraphs<f64, Dev>,
    ) -> Result<Matrix<f64, Dev>, TensorError> {
        let n = g.nodes.shape().0;
        Ok(host::matrix(
            g.nodes.device(),
            (0..n).flat_map(|_| self.0.clone()),
            n,
            self.0.len(),
        ))
    }
}

#[test]
fn a_zero_acceleration_model_rolls_free_particles_along_straight_lines() {
    let t = Topology::new(3, (vec![], vec![])).unwrap();
    let x = straight_lines(3, 20);
    let traj = [PositionTrajectory {
        topology: &t,
        positions: &x,
    }];
    let mut recipe = GnsRecipe::fit(&traj, D, 2, 0.0, 1.0).unwrap();
    recipe.acceleration.mean = vec![0.1, -0.2];
    recipe.acceleration.std = vec![2.0, 0.5];
    // The normalised zero acceleration: (0 − μ)/σ.
    let model = Constant(vec![-0.05, 0.4]);
    let w = 3 * D;
    let history: Vec<Vec<f64>> = (0..3).map(|k| x[k * w..(k + 1) * w].to_vec()).collect();
    let out = recipe.rollout(&model, &Dev::default(), &[&t], &[history], 10).unwrap();
    for (s, row) in out[0].iter().enumerate() {
        for j in 0..w {
            assert!((row[j] - x[(s + 3) * w + j]).abs() < 1e-12, "step {s}, {j}");
        }
    }
    assert!(matches!(
        recipe.rollout(&model, &Dev::default(), &[&t], &[vec![vec![0.0; w]; 2]], 1),
        Err(TensorError::ShapeMismatch(_))
    ));
}

#[test]
fn encode_process_decode_learns_a_spring_chain_from_positions() {
    let t = Topology::new(4, chain_graph(4)).unwrap();
    let runs = chain_positions(4, 64, 30, 5);
    let trajectories: Vec<PositionTrajectory<'_>> = runs
        .iter()
        .map(|p| PositionTrajectory {
            topology: &t,
            positions: p,
        })
        .collect();
    let recipe = GnsRecipe::fit(&trajectories, D, 2, 1e-4, 1.0).unwrap();
    let set = recipe.examples(&trajectories, 7).unwrap();
    let (node_in, edge_in) = recipe.widths();
    let config = EncodeProcessDecodeConfig {
        node_in,
        edge_in,
        latent: 32,
        steps: 1,
        hidden: vec![32],
        node_out: D,
        aggregation: Aggregation::Sum,
    };
    let mut model = EncodeProcessDecode::<f32, Dev>::from_config(&config, &Dev::default(), 2).unwrap();
    let steps = 1500;
    let cfg = TrainConfig {
        steps,
        batch_size: 32,
        learning_rate: 3e-3,
        schedule: Schedule::Cosine {
            warmup: 20,
            total: steps,
            min_factor: 0.05,
        },
        validation_fraction: 0.2,
        eval_every: 100,
        ..TrainConfig::default()
    };
    let report = train(&mut model, &set, &NodeRegression, &cfg).unwrap();
    let (first, best) = (report.validation_curve[0].1, report.best_loss);
    eprintln!("GNS validation loss {first:e} -> {best:e}");
    // Normalised targets have unit variance: the model must explain most of it.
    assert!(best < 0.1, "validation MSE of normalised accelerations {best}");
    // A 10-step rollout of a fresh run beats holding the last velocity.
    let fresh = &chain_positions(4, 1, 16, 77)[0];
    let w = 4 * D;
    let history: Vec<Vec<f64>> = (0..3).map(|k| fresh[k * w..(k + 1) * w].to_vec()).collect();
    let out = recipe.rollout(&model, &Dev::default(), &[&t], &[history], 10).unwrap();
    let (mut learned, mut constant) = (0.0, 0.0);
    for (s, row) in out[0].iter().enumerate() {
        let k = s + 3;
        for j in 0..w {
            let truth = fresh[k * w + j];
            let held = fresh[2 * w + j] + (k - 2) as f64 * (fresh[2 * w + j] - fresh[w + j]);
            learned += (row[j] - truth).powi(2);
            constant += (held - truth).powi(2);
        }
    }
    eprintln!("10-step squared error: GNS {learned:e}, constant velocity {constant:e}");
    assert!(
        learned < constant / 4.0,
        "GNS {learned} vs constant velocity {constant}"
    );
}

#[test]
fn bad_recipes_and_trajectories_are_typed_errors() {
    let t = Topology::new(2, chain_graph(2)).unwrap();
    let x = straight_lines(2, 6);
    let ok = [PositionTrajectory {
        topology: &t,
        positions: &x,
    }];
    assert!(matches!(
        GnsRecipe::fit(&ok, D, 0, 0.0, 1.0),
        Err(GraphError::Recipe(_))
    ));
    assert!(matches!(
        GnsRecipe::fit(&ok, D, 2, -1.0, 1.0),
        Err(GraphError::Recipe(_))
    ));
    assert!(matches!(
        GnsRecipe::fit(&ok, D, 2, 0.0, 0.0),
        Err(GraphError::Recipe(_))
    ));
    assert!(matches!(
        GnsRecipe::fit(&ok, D, 5, 0.0, 1.0),
        Err(GraphError::Window { samples: 6, .. })
    ));
    let mut bad = x.clone();
    bad[9] = f64::NAN;
    let nan = [PositionTrajectory {
        topology: &t,
        positions: &bad,
    }];
    assert!(matches!(
        GnsRecipe::fit(&nan, D, 2, 0.0, 1.0),
        Err(GraphError::NonFinite { row: 2, column: 1, .. })
    ));
    let ragged = [PositionTrajectory {
        topology: &t,
        positions: &x[..7],
    }];
    assert!(matches!(
        GnsRecipe::fit(&ragged, D, 2, 0.0, 1.0),
        Err(GraphError::FeatureShape { .. })
    ));
}
