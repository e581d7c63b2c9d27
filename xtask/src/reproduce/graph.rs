//! `cargo xtask reproduce graph`: the graph_nets physics-demo protocol (Battaglia et al. 2018,
//! `demos/physics.ipynb`) on spring chains — train on chains of 5–8 masses, roll out 50 steps on
//! chains of 4 and 9 — for an MLP baseline, encode-process-decode (GNS), the Hamiltonian graph
//! network and VIGN, with the true energy followed over 10× the training trajectories' length.
//! Writes `docs/results/graph.md` (generated, never typed) and PNG + SVG plots.

use std::fmt::Write as _;
use std::time::Instant;

use super::{ReproduceArgs, plots_line};
use crate::stats::median;
use liouville::plot::{Series, line_chart, log_y_chart};
use liouville_dynamics::models::{Baseline, DynamicsModel};
use liouville_graph::GraphBatch;
use liouville_graph::blocks::Aggregation;
use liouville_graph::data::{DeviceGraphs, GraphSet};
use liouville_graph::gns::{GnsRecipe, PositionTrajectory, displacement_graph};
use liouville_graph::hamiltonian::HamiltonianGraph;
use liouville_graph::models::{EncodeProcessDecode, EncodeProcessDecodeConfig, NodeModel, NodeRegression};
use liouville_graph::neighbourhoods::chain_graph;
use liouville_graph::particles::{ParticleTrajectory, node_rows, particle_graph, particle_windows, state_row};
use liouville_graph::potential::Topology;
use liouville_graph::separable::{GraphDynamics, GraphStepLoss, StepMethod, Vign, rollout};
use liouville_integrate::explicit::{ExplicitMethod, ExplicitRk};
use liouville_integrate::{FixedGrid, FnField, SeparableHamiltonian, energies, fixed};
use liouville_sim::systems::springs::{ChainRun, Spring, SpringNetwork};
use liouville_tensor::config::Configured;
use liouville_tensor::device::HostDevice;
use liouville_tensor::dfdx::prelude::NoneTape;
use liouville_tensor::optim::Schedule;
use liouville_tensor::tape::Threaded;
use liouville_tensor::train::{Examples, TrainConfig, train};
use liouville_tensor::{TensorError, host};
use ndarray::{Array2, Array3, ArrayView2, Axis};

type Dev = HostDevice;
const D: usize = 2;
/// Chains the models train on.
const TRAIN_SIZES: [usize; 4] = [5, 6, 7, 8];
/// Chains they are tested on: unseen sizes, and one seen size (fresh trajectories) to show how
/// each model does in distribution.
const TEST_SIZES: [usize; 3] = [4, 7, 9];
/// Trajectories per training size, and their observations.
const TRAIN_RUNS: usize = 40;
const TRAIN_SAMPLES: usize = 50;
/// Test trajectories per size; the scored rollout; the energy horizon (10× the training length).
const TEST_RUNS: usize = 20;
const ROLLOUT: usize = 50;
const ENERGY_HORIZON: usize = 10 * TRAIN_SAMPLES;
/// Velocities in GNS's input (its paper's C = 5); every rollout starts at this observation, so
/// GNS has its history and the other models start from the same true state.
const HISTORY: usize = 5;
/// σ of GNS's random-walk noise on the last input velocity (position units per observation;
/// the per-observation velocities have σ ≈ 0.04).
const GNS_NOISE: f64 = 1e-4;
/// Integrator steps per observation of every learned rollout.
const SUBSTEPS: usize = 2;
/// The padded width of the MLP baseline: as many particles as the largest chain it must run.
const MLP_PARTICLES: usize = 9;

fn protocol(particles: usize, samples: usize) -> ChainRun {
    ChainRun {
        particles,
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
    }
}

fn topology(n: usize) -> Topology {
    Topology::new(n, chain_graph(n)).expect("a chain is a valid topology")
}

/// The models of the table.
/// Index of the HGN in [`MODELS`].
const HGN: usize = 3;
const MODELS: [&str; 5] = [
    "MLP baseline",
    "encode-process-decode (exact accelerations)",
    "GNS recipe (positions only)",
    "HGN",
    "VIGN",
];

/// Trajectories `[run, sample, 2·N·d]` of a chain size.
struct Runs {
    chain: SpringNetwork,
    states: Array3<f64>,
}

fn simulate(n: usize, runs: usize, samples: usize, seed: u64) -> Result<Runs, String> {
    let (chain, states) = protocol(n, samples).simulate(runs, seed).map_err(|e| e.to_string())?;
    Ok(Runs { chain, states })
}

