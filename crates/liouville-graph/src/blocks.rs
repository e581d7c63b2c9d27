//! The graph network block of Battaglia et al. (2018, "Relational inductive biases, deep
//! learning, and graph networks", Algorithm 1), with MLP update functions:
//!
//! e′ₖ = φᵉ([eₖ, v_{sₖ}, v_{rₖ}, u]),   ēᵢ = ρᵉ→ᵛ({e′ₖ : rₖ = i}),
//! v′ᵢ = φᵛ([ēᵢ, vᵢ, u]),               ē = ρᵉ→ᵘ(E′), v̄ = ρᵛ→ᵘ(V′),
//! u′ = φᵘ([ē, v̄, u]),
//!
//! with ρ a segment sum, mean or max (`liouville_tensor::segment`, so every device differentiates
//! it). Which inputs each update sees is configurable, which gives the block's special cases:
//! an Interaction Network (no globals), a Relation Network or Deep Sets (no edge inputs to the
//! nodes), a graph-independent block (no messages). With `layer_norm`, every φ's output is layer-
//! normalised (Ba et al. 2016), as in GNS's processor (Sanchez-Gonzalez et al. 2020). Concatenations are
//! `liouville_tensor::columns::concat`: one host copy each way on the CPU, sums of products with
//! constant placement matrices elsewhere; differentiable on any device.

use liouville_tensor::columns;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::module::{Module, ParamMut, ParamRef, prefixed};
use liouville_tensor::normalization::LayerNorm;
use liouville_tensor::segment::{segment_max, segment_mean, segment_sum};
use liouville_tensor::shapes::Matrix;
use liouville_tensor::tape::Threaded;
use liouville_tensor::{Activation, Init, Mlp, MlpConfig, Real, TensorError};
use serde::{Deserialize, Serialize};

use crate::data::DeviceGraphs;

/// How messages are pooled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Σ (extensive quantities: forces, energies).
    Sum,
    /// Mean (intensive, size-independent).
    Mean,
    /// Element-wise max (0 for an empty set).
    Max,
}

impl Aggregation {
    fn apply<E: Real, D: Device<E>, T: Tape<E, D>>(
        self,
        x: Matrix<E, D, T>,
        ids: &[usize],
        segments: usize,
    ) -> Result<Matrix<E, D, T>, TensorError> {
        match self {
            Aggregation::Sum => segment_sum(x, ids, segments),
            Aggregation::Mean => segment_mean(x, ids, segments),
            Aggregation::Max => segment_max(x, ids, segments),
        }
    }
}

/// Architecture of a [`GnBlock`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GnBlockConfig {
    /// Input feature widths (node, edge, global).
    pub node_in: usize,
    /// Edge input width.
    pub edge_in: usize,
    /// Global input width.
    pub global_in: usize,
    /// Output widths of φᵉ, φᵛ and φᵘ (0 for no global update).
    pub edge_out: usize,
    /// φᵛ output width.
    pub node_out: usize,
    /// φᵘ output width (0: no global update).
    pub global_out: usize,
    /// Hidden widths of every φ.
    pub hidden: Vec<usize>,
    /// Hidden activation of every φ.
    pub activation: Activation,
    /// ρᵉ→ᵛ, ρᵉ→ᵘ and ρᵛ→ᵘ.
    pub aggregation: Aggregation,
    /// φᵉ sees the sender and receiver nodes (false: edges update alone).
    pub edges_see_nodes: bool,
    /// φᵛ sees the aggregated messages (false: graph-independent / Deep Sets).
    pub nodes_see_edges: bool,
    /// φᵉ and φᵛ see the globals.
    pub use_globals: bool,
    /// LayerNorm after every φ (the GNS processor's choice).
    #[serde(default)]
    pub layer_norm: bool,
}

/// The features of a batch of graphs as they flow through blocks: untaped intermediates whose
/// ops live on the caller's thread.
#[derive(Debug, Clone)]
pub struct Features<E: Real, D: Device<E>> {
    /// `[nodes, width]`.
    pub nodes: Matrix<E, D>,
    /// `[edges, width]`.
    pub edges: Matrix<E, D>,
    /// `[graphs, width]`.
    pub globals: Matrix<E, D>,
}

