//! Neural ODEs: adjoint gradients against backprop through RK4 (to round-off in f64),
//! backprop against finite differences, training on a spiral, checkpoints and bad input.

use liouville_dynamics::models::DynamicsModel;
use liouville_dynamics::neural_ode::{LeapfrogOde, NeuralOde, OdeGradient, PartitionedNet, TrajectoryLoss, windows};
use liouville_dynamics::srnn::LeapfrogLoss;
use liouville_sim::dataset::{DatasetSpec, Shard, SystemSpec, generate};
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::testing::{GradientCheck, check_parameter_gradients, parameter_gradients};
use liouville_tensor::train::{Loss, Supervised, TrainConfig};
use liouville_tensor::{Activation, Init, Mlp};

type Net = Mlp<f64, Cpu>;
type Batch = Supervised<f64, Cpu>;

fn problem() -> (Net, Batch) {
    let dev = Cpu::default();
    let net = Mlp::new(&dev, &[2, 12, 12, 2], Activation::Tanh, Init::Orthogonal, 7).unwrap();
    let x: Vec<f64> = (0..6)
        .flat_map(|i| [0.3 * i as f64 - 0.8, 0.5 - 0.2 * i as f64])
        .collect();
    // Three observations per row of a slowly rotating target.
    let y: Vec<f64> = (0..6)
        .flat_map(|i| {
            let (q, p) = (0.3 * i as f64 - 0.8, 0.5 - 0.2 * i as f64);
            (1..=3).flat_map(move |j| {
                let t = 0.25 * j as f64;
                [q * t.cos() + p * t.sin(), p * t.cos() - q * t.sin()]
            })
        })
        .collect();
    let batch = Supervised {
        inputs: dev.tensor_from_vec(x, (6, 2)),
        targets: dev.tensor_from_vec(y, (6, 6)),
    };
    (net, batch)
}

fn gradients(net: &Net, loss: &TrajectoryLoss, batch: &Batch) -> (f64, Vec<f64>) {
    let l = loss.loss(net, batch, OwnedTape::default()).unwrap();
    let value = l.as_vec()[0];
    let mut g = l.backward();
    (value, parameter_gradients(net, &mut g).unwrap().concat())
}

fn loss_with(gradient: OdeGradient, substeps: usize) -> TrajectoryLoss {
    TrajectoryLoss {
        interval: 0.25,
        substeps,
        gradient,
    }
}

#[test]
fn adjoint_gradients_equal_backprop_gradients_to_round_off() {
    let (net, batch) = problem();
    let (lb, gb) = gradients(&net, &loss_with(OdeGradient::Backprop, 25), &batch);
    let (la, ga) = gradients(&net, &loss_with(OdeGradient::Adjoint, 25), &batch);
    assert!((lb - la).abs() < 1e-12, "losses {lb} vs {la}");
    let scale = gb.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(scale > 1e-3, "a non-trivial gradient ({scale})");
    let worst = gb.iter().zip(&ga).map(|(b, a)| (b - a).abs()).fold(0.0, f64::max);
    // Measured: 9.4e-14 against a largest component of 3.4e-2 (2.8e-12 relative); the bound
    // leaves a margin of ≈ 10 for round-off that differs between machines.
    assert!(
        worst < 3e-11 * scale,
        "adjoint vs backprop: worst {worst:e} (scale {scale})"
    );
    // The agreement is a discretisation effect: with coarse steps the two differ visibly.
    let (_, gb1) = gradients(&net, &loss_with(OdeGradient::Backprop, 1), &batch);
    let (_, ga1) = gradients(&net, &loss_with(OdeGradient::Adjoint, 1), &batch);
    let coarse = gb1.iter().zip(&ga1).map(|(b, a)| (b - a).abs()).fold(0.0, f64::max);
    eprintln!("adjoint vs backprop: fine {worst:e}, coarse {coarse:e}, scale {scale:e}");
    assert!(coarse > 10.0 * worst, "coarse {coarse:e} vs fine {worst:e}");
}

#[test]
fn backprop_through_rk4_matches_finite_differences() {
    let (mut net, batch) = problem();
    let loss = loss_with(OdeGradient::Backprop, 4);
    let report = check_parameter_gradients(&mut net, &loss, &batch, GradientCheck::default()).unwrap();
    assert!(report.worst < 1e-7, "{report:?}");
}