/// Adam with a cosine schedule, batches of 32, a tenth held out (the graph studies' schedule).
pub(super) fn schedule(steps: usize, lr: f64, seed: u64) -> TrainConfig {
    TrainConfig {
        steps,
        batch_size: 32,
        learning_rate: lr,
        schedule: Schedule::Cosine {
            warmup: 50,
            total: steps,
            min_factor: 0.02,
        },
        validation_fraction: 0.1,
        eval_every: (steps / 10).max(1),
        seed,
        ..TrainConfig::default()
    }
}

/// Accelerations −∇V/m of the true chain at every row of `y`, `[rows, N·d]`.
fn true_accelerations(chain: &SpringNetwork, y: ArrayView2<'_, f64>) -> Array2<f64> {
    let nd = chain.dof();
    let mut g = Array2::zeros((y.nrows(), nd));
    chain.grad_potential(y.slice(ndarray::s![.., ..nd]), g.view_mut());
    -g
}

/// The padded MLP input: slots 0..N hold the chain's (q, p), the rest zeros.
fn pad(row: &[f64], n: usize) -> Vec<f64> {
    let w = MLP_PARTICLES * D;
    let mut out = vec![0.0; 2 * w];
    out[..n * D].copy_from_slice(&row[..n * D]);
    out[w..w + n * D].copy_from_slice(&row[n * D..2 * n * D]);
    out
}

fn unpad(row: &[f64], n: usize) -> Vec<f64> {
    let w = MLP_PARTICLES * D;
    let mut out = row[..n * D].to_vec();
    out.extend_from_slice(&row[w..w + n * D]);
    out
}

/// (state, ẋ) pairs of every training run, padded to [`MLP_PARTICLES`].
fn baseline_examples(train: &[Runs]) -> Result<Examples, String> {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for r in train {
        let n = r.chain.particles();
        for traj in r.states.axis_iter(Axis(0)) {
            let a = true_accelerations(&r.chain, traj);
            for (row, acc) in traj.rows().into_iter().zip(a.rows()) {
                let row = row.to_vec();
                x.extend(pad(&row, n));
                let mut derivative = row[n * D..].to_vec();
                derivative.extend(acc.iter().copied());
                y.extend(pad(&derivative, n));
            }
        }
    }
    let w = 2 * MLP_PARTICLES * D;
    Examples::new(x, w, y, w).map_err(|e| e.to_string())
}

/// The exact-acceleration encode-process-decode's graph of one state: node features the velocities (unit masses: p), edge features the
/// relative displacement q_s − q_r and its length; no absolute positions (translation invariance).
fn exact_graph(t: &Topology, row: &[f64]) -> Result<GraphBatch, String> {
    let n = t.particles();
    displacement_graph(t, row[n * D..2 * n * D].to_vec(), D, &row[..n * D], D, 1.0).map_err(|e| e.to_string())
}

fn exact_set(train: &[Runs]) -> Result<GraphSet, String> {
    let (mut graphs, mut targets) = (Vec::new(), Vec::new());
    for r in train {
        let t = topology(r.chain.particles());
        for traj in r.states.axis_iter(Axis(0)) {
            let a = true_accelerations(&r.chain, traj);
            for (row, acc) in traj.rows().into_iter().zip(a.rows()) {
                graphs.push(exact_graph(&t, &row.to_vec())?);
                targets.push(acc.to_vec());
            }
        }
    }
    GraphSet::new(graphs, targets, D).map_err(|e| e.to_string())
}

/// The positions `[sample · N·d]` of every run (GNS sees nothing else).
fn positions(r: &Runs) -> Vec<Vec<f64>> {
    let nd = r.chain.particles() * D;
    r.states
        .outer_iter()
        .map(|traj| {
            traj.rows()
                .into_iter()
                .flat_map(|row| row.to_vec()[..nd].to_vec())
                .collect()
        })
        .collect()
}