impl<E: Real, D: Device<E>> Features<E, D> {
    /// The input features of a device batch.
    pub fn of(g: &DeviceGraphs<E, D>) -> Self {
        Self {
            nodes: g.nodes.clone(),
            edges: g.edges.clone(),
            globals: g.globals.clone(),
        }
    }
}

/// One graph network block: φᵉ, φᵛ and (optionally) φᵘ as MLPs.
#[derive(Debug, Clone)]
pub struct GnBlock<E: Real, D: Device<E>> {
    config: GnBlockConfig,
    edge_fn: Mlp<E, D>,
    node_fn: Mlp<E, D>,
    global_fn: Option<Mlp<E, D>>,
    /// LayerNorms of the edge, node and global outputs (with `layer_norm`).
    norms: Option<[LayerNorm<E, D>; 3]>,
}

/// [parts…] side by side along columns, on the thread ([`columns::concat`]).
pub(crate) fn concat<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    parts: &[&Matrix<E, D>],
) -> Matrix<E, D> {
    columns::concat(tp, parts)
}

/// Rows `index` of `x` (`x[index[k]]` for every k), on the thread.
pub(crate) fn rows<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    x: &Matrix<E, D>,
    index: &[usize],
) -> Matrix<E, D> {
    if index.is_empty() {
        // dfdx 0.13's CPU gather indexes out of bounds on an empty index; no rows, no gradient.
        return x.device().zeros_like(&(0, x.shape().1));
    }
    let idx = x.device().tensor_from_vec(index.to_vec(), (index.len(),));
    tp.step(|t| x.clone().put_tape(t).gather(idx))
}

impl<E: Real, D: Device<E>> GnBlock<E, D> {
    /// The block `config` on `device`, its φ initialised from stream `seed` (Xavier).
    pub fn new(config: &GnBlockConfig, device: &D, seed: u64) -> Result<Self, TensorError> {
        let c = config;
        let globals = if c.use_globals { c.global_in } else { 0 };
        let edge_in = c.edge_in + if c.edges_see_nodes { 2 * c.node_in } else { 0 } + globals;
        let node_in = c.node_in + if c.nodes_see_edges { c.edge_out } else { 0 } + globals;
        let mlp =
            |i: usize, o: usize, s: u64| MlpConfig::new(i, &c.hidden, o, c.activation, Init::Xavier).init(device, s);
        Ok(Self {
            config: c.clone(),
            edge_fn: mlp(edge_in, c.edge_out, seed)?,
            node_fn: mlp(node_in, c.node_out, seed.wrapping_add(1))?,
            global_fn: match c.global_out {
                0 => None,
                out => Some(mlp(c.edge_out + c.node_out + c.global_in, out, seed.wrapping_add(2))?),
            },
            norms: match c.layer_norm {
                false => None,
                true => Some([
                    LayerNorm::new(device, c.edge_out)?,
                    LayerNorm::new(device, c.node_out)?,
                    LayerNorm::new(device, c.global_out.max(1))?,
                ]),
            },
        })
    }

    /// The architecture.
    pub fn config(&self) -> &GnBlockConfig {
        &self.config
    }

    /// φᵉ.
    pub fn edge_function(&self) -> &Mlp<E, D> {
        &self.edge_fn
    }
    /// φᵛ.
    pub fn node_function(&self) -> &Mlp<E, D> {
        &self.node_fn
    }
    /// φᵘ (absent without a global update).
    pub fn global_function(&self) -> Option<&Mlp<E, D>> {
        self.global_fn.as_ref()
    }

