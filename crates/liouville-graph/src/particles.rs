//! Particle systems as graphs: simulator states `[q₁ … q_N, p₁ … p_N]` (liouville-sim's layout,
//! d components per particle) as node rows `[qᵢ, pᵢ]` of a graph over a [`Topology`], and
//! trajectories as windows of training data for the graph integrator losses
//! ([`GraphStepLoss`](crate::separable::GraphStepLoss)).

use crate::GraphError;
use crate::batch::{GraphBatch, Widths};
use crate::data::GraphSet;
use crate::potential::Topology;

/// One observed trajectory of a particle system.
#[derive(Debug, Clone, Copy)]
pub struct ParticleTrajectory<'a> {
    /// Who interacts with whom.
    pub topology: &'a Topology,
    /// Components per particle d.
    pub dim: usize,
    /// Observations, row-major `[samples, 2·N·d]` in the simulator's layout.
    pub states: &'a [f64],
}

impl ParticleTrajectory<'_> {
    fn width(&self) -> usize {
        2 * self.topology.particles() * self.dim
    }
    /// Observations.
    pub fn samples(&self) -> usize {
        self.states.len() / self.width().max(1)
    }
    /// Observation k as node rows `[N, 2d]`.
    pub fn nodes(&self, k: usize) -> Vec<f64> {
        let w = self.width();
        node_rows(&self.states[k * w..(k + 1) * w], self.topology.particles(), self.dim)
    }
    fn check(&self) -> Result<(), GraphError> {
        let w = self.width();
        if self.dim == 0 || w == 0 || !self.states.len().is_multiple_of(w) {
            return Err(GraphError::FeatureShape {
                what: "trajectory states",
                found: self.states.len(),
                rows: self.states.len() / w.max(1),
                width: w,
            });
        }
        if let Some(i) = self.states.iter().position(|v| !v.is_finite()) {
            return Err(GraphError::NonFinite {
                what: "trajectory states",
                row: i / w,
                column: i % w,
                value: self.states[i],
            });
        }
        Ok(())
    }
}

/// A state row `[q₁ … q_N, p₁ … p_N]` as node rows `[qᵢ, pᵢ]`, `[N · 2d]` row-major.
pub fn node_rows(state: &[f64], particles: usize, dim: usize) -> Vec<f64> {
    let w = particles * dim;
    let mut out = Vec::with_capacity(2 * w);
    for i in 0..particles {
        out.extend_from_slice(&state[i * dim..(i + 1) * dim]);
        out.extend_from_slice(&state[w + i * dim..w + (i + 1) * dim]);
    }
    out
}

/// Node rows `[qᵢ, pᵢ]` back as a state row `[q₁ … q_N, p₁ … p_N]`.
pub fn state_row(nodes: &[f64], particles: usize, dim: usize) -> Vec<f64> {
    let w = particles * dim;
    let mut out = vec![0.0; 2 * w];
    for i in 0..particles {
        out[i * dim..(i + 1) * dim].copy_from_slice(&nodes[i * 2 * dim..i * 2 * dim + dim]);
        out[w + i * dim..w + (i + 1) * dim].copy_from_slice(&nodes[i * 2 * dim + dim..(i + 1) * 2 * dim]);
    }
    out
}

/// One graph of `topology` with node features `nodes` `[N, 2d]` and no edge or global features.
pub fn particle_graph(topology: &Topology, dim: usize, nodes: Vec<f64>) -> Result<GraphBatch, GraphError> {
    GraphBatch::new(
        nodes,
        Vec::new(),
        Vec::new(),
        topology.senders().to_vec(),
        topology.receivers().to_vec(),
        vec![topology.particles()],
        vec![topology.edges()],
        Widths {
            node: 2 * dim,
            edge: 0,
            global: 0,
        },
    )
}

/// Every window of `horizon` observations after a start observation, of every trajectory: graph
/// node features the start state `[qᵢ, pᵢ]`, node targets the next `horizon` states of the same
/// particle `[horizon · 2d]`. Trajectories may differ in size and topology (but not in d).
pub fn particle_windows(trajectories: &[ParticleTrajectory<'_>], horizon: usize) -> Result<GraphSet, GraphError> {
    let mut graphs = Vec::new();
    let mut targets = Vec::new();
    let dim = trajectories.first().map_or(0, |t| t.dim);
    for (index, t) in trajectories.iter().enumerate() {
        if t.dim != dim {
            return Err(GraphError::Dimension {
                index,
                found: t.dim,
                expected: dim,
            });
        }
        t.check()?;
        let samples = t.samples();
        if horizon == 0 || horizon >= samples {
            return Err(GraphError::Window { horizon, samples });
        }
        let n = t.topology.particles();
        for start in 0..samples - horizon {
            graphs.push(particle_graph(t.topology, dim, t.nodes(start))?);
            let future: Vec<Vec<f64>> = (1..=horizon).map(|j| t.nodes(start + j)).collect();
            let mut row = Vec::with_capacity(n * horizon * 2 * dim);
            for i in 0..n {
                for f in &future {
                    row.extend_from_slice(&f[i * 2 * dim..(i + 1) * 2 * dim]);
                }
            }
            targets.push(row);
        }
    }
    GraphSet::new(graphs, targets, horizon * 2 * dim)
}
