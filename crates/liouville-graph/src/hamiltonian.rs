//! A learned Hamiltonian on a graph of particles (Sanchez-Gonzalez et al. 2019, "Hamiltonian
//! Graph Networks with ODE Integrators"), as a tensor [`Energy`] with exact input derivatives:
//!
//! H(q, p) = Σᵢ T_θ(pᵢ) + Σ_{(s, r) ∈ E} V_θ(q_s − q_r),
//!
//! on rows `[q₁ … q_N, p₁ … p_N]` (d components per particle) of a fixed topology E. T and V are
//! MLP energies; their gradients and Hessian-vector products (tensor's traced rules) are
//! gathered onto the edges and scattered back by segment sums:
//!
//! ∂H/∂q_j = Σ_{s = j} ∇V(Δ) − Σ_{r = j} ∇V(Δ),  ∂H/∂p_j = ∇T(p_j),
//!
//! and likewise for (∇²H)v along any direction v. So `losses::hnn_loss`, the HNN field and the
//! symplectic integrators apply unchanged, and H is invariant under translations (V sees only
//! differences) and under relabelling the particles with the edges.

use liouville_tensor::columns;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::energy::{Derivatives, Energy};
use liouville_tensor::module::{Module, ParamMut, ParamRef, prefixed};
use liouville_tensor::segment::segment_sum;
use liouville_tensor::shapes::{Matrix, Vector};
use liouville_tensor::tape::Threaded;
use liouville_tensor::{Activation, Init, Mlp, MlpConfig, Real, TensorError};

/// A pair-potential Hamiltonian graph network on N particles in d dimensions.
#[derive(Debug, Clone)]
pub struct HamiltonianGraph<E: Real, D: Device<E>> {
    /// T_θ(p) per particle, `[d] → hidden → 1`.
    pub kinetic: Mlp<E, D>,
    /// V_θ(q_s − q_r) per edge, `[d] → hidden → 1`.
    pub pair: Mlp<E, D>,
    particles: usize,
    senders: Vec<usize>,
    receivers: Vec<usize>,
}

impl<E: Real, D: Device<E>> HamiltonianGraph<E, D> {
    /// T and V as MLPs of the given hidden widths (softplus: smooth second derivatives), over
    /// `particles` particles in `dim` dimensions connected by the edges (senders, receivers).
    pub fn new(
        device: &D,
        particles: usize,
        dim: usize,
        edges: (Vec<usize>, Vec<usize>),
        hidden: &[usize],
        seed: u64,
    ) -> Result<Self, TensorError> {
        let (senders, receivers) = edges;
        if particles == 0 || dim == 0 || senders.len() != receivers.len() {
            return Err(TensorError::InvalidConfig(format!(
                "a Hamiltonian graph needs particles and dim >= 1 and as many senders as receivers, got {particles}, {dim}, {} / {}",
                senders.len(),
                receivers.len()
            )));
        }
        if let Some(&bad) = senders.iter().chain(&receivers).find(|&&i| i >= particles) {
            return Err(TensorError::ShapeMismatch(format!(
                "edge endpoint {bad} out of range 0..{particles}"
            )));
        }
        let mlp = |s: u64| MlpConfig::new(dim, hidden, 1, Activation::Softplus, Init::Xavier).init(device, s);
        Ok(Self {
            kinetic: mlp(seed)?,
            pair: mlp(seed.wrapping_add(1))?,
            particles,
            senders,
            receivers,
        })
    }

    /// Particles N.
    pub fn particles(&self) -> usize {
        self.particles
    }
    /// Components per particle d.
    pub fn dim(&self) -> usize {
        self.kinetic.widths()[0]
    }

    /// Batched edge endpoints: for batch row b, node rows b·N + s and b·N + r.
    fn endpoints(&self, batch: usize) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
        let n = self.particles;
        let mut s = Vec::with_capacity(batch * self.senders.len());
        let mut r = Vec::with_capacity(batch * self.senders.len());
        let mut graph = Vec::with_capacity(batch * self.senders.len());
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

/// Node rows `[B·N, d]` of the q or p half of rows `[B, 2·N·d]`, on the thread.
fn half<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    x: &Matrix<E, D>,
    which: usize,
    n: usize,
    d: usize,
) -> Matrix<E, D> {
    let batch = x.shape().0;
    let sel = columns::select(x.device(), 2 * n * d, which * n * d, n * d);
    tp.step(|t| {
        x.clone()
            .put_tape(t)
            .matmul(sel.retaped::<T>())
            .reshape_like(&(batch * n, d))
    })
}

/// Rows `index` of `m`, on the thread (no rows for an empty index).
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

