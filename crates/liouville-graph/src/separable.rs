//! Separable Hamiltonians on graphs of particles, H = T(p) + V(q), trained *through* an
//! integrator on graph batches, and rolled out by the same steps.
//!
//! Two models implement [`GraphDynamics`] (q̇ = v(p), ṗ = a(q) on node rows):
//!
//! - the Hamiltonian graph network ([`HamiltonianGraph`], Sanchez-Gonzalez et al. 2019): a learned
//!   kinetic energy per particle and a learned [`GraphPotential`], v = ∇T(p), a = −∇V(q);
//! - VIGN ([`Vign`], Desai et al. 2020, "VIGN: Variational Integrator Graph Networks"): the known
//!   kinetic energy Σ|pᵢ|²/2m and a learned graph potential, trained through the variational
//!   (velocity-Verlet / Störmer–Verlet) integrator — the graph version of Saemundsson et al.'s
//!   (2019) variational integrator networks.
//!
//! [`GraphStepLoss`] predicts the next k observations of every particle of a batch of graphs
//! (each graph its own size and edges) with `substeps` steps of size h = Δ/substeps per
//! observation, by leapfrog (kick–drift–kick, the discrete Euler–Lagrange equations of the
//! trapezoidal discrete Lagrangian)
//!
//! p_{½} = p + (h/2)a(q),  q′ = q + h v(p_{½}),  p′ = p_{½} + (h/2)a(q′),
//!
//! or by classical RK4 on (v(p), a(q)) (the HGN paper's best integrator), and takes the mean
//! squared error against the observations. dfdx's reverse mode differentiates through every
//! step (the networks' traced gradients included). Because the weights act per particle and per
//! edge, a model trained on chains of 5–8 masses rolls out a chain of 9 ([`rollout`]).

use liouville_tensor::config::Configured;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::energy::Energy;
use liouville_tensor::module::{Module, ParamMut, ParamRef};
use liouville_tensor::shapes::Matrix;
use liouville_tensor::tape::Threaded;
use liouville_tensor::train::Loss;
use liouville_tensor::{Real, TensorError, columns, host};
use serde::{Deserialize, Serialize};

use crate::data::{DeviceGraphs, GraphExamples};
use crate::hamiltonian::HamiltonianGraph;
use crate::potential::{GraphPotential, Placement, Topology};

/// A partitioned field on the node rows of a batch of graphs: q̇ᵢ = v(pᵢ), ṗ = a(q).
pub trait GraphDynamics<E: Real, D: Device<E>>: Module<E, D> {
    /// Components per particle d.
    fn dim(&self) -> usize;
    /// v(p) per node row `[R, d]`, recorded on the thread.
    fn velocity<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        p: &Matrix<E, D>,
    ) -> Result<Matrix<E, D>, TensorError>;
    /// a(q) = −∂V/∂q per node row `[R, d]` of the systems placed by `at`, on the thread.
    fn acceleration<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        q: &Matrix<E, D>,
        at: Placement<'_>,
    ) -> Result<Matrix<E, D>, TensorError>;
}

/// −∇V at node rows, on the thread.
fn minus_gradient<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    potential: &GraphPotential<E, D>,
    tp: &mut Threaded<T>,
    q: &Matrix<E, D>,
    at: Placement<'_>,
) -> Result<Matrix<E, D>, TensorError> {
    let g = potential.derive_nodes(tp, q, &[], at)?.gradient;
    Ok(tp.step(|t| g.put_tape(t).negate()))
}

impl<E: Real, D: Device<E>> GraphDynamics<E, D> for HamiltonianGraph<E, D> {
    fn dim(&self) -> usize {
        HamiltonianGraph::dim(self)
    }
    fn velocity<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        p: &Matrix<E, D>,
    ) -> Result<Matrix<E, D>, TensorError> {
        Ok(self.kinetic.derive(tp, p, &[])?.gradient)
    }
    fn acceleration<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        q: &Matrix<E, D>,
        at: Placement<'_>,
    ) -> Result<Matrix<E, D>, TensorError> {
        minus_gradient(&self.potential, tp, q, at)
    }
}

/// The integrator a [`GraphStepLoss`] trains through (and [`rollout`] predicts with).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepMethod {
    /// Leapfrog / velocity Verlet: symplectic, the variational integrator of VIN and VIGN.
    Leapfrog,
    /// Classical fourth-order Runge–Kutta (not symplectic).
    Rk4,
}

/// A typed error unless `interval` is positive and finite and `substeps ≥ 1`.
fn check_solver(interval: f64, substeps: usize) -> Result<(), TensorError> {
    if !(interval.is_finite() && interval > 0.0) || substeps == 0 {
        return Err(TensorError::InvalidConfig(format!(
            "a graph integrator needs a positive finite interval and substeps >= 1, got interval {interval}, substeps {substeps}"
        )));
    }
    Ok(())
}

