//! Graph network models built from [`GnBlock`]s:
//!
//! - [`EncodeProcessDecode`] (Battaglia et al. 2018 §4.3; Sanchez-Gonzalez et al. 2020's GNS):
//!   node and edge encoders into a latent width, M processor blocks with residual updates
//!   (v ← v + GN(v), e ← e + GN(e)) and LayerNorm, and a node decoder — per-node predictions
//!   such as accelerations;
//! - [`Mpnn`] (Gilmer et al. 2017, "Neural Message Passing for Quantum Chemistry"): an embedding,
//!   T rounds of messages mᵢ = Σ_{s→i} M([hᵢ, h_s, e]) and GRU updates hᵢ ← GRU(mᵢ, hᵢ) with
//!   weights shared across rounds, and a node readout;
//! - [`NodeRegression`], the training loss of any [`NodeModel`]: mean squared error of the node
//!   outputs against the node targets of a [`GraphSet`](crate::data::GraphSet) batch.
//!
//! Both are generic over dtype and device and train through tensor's ordinary loop.

use liouville_tensor::config::Configured;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::module::{Module, ParamMut, ParamRef, prefixed};
use liouville_tensor::recurrent::GruCell;
use liouville_tensor::segment::segment_sum;
use liouville_tensor::shapes::Matrix;
use liouville_tensor::tape::Threaded;
use liouville_tensor::train::Loss;
use liouville_tensor::{Activation, Init, Mlp, MlpConfig, Real, TensorError};
use serde::{Deserialize, Serialize};

use crate::blocks::{Aggregation, Features, GnBlock, GnBlockConfig, concat, rows};
use crate::data::{DeviceGraphs, GraphExamples};

/// Architecture of an [`EncodeProcessDecode`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncodeProcessDecodeConfig {
    /// Node input width.
    pub node_in: usize,
    /// Edge input width.
    pub edge_in: usize,
    /// Latent width of nodes and edges.
    pub latent: usize,
    /// Message-passing steps M.
    pub steps: usize,
    /// Hidden widths of every MLP.
    pub hidden: Vec<usize>,
    /// Node output width.
    pub node_out: usize,
    /// Aggregation of the processor blocks.
    pub aggregation: Aggregation,
}

/// Encoder, M residual GN processors, decoder.
#[derive(Debug, Clone)]
pub struct EncodeProcessDecode<E: Real, D: Device<E>> {
    config: EncodeProcessDecodeConfig,
    node_encoder: Mlp<E, D>,
    edge_encoder: Mlp<E, D>,
    processors: Vec<GnBlock<E, D>>,
    decoder: Mlp<E, D>,
}

/// A typed error unless the batch's node and edge features have the model's widths.
fn check_widths<E: Real, D: Device<E>>(
    g: &DeviceGraphs<E, D>,
    node_in: usize,
    edge_in: usize,
) -> Result<(), TensorError> {
    let (n, e) = (g.nodes.shape().1, g.edges.shape().1);
    if n != node_in || e != edge_in {
        return Err(TensorError::ShapeMismatch(format!(
            "node and edge widths {n} and {e}, the model takes {node_in} and {edge_in}"
        )));
    }
    Ok(())
}

/// A graph network whose output is one row per node.
pub trait NodeModel<E: Real, D: Device<E>>: Module<E, D> {
    /// The node outputs `[nodes, out]` for a batch, recorded on `tp`.
    fn forward<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        g: &DeviceGraphs<E, D>,
    ) -> Result<Matrix<E, D>, TensorError>;
}

