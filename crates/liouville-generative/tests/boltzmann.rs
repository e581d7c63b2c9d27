//! Boltzmann generators on bgflow's double well u = x⁴ − 4x² + y²/2 (ln Z = 5.21194, ⟨u⟩ =
//! −2.921, P(x > 0) = ½; ../shared/reference): parameter gradients of the reverse-KL and
//! likelihood losses against finite differences in f64, training by energy alone and by example
//! on Metropolis samples with importance-sampled ln Z and reweighted observables, and bad input.

use liouville_generative::boltzmann::mcmc::{MetropolisConfig, metropolis};
use liouville_generative::boltzmann::target::{DoubleWell, TargetEnergy};
use liouville_generative::boltzmann::train::{BoltzmannTrainConfig, train};
use liouville_generative::boltzmann::{BoltzmannBatch, BoltzmannLoss, draw};
use liouville_generative::flow::{RealNvp, RealNvpConfig};
use liouville_tensor::checkpoint;
use liouville_tensor::config::Configured;
use liouville_tensor::device::HostDevice;
use liouville_tensor::testing::{Entries, GradientCheck, check_parameter_gradients};
use liouville_tensor::train::{Loss, Rows};
use liouville_tensor::{TensorError, host};

type Dev = HostDevice;

/// A flow moved away from the identity: every conditioner's last layer gets random weights.
fn perturbed(dim: usize, couplings: usize, seed: u64) -> RealNvp<f64, Dev> {
    let config = RealNvpConfig::new(dim, couplings, &[8, 8], 2.0);
    let mut flow = RealNvp::<f64, Dev>::from_config(&config, &Dev::default(), seed).unwrap();
    flow.perturb_conditioners(0.6, seed).unwrap();
    flow
}

fn points(rows: usize, dim: usize, phase: f64) -> Vec<f64> {
    (0..rows * dim).map(|i| (i as f64 * 0.61 + phase).sin() * 1.3).collect()
}

fn batch(latents: bool, samples: bool) -> BoltzmannBatch<f64, Dev> {
    let dev = Dev::default();
    BoltzmannBatch {
        latents: latents.then(|| host::matrix(&dev, points(6, 2, 0.3), 6, 2)),
        samples: samples.then(|| host::matrix(&dev, points(6, 2, 2.1), 6, 2)),
    }
}

#[test]
fn reverse_kl_and_likelihood_gradients_match_finite_differences() {
    let target = DoubleWell::bgflow();
    let check = GradientCheck {
        eps: 1e-6,
        entries: Entries::All,
        floor: 1e-3,
    };
    // Affine couplings, then spline couplings after ActNorms and LU maps, whose inverse (the
    // reverse KL's path) is traced through triangular solves and spline roots.
    let glow_spline = RealNvpConfig::new(2, 3, &[8, 8], 2.0)
        .with_spline(5, 2.0)
        .with_actnorm()
        .with_lu();
    for (reverse_kl, likelihood, beta, config) in [
        (1.0, 0.0, 1.0, None),
        (1.0, 0.5, 0.3, None),
        (0.0, 1.0, 1.0, None),
        (1.0, 0.0, 1.0, Some(glow_spline.clone())),
        (1.0, 0.5, 0.3, Some(glow_spline.clone())),
    ] {
        let mut flow = match config {
            None => perturbed(2, 3, 5),
            Some(c) => {
                let mut f = RealNvp::<f64, Dev>::from_config(&c, &Dev::default(), 5).unwrap();
                f.perturb_conditioners(0.6, 5).unwrap();
                for (k, l) in f.linears_mut().iter_mut().enumerate() {
                    l.randomise(0.5, k as u64).unwrap();
                }
                f.initialise_actnorm(&host::matrix(&Dev::default(), points(8, 2, 1.7), 8, 2))
                    .unwrap();
                f
            }
        };
        let loss = BoltzmannLoss {
            target: &target,
            beta,
            reverse_kl,
            likelihood,
        };
        let b = batch(reverse_kl > 0.0, likelihood > 0.0);
        let report = check_parameter_gradients(&mut flow, &loss, &b, check).unwrap();
        assert!(report.checked > 100, "{report:?}");
        assert!(
            report.worst < 1e-5,
            "KL {reverse_kl}, ML {likelihood}, β {beta}: {report:?}"
        );
    }
}

