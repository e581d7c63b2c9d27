//! `cargo xtask reproduce nri`: NRI's springs benchmark (Kipf et al. 2018, "Neural Relational
//! Inference for Interacting Systems", `data/generate_dataset.py` and Table 2): 5 balls in a box,
//! springs of strength 0.1 between random pairs, 49 observed frames; a learned simulator's 1-,
//! 10- and 20-step prediction error beside the constant-velocity baseline, and the same models on
//! 10 balls (never seen in training). Writes `docs/results/nri.md` (generated, never typed) and
//! PNG + SVG plots.
//!
//! The learned simulator is GNS's recipe (`liouville_graph::gns`) with the encode-process-decode
//! network of the graph study, on two graphs: the *true* spring graph (NRI's "supervised"
//! oracle, which is told who interacts) and the *complete* graph (NRI's "full graph" baseline,
//! which must find the springs from the motion alone).

use std::fmt::Write as _;
use std::time::Instant;

use super::graph::{processor, schedule};
use super::{ReproduceArgs, fmt, plots_line};
use liouville::plot::{Series, log_y_chart};
use liouville_graph::gns::{GnsRecipe, PositionTrajectory};
use liouville_graph::models::{EncodeProcessDecode, NodeRegression};
use liouville_graph::neighbourhoods::complete_graph;
use liouville_graph::potential::Topology;
use liouville_sim::rng::Rng;
use liouville_sim::systems::springs::{NriSprings, NriTrajectory};
use liouville_tensor::config::Configured;
use liouville_tensor::device::HostDevice;
use liouville_tensor::train::train;

type Dev = HostDevice;
const D: usize = 2;
/// NRI's simulation: Δt = 0.001, one frame every 100 steps, 49 frames.
const DT: f64 = 0.001;
const SAMPLE_EVERY: usize = 100;
const FRAMES: usize = 49;
/// Balls in training and in the generalisation test.
const TRAIN_BALLS: usize = 5;
const WIDE_BALLS: usize = 10;
/// Training and test trajectories.
const TRAIN_RUNS: usize = 500;
const TEST_RUNS: usize = 100;
/// GNS's C = 5 velocities of history; rollouts start at these frames (each has its history
/// before it and 20 frames after it).
const HISTORY: usize = 5;
const STARTS: [usize; 3] = [5, 15, 25];
const HORIZON: usize = 20;
/// The horizons reported in the table (NRI's Table 2 columns).
const REPORTED: [usize; 3] = [1, 10, 20];
/// σ of the random-walk noise on the last input velocity (position units per frame; the
/// per-frame displacements have σ ≈ 0.05).
const NOISE: f64 = 1e-4;
const MODELS: [&str; 3] = ["constant velocity", "GNS, true graph", "GNS, complete graph"];

/// NRI's system with `balls` balls (box 5, interaction 0.1, springs with probability ½).
fn system(balls: usize) -> NriSprings {
    NriSprings {
        balls,
        ..NriSprings::default()
    }
}

/// `runs` trajectories of `balls` balls from stream `seed`.
fn simulate(balls: usize, runs: usize, seed: u64) -> Result<Vec<NriTrajectory>, String> {
    let sys = system(balls);
    (0..runs)
        .map(|k| {
            let mut rng = Rng::stream(seed, k as u64);
            sys.simulate(&mut rng, FRAMES * SAMPLE_EVERY, SAMPLE_EVERY, DT)
                .map_err(|e| e.to_string())
        })
        .collect()
}

/// The directed spring graph of a trajectory (both directions of every spring).
fn true_topology(t: &NriTrajectory) -> Topology {
    let n = t.edges.nrows();
    let (mut s, mut r) = (Vec::new(), Vec::new());
    for i in 0..n {
        for j in 0..n {
            if i != j && t.edges[[i, j]] != 0.0 {
                s.push(i);
                r.push(j);
            }
        }
    }
    Topology::new(n, (s, r)).expect("an adjacency gives a valid topology")
}

fn complete_topology(n: usize) -> Topology {
    Topology::new(n, complete_graph(n)).expect("a complete graph is a valid topology")
}