/// GNS's recipe measured on the training runs, and its noisy training windows.
fn gns_data(train: &[Runs], seed: u64) -> Result<(GnsRecipe, GraphSet), String> {
    let tops: Vec<Topology> = train.iter().map(|r| topology(r.chain.particles())).collect();
    let flats: Vec<Vec<Vec<f64>>> = train.iter().map(positions).collect();
    let trajectories: Vec<PositionTrajectory<'_>> = tops
        .iter()
        .zip(&flats)
        .flat_map(|(topology, runs)| runs.iter().map(move |p| PositionTrajectory { topology, positions: p }))
        .collect();
    let recipe = GnsRecipe::fit(&trajectories, D, HISTORY, GNS_NOISE, 1.0).map_err(|e| e.to_string())?;
    let set = recipe.examples(&trajectories, seed).map_err(|e| e.to_string())?;
    Ok((recipe, set))
}

fn windows(train: &[Runs], horizon: usize) -> Result<GraphSet, String> {
    let tops: Vec<Topology> = train.iter().map(|r| topology(r.chain.particles())).collect();
    let flats: Vec<Vec<Vec<f64>>> = train
        .iter()
        .map(|r| r.states.outer_iter().map(|s| s.iter().copied().collect()).collect())
        .collect();
    let trajectories: Vec<ParticleTrajectory<'_>> = tops
        .iter()
        .zip(&flats)
        .flat_map(|(topology, runs)| {
            runs.iter().map(move |s| ParticleTrajectory {
                topology,
                dim: D,
                states: s,
            })
        })
        .collect();
    particle_windows(&trajectories, horizon).map_err(|e| e.to_string())
}

/// GNS's architecture at this study's size: latent 64, two message-passing steps, accelerations
/// out.
pub(super) fn processor(node_in: usize, edge_in: usize) -> EncodeProcessDecodeConfig {
    EncodeProcessDecodeConfig {
        node_in,
        edge_in,
        latent: 64,
        steps: 2,
        hidden: vec![64],
        node_out: D,
        aggregation: Aggregation::Sum,
    }
}

/// A trained model of each kind.
struct Trained {
    baseline: Baseline,
    exact: EncodeProcessDecode<f32, Dev>,
    gns: EncodeProcessDecode<f32, Dev>,
    recipe: GnsRecipe,
    /// GNS's best validation MSE of normalised accelerations (one step).
    gns_validation: f64,
    hgn: HamiltonianGraph<f32, Dev>,
    vign: Vign<f32, Dev>,
}

const HGN_LOSS: GraphStepLoss = GraphStepLoss {
    method: StepMethod::Rk4,
    interval: 0.1,
    substeps: SUBSTEPS,
};
const VIGN_LOSS: GraphStepLoss = GraphStepLoss {
    method: StepMethod::Leapfrog,
    interval: 0.1,
    substeps: SUBSTEPS,
};

fn train_all(train_runs: &[Runs], steps: usize, seed: u64) -> Result<(Trained, Vec<f64>), String> {
    let dev = Dev::default();
    let err = |e: TensorError| e.to_string();
    let mut seconds = Vec::new();
    let hidden = [64, 64];

    let clock = Instant::now();
    let mut baseline = Baseline::new(2 * MLP_PARTICLES * D, &[256, 256], seed).map_err(|e| e.to_string())?;
    baseline
        .fit(&baseline_examples(train_runs)?, &schedule(steps, 1e-3, seed))
        .map_err(|e| e.to_string())?;
    seconds.push(clock.elapsed().as_secs_f64());

    let clock = Instant::now();
    let mut exact = EncodeProcessDecode::<f32, Dev>::from_config(&processor(D, D + 1), &dev, seed).map_err(err)?;
    train(
        &mut exact,
        &exact_set(train_runs)?,
        &NodeRegression,
        &schedule(steps, 1e-3, seed),
    )
    .map_err(err)?;
    seconds.push(clock.elapsed().as_secs_f64());

    let clock = Instant::now();
    let (recipe, gns_set) = gns_data(train_runs, seed)?;
    let (node_in, edge_in) = recipe.widths();
    let mut gns =
        EncodeProcessDecode::<f32, Dev>::from_config(&processor(node_in, edge_in), &dev, seed).map_err(err)?;
    let report = train(&mut gns, &gns_set, &NodeRegression, &schedule(steps, 3e-3, seed)).map_err(err)?;
    eprintln!(
        "GNS: best validation MSE of normalised accelerations {:.3e}",
        report.best_loss
    );
    seconds.push(clock.elapsed().as_secs_f64());

    let clock = Instant::now();
    let t = topology(5);
    let mut hgn = HamiltonianGraph::<f32, Dev>::new(
        &dev,
        5,
        D,
        (t.senders().to_vec(), t.receivers().to_vec()),
        &hidden,
        seed,
    )
    .map_err(err)?;
    train(
        &mut hgn,
        &windows(train_runs, 1)?,
        &HGN_LOSS,
        &schedule(steps, 1e-2, seed),
    )
    .map_err(err)?;
    seconds.push(clock.elapsed().as_secs_f64());

    let clock = Instant::now();
    let mut vign = Vign::<f32, Dev>::new(&dev, topology(5), D, &hidden, false, 1.0, seed).map_err(err)?;
    train(
        &mut vign,
        &windows(train_runs, 4)?,
        &VIGN_LOSS,
        &schedule(steps, 1e-2, seed),
    )
    .map_err(err)?;
    seconds.push(clock.elapsed().as_secs_f64());
    Ok((
        Trained {
            baseline,
            exact,
            gns,
            recipe,
            gns_validation: report.best_loss,
            hgn,
            vign,
        },
        seconds,
    ))
}