#[test]
fn the_reverse_kl_is_bounded_below_by_minus_log_z() {
    // KL(q‖p) ≥ 0, so the β = 1 loss, E_q[u + log q], is at least −ln Z on average over latents;
    // the identity flow (q = 𝒩(0, I)) is far from p, so its loss is well above −ln Z.
    let target = DoubleWell::bgflow();
    let flow = perturbed(2, 2, 1);
    let dev = Dev::default();
    let z = liouville_generative::flow::standard_normal_latents(&dev, 4096, 2, 3, 0);
    let loss = BoltzmannLoss {
        target: &target,
        beta: 1.0,
        reverse_kl: 1.0,
        likelihood: 0.0,
    };
    let b = BoltzmannBatch {
        latents: Some(z),
        samples: None,
    };
    let value = host::values(&loss.loss(&flow, &b, liouville_tensor::dfdx::prelude::NoneTape).unwrap())[0];
    assert!(value > -5.21194 + 0.3, "{value}");
    // The same number by importance weights: E_q[log q − (−u)] = −E_q[log w].
    let s = draw(&flow, &target, &dev, 4096, 3, 0).unwrap();
    let mean_log_w = s.log_weights.mean().unwrap();
    assert!((value + mean_log_w).abs() < 1e-9, "{value} vs {}", -mean_log_w);
}

/// Trains a 4-coupling RealNVP and checks its importance-sampled ln Z, ESS and reweighted
/// P(x > 0) and ⟨u⟩ against the double well's exact values.
fn check_estimates(flow: &RealNvp<f32, Dev>, what: &str, tolerance: f64) {
    let target = DoubleWell::bgflow();
    let s = draw(flow, &target, &Dev::default(), 20_000, 11, 0).unwrap();
    let z = s.log_partition();
    let positive = s.expectation(|x| if x[0] > 0.0 { 1.0 } else { 0.0 });
    let energy = s.expectation(|x| target.energy(x.insert_axis(ndarray::Axis(0)))[0]);
    let raw_positive = s.x.column(0).iter().filter(|&&v| v > 0.0).count() as f64 / s.x.nrows() as f64;
    eprintln!(
        "{what}: ln Z {:.4} ± {:.4} (exact 5.21194), ESS {:.1} %, P(x>0) {:.4} ± {:.4} (raw {:.3}), ⟨u⟩ {:.3} ± {:.3}",
        z.value,
        z.error,
        100.0 * s.efficiency(),
        positive.value,
        positive.error,
        raw_positive,
        energy.value,
        energy.error
    );
    assert!((z.value - 5.21194).abs() < tolerance, "{what}: ln Z {z:?}");
    // A flow stuck at the identity's shape (a saddle of the likelihood) reaches 34 %.
    assert!(s.efficiency() > 0.5, "{what}: ESS fraction {}", s.efficiency());
    assert!((positive.value - 0.5).abs() < 0.03, "{what}: P(x>0) {positive:?}");
    assert!((energy.value + 2.921).abs() < 0.1, "{what}: ⟨u⟩ {energy:?}");
    // Both wells are sampled, not only reweighted.
    assert!(
        raw_positive > 0.2 && raw_positive < 0.8,
        "{what}: raw P(x>0) {raw_positive}"
    );
}

fn flow32(seed: u64) -> RealNvp<f32, Dev> {
    let config = RealNvpConfig::new(2, 4, &[32, 32], 2.0);
    RealNvp::<f32, Dev>::from_config(&config, &Dev::default(), seed).unwrap()
}