/// A damped linear spiral ẋ = A x (Chen et al.'s demonstration), learned from windows of
/// observations only, through the adjoint: the rollout follows the true spiral.
#[test]
fn adjoint_training_learns_a_spiral_from_trajectories() {
    let system = SystemSpec::MassSpring {
        mass: 1.0,
        stiffness: 1.0,
        radius: (0.5, 1.2),
    };
    let ds = generate(&DatasetSpec::new(system, 12, 21, 3.0).seed(3), Shard::whole(), false).unwrap();
    let data = windows(&ds, &(0..12).collect::<Vec<_>>(), 2).unwrap();
    assert_eq!(data.target_width, 4);
    // The gradient the training follows points where the exact one does: at the training
    // settings (2 substeps) the adjoint's gradient is within 1e-7 of backprop's (measured 1.8e-9), the exact
    // gradient of the discrete loss (checked against finite differences above); a wrong sign or
    // a missing term in the adjoint would turn it away.
    let dev = Cpu::default();
    let net = Mlp::<f64, Cpu>::new(&dev, &[2, 32, 2], Activation::Tanh, Init::Orthogonal, 1).unwrap();
    let rows = data.rows();
    let batch = Supervised {
        inputs: dev.tensor_from_vec(data.inputs.clone(), (rows, data.input_width)),
        targets: dev.tensor_from_vec(data.targets.clone(), (rows, data.target_width)),
    };
    let training_loss = |gradient| TrajectoryLoss {
        interval: 0.15,
        substeps: 2,
        gradient,
    };
    let (_, exact) = gradients(&net, &training_loss(OdeGradient::Backprop), &batch);
    let (_, adjoint) = gradients(&net, &training_loss(OdeGradient::Adjoint), &batch);
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let cosine = dot(&exact, &adjoint) / (dot(&exact, &exact) * dot(&adjoint, &adjoint)).sqrt();
    let relative = exact
        .iter()
        .zip(&adjoint)
        .map(|(e, a)| (e - a).abs())
        .fold(0.0, f64::max)
        / exact.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    eprintln!("spiral: adjoint vs exact gradient, cosine {cosine}, relative {relative:e}");
    assert!(
        cosine > 0.999_999 && relative < 1e-7,
        "cosine {cosine}, relative {relative:e}"
    );
    let mut ode = NeuralOde::new(2, &[32], 0.15, 2, OdeGradient::Adjoint, 1).unwrap();
    let before = ode.field(ndarray::array![[1.0, 0.0]].view()).unwrap();
    let cfg = TrainConfig {
        steps: 400,
        batch_size: 64,
        learning_rate: 1e-2,
        ..TrainConfig::default()
    };
    let report = ode.fit(&data, &cfg).unwrap();
    let first = report.train_curve.first().unwrap().1;
    let last = report.train_curve.last().unwrap().1;
    assert!(last < first / 20.0, "loss {first:e} → {last:e}");
    // The learned field near (1, 0) approaches the true (q̇, ṗ) = (p, -q) = (0, -1).
    let after = ode.field(ndarray::array![[1.0, 0.0]].view()).unwrap();
    let err = |f: &ndarray::Array2<f64>| (f[[0, 0]]).hypot(f[[0, 1]] + 1.0);
    assert!(
        err(&after) < 0.1 && err(&after) < err(&before),
        "field {after:?} (was {before:?})"
    );
}

