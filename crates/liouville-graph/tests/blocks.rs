//! The GN block: permutation equivariance of node and edge outputs and invariance of global
//! outputs (proptest, every aggregation and every special case), batching equivalence (a batch
//! gives each graph's outputs alone, to round-off), graphs without edges, bad widths, and the
//! parameter gradients of every block against finite differences (f64).

use liouville_graph::blocks::{Aggregation, Features, GnBlock, GnBlockConfig};
use liouville_graph::data::DeviceGraphs;
use liouville_graph::{GraphBatch, Widths};
use liouville_tensor::device::HostDevice;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::module::Module;
use liouville_tensor::tape::Threaded;
use liouville_tensor::testing::{Entries, GradientCheck, check_parameter_gradients};
use liouville_tensor::train::Loss;
use liouville_tensor::{Activation, TensorError, host};
use proptest::prelude::*;

type Dev = HostDevice;
const W: Widths = Widths {
    node: 3,
    edge: 2,
    global: 2,
};

fn config(aggregation: Aggregation, variant: usize) -> GnBlockConfig {
    GnBlockConfig {
        node_in: W.node,
        edge_in: W.edge,
        global_in: W.global,
        edge_out: 4,
        node_out: 3,
        global_out: if variant == 2 || variant == 5 { 0 } else { 2 },
        hidden: vec![8],
        activation: Activation::Tanh,
        aggregation,
        edges_see_nodes: variant != 3,
        nodes_see_edges: variant != 4,
        use_globals: variant != 1,
        layer_norm: variant == 5,
    }
}

/// A graph of `n` nodes with distinct feature values (so maxima are unique).
fn graph(n: usize, pairs: &[(usize, usize)], salt: f64) -> GraphBatch {
    let nodes: Vec<f64> = (0..n * W.node)
        .map(|i| ((i * 37 + 11) % 101) as f64 / 50.0 - 1.0 + salt)
        .collect();
    let edges: Vec<f64> = (0..pairs.len() * W.edge)
        .map(|i| ((i * 53 + 7) % 97) as f64 / 40.0 - 1.2)
        .collect();
    let (s, r): (Vec<usize>, Vec<usize>) = pairs.iter().map(|&(a, b)| (a % n, b % n)).unzip();
    GraphBatch::new(
        nodes,
        edges,
        vec![0.3 + salt, -0.2],
        s,
        r,
        vec![n],
        vec![pairs.len()],
        W,
    )
    .unwrap()
}

fn run(block: &GnBlock<f64, Dev>, g: &GraphBatch) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let dg = DeviceGraphs::new(&Dev::default(), g);
    let out = block
        .forward(&mut Threaded::new(NoneTape), &dg, &Features::of(&dg))
        .unwrap();
    (
        host::values(&out.nodes),
        host::values(&out.edges),
        host::values(&out.globals),
    )
}

/// The graph with nodes relabelled by `perm` (node i becomes perm[i]) and edges reordered by
/// `edge_perm` (edge k moves to position edge_perm[k]).
fn permuted(g: &GraphBatch, perm: &[usize], edge_perm: &[usize]) -> GraphBatch {
    let n = perm.len();
    let m = edge_perm.len();
    let mut nodes = vec![0.0; n * W.node];
    for i in 0..n {
        nodes[perm[i] * W.node..(perm[i] + 1) * W.node].copy_from_slice(&g.nodes()[i * W.node..(i + 1) * W.node]);
    }
    let (mut edges, mut s, mut r) = (vec![0.0; m * W.edge], vec![0; m], vec![0; m]);
    for k in 0..m {
        let to = edge_perm[k];
        edges[to * W.edge..(to + 1) * W.edge].copy_from_slice(&g.edges()[k * W.edge..(k + 1) * W.edge]);
        s[to] = perm[g.senders()[k]];
        r[to] = perm[g.receivers()[k]];
    }
    GraphBatch::new(nodes, edges, g.globals().to_vec(), s, r, vec![n], vec![m], W).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs()))
}