/// Rollouts `[run, 1 + steps, 2·N·d]` (simulator layout) of a graph Hamiltonian from the first
/// state of every test run, all runs in one graph batch.
fn graph_rollout<M: GraphDynamics<f32, Dev>>(
    model: &M,
    loss: &GraphStepLoss,
    test: &Runs,
    steps: usize,
) -> Result<Array3<f64>, String> {
    let n = test.chain.particles();
    let t = topology(n);
    let graphs: Vec<GraphBatch> = test
        .states
        .axis_iter(Axis(0))
        .map(|traj| particle_graph(&t, D, node_rows(&traj.row(HISTORY).to_vec(), n, D)))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let batch = GraphBatch::batch(&graphs).map_err(|e| e.to_string())?;
    let device = DeviceGraphs::<f32, Dev>::new(&Dev::default(), &batch);
    let path = rollout(model, &device, loss, steps).map_err(|e| e.to_string())?;
    let runs = test.states.len_of(Axis(0));
    let w = 2 * n * D;
    let mut out = Array3::zeros((runs, steps + 1, w));
    for (k, nodes) in path.iter().enumerate() {
        for r in 0..runs {
            let row = state_row(&nodes[r * w..(r + 1) * w], n, D);
            out.slice_mut(ndarray::s![r, k, ..]).assign(&ndarray::Array1::from(row));
        }
    }
    Ok(out)
}

/// RK4 (SUBSTEPS steps per observation) of q̇ = p, ṗ = a(q, p) for a field on state rows.
fn rk4_rollout(
    field: &(impl liouville_integrate::VectorField + Clone + Send),
    test: &Runs,
    steps: usize,
) -> Result<Array3<f64>, String> {
    let stepper = ExplicitRk::new(field.clone(), ExplicitMethod::Rk4);
    let dt = protocol(2, 2).interval / SUBSTEPS as f64;
    let grid = FixedGrid::new(0.0, dt, steps * SUBSTEPS).map_err(|e| e.to_string())?;
    let y0 = test.states.index_axis(Axis(1), HISTORY).to_owned();
    match fixed::integrate(&stepper, &grid, y0.view(), SUBSTEPS) {
        Ok(sol) => Ok(sol.states.permuted_axes([1, 0, 2]).as_standard_layout().to_owned()),
        // A model that leaves the finite numbers scores as diverged.
        Err(_) => Ok(Array3::from_elem((y0.nrows(), steps + 1, y0.ncols()), f64::NAN)),
    }
}

fn baseline_rollout(model: &Baseline, test: &Runs, steps: usize) -> Result<Array3<f64>, String> {
    let n = test.chain.particles();
    let field = FnField::new(
        2 * n * D,
        move |_t, y: ArrayView2<'_, f64>, mut dy: ndarray::ArrayViewMut2<'_, f64>| {
            let rows: Vec<f64> = y.rows().into_iter().flat_map(|r| pad(&r.to_vec(), n)).collect();
            let padded = Array2::from_shape_vec((y.nrows(), 2 * MLP_PARTICLES * D), rows).expect("padded rows");
            let Ok(out) = model.field(padded.view()) else {
                dy.fill(f64::NAN);
                return;
            };
            for r in 0..y.nrows() {
                let row = unpad(&out.row(r).to_vec(), n);
                // q̇ = p is kinematics: every model is given it; the MLP supplies ṗ.
                for c in 0..n * D {
                    dy[[r, c]] = y[[r, n * D + c]];
                    dy[[r, n * D + c]] = row[n * D + c];
                }
            }
        },
    );
    rk4_rollout(&field, test, steps)
}