impl<E: Real, D: Device<E>> HamiltonianGraph<E, D> {
    /// Edge differences q_s − q_r `[B·E, d]` of node rows `nodes` `[B·N, d]`.
    fn differences<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        nodes: &Matrix<E, D>,
        s: &[usize],
        r: &[usize],
    ) -> Matrix<E, D> {
        let (qs, qr) = (gather_rows(tp, nodes, s), gather_rows(tp, nodes, r));
        tp.step(|t| qs.put_tape(t) - qr.retaped::<T>())
    }

    /// Σ_edges ±g scattered onto the node rows (+ at senders, − at receivers), `[B·N, d]`.
    fn scatter<T: Tape<E, D> + Merge<T>>(
        &self,
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

    /// `[B·N, d]` q- and p-node rows back into rows `[B, 2·N·d]`.
    fn join<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        q: &Matrix<E, D>,
        p: &Matrix<E, D>,
        batch: usize,
    ) -> Matrix<E, D> {
        let (n, d) = (self.particles, self.dim());
        let dev = q.device().clone();
        let (pq, pp) = (
            columns::place(&dev, n * d, 2 * n * d, 0),
            columns::place(&dev, n * d, 2 * n * d, n * d),
        );
        tp.step(|t| {
            q.clone()
                .put_tape(t)
                .reshape_like(&(batch, n * d))
                .matmul(pq.retaped::<T>())
                + p.retaped::<T>().reshape_like(&(batch, n * d)).matmul(pp.retaped::<T>())
        })
    }
}

impl<E: Real, D: Device<E>> Energy<E, D> for HamiltonianGraph<E, D> {
    fn input_dim(&self) -> usize {
        2 * self.particles * self.dim()
    }

    fn derive<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
        directions: &[Matrix<E, D>],
    ) -> Result<Derivatives<E, D>, TensorError> {
        let (batch, cols) = *x.shape();
        let (n, d) = (self.particles, self.dim());
        if cols != 2 * n * d {
            return Err(TensorError::ShapeMismatch(format!(
                "rows have {cols} columns, the graph of {n} particles in {d} dimensions takes {}",
                2 * n * d
            )));
        }
        if let Some(v) = directions.iter().find(|v| v.shape() != x.shape()) {
            return Err(TensorError::ShapeMismatch(format!(
                "direction {:?} does not match input {:?}",
                v.shape(),
                x.shape()
            )));
        }
        let (s, r, edge_graph) = self.endpoints(batch);
        let node_graph: Vec<usize> = (0..batch * n).map(|i| i / n).collect();
        let (q, p) = (half(tp, x, 0, n, d), half(tp, x, 1, n, d));
        let delta = self.differences(tp, &q, &s, &r);
        let (vq, vp): (Vec<_>, Vec<_>) = directions
            .iter()
            .map(|v| {
                let vq = half(tp, v, 0, n, d);
                let vp = half(tp, v, 1, n, d);
                (self.differences(tp, &vq, &s, &r), vp)
            })
            .unzip();
        let kinetic = self.kinetic.derive(tp, &p, &vp)?;
        let pair = if s.is_empty() {
            None
        } else {
            Some(self.pair.derive(tp, &delta, &vq)?)
        };
        // H per row: Σ T over the row's nodes + Σ V over its edges.
        let per_row = |tp: &mut Threaded<T>, v: &Vector<E, D>, ids: &[usize]| -> Result<Vector<E, D>, TensorError> {
            let rows = v.shape().0;
            let m = tp.step(|t| v.clone().put_tape(t).reshape_like(&(rows, 1)));
            let summed = tp.try_step(|t| segment_sum(m.put_tape(t), ids, batch))?;
            Ok(tp.step(|t| summed.put_tape(t).reshape_like(&(batch,))))
        };
        let mut value = per_row(tp, &kinetic.value, &node_graph)?;
        let zeros = x.device().zeros_like(&(batch * n, d));
        let grad_q = match &pair {
            Some(pd) => {
                let pv = per_row(tp, &pd.value, &edge_graph)?;
                value = tp.step(|t| value.put_tape(t) + pv.retaped::<T>());
                self.scatter(tp, &pd.gradient, &s, &r, batch * n)?
            }
            None => zeros.clone(),
        };
        let gradient = self.join(tp, &grad_q, &kinetic.gradient, batch);
        let mut hvps = Vec::with_capacity(directions.len());
        for (k, kinetic_hv) in kinetic.hvps.iter().enumerate() {
            let hq = match &pair {
                Some(pd) => self.scatter(tp, &pd.hvps[k], &s, &r, batch * n)?,
                None => zeros.clone(),
            };
            hvps.push(self.join(tp, &hq, kinetic_hv, batch));
        }
        Ok(Derivatives { value, gradient, hvps })
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for HamiltonianGraph<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        let mut v = prefixed("kinetic", self.kinetic.parameters());
        v.extend(prefixed("pair", self.pair.parameters()));
        v
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        let mut v = self.kinetic.parameters_mut();
        v.extend(self.pair.parameters_mut());
        v
    }
}
