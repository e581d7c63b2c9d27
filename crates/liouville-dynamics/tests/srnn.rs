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
use liouville_tensor::module::{Module, ParamMut, ParamRef};
use liouville_tensor::train::{Loss, TrainConfig};
use liouville_tensor::{Activation, Init, Mlp};
use ndarray::{Array2, Axis};

type Batch = Tensor<(usize, usize), f64, Cpu>;

fn problem() -> (SeparableNet<f64, Cpu>, Batch, Batch) {
    let dev = Cpu::default();
    let net = SeparableNet {
        kinetic: Mlp::new(&dev, &[1, 8, 8, 1], Activation::Tanh, Init::Orthogonal, 3).unwrap(),
        potential: Mlp::new(&dev, &[1, 8, 8, 1], Activation::Softplus, Init::Xavier, 4).unwrap(),
    };
    let x: Vec<f64> = (0..5)
        .flat_map(|i| [0.4 * i as f64 - 0.9, 0.6 - 0.3 * i as f64])
        .collect();
    let y: Vec<f64> = (0..5 * 6).map(|i| (i as f64 * 0.37).sin()).collect();
    (net, dev.tensor_from_vec(x, (5, 2)), dev.tensor_from_vec(y, (5, 6)))
}

#[test]
fn leapfrog_gradients_match_finite_differences() {
    let (mut net, x, y) = problem();
    let loss = LeapfrogLoss {
        interval: 0.3,
        substeps: 3,
    };
    let l = loss.loss(&net, &x, &y, OwnedTape::default()).unwrap();
    let mut grads = l.backward();
    let mut analytic = Vec::new();
    for (_, p) in net.parameters() {
        analytic.push(match p {
            ParamRef::Matrix(w) => {
                grads.try_alloc_for(w).unwrap();
                grads.get(w).as_vec()
            }
            ParamRef::Vector(b) => {
                grads.try_alloc_for(b).unwrap();
                grads.get(b).as_vec()
            }
        });
    }
    let eps = 1e-6;
    let mut checked = 0;
    for (pi, g) in analytic.iter().enumerate() {
        for k in [0, g.len() / 2, g.len() - 1] {
            let shift = |net: &mut SeparableNet<f64, Cpu>, delta: f64| {
                let mut params = net.parameters_mut();
                match &mut params[pi] {
                    ParamMut::Matrix(w) => {
                        let mut v = w.as_vec();
                        v[k] += delta;
                        **w = w.device().tensor_from_vec(v, *w.shape());
                    }
                    ParamMut::Vector(b) => {
                        let mut v = b.as_vec();
                        v[k] += delta;
                        **b = b.device().tensor_from_vec(v, *b.shape());
                    }
                }
            };
            shift(&mut net, eps);
            let plus = loss.loss(&net, &x, &y, NoneTape).unwrap().as_vec()[0];
            shift(&mut net, -2.0 * eps);
            let minus = loss.loss(&net, &x, &y, NoneTape).unwrap().as_vec()[0];
            shift(&mut net, eps);
            let fd = (plus - minus) / (2.0 * eps);
            assert!(
                (fd - g[k]).abs() < 1e-7 * (1.0 + fd.abs()),
                "parameter {pi}[{k}]: {} vs {fd}",
                g[k]
            );
            checked += usize::from(fd.abs() > 1e-6);
        }
    }
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
    let (net, x, _) = problem();
    let wrong = Cpu::default().tensor_from_vec(vec![0.0; 5 * 5], (5, 5));
    let loss = LeapfrogLoss {
        interval: 0.1,
        substeps: 1,
    };
    assert!(loss.loss(&net, &x, &wrong, NoneTape).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