/// The exact-acceleration encode-process-decode integrated by RK4 (q̇ = p given).
fn exact_rollout(model: &EncodeProcessDecode<f32, Dev>, test: &Runs, steps: usize) -> Result<Array3<f64>, String> {
    let n = test.chain.particles();
    let t = topology(n);
    let field = FnField::new(
        2 * n * D,
        move |_t, y: ArrayView2<'_, f64>, mut dy: ndarray::ArrayViewMut2<'_, f64>| {
            let graphs: Result<Vec<GraphBatch>, String> =
                y.rows().into_iter().map(|r| exact_graph(&t, &r.to_vec())).collect();
            let accel = graphs.and_then(|g| {
                let batch = GraphBatch::batch(&g).map_err(|e| e.to_string())?;
                let device = DeviceGraphs::<f32, Dev>::new(&Dev::default(), &batch);
                let out =
                    NodeModel::forward(model, &mut Threaded::new(NoneTape), &device).map_err(|e| e.to_string())?;
                Ok(host::values(&out))
            });
            match accel {
                Ok(a) => {
                    for r in 0..y.nrows() {
                        for c in 0..n * D {
                            dy[[r, c]] = y[[r, n * D + c]];
                            dy[[r, n * D + c]] = a[r * n * D + c];
                        }
                    }
                }
                Err(_) => dy.fill(f64::NAN),
            }
        },
    );
    rk4_rollout(&field, test, steps)
}

/// GNS from the true positions up to the start: positions by its own update, velocities
/// (= momenta, unit masses) by central differences of the predicted positions (backward at the
/// last step).
fn gns_rollout(
    model: &EncodeProcessDecode<f32, Dev>,
    recipe: &GnsRecipe,
    test: &Runs,
    steps: usize,
) -> Result<Array3<f64>, String> {
    let n = test.chain.particles();
    let nd = n * D;
    let t = topology(n);
    let runs = test.states.len_of(Axis(0));
    let histories: Vec<Vec<Vec<f64>>> = test
        .states
        .outer_iter()
        .map(|traj| (0..=HISTORY).map(|k| traj.row(k).to_vec()[..nd].to_vec()).collect())
        .collect();
    let tops: Vec<&Topology> = vec![&t; runs];
    let predicted = recipe
        .rollout(model, &Dev::default(), &tops, &histories, steps)
        .map_err(|e| e.to_string())?;
    let interval = protocol(2, 2).interval;
    let mut out = Array3::zeros((runs, steps + 1, 2 * nd));
    for (r, path) in predicted.iter().enumerate() {
        // x_k for k = 0 (the true start) … steps, and the true x_{−1}.
        let x = |k: isize| -> &[f64] {
            if k <= 0 {
                &histories[r][(HISTORY as isize + k) as usize]
            } else {
                &path[k as usize - 1]
            }
        };
        for k in 0..=steps as isize {
            let (ahead, behind, span) = if k < steps as isize {
                (k + 1, k - 1, 2.0)
            } else {
                (k, k - 1, 1.0)
            };
            for j in 0..nd {
                out[[r, k as usize, j]] = x(k)[j];
                out[[r, k as usize, nd + j]] = (x(ahead)[j] - x(behind)[j]) / (span * interval);
            }
        }
    }
    Ok(out)
}

/// Scores of one model on one test size.
#[derive(Clone, Default)]
struct Score {
    position_mse: f64,
    velocity_mse: f64,
    /// Median over runs of max_t |E(t) − E(0)| / E(0), true energy, over the scored rollout.
    short_drift: f64,
    /// The same over the energy horizon.
    energy_drift: f64,
}

fn score(test: &Runs, predicted: &Array3<f64>, long: &Array3<f64>) -> Score {
    let nd = test.chain.particles() * D;
    let (mut pos, mut vel, mut count) = (0.0, 0.0, 0.0);
    for r in 0..test.states.len_of(Axis(0)) {
        for k in 1..=ROLLOUT {
            for c in 0..nd {
                pos += (predicted[[r, k, c]] - test.states[[r, HISTORY + k, c]]).powi(2);
                vel += (predicted[[r, k, nd + c]] - test.states[[r, HISTORY + k, nd + c]]).powi(2);
                count += 1.0;
            }
        }
    }
    let drifts = |upto: usize| -> Vec<f64> {
        long.axis_iter(Axis(0))
            .map(|traj| {
                let e = energies(&test.chain, traj.slice(ndarray::s![..=upto, ..]));
                let e0 = e[0];
                e.iter()
                    .map(|v| {
                        if v.is_finite() {
                            (v - e0).abs() / e0.abs()
                        } else {
                            f64::INFINITY
                        }
                    })
                    .fold(0.0, f64::max)
            })
            .collect()
    };
    Score {
        position_mse: pos / count,
        velocity_mse: vel / count,
        short_drift: median(&drifts(ROLLOUT)),
        energy_drift: median(&drifts(ENERGY_HORIZON)),
    }
}

