//! Graph batches in jraph's `GraphsTuple` layout: the node, edge and global features of several
//! graphs concatenated, edges as (sender, receiver) indices into the concatenated nodes, and the
//! per-graph node and edge counts that tell the graphs apart. A batch is validated once, when it
//! is built, so every consumer can index without checks.
//!
//! [`GraphBatch::batch`], [`GraphBatch::unbatch`] and [`GraphBatch::pad`] follow jraph's
//! `batch`, `unbatch` and `pad_with_graphs`: padding appends one graph holding every padding
//! node and edge (the padding edges point at the first padding node), then empty graphs up to the
//! graph target, and [`GraphBatch::masks`] tells real from padding.

use petgraph::graph::Graph;
use petgraph::visit::EdgeRef;

use crate::GraphError;

/// Node, edge and global features of one or more graphs (row-major f64 on the host).
#[derive(Debug, Clone, PartialEq)]
pub struct GraphBatch {
    nodes: Vec<f64>,
    edges: Vec<f64>,
    globals: Vec<f64>,
    senders: Vec<usize>,
    receivers: Vec<usize>,
    n_node: Vec<usize>,
    n_edge: Vec<usize>,
    widths: Widths,
}

/// Feature widths of nodes, edges and globals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Widths {
    /// Node feature width.
    pub node: usize,
    /// Edge feature width.
    pub edge: usize,
    /// Global feature width.
    pub global: usize,
}

/// Which rows of a padded batch are real.
#[derive(Debug, Clone, PartialEq)]
pub struct Masks {
    /// Per node.
    pub nodes: Vec<bool>,
    /// Per edge.
    pub edges: Vec<bool>,
    /// Per graph.
    pub graphs: Vec<bool>,
}

fn check_rows(what: &'static str, values: &[f64], rows: usize, width: usize) -> Result<(), GraphError> {
    if values.len() != rows * width {
        return Err(GraphError::FeatureShape {
            what,
            found: values.len(),
            rows,
            width,
        });
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(GraphError::NonFinite {
            what,
            row: i / width,
            column: i % width,
            value: values[i],
        });
    }
    Ok(())
}

/// Start offsets of consecutive blocks of the given sizes.
fn offsets(counts: &[usize]) -> Vec<usize> {
    let mut o = Vec::with_capacity(counts.len() + 1);
    let mut acc = 0;
    o.push(0);
    for &c in counts {
        acc += c;
        o.push(acc);
    }
    o
}

