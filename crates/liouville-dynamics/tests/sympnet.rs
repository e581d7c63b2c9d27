//! LA- and G-SympNets are symplectic by construction — the integrators' test DφᵀJDφ = J, on
//! random and on trained networks — and learn flow maps whose iterates keep the energy bounded.

use liouville_dynamics::neural_ode::windows;
use liouville_dynamics::sympnet::{FlowMapLoss, GSympNet, LaSympNet, SympNetModel, SymplecticMap};
use liouville_sim::dataset::{DatasetSpec, Shard, SystemSpec, generate};
use liouville_tensor::Activation;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::module::{Module, ParamMut};
use liouville_tensor::optim::Schedule;
use liouville_tensor::train::{Examples, Loss, Supervised, TrainConfig, train};
use ndarray::{Array2, Axis, s};

/// max |DφᵀJDφ - J| of the map at `x` (one row), by central differences.
fn symplecticity_defect(net: &impl SymplecticMap<f64, Cpu>, x: &[f64]) -> f64 {
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
    let all = Supervised {
        inputs: dev.tensor_from_vec(data.inputs.clone(), (data.rows(), 2)),
        targets: dev.tensor_from_vec(data.targets.clone(), (data.rows(), 2)),
    };
    let loss = FlowMapLoss.loss(&net, &all, NoneTape).unwrap().as_vec()[0];
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

#[test]
fn random_g_sympnets_are_symplectic() {
    let dev = Cpu::default();
    for (dof, act, seed) in [
        (1, Activation::Tanh, 1),
        (2, Activation::Sigmoid, 2),
        (3, Activation::Tanh, 3),
    ] {
        let mut net = GSympNet::<f64, Cpu>::new(&dev, dof, 5, 16, act, seed).unwrap();
        // Large weights, so that a non-symplectic map would show.
        for p in net.parameters_mut() {
            if let ParamMut::Vector(a) = p {
                *a = a.clone() * 20.0;
            }
        }
        let x: Vec<f64> = (0..2 * dof).map(|i| (i as f64 * 0.9 + seed as f64).cos()).collect();
        let defect = symplecticity_defect(&net, &x);
        assert!(defect < 1e-8, "dof {dof} {act:?}: defect {defect:e}");
        // ... and the map is far from the identity, so the check has teeth.
        let moved = net
            .map(&dev.tensor_from_vec(x.clone(), (1, 2 * dof)), NoneTape)
            .unwrap()
            .as_vec();
        assert!(moved.iter().zip(&x).any(|(a, b)| (a - b).abs() > 0.05));
    }
}

/// The pendulum's flow map (nonlinear) learned by a G-SympNet from consecutive samples; the
/// trained map stays symplectic and its 500 iterates (t = 50) keep the true energy bounded.
#[test]
fn a_g_sympnet_learns_the_pendulum_flow_map() {
    let ds = generate(
        &DatasetSpec::new(SystemSpec::hnn_pendulum(), 40, 31, 3.0).seed(4),
        Shard::whole(),
        false,
    )
    .unwrap();
    let mut clean = ds.clone();
    clean.observations = clean.states.clone();
    let data = windows(&clean, &(0..40).collect::<Vec<_>>(), 1).unwrap();
    let mut model = SympNetModel::g(1, 6, 32, Activation::Tanh, 0.1, 0).unwrap();
    let cfg = TrainConfig {
        steps: 3000,
        batch_size: 200,
        learning_rate: 1e-2,
        schedule: Schedule::Cosine {
            warmup: 100,
            total: 3000,
            min_factor: 0.01,
        },
        eval_every: 3000,
        ..TrainConfig::default()
    };
    model.fit(&data, &cfg).unwrap();
    let x = Array2::from_shape_vec((data.rows(), 2), data.inputs.clone()).unwrap();
    let y = Array2::from_shape_vec((data.rows(), 2), data.targets.clone()).unwrap();
    let loss = (&model.step(x.view()).unwrap() - &y).mapv(|v| v * v).mean().unwrap();
    assert!(loss < 1e-5, "one-step loss {loss:e}");
    let energy = |q: f64, p: f64| 3.0 * (1.0 - q.cos()) + p * p;
    let y0 = ndarray::array![[0.8, 0.3], [-0.5, -0.9]];
    let path = model.rollout(y0.view(), 500).unwrap();
    for r in 0..2 {
        let e0 = energy(y0[[r, 0]], y0[[r, 1]]);
        let worst = (0..=500)
            .map(|k| (energy(path[[k, r, 0]], path[[k, r, 1]]) - e0).abs() / e0)
            .fold(0.0, f64::max);
        eprintln!("start {r}: worst relative energy error {worst:e}, one-step MSE {loss:e}");
        assert!(worst < 0.05, "start {r}: relative energy error {worst}");
    }
}

#[test]
fn sympnet_models_save_and_load_identically() {
    let dir = std::env::temp_dir().join(format!("liouville-sympnet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let x = ndarray::array![[0.3, -0.2, 0.1, 0.5], [1.5, 0.7, -0.4, 0.0]];
    for (name, model) in [
        ("la", SympNetModel::la(2, 3, 2, Activation::Sigmoid, 0.05, 1).unwrap()),
        ("g", SympNetModel::g(2, 4, 8, Activation::Tanh, 0.05, 2).unwrap()),
    ] {
        let path = dir.join(format!("{name}.safetensors"));
        model.save(&path).unwrap();
        let back = SympNetModel::load(&path).unwrap();
        assert_eq!(model.step(x.view()).unwrap(), back.step(x.view()).unwrap());
        assert_eq!(back.dt(), 0.05);
        assert_eq!(model.rollout(x.view(), 3).unwrap().shape(), &[4, 2, 4]);
    }
    assert!(SympNetModel::g(1, 2, 4, Activation::Tanh, -0.1, 0).is_err());
    assert!(SympNetModel::load(&dir.join("missing.safetensors")).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