fn permutation(n: usize, keys: &[u64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| keys[i % keys.len()].wrapping_mul(i as u64 + 1) ^ i as u64);
    // order[j] = old index at new position j; perm[old] = new.
    let mut perm = vec![0; n];
    for (new, &old) in order.iter().enumerate() {
        perm[old] = new;
    }
    perm
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn outputs_permute_with_the_graph_and_globals_do_not_change(
        n in 2usize..7,
        pairs in prop::collection::vec((0usize..40, 0usize..40), 1..14),
        keys in prop::collection::vec(any::<u64>(), 1..8),
        aggregation in prop::sample::select(vec![Aggregation::Sum, Aggregation::Mean, Aggregation::Max]),
        variant in 0usize..6,
        seed in 0u64..1000,
    ) {
        let g = graph(n, &pairs, 0.0);
        let block = GnBlock::<f64, Dev>::new(&config(aggregation, variant), &Dev::default(), seed).unwrap();
        let (perm, edge_perm) = (permutation(n, &keys), permutation(pairs.len(), &keys[1..].iter().chain(&keys[..1]).copied().collect::<Vec<_>>()));
        let (v, e, u) = run(&block, &g);
        let (pv, pe, pu) = run(&block, &permuted(&g, &perm, &edge_perm));
        for i in 0..n {
            for c in 0..3 {
                prop_assert!(close(v[i * 3 + c], pv[perm[i] * 3 + c]), "node {} {:?}", i, aggregation);
            }
        }
        for k in 0..pairs.len() {
            for c in 0..4 {
                prop_assert!(close(e[k * 4 + c], pe[edge_perm[k] * 4 + c]), "edge {}", k);
            }
        }
        for (a, b) in u.iter().zip(&pu) {
            prop_assert!(close(*a, *b), "global {} vs {}", a, b);
        }
    }
}

/// φ applied to host rows.
fn apply(phi: &liouville_tensor::Mlp<f64, Dev>, rows: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let width = rows[0].len();
    let x = host::matrix(&Dev::default(), rows.iter().flatten().copied(), rows.len(), width);
    let out = host::values(&phi.forward(&x, NoneTape).unwrap());
    out.chunks(out.len() / rows.len()).map(<[f64]>::to_vec).collect()
}

/// Battaglia et al.'s Algorithm 1 evaluated row by row on the host, with the block's own φ:
/// the block computes exactly e′ = φᵉ([e, v_s, v_r, u]), v′ = φᵛ([Σ_{r=i} e′, v, u]),
/// u′ = φᵘ([Σ e′, Σ v′, u]).
#[test]
fn the_block_computes_the_gn_equations() {
    let g = graph(4, &[(0, 1), (1, 2), (3, 1), (2, 0)], 0.2);
    let block = GnBlock::<f64, Dev>::new(&config(Aggregation::Sum, 0), &Dev::default(), 3).unwrap();
    let (v, e, u) = run(&block, &g);
    let (phi_e, phi_v, phi_u) = (block.edge_function(), block.node_function(), block.global_function());
    let node = |i: usize| g.nodes()[i * W.node..(i + 1) * W.node].to_vec();
    let glob = g.globals().to_vec();
    let edge_in: Vec<Vec<f64>> = (0..4)
        .map(|k| {
            [
                g.edges()[k * W.edge..(k + 1) * W.edge].to_vec(),
                node(g.senders()[k]),
                node(g.receivers()[k]),
                glob.clone(),
            ]
            .concat()
        })
        .collect();
    let e_ref = apply(phi_e, &edge_in);
    let node_in: Vec<Vec<f64>> = (0..4)
        .map(|i| {
            let mut agg = vec![0.0; 4];
            for k in (0..4).filter(|&k| g.receivers()[k] == i) {
                agg.iter_mut().zip(&e_ref[k]).for_each(|(a, b)| *a += b);
            }
            [agg, node(i), glob.clone()].concat()
        })
        .collect();
    let v_ref = apply(phi_v, &node_in);
    let sum = |rows: &[Vec<f64>]| {
        rows.iter().fold(vec![0.0; rows[0].len()], |acc, r| {
            acc.iter().zip(r).map(|(a, b)| a + b).collect()
        })
    };
    let u_ref = apply(phi_u.unwrap(), &[[sum(&e_ref), sum(&v_ref), glob].concat()]);
    for (a, b) in e
        .iter()
        .zip(e_ref.concat())
        .chain(v.iter().zip(v_ref.concat()))
        .chain(u.iter().zip(u_ref.concat()))
    {
        assert!(close(*a, b), "{a} vs {b}");
    }
}

#[test]
fn a_batch_gives_each_graph_its_own_outputs() {
    let parts = vec![
        graph(4, &[(0, 1), (1, 2), (2, 3), (3, 0), (1, 3)], 0.0),
        graph(2, &[(0, 1)], 0.5),
        graph(3, &[], -0.3),
        graph(5, &[(0, 4), (4, 0), (2, 2)], 0.1),
    ];
    for aggregation in [Aggregation::Sum, Aggregation::Mean, Aggregation::Max] {
        for variant in 0..6 {
            let block = GnBlock::<f64, Dev>::new(&config(aggregation, variant), &Dev::default(), 9).unwrap();
            let (v, e, u) = run(&block, &GraphBatch::batch(&parts).unwrap());
            let (mut vs, mut es, mut us) = (vec![], vec![], vec![]);
            for p in &parts {
                let (a, b, c) = run(&block, p);
                vs.extend(a);
                es.extend(b);
                us.extend(c);
            }
            for (x, y) in v.iter().zip(&vs).chain(e.iter().zip(&es)).chain(u.iter().zip(&us)) {
                assert!(close(*x, *y), "{aggregation:?} variant {variant}: {x} vs {y}");
            }
            assert_eq!((v.len(), e.len(), u.len()), (vs.len(), es.len(), us.len()));
        }
    }
}