    /// The updated features (globals unchanged without φᵘ), recorded on `tp`.
    pub fn forward<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        g: &DeviceGraphs<E, D>,
        x: &Features<E, D>,
    ) -> Result<Features<E, D>, TensorError> {
        let c = &self.config;
        for (what, found, expected) in [
            ("node", x.nodes.shape().1, c.node_in),
            ("edge", x.edges.shape().1, c.edge_in),
            ("global", x.globals.shape().1, c.global_in),
        ] {
            if found != expected {
                return Err(TensorError::ShapeMismatch(format!(
                    "{what} features have width {found}, the block takes {expected}"
                )));
            }
        }
        let (n_nodes, n_graphs) = (x.nodes.shape().0, g.graphs);
        let edge_globals = c.use_globals.then(|| rows(tp, &x.globals, &g.edge_graph));
        let mut edge_parts = vec![&x.edges];
        let (senders, receivers) = if c.edges_see_nodes {
            (
                Some(rows(tp, &x.nodes, &g.senders)),
                Some(rows(tp, &x.nodes, &g.receivers)),
            )
        } else {
            (None, None)
        };
        edge_parts.extend(senders.iter().chain(&receivers).chain(&edge_globals));
        let edge_input = concat(tp, &edge_parts);
        let edges = tp.try_step(|t| self.edge_fn.forward(&edge_input, t))?;
        let edges = self.normalised(tp, 0, edges)?;

        let node_globals = c.use_globals.then(|| rows(tp, &x.globals, &g.node_graph));
        let messages = if c.nodes_see_edges {
            Some(tp.try_step(|t| c.aggregation.apply(edges.clone().put_tape(t), &g.receivers, n_nodes))?)
        } else {
            None
        };
        let mut node_parts: Vec<&Matrix<E, D>> = messages.iter().collect();
        node_parts.push(&x.nodes);
        node_parts.extend(node_globals.iter());
        let node_input = concat(tp, &node_parts);
        let nodes = tp.try_step(|t| self.node_fn.forward(&node_input, t))?;
        let nodes = self.normalised(tp, 1, nodes)?;

        let globals = match &self.global_fn {
            None => x.globals.clone(),
            Some(phi) => {
                let e_bar = tp.try_step(|t| c.aggregation.apply(edges.clone().put_tape(t), &g.edge_graph, n_graphs))?;
                let v_bar = tp.try_step(|t| c.aggregation.apply(nodes.clone().put_tape(t), &g.node_graph, n_graphs))?;
                let input = concat(tp, &[&e_bar, &v_bar, &x.globals]);
                let u = tp.try_step(|t| phi.forward(&input, t))?;
                self.normalised(tp, 2, u)?
            }
        };
        Ok(Features { nodes, edges, globals })
    }
}

impl<E: Real, D: Device<E>> GnBlock<E, D> {
    /// `x` through LayerNorm `k` (edges, nodes, globals) when the block has them.
    fn normalised<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        k: usize,
        x: Matrix<E, D>,
    ) -> Result<Matrix<E, D>, TensorError> {
        match &self.norms {
            Some(norms) if x.shape().0 > 0 => Ok(norms[k].normalise(tp, &x)?.output),
            _ => Ok(x),
        }
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for GnBlock<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        let mut v = prefixed("edge", self.edge_fn.parameters());
        v.extend(prefixed("node", self.node_fn.parameters()));
        if let Some(phi) = &self.global_fn {
            v.extend(prefixed("global", phi.parameters()));
        }
        if let Some([e, n, g]) = &self.norms {
            v.extend(prefixed("edge_norm", e.parameters()));
            v.extend(prefixed("node_norm", n.parameters()));
            if self.global_fn.is_some() {
                v.extend(prefixed("global_norm", g.parameters()));
            }
        }
        v
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        let mut v = self.edge_fn.parameters_mut();
        v.extend(self.node_fn.parameters_mut());
        let has_global = self.global_fn.is_some();
        if let Some(phi) = &mut self.global_fn {
            v.extend(phi.parameters_mut());
        }
        if let Some([e, n, g]) = &mut self.norms {
            v.extend(e.parameters_mut());
            v.extend(n.parameters_mut());
            if has_global {
                v.extend(g.parameters_mut());
            }
        }
        v
    }
}