/// `a + b·c` on the thread.
fn axpy<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    a: &Matrix<E, D>,
    b: &Matrix<E, D>,
    c: f64,
) -> Matrix<E, D> {
    tp.step(|t| a.clone().put_tape(t) + b.retaped::<T>() * E::of(c))
}

/// Node positions and momenta `([R, d], [R, d])`.
type PhaseState<E, D> = (Matrix<E, D>, Matrix<E, D>);

/// One observation interval (`substeps` steps of size h) from (q, p), on the thread. `force`
/// carries a(q) between leapfrog steps (one force per step, as the integrators of
/// `liouville-integrate` reuse it).
#[allow(clippy::too_many_arguments)]
fn advance<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>, M: GraphDynamics<E, D>>(
    model: &M,
    tp: &mut Threaded<T>,
    method: StepMethod,
    h: f64,
    substeps: usize,
    at: Placement<'_>,
    state: PhaseState<E, D>,
    force: &mut Option<Matrix<E, D>>,
) -> Result<PhaseState<E, D>, TensorError> {
    let (mut q, mut p) = state;
    for _ in 0..substeps {
        match method {
            StepMethod::Leapfrog => {
                let a = match force.take() {
                    Some(a) => a,
                    None => model.acceleration(tp, &q, at)?,
                };
                let p_half = axpy(tp, &p, &a, h / 2.0);
                let v = model.velocity(tp, &p_half)?;
                q = axpy(tp, &q, &v, h);
                let a = model.acceleration(tp, &q, at)?;
                p = axpy(tp, &p_half, &a, h / 2.0);
                *force = Some(a);
            }
            StepMethod::Rk4 => {
                let k1 = (model.velocity(tp, &p)?, model.acceleration(tp, &q, at)?);
                let (q2, p2) = (axpy(tp, &q, &k1.0, h / 2.0), axpy(tp, &p, &k1.1, h / 2.0));
                let k2 = (model.velocity(tp, &p2)?, model.acceleration(tp, &q2, at)?);
                let (q3, p3) = (axpy(tp, &q, &k2.0, h / 2.0), axpy(tp, &p, &k2.1, h / 2.0));
                let k3 = (model.velocity(tp, &p3)?, model.acceleration(tp, &q3, at)?);
                let (q4, p4) = (axpy(tp, &q, &k3.0, h), axpy(tp, &p, &k3.1, h));
                let k4 = (model.velocity(tp, &p4)?, model.acceleration(tp, &q4, at)?);
                let combine = |tp: &mut Threaded<T>, y: &Matrix<E, D>, k: [&Matrix<E, D>; 4]| {
                    tp.step(|t| {
                        y.clone().put_tape(t)
                            + (k[0].retaped::<T>()
                                + k[1].retaped::<T>() * E::of(2.0)
                                + k[2].retaped::<T>() * E::of(2.0)
                                + k[3].retaped::<T>())
                                * E::of(h / 6.0)
                    })
                };
                q = combine(tp, &q, [&k1.0, &k2.0, &k3.0, &k4.0]);
                p = combine(tp, &p, [&k1.1, &k2.1, &k3.1, &k4.1]);
            }
        }
    }
    Ok((q, p))
}

/// Columns `[from, from + width)` of `x`, on the thread.
fn columns_of<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    x: &Matrix<E, D>,
    from: usize,
    width: usize,
) -> Matrix<E, D> {
    let sel = columns::select(x.device(), x.shape().1, from, width);
    tp.step(|t| x.clone().put_tape(t).matmul(sel.retaped::<T>()))
}

/// The multi-step prediction loss on graph batches: node features `[q, p]` (2d), node targets
/// the next k observations `[k·2d]` of every particle.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GraphStepLoss {
    /// The integrator.
    pub method: StepMethod,
    /// Time between observations Δ.
    pub interval: f64,
    /// Integrator steps per observation.
    pub substeps: usize,
}

impl GraphStepLoss {
    /// The loss, with a positive finite interval and at least one substep.
    pub fn new(method: StepMethod, interval: f64, substeps: usize) -> Result<Self, TensorError> {
        check_solver(interval, substeps)?;
        Ok(Self {
            method,
            interval,
            substeps,
        })
    }
}

impl<E: Real, D: Device<E>> DeviceGraphs<E, D> {
    /// Where the batch's particles sit, for the potentials' node-row form.
    pub fn placement(&self) -> Placement<'_> {
        Placement {
            senders: &self.senders,
            receivers: &self.receivers,
            node_system: &self.node_graph,
            edge_system: &self.edge_graph,
            systems: self.graphs,
        }
    }
}