/// All four models' long rollouts of one test size.
fn rollouts(m: &Trained, test: &Runs, steps: usize) -> Result<Vec<Array3<f64>>, String> {
    Ok(vec![
        baseline_rollout(&m.baseline, test, steps)?,
        exact_rollout(&m.exact, test, steps)?,
        gns_rollout(&m.gns, &m.recipe, test, steps)?,
        graph_rollout(&m.hgn, &HGN_LOSS, test, steps)?,
        graph_rollout(&m.vign, &VIGN_LOSS, test, steps)?,
    ])
}

fn cell(v: &[f64]) -> String {
    let finite: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if finite.len() < v.len() {
        return format!("diverged in {}/{}", v.len() - finite.len(), v.len());
    }
    let (m, se) = super::mean_se(v);
    if v.len() > 1 {
        format!("{m:.2e} ± {se:.0e}")
    } else {
        format!("{m:.2e}")
    }
}

/// Runs the study and writes the report.
pub fn run(args: &ReproduceArgs) -> Result<(), String> {
    std::fs::create_dir_all(&args.out).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let steps = args.graph_steps;
    let seeds = args.seeds.max(1);
    // scores[model][test size] over seeds.
    let mut scores: Vec<Vec<Vec<Score>>> = vec![vec![Vec::new(); TEST_SIZES.len()]; MODELS.len()];
    let mut seconds: Vec<Vec<f64>> = vec![Vec::new(); MODELS.len()];
    let mut plots = Vec::new();
    let mut gns_validation = Vec::new();
    for seed in 0..seeds {
        let train_runs: Vec<Runs> = TRAIN_SIZES
            .iter()
            .map(|&n| simulate(n, TRAIN_RUNS, TRAIN_SAMPLES, 1000 * seed + n as u64))
            .collect::<Result<_, _>>()?;
        let (models, took) = train_all(&train_runs, steps, seed)?;
        gns_validation.push(models.gns_validation);
        for (s, t) in seconds.iter_mut().zip(took) {
            s.push(t);
        }
        for (ti, &n) in TEST_SIZES.iter().enumerate() {
            let test = simulate(n, TEST_RUNS, HISTORY + ENERGY_HORIZON + 1, 1000 * seed + 500 + n as u64)?;
            let long = rollouts(&models, &test, ENERGY_HORIZON)?;
            for (mi, path) in long.iter().enumerate() {
                let s = score(&test, path, path);
                eprintln!(
                    "seed {seed}, {n} masses, {}: position MSE {:.3e}, velocity MSE {:.3e}, energy drift {:.3e} / {:.3e}",
                    MODELS[mi], s.position_mse, s.velocity_mse, s.short_drift, s.energy_drift
                );
                scores[mi][ti].push(s);
            }
            if seed == 0 && n == 9 {
                plots.extend(plot_energy(args, &test, &long)?);
                plots.extend(plot_chain(args, &test, &long)?);
            }
        }
    }
    let study = Study {
        scores,
        seconds,
        gns_validation,
    };
    write_report(args, &study, steps, seeds, started.elapsed().as_secs_f64(), &plots)
}

fn plot_energy(args: &ReproduceArgs, test: &Runs, long: &[Array3<f64>]) -> Result<Vec<std::path::PathBuf>, String> {
    let curves: Vec<Vec<(f64, f64)>> = long
        .iter()
        .map(|path| {
            let e = energies(&test.chain, path.index_axis(Axis(0), 0));
            e.iter()
                .enumerate()
                .map(|(k, v)| (k as f64 * 0.1, (v - e[0]).abs() / e[0].abs()))
                .collect()
        })
        .collect();
    let series: Vec<Series<'_>> = curves
        .iter()
        .zip(MODELS)
        .map(|(c, l)| Series { label: l, points: c })
        .collect();
    let mut out = Vec::new();
    for ext in ["png", "svg"] {
        let path = args.out.join(format!("graph_chain9_energy.{ext}"));
        log_y_chart(
            &path,
            "9-mass chain (unseen size): true energy error (seed 0, run 0)",
            "t (training trajectories span t = 4.9)",
            "|E(t) − E(0)| / E(0)",
            &series,
        )
        .map_err(|e| e.to_string())?;
        out.push(path);
    }
    Ok(out)
}