impl GraphBatch {
    /// A validated batch: `nodes` `[Σn_node, widths.node]`, `edges` `[Σn_edge, widths.edge]`,
    /// `globals` `[graphs, widths.global]`, edge endpoints inside their own graph, finite values.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        nodes: Vec<f64>,
        edges: Vec<f64>,
        globals: Vec<f64>,
        senders: Vec<usize>,
        receivers: Vec<usize>,
        n_node: Vec<usize>,
        n_edge: Vec<usize>,
        widths: Widths,
    ) -> Result<Self, GraphError> {
        let (total_nodes, total_edges) = (n_node.iter().sum::<usize>(), n_edge.iter().sum::<usize>());
        if n_node.len() != n_edge.len() {
            return Err(GraphError::Counts {
                what: "graph",
                sum: n_edge.len(),
                total: n_node.len(),
            });
        }
        if senders.len() != total_edges || receivers.len() != total_edges {
            return Err(GraphError::Counts {
                what: "edge",
                sum: total_edges,
                total: senders.len().max(receivers.len()),
            });
        }
        check_rows("nodes", &nodes, total_nodes, widths.node)?;
        check_rows("edges", &edges, total_edges, widths.edge)?;
        check_rows("globals", &globals, n_node.len(), widths.global)?;
        let (node_start, edge_start) = (offsets(&n_node), offsets(&n_edge));
        for g in 0..n_node.len() {
            let (first, last) = (node_start[g], node_start[g + 1]);
            for e in edge_start[g]..edge_start[g + 1] {
                for (end, node) in [("sender", senders[e]), ("receiver", receivers[e])] {
                    if !(first..last).contains(&node) {
                        return Err(GraphError::EdgeEndpoint {
                            edge: e,
                            end,
                            node,
                            graph: g,
                            first,
                            last,
                        });
                    }
                }
            }
        }
        Ok(Self {
            nodes,
            edges,
            globals,
            senders,
            receivers,
            n_node,
            n_edge,
            widths,
        })
    }

    /// One graph from a petgraph graph whose node and edge weights are feature rows (all of
    /// `widths.node` and `widths.edge` values), with global features `globals`. Directed edges
    /// keep their direction; an undirected graph gives each edge once (sender = source).
    pub fn from_petgraph<Ty: petgraph::EdgeType>(
        graph: &Graph<Vec<f64>, Vec<f64>, Ty>,
        globals: Vec<f64>,
        widths: Widths,
    ) -> Result<Self, GraphError> {
        let mut nodes = Vec::with_capacity(graph.node_count() * widths.node);
        for (i, w) in graph.node_weights().enumerate() {
            if w.len() != widths.node {
                return Err(GraphError::WidthMismatch {
                    index: i,
                    what: "node",
                    found: w.len(),
                    expected: widths.node,
                });
            }
            nodes.extend_from_slice(w);
        }
        let (mut edges, mut senders, mut receivers) = (Vec::new(), Vec::new(), Vec::new());
        for (i, e) in graph.edge_references().enumerate() {
            if e.weight().len() != widths.edge {
                return Err(GraphError::WidthMismatch {
                    index: i,
                    what: "edge",
                    found: e.weight().len(),
                    expected: widths.edge,
                });
            }
            edges.extend_from_slice(e.weight());
            senders.push(e.source().index());
            receivers.push(e.target().index());
        }
        let n_edge = senders.len();
        Self::new(
            nodes,
            edges,
            globals,
            senders,
            receivers,
            vec![graph.node_count()],
            vec![n_edge],
            widths,
        )
    }

    /// Feature widths.
    pub fn widths(&self) -> Widths {
        self.widths
    }
    /// Graphs in the batch.
    pub fn graphs(&self) -> usize {
        self.n_node.len()
    }
    /// Nodes per graph.
    pub fn n_node(&self) -> &[usize] {
        &self.n_node
    }
    /// Edges per graph.
    pub fn n_edge(&self) -> &[usize] {
        &self.n_edge
    }
    /// Node features, `[nodes, widths.node]` row-major.
    pub fn nodes(&self) -> &[f64] {
        &self.nodes
    }
    /// Edge features, `[edges, widths.edge]`.
    pub fn edges(&self) -> &[f64] {
        &self.edges
    }
    /// Global features, `[graphs, widths.global]`.
    pub fn globals(&self) -> &[f64] {
        &self.globals
    }
    /// Sender node of every edge (index into the batch's nodes).
    pub fn senders(&self) -> &[usize] {
        &self.senders
    }
    /// Receiver node of every edge.
    pub fn receivers(&self) -> &[usize] {
        &self.receivers
    }
    /// The graph of every node: the segment ids of node → graph aggregation.
    pub fn node_graph(&self) -> Vec<usize> {
        self.n_node
            .iter()
            .enumerate()
            .flat_map(|(g, &n)| std::iter::repeat_n(g, n))
            .collect()
    }
    /// The graph of every edge.
    pub fn edge_graph(&self) -> Vec<usize> {
        self.n_edge
            .iter()
            .enumerate()
            .flat_map(|(g, &n)| std::iter::repeat_n(g, n))
            .collect()
    }

    /// The graphs of `parts` as one batch (jraph's `batch`): features concatenated, edge indices
    /// shifted by the nodes before them. An empty list, graphs of other widths or a graph without
    /// nodes are typed errors.
    pub fn batch(parts: &[GraphBatch]) -> Result<Self, GraphError> {
        let first = parts.first().ok_or(GraphError::EmptyGraph { index: 0 })?;
        let widths = first.widths;
        let (mut nodes, mut edges, mut globals) = (Vec::new(), Vec::new(), Vec::new());
        let (mut senders, mut receivers, mut n_node, mut n_edge) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut shift = 0;
        let mut index = 0;
        for p in parts {
            for (what, found, expected) in [
                ("node", p.widths.node, widths.node),
                ("edge", p.widths.edge, widths.edge),
                ("global", p.widths.global, widths.global),
            ] {
                if found != expected {
                    return Err(GraphError::WidthMismatch {
                        index,
                        what,
                        found,
                        expected,
                    });
                }
            }
            for (g, &n) in p.n_node.iter().enumerate() {
                if n == 0 {
                    return Err(GraphError::EmptyGraph { index: index + g });
                }
            }
            nodes.extend_from_slice(&p.nodes);
            edges.extend_from_slice(&p.edges);
            globals.extend_from_slice(&p.globals);
            senders.extend(p.senders.iter().map(|s| s + shift));
            receivers.extend(p.receivers.iter().map(|r| r + shift));
            n_node.extend_from_slice(&p.n_node);
            n_edge.extend_from_slice(&p.n_edge);
            shift += p.n_node.iter().sum::<usize>();
            index += p.graphs();
        }
        Self::new(nodes, edges, globals, senders, receivers, n_node, n_edge, widths)
    }

    /// Every graph on its own (jraph's `unbatch`), edge indices local again.
    pub fn unbatch(&self) -> Vec<GraphBatch> {
        let (node_start, edge_start) = (offsets(&self.n_node), offsets(&self.n_edge));
        let w = self.widths;
        (0..self.graphs())
            .map(|g| {
                let (n0, n1, e0, e1) = (node_start[g], node_start[g + 1], edge_start[g], edge_start[g + 1]);
                Self {
                    nodes: self.nodes[n0 * w.node..n1 * w.node].to_vec(),
                    edges: self.edges[e0 * w.edge..e1 * w.edge].to_vec(),
                    globals: self.globals[g * w.global..(g + 1) * w.global].to_vec(),
                    senders: self.senders[e0..e1].iter().map(|s| s - n0).collect(),
                    receivers: self.receivers[e0..e1].iter().map(|r| r - n0).collect(),
                    n_node: vec![n1 - n0],
                    n_edge: vec![e1 - e0],
                    widths: w,
                }
            })
            .collect()
    }

    /// Pads to exactly `nodes` nodes, `edges` edges and `graphs` graphs (jraph's
    /// `pad_with_graphs`), so batches of varying size share one shape: one graph gets all padding
    /// nodes and edges (zero features, edges from and to its first node), then empty graphs up
    /// to `graphs`. Needs at least one padding node and one padding graph.
    pub fn pad(&self, nodes: usize, edges: usize, graphs: usize) -> Result<Self, GraphError> {
        let (have_nodes, have_edges) = (self.n_node.iter().sum::<usize>(), self.senders.len());
        if nodes <= have_nodes {
            return Err(GraphError::Padding {
                what: "nodes",
                have: have_nodes,
                target: nodes,
                need: "at least one padding node",
            });
        }
        if edges < have_edges {
            return Err(GraphError::Padding {
                what: "edges",
                have: have_edges,
                target: edges,
                need: "at least as many as the batch has",
            });
        }
        if graphs <= self.graphs() {
            return Err(GraphError::Padding {
                what: "graphs",
                have: self.graphs(),
                target: graphs,
                need: "at least one padding graph",
            });
        }
        let w = self.widths;
        let (pad_nodes, pad_edges) = (nodes - have_nodes, edges - have_edges);
        let mut out = self.clone();
        out.nodes.resize(nodes * w.node, 0.0);
        out.edges.resize(edges * w.edge, 0.0);
        out.globals.resize(graphs * w.global, 0.0);
        out.senders.resize(edges, have_nodes);
        out.receivers.resize(edges, have_nodes);
        out.n_node.push(pad_nodes);
        out.n_edge.push(pad_edges);
        out.n_node.resize(graphs, 0);
        out.n_edge.resize(graphs, 0);
        Ok(out)
    }

    /// The real rows of a batch padded by [`GraphBatch::pad`] from `real_graphs` graphs.
    pub fn masks(&self, real_graphs: usize) -> Masks {
        let graphs: Vec<bool> = (0..self.graphs()).map(|g| g < real_graphs).collect();
        let spread = |counts: &[usize]| -> Vec<bool> {
            counts
                .iter()
                .zip(&graphs)
                .flat_map(|(&n, &real)| std::iter::repeat_n(real, n))
                .collect()
        };
        Masks {
            nodes: spread(&self.n_node),
            edges: spread(&self.n_edge),
            graphs,
        }
    }

    /// The first `real_graphs` graphs of a padded batch (jraph's `unpad_with_graphs`).
    pub fn unpad(&self, real_graphs: usize) -> Result<Self, GraphError> {
        let parts = self.unbatch();
        if real_graphs == 0 || real_graphs > parts.len() {
            return Err(GraphError::Padding {
                what: "graphs",
                have: parts.len(),
                target: real_graphs,
                need: "between 1 and the graphs present",
            });
        }
        Self::batch(&parts[..real_graphs])
    }
}
