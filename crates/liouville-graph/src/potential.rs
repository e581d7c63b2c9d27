//! A learned potential energy on a graph of particles, with exact input derivatives:
//!
//! V(q) = Σ_{(s, r) ∈ E} φ_θ(q_s − q_r) + Σ_i ψ_θ(q_i),
//!
//! on rows `[q₁ … q_N]` (d components per particle) of a topology E. φ (the pair term) and the
//! optional ψ (an external field, e.g. gravity or a trap) are MLP energies; their gradients and
//! Hessian-vector products (tensor's traced rules) are gathered onto the edges and scattered back
//! onto the particles by segment sums:
//!
//! ∂V/∂q_j = Σ_{s = j} ∇φ(Δ) − Σ_{r = j} ∇φ(Δ) + ∇ψ(q_j),
//!
//! and likewise for (∇²V)v along any direction v. The networks see one edge or one particle at a
//! time, so the same weights serve any number of particles and any topology
//! ([`GraphPotential::with_topology`]): a potential learned on chains of 5–8 masses predicts a
//! chain of 9. Without ψ, V is invariant under translations (φ sees only differences); always
//! under relabelling the particles together with the edges.
//!
//! This is the potential of the Hamiltonian graph network
//! ([`HamiltonianGraph`](crate::hamiltonian::HamiltonianGraph)) and of VIGN
//! ([`Vign`](crate::vign::Vign)).

use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::energy::{Derivatives, Energy};
use liouville_tensor::module::{Module, ParamMut, ParamRef, prefixed};
use liouville_tensor::segment::segment_sum;
use liouville_tensor::shapes::{Matrix, Vector};
use liouville_tensor::tape::Threaded;
use liouville_tensor::{Activation, Init, Mlp, MlpConfig, Real, TensorError};

/// Who interacts with whom: N particles and directed edges (senders, receivers), each edge one
/// pair term φ(q_s − q_r).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    particles: usize,
    senders: Vec<usize>,
    receivers: Vec<usize>,
}

impl Topology {
    /// `particles ≥ 1` joined by the edges `(senders, receivers)`; an endpoint out of range or
    /// unequal lists are typed errors.
    pub fn new(particles: usize, edges: (Vec<usize>, Vec<usize>)) -> Result<Self, TensorError> {
        let (senders, receivers) = edges;
        if particles == 0 || senders.len() != receivers.len() {
            return Err(TensorError::InvalidConfig(format!(
                "a particle graph needs at least one particle and as many senders as receivers, got {particles} particles, {} senders, {} receivers",
                senders.len(),
                receivers.len()
            )));
        }
        if let Some(&bad) = senders.iter().chain(&receivers).find(|&&i| i >= particles) {
            return Err(TensorError::ShapeMismatch(format!(
                "edge endpoint {bad} out of range 0..{particles}"
            )));
        }
        Ok(Self {
            particles,
            senders,
            receivers,
        })
    }

    /// Particles N.
    pub fn particles(&self) -> usize {
        self.particles
    }

    /// Edges |E|.
    pub fn edges(&self) -> usize {
        self.senders.len()
    }

    /// Sender of every edge.
    pub fn senders(&self) -> &[usize] {
        &self.senders
    }

    /// Receiver of every edge.
    pub fn receivers(&self) -> &[usize] {
        &self.receivers
    }

    /// Batched edge endpoints: for batch row b, node rows b·N + s and b·N + r, and the row of
    /// every edge.
    pub(crate) fn endpoints(&self, batch: usize) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
        let n = self.particles;
        let e = self.senders.len();
        let mut s = Vec::with_capacity(batch * e);
        let mut r = Vec::with_capacity(batch * e);
        let mut graph = Vec::with_capacity(batch * e);
        for b in 0..batch {
            for (&si, &ri) in self.senders.iter().zip(&self.receivers) {
                s.push(b * n + si);
                r.push(b * n + ri);
                graph.push(b);
            }
        }
        (s, r, graph)
    }
}

/// A typed error unless `x` has `cols` columns and every direction has `x`'s shape.
pub(crate) fn check_rows<E: Real, D: Device<E>>(
    x: &Matrix<E, D>,
    directions: &[Matrix<E, D>],
    cols: usize,
    what: &str,
) -> Result<(), TensorError> {
    if x.shape().1 != cols {
        return Err(TensorError::ShapeMismatch(format!(
            "rows have {} columns, {what} takes {cols}",
            x.shape().1
        )));
    }
    if let Some(v) = directions.iter().find(|v| v.shape() != x.shape()) {
        return Err(TensorError::ShapeMismatch(format!(
            "direction {:?} does not match input {:?}",
            v.shape(),
            x.shape()
        )));
    }
    Ok(())
}

