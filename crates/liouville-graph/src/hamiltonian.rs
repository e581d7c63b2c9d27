//! A learned Hamiltonian on a graph of particles (Sanchez-Gonzalez et al. 2019, "Hamiltonian
//! Graph Networks with ODE Integrators"), as a tensor [`Energy`] with exact input derivatives:
//!
//! H(q, p) = Σᵢ T_θ(pᵢ) + V_θ(q),  V_θ(q) = Σ_{(s, r) ∈ E} φ_θ(q_s − q_r) (+ Σᵢ ψ_θ(qᵢ)),
//!
//! on rows `[q₁ … q_N, p₁ … p_N]` (d components per particle). T is an MLP energy per particle
//! and V a [`GraphPotential`], so
//!
//! ∂H/∂q = ∇V(q),  ∂H/∂p_j = ∇T(p_j),
//!
//! and likewise for (∇²H)v along any direction v. So `losses::hnn_loss`, the HNN field and the
//! symplectic integrators apply unchanged; H is invariant under translations (V sees only
//! differences) and under relabelling the particles with the edges, and the same weights serve
//! any number of particles ([`HamiltonianGraph::with_topology`]).

use liouville_tensor::columns;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::energy::{Derivatives, Energy};
use liouville_tensor::module::{Module, ParamMut, ParamRef, prefixed};
use liouville_tensor::shapes::Matrix;
use liouville_tensor::tape::Threaded;
use liouville_tensor::{Activation, Init, Mlp, MlpConfig, Real, TensorError};

use crate::potential::{GraphPotential, Topology, as_nodes, as_rows, check_rows, per_row};

/// A pair-potential Hamiltonian graph network on N particles in d dimensions.
#[derive(Debug, Clone)]
pub struct HamiltonianGraph<E: Real, D: Device<E>> {
    /// T_θ(p) per particle, `[d] → hidden → 1`.
    pub kinetic: Mlp<E, D>,
    /// V_θ(q) on the graph.
    pub potential: GraphPotential<E, D>,
}

impl<E: Real, D: Device<E>> HamiltonianGraph<E, D> {
    /// T and φ as MLPs of the given hidden widths (softplus: smooth second derivatives), over
    /// `particles` particles in `dim` dimensions connected by the edges (senders, receivers).
    pub fn new(
        device: &D,
        particles: usize,
        dim: usize,
        edges: (Vec<usize>, Vec<usize>),
        hidden: &[usize],
        seed: u64,
    ) -> Result<Self, TensorError> {
        Self::build(device, Topology::new(particles, edges)?, dim, hidden, false, seed)
    }

    /// T (seed `seed`) and V (seed `seed + 1`, with an external-field term if `external`).
    pub(crate) fn build(
        device: &D,
        topology: Topology,
        dim: usize,
        hidden: &[usize],
        external: bool,
        seed: u64,
    ) -> Result<Self, TensorError> {
        let potential = GraphPotential::new(device, topology, dim, hidden, external, seed.wrapping_add(1))?;
        Ok(Self {
            kinetic: MlpConfig::new(dim, hidden, 1, Activation::Softplus, Init::Xavier).init(device, seed)?,
            potential,
        })
    }

    /// The same learned T and V on another set of particles and edges.
    pub fn with_topology(&self, topology: Topology) -> Self {
        Self {
            kinetic: self.kinetic.clone(),
            potential: self.potential.with_topology(topology),
        }
    }

    /// Particles N.
    pub fn particles(&self) -> usize {
        self.potential.topology().particles()
    }
    /// Components per particle d.
    pub fn dim(&self) -> usize {
        self.kinetic.widths()[0]
    }
}

/// Columns `[which·w, (which + 1)·w)` of `x`, on the thread.
fn half<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    x: &Matrix<E, D>,
    which: usize,
    w: usize,
) -> Matrix<E, D> {
    let sel = columns::select(x.device(), 2 * w, which * w, w);
    tp.step(|t| x.clone().put_tape(t).matmul(sel.retaped::<T>()))
}

/// `[B, w]` q- and p-halves back into rows `[B, 2w]`, on the thread.
fn join<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    q: &Matrix<E, D>,
    p: &Matrix<E, D>,
) -> Matrix<E, D> {
    let w = q.shape().1;
    let dev = q.device().clone();
    let (pq, pp) = (columns::place(&dev, w, 2 * w, 0), columns::place(&dev, w, 2 * w, w));
    tp.step(|t| q.clone().put_tape(t).matmul(pq.retaped::<T>()) + p.retaped::<T>().matmul(pp.retaped::<T>()))
}

impl<E: Real, D: Device<E>> Energy<E, D> for HamiltonianGraph<E, D> {
    fn input_dim(&self) -> usize {
        2 * self.potential.input_dim()
    }

    fn derive<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
        directions: &[Matrix<E, D>],
    ) -> Result<Derivatives<E, D>, TensorError> {
        let (n, d) = (self.particles(), self.dim());
        let w = n * d;
        check_rows(
            x,
            directions,
            2 * w,
            &format!("the graph of {n} particles in {d} dimensions"),
        )?;
        let batch = x.shape().0;
        let q = half(tp, x, 0, w);
        let p = half(tp, x, 1, w);
        let p_nodes = as_nodes(tp, &p, d);
        let (vq, vp): (Vec<_>, Vec<_>) = directions
            .iter()
            .map(|v| {
                let vq = half(tp, v, 0, w);
                let vp = half(tp, v, 1, w);
                (vq, as_nodes(tp, &vp, d))
            })
            .unzip();
        let potential = self.potential.derive(tp, &q, &vq)?;
        let kinetic = self.kinetic.derive(tp, &p_nodes, &vp)?;
        let node_graph: Vec<usize> = (0..batch * n).map(|i| i / n).collect();
        let t_rows = per_row(tp, &kinetic.value, &node_graph, batch)?;
        let value = tp.step(|t| potential.value.put_tape(t) + t_rows.retaped::<T>());
        let dt_dp = as_rows(tp, &kinetic.gradient, batch);
        let gradient = join(tp, &potential.gradient, &dt_dp);
        let mut hvps = Vec::with_capacity(directions.len());
        for (hq, kinetic_hv) in potential.hvps.iter().zip(&kinetic.hvps) {
            let hp = as_rows(tp, kinetic_hv, batch);
            hvps.push(join(tp, hq, &hp));
        }
        Ok(Derivatives { value, gradient, hvps })
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for HamiltonianGraph<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        let mut v = prefixed("kinetic", self.kinetic.parameters());
        v.extend(prefixed("potential", self.potential.parameters()));
        v
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        let mut v = self.kinetic.parameters_mut();
        v.extend(self.potential.parameters_mut());
        v
    }
}