fn plot_chain(args: &ReproduceArgs, test: &Runs, long: &[Array3<f64>]) -> Result<Vec<std::path::PathBuf>, String> {
    let n = test.chain.particles();
    let shape = |row: ndarray::ArrayView1<'_, f64>| -> Vec<(f64, f64)> {
        (0..n).map(|i| (row[i * D], row[i * D + 1])).collect()
    };
    let mut curves = vec![shape(test.states.slice(ndarray::s![0, HISTORY + ROLLOUT, ..]))];
    for path in long {
        curves.push(shape(path.slice(ndarray::s![0, ROLLOUT, ..])));
    }
    let labels: Vec<&str> = std::iter::once("ground truth").chain(MODELS).collect();
    let series: Vec<Series<'_>> = curves
        .iter()
        .zip(labels)
        .map(|(c, l)| Series { label: l, points: c })
        .collect();
    let mut out = Vec::new();
    for ext in ["png", "svg"] {
        let path = args.out.join(format!("graph_chain9_step50.{ext}"));
        line_chart(
            &path,
            "9-mass chain at t = 5: predicted vs true (seed 0, run 0)",
            "x",
            "y",
            &series,
        )
        .map_err(|e| e.to_string())?;
        out.push(path);
    }
    Ok(out)
}

/// What the seeds measured.
struct Study {
    /// `[model][test size]`, one score per seed.
    scores: Vec<Vec<Vec<Score>>>,
    /// Training seconds `[model]`, one per seed.
    seconds: Vec<Vec<f64>>,
    /// GNS's one-step validation MSE per seed.
    gns_validation: Vec<f64>,
}