#[test]
fn save_load_predicts_identically_and_keeps_solver_settings() {
    let ode = NeuralOde::new(2, &[8, 8], 0.1, 3, OdeGradient::Backprop, 5).unwrap();
    let dir = std::env::temp_dir().join(format!("liouville-node-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("node.safetensors");
    ode.save(&path).unwrap();
    let back = NeuralOde::load(&path).unwrap();
    let x = ndarray::array![[0.3, -0.2], [1.5, 0.7]];
    assert_eq!(ode.field(x.view()).unwrap(), back.field(x.view()).unwrap());
    assert_eq!(ode.trajectory_loss(), back.trajectory_loss());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_shapes_and_settings_are_typed_errors() {
    let (net, batch) = problem();
    let wrong = Cpu::default().tensor_from_vec(vec![0.0; 6 * 5], (6, 5));
    for gradient in [OdeGradient::Backprop, OdeGradient::Adjoint] {
        let bad = Supervised {
            inputs: batch.inputs.clone(),
            targets: wrong.clone(),
        };
        assert!(loss_with(gradient, 2).loss(&net, &bad, NoneTape).is_err());
        let zero = TrajectoryLoss {
            interval: -0.1,
            substeps: 2,
            gradient,
        };
        assert!(zero.loss(&net, &batch, NoneTape).is_err());
    }
    assert!(NeuralOde::new(2, &[4], 0.0, 1, OdeGradient::Adjoint, 0).is_err());
}

/// The partitioned neural ODE: gradients through multi-step leapfrog against finite differences
/// (f64), and it learns the pendulum's v(p) = 2p and a(q) = −3 sin q from windows alone.
#[test]
fn leapfrog_ode_gradients_match_finite_differences_and_it_learns_the_pendulum() {
    let dev = Cpu::default();
    let mut net = PartitionedNet {
        velocity: Mlp::<f64, Cpu>::new(&dev, &[1, 8, 1], Activation::Tanh, Init::Orthogonal, 1).unwrap(),
        acceleration: Mlp::<f64, Cpu>::new(&dev, &[1, 8, 1], Activation::Sin, Init::Xavier, 2).unwrap(),
    };
    let (_, batch) = problem();
    let loss = LeapfrogLoss {
        interval: 0.25,
        substeps: 3,
    };
    let report = check_parameter_gradients(&mut net, &loss, &batch, GradientCheck::default()).unwrap();
    assert!(report.worst < 1e-7, "{report:?}");

    let ds = generate(
        &DatasetSpec::new(liouville_sim::dataset::SystemSpec::hnn_pendulum(), 30, 31, 3.0).seed(5),
        Shard::whole(),
        false,
    )
    .unwrap();
    let data = windows(&ds, &(0..30).collect::<Vec<_>>(), 3).unwrap();
    let mut ode = LeapfrogOde::new(2, &[32], 0.1, 2, 0).unwrap();
    let untrained = ode.clone();
    let cfg = TrainConfig {
        steps: 2000,
        batch_size: 128,
        learning_rate: 5e-3,
        schedule: liouville_tensor::optim::Schedule::Cosine {
            warmup: 0,
            total: 2000,
            min_factor: 0.02,
        },
        eval_every: 2000,
        ..TrainConfig::default()
    };
    ode.fit(&data, &cfg).unwrap();
    // Probes inside the training annulus (radius 1.3–2.3 in (q, p)).
    let probe = ndarray::array![[1.2, -0.9], [-0.8, 1.5]];
    let f = ode.field(probe.view()).unwrap();
    for r in 0..2 {
        let (v, a) = (2.0 * probe[[r, 1]], -3.0 * probe[[r, 0]].sin());
        // Trajectory windows pin the flow, not v and a separately: errors in the two trade
        // against each other by several per cent.
        assert!(
            (f[[r, 0]] - v).abs() < 0.1 * v.abs().max(1.0),
            "v at row {r}: {} vs {v}",
            f[[r, 0]]
        );
        assert!(
            (f[[r, 1]] - a).abs() < 0.1 * a.abs().max(1.0),
            "a at row {r}: {} vs {a}",
            f[[r, 1]]
        );
    }
    // The flow itself: held-out starts rolled out to t = 1 land on the true states.
    let held_out = generate(
        &DatasetSpec::new(liouville_sim::dataset::SystemSpec::hnn_pendulum(), 5, 11, 1.0).seed(9),
        Shard::whole(),
        false,
    )
    .unwrap();
    let solver = liouville_integrate::adaptive::Adaptive::new(liouville_integrate::adaptive::AdaptiveMethod::Dop853)
        .rtol(1e-6)
        .atol(1e-6)
        .build()
        .unwrap();
    let end = held_out.states.index_axis(ndarray::Axis(1), 10);
    let error_at_one = |model: &LeapfrogOde| {
        let sol = solver
            .solve(
                &liouville_dynamics::rollout::LearnedField(model),
                0.0,
                1.0,
                held_out.initial_conditions.view(),
                liouville_integrate::adaptive::Output::Final,
            )
            .unwrap();
        (&sol.states.index_axis(ndarray::Axis(0), 1) - &end)
            .mapv(f64::abs)
            .fold(0.0, |m: f64, &v| m.max(v))
    };
    let (err, before) = (error_at_one(&ode), error_at_one(&untrained));
    assert!(
        err < 0.2 && err < before / 5.0,
        "largest state error at t = 1: {err} (untrained {before})"
    );
    let dir = std::env::temp_dir().join(format!("liouville-lfode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    ode.save(&dir.join("lf.safetensors")).unwrap();
    let back = LeapfrogOde::load(&dir.join("lf.safetensors")).unwrap();
    assert_eq!(back.field(probe.view()).unwrap(), f);
    std::fs::remove_dir_all(&dir).unwrap();
}