impl<E: Real, D: Device<E>, M: GraphDynamics<E, D>> Loss<E, D, M, GraphExamples<E, D>> for GraphStepLoss {
    fn loss<T: Tape<E, D> + Merge<T>>(
        &self,
        model: &M,
        batch: &GraphExamples<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        check_solver(self.interval, self.substeps)?;
        let d = model.dim();
        let (x, y) = (&batch.graphs.nodes, &batch.targets);
        let (rows, width) = *y.shape();
        if x.shape().1 != 2 * d || width == 0 || !width.is_multiple_of(2 * d) || x.shape().0 != rows {
            return Err(TensorError::ShapeMismatch(format!(
                "node features {:?} must be [nodes, {}] ([q, p] per particle) and targets whole states per node, got {:?}",
                x.shape(),
                2 * d,
                y.shape()
            )));
        }
        let at = batch.graphs.placement();
        let h = self.interval / self.substeps as f64;
        let mut tp = Threaded::new(tape);
        let mut state = (columns_of(&mut tp, x, 0, d), columns_of(&mut tp, x, d, d));
        let mut force = None;
        let mut total: Option<Tensor<(), E, D>> = None;
        for j in 0..width / (2 * d) {
            state = advance(model, &mut tp, self.method, h, self.substeps, at, state, &mut force)?;
            let target = |from: usize| {
                y.clone()
                    .matmul(columns::select(y.device(), width, j * 2 * d + from, d))
            };
            let (tq, tpm) = (target(0), target(d));
            let (q, p) = (&state.0, &state.1);
            let sq = tp.step(|t| {
                (q.clone().put_tape(t) - tq).square().sum::<(), _>() + (p.retaped::<T>() - tpm).square().sum::<(), _>()
            });
            total = Some(match total {
                None => sq,
                Some(acc) => tp.step(|t| acc.put_tape(t) + sq.retaped::<T>()),
            });
        }
        let total = total.expect("at least one target state per node");
        Ok(tp.finish(total) / E::of((rows * width) as f64))
    }
}

/// The model's prediction of `steps` observations `interval` apart from the node states `[q, p]`
/// of `graphs` (the integrator of `loss`): one `[nodes · 2d]` row-major vector per observation,
/// the start state first. A model that diverges gives non-finite values, not an error: how far
/// it got is the result.
pub fn rollout<E: Real, D: Device<E>, M: GraphDynamics<E, D>>(
    model: &M,
    graphs: &DeviceGraphs<E, D>,
    loss: &GraphStepLoss,
    steps: usize,
) -> Result<Vec<Vec<f64>>, TensorError> {
    check_solver(loss.interval, loss.substeps)?;
    let d = model.dim();
    if graphs.nodes.shape().1 != 2 * d {
        return Err(TensorError::ShapeMismatch(format!(
            "node features {:?}, a rollout needs [q, p] per particle ({} columns)",
            graphs.nodes.shape(),
            2 * d
        )));
    }
    let at = graphs.placement();
    let h = loss.interval / loss.substeps as f64;
    let mut out = vec![host::values(&graphs.nodes)];
    let mut tp = Threaded::new(NoneTape);
    let x = &graphs.nodes;
    let mut state = (columns_of(&mut tp, x, 0, d), columns_of(&mut tp, x, d, d));
    let mut force = None;
    let n = x.shape().0;
    for _ in 0..steps {
        state = advance(model, &mut tp, loss.method, h, loss.substeps, at, state, &mut force)?;
        let (q, p) = (host::values(&state.0), host::values(&state.1));
        let mut row = Vec::with_capacity(2 * n * d);
        for i in 0..n {
            row.extend_from_slice(&q[i * d..(i + 1) * d]);
            row.extend_from_slice(&p[i * d..(i + 1) * d]);
        }
        out.push(row);
        // The graph of rows stays small: start the next observation on a fresh thread.
        tp = Threaded::new(NoneTape);
    }
    Ok(out)
}

/// Architecture of a [`Vign`] or a [`HamiltonianGraph`] as a saved model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphHamiltonianConfig {
    /// Components per particle d.
    pub dim: usize,
    /// Hidden widths of every network.
    pub hidden: Vec<usize>,
    /// Whether V has an external-field term ψ(qᵢ).
    pub external: bool,
    /// VIGN: the particles' (known) mass; ignored by the HGN, whose T is learned.
    pub mass: f64,
    /// The model's own topology (for its `Energy` on fixed-size rows): particles.
    pub particles: usize,
    /// Its edges' senders.
    pub senders: Vec<usize>,
    /// Its edges' receivers.
    pub receivers: Vec<usize>,
}

/// VIGN: H = Σᵢ |pᵢ|²/2m + V_θ(q) with a learned [`GraphPotential`] and known mass m.
#[derive(Debug, Clone)]
pub struct Vign<E: Real, D: Device<E>> {
    /// V_θ on the graph.
    pub potential: GraphPotential<E, D>,
    mass: f64,
}

