//! Graph Hamiltonians trained through integrators (VIGN and the HGN): parameter gradients of the
//! multi-step loss against finite differences (f64, leapfrog and RK4, a batch of graphs of two
//! sizes), batching equivalence of the loss and of rollouts, VIGN learning Hooke's law on short
//! chains and predicting a longer one, checkpoints, and bad inputs.

use liouville_graph::GraphError;
use liouville_graph::data::GraphSet;
use liouville_graph::hamiltonian::HamiltonianGraph;
use liouville_graph::neighbourhoods::chain_graph;
use liouville_graph::particles::{ParticleTrajectory, node_rows, particle_graph, particle_windows, state_row};
use liouville_graph::potential::Topology;
use liouville_graph::separable::{GraphDynamics, GraphStepLoss, StepMethod, Vign, rollout};
use liouville_sim::systems::springs::{ChainRun, Spring};
use liouville_tensor::config::Configured;
use liouville_tensor::device::HostDevice;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::optim::Schedule;
use liouville_tensor::testing::{Entries, GradientCheck, check_parameter_gradients};
use liouville_tensor::train::{Data, Loss, TrainConfig, train};
use liouville_tensor::{TensorError, checkpoint, host};

type Dev = HostDevice;
const D: usize = 2;

/// A chain i — i+1, each spring as two directed edges (so V is symmetric under reversal).
fn chain(n: usize) -> Topology {
    Topology::new(n, chain_graph(n)).unwrap()
}

fn spring() -> Spring {
    Spring {
        stiffness: 4.0,
        rest_length: 1.0,
    }
}

fn run(particles: usize, samples: usize) -> ChainRun {
    ChainRun {
        particles,
        dim: D,
        spring: spring(),
        jitter: 0.25,
        momentum: 0.4,
        interval: 0.1,
        samples,
        substeps: 10,
    }
}

/// Windows of `horizon` observations of `count` runs of each chain size.
fn windows(sizes: &[usize], count: usize, samples: usize, horizon: usize, seed: u64) -> GraphSet {
    let runs: Vec<(Topology, Vec<Vec<f64>>)> = sizes
        .iter()
        .map(|&n| {
            let (_, states) = run(n, samples).simulate(count, seed + n as u64).unwrap();
            let per_trajectory = states.outer_iter().map(|s| s.iter().copied().collect()).collect();
            (chain(n), per_trajectory)
        })
        .collect();
    let trajectories: Vec<ParticleTrajectory<'_>> = runs
        .iter()
        .flat_map(|(topology, states)| {
            states.iter().map(move |s| ParticleTrajectory {
                topology,
                dim: D,
                states: s,
            })
        })
        .collect();
    particle_windows(&trajectories, horizon).unwrap()
}

fn vign(seed: u64) -> Vign<f64, Dev> {
    Vign::new(&Dev::default(), chain(3), D, &[8, 8], false, 1.0, seed).unwrap()
}

fn hgn(seed: u64) -> HamiltonianGraph<f64, Dev> {
    let t = chain(3);
    HamiltonianGraph::new(
        &Dev::default(),
        3,
        D,
        (t.senders().to_vec(), t.receivers().to_vec()),
        &[6, 6],
        seed,
    )
    .unwrap()
}

#[test]
fn step_loss_parameter_gradients_match_finite_differences() {
    // Two graphs of different sizes in one batch, two observations ahead, two steps each.
    let set = windows(&[3, 4], 1, 4, 2, 11);
    let batch = set.batch::<f64, Dev>(&Dev::default(), &[0, set.len() - 1]).unwrap();
    let check = GradientCheck {
        entries: Entries::All,
        floor: 1e-4,
        ..GradientCheck::default()
    };
    for method in [StepMethod::Leapfrog, StepMethod::Rk4] {
        let loss = GraphStepLoss::new(method, 0.1, 2).unwrap();
        let report = check_parameter_gradients(&mut vign(3), &loss, &batch, check).unwrap();
        assert!(report.worst < 1e-6, "VIGN {method:?}: {report:?}");
        let report = check_parameter_gradients(&mut hgn(4), &loss, &batch, check).unwrap();
        assert!(report.worst < 1e-6, "HGN {method:?}: {report:?}");
    }
}

