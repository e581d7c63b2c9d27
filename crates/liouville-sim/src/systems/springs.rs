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

    /// A chain: particle i joined to i + 1 by `spring`, masses `masses` (the graph_nets
    /// physics demo's string of masses, here with free ends), in `dim` dimensions.
    pub fn chain(masses: &[f64], spring: Spring, dim: usize) -> Result<Self, SimError> {
        let mut graph = UnGraph::<f64, Spring>::new_undirected();
        let nodes: Vec<_> = masses.iter().map(|&m| graph.add_node(m)).collect();
        for pair in nodes.windows(2) {
            graph.add_edge(pair[0], pair[1], spring);
        }
        Self::from_graph(&graph, dim)
    }

    /// The masses, by particle.
    pub fn masses(&self) -> &[f64] {
        &self.masses
    }

    /// The springs as (i, j, spring), each once.
    pub fn springs(&self) -> &[(usize, usize, Spring)] {
        &self.edges
    }

    /// Components per particle d.
    pub fn dim(&self) -> usize {
        self.dim
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

/// Trajectories of a spring chain ([`SpringNetwork::chain`], unit masses) from random starts:
/// particle i at (i·L, 0, …) plus a uniform jitter in [−a, a] in every component, momenta
/// N(0, σ²) with the mean removed (the chain's centre of mass at rest), integrated by Yoshida's
/// fourth-order splitting with `substeps` steps per observation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChainRun {
    /// Particles N ≥ 2.
    pub particles: usize,
    /// Components per particle d (1–3).
    pub dim: usize,
    /// Every link's spring.
    pub spring: Spring,
    /// Position jitter a.
    pub jitter: f64,
    /// Momentum spread σ.
    pub momentum: f64,
    /// Time between observations Δ.
    pub interval: f64,
    /// Observations per trajectory, the start included.
    pub samples: usize,
    /// Integrator steps per observation.
    pub substeps: usize,
}

impl ChainRun {
    /// The chain and `trajectories` runs `[trajectory, sample, 2·N·d]` (state rows
    /// `[q₁ … q_N, p₁ … p_N]`); trajectory k draws stream k of `seed`.
    pub fn simulate(&self, trajectories: usize, seed: u64) -> Result<(SpringNetwork, Array3<f64>), SimError> {
        use liouville_integrate::splitting::{Splitting, SymplecticMethod};
        use liouville_integrate::{FixedGrid, fixed};
        if self.particles < 2 || self.samples < 2 || self.substeps == 0 || trajectories == 0 {
            return Err(SimError::InvalidOption(format!(
                "a chain run needs particles >= 2, samples >= 2, substeps >= 1 and trajectories >= 1, got {}, {}, {}, {trajectories}",
                self.particles, self.samples, self.substeps
            )));
        }
        non_negative("jitter", self.jitter)?;
        non_negative("momentum", self.momentum)?;
        positive("interval", self.interval)?;
        let chain = SpringNetwork::chain(&vec![1.0; self.particles], self.spring, self.dim)?;
        let (n, d) = (self.particles, self.dim);
        let mut y0 = Array2::zeros((trajectories, 2 * n * d));
        for k in 0..trajectories {
            let mut rng = Rng::stream(seed, k as u64);
            for i in 0..n {
                for c in 0..d {
                    let rest = if c == 0 {
                        i as f64 * self.spring.rest_length
                    } else {
                        0.0
                    };
                    y0[[k, i * d + c]] = rest + rng.uniform_in(-self.jitter, self.jitter);
                }
            }
            let p: Vec<f64> = (0..n * d).map(|_| self.momentum * rng.normal()).collect();
            for c in 0..d {
                let mean = (0..n).map(|i| p[i * d + c]).sum::<f64>() / n as f64;
                for i in 0..n {
                    y0[[k, n * d + i * d + c]] = p[i * d + c] - mean;
                }
            }
        }
        let steps = (self.samples - 1) * self.substeps;
        let grid = FixedGrid::new(0.0, self.interval / self.substeps as f64, steps)?;
        let stepper = Splitting::new(chain.clone(), SymplecticMethod::Yoshida4);
        let solution = fixed::integrate(&stepper, &grid, y0.view(), self.substeps)?;
        // [time, trajectory, component] → [trajectory, time, component].
        let states = solution.states.permuted_axes([1, 0, 2]).as_standard_layout().to_owned();
        Ok((chain, states))
    }
}
