//! The training recipe of graph network simulators (Sanchez-Gonzalez et al. 2020, "Learning to
//! Simulate Complex Physics with Graph Networks", §3–4 and `learning_to_simulate/learned_simulator.py`):
//! a learned simulator that sees only positions.
//!
//! - **Inputs.** From the last C + 1 positions x_{t−C} … x_t of every particle, the C most
//!   recent finite-difference velocities ẋ_k = x_k − x_{k−1} (per step), normalised by the
//!   data's velocity statistics, are the node features; an edge (s, r) carries the relative
//!   displacement (x_s − x_r)/R and its length |x_s − x_r|/R at time t.
//! - **Target.** The normalised finite-difference acceleration ẍ_t = x_{t+1} − 2x_t + x_{t−1},
//!   (ẍ_t − μ_a)/σ_a.
//! - **Noise.** Random-walk noise on the input positions: per-step velocity noise
//!   N(0, σ²/C) accumulated over the window (so the last velocity's noise has standard deviation
//!   σ) and integrated into positions; the target next position carries the last input
//!   position's noise, so the model learns to undo velocity noise, not to chase position noise.
//! - **Update.** Semi-implicit Euler in step units: ẋ_{t+1} = ẋ_t + ẍ_t, x_{t+1} = x_t + ẋ_{t+1}.
//!
//! Any [`NodeModel`] (encode-process-decode is GNS's) is the learned part; [`GnsRecipe::examples`]
//! builds its training set and [`GnsRecipe::rollout`] runs it. Noise is drawn once per example
//! (from a seeded stream) rather than per minibatch.

use liouville_base::random::Rng;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::tape::Threaded;
use liouville_tensor::{Real, TensorError, host};
use serde::{Deserialize, Serialize};

use crate::GraphError;
use crate::batch::{GraphBatch, Widths};
use crate::data::{DeviceGraphs, GraphSet};
use crate::models::NodeModel;
use crate::potential::Topology;

/// Mean and standard deviation per component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalisation {
    /// μ per component.
    pub mean: Vec<f64>,
    /// σ per component (at least a tiny floor, so constant components stay finite).
    pub std: Vec<f64>,
}

impl Normalisation {
    fn of(values: &[f64], dim: usize) -> Self {
        let n = (values.len() / dim).max(1) as f64;
        let mean: Vec<f64> = (0..dim)
            .map(|c| values.iter().skip(c).step_by(dim).sum::<f64>() / n)
            .collect();
        let std = (0..dim)
            .map(|c| {
                let var = values
                    .iter()
                    .skip(c)
                    .step_by(dim)
                    .map(|v| (v - mean[c]).powi(2))
                    .sum::<f64>()
                    / n;
                var.sqrt().max(1e-12)
            })
            .collect();
        Self { mean, std }
    }
    fn apply(&self, v: f64, c: usize) -> f64 {
        (v - self.mean[c]) / self.std[c]
    }
    fn invert(&self, v: f64, c: usize) -> f64 {
        v * self.std[c] + self.mean[c]
    }
}

/// A recorded trajectory of positions: `[samples, N·d]` row-major, particles over `topology`.
#[derive(Debug, Clone, Copy)]
pub struct PositionTrajectory<'a> {
    /// Who interacts with whom.
    pub topology: &'a Topology,
    /// Positions, `samples` rows of N·d.
    pub positions: &'a [f64],
}

/// The settings and data statistics of a graph network simulator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GnsRecipe {
    /// Components per particle d.
    pub dim: usize,
    /// Velocities in the input C (GNS: 5).
    pub history: usize,
    /// σ of the last input velocity's random-walk noise, in position units per step.
    pub noise_std: f64,
    /// The length R that edge displacements are divided by (GNS: the connectivity radius).
    pub length_scale: f64,
    /// Statistics of the per-step velocities.
    pub velocity: Normalisation,
    /// Statistics of the per-step accelerations.
    pub acceleration: Normalisation,
}

impl GnsRecipe {
    /// Node input width C·d and edge input width d + 1 of the learned model.
    pub fn widths(&self) -> (usize, usize) {
        (self.history * self.dim, self.dim + 1)
    }

