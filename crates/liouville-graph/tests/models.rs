//! Encode-process-decode: learns a message-passing target through tensor's training loop on a
//! graph set (validation, best checkpoint, typed config), its node outputs permute with the
//! graph, and its parameter gradients match finite differences (f64).

use liouville_graph::blocks::Aggregation;
use liouville_graph::data::{DeviceGraphs, GraphSet};
use liouville_graph::models::{
    EncodeProcessDecode, EncodeProcessDecodeConfig, Mpnn, MpnnConfig, NodeModel, NodeRegression,
};
use liouville_graph::{GraphBatch, Widths};
use liouville_tensor::checkpoint;
use liouville_tensor::config::Configured;
use liouville_tensor::device::HostDevice;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::host;
use liouville_tensor::optim::Schedule;
use liouville_tensor::tape::Threaded;
use liouville_tensor::testing::{GradientCheck, check_parameter_gradients};
use liouville_tensor::train::{Data, TrainConfig, train};

type Dev = HostDevice;
const W: Widths = Widths {
    node: 2,
    edge: 1,
    global: 0,
};

/// A random graph and its target: yᵢ = Σ_{edges s → i} x_s[0] · e + x_i[1].
fn example(k: u64) -> (GraphBatch, Vec<f64>) {
    let mut rng = liouville_base::random::Rng::stream(11, k);
    let n = 4 + rng.below(4) as usize;
    let nodes: Vec<f64> = (0..n * W.node).map(|_| rng.uniform_in(-1.0, 1.0)).collect();
    let (mut s, mut r, mut e) = (vec![], vec![], vec![]);
    for i in 0..n {
        for j in 0..n {
            if i != j && rng.uniform() < 0.4 {
                s.push(i);
                r.push(j);
                e.push(rng.uniform_in(0.5, 1.5));
            }
        }
    }
    let mut y: Vec<f64> = (0..n).map(|i| nodes[i * 2 + 1]).collect();
    for ((&si, &ri), &w) in s.iter().zip(&r).zip(&e) {
        y[ri] += nodes[si * 2] * w;
    }
    let m = s.len();
    (GraphBatch::new(nodes, e, vec![], s, r, vec![n], vec![m], W).unwrap(), y)
}

/// The training recipe both node models use: 1,500 Adam steps of 16 graphs, cosine schedule,
/// a fifth held out for validation.
fn recipe() -> TrainConfig {
    TrainConfig {
        steps: 1500,
        batch_size: 16,
        learning_rate: 3e-3,
        schedule: Schedule::Cosine {
            warmup: 50,
            total: 1500,
            min_factor: 0.05,
        },
        validation_fraction: 0.2,
        eval_every: 100,
        ..TrainConfig::default()
    }
}

fn config() -> EncodeProcessDecodeConfig {
    EncodeProcessDecodeConfig {
        node_in: 2,
        edge_in: 1,
        latent: 16,
        steps: 2,
        hidden: vec![32],
        node_out: 1,
        aggregation: Aggregation::Sum,
    }
}

