//! liouville-graph: radius-graph construction by cell lists for 10⁴ and 10⁵ particles (O(N):
//! the time per particle should not grow) beside the O(N²) scan at 10⁴; one GN-block forward and
//! backward on 256 complete graphs of 8 nodes.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use liouville_graph::blocks::{Aggregation, Features, GnBlock, GnBlockConfig};
use liouville_graph::data::DeviceGraphs;
use liouville_graph::neighbourhoods::{complete_graph, radius_graph, radius_graph_by_scan};
use liouville_graph::{GraphBatch, Widths};
use liouville_sim::rng::Rng;
use liouville_tensor::Activation;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::tape::Threaded;

/// N particles uniform in a 2-D box sized for about 10 neighbours within radius 1.
fn particles(n: usize) -> Vec<f64> {
    let side = (n as f64 * std::f64::consts::PI / 10.0).sqrt();
    let mut rng = Rng::stream(7, n as u64);
    (0..2 * n).map(|_| rng.uniform_in(0.0, side)).collect()
}

fn radius_graphs(c: &mut Criterion) {
    let mut g = c.benchmark_group("cpu_graph_radius_2d_10_neighbours");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    for n in [10_000usize, 100_000] {
        let x = particles(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("cell_list", n), &x, |b, x| {
            b.iter(|| radius_graph(x, 2, 1.0).unwrap())
        });
    }
    let x = particles(10_000);
    g.throughput(Throughput::Elements(10_000));
    g.bench_with_input(BenchmarkId::new("scan", 10_000), &x, |b, x| {
        b.iter(|| radius_graph_by_scan(x, 2, 1.0).unwrap())
    });
    g.finish();
}

fn gn_block(c: &mut Criterion) {
    let mut g = c.benchmark_group("cpu_graph_gn_block_256x8_complete_f32");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    let w = Widths {
        node: 4,
        edge: 2,
        global: 1,
    };
    let (s, r) = complete_graph(8);
    let one = |k: usize| {
        let nodes = (0..8 * w.node).map(|i| ((i + k) as f64 * 0.37).sin()).collect();
        let edges = (0..s.len() * w.edge).map(|i| ((i + k) as f64 * 0.11).cos()).collect();
        GraphBatch::new(nodes, edges, vec![0.5], s.clone(), r.clone(), vec![8], vec![s.len()], w).unwrap()
    };
    let batch = GraphBatch::batch(&(0..256).map(one).collect::<Vec<_>>()).unwrap();
    let dev = Cpu::default();
    let graphs = DeviceGraphs::<f32, Cpu>::new(&dev, &batch);
    let config = GnBlockConfig {
        node_in: w.node,
        edge_in: w.edge,
        global_in: w.global,
        edge_out: 64,
        node_out: 64,
        global_out: 64,
        hidden: vec![64],
        activation: Activation::Relu,
        aggregation: Aggregation::Sum,
        edges_see_nodes: true,
        nodes_see_edges: true,
        use_globals: true,
        layer_norm: false,
    };
    let block = GnBlock::<f32, Cpu>::new(&config, &dev, 0).unwrap();
    g.bench_function("forward_backward", |b| {
        b.iter(|| {
            let mut tp = Threaded::new(OwnedTape::<f32, Cpu>::default());
            let out = block.forward(&mut tp, &graphs, &Features::of(&graphs)).unwrap();
            let l = tp.step(|t| {
                out.nodes.clone().put_tape(t).sum::<(), _>()
                    + out.globals.retaped::<OwnedTape<f32, Cpu>>().sum::<(), _>()
            });
            tp.finish(l).backward()
        })
    });
    g.finish();
}

criterion_group!(benches, radius_graphs, gn_block);
