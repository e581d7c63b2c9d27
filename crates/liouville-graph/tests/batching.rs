//! Graph batches: batch/unbatch and pad/unpad round trips (proptest), jraph's padding layout,
//! petgraph conversion, graphs without edges, typed errors for malformed input, and graph sets
//! batching onto a device for the training loop.

use liouville_graph::data::{DeviceGraphs, GraphSet};
use liouville_graph::{GraphBatch, GraphError, Widths};
use liouville_tensor::device::HostDevice;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::segment::segment_sum;
use liouville_tensor::train::Data;
use petgraph::graph::{DiGraph, UnGraph};
use proptest::prelude::*;

const W: Widths = Widths {
    node: 2,
    edge: 1,
    global: 3,
};

/// A random graph of `n` nodes with the given local (sender, receiver) pairs (taken mod n).
fn graph(n: usize, pairs: &[(usize, usize)], salt: f64) -> GraphBatch {
    let nodes: Vec<f64> = (0..n * W.node).map(|i| i as f64 * 0.5 + salt).collect();
    let edges: Vec<f64> = (0..pairs.len()).map(|i| i as f64 - salt).collect();
    let (s, r): (Vec<usize>, Vec<usize>) = pairs.iter().map(|&(a, b)| (a % n, b % n)).unzip();
    GraphBatch::new(nodes, edges, vec![salt; W.global], s, r, vec![n], vec![pairs.len()], W).unwrap()
}