#[test]
fn encode_process_decode_learns_a_message_passing_target_and_its_best_checkpoint_loads() {
    let (graphs, targets): (Vec<_>, Vec<_>) = (0..300).map(example).unzip();
    let set = GraphSet::new(graphs, targets, 1).unwrap();
    let dev = Dev::default();
    let mut model = EncodeProcessDecode::<f32, Dev>::from_config(&config(), &dev, 1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let best = dir.path().join("best.safetensors");
    let cfg = TrainConfig {
        checkpoint: Some(best.clone()),
        ..recipe()
    };
    let report = train(&mut model, &set, &NodeRegression, &cfg).unwrap();
    let (first, last) = (report.validation_curve[0].1, report.best_loss);
    eprintln!("encode-process-decode validation MSE {first:e} -> {last:e}");
    // The target's variance is about 0.5: the model must explain nearly all of it.
    assert!(last < 0.02 && last < first / 10.0, "validation MSE {first} -> {last}");
    let (back, header): (EncodeProcessDecode<f32, Dev>, _) = checkpoint::load(&dev, &best).unwrap();
    assert_eq!(header.kind, "encode_process_decode");
    assert_eq!(back.config(), config());
    let batch = set.batch::<f32, Dev>(&dev, &[0, 1, 2]).unwrap();
    let out = NodeModel::forward(&back, &mut Threaded::new(NoneTape), &batch.graphs).unwrap();
    let mse = host::values(&(out - batch.targets).square().mean::<(), _>());
    assert!(mse[0] < 0.05, "reloaded best model MSE {}", mse[0]);
}

#[test]
fn node_outputs_permute_with_the_nodes() {
    let (g, _) = example(3);
    let n = g.n_node()[0];
    let perm: Vec<usize> = (0..n).map(|i| (i + 2) % n).collect();
    let mut nodes = vec![0.0; n * 2];
    for i in 0..n {
        nodes[perm[i] * 2..perm[i] * 2 + 2].copy_from_slice(&g.nodes()[i * 2..i * 2 + 2]);
    }
    let s: Vec<usize> = g.senders().iter().map(|&i| perm[i]).collect();
    let r: Vec<usize> = g.receivers().iter().map(|&i| perm[i]).collect();
    let m = s.len();
    let h = GraphBatch::new(nodes, g.edges().to_vec(), vec![], s, r, vec![n], vec![m], W).unwrap();
    let model = EncodeProcessDecode::<f64, Dev>::from_config(&config(), &Dev::default(), 4).unwrap();
    let run = |b: &GraphBatch| {
        host::values(
            &model
                .forward(&mut Threaded::new(NoneTape), &DeviceGraphs::new(&Dev::default(), b))
                .unwrap(),
        )
    };
    let (a, b) = (run(&g), run(&h));
    for i in 0..n {
        assert!(
            (a[i] - b[perm[i]]).abs() < 1e-12,
            "node {i}: {} vs {}",
            a[i],
            b[perm[i]]
        );
    }
}

#[test]
fn parameter_gradients_match_finite_differences() {
    let (graphs, targets): (Vec<_>, Vec<_>) = (0..3).map(example).unzip();
    let set = GraphSet::new(graphs, targets, 1).unwrap();
    let dev = Dev::default();
    let small = EncodeProcessDecodeConfig {
        latent: 4,
        hidden: vec![5],
        aggregation: Aggregation::Mean,
        ..config()
    };
    // Tanh-free ReLU networks have kinks; at random weights and inputs none lies within ε.
    let mut model = EncodeProcessDecode::<f64, Dev>::from_config(&small, &dev, 2).unwrap();
    let batch = set.batch::<f64, Dev>(&dev, &[0, 1, 2]).unwrap();
    let report = check_parameter_gradients(&mut model, &NodeRegression, &batch, GradientCheck::default()).unwrap();
    assert!(report.worst < 1e-6, "{report:?}");
    assert!(
        EncodeProcessDecode::<f64, Dev>::from_config(&EncodeProcessDecodeConfig { edge_in: 0, ..small }, &dev, 0)
            .is_err()
    );
}

fn mpnn_config() -> MpnnConfig {
    MpnnConfig {
        node_in: 2,
        edge_in: 1,
        state: 12,
        rounds: 2,
        hidden: vec![24],
        node_out: 1,
    }
}

#[test]
fn the_mpnn_learns_the_same_target_and_its_gradients_match_finite_differences() {
    let (graphs, targets): (Vec<_>, Vec<_>) = (0..300).map(example).unzip();
    let set = GraphSet::new(graphs, targets, 1).unwrap();
    let dev = Dev::default();
    let mut model = Mpnn::<f32, Dev>::from_config(&mpnn_config(), &dev, 3).unwrap();
    let cfg = recipe();
    let report = train(&mut model, &set, &NodeRegression, &cfg).unwrap();
    let (first, best) = (report.validation_curve[0].1, report.best_loss);
    eprintln!("MPNN validation MSE {first:e} -> {best:e}");
    assert!(best < 0.03 && best < first / 5.0, "validation MSE {first} -> {best}");
    let mut small = Mpnn::<f64, Dev>::from_config(
        &MpnnConfig {
            state: 4,
            hidden: vec![5],
            ..mpnn_config()
        },
        &dev,
        1,
    )
    .unwrap();
    let batch = set.batch::<f64, Dev>(&dev, &[0, 1, 2]).unwrap();
    let report = check_parameter_gradients(&mut small, &NodeRegression, &batch, GradientCheck::default()).unwrap();
    assert!(report.worst < 1e-6, "{report:?}");
    // Graphs without edges: the messages are zero, the model still answers.
    let lonely = GraphBatch::new(
        vec![0.1, 0.2, 0.3, 0.4],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![2],
        vec![0],
        W,
    )
    .unwrap();
    let out = small
        .forward(&mut Threaded::new(NoneTape), &DeviceGraphs::new(&dev, &lonely))
        .unwrap();
    assert!(host::values(&out).iter().all(|v| v.is_finite()));
}
