//! RealNVP: inverse(forward(x)) = x and log|det J| against the log-determinant of a
//! finite-difference Jacobian (f64, d = 2 and 5), NLL parameter gradients against finite
//! differences, maximum-likelihood training on two moons through tensor's loop with a validation
//! split and a best checkpoint that loads, sampling, and bad input.

mod common;

use liouville_generative::flow::{NegativeLogLikelihood, RealNvp, RealNvpConfig};
use liouville_tensor::bijection::Bijection;
use liouville_tensor::checkpoint;
use liouville_tensor::config::Configured;
use liouville_tensor::device::HostDevice;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::module::Module;
use liouville_tensor::tape::Threaded;
use liouville_tensor::testing::{Entries, GradientCheck, bijection_log_det_by_differences, check_parameter_gradients};
use liouville_tensor::train::{Rows, train};
use liouville_tensor::{TensorError, host};

type Dev = HostDevice;

/// A flow moved away from the identity: every conditioner's last layer gets random weights.
fn perturbed(dim: usize, couplings: usize, seed: u64) -> RealNvp<f64, Dev> {
    perturbed_with(RealNvpConfig::new(dim, couplings, &[8, 8], 2.0), seed)
}

/// `config`'s flow moved away from the identity: conditioners' last layers and every ActNorm get
/// random parameters.
fn perturbed_with(config: RealNvpConfig, seed: u64) -> RealNvp<f64, Dev> {
    let dev = Dev::default();
    let mut flow = RealNvp::<f64, Dev>::from_config(&config, &dev, seed).unwrap();
    let mut rng = liouville_base::random::Rng::stream(seed, 99);
    for c in flow.couplings_mut() {
        let net = c.conditioner_mut();
        let last = net.weights.len() - 1;
        let shape = *net.weights[last].shape();
        net.weights[last] = host::matrix(
            &dev,
            (0..shape.0 * shape.1).map(|_| rng.uniform_in(-0.8, 0.8)),
            shape.0,
            shape.1,
        );
    }
    let dim = config.dim;
    let x = host::matrix(&dev, (0..16 * dim).map(|_| rng.uniform_in(-3.0, 3.0)), 16, dim);
    flow.initialise_actnorm(&x).unwrap();
    flow
}

fn points(rows: usize, dim: usize, phase: f64) -> Vec<f64> {
    (0..rows * dim).map(|i| (i as f64 * 0.61 + phase).sin() * 1.7).collect()
}

fn log_det_by_differences(flow: &RealNvp<f64, Dev>, x: &[f64]) -> f64 {
    bijection_log_det_by_differences(flow, &Dev::default(), x)
}

#[test]
fn inverses_are_exact_and_log_determinants_match_the_jacobian() {
    let dev = Dev::default();
    for (dim, couplings, seed) in [(2, 4, 1), (5, 6, 2), (3, 1, 3)] {
        let flow = perturbed(dim, couplings, seed);
        let x = host::matrix(&dev, points(7, dim, 0.3), 7, dim);
        let (z, log_det) = flow.apply(&x).unwrap();
        let (back, inverse_log_det) = flow.invert(&z).unwrap();
        let err = host::values(&x)
            .iter()
            .zip(host::values(&back))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(err < 1e-10, "dim {dim}: inverse error {err:e}");
        let (ld, ild) = (host::values(&log_det), host::values(&inverse_log_det));
        assert!(ld.iter().any(|v| v.abs() > 0.1), "the flow is not the identity: {ld:?}");
        for r in 0..7 {
            assert!(
                (ld[r] + ild[r]).abs() < 1e-10,
                "forward and inverse log-dets do not cancel"
            );
            let row = &host::values(&x)[r * dim..(r + 1) * dim];
            let fd = log_det_by_differences(&flow, row);
            assert!(
                (fd - ld[r]).abs() < 1e-6,
                "dim {dim} row {r}: log|det J| {} vs {fd}",
                ld[r]
            );
        }
    }
}