/// Rows `index` of `m`, on the thread (no rows for an empty index: dfdx's CPU gather panics on
/// an empty index).
fn gather_rows<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    m: &Matrix<E, D>,
    index: &[usize],
) -> Matrix<E, D> {
    if index.is_empty() {
        return m.device().zeros_like(&(0, m.shape().1));
    }
    let idx = m.device().tensor_from_vec(index.to_vec(), (index.len(),));
    tp.step(|t| m.clone().put_tape(t).gather(idx))
}

/// Edge differences q_s − q_r `[B·E, d]` of node rows `nodes` `[B·N, d]`.
fn differences<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    nodes: &Matrix<E, D>,
    s: &[usize],
    r: &[usize],
) -> Matrix<E, D> {
    let (qs, qr) = (gather_rows(tp, nodes, s), gather_rows(tp, nodes, r));
    tp.step(|t| qs.put_tape(t) - qr.retaped::<T>())
}

/// Σ_edges ±g scattered onto the node rows (+ at senders, − at receivers), `[rows, d]`.
fn scatter<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    g: &Matrix<E, D>,
    s: &[usize],
    r: &[usize],
    rows: usize,
) -> Result<Matrix<E, D>, TensorError> {
    let out = tp.try_step(|t| segment_sum(g.clone().put_tape(t), s, rows))?;
    let back = tp.try_step(|t| segment_sum(g.clone().put_tape(t), r, rows))?;
    Ok(tp.step(|t| out.put_tape(t) - back.retaped::<T>()))
}

/// Σ of a per-node or per-edge value `[items]` over each batch row's items, `[batch]`.
pub(crate) fn per_row<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    v: &Vector<E, D>,
    ids: &[usize],
    batch: usize,
) -> Result<Vector<E, D>, TensorError> {
    let items = v.shape().0;
    let m = tp.step(|t| v.clone().put_tape(t).reshape_like(&(items, 1)));
    let summed = tp.try_step(|t| segment_sum(m.put_tape(t), ids, batch))?;
    Ok(tp.step(|t| summed.put_tape(t).reshape_like(&(batch,))))
}

/// `[B, N·d]` rows as `[B·N, d]` node rows, on the thread.
pub(crate) fn as_nodes<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    x: &Matrix<E, D>,
    d: usize,
) -> Matrix<E, D> {
    let (batch, cols) = *x.shape();
    tp.step(|t| x.clone().put_tape(t).reshape_like(&(batch * cols / d, d)))
}

/// `[B·N, d]` node rows back as `[B, N·d]` rows, on the thread.
pub(crate) fn as_rows<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    nodes: &Matrix<E, D>,
    batch: usize,
) -> Matrix<E, D> {
    let (rows, d) = *nodes.shape();
    tp.step(|t| nodes.clone().put_tape(t).reshape_like(&(batch, rows * d / batch)))
}

/// V(q) = Σ_edges φ(q_s − q_r) (+ Σ_nodes ψ(q_i)) on N particles in d dimensions.
#[derive(Debug, Clone)]
pub struct GraphPotential<E: Real, D: Device<E>> {
    /// φ_θ(q_s − q_r) per edge, `[d] → hidden → 1`.
    pub pair: Mlp<E, D>,
    /// ψ_θ(q_i) per particle, `[d] → hidden → 1` (an external field), if any.
    pub external: Option<Mlp<E, D>>,
    topology: Topology,
}

impl<E: Real, D: Device<E>> GraphPotential<E, D> {
    /// φ (and ψ with `external`) as softplus MLPs of the given hidden widths (smooth second
    /// derivatives; Xavier initialisation, seeds `seed` and `seed + 1`), over `topology` in `dim`
    /// dimensions.
    pub fn new(
        device: &D,
        topology: Topology,
        dim: usize,
        hidden: &[usize],
        external: bool,
        seed: u64,
    ) -> Result<Self, TensorError> {
        if dim == 0 {
            return Err(TensorError::InvalidConfig(
                "particles need at least one coordinate (dim >= 1), got 0".into(),
            ));
        }
        let mlp = |s: u64| MlpConfig::new(dim, hidden, 1, Activation::Softplus, Init::Xavier).init(device, s);
        Ok(Self {
            pair: mlp(seed)?,
            external: if external {
                Some(mlp(seed.wrapping_add(1))?)
            } else {
                None
            },
            topology,
        })
    }

    /// The same learned φ and ψ on another set of particles and edges.
    pub fn with_topology(&self, topology: Topology) -> Self {
        Self {
            pair: self.pair.clone(),
            external: self.external.clone(),
            topology,
        }
    }

    /// The particles and edges.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Components per particle d.
    pub fn dim(&self) -> usize {
        self.pair.widths()[0]
    }
}

/// Where the particles of a batch sit: `rows` independent systems, node rows `[R, d]` with the
/// system of every node, and edges between node rows with the system of every edge.
#[derive(Debug, Clone, Copy)]
pub struct Placement<'a> {
    /// Sender node row of every edge.
    pub senders: &'a [usize],
    /// Receiver node row of every edge.
    pub receivers: &'a [usize],
    /// System of every node row.
    pub node_system: &'a [usize],
    /// System of every edge.
    pub edge_system: &'a [usize],
    /// Number of systems.
    pub systems: usize,
}

