//! Graph sets as training data: a [`GraphSet`] implements tensor's `Data`, so the ordinary
//! training loop draws seeded minibatches of graphs, batched jraph-style onto the device
//! ([`DeviceGraphs`]), with per-node targets (accelerations, next states) beside them.

use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::shapes::Matrix;
use liouville_tensor::train::Data;
use liouville_tensor::{Real, TensorError, host};

use crate::{GraphBatch, GraphError};

/// A batch of graphs on a device: features as tensors, connectivity as host indices (the segment
/// ids of the gathers and segment reductions of a graph network).
#[derive(Debug, Clone)]
pub struct DeviceGraphs<E: Real, D: Device<E>> {
    /// `[nodes, node width]`.
    pub nodes: Matrix<E, D>,
    /// `[edges, edge width]`.
    pub edges: Matrix<E, D>,
    /// `[graphs, global width]`.
    pub globals: Matrix<E, D>,
    /// Sender node of every edge.
    pub senders: Vec<usize>,
    /// Receiver node of every edge.
    pub receivers: Vec<usize>,
    /// Graph of every node.
    pub node_graph: Vec<usize>,
    /// Graph of every edge.
    pub edge_graph: Vec<usize>,
    /// Number of graphs.
    pub graphs: usize,
}

impl<E: Real, D: Device<E>> DeviceGraphs<E, D> {
    /// `batch` on `device`.
    pub fn new(device: &D, batch: &GraphBatch) -> Self {
        let w = batch.widths();
        let (n, e, g) = (batch.node_graph().len(), batch.senders().len(), batch.graphs());
        Self {
            nodes: host::matrix(device, batch.nodes().iter().copied(), n, w.node),
            edges: host::matrix(device, batch.edges().iter().copied(), e, w.edge),
            globals: host::matrix(device, batch.globals().iter().copied(), g, w.global),
            senders: batch.senders().to_vec(),
            receivers: batch.receivers().to_vec(),
            node_graph: batch.node_graph(),
            edge_graph: batch.edge_graph(),
            graphs: g,
        }
    }
}

/// Graphs with one target row per node (e.g. accelerations), as supervised training data.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphSet {
    graphs: Vec<GraphBatch>,
    targets: Vec<Vec<f64>>,
    target_width: usize,
}

/// A minibatch of a [`GraphSet`]: the graphs batched, and their node targets in node order.
#[derive(Debug, Clone)]
pub struct GraphExamples<E: Real, D: Device<E>> {
    /// The graphs.
    pub graphs: DeviceGraphs<E, D>,
    /// `[nodes, target width]`.
    pub targets: Matrix<E, D>,
}

impl GraphSet {
    /// One graph per item (each a single-graph batch of the same widths, with nodes) and its
    /// node targets `[nodes, target_width]`; shapes and finiteness are checked.
    pub fn new(graphs: Vec<GraphBatch>, targets: Vec<Vec<f64>>, target_width: usize) -> Result<Self, GraphError> {
        if graphs.len() != targets.len() {
            return Err(GraphError::Counts {
                what: "target",
                sum: targets.len(),
                total: graphs.len(),
            });
        }
        // One batch of all of them validates widths and non-empty graphs.
        GraphBatch::batch(&graphs)?;
        for (graph, t) in graphs.iter().zip(&targets) {
            let nodes = graph.node_graph().len();
            if graph.graphs() != 1 || t.len() != nodes * target_width {
                return Err(GraphError::FeatureShape {
                    what: "targets",
                    found: t.len(),
                    rows: nodes,
                    width: target_width,
                });
            }
            if let Some(i) = t.iter().position(|v| !v.is_finite()) {
                return Err(GraphError::NonFinite {
                    what: "targets",
                    row: i / target_width,
                    column: i % target_width,
                    value: t[i],
                });
            }
        }
        Ok(Self {
            graphs,
            targets,
            target_width,
        })
    }
}

impl Data for GraphSet {
    type Batch<E: Real, D: Device<E>> = GraphExamples<E, D>;
    fn len(&self) -> usize {
        self.graphs.len()
    }
    fn batch<E: Real, D: Device<E>>(&self, device: &D, indices: &[usize]) -> Result<GraphExamples<E, D>, TensorError> {
        if let Some(&i) = indices.iter().find(|&&i| i >= self.graphs.len()) {
            return Err(TensorError::ShapeMismatch(format!(
                "graph {i} of a set of {}",
                self.graphs.len()
            )));
        }
        let picked: Vec<GraphBatch> = indices.iter().map(|&i| self.graphs[i].clone()).collect();
        let batch = GraphBatch::batch(&picked).map_err(|e| TensorError::ShapeMismatch(e.to_string()))?;
        let rows = batch.node_graph().len();
        let targets = indices.iter().flat_map(|&i| self.targets[i].iter().copied());
        Ok(GraphExamples {
            graphs: DeviceGraphs::new(device, &batch),
            targets: host::matrix(device, targets, rows, self.target_width),
        })
    }
}
