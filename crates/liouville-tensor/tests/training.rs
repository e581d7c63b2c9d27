//! Optimisers, schedules, checkpoints (acceptance 3), the training loop, and the segment sum.

use dfdx::prelude::*;
use liouville_tensor::checkpoint;
use liouville_tensor::optim::{Optimizer, OptimizerState, Schedule};
use liouville_tensor::segment::segment_sum;
use liouville_tensor::train::{Examples, Hamiltonian, Regression, TrainConfig, train};
use liouville_tensor::{Activation, Init, Mlp, TensorError};

fn tempdir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("liouville-tensor-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Oscillator data H = q² + p²: inputs (q, p), targets (q̇, ṗ) = (2p, -2q).
fn oscillator(n: usize) -> Examples {
    let mut x = Vec::new();
    let mut y = Vec::new();
    for i in 0..n {
        let (r, th) = (0.2 + 0.8 * ((i * 7919) % 97) as f64 / 97.0, i as f64 * 2.399);
        let (q, p) = (r * th.cos(), r * th.sin());
        x.extend([q, p]);
        y.extend([2.0 * p, -2.0 * q]);
    }
    Examples::new(x, 2, y, 2).unwrap()
}

#[test]
fn every_optimiser_fits_a_linear_map() {
    let dev = Cpu::default();
    // y = 3x₁ - 2x₂ + 0.5
    let xs: Vec<f64> = (0..64)
        .flat_map(|i| [(i as f64 * 0.37).sin(), (i as f64 * 0.91).cos()])
        .collect();
    let ys: Vec<f64> = xs.chunks(2).map(|c| 3.0 * c[0] - 2.0 * c[1] + 0.5).collect();
    let data = Examples::new(xs, 2, ys, 1).unwrap();
    for (opt, lr) in [
        (Optimizer::adam(0.0), 0.05),
        (Optimizer::adamw(1e-4), 0.05),
        (
            Optimizer::Sgd {
                momentum: 0.9,
                nesterov: false,
                weight_decay: 0.0,
            },
            0.05,
        ),
        (
            Optimizer::Sgd {
                momentum: 0.9,
                nesterov: true,
                weight_decay: 0.0,
            },
            0.05,
        ),
    ] {
        let mut model = Mlp::<f64, Cpu>::new(&dev, &[2, 1], Activation::Tanh, Init::Xavier, 1).unwrap();
        let cfg = TrainConfig {
            steps: 600,
            batch_size: 64,
            learning_rate: lr,
            optimizer: opt,
            eval_every: 600,
            ..TrainConfig::default()
        };
        let report = train(&mut model, &data, &Regression, &cfg).unwrap();
        let w = model.weights[0].as_vec();
        let b = model.biases[0].as_vec()[0];
        assert!(
            (w[0] - 3.0).abs() < 1e-2 && (w[1] + 2.0).abs() < 1e-2 && (b - 0.5).abs() < 1e-2,
            "{opt:?}: w {w:?} b {b}, {report:?}"
        );
    }
}

#[test]
fn schedules_have_the_documented_shape() {
    let cos = Schedule::Cosine {
        warmup: 10,
        total: 110,
        min_factor: 0.1,
    };
    assert!((cos.factor(0) - 0.1).abs() < 1e-12 && (cos.factor(9) - 1.0).abs() < 1e-12);
    assert!((cos.factor(60) - 0.55).abs() < 1e-12);
    assert!((cos.factor(110) - 0.1).abs() < 1e-12);
    let one = Schedule::OneCycle {
        total: 100,
        pct_start: 0.3,
        div_factor: 25.0,
        final_div_factor: 1e4,
    };
    assert!((one.factor(0) - 1.0 / 25.0).abs() < 1e-12);
    assert!((one.factor(30) - 1.0).abs() < 1e-12);
    assert!((one.factor(100) - 1.0 / 25e4).abs() < 1e-12);
    assert_eq!(Schedule::Constant.factor(12345), 1.0);
}

#[test]
fn clipping_bounds_the_step_and_reports_the_norm() {
    let dev = Cpu::default();
    let mut model = Mlp::<f64, Cpu>::new(&dev, &[2, 4, 1], Activation::Tanh, Init::Xavier, 2).unwrap();
    let before = model.weights[0].as_vec();
    let mut opt = OptimizerState::new(
        Optimizer::Sgd {
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        },
        &model,
    )
    .unwrap();
    let x = dev.tensor_from_vec(vec![1.0, 2.0, -1.0, 0.5], (2, 2));
    let y = dev.tensor_from_vec(vec![100.0, -100.0], (2, 1));
    let loss = (model.forward(&x, OwnedTape::default()).unwrap() - y).square().mean();
    let mut grads = loss.backward();
    let info = opt.update(&mut model, &mut grads, 1.0, Some(0.5)).unwrap();
    assert!(info.gradient_norm > 0.5);
    let moved: f64 = model.weights[0]
        .as_vec()
        .iter()
        .zip(&before)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>();
    assert!(moved.sqrt() <= 0.5 + 1e-12, "clipped step moved {}", moved.sqrt());
    assert!(
        OptimizerState::new(
            Optimizer::Sgd {
                momentum: 1.5,
                nesterov: false,
                weight_decay: 0.0
            },
            &model
        )
        .is_err()
    );
}

#[test]
fn checkpoints_round_trip_bit_identically_and_reject_bad_files() {
    let dev = Cpu::default();
    let dir = tempdir("ckpt");
    for act in [Activation::Tanh, Activation::Softplus] {
        let model = Mlp::<f64, Cpu>::new(&dev, &[2, 16, 8, 1], act, Init::Orthogonal, 9).unwrap();
        let path = dir.join("m.safetensors");
        checkpoint::save(&model, &path, None).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let (back, meta) = checkpoint::load::<f64, Cpu, Mlp<f64, Cpu>>(&dev, &path).unwrap();
        assert_eq!(meta.kind, "mlp");
        assert_eq!(back.widths(), &[2, 16, 8, 1]);
        assert_eq!(back.activation(), act);
        for (a, b) in model.weights.iter().zip(&back.weights) {
            assert_eq!(a.as_vec(), b.as_vec());
        }
        checkpoint::save(&back, &path, None).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "save -> load -> save changed the bytes"
        );
        // Recording provenance changes the header only: the same weights load, the digest holds.
        let provenance = checkpoint::Provenance {
            system: "pendulum".into(),
            state_labels: vec!["q".into(), "p".into()],
        };
        checkpoint::record_provenance(&path, provenance.clone()).unwrap();
        let (annotated, meta) = checkpoint::load::<f64, Cpu, Mlp<f64, Cpu>>(&dev, &path).unwrap();
        assert_eq!(meta.trained_on, Some(provenance));
        for (a, b) in model.weights.iter().zip(&annotated.weights) {
            assert_eq!(a.as_vec(), b.as_vec());
        }
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(checkpoint::read_header(&path).unwrap().trained_on, None);
        // One flipped bit in a weight is caught by the digest, not loaded.
        let mut flipped = bytes.clone();
        let at = flipped.len() - 8; // the lowest mantissa byte of the last f64
        flipped[at] ^= 1;
        match checkpoint::from_safetensors::<f64, Cpu, Mlp<f64, Cpu>>(&dev, &flipped, &path) {
            Err(TensorError::Checkpoint { message, .. }) => assert!(message.contains("digest"), "{message}"),
            other => panic!("a flipped weight loaded: {other:?}"),
        }
        // Truncations are errors, never panics.
        for len in [0, 7, 8, 100, bytes.len() / 2, bytes.len() - 1] {
            assert!(
                checkpoint::from_safetensors::<f64, Cpu, Mlp<f64, Cpu>>(&dev, &bytes[..len], &path).is_err(),
                "truncated to {len}"
            );
        }
        // A f64 checkpoint does not load as f32, nor into another architecture: typed errors
        // naming what differs.
        match checkpoint::load::<f32, Cpu, Mlp<f32, Cpu>>(&dev, &path) {
            Err(TensorError::CheckpointMismatch {
                field, expected, found, ..
            }) => {
                assert_eq!(
                    (field.as_str(), expected.as_str(), found.as_str()),
                    ("dtype", "F32", "F64")
                )
            }
            other => panic!("{other:?}"),
        }
        let mut narrower = Mlp::<f64, Cpu>::new(&dev, &[2, 16, 1], act, Init::Orthogonal, 0).unwrap();
        let before = narrower.weights[0].as_vec();
        match checkpoint::load_into(&mut narrower, &path) {
            Err(TensorError::CheckpointMismatch { field, .. }) => {
                assert!(field.starts_with("config.widths"), "{field}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(narrower.weights[0].as_vec(), before, "a refused load changed the model");
    }
    let f32_model = Mlp::<f32, Cpu>::new(&dev, &[3, 5, 1], Activation::Sin, Init::Xavier, 1).unwrap();
    let p32 = dir.join("f32.safetensors");
    checkpoint::save(&f32_model, &p32, None).unwrap();
    let (back32, _) = checkpoint::load::<f32, Cpu, Mlp<f32, Cpu>>(&dev, &p32).unwrap();
    assert_eq!(back32.weights[1].as_vec(), f32_model.weights[1].as_vec());
    assert!(matches!(
        checkpoint::load::<f64, Cpu, Mlp<f64, Cpu>>(&dev, &dir.join("missing.safetensors")),
        Err(TensorError::Io { .. })
    ));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn training_an_hnn_reduces_the_loss_and_writes_metrics_and_checkpoints() {
    let dev = Cpu::default();
    let dir = tempdir("train");
    let mut model = Mlp::<f64, Cpu>::new(&dev, &[2, 32, 32, 1], Activation::Tanh, Init::Orthogonal, 0).unwrap();
    let cfg = TrainConfig {
        steps: 400,
        batch_size: 32,
        learning_rate: 3e-3,
        schedule: Schedule::Cosine {
            warmup: 20,
            total: 400,
            min_factor: 0.1,
        },
        validation_fraction: 0.25,
        eval_every: 50,
        checkpoint: Some(dir.join("best.safetensors")),
        metrics: Some(dir.join("metrics.jsonl")),
        ..TrainConfig::default()
    };
    let report = train(&mut model, &oscillator(128), &Hamiltonian, &cfg).unwrap();
    let (first, last) = (report.validation_curve[0].1, report.validation_curve.last().unwrap().1);
    assert!(last < first / 10.0, "validation loss {first} -> {last}");
    let lines = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 8);
    assert!(
        lines
            .lines()
            .all(|l| l.starts_with("{\"step\":") && l.contains("validation_loss"))
    );
    let (best, meta) = checkpoint::load::<f64, Cpu, Mlp<f64, Cpu>>(&dev, &dir.join("best.safetensors")).unwrap();
    assert!(meta.step.is_some_and(|s| s % 50 == 0), "{meta:?}");
    assert_eq!(meta.kind, "mlp");
    assert_eq!(best.widths(), model.widths());
    std::fs::remove_dir_all(dir).unwrap();
}

/// Training in stages with `schedule_offset` follows one schedule: the learning rates logged by
/// the second stage continue where the first stopped.
#[test]
fn staged_training_continues_the_schedule() {
    let dev = Cpu::default();
    let dir = tempdir("stages");
    let mut model = Mlp::<f64, Cpu>::new(&dev, &[2, 8, 1], Activation::Tanh, Init::Orthogonal, 0).unwrap();
    let schedule = Schedule::Cosine {
        warmup: 0,
        total: 100,
        min_factor: 0.0,
    };
    let stage = |offset: usize, name: &str| TrainConfig {
        steps: 50,
        batch_size: 16,
        learning_rate: 1e-2,
        schedule,
        schedule_offset: offset,
        eval_every: 10,
        metrics: Some(dir.join(name)),
        ..TrainConfig::default()
    };
    train(&mut model, &oscillator(64), &Hamiltonian, &stage(0, "a.jsonl")).unwrap();
    train(&mut model, &oscillator(64), &Hamiltonian, &stage(50, "b.jsonl")).unwrap();
    let rates = |name: &str| -> Vec<f64> {
        std::fs::read_to_string(dir.join(name))
            .unwrap()
            .lines()
            .map(|l| {
                l.split("\"learning_rate\":")
                    .nth(1)
                    .unwrap()
                    .trim_end_matches('}')
                    .parse()
                    .unwrap()
            })
            .collect()
    };
    let (a, b) = (rates("a.jsonl"), rates("b.jsonl"));
    // Logged at steps 10, 20, ..., 50 of each stage: the rate at global step s is 1e-2·factor(s − 1).
    for (k, lr) in a.iter().chain(&b).enumerate() {
        let expected = 1e-2 * schedule.factor(10 * (k + 1) - 1);
        assert!((lr - expected).abs() < 1e-12, "log {k}: {lr} vs {expected}");
    }
    assert!(
        b[0] < a[4] && b[4] < 1e-4,
        "the second stage continues the decay: {a:?} {b:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn divergence_stops_with_an_error_and_keeps_the_last_good_checkpoint() {
    let dev = Cpu::default();
    let dir = tempdir("diverge");
    let path = dir.join("best.safetensors");
    let mut model = Mlp::<f64, Cpu>::new(&dev, &[2, 16, 1], Activation::Softplus, Init::Xavier, 0).unwrap();
    // A sane phase that writes a checkpoint, then an absurd learning rate that overflows.
    let sane = TrainConfig {
        steps: 20,
        batch_size: 16,
        learning_rate: 1e-3,
        eval_every: 10,
        checkpoint: Some(path.clone()),
        ..TrainConfig::default()
    };
    train(&mut model, &oscillator(64), &Hamiltonian, &sane).unwrap();
    let good = std::fs::read(&path).unwrap();
    let crazy = TrainConfig {
        learning_rate: 1e300,
        optimizer: Optimizer::Sgd {
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        },
        ..sane
    };
    let err = train(&mut model, &oscillator(64), &Hamiltonian, &crazy).unwrap_err();
    assert!(matches!(err, TensorError::NonFinite { .. }), "{err:?}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        good,
        "the last good checkpoint was overwritten"
    );
    checkpoint::load::<f64, Cpu, Mlp<f64, Cpu>>(&dev, &path).unwrap();
    // Bad data is refused up front.
    assert!(Examples::new(vec![f64::NAN, 1.0], 2, vec![0.0, 0.0], 2).is_err());
    assert!(Examples::new(vec![1.0, 1.0, 1.0], 2, vec![0.0, 0.0], 2).is_err());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn early_stopping_ends_a_stalled_run() {
    let dev = Cpu::default();
    let mut model = Mlp::<f64, Cpu>::new(&dev, &[2, 8, 1], Activation::Tanh, Init::Xavier, 0).unwrap();
    let cfg = TrainConfig {
        steps: 10_000,
        batch_size: 16,
        learning_rate: 1e-12,
        validation_fraction: 0.25,
        eval_every: 10,
        patience: Some(3),
        ..TrainConfig::default()
    };
    let report = train(&mut model, &oscillator(64), &Hamiltonian, &cfg).unwrap();
    assert!(report.stopped_early && report.steps < 10_000, "{report:?}");
}

#[test]
fn segment_sum_forward_and_backward_match_finite_differences() {
    let dev = Cpu::default();
    let ids = [0usize, 2, 2, 1, 0, 2];
    let xs: Vec<f64> = (0..18).map(|i| (i as f64 * 0.7).sin()).collect();
    let x = dev.tensor_from_vec(xs.clone(), (6, 3));
    let out = segment_sum(x.clone(), &ids, 3).unwrap();
    let o = out.as_vec();
    for f in 0..3 {
        assert!((o[2 * 3 + f] - (xs[3 + f] + xs[6 + f] + xs[15 + f])).abs() < 1e-15);
    }
    // Loss = Σ w ⊙ tanh(segment_sum(x)) with weights w; compare ∂L/∂x with central differences.
    let w: Vec<f64> = (0..9).map(|i| 1.0 + i as f64 * 0.1).collect();
    let loss_of = |x: &[f64]| -> f64 {
        let out = segment_sum(dev.tensor_from_vec(x.to_vec(), (6, 3)), &ids, 3)
            .unwrap()
            .as_vec();
        out.iter().zip(&w).map(|(o, w)| w * o.tanh()).sum()
    };
    let wt = dev.tensor_from_vec(w.clone(), (3, 3));
    let l = (segment_sum(x.leaky_trace(), &ids, 3).unwrap().tanh() * wt).sum::<(), _>();
    let grads = l.backward();
    let g = grads.get(&x).as_vec();
    for i in 0..18 {
        let (mut up, mut down) = (xs.clone(), xs.clone());
        up[i] += 1e-6;
        down[i] -= 1e-6;
        let fd = (loss_of(&up) - loss_of(&down)) / 2e-6;
        assert!((fd - g[i]).abs() < 1e-8, "x[{i}]: {} vs {fd}", g[i]);
    }
    assert!(segment_sum(x.clone(), &[0, 1], 2).is_err());
    assert!(segment_sum(x, &[0, 1, 2, 3, 0, 0], 3).is_err());
}

/// A separable Hamiltonian with a learned mass matrix trains through the same loop and
/// checkpoints: data from H = p²/(2m) + 3(1 - cos q) with m = 0.5, so the learned kinetic
/// energy ½ p M p must find M = 1/m = 2.
#[test]
fn a_learned_mass_matrix_trains_and_checkpoints() {
    use liouville_tensor::Module;
    use liouville_tensor::energy::{QuadraticKinetic, Separable};
    let dev = Cpu::default();
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for i in 0..256 {
        let (q, p) = (
            ((i * 37) % 101) as f64 / 101.0 * 4.0 - 2.0,
            ((i * 53) % 97) as f64 / 97.0 * 4.0 - 2.0,
        );
        xs.extend([q, p]);
        ys.extend([p / 0.5, -3.0 * q.sin()]);
    }
    let data = Examples::new(xs, 2, ys, 2).unwrap();
    let kinetic = QuadraticKinetic::<f64, Cpu>::identity(&dev, 1, 0.0).unwrap();
    let potential = Mlp::<f64, Cpu>::new(&dev, &[1, 32, 1], Activation::Tanh, Init::Orthogonal, 1).unwrap();
    let mut h = Separable { kinetic, potential };
    assert_eq!(h.parameters().len(), 5);
    let cfg = TrainConfig {
        steps: 1500,
        batch_size: 64,
        learning_rate: 1e-2,
        eval_every: 500,
        ..TrainConfig::default()
    };
    train(&mut h, &data, &Hamiltonian, &cfg).unwrap();
    let l = h.kinetic.factor.as_vec()[0];
    assert!((l * l / 2.0 - 1.0).abs() < 0.05, "learned M = {} (expected 2)", l * l);
    let dir = tempdir("mass");
    let path = dir.join("h.safetensors");
    checkpoint::save(&h, &path, None).unwrap();
    let mut fresh = Separable {
        kinetic: QuadraticKinetic::<f64, Cpu>::identity(&dev, 1, 0.0).unwrap(),
        potential: Mlp::<f64, Cpu>::new(&dev, &[1, 32, 1], Activation::Tanh, Init::Orthogonal, 99).unwrap(),
    };
    checkpoint::load_into(&mut fresh, &path).unwrap();
    assert_eq!(fresh.kinetic.factor.as_vec(), h.kinetic.factor.as_vec());
    assert_eq!(fresh.potential.weights[0].as_vec(), h.potential.weights[0].as_vec());
    // A model of another shape is refused and left untouched.
    let mut other = Mlp::<f64, Cpu>::new(&dev, &[1, 8, 1], Activation::Tanh, Init::Xavier, 0).unwrap();
    let before = other.weights[0].as_vec();
    assert!(checkpoint::load_into(&mut other, &path).is_err());
    assert_eq!(other.weights[0].as_vec(), before);
    std::fs::remove_dir_all(dir).unwrap();
}