/// Frame k's positions, N·d.
fn frame(t: &NriTrajectory, k: usize) -> Vec<f64> {
    let n = t.states.shape()[1];
    (0..n)
        .flat_map(|i| [t.states[[k, i, 0]], t.states[[k, i, 1]]])
        .collect()
}

fn flat_positions(t: &NriTrajectory) -> Vec<f64> {
    (0..t.states.shape()[0]).flat_map(|k| frame(t, k)).collect()
}

/// Which graph a learned model runs on.
#[derive(Clone, Copy)]
enum GraphKind {
    True,
    Complete,
}

fn topologies(runs: &[NriTrajectory], kind: GraphKind) -> Vec<Topology> {
    runs.iter()
        .map(|t| match kind {
            GraphKind::True => true_topology(t),
            GraphKind::Complete => complete_topology(t.edges.nrows()),
        })
        .collect()
}

/// A trained simulator and its recipe.
struct Learned {
    model: EncodeProcessDecode<f32, Dev>,
    recipe: GnsRecipe,
    validation: f64,
}

fn fit(train_runs: &[NriTrajectory], kind: GraphKind, steps: usize, seed: u64) -> Result<Learned, String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let tops = topologies(train_runs, kind);
    let flats: Vec<Vec<f64>> = train_runs.iter().map(flat_positions).collect();
    let trajectories: Vec<PositionTrajectory<'_>> = tops
        .iter()
        .zip(&flats)
        .map(|(topology, positions)| PositionTrajectory { topology, positions })
        .collect();
    let recipe = GnsRecipe::fit(&trajectories, D, HISTORY, NOISE, 1.0).map_err(|e| err(&e))?;
    let set = recipe.examples(&trajectories, seed).map_err(|e| err(&e))?;
    let (node_in, edge_in) = recipe.widths();
    let mut model = EncodeProcessDecode::<f32, Dev>::from_config(&processor(node_in, edge_in), &Dev::default(), seed)
        .map_err(|e| err(&e))?;
    let report = train(&mut model, &set, &NodeRegression, &schedule(steps, 3e-3, seed)).map_err(|e| err(&e))?;
    Ok(Learned {
        model,
        recipe,
        validation: report.best_loss,
    })
}

/// Mean squared position error after 1…HORIZON steps, over runs, starts, balls and coordinates.
fn errors(
    runs: &[NriTrajectory],
    predict: impl Fn(usize) -> Result<Vec<Vec<Vec<f64>>>, String>,
) -> Result<Vec<f64>, String> {
    let mut sums = vec![0.0; HORIZON];
    let mut count = 0usize;
    for &start in &STARTS {
        // predicted[run][k] = positions at frame start + k + 1.
        let predicted = predict(start)?;
        for (t, path) in runs.iter().zip(&predicted) {
            for (k, p) in path.iter().enumerate() {
                let truth = frame(t, start + k + 1);
                sums[k] += p.iter().zip(&truth).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / truth.len() as f64;
            }
        }
        count += runs.len();
    }
    Ok(sums.into_iter().map(|s| s / count as f64).collect())
}

fn constant_velocity(runs: &[NriTrajectory]) -> Result<Vec<f64>, String> {
    errors(runs, |start| {
        Ok(runs
            .iter()
            .map(|t| {
                let (now, before) = (frame(t, start), frame(t, start - 1));
                (1..=HORIZON)
                    .map(|k| now.iter().zip(&before).map(|(x, y)| x + k as f64 * (x - y)).collect())
                    .collect()
            })
            .collect())
    })
}

fn learned(m: &Learned, runs: &[NriTrajectory], kind: GraphKind) -> Result<Vec<f64>, String> {
    let tops = topologies(runs, kind);
    let refs: Vec<&Topology> = tops.iter().collect();
    errors(runs, |start| {
        let histories: Vec<Vec<Vec<f64>>> = runs
            .iter()
            .map(|t| (start - HISTORY..=start).map(|k| frame(t, k)).collect())
            .collect();
        m.recipe
            .rollout(&m.model, &Dev::default(), &refs, &histories, HORIZON)
            .map_err(|e| e.to_string())
    })
}