#[test]
fn training_by_energy_alone_samples_both_wells() {
    let mut flow = flow32(0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bg.safetensors");
    let cfg = BoltzmannTrainConfig {
        eval_every: 300,
        eval_samples: 2048,
        checkpoint: Some(path.clone()),
        learning_rate: 3e-3,
        ..BoltzmannTrainConfig::reverse_kl(1500)
    };
    let report = train(&mut flow, &DoubleWell::bgflow(), None, &cfg).unwrap();
    assert_eq!(report.records.len(), 5);
    let last = report.records.last().unwrap();
    assert_eq!((last.iteration, last.beta), (1500, 1.0));
    assert!(report.records[0].beta < 0.5);
    check_estimates(&flow, "reverse KL", 0.05);
    // The checkpoint is the trained flow.
    let (back, header): (RealNvp<f32, Dev>, _) = checkpoint::load(&Dev::default(), &path).unwrap();
    assert_eq!(header.kind, "realnvp");
    let again = draw(&back, &DoubleWell::bgflow(), &Dev::default(), 256, 1, 1).unwrap();
    let first = draw(&flow, &DoubleWell::bgflow(), &Dev::default(), 256, 1, 1).unwrap();
    assert_eq!(again.log_weights, first.log_weights);
}

#[test]
fn training_by_example_on_metropolis_samples_reweights_to_the_exact_values() {
    let target = DoubleWell::bgflow();
    let mcmc = metropolis(&target, &MetropolisConfig::new(16, 1000, 4)).unwrap();
    let rows = Rows::new(mcmc.samples.iter().copied().collect(), 2).unwrap();
    let mut flow = flow32(1);
    // From the identity, maximum likelihood on these samples is stuck on a saddle (see
    // `perturb_conditioners`); the reverse KL is not.
    flow.perturb_conditioners(0.1, 2).unwrap();
    let cfg = BoltzmannTrainConfig {
        eval_every: 500,
        eval_samples: 2048,
        learning_rate: 3e-3,
        ..BoltzmannTrainConfig::likelihood(1500)
    };
    let report = train(&mut flow, &target, Some(&rows), &cfg).unwrap();
    assert_eq!(report.records.len(), 3);
    check_estimates(&flow, "likelihood", 0.05);
}

#[test]
fn bad_input_is_a_typed_error() {
    let target = DoubleWell::bgflow();
    let mut flow = perturbed(3, 2, 0);
    let cfg = BoltzmannTrainConfig::reverse_kl(10);
    // A target of another dimension.
    assert!(matches!(
        train(&mut flow, &target, None, &cfg),
        Err(TensorError::ShapeMismatch(_))
    ));
    assert!(matches!(
        draw(&flow, &target, &Dev::default(), 4, 0, 0),
        Err(TensorError::ShapeMismatch(_))
    ));
    let mut flow = perturbed(2, 2, 0);
    // A likelihood weight without samples, NaN samples, samples of the wrong width.
    let ml = BoltzmannTrainConfig::likelihood(10);
    assert!(matches!(
        train(&mut flow, &target, None, &ml),
        Err(TensorError::InvalidConfig(_))
    ));
    let nan = Rows {
        values: vec![0.0, f64::NAN, 1.0, 1.0],
        width: 2,
    };
    match train(&mut flow, &target, Some(&nan), &ml) {
        Err(TensorError::NonFiniteInput(m)) => assert!(m.contains("row 0, column 1"), "{m}"),
        other => panic!("{other:?}"),
    }
    let wide = Rows::new(vec![0.0; 6], 3).unwrap();
    assert!(matches!(
        train(&mut flow, &target, Some(&wide), &ml),
        Err(TensorError::ShapeMismatch(_))
    ));
    // Both weights zero, negative weights, β₀ outside (0, 1], zero iterations.
    for bad in [
        BoltzmannTrainConfig {
            reverse_kl: 0.0,
            ..cfg.clone()
        },
        BoltzmannTrainConfig {
            reverse_kl: -1.0,
            ..cfg.clone()
        },
        BoltzmannTrainConfig {
            annealing: Some(liouville_generative::boltzmann::train::Annealing { start: 0.0, steps: 5 }),
            ..cfg.clone()
        },
        BoltzmannTrainConfig {
            iterations: 0,
            ..cfg.clone()
        },
    ] {
        assert!(
            matches!(
                train(&mut flow, &target, None, &bad),
                Err(TensorError::InvalidConfig(_))
            ),
            "{bad:?}"
        );
    }
    // A perturbation that is not a finite, non-negative scale.
    assert!(matches!(
        flow32(0).perturb_conditioners(f64::NAN, 0),
        Err(TensorError::InvalidConfig(_))
    ));
    assert!(flow32(0).perturb_conditioners(-0.1, 0).is_err());
    // A loss weight without its part of the batch.
    let loss = BoltzmannLoss {
        target: &target,
        beta: 1.0,
        reverse_kl: 1.0,
        likelihood: 0.0,
    };
    assert!(matches!(
        loss.loss(&flow, &batch(false, true), liouville_tensor::dfdx::prelude::NoneTape),
        Err(TensorError::InvalidConfig(_))
    ));
}

#[test]
fn a_diverging_run_stops_with_non_finite_and_keeps_the_last_good_checkpoint() {
    let target = DoubleWell::bgflow();
    let mut flow = perturbed(2, 2, 3);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bg.safetensors");
    let good = BoltzmannTrainConfig {
        eval_every: 5,
        eval_samples: 64,
        checkpoint: Some(path.clone()),
        ..BoltzmannTrainConfig::reverse_kl(5)
    };
    train(&mut flow, &target, None, &good).unwrap();
    // SGD at an absurd rate without clipping: the quartic energy blows up within a few steps.
    let diverging = BoltzmannTrainConfig {
        learning_rate: 1e6,
        optimizer: liouville_tensor::optim::Optimizer::Sgd {
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        },
        clip: None,
        annealing: None,
        eval_every: 1,
        ..good.clone()
    };
    let diverging = BoltzmannTrainConfig {
        iterations: 50,
        ..diverging
    };
    match train(&mut flow, &target, None, &diverging) {
        Err(TensorError::NonFinite { step, .. }) => assert!(step <= 50),
        other => panic!("expected NonFinite, got {other:?}"),
    }
    // What is on disk is a flow that loads; the directory holds no temporary files.
    let (_back, _): (RealNvp<f64, Dev>, _) = checkpoint::load(&Dev::default(), &path).unwrap();
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}
