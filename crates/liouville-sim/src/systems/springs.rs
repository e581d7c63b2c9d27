//! Particles joined by springs: a general network given as a petgraph graph, and the NRI
//! benchmark system of Kipf et al. (2018), balls in a box joined by random springs.
//!
//! Network: V = Σ_{(i,j) ∈ E} kᵢⱼ/2 (|qᵢ - qⱼ| - Lᵢⱼ)², T = Σ |pᵢ|²/(2mᵢ).

use liouville_integrate::{SeparableHamiltonian, energies};
use ndarray::{Array2, Array3, ArrayView2, ArrayViewMut1, ArrayViewMut2, s};
use petgraph::graph::UnGraph;
use petgraph::visit::EdgeRef;

use super::{Conserved, Invariant};
use crate::SimError;
use crate::error::{non_negative, positive};
use crate::rng::Rng;

/// A spring: stiffness k > 0 and rest length L ≥ 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spring {
    /// Stiffness k.
    pub stiffness: f64,
    /// Rest length L.
    pub rest_length: f64,
}

/// Point masses (graph nodes, weight = mass) joined by springs (graph edges).
#[derive(Debug, Clone)]
pub struct SpringNetwork {
    masses: Vec<f64>,
    edges: Vec<(usize, usize, Spring)>,
    dim: usize,
}

impl SpringNetwork {
    /// From an undirected graph whose node weights are masses and edge weights springs, in
    /// `dim` dimensions. Validates masses > 0, stiffness > 0, rest length ≥ 0, no self-loops.
    pub fn from_graph(graph: &UnGraph<f64, Spring>, dim: usize) -> Result<Self, SimError> {
        if dim == 0 || dim > 3 {
            return Err(SimError::InvalidOption(format!(
                "dimension must be 1, 2 or 3, got {dim}"
            )));
        }
        let masses = graph
            .node_weights()
            .map(|&m| positive("mass", m))
            .collect::<Result<Vec<_>, _>>()?;
        let mut edges = Vec::with_capacity(graph.edge_count());
        for e in graph.edge_references() {
            let (i, j) = (e.source().index(), e.target().index());
            if i == j {
                return Err(SimError::InvalidOption(format!("self-loop spring on node {i}")));
            }
            let w = *e.weight();
            positive("stiffness", w.stiffness)?;
            non_negative("rest_length", w.rest_length)?;
            edges.push((i, j, w));
        }
        Ok(Self { masses, edges, dim })
    }
    /// Number of particles.
    pub fn particles(&self) -> usize {
        self.masses.len()
    }
}

impl SeparableHamiltonian for SpringNetwork {
    fn dof(&self) -> usize {
        self.dim * self.masses.len()
    }
    fn kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        let d = self.dim;
        for (o, row) in out.iter_mut().zip(p.rows()) {
            *o = (0..row.len())
                .map(|k| row[k] * row[k] / (2.0 * self.masses[k / d]))
                .sum();
        }
    }
    fn potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        let d = self.dim;
        for (o, row) in out.iter_mut().zip(q.rows()) {
            *o = self
                .edges
                .iter()
                .map(|&(i, j, sp)| {
                    let r = (0..d)
                        .map(|c| (row[d * i + c] - row[d * j + c]).powi(2))
                        .sum::<f64>()
                        .sqrt();
                    0.5 * sp.stiffness * (r - sp.rest_length).powi(2)
                })
                .sum();
        }
    }
    fn grad_kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        for r in 0..p.nrows() {
            for k in 0..p.ncols() {
                out[[r, k]] = p[[r, k]] / self.masses[k / self.dim];
            }
        }
    }
    fn grad_potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        let d = self.dim;
        out.fill(0.0);
        for r in 0..q.nrows() {
            for &(i, j, sp) in &self.edges {
                let mut delta = [0.0; 3];
                let mut dist2 = 0.0;
                for c in 0..d {
                    delta[c] = q[[r, d * i + c]] - q[[r, d * j + c]];
                    dist2 += delta[c] * delta[c];
                }
                let dist = dist2.sqrt();
                // k (|Δ| - L) Δ/|Δ|; with L = 0 this is kΔ, smooth through Δ = 0.
                let w = if sp.rest_length == 0.0 {
                    sp.stiffness
                } else if dist > 0.0 {
                    sp.stiffness * (dist - sp.rest_length) / dist
                } else {
                    0.0
                };
                for c in 0..d {
                    out[[r, d * i + c]] += w * delta[c];
                    out[[r, d * j + c]] -= w * delta[c];
                }
            }
        }
    }
}

impl Conserved for SpringNetwork {
    fn conserved(&self, y: ArrayView2<'_, f64>) -> Vec<Invariant> {
        vec![Invariant {
            name: "energy",
            values: energies(self, y),
        }]
    }
}