/// Runs the study and writes the report.
pub fn run(args: &ReproduceArgs) -> Result<(), String> {
    std::fs::create_dir_all(&args.out).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let steps = args.graph_steps;
    let seeds = args.seeds.max(1);
    // curves[size][model][seed] = MSE after 1…HORIZON steps.
    let mut curves: Vec<Vec<Vec<Vec<f64>>>> = vec![vec![Vec::new(); MODELS.len()]; 2];
    let mut validation: Vec<Vec<f64>> = vec![Vec::new(); 2];
    for seed in 0..seeds {
        let train_runs = simulate(TRAIN_BALLS, TRAIN_RUNS, 100 * seed)?;
        let tests = [
            simulate(TRAIN_BALLS, TEST_RUNS, 100 * seed + 1)?,
            simulate(WIDE_BALLS, TEST_RUNS, 100 * seed + 2)?,
        ];
        let clock = Instant::now();
        let on_true = fit(&train_runs, GraphKind::True, steps, seed)?;
        let on_complete = fit(&train_runs, GraphKind::Complete, steps, seed)?;
        eprintln!(
            "seed {seed}: trained both simulators in {:.0} s (validation MSE {:.2e}, {:.2e})",
            clock.elapsed().as_secs_f64(),
            on_true.validation,
            on_complete.validation
        );
        validation[0].push(on_true.validation);
        validation[1].push(on_complete.validation);
        for (size, test) in tests.iter().enumerate() {
            let rows = [
                constant_velocity(test)?,
                learned(&on_true, test, GraphKind::True)?,
                learned(&on_complete, test, GraphKind::Complete)?,
            ];
            for (mi, row) in rows.into_iter().enumerate() {
                eprintln!(
                    "seed {seed}, {} balls, {}: MSE after 1/10/20 steps {:.3e} / {:.3e} / {:.3e}",
                    [TRAIN_BALLS, WIDE_BALLS][size],
                    MODELS[mi],
                    row[0],
                    row[9],
                    row[19]
                );
                curves[size][mi].push(row);
            }
        }
    }
    let plots = plot(args, &curves)?;
    write_report(
        args,
        &curves,
        &validation,
        steps,
        seeds,
        started.elapsed().as_secs_f64(),
        &plots,
    )
}

/// Median over seeds of the MSE after each step.
fn median_curve(per_seed: &[Vec<f64>]) -> Vec<(f64, f64)> {
    (0..HORIZON)
        .map(|k| {
            let at: Vec<f64> = per_seed.iter().map(|c| c[k]).collect();
            ((k + 1) as f64, crate::stats::median(&at))
        })
        .collect()
}

fn plot(args: &ReproduceArgs, curves: &[Vec<Vec<Vec<f64>>>]) -> Result<Vec<std::path::PathBuf>, String> {
    let mut out = Vec::new();
    for (size, balls) in [TRAIN_BALLS, WIDE_BALLS].into_iter().enumerate() {
        let points: Vec<Vec<(f64, f64)>> = curves[size].iter().map(|c| median_curve(c)).collect();
        let series: Vec<Series<'_>> = points
            .iter()
            .zip(MODELS)
            .map(|(p, label)| Series { label, points: p })
            .collect();
        let seen = if balls == TRAIN_BALLS {
            "trained on 5"
        } else {
            "unseen size"
        };
        for ext in ["png", "svg"] {
            let path = args.out.join(format!("nri_springs{balls}_mse.{ext}"));
            log_y_chart(
                &path,
                &format!("NRI springs, {balls} balls ({seen}): prediction error"),
                "steps ahead (frames, Δ = 0.1)",
                "position MSE (median over seeds)",
                &series,
            )
            .map_err(|e| e.to_string())?;
            out.push(path);
        }
    }
    Ok(out)
}