/// V, ∇V and (∇²V)v on node rows: untaped results whose ops live on the caller's thread.
pub struct NodeDerivatives<E: Real, D: Device<E>> {
    /// V of every system, `[systems]`.
    pub value: Vector<E, D>,
    /// ∂V/∂q_i at every node row, `[R, d]`.
    pub gradient: Matrix<E, D>,
    /// (∇²V)v at every node row, one `[R, d]` per direction.
    pub hvps: Vec<Matrix<E, D>>,
}

impl<E: Real, D: Device<E>> GraphPotential<E, D> {
    /// V, its gradient and HVPs for node positions `nodes` `[R, d]` (directions `[R, d]` each)
    /// placed by `at`: the graph-batch form, where every system may have its own particles and
    /// edges. The model's own topology is not used.
    pub fn derive_nodes<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        nodes: &Matrix<E, D>,
        directions: &[Matrix<E, D>],
        at: Placement<'_>,
    ) -> Result<NodeDerivatives<E, D>, TensorError> {
        let (rows, d) = *nodes.shape();
        if d != self.dim()
            || at.node_system.len() != rows
            || at.senders.len() != at.receivers.len()
            || at.edge_system.len() != at.senders.len()
        {
            return Err(TensorError::ShapeMismatch(format!(
                "node rows {:?} with {} systems ids, {} senders, {} receivers and {} edge ids, a potential in {} dimensions",
                nodes.shape(),
                at.node_system.len(),
                at.senders.len(),
                at.receivers.len(),
                at.edge_system.len(),
                self.dim()
            )));
        }
        check_rows(nodes, directions, d, "the potential")?;
        let (s, r) = (at.senders, at.receivers);
        let mut value = nodes.device().zeros_like(&(at.systems,));
        let mut gradient = nodes.device().zeros_like(&(rows, d));
        let mut hvps = vec![gradient.clone(); directions.len()];
        if !s.is_empty() {
            let delta = differences(tp, nodes, s, r);
            let edge_directions: Vec<_> = directions.iter().map(|v| differences(tp, v, s, r)).collect();
            let pair = self.pair.derive(tp, &delta, &edge_directions)?;
            value = per_row(tp, &pair.value, at.edge_system, at.systems)?;
            gradient = scatter(tp, &pair.gradient, s, r, rows)?;
            for (h, pair_hv) in hvps.iter_mut().zip(&pair.hvps) {
                *h = scatter(tp, pair_hv, s, r, rows)?;
            }
        }
        if let Some(external) = &self.external {
            let field = external.derive(tp, nodes, directions)?;
            let v = per_row(tp, &field.value, at.node_system, at.systems)?;
            value = tp.step(|t| value.put_tape(t) + v.retaped::<T>());
            gradient = tp.step(|t| gradient.put_tape(t) + field.gradient.retaped::<T>());
            for (h, field_hv) in hvps.iter_mut().zip(&field.hvps) {
                let sum = tp.step(|t| h.clone().put_tape(t) + field_hv.retaped::<T>());
                *h = sum;
            }
        }
        Ok(NodeDerivatives { value, gradient, hvps })
    }
}

impl<E: Real, D: Device<E>> Energy<E, D> for GraphPotential<E, D> {
    fn input_dim(&self) -> usize {
        self.topology.particles * self.dim()
    }

    fn derive<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
        directions: &[Matrix<E, D>],
    ) -> Result<Derivatives<E, D>, TensorError> {
        let (n, d) = (self.topology.particles, self.dim());
        check_rows(
            x,
            directions,
            n * d,
            &format!("a potential of {n} particles in {d} dimensions"),
        )?;
        let batch = x.shape().0;
        let (s, r, edge_system) = self.topology.endpoints(batch);
        let node_system: Vec<usize> = (0..batch * n).map(|i| i / n).collect();
        let nodes = as_nodes(tp, x, d);
        let node_directions: Vec<_> = directions.iter().map(|v| as_nodes(tp, v, d)).collect();
        let at = Placement {
            senders: &s,
            receivers: &r,
            node_system: &node_system,
            edge_system: &edge_system,
            systems: batch,
        };
        let v = self.derive_nodes(tp, &nodes, &node_directions, at)?;
        Ok(Derivatives {
            value: v.value,
            gradient: as_rows(tp, &v.gradient, batch),
            hvps: v.hvps.iter().map(|h| as_rows(tp, h, batch)).collect(),
        })
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for GraphPotential<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        let mut v = prefixed("pair", self.pair.parameters());
        if let Some(external) = &self.external {
            v.extend(prefixed("external", external.parameters()));
        }
        v
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        let mut v = self.pair.parameters_mut();
        if let Some(external) = &mut self.external {
            v.extend(external.parameters_mut());
        }
        v
    }
}