impl<E: Real, D: Device<E>> NodeModel<E, D> for EncodeProcessDecode<E, D> {
    fn forward<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        g: &DeviceGraphs<E, D>,
    ) -> Result<Matrix<E, D>, TensorError> {
        let c = &self.config;
        check_widths(g, c.node_in, c.edge_in)?;
        let nodes = tp.try_step(|t| self.node_encoder.forward(&g.nodes, t))?;
        let edges = if g.edges.shape().0 == 0 {
            g.edges.device().zeros_like(&(0, c.latent))
        } else {
            tp.try_step(|t| self.edge_encoder.forward(&g.edges, t))?
        };
        let mut latent = Features {
            nodes,
            edges,
            globals: g.globals.device().zeros_like(&(g.graphs, 0)),
        };
        for block in &self.processors {
            let update = block.forward(tp, g, &latent)?;
            let nodes = tp.step(|t| latent.nodes.clone().put_tape(t) + update.nodes.retaped::<T>());
            let edges = if latent.edges.shape().0 == 0 {
                latent.edges.clone()
            } else {
                tp.step(|t| latent.edges.clone().put_tape(t) + update.edges.retaped::<T>())
            };
            latent = Features {
                nodes,
                edges,
                globals: latent.globals,
            };
        }
        tp.try_step(|t| self.decoder.forward(&latent.nodes, t))
    }
}

impl<E: Real, D: Device<E>> Configured<E, D> for EncodeProcessDecode<E, D> {
    const KIND: &'static str = "encode_process_decode";
    type Config = EncodeProcessDecodeConfig;
    fn config(&self) -> EncodeProcessDecodeConfig {
        self.config.clone()
    }
    fn from_config(c: &EncodeProcessDecodeConfig, device: &D, seed: u64) -> Result<Self, TensorError> {
        if c.latent == 0 || c.node_out == 0 || c.node_in == 0 || c.edge_in == 0 {
            return Err(TensorError::InvalidConfig(format!(
                "input, latent and output widths must be positive (give edges at least one feature, e.g. a distance): {c:?}"
            )));
        }
        let mlp = |i: usize, o: usize, s: u64| {
            MlpConfig::new(i, &c.hidden, o, Activation::Relu, Init::Xavier).init(device, s)
        };
        let block = GnBlockConfig {
            node_in: c.latent,
            edge_in: c.latent,
            global_in: 0,
            edge_out: c.latent,
            node_out: c.latent,
            global_out: 0,
            hidden: c.hidden.clone(),
            activation: Activation::Relu,
            aggregation: c.aggregation,
            edges_see_nodes: true,
            nodes_see_edges: true,
            use_globals: false,
            layer_norm: true,
        };
        Ok(Self {
            config: c.clone(),
            node_encoder: mlp(c.node_in, c.latent, seed)?,
            edge_encoder: mlp(c.edge_in, c.latent, seed.wrapping_add(1))?,
            processors: (0..c.steps)
                .map(|m| GnBlock::new(&block, device, seed.wrapping_add(10 + 3 * m as u64)))
                .collect::<Result<_, _>>()?,
            decoder: mlp(c.latent, c.node_out, seed.wrapping_add(2))?,
        })
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for EncodeProcessDecode<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        let mut v = prefixed("node_encoder", self.node_encoder.parameters());
        v.extend(prefixed("edge_encoder", self.edge_encoder.parameters()));
        for (m, p) in self.processors.iter().enumerate() {
            v.extend(prefixed(&format!("processor.{m}"), p.parameters()));
        }
        v.extend(prefixed("decoder", self.decoder.parameters()));
        v
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        let mut v = self.node_encoder.parameters_mut();
        v.extend(self.edge_encoder.parameters_mut());
        for p in &mut self.processors {
            v.extend(p.parameters_mut());
        }
        v.extend(self.decoder.parameters_mut());
        v
    }
}

/// Mean squared error of a [`NodeModel`]'s outputs against node targets.
pub struct NodeRegression;

