//! LA-SympNets are symplectic by construction — the integrators' test DφᵀJDφ = J, on random and
//! on trained networks — and learn a flow map whose iterates keep the energy bounded.

use liouville_dynamics::sympnet::{FlowMapLoss, LaSympNet};
use liouville_sim::dataset::{DatasetSpec, Shard, SystemSpec, generate};
use liouville_tensor::Activation;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::train::{Examples, Loss, TrainConfig, train};
use ndarray::{Array2, Axis, s};

/// max |DφᵀJDφ - J| of the map at `x` (one row), by central differences.
fn symplecticity_defect(net: &LaSympNet<f64, Cpu>, x: &[f64]) -> f64 {
    let dev = Cpu::default();
    let n = x.len();
    let d = n / 2;
    let map = |v: Vec<f64>| net.map(&dev.tensor_from_vec(v, (1, n)), NoneTape).unwrap().as_vec();
    let mut jac = Array2::<f64>::zeros((n, n));
    for j in 0..n {
        let (mut up, mut down) = (x.to_vec(), x.to_vec());
        up[j] += 1e-6;
        down[j] -= 1e-6;
        let (fu, fd) = (map(up), map(down));
        for i in 0..n {
            jac[[i, j]] = (fu[i] - fd[i]) / 2e-6;
        }
    }
    let mut jm = Array2::<f64>::zeros((n, n));
    for k in 0..d {
        jm[[k, d + k]] = 1.0;
        jm[[d + k, k]] = -1.0;
    }
    (jac.t().dot(&jm).dot(&jac) - &jm)
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()))
}

#[test]
fn random_sympnets_are_symplectic() {
    let dev = Cpu::default();
    for (dof, act, seed) in [
        (1, Activation::Tanh, 1),
        (2, Activation::Sigmoid, 2),
        (2, Activation::Sin, 3),
        (3, Activation::Tanh, 4),
    ] {
        let mut net = LaSympNet::<f64, Cpu>::new(&dev, dof, 4, 3, act, seed).unwrap();
        // Make the weights large enough that a non-symplectic map would show.
        for m in net.parameters_mut_for_test() {
            *m = m.clone() * 3.0;
        }
        let x: Vec<f64> = (0..2 * dof).map(|i| (i as f64 * 0.7 + seed as f64).sin()).collect();
        let defect = symplecticity_defect(&net, &x);
        assert!(defect < 1e-8, "dof {dof} {act:?}: defect {defect:e}");
    }
}

#[test]
fn a_trained_sympnet_learns_the_oscillator_flow_map_and_stays_symplectic() {
    let dev = Cpu::default();
    // Samples every 0.1 time units: pairs (x_k, x_{k+1}) of the exact flow map.
    let ds = generate(
        &DatasetSpec::new(SystemSpec::hnn_mass_spring(), 30, 31, 3.0).seed(2),
        Shard::whole(),
        false,
    )
    .unwrap();
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for traj in ds.states.axis_iter(Axis(0)) {
        for k in 0..30 {
            xs.extend(traj.row(k).iter().copied());
            ys.extend(traj.row(k + 1).iter().copied());
        }
    }
    let data = Examples::new(xs, 2, ys, 2).unwrap();
    let mut net = LaSympNet::<f64, Cpu>::new(&dev, 1, 4, 2, Activation::Sigmoid, 0).unwrap();
    let cfg = TrainConfig {
        steps: 3000,
        batch_size: 128,
        learning_rate: 5e-3,
        eval_every: 3000,
        ..TrainConfig::default()
    };
    train(&mut net, &data, &FlowMapLoss, &cfg).unwrap();
    let (x_all, y_all) = (
        dev.tensor_from_vec(data.inputs.clone(), (data.rows(), 2)),
        dev.tensor_from_vec(data.targets.clone(), (data.rows(), 2)),
    );
    let loss = FlowMapLoss.loss(&net, &x_all, &y_all, NoneTape).unwrap().as_vec()[0];
    println!("one-step MSE {loss:e}");
    assert!(loss < 2e-5, "one-step loss {loss:e}");
    assert!(symplecticity_defect(&net, &[0.3, -0.4]) < 1e-8);
    // Iterate the learned map for 300 steps (t = 30): the energy q² + p² stays near its start.
    let start = ds.states.slice(s![0, 0, ..]).to_vec();
    let e0 = start[0] * start[0] + start[1] * start[1];
    let mut x = start;
    let mut worst: f64 = 0.0;
    for _ in 0..300 {
        x = net.map(&dev.tensor_from_vec(x, (1, 2)), NoneTape).unwrap().as_vec();
        worst = worst.max(((x[0] * x[0] + x[1] * x[1]) - e0).abs() / e0);
    }
    assert!(worst < 0.05, "relative energy error {worst}");
}
