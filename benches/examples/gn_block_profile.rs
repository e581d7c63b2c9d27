//! Where the time of one GN-block forward + backward (the criterion bench's problem: 256 complete
//! graphs of 8 nodes, f32) goes: the whole step, then its gathers, segment sums, column concats and
//! MLPs alone, each timed over repeats (median). `cargo run --release -p liouville-benches
//! --example gn_block_profile`.

use std::time::Instant;

use liouville_graph::blocks::{Aggregation, Features, GnBlock, GnBlockConfig};
use liouville_graph::data::DeviceGraphs;
use liouville_graph::neighbourhoods::complete_graph;
use liouville_graph::{GraphBatch, Widths};
use liouville_tensor::Activation;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::segment::segment_sum;
use liouville_tensor::tape::Threaded;

fn median_ms(mut f: impl FnMut(), repeats: usize) -> f64 {
    f();
    let mut t: Vec<f64> = (0..repeats)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[repeats / 2]
}

fn main() {
    liouville_tensor::host_memory::keep_freed_memory();
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
    let whole = median_ms(
        || {
            let mut tp = Threaded::new(OwnedTape::<f32, Cpu>::default());
            let out = block.forward(&mut tp, &graphs, &Features::of(&graphs)).unwrap();
            let l = tp.step(|t| {
                out.nodes.clone().put_tape(t).sum::<(), _>()
                    + out.globals.retaped::<OwnedTape<f32, Cpu>>().sum::<(), _>()
            });
            tp.finish(l).backward();
        },
        if std::env::var_os("WHOLE_ONLY").is_some() {
            300
        } else {
            20
        },
    );
    if std::env::var_os("WHOLE_ONLY").is_some() {
        println!("whole step {whole:.2} ms");
        return;
    }
    let forward = median_ms(
        || {
            let mut tp = Threaded::new(NoneTape);
            block.forward(&mut tp, &graphs, &Features::of(&graphs)).unwrap();
        },
        20,
    );
    println!("whole step {whole:.2} ms, forward without a tape {forward:.2} ms");
    let edges = batch.receivers().len();
    let nodes: usize = batch.n_node().iter().sum();
    let x: Tensor<(usize, usize), f32, Cpu> = dev.sample_normal_like(&(edges, 64));
    let v: Tensor<(usize, usize), f32, Cpu> = dev.sample_normal_like(&(nodes, 4));
    let receivers = batch.receivers().to_vec();
    let gather = median_ms(
        || {
            let idx = dev.tensor_from_vec(receivers.clone(), (edges,));
            let g = v.clone().leaky_trace().gather(idx);
            g.sum::<(), _>().backward();
        },
        20,
    );
    let seg = median_ms(
        || {
            let o = segment_sum(x.clone().leaky_trace(), &receivers, nodes).unwrap();
            o.sum::<(), _>().backward();
        },
        20,
    );
    let mlp = median_ms(
        || {
            let inp: Tensor<(usize, usize), f32, Cpu> = dev.sample_normal_like(&(edges, 11));
            let mut tp = Threaded::new(OwnedTape::<f32, Cpu>::default());
            let o = tp.try_step(|t| block.edge_function().forward(&inp, t)).unwrap();
            let l = tp.step(|t| o.put_tape(t).sum::<(), _>());
            tp.finish(l).backward();
        },
        20,
    );
    let a: Tensor<(usize, usize), f32, Cpu> = dev.sample_normal_like(&(edges, 64));
    let wt: Tensor<(usize, usize), f32, Cpu> = dev.sample_normal_like(&(64, 64));
    let product_forward = median_ms(
        || {
            let _ = a.clone().matmul(wt.clone());
        },
        20,
    );
    let product = median_ms(
        || {
            let o = a.clone().leaky_trace().matmul(wt.clone());
            let _ = o.sum::<(), _>().backward();
        },
        20,
    );
    let i11: Tensor<(usize, usize), f32, Cpu> = dev.sample_normal_like(&(edges, 11));
    let w11: Tensor<(usize, usize), f32, Cpu> = dev.sample_normal_like(&(11, 64));
    let thin = median_ms(
        || {
            let _ = i11.clone().matmul(w11.clone());
        },
        20,
    );
    println!(
        "product {edges}x64 . 64x64: forward {product_forward:.2} ms, with the weight gradient {product:.2} ms; \
         {edges}x11 . 11x64 forward {thin:.2} ms"
    );
    println!(
        "gather {nodes}x4 -> {edges} rows fwd+bwd {gather:.2} ms; segment sum {edges}x64 -> {nodes} fwd+bwd {seg:.2} ms; \
         edge MLP {edges}x11 -> 64 -> 64 fwd+bwd {mlp:.2} ms"
    );
}