#[test]
fn graphs_without_edges_work_and_bad_widths_are_typed_errors() {
    let block = GnBlock::<f64, Dev>::new(&config(Aggregation::Sum, 0), &Dev::default(), 1).unwrap();
    let lonely = GraphBatch::batch(&[graph(3, &[], 0.0), graph(1, &[], 0.2)]).unwrap();
    let (v, e, u) = run(&block, &lonely);
    assert_eq!((v.len(), e.len(), u.len()), (4 * 3, 0, 2 * 2));
    assert!(v.iter().chain(&u).all(|x| x.is_finite()));
    let wide = GraphBatch::new(
        vec![0.0; 4],
        vec![],
        vec![0.0; 2],
        vec![],
        vec![],
        vec![1],
        vec![0],
        Widths { node: 4, ..W },
    )
    .unwrap();
    let dg = DeviceGraphs::<f64, Dev>::new(&Dev::default(), &wide);
    assert!(matches!(
        block.forward(&mut Threaded::new(NoneTape), &dg, &Features::of(&dg)),
        Err(TensorError::ShapeMismatch(_))
    ));
}

/// Σ c ⊙ (node, edge and global outputs) of a block on a fixed batch.
struct Readout(DeviceGraphs<f64, Dev>);

impl Loss<f64, Dev, GnBlock<f64, Dev>, ()> for Readout {
    fn loss<T: Tape<f64, Dev> + Merge<T>>(
        &self,
        block: &GnBlock<f64, Dev>,
        _: &(),
        tape: T,
    ) -> Result<Tensor<(), f64, Dev, T>, TensorError> {
        let mut tp = Threaded::new(tape);
        let out = block.forward(&mut tp, &self.0, &Features::of(&self.0))?;
        let weigh = |m: &liouville_tensor::shapes::Matrix<f64, Dev>, phase: f64| {
            let (r, c) = *m.shape();
            host::matrix(m.device(), (0..r * c).map(|i| (i as f64 * 0.61 + phase).cos()), r, c)
        };
        let (wv, we, wu) = (weigh(&out.nodes, 0.1), weigh(&out.edges, 0.7), weigh(&out.globals, 1.3));
        let l = tp.step(|t| {
            (out.nodes.clone().put_tape(t) * wv).sum::<(), _>()
                + (out.edges.retaped::<T>() * we).sum::<(), _>()
                + (out.globals.retaped::<T>() * wu).sum::<(), _>()
        });
        Ok(tp.finish(l))
    }
}

#[test]
fn block_parameter_gradients_match_finite_differences() {
    let batch = GraphBatch::batch(&[
        graph(4, &[(0, 1), (1, 2), (2, 3), (3, 0), (0, 2)], 0.0),
        graph(3, &[(2, 0), (1, 0)], 0.4),
    ])
    .unwrap();
    let dg = DeviceGraphs::new(&Dev::default(), &batch);
    for aggregation in [Aggregation::Sum, Aggregation::Mean, Aggregation::Max] {
        for variant in [0, 1, 2, 3, 4, 5] {
            let mut block = GnBlock::<f64, Dev>::new(&config(aggregation, variant), &Dev::default(), 5).unwrap();
            let check = GradientCheck {
                entries: Entries::All,
                floor: 1e-3,
                ..GradientCheck::default()
            };
            let report = check_parameter_gradients(&mut block, &Readout(dg.clone()), &(), check).unwrap();
            assert!(report.worst < 1e-6, "{aggregation:?} variant {variant}: {report:?}");
            assert!(report.checked > 100);
        }
    }
    // Every parameter is reached: none of φᵉ, φᵛ, φᵘ has an all-zero gradient.
    let block = GnBlock::<f64, Dev>::new(&config(Aggregation::Sum, 0), &Dev::default(), 5).unwrap();
    let mut grads = Readout(dg).loss(&block, &(), OwnedTape::default()).unwrap().backward();
    let g = liouville_tensor::testing::parameter_gradients(&block, &mut grads).unwrap();
    let names: Vec<String> = block.parameters().into_iter().map(|(n, _)| n).collect();
    for (name, values) in names.iter().zip(&g) {
        assert!(values.iter().any(|v| v.abs() > 1e-9), "{name} gets no gradient");
    }
}