#[test]
fn a_batch_of_graphs_gives_each_graph_its_own_loss_and_rollout() {
    let set = windows(&[3, 5], 1, 3, 1, 5);
    let dev = Dev::default();
    let model = vign(9);
    let loss = GraphStepLoss::new(StepMethod::Leapfrog, 0.1, 3).unwrap();
    let (first, last) = (0, set.len() - 1);
    let both = set.batch::<f64, Dev>(&dev, &[first, last]).unwrap();
    let one = set.batch::<f64, Dev>(&dev, &[first]).unwrap();
    let other = set.batch::<f64, Dev>(&dev, &[last]).unwrap();
    let value = |b| host::values(&loss.loss(&model, b, NoneTape).unwrap())[0];
    // The loss is a mean over node entries: 3 and 5 nodes.
    let expected = (3.0 * value(&one) + 5.0 * value(&other)) / 8.0;
    assert!((value(&both) - expected).abs() < 1e-12 * expected.abs().max(1.0));
    let together = rollout(&model, &both.graphs, &loss, 6).unwrap();
    let alone: Vec<Vec<f64>> = rollout(&model, &one.graphs, &loss, 6)
        .unwrap()
        .into_iter()
        .zip(rollout(&model, &other.graphs, &loss, 6).unwrap())
        .map(|(mut a, b)| {
            a.extend(b);
            a
        })
        .collect();
    for (t, (a, b)) in together.iter().zip(&alone).enumerate() {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-12, "observation {t}: {x} vs {y}");
        }
    }
    // The first rollout state is the start, and the model moved the particles.
    assert_eq!(together[0], host::values(&both.graphs.nodes));
    assert_ne!(together[6], together[0]);
}

#[test]
fn vign_learns_hookes_law_on_short_chains_and_predicts_a_longer_one() {
    // Train on chains of 3 and 4 masses, through velocity Verlet, two observations ahead.
    let set = windows(&[3, 4], 24, 12, 4, 21);
    let loss = GraphStepLoss::new(StepMethod::Leapfrog, 0.1, 2).unwrap();
    let mut model = Vign::<f32, Dev>::new(&Dev::default(), chain(3), D, &[32, 32], false, 1.0, 2).unwrap();
    let steps = 1000;
    let cfg = TrainConfig {
        steps,
        batch_size: 32,
        learning_rate: 1e-2,
        schedule: Schedule::Cosine {
            warmup: 20,
            total: steps,
            min_factor: 0.05,
        },
        validation_fraction: 0.2,
        eval_every: 100,
        ..TrainConfig::default()
    };
    let report = train(&mut model, &set, &loss, &cfg).unwrap();
    eprintln!(
        "VIGN validation loss {:e} -> {:e}",
        report.validation_curve[0].1, report.best_loss
    );
    // The learned pair force −∇φ(Δ), summed over both edge directions, against Hooke's law
    // k(|Δ| − L)Δ/|Δ| on separations the chains visit.
    let dev = Dev::default();
    for (dx, dy) in [(0.8, 0.1), (1.0, -0.2), (1.2, 0.0), (0.9, 0.25)] {
        let pair = Topology::new(2, (vec![0, 1], vec![1, 0])).unwrap();
        let two = model.with_topology(pair.clone());
        let g = particle_graph(&pair, D, vec![0.0, 0.0, 0.0, 0.0, dx, dy, 0.0, 0.0]).unwrap();
        let graphs = liouville_graph::data::DeviceGraphs::<f32, Dev>::new(&dev, &g);
        let q = host::matrix(&dev, [0.0, 0.0, dx, dy], 2, D);
        let mut tp = liouville_tensor::tape::Threaded::new(NoneTape);
        let a = host::values(&two.acceleration(&mut tp, &q, graphs.placement()).unwrap());
        let r: f64 = (dx * dx + dy * dy).sqrt();
        let hooke = spring().stiffness * (r - 1.0) / r;
        let (fx, fy) = (hooke * dx, hooke * dy);
        let err = ((a[2] + fx).powi(2) + (a[3] + fy).powi(2)).sqrt();
        let scale = (fx * fx + fy * fy).sqrt().max(0.4);
        assert!(
            err < 0.15 * scale,
            "separation ({dx}, {dy}): learned force on particle 1 ({}, {}), Hooke ({}, {})",
            a[2],
            a[3],
            -fx,
            -fy
        );
    }
    // Unseen size: 20 observations of a 6-chain, against the simulator.
    let (_, states) = run(6, 21).simulate(1, 99).unwrap();
    let flat: Vec<f64> = states.iter().copied().collect();
    let six = chain(6);
    let traj = ParticleTrajectory {
        topology: &six,
        dim: D,
        states: &flat,
    };
    let g = particle_graph(&six, D, traj.nodes(0)).unwrap();
    let graphs = liouville_graph::data::DeviceGraphs::<f32, Dev>::new(&dev, &g);
    let predicted = rollout(&model, &graphs, &loss, 20).unwrap();
    let (mut err, mut spread) = (0.0, 0.0);
    for (k, p) in predicted.iter().enumerate() {
        let truth = traj.nodes(k);
        let start = traj.nodes(0);
        for i in 0..6 {
            for c in 0..D {
                err += (p[i * 2 * D + c] - truth[i * 2 * D + c]).powi(2);
                spread += (truth[i * 2 * D + c] - start[i * 2 * D + c]).powi(2);
            }
        }
    }
    eprintln!("6-chain position error {:.3e}, displacement {:.3e}", err, spread);
    assert!(
        err < 0.05 * spread,
        "squared position error {err} vs squared displacement {spread}"
    );
    // Node-row helpers round-trip the simulator's layout.
    assert_eq!(state_row(&node_rows(&flat[..24], 6, D), 6, D), flat[..24].to_vec());
}