    /// The recipe with its statistics measured on `trajectories` (GNS normalises with the
    /// training set's velocity and acceleration statistics; noise is not included in them).
    pub fn fit(
        trajectories: &[PositionTrajectory<'_>],
        dim: usize,
        history: usize,
        noise_std: f64,
        length_scale: f64,
    ) -> Result<Self, GraphError> {
        if dim == 0
            || history == 0
            || !(noise_std.is_finite() && noise_std >= 0.0)
            || !(length_scale.is_finite() && length_scale > 0.0)
        {
            return Err(GraphError::Recipe(format!(
                "a GNS recipe needs dim >= 1, history >= 1, a finite noise σ >= 0 and a positive length scale, got {dim}, {history}, {noise_std}, {length_scale}"
            )));
        }
        let (mut velocities, mut accelerations) = (Vec::new(), Vec::new());
        for t in trajectories {
            let w = check_trajectory(t, dim, history + 2)?;
            let rows: Vec<&[f64]> = t.positions.chunks(w).collect();
            for k in 1..rows.len() {
                velocities.extend(rows[k].iter().zip(rows[k - 1]).map(|(a, b)| a - b));
                if k + 1 < rows.len() {
                    accelerations.extend((0..w).map(|c| rows[k + 1][c] - 2.0 * rows[k][c] + rows[k - 1][c]));
                }
            }
        }
        if velocities.is_empty() {
            return Err(GraphError::Recipe("no trajectories to measure statistics on".into()));
        }
        Ok(Self {
            dim,
            history,
            noise_std,
            length_scale,
            velocity: Normalisation::of(&velocities, dim),
            acceleration: Normalisation::of(&accelerations, dim),
        })
    }

    /// The input graph of a window of C + 1 positions (`window[k]` is x_{t−C+k}, N·d each).
    pub fn graph(&self, topology: &Topology, window: &[&[f64]]) -> Result<GraphBatch, GraphError> {
        let (d, c) = (self.dim, self.history);
        let n = topology.particles();
        let last = window[c];
        let mut nodes = Vec::with_capacity(n * c * d);
        for i in 0..n {
            for k in 1..=c {
                for j in 0..d {
                    let v = window[k][i * d + j] - window[k - 1][i * d + j];
                    nodes.push(self.velocity.apply(v, j));
                }
            }
        }
        displacement_graph(topology, nodes, c * d, last, d, self.length_scale)
    }

    /// Every window of every trajectory as a training example, with random-walk noise (stream k
    /// of `seed` for trajectory k): node targets the normalised accelerations `[N, d]`.
    pub fn examples(&self, trajectories: &[PositionTrajectory<'_>], seed: u64) -> Result<GraphSet, GraphError> {
        let (d, c) = (self.dim, self.history);
        let (mut graphs, mut targets) = (Vec::new(), Vec::new());
        for (index, t) in trajectories.iter().enumerate() {
            let w = check_trajectory(t, d, c + 2)?;
            let rows: Vec<&[f64]> = t.positions.chunks(w).collect();
            let mut rng = Rng::stream(seed, index as u64);
            for start in 0..rows.len() - c - 1 {
                // Random-walk noise: the velocity noise is a walk of C steps N(0, σ²/C) (so the
                // last velocity's is N(0, σ²)), and the position noise its running sum.
                let step_std = self.noise_std / (c as f64).sqrt();
                let mut velocity_noise = vec![0.0; w];
                let mut noise = vec![vec![0.0; w]; c + 1];
                for k in 1..=c {
                    for j in 0..w {
                        velocity_noise[j] += step_std * rng.normal();
                        noise[k][j] = noise[k - 1][j] + velocity_noise[j];
                    }
                }
                let noisy: Vec<Vec<f64>> = (0..=c)
                    .map(|k| rows[start + k].iter().zip(&noise[k]).map(|(x, e)| x + e).collect())
                    .collect();
                let window: Vec<&[f64]> = noisy.iter().map(Vec::as_slice).collect();
                graphs.push(self.graph(t.topology, &window)?);
                // The target next position keeps the last input's noise.
                let next = rows[start + c + 1];
                let target: Vec<f64> = (0..w)
                    .map(|j| {
                        let a = next[j] + noise[c][j] - 2.0 * noisy[c][j] + noisy[c - 1][j];
                        self.acceleration.apply(a, j % d)
                    })
                    .collect();
                targets.push(target);
            }
        }
        GraphSet::new(graphs, targets, d)
    }

    /// `steps` predicted positions after the window `history` (its last C + 1 rows, N·d each),
    /// every system of `topologies` advanced together in one graph batch; one `[N·d]` row per
    /// system per step.
    pub fn rollout<E: Real, D: Device<E>, M: NodeModel<E, D>>(
        &self,
        model: &M,
        device: &D,
        topologies: &[&Topology],
        histories: &[Vec<Vec<f64>>],
        steps: usize,
    ) -> Result<Vec<Vec<Vec<f64>>>, TensorError> {
        let (d, c) = (self.dim, self.history);
        let bad = |m: String| TensorError::ShapeMismatch(m);
        if topologies.len() != histories.len() {
            return Err(bad(format!(
                "{} topologies for {} histories",
                topologies.len(),
                histories.len()
            )));
        }
        let mut windows: Vec<Vec<Vec<f64>>> = Vec::with_capacity(histories.len());
        for (t, h) in topologies.iter().zip(histories) {
            let w = t.particles() * d;
            if h.len() < c + 1 || h.iter().any(|row| row.len() != w) {
                return Err(bad(format!(
                    "a rollout needs at least {} positions of {w} values per system",
                    c + 1
                )));
            }
            windows.push(h[h.len() - c - 1..].to_vec());
        }
        let mut out = vec![Vec::with_capacity(steps); histories.len()];
        for _ in 0..steps {
            let graphs: Vec<GraphBatch> = topologies
                .iter()
                .zip(&windows)
                .map(|(t, w)| {
                    let rows: Vec<&[f64]> = w.iter().map(Vec::as_slice).collect();
                    self.graph(t, &rows)
                })
                .collect::<Result<_, _>>()
                .map_err(|e| bad(e.to_string()))?;
            let batch = GraphBatch::batch(&graphs).map_err(|e| bad(e.to_string()))?;
            let g = DeviceGraphs::new(device, &batch);
            let predicted = host::values(&model.forward(&mut Threaded::new(NoneTape), &g)?);
            let mut offset = 0;
            for (s, w) in windows.iter_mut().enumerate() {
                let len = w[c].len();
                let next: Vec<f64> = (0..len)
                    .map(|j| {
                        let a = self.acceleration.invert(predicted[offset + j], j % d);
                        let v = w[c][j] - w[c - 1][j] + a;
                        w[c][j] + v
                    })
                    .collect();
                offset += len;
                w.remove(0);
                w.push(next.clone());
                out[s].push(next);
            }
        }
        Ok(out)
    }
}

/// A graph of `topology` with node features `nodes` (`node_width` per particle) and, on every
/// edge (s, r), the displacement (x_s − x_r)/R and its length from `positions` (N·d): GNS's
/// edge features, translation invariant.
pub fn displacement_graph(
    topology: &Topology,
    nodes: Vec<f64>,
    node_width: usize,
    positions: &[f64],
    dim: usize,
    length_scale: f64,
) -> Result<GraphBatch, GraphError> {
    let d = dim;
    let mut edges = Vec::with_capacity(topology.edges() * (d + 1));
    for (&s, &r) in topology.senders().iter().zip(topology.receivers()) {
        let delta: Vec<f64> = (0..d)
            .map(|j| (positions[s * d + j] - positions[r * d + j]) / length_scale)
            .collect();
        let length = delta.iter().map(|v| v * v).sum::<f64>().sqrt();
        edges.extend(delta);
        edges.push(length);
    }
    GraphBatch::new(
        nodes,
        edges,
        Vec::new(),
        topology.senders().to_vec(),
        topology.receivers().to_vec(),
        vec![topology.particles()],
        vec![topology.edges()],
        Widths {
            node: node_width,
            edge: d + 1,
            global: 0,
        },
    )
}

/// Row width N·d of a trajectory with at least `min_samples` finite rows, or a typed error.
fn check_trajectory(t: &PositionTrajectory<'_>, dim: usize, min_samples: usize) -> Result<usize, GraphError> {
    let w = t.topology.particles() * dim;
    if w == 0 || !t.positions.len().is_multiple_of(w) {
        return Err(GraphError::FeatureShape {
            what: "trajectory positions",
            found: t.positions.len(),
            rows: t.positions.len() / w.max(1),
            width: w,
        });
    }
    let samples = t.positions.len() / w;
    if samples < min_samples {
        return Err(GraphError::Window {
            horizon: min_samples - 1,
            samples,
        });
    }
    if let Some(i) = t.positions.iter().position(|v| !v.is_finite()) {
        return Err(GraphError::NonFinite {
            what: "trajectory positions",
            row: i / w,
            column: i % w,
            value: t.positions[i],
        });
    }
    Ok(w)
}