impl<E: Real, D: Device<E>, M: NodeModel<E, D>> Loss<E, D, M, GraphExamples<E, D>> for NodeRegression {
    fn loss<T: Tape<E, D> + Merge<T>>(
        &self,
        model: &M,
        batch: &GraphExamples<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        let mut tp = Threaded::new(tape);
        let out = model.forward(&mut tp, &batch.graphs)?;
        if out.shape() != batch.targets.shape() {
            return Err(TensorError::ShapeMismatch(format!(
                "outputs {:?} vs targets {:?}",
                out.shape(),
                batch.targets.shape()
            )));
        }
        let targets = batch.targets.clone();
        let l = tp.step(|t| (out.put_tape(t) - targets).square().mean());
        Ok(tp.finish(l))
    }
}

/// Architecture of an [`Mpnn`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MpnnConfig {
    /// Node input width.
    pub node_in: usize,
    /// Edge input width.
    pub edge_in: usize,
    /// Hidden state width H.
    pub state: usize,
    /// Message rounds T.
    pub rounds: usize,
    /// Hidden widths of the embedding, message and readout MLPs.
    pub hidden: Vec<usize>,
    /// Node output width.
    pub node_out: usize,
}

/// Message passing with a GRU update (weights shared across rounds).
#[derive(Debug, Clone)]
pub struct Mpnn<E: Real, D: Device<E>> {
    config: MpnnConfig,
    embed: Mlp<E, D>,
    message: Mlp<E, D>,
    update: GruCell<E, D>,
    readout: Mlp<E, D>,
}

impl<E: Real, D: Device<E>> Configured<E, D> for Mpnn<E, D> {
    const KIND: &'static str = "mpnn";
    type Config = MpnnConfig;
    fn config(&self) -> MpnnConfig {
        self.config.clone()
    }
    fn from_config(c: &MpnnConfig, device: &D, seed: u64) -> Result<Self, TensorError> {
        if c.node_in == 0 || c.state == 0 || c.node_out == 0 {
            return Err(TensorError::InvalidConfig(format!(
                "node input, state and output widths must be positive: {c:?}"
            )));
        }
        let mlp = |i: usize, o: usize, s: u64| {
            MlpConfig::new(i, &c.hidden, o, Activation::Relu, Init::Xavier).init(device, s)
        };
        Ok(Self {
            config: c.clone(),
            embed: mlp(c.node_in, c.state, seed)?,
            message: mlp(2 * c.state + c.edge_in, c.state, seed.wrapping_add(1))?,
            update: GruCell::new(device, c.state, c.state, seed.wrapping_add(2))?,
            readout: mlp(c.state, c.node_out, seed.wrapping_add(3))?,
        })
    }
}

impl<E: Real, D: Device<E>> NodeModel<E, D> for Mpnn<E, D> {
    fn forward<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        g: &DeviceGraphs<E, D>,
    ) -> Result<Matrix<E, D>, TensorError> {
        let c = &self.config;
        check_widths(g, c.node_in, c.edge_in)?;
        let n = g.nodes.shape().0;
        let mut h = tp.try_step(|t| self.embed.forward(&g.nodes, t))?;
        for _ in 0..c.rounds {
            let messages = if g.senders.is_empty() {
                g.nodes.device().zeros_like(&(n, c.state))
            } else {
                let (hr, hs) = (rows(tp, &h, &g.receivers), rows(tp, &h, &g.senders));
                let input = concat(tp, &[&hr, &hs, &g.edges]);
                let per_edge = tp.try_step(|t| self.message.forward(&input, t))?;
                tp.try_step(|t| segment_sum(per_edge.put_tape(t), &g.receivers, n))?
            };
            h = self.update.step(tp, &messages, &h)?;
        }
        tp.try_step(|t| self.readout.forward(&h, t))
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for Mpnn<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        let mut v = prefixed("embed", self.embed.parameters());
        v.extend(prefixed("message", self.message.parameters()));
        v.extend(prefixed("update", self.update.parameters()));
        v.extend(prefixed("readout", self.readout.parameters()));
        v
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        let mut v = self.embed.parameters_mut();
        v.extend(self.message.parameters_mut());
        v.extend(self.update.parameters_mut());
        v.extend(self.readout.parameters_mut());
        v
    }
}