fn graphs() -> impl Strategy<Value = Vec<GraphBatch>> {
    prop::collection::vec(
        (1usize..7, prop::collection::vec((0usize..50, 0usize..50), 0..12)),
        1..6,
    )
    .prop_map(|spec| {
        spec.iter()
            .enumerate()
            .map(|(k, (n, pairs))| graph(*n, pairs, k as f64))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn batch_then_unbatch_gives_back_every_graph(parts in graphs()) {
        let b = GraphBatch::batch(&parts).unwrap();
        prop_assert_eq!(b.graphs(), parts.len());
        prop_assert_eq!(b.unbatch(), parts.clone());
        // Edges of graph g point into graph g's nodes.
        let node_graph = b.node_graph();
        for (e, &g) in b.edge_graph().iter().enumerate() {
            prop_assert_eq!(node_graph[b.senders()[e]], g);
            prop_assert_eq!(node_graph[b.receivers()[e]], g);
        }
    }

    #[test]
    fn pad_then_unpad_is_the_identity_and_masks_count_the_real_rows(parts in graphs(), extra in (1usize..5, 0usize..5, 1usize..4)) {
        let b = GraphBatch::batch(&parts).unwrap();
        let (n, e, g) = (b.node_graph().len(), b.senders().len(), b.graphs());
        let padded = b.pad(n + extra.0, e + extra.1, g + extra.2).unwrap();
        prop_assert_eq!(padded.node_graph().len(), n + extra.0);
        prop_assert_eq!(padded.senders().len(), e + extra.1);
        prop_assert_eq!(padded.graphs(), g + extra.2);
        let masks = padded.masks(g);
        prop_assert_eq!(masks.nodes.iter().filter(|&&m| m).count(), n);
        prop_assert_eq!(masks.edges.iter().filter(|&&m| m).count(), e);
        prop_assert_eq!(padded.unpad(g).unwrap(), b);
    }
}

#[test]
fn padding_follows_jraph() {
    let b = GraphBatch::batch(&[graph(3, &[(0, 1), (1, 2)], 0.0), graph(2, &[(1, 0)], 1.0)]).unwrap();
    let p = b.pad(8, 5, 4).unwrap();
    // One graph holds all padding nodes and edges; the rest are empty.
    assert_eq!(p.n_node(), &[3, 2, 3, 0]);
    assert_eq!(p.n_edge(), &[2, 1, 2, 0]);
    // Padding edges connect the first padding node to itself; padding features are zero.
    assert_eq!(&p.senders()[3..], &[5, 5]);
    assert_eq!(&p.receivers()[3..], &[5, 5]);
    assert!(p.nodes()[5 * W.node..].iter().all(|&v| v == 0.0));
    for (n, e, g) in [(5, 5, 4), (8, 2, 4), (8, 5, 2)] {
        assert!(
            matches!(b.pad(n, e, g), Err(GraphError::Padding { .. })),
            "pad({n}, {e}, {g})"
        );
    }
}

#[test]
fn petgraph_graphs_become_batches() {
    let mut d = DiGraph::<Vec<f64>, Vec<f64>>::new();
    let a = d.add_node(vec![1.0, 2.0]);
    let b = d.add_node(vec![3.0, 4.0]);
    let c = d.add_node(vec![5.0, 6.0]);
    d.add_edge(a, b, vec![0.5]);
    d.add_edge(c, a, vec![-0.5]);
    let g = GraphBatch::from_petgraph(&d, vec![0.0; 3], W).unwrap();
    assert_eq!(g.senders(), &[0, 2]);
    assert_eq!(g.receivers(), &[1, 0]);
    assert_eq!(g.nodes(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(g.edges(), &[0.5, -0.5]);
    // A graph with no edges works.
    let mut lonely = UnGraph::<Vec<f64>, Vec<f64>>::new_undirected();
    lonely.add_node(vec![0.0, 1.0]);
    let g = GraphBatch::from_petgraph(&lonely, vec![0.0; 3], W).unwrap();
    assert_eq!((g.n_node(), g.n_edge()), (&[1][..], &[0][..]));
    // A node weight of the wrong width is named.
    lonely.add_node(vec![0.0]);
    assert!(matches!(
        GraphBatch::from_petgraph(&lonely, vec![0.0; 3], W),
        Err(GraphError::WidthMismatch {
            index: 1,
            what: "node",
            ..
        })
    ));
}

#[test]
fn malformed_batches_are_typed_errors() {
    let ok = |s: Vec<usize>, r: Vec<usize>| {
        GraphBatch::new(
            vec![0.0; 8],
            vec![0.0; 2],
            vec![0.0; 6],
            s,
            r,
            vec![2, 2],
            vec![1, 1],
            W,
        )
    };
    assert!(ok(vec![0, 2], vec![1, 3]).is_ok());
    // An edge of graph 0 reaching into graph 1, and an index out of range.
    assert!(matches!(
        ok(vec![0, 2], vec![2, 3]),
        Err(GraphError::EdgeEndpoint { edge: 0, graph: 0, .. })
    ));
    assert!(matches!(
        ok(vec![0, 9], vec![1, 3]),
        Err(GraphError::EdgeEndpoint { edge: 1, node: 9, .. })
    ));
    // Counts that do not add up, features of the wrong length, NaN.
    assert!(matches!(
        GraphBatch::new(
            vec![0.0; 8],
            vec![0.0; 2],
            vec![0.0; 6],
            vec![0, 2],
            vec![1, 3],
            vec![2, 1],
            vec![1, 1],
            W
        ),
        Err(GraphError::FeatureShape { what: "nodes", .. })
    ));
    assert!(matches!(
        GraphBatch::new(
            vec![0.0; 8],
            vec![0.0; 2],
            vec![0.0; 6],
            vec![0],
            vec![1],
            vec![2, 2],
            vec![1, 1],
            W
        ),
        Err(GraphError::Counts { what: "edge", .. })
    ));
    let mut nodes = vec![0.0; 8];
    nodes[5] = f64::NAN;
    assert!(matches!(
        GraphBatch::new(
            nodes,
            vec![0.0; 2],
            vec![0.0; 6],
            vec![0, 2],
            vec![1, 3],
            vec![2, 2],
            vec![1, 1],
            W
        ),
        Err(GraphError::NonFinite {
            what: "nodes",
            row: 2,
            column: 1,
            ..
        })
    ));
    // Batches of nothing, of other widths, or with an empty graph.
    assert!(GraphBatch::batch(&[]).is_err());
    let other = GraphBatch::new(
        vec![0.0; 3],
        vec![],
        vec![0.0; 3],
        vec![],
        vec![],
        vec![1],
        vec![0],
        Widths { node: 3, ..W },
    )
    .unwrap();
    assert!(matches!(
        GraphBatch::batch(&[graph(2, &[], 0.0), other]),
        Err(GraphError::WidthMismatch { index: 1, .. })
    ));
    let empty = GraphBatch::new(vec![], vec![], vec![0.0; 3], vec![], vec![], vec![0], vec![0], W).unwrap();
    assert!(matches!(
        GraphBatch::batch(&[graph(2, &[], 0.0), empty]),
        Err(GraphError::EmptyGraph { index: 1 })
    ));
}

#[test]
fn graph_sets_batch_onto_the_device_with_segment_ids() {
    let parts = vec![
        graph(3, &[(0, 1), (1, 2), (2, 0)], 0.0),
        graph(2, &[(0, 1)], 1.0),
        graph(4, &[], 2.0),
    ];
    let targets: Vec<Vec<f64>> = parts.iter().map(|g| vec![1.0; g.node_graph().len()]).collect();
    let set = GraphSet::new(parts.clone(), targets, 1).unwrap();
    assert_eq!(set.len(), 3);
    let dev = HostDevice::default();
    let b = set.batch::<f64, HostDevice>(&dev, &[2, 0]).unwrap();
    assert_eq!(b.graphs.graphs, 2);
    assert_eq!(b.graphs.node_graph, vec![0, 0, 0, 0, 1, 1, 1]);
    assert_eq!(b.graphs.senders, vec![4, 5, 6]);
    assert_eq!(*b.targets.shape(), (7, 1));
    // Per-graph node sums through tensor's segment sum equal the host sums.
    let sums = segment_sum(b.graphs.nodes.clone(), &b.graphs.node_graph, 2)
        .unwrap()
        .as_vec();
    let host: f64 = parts[2].nodes().iter().step_by(2).sum();
    assert!((sums[0] - host).abs() < 1e-12);
    assert!(set.batch::<f64, HostDevice>(&dev, &[3]).is_err());
    let whole = DeviceGraphs::<f32, HostDevice>::new(&dev, &GraphBatch::batch(&parts).unwrap());
    assert_eq!(*whole.edges.shape(), (4, 1));
    // Targets of the wrong length are refused.
    assert!(GraphSet::new(parts, vec![vec![0.0; 3], vec![0.0; 2], vec![0.0; 1]], 1).is_err());
}