/// The NRI "springs" system (Kipf et al. 2018): `balls` unit masses in the square box
/// [-L, L]², joined by zero-rest-length springs of strength k with probability ½ per pair, with
/// elastic reflection at the walls. Positions start N(0, 0.5²), velocities random with norm 0.5.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NriSprings {
    /// Number of balls.
    pub balls: usize,
    /// Half-width L of the box.
    pub box_size: f64,
    /// Spring strength k.
    pub interaction: f64,
    /// Probability of a spring between two balls.
    pub edge_probability: f64,
}

/// One NRI trajectory.
#[derive(Debug, Clone, PartialEq)]
pub struct NriTrajectory {
    /// Symmetric 0/1 adjacency, zero diagonal.
    pub edges: Array2<f64>,
    /// `[sample, ball, (x, y, vx, vy)]`.
    pub states: Array3<f64>,
}

impl Default for NriSprings {
    fn default() -> Self {
        Self {
            balls: 5,
            box_size: 5.0,
            interaction: 0.1,
            edge_probability: 0.5,
        }
    }
}

impl NriSprings {
    /// Validates the settings.
    pub fn validate(&self) -> Result<(), SimError> {
        if self.balls < 2 {
            return Err(SimError::InvalidOption("NRI springs need at least 2 balls".into()));
        }
        positive("box_size", self.box_size)?;
        positive("interaction", self.interaction)?;
        if !(0.0..=1.0).contains(&self.edge_probability) {
            return Err(SimError::InvalidParameter {
                name: "edge_probability",
                value: self.edge_probability,
                requirement: "must be in [0, 1]",
            });
        }
        Ok(())
    }

    /// The spring network of a given adjacency (unit masses, 2D).
    pub fn network(&self, edges: &Array2<f64>) -> Result<SpringNetwork, SimError> {
        let mut g = UnGraph::<f64, Spring>::new_undirected();
        let nodes: Vec<_> = (0..self.balls).map(|_| g.add_node(1.0)).collect();
        for i in 0..self.balls {
            for j in i + 1..self.balls {
                if edges[[i, j]] != 0.0 {
                    g.add_edge(
                        nodes[i],
                        nodes[j],
                        Spring {
                            stiffness: self.interaction,
                            rest_length: 0.0,
                        },
                    );
                }
            }
        }
        SpringNetwork::from_graph(&g, 2)
    }

    /// Simulates `steps` steps of dt with symplectic Euler (drift, wall reflection, kick), as
    /// NRI does, recording every `sample_every` steps.
    pub fn simulate(
        &self,
        rng: &mut Rng,
        steps: usize,
        sample_every: usize,
        dt: f64,
    ) -> Result<NriTrajectory, SimError> {
        self.validate()?;
        positive("dt", dt)?;
        if sample_every == 0 || steps < sample_every {
            return Err(SimError::InvalidOption("need steps >= sample_every >= 1".into()));
        }
        let n = self.balls;
        let mut edges = Array2::zeros((n, n));
        for i in 0..n {
            for j in 0..i {
                let e = if rng.uniform() < self.edge_probability {
                    1.0
                } else {
                    0.0
                };
                edges[[i, j]] = e;
                edges[[j, i]] = e;
            }
        }
        let net = self.network(&edges)?;
        let mut y = Array2::zeros((1, 4 * n));
        for i in 0..2 * n {
            y[[0, i]] = 0.5 * rng.normal();
        }
        for i in 0..n {
            let (vx, vy) = (rng.normal(), rng.normal());
            let norm = (vx * vx + vy * vy).sqrt().max(f64::MIN_POSITIVE);
            y[[0, 2 * n + 2 * i]] = 0.5 * vx / norm;
            y[[0, 2 * n + 2 * i + 1]] = 0.5 * vy / norm;
        }
        let samples = steps / sample_every;
        let mut states = Array3::zeros((samples, n, 4));
        let mut force = Array2::zeros((1, 2 * n));
        let l = self.box_size;
        for step in 1..=steps {
            {
                let (mut q, p) = y.view_mut().split_at(ndarray::Axis(1), 2 * n);
                q.scaled_add(dt, &p);
            }
            for k in 0..2 * n {
                let (x, v) = (y[[0, k]], y[[0, 2 * n + k]]);
                if x > l {
                    y[[0, k]] = 2.0 * l - x;
                    y[[0, 2 * n + k]] = -v.abs();
                } else if x < -l {
                    y[[0, k]] = -2.0 * l - x;
                    y[[0, 2 * n + k]] = v.abs();
                }
            }
            net.grad_potential(y.slice(s![.., ..2 * n]), force.view_mut());
            {
                let mut p = y.slice_mut(s![.., 2 * n..]);
                p.scaled_add(-dt, &force);
            }
            if step % sample_every == 0 {
                let k = step / sample_every - 1;
                for i in 0..n {
                    states[[k, i, 0]] = y[[0, 2 * i]];
                    states[[k, i, 1]] = y[[0, 2 * i + 1]];
                    states[[k, i, 2]] = y[[0, 2 * n + 2 * i]];
                    states[[k, i, 3]] = y[[0, 2 * n + 2 * i + 1]];
                }
            }
        }
        Ok(NriTrajectory { edges, states })
    }
}