/// ActNorm and shuffled flows: exact inverses, log-determinants against the Jacobian, and the
/// ActNorms' parameters (initialised from data, so not the identity) in the gradient check.
#[test]
fn actnorm_and_shuffled_flows_invert_and_match_the_jacobian() {
    let dev = Dev::default();
    for (dim, couplings, seed) in [(2, 3, 5), (5, 4, 6)] {
        let config = RealNvpConfig::new(dim, couplings, &[8, 8], 2.0)
            .with_actnorm()
            .with_shuffle();
        let flow = perturbed_with(config, seed);
        let x = host::matrix(&dev, points(5, dim, 0.7), 5, dim);
        let (z, log_det) = flow.apply(&x).unwrap();
        let (back, inverse_log_det) = flow.invert(&z).unwrap();
        let err = host::values(&x)
            .iter()
            .zip(host::values(&back))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(err < 1e-10, "dim {dim}: inverse error {err:e}");
        let (ld, ild) = (host::values(&log_det), host::values(&inverse_log_det));
        for r in 0..5 {
            assert!((ld[r] + ild[r]).abs() < 1e-10);
            let row = &host::values(&x)[r * dim..(r + 1) * dim];
            let fd = log_det_by_differences(&flow, row);
            assert!((fd - ld[r]).abs() < 1e-6, "dim {dim} row {r}: {} vs {fd}", ld[r]);
        }
    }
    let mut flow = perturbed_with(RealNvpConfig::new(3, 2, &[8], 2.0).with_actnorm().with_shuffle(), 8);
    assert!(
        flow.actnorms_mut()
            .iter()
            .all(|a| a.log_scale().iter().any(|s| s.abs() > 0.1))
    );
    let x = host::matrix(&dev, points(6, 3, 0.2), 6, 3);
    let check = GradientCheck {
        entries: Entries::All,
        floor: 1e-3,
        ..GradientCheck::default()
    };
    let report = check_parameter_gradients(&mut flow, &NegativeLogLikelihood, &x, check).unwrap();
    assert!(report.worst < 1e-6, "{report:?}");
    let names: Vec<String> = flow.parameters().into_iter().map(|(n, _)| n).collect();
    assert!(names.contains(&"actnorms.1.log_scale".to_string()), "{names:?}");
}

/// A config written before ActNorm existed (no `actnorm`, no `shuffle`) still reads.
#[test]
fn older_configs_read_without_actnorm() {
    let old = r#"{"dim":2,"couplings":4,"hidden":[8],"clamp":2.0}"#;
    let c: RealNvpConfig = serde_json::from_str(old).unwrap();
    assert_eq!(c, RealNvpConfig::new(2, 4, &[8], 2.0));
}

#[test]
fn nll_parameter_gradients_match_finite_differences() {
    let mut flow = perturbed(3, 3, 4);
    let x = host::matrix(&Dev::default(), points(6, 3, 1.1), 6, 3);
    let check = GradientCheck {
        entries: Entries::All,
        floor: 1e-3,
        ..GradientCheck::default()
    };
    let report = check_parameter_gradients(&mut flow, &NegativeLogLikelihood, &x, check).unwrap();
    assert!(report.worst < 1e-6, "{report:?}");
}

#[test]
fn realnvp_learns_two_moons_by_maximum_likelihood() {
    let dev = Dev::default();
    let (data, held_out) = common::two_moons_sets();
    let config = RealNvpConfig::new(2, 8, &[64, 64], 2.0);
    let mut flow = RealNvp::<f32, Dev>::from_config(&config, &dev, 0).unwrap();
    let nll = |f: &RealNvp<f32, Dev>| common::mean_nll(f.log_prob(&mut Threaded::new(NoneTape), &held_out).unwrap());
    let start = nll(&flow);
    let dir = tempfile::tempdir().unwrap();
    let best = dir.path().join("best.safetensors");
    let cfg = common::fit(2000, 2e-3, 200, best.clone());
    train(&mut flow, &data, &NegativeLogLikelihood, &cfg).unwrap();
    let end = nll(&flow);
    eprintln!("two moons: held-out NLL {start:.3} -> {end:.3} nats (entropy floor ≈ 1.008)");
    // A standard normal fits two moons at ≈ 2.3 nats; the floor is the data's entropy, 1.008.
    assert!(start > 2.0 && end < 1.25 && end > 0.95, "held-out NLL {start} -> {end}");
    let (back, header): (RealNvp<f32, Dev>, _) = checkpoint::load(&dev, &best).unwrap();
    assert_eq!(header.kind, "realnvp");
    assert!(nll(&back) < 1.3);
    // Samples are finite and their reported log-density is the model's.
    let (x, lp) = back.sample(&dev, 500, 7, 0).unwrap();
    let again = back.log_prob(&mut Threaded::new(NoneTape), &x).unwrap();
    common::assert_samples_carry_their_log_density(&lp, &again);
}

#[test]
fn bad_input_is_a_typed_error() {
    let flow = perturbed(2, 2, 1);
    let wrong = host::matrix(&Dev::default(), points(3, 3, 0.0), 3, 3);
    assert!(matches!(flow.apply(&wrong), Err(TensorError::ShapeMismatch(_))));
    assert!(Rows::new(vec![0.0, f64::NAN], 2).is_err());
    let bad = RealNvpConfig::new(1, 2, &[4], 2.0);
    assert!(RealNvp::<f64, Dev>::from_config(&bad, &Dev::default(), 0).is_err());
    assert!(
        RealNvp::<f64, Dev>::from_config(
            &RealNvpConfig {
                couplings: 0,
                dim: 2,
                ..bad
            },
            &Dev::default(),
            0
        )
        .is_err()
    );
}