fn write_report(
    args: &ReproduceArgs,
    study: &Study,
    steps: usize,
    seeds: u64,
    elapsed: f64,
    plots: &[std::path::PathBuf],
) -> Result<(), String> {
    let (scores, seconds) = (&study.scores, &study.seconds);
    let p = protocol(2, 2);
    let mut r = String::new();
    writeln!(
        r,
        "# Graph networks on spring chains (the graph_nets physics-demo protocol)\n"
    )
    .ok();
    writeln!(
        r,
        "Generated by `cargo xtask reproduce graph --seeds {seeds} --graph-steps {steps}` in {elapsed:.0} s; do not edit by hand.\n"
    )
    .ok();
    writeln!(
        r,
        "**Protocol.** 2-D chains of unit masses, neighbours joined by springs k = {}, rest length {} (both ends free, no gravity: graph_nets' demo fixes the ends and adds gravity). Starts: mass i at (i, 0) plus U[−{a}, {a}] in each coordinate, momenta N(0, {m}²) minus their mean. Ground truth: Yoshida-4 with {} steps per observation, observations Δ = {} apart. Training: {TRAIN_RUNS} trajectories of {TRAIN_SAMPLES} observations for each of N = 5, 6, 7, 8. Test: {TEST_RUNS} fresh trajectories of N = 4 and N = 9 (sizes never seen); position and velocity MSE over a {ROLLOUT}-step rollout from the true start; the true energy followed over {ENERGY_HORIZON} steps (10× the training trajectories), drift = median over runs of max_t |E(t) − E(0)|/E(0). Mean ± standard error over {seeds} seeds (each its own data and initialisation); {steps} Adam steps of 32 per model, cosine schedule.\n",
        p.spring.stiffness,
        p.spring.rest_length,
        p.substeps,
        p.interval,
        a = p.jitter,
        m = p.momentum,
    )
    .ok();
    writeln!(
        r,
        "**Models.** *MLP baseline*: a 256-256 tanh MLP from the whole state, padded to 9 masses with zeros, to its time derivative (the HNN paper's baseline), trained on exact accelerations; the one model that sees absolute positions and a fixed size. *Encode-process-decode (exact accelerations)*: GNS's architecture (Sanchez-Gonzalez et al. 2020; latent 64, 2 residual LayerNorm message-passing steps), node features the velocities, edge features the displacement and distance, trained on the simulator's exact accelerations. These two are integrated by RK4 with {SUBSTEPS} steps per observation, q̇ = p given. *GNS recipe (positions only)*: the same network trained as GNS is (`liouville_graph::gns`): the last {HISTORY} finite-difference velocities as node inputs, displacement edges, normalised finite-difference accelerations as targets, random-walk noise σ = {GNS_NOISE:e} on the last input velocity (the per-observation velocities have σ ≈ 0.04), rolled out by its semi-implicit Euler update; its velocities are central differences of its positions. Its one-step validation MSE of normalised accelerations, per seed: {gns_validation}. *HGN* (Sanchez-Gonzalez et al. 2019): learned per-particle T(p) and pair V(q_s − q_r), 64-64 softplus MLPs, trained through one RK4 observation step ({SUBSTEPS} substeps) and rolled out by the same RK4. *VIGN* (Desai et al. 2020): known kinetic energy |p|²/2, learned pair V, trained through velocity Verlet on windows of 4 observations ({SUBSTEPS} substeps each) and rolled out by it. HGN and VIGN see only positions and momenta, never accelerations. Every rollout starts from the true state at observation {HISTORY} (GNS gets the true observations before it as its history).\n",
        gns_validation = study.gns_validation.iter().map(|v| format!("{v:.2e}")).collect::<Vec<_>>().join(", ")
    )
    .ok();
    for (ti, &n) in TEST_SIZES.iter().enumerate() {
        let seen = if TRAIN_SIZES.contains(&n) {
            "a training size, fresh trajectories"
        } else {
            "unseen size"
        };
        writeln!(r, "## {n} masses ({seen})\n").ok();
        writeln!(
            r,
            "| model | position MSE ({ROLLOUT} steps) | velocity MSE ({ROLLOUT} steps) | energy drift ({ROLLOUT} steps) | energy drift ({ENERGY_HORIZON} steps) |"
        )
        .ok();
        writeln!(r, "|---|---|---|---|---|").ok();
        for (mi, name) in MODELS.iter().enumerate() {
            let s = &scores[mi][ti];
            let get = |f: fn(&Score) -> f64| s.iter().map(f).collect::<Vec<f64>>();
            writeln!(
                r,
                "| {name} | {} | {} | {} | {} |",
                cell(&get(|s| s.position_mse)),
                cell(&get(|s| s.velocity_mse)),
                cell(&get(|s| s.short_drift)),
                cell(&get(|s| s.energy_drift)),
            )
            .ok();
        }
        writeln!(r).ok();
    }
    writeln!(r, "## Goals\n").ok();
    let nine = TEST_SIZES.iter().position(|&n| n == 9).expect("9 is a test size");
    let mean = |mi: usize, f: fn(&Score) -> f64| {
        let v: Vec<f64> = scores[mi][nine].iter().map(f).collect();
        super::mean_se(&v).0
    };
    let (hgn_pos, mlp_pos) = (mean(HGN, |s| s.position_mse), mean(0, |s| s.position_mse));
    let drift: Vec<f64> = scores[HGN][nine].iter().map(|s| s.energy_drift).collect();
    let worst = drift.iter().copied().fold(0.0, f64::max);
    let short: Vec<f64> = scores[HGN][nine].iter().map(|s| s.short_drift).collect();
    let short_worst = short.iter().copied().fold(0.0, f64::max);
    writeln!(
        r,
        "- HGN beats the MLP baseline on 9 masses: position MSE {hgn_pos:.2e} vs {mlp_pos:.2e} — **{}**.",
        if hgn_pos < mlp_pos { "met" } else { "not met" }
    )
    .ok();
    writeln!(
        r,
        "- HGN's energy stays bounded over 10× the training horizon on 9 masses: worst seed's median drift {worst:.2e} over {ENERGY_HORIZON} steps against {short_worst:.2e} over the first {ROLLOUT} — **{}** (bounded: finite, below 10 %, and less than 3× the drift of the first {ROLLOUT} steps, so it does not grow with time).\n",
        if worst.is_finite() && worst < 0.1 && worst < 3.0 * short_worst { "met" } else { "not met" }
    )
    .ok();
    writeln!(
        r,
        "Training time per model (seconds, median over seeds, wall clock on this machine's 2 cores): {}.\n",
        MODELS
            .iter()
            .zip(seconds)
            .map(|(m, s)| format!("{m} {:.0}", median(s)))
            .collect::<Vec<_>>()
            .join(", ")
    )
    .ok();
    writeln!(r, "{}", plots_line(plots)).ok();
    let path = args.out.join("graph.md");
    std::fs::write(&path, r).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}