impl<E: Real, D: Device<E>> Vign<E, D> {
    /// φ (and ψ with `external`) as softplus MLPs of widths `hidden` on `topology` in `dim`
    /// dimensions, particles of mass `mass > 0`.
    pub fn new(
        device: &D,
        topology: Topology,
        dim: usize,
        hidden: &[usize],
        external: bool,
        mass: f64,
        seed: u64,
    ) -> Result<Self, TensorError> {
        if !(mass.is_finite() && mass > 0.0) {
            return Err(TensorError::InvalidConfig(format!(
                "VIGN's particles need a positive finite mass, got {mass}"
            )));
        }
        Ok(Self {
            potential: GraphPotential::new(device, topology, dim, hidden, external, seed)?,
            mass,
        })
    }

    /// The same learned V on another set of particles and edges.
    pub fn with_topology(&self, topology: Topology) -> Self {
        Self {
            potential: self.potential.with_topology(topology),
            mass: self.mass,
        }
    }

    /// The particles' mass m.
    pub fn mass(&self) -> f64 {
        self.mass
    }

    /// The learned energy H = Σ|pᵢ|²/2m + V(q) of node states `[q, p]` per particle (row-major
    /// `[nodes · 2d]`) of one system placed by `at`.
    pub fn energy(&self, states: &[f64], at: Placement<'_>) -> Result<Vec<f64>, TensorError> {
        let d = self.potential.dim();
        let n = states.len() / (2 * d);
        let q: Vec<f64> = (0..n).flat_map(|i| states[i * 2 * d..i * 2 * d + d].to_vec()).collect();
        let dev = self.potential.pair.device().clone();
        let qm = host::matrix(&dev, q, n, d);
        let mut tp = Threaded::new(NoneTape);
        let v = host::values(&self.potential.derive_nodes(&mut tp, &qm, &[], at)?.value);
        let mut kinetic = vec![0.0; at.systems];
        for i in 0..n {
            let p = &states[i * 2 * d + d..(i + 1) * 2 * d];
            kinetic[at.node_system[i]] += p.iter().map(|x| x * x).sum::<f64>() / (2.0 * self.mass);
        }
        Ok(v.iter().zip(&kinetic).map(|(v, t)| v + t).collect())
    }
}

impl<E: Real, D: Device<E>> GraphDynamics<E, D> for Vign<E, D> {
    fn dim(&self) -> usize {
        self.potential.dim()
    }
    fn velocity<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        p: &Matrix<E, D>,
    ) -> Result<Matrix<E, D>, TensorError> {
        let inverse = 1.0 / self.mass;
        Ok(tp.step(|t| p.clone().put_tape(t) * E::of(inverse)))
    }
    fn acceleration<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        q: &Matrix<E, D>,
        at: Placement<'_>,
    ) -> Result<Matrix<E, D>, TensorError> {
        minus_gradient(&self.potential, tp, q, at)
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for Vign<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        liouville_tensor::module::prefixed("potential", self.potential.parameters())
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        self.potential.parameters_mut()
    }
}

impl GraphHamiltonianConfig {
    fn topology(&self) -> Result<Topology, TensorError> {
        Topology::new(self.particles, (self.senders.clone(), self.receivers.clone()))
    }
    fn of<E: Real, D: Device<E>>(potential: &GraphPotential<E, D>, mass: f64) -> Self {
        let t = potential.topology();
        Self {
            dim: potential.dim(),
            hidden: potential.pair.hidden_widths().to_vec(),
            external: potential.external.is_some(),
            mass,
            particles: t.particles(),
            senders: t.senders().to_vec(),
            receivers: t.receivers().to_vec(),
        }
    }
}

impl<E: Real, D: Device<E>> Configured<E, D> for Vign<E, D> {
    const KIND: &'static str = "vign";
    type Config = GraphHamiltonianConfig;
    fn config(&self) -> GraphHamiltonianConfig {
        GraphHamiltonianConfig::of(&self.potential, self.mass)
    }
    fn from_config(c: &GraphHamiltonianConfig, device: &D, seed: u64) -> Result<Self, TensorError> {
        Vign::new(device, c.topology()?, c.dim, &c.hidden, c.external, c.mass, seed)
    }
}

impl<E: Real, D: Device<E>> Configured<E, D> for HamiltonianGraph<E, D> {
    const KIND: &'static str = "hgn";
    type Config = GraphHamiltonianConfig;
    fn config(&self) -> GraphHamiltonianConfig {
        GraphHamiltonianConfig::of(&self.potential, 1.0)
    }
    fn from_config(c: &GraphHamiltonianConfig, device: &D, seed: u64) -> Result<Self, TensorError> {
        HamiltonianGraph::build(device, c.topology()?, c.dim, &c.hidden, c.external, seed)
    }
}