#[test]
fn graph_hamiltonians_save_and_load_with_their_config() {
    let dev = Dev::default();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vign.safetensors");
    let model = Vign::<f64, Dev>::new(&dev, chain(4), D, &[5], true, 2.5, 8).unwrap();
    checkpoint::save(&model, &path, None).unwrap();
    let (back, header): (Vign<f64, Dev>, _) = checkpoint::load(&dev, &path).unwrap();
    assert_eq!(header.kind, "vign");
    assert_eq!(back.config(), model.config());
    assert_eq!(back.mass(), 2.5);
    let g = particle_graph(&chain(4), D, (0..16).map(|i| (i as f64 * 0.37).sin()).collect()).unwrap();
    let graphs = liouville_graph::data::DeviceGraphs::<f64, Dev>::new(&dev, &g);
    let loss = GraphStepLoss::new(StepMethod::Rk4, 0.05, 1).unwrap();
    assert_eq!(
        rollout(&model, &graphs, &loss, 3).unwrap(),
        rollout(&back, &graphs, &loss, 3).unwrap()
    );
    let path = dir.path().join("hgn.safetensors");
    let h = hgn(1);
    checkpoint::save(&h, &path, None).unwrap();
    let (back, header): (HamiltonianGraph<f64, Dev>, _) = checkpoint::load(&dev, &path).unwrap();
    assert_eq!(header.kind, "hgn");
    assert_eq!(back.config(), h.config());
}

#[test]
fn bad_inputs_are_typed_errors() {
    let dev = Dev::default();
    assert!(GraphStepLoss::new(StepMethod::Leapfrog, 0.0, 1).is_err());
    assert!(GraphStepLoss::new(StepMethod::Leapfrog, f64::NAN, 1).is_err());
    assert!(GraphStepLoss::new(StepMethod::Rk4, 0.1, 0).is_err());
    assert!(Vign::<f64, Dev>::new(&dev, chain(3), D, &[4], false, 0.0, 0).is_err());
    assert!(Vign::<f64, Dev>::new(&dev, chain(3), D, &[4], false, f64::INFINITY, 0).is_err());
    assert!(Topology::new(3, (vec![0, 3], vec![1, 2])).is_err());
    assert!(Topology::new(0, (vec![], vec![])).is_err());
    // A window as long as the trajectory, NaN states, mixed dimensions.
    let t = chain(2);
    let states = vec![0.5; 3 * 8];
    let traj = |s: &'static [f64], dim| ParticleTrajectory {
        topology: Box::leak(Box::new(t.clone())),
        dim,
        states: s,
    };
    let ok: &'static [f64] = Box::leak(states.clone().into_boxed_slice());
    assert!(matches!(
        particle_windows(&[traj(ok, D)], 3),
        Err(GraphError::Window { horizon: 3, samples: 3 })
    ));
    let mut bad = states.clone();
    bad[13] = f64::NAN;
    let bad: &'static [f64] = Box::leak(bad.into_boxed_slice());
    assert!(matches!(
        particle_windows(&[traj(bad, D)], 1),
        Err(GraphError::NonFinite { row: 1, column: 5, .. })
    ));
    let one_d: &'static [f64] = Box::leak(vec![0.5; 3 * 4].into_boxed_slice());
    assert!(matches!(
        particle_windows(&[traj(ok, D), traj(one_d, 1)], 1),
        Err(GraphError::Dimension {
            index: 1,
            found: 1,
            expected: 2
        })
    ));
    // Node features of the wrong width for the model.
    let set = windows(&[3], 1, 3, 1, 0);
    let batch = set.batch::<f64, Dev>(&dev, &[0]).unwrap();
    let wide = Vign::<f64, Dev>::new(&dev, chain(3), 3, &[4], false, 1.0, 0).unwrap();
    let loss = GraphStepLoss::new(StepMethod::Leapfrog, 0.1, 1).unwrap();
    assert!(matches!(
        loss.loss(&wide, &batch, NoneTape),
        Err(TensorError::ShapeMismatch(_))
    ));
    assert!(matches!(
        rollout(&wide, &batch.graphs, &loss, 2),
        Err(TensorError::ShapeMismatch(_))
    ));
    // A graph without edges: free particles move in straight lines.
    let lonely = Topology::new(2, (vec![], vec![])).unwrap();
    let free = Vign::<f64, Dev>::new(&dev, lonely.clone(), D, &[4], false, 2.0, 0).unwrap();
    let g = particle_graph(&lonely, D, vec![0.0, 0.0, 1.0, 2.0, 5.0, 5.0, -1.0, 0.0]).unwrap();
    let graphs = liouville_graph::data::DeviceGraphs::<f64, Dev>::new(&dev, &g);
    let path = rollout(
        &free,
        &graphs,
        &GraphStepLoss::new(StepMethod::Leapfrog, 0.5, 2).unwrap(),
        2,
    )
    .unwrap();
    let expected = [0.5, 1.0, 1.0, 2.0, 4.5, 5.0, -1.0, 0.0];
    for (a, b) in path[2].iter().zip(expected) {
        assert!((a - b).abs() < 1e-12, "{:?}", path[2]);
    }
}