fn write_report(
    args: &ReproduceArgs,
    curves: &[Vec<Vec<Vec<f64>>>],
    validation: &[Vec<f64>],
    steps: usize,
    seeds: u64,
    elapsed: f64,
    plots: &[std::path::PathBuf],
) -> Result<(), String> {
    let sys = system(TRAIN_BALLS);
    let mut r = String::new();
    writeln!(r, "# NRI springs: prediction error of learned simulators\n").ok();
    writeln!(
        r,
        "Generated by `cargo xtask reproduce nri --seeds {seeds} --graph-steps {steps}` in {elapsed:.0} s; do not edit by hand.\n"
    )
    .ok();
    writeln!(
        r,
        "**Protocol** (Kipf et al. 2018, `generate_dataset.py`): {TRAIN_BALLS} unit-mass balls in the box [−{l}, {l}]² with elastic walls, a zero-rest-length spring of strength {k} between each pair with probability {p}, starts N(0, 0.5²) with speed 0.5; symplectic Euler with Δt = {DT}, a frame every {SAMPLE_EVERY} steps, {FRAMES} frames. Training: {TRAIN_RUNS} trajectories of {TRAIN_BALLS} balls (NRI uses 50,000). Test: {TEST_RUNS} fresh trajectories of {TRAIN_BALLS} balls and {TEST_RUNS} of {WIDE_BALLS} balls (never seen); each rolled out {HORIZON} frames from frames {STARTS:?} (the {HISTORY} frames before each are the history); the error is the mean squared position error after k frames over runs, starts, balls and coordinates, in the simulator's units (NRI's table reports errors of states normalised to [−1, 1], so its numbers are on another scale). Mean ± standard error over {seeds} seeds (each its own data and initialisation).\n",
        l = sys.box_size,
        k = sys.interaction,
        p = sys.edge_probability,
    )
    .ok();
    writeln!(
        r,
        "**Models.** *Constant velocity*: x(t + kΔ) = x(t) + k (x(t) − x(t − Δ)), NRI's baseline for the springs. *GNS, true graph*: GNS's recipe (`liouville_graph::gns`: the last {HISTORY} frame-to-frame velocities as node inputs, displacement and distance on the edges, normalised finite-difference accelerations as targets, random-walk noise σ = {NOISE:e}) with the encode-process-decode network of the graph study (latent 64, 2 residual LayerNorm message-passing steps), on the directed spring graph: told who interacts, as NRI's supervised oracle is. *GNS, complete graph*: the same on all pairs, so it must tell springs from non-springs from the motion (NRI's \"full graph\" baseline). {steps} Adam steps of 32 windows, cosine schedule; one-step validation MSE of normalised accelerations (true graph / complete graph) per seed: {} / {}. Neither network sees the walls.\n",
        validation[0].iter().map(|v| format!("{v:.2e}")).collect::<Vec<_>>().join(", "),
        validation[1].iter().map(|v| format!("{v:.2e}")).collect::<Vec<_>>().join(", "),
    )
    .ok();
    writeln!(r, "| model | balls | 1 step | 10 steps | 20 steps |").ok();
    writeln!(r, "|---|---|---|---|---|").ok();
    for (size, balls) in [TRAIN_BALLS, WIDE_BALLS].into_iter().enumerate() {
        for (mi, name) in MODELS.iter().enumerate() {
            let cells: Vec<String> = REPORTED
                .iter()
                .map(|&k| fmt(&curves[size][mi].iter().map(|c| c[k - 1]).collect::<Vec<_>>()))
                .collect();
            let label = if balls == TRAIN_BALLS {
                format!("{balls}")
            } else {
                format!("{balls} (unseen)")
            };
            writeln!(r, "| {name} | {label} | {} |", cells.join(" | ")).ok();
        }
    }
    writeln!(r).ok();
    let ratio = |size: usize, mi: usize, k: usize| {
        let cv = super::mean_se(&curves[size][0].iter().map(|c| c[k - 1]).collect::<Vec<_>>()).0;
        let m = super::mean_se(&curves[size][mi].iter().map(|c| c[k - 1]).collect::<Vec<_>>()).0;
        cv / m
    };
    writeln!(
        r,
        "Against constant velocity after 20 steps (its MSE over the model's, > 1: the model is better): true graph {:.1}× on {TRAIN_BALLS} balls and {:.1}× on {WIDE_BALLS}; complete graph {:.1}× and {:.1}×.\n",
        ratio(0, 1, 20),
        ratio(1, 1, 20),
        ratio(0, 2, 20),
        ratio(1, 2, 20)
    )
    .ok();
    writeln!(r, "{}", plots_line(plots)).ok();
    let path = args.out.join("nri.md");
    std::fs::write(&path, r).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}
