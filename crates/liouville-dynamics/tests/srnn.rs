//! Symplectic RNNs: parameter gradients through multi-step leapfrog against finite differences
//! (f64), learning the pendulum from noisy windows, rollouts through a splitting integrator,
//! checkpoints and bad input.

use liouville_dynamics::models::DynamicsModel;
use liouville_dynamics::neural_ode::windows;
use liouville_dynamics::srnn::{LeapfrogLoss, SeparableNet, Srnn};
use liouville_integrate::fixed::{FixedGrid, integrate};
use liouville_integrate::splitting::{Splitting, SymplecticMethod};
use liouville_sim::dataset::{DatasetSpec, Shard, SystemSpec, generate};
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::testing::{GradientCheck, check_parameter_gradients, parameter_gradients};
use liouville_tensor::train::{Loss, Supervised, TrainConfig};
use liouville_tensor::{Activation, Init, Mlp};
use ndarray::{Array2, Axis};

type Batch = Supervised<f64, Cpu>;

fn problem() -> (SeparableNet<f64, Cpu>, Batch) {
    let dev = Cpu::default();
    let net = SeparableNet {
        kinetic: Mlp::new(&dev, &[1, 8, 8, 1], Activation::Tanh, Init::Orthogonal, 3).unwrap(),
        potential: Mlp::new(&dev, &[1, 8, 8, 1], Activation::Softplus, Init::Xavier, 4).unwrap(),
    };
    let x: Vec<f64> = (0..5)
        .flat_map(|i| [0.4 * i as f64 - 0.9, 0.6 - 0.3 * i as f64])
        .collect();
    let y: Vec<f64> = (0..5 * 6).map(|i| (i as f64 * 0.37).sin()).collect();
    let batch = Supervised {
        inputs: dev.tensor_from_vec(x, (5, 2)),
        targets: dev.tensor_from_vec(y, (5, 6)),
    };
    (net, batch)
}

#[test]
fn leapfrog_gradients_match_finite_differences() {
    let (mut net, batch) = problem();
    let loss = LeapfrogLoss {
        interval: 0.3,
        substeps: 3,
    };
    let report = check_parameter_gradients(&mut net, &loss, &batch, GradientCheck::default()).unwrap();
    assert!(report.worst < 1e-7, "{report:?}");
    // The check has something to bite on: most checked entries have a non-trivial gradient.
    let mut grads = loss.loss(&net, &batch, OwnedTape::default()).unwrap().backward();
    let checked = parameter_gradients(&net, &mut grads)
        .unwrap()
        .iter()
        .flat_map(|g| [g[0], g[g.len() / 2], g[g.len() - 1]])
        .filter(|v| v.abs() > 1e-6)
        .count();
    assert!(checked > 10, "only {checked} non-trivial gradients checked");
}

/// Noisy pendulum windows (σ = 0.05): the SRNN learns a Hamiltonian whose leapfrog rollouts keep
/// the true energy near its start, beside the held-out truth.
#[test]
fn the_srnn_learns_the_pendulum_from_noisy_windows() {
    let spec = DatasetSpec::new(SystemSpec::hnn_pendulum(), 30, 31, 3.0)
        .noise(0.05)
        .seed(6);
    let ds = generate(&spec, Shard::whole(), false).unwrap();
    let data = windows(&ds, &ds.train_indices(), 5).unwrap();
    let mut model = Srnn::new(2, &[32, 32], 0.1, 2, 0).unwrap();
    let cfg = TrainConfig {
        steps: 600,
        batch_size: 128,
        learning_rate: 3e-3,
        eval_every: 100,
        ..TrainConfig::default()
    };
    let report = model.fit(&data, &cfg).unwrap();
    let (first, last) = (report.train_curve[0].1, report.train_curve.last().unwrap().1);
    assert!(last < first / 5.0, "loss {first:e} → {last:e}");
    // The learned field against the true one, (2p, −3 sin q), on held-out clean states.
    let test: Vec<usize> = ds.test_indices();
    let states = ds.states.select(Axis(0), &test);
    let flat = states.into_shape_with_order((test.len() * 31, 2)).unwrap();
    let f = model.field(flat.view()).unwrap();
    let truth = Array2::from_shape_fn(flat.dim(), |(r, c)| {
        if c == 0 {
            2.0 * flat[[r, 1]]
        } else {
            -3.0 * flat[[r, 0]].sin()
        }
    });
    let rel = (&f - &truth).mapv(|v| v * v).sum() / truth.mapv(|v| v * v).sum();
    eprintln!("SRNN: loss {first:e} → {last:e}, relative field error {rel:e}");
    assert!(rel < 0.02, "relative field error {rel}");
    // Yoshida-4 rollouts of the learned H: the true energy stays near its start over t = 20.
    let y0 = ndarray::array![[0.9, 0.2], [-0.4, 1.1]];
    let grid = FixedGrid::spanning(0.0, 20.0, 0.05).unwrap();
    let sol = integrate(
        &Splitting::new(model.clone(), SymplecticMethod::Yoshida4),
        &grid,
        y0.view(),
        40,
    )
    .unwrap();
    let energy = |q: f64, p: f64| 3.0 * (1.0 - q.cos()) + p * p;
    for r in 0..2 {
        let e0 = energy(y0[[r, 0]], y0[[r, 1]]);
        let worst = sol
            .states
            .index_axis(Axis(1), r)
            .rows()
            .into_iter()
            .map(|s| (energy(s[0], s[1]) - e0).abs() / e0)
            .fold(0.0, f64::max);
        assert!(worst < 0.1, "start {r}: relative energy error {worst}");
    }
}

#[test]
fn srnn_save_load_and_bad_input() {
    let model = Srnn::new(4, &[8], 0.1, 3, 2).unwrap();
    let dir = std::env::temp_dir().join(format!("liouville-srnn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("srnn.safetensors");
    model.save(&path).unwrap();
    let back = Srnn::load(&path).unwrap();
    let x = ndarray::array![[0.3, -0.2, 0.1, 0.5], [1.5, 0.7, -0.4, 0.0]];
    assert_eq!(model.field(x.view()).unwrap(), back.field(x.view()).unwrap());
    assert_eq!(model.energy(x.view()).unwrap(), back.energy(x.view()).unwrap());
    assert_eq!(back.leapfrog_loss(), model.leapfrog_loss());
    assert!(model.field(ndarray::array![[1.0, 2.0]].view()).is_err());
    assert!(Srnn::new(3, &[8], 0.1, 1, 0).is_err());
    assert!(Srnn::new(2, &[8], 0.0, 1, 0).is_err());
    let (net, batch) = problem();
    let wrong = Cpu::default().tensor_from_vec(vec![0.0; 5 * 5], (5, 5));
    let loss = LeapfrogLoss {
        interval: 0.1,
        substeps: 1,
    };
    let bad = Supervised {
        inputs: batch.inputs,
        targets: wrong,
    };
    assert!(loss.loss(&net, &bad, NoneTape).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
