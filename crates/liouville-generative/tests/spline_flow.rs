//! Neural spline flows, LU linear maps and conditional flows (f64): inverse(forward(x)) = x to 1e-10 with points
//! inside and outside the splines' bound, log|det J| against the log-determinant of a
//! finite-difference Jacobian, NLL parameter gradients against finite differences, conditional
//! flows inverting for every condition, a spline flow learning two moons, and bad conditions.

mod common;

use liouville_base::random::Rng;
use liouville_generative::flow::{NegativeLogLikelihood, RealNvp, RealNvpConfig};
use liouville_tensor::bijection::Bijection;
use liouville_tensor::checkpoint;
use liouville_tensor::config::Configured;
use liouville_tensor::device::HostDevice;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::shapes::Matrix;
use liouville_tensor::tape::Threaded;
use liouville_tensor::testing::{Entries, GradientCheck, check_parameter_gradients, log_abs_det_by_differences};
use liouville_tensor::train::{Rows, TrainConfig, train};
use liouville_tensor::{TensorError, host};

type Dev = HostDevice;

/// `config`'s flow with random conditioner outputs (last layers from U(−0.8, 0.8)) and ActNorms
/// initialised from random points, so that no layer is the identity.
fn perturbed(config: RealNvpConfig, seed: u64) -> RealNvp<f64, Dev> {
    let dev = Dev::default();
    let mut flow = RealNvp::<f64, Dev>::from_config(&config, &dev, seed).unwrap();
    let mut rng = Rng::stream(seed, 99);
    for c in flow.couplings_mut() {
        let net = c.conditioner_mut();
        let last = net.weights.len() - 1;
        let (rows, cols) = *net.weights[last].shape();
        net.weights[last] = host::matrix(&dev, (0..rows * cols).map(|_| rng.uniform_in(-0.8, 0.8)), rows, cols);
    }
    for (k, l) in flow.linears_mut().iter_mut().enumerate() {
        l.randomise(0.6, seed + k as u64).unwrap();
    }
    if config.actnorm {
        let x = host::matrix(
            &dev,
            (0..16 * config.dim).map(|_| rng.uniform_in(-2.0, 2.0)),
            16,
            config.dim,
        );
        flow.initialise_actnorm(&x).unwrap();
    }
    flow
}

/// Rows spread over ±2.6, so that some elements fall outside a bound of 2 (identity tails).
fn points(rows: usize, dim: usize, phase: f64) -> Matrix<f64, Dev> {
    host::matrix(
        &Dev::default(),
        (0..rows * dim).map(|i| (i as f64 * 0.61 + phase).sin() * 2.6),
        rows,
        dim,
    )
}

fn max_difference(a: &Matrix<f64, Dev>, b: &Matrix<f64, Dev>) -> f64 {
    host::values(a)
        .iter()
        .zip(host::values(b))
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Exact inverses and log-determinants against the Jacobian for spline flows of several shapes,
/// plain and in Glow's ActNorm → permutation → coupling steps.
#[test]
fn spline_flows_invert_and_match_the_jacobian() {
    let cases = [
        (RealNvpConfig::new(2, 4, &[8, 8], 2.0).with_spline(6, 2.0), 1),
        (RealNvpConfig::new(5, 3, &[8], 2.0).with_spline(4, 2.0), 2),
        (
            RealNvpConfig::new(4, 4, &[8], 2.0)
                .with_spline(8, 2.0)
                .with_actnorm()
                .with_shuffle(),
            3,
        ),
        // Glow's full step with LU maps, affine and spline couplings.
        (
            RealNvpConfig::new(3, 3, &[8], 2.0)
                .with_actnorm()
                .with_shuffle()
                .with_lu(),
            4,
        ),
        (RealNvpConfig::new(6, 2, &[8], 2.0).with_spline(4, 2.0).with_lu(), 5),
    ];
    for (config, seed) in cases {
        let dim = config.dim;
        let flow = perturbed(config, seed);
        let x = points(7, dim, 0.3 * seed as f64);
        assert!(
            host::values(&x).iter().any(|v| v.abs() > 2.0),
            "some points in the tails"
        );
        let (z, log_det) = flow.apply(&x).unwrap();
        let (back, inverse_log_det) = flow.invert(&z).unwrap();
        let err = max_difference(&x, &back);
        assert!(err < 1e-10, "dim {dim}: inverse error {err:e}");
        let (ld, ild) = (host::values(&log_det), host::values(&inverse_log_det));
        assert!(ld.iter().any(|v| v.abs() > 0.1), "the flow is not the identity: {ld:?}");
        let map = |v: &[f64]| {
            let row = host::matrix(&Dev::default(), v.iter().copied(), 1, dim);
            host::values(&flow.apply(&row).unwrap().0)
        };
        for r in 0..7 {
            assert!(
                (ld[r] + ild[r]).abs() < 1e-10,
                "forward and inverse log-dets do not cancel"
            );
            let row = &host::values(&x)[r * dim..(r + 1) * dim];
            let fd = log_abs_det_by_differences(map, row);
            assert!(
                (fd - ld[r]).abs() < 1e-6,
                "dim {dim} row {r}: log|det J| {} vs {fd}",
                ld[r]
            );
        }
    }
}

#[test]
fn spline_flow_nll_parameter_gradients_match_finite_differences() {
    let config = RealNvpConfig::new(3, 2, &[6], 2.0)
        .with_spline(4, 2.0)
        .with_actnorm()
        .with_lu()
        .with_learnable_base();
    let mut flow = perturbed(config, 4);
    let data = host::matrix(
        &Dev::default(),
        (0..24).map(|i| (i as f64 * 0.9).sin() * 2.0 + 0.5),
        8,
        3,
    );
    flow.base_mut().unwrap().initialise_from(&data).unwrap();
    let x = points(6, 3, 1.1);
    // Relative error against max(|numeric|, 1e-2): central differences carry an absolute error of
    // ≈ 2e-9 here, which is 1.4e-6 of the smallest gradients (1.3e-3); a wrong gradient is off by
    // its own size.
    let check = GradientCheck {
        entries: Entries::All,
        floor: 1e-2,
        ..GradientCheck::default()
    };
    let report = check_parameter_gradients(&mut flow, &NegativeLogLikelihood, &x, check).unwrap();
    assert!(report.checked > 300, "{report:?}");
    assert!(report.worst < 1e-6, "{report:?}");
}

/// A learnable base 𝒩(μ, diag σ²): with identity couplings log p(x) is the Gaussian's own
/// log-density, samples carry it, and the parameters are named `base.*` in checkpoints.
#[test]
fn a_learnable_base_is_a_diagonal_gaussian() {
    let dev = Dev::default();
    let config = RealNvpConfig::new(2, 2, &[4], 2.0).with_learnable_base();
    let mut flow = RealNvp::<f64, Dev>::from_config(&config, &dev, 0).unwrap();
    assert_eq!(flow.base_distribution(), Some((vec![0.0, 0.0], vec![1.0, 1.0])));
    let data = host::matrix(&dev, [3.0, -1.0, 4.0, 1.0, 2.5, -4.0, 3.5, 0.0], 4, 2);
    flow.base_mut().unwrap().initialise_from(&data).unwrap();
    let (mean, std) = flow.base_distribution().unwrap();
    assert!(
        (mean[0] - 3.25).abs() < 1e-12 && (mean[1] + 1.0).abs() < 1e-12,
        "{mean:?}"
    );
    assert!((std[0] - 0.5590169943749474).abs() < 1e-12, "{std:?}");
    let x = points(5, 2, 0.4);
    let lp = host::values(&flow.log_prob(&mut Threaded::new(NoneTape), &x).unwrap());
    for (r, row) in host::values(&x).chunks(2).enumerate() {
        let expected: f64 = (0..2)
            .map(|i| {
                let u = (row[i] - mean[i]) / std[i];
                -0.5 * u * u - std[i].ln() - 0.918_938_533_204_672_7
            })
            .sum();
        assert!((lp[r] - expected).abs() < 1e-12, "row {r}: {} vs {expected}", lp[r]);
    }
    let (samples, sample_lp) = flow.sample(&dev, 4000, 1, 0).unwrap();
    let s = host::values(&samples);
    let sample_mean = s.chunks(2).map(|p| p[0]).sum::<f64>() / 4000.0;
    assert!((sample_mean - 3.25).abs() < 0.05, "samples centred on μ: {sample_mean}");
    let again = host::values(&flow.log_prob(&mut Threaded::new(NoneTape), &samples).unwrap());
    for (a, b) in host::values(&sample_lp).iter().zip(&again) {
        assert!((a - b).abs() < 1e-10);
    }
    let names: Vec<String> = liouville_tensor::module::Module::parameters(&flow)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(names.contains(&"base.log_scale".to_string()), "{names:?}");
}

/// Conditions of `rows` rows and `width` columns.
fn conditions(rows: usize, width: usize, seed: u64) -> Matrix<f64, Dev> {
    let mut rng = Rng::stream(seed, 5);
    host::matrix(
        &Dev::default(),
        (0..rows * width).map(|_| rng.uniform_in(-1.5, 1.5)),
        rows,
        width,
    )
}

/// A conditional flow (affine and spline) inverts for every condition, its log-determinant is
/// the Jacobian's at that condition, and different conditions give different maps.
#[test]
fn conditional_flows_invert_for_every_condition() {
    for (config, seed) in [
        (RealNvpConfig::new(3, 4, &[8], 2.0).with_condition(2), 6),
        (
            RealNvpConfig::new(2, 3, &[8], 2.0)
                .with_spline(5, 2.0)
                .with_condition(3),
            7,
        ),
    ] {
        let (dim, width) = (config.dim, config.condition);
        let flow = perturbed(config, seed);
        let x = points(5, dim, 0.9);
        let mut images = Vec::new();
        for k in 0..4 {
            let c = conditions(5, width, 10 + k);
            let mut tp = Threaded::new(NoneTape);
            let lp = host::values(&flow.log_prob_given(&mut tp, &x, Some(&c)).unwrap());
            assert!(lp.iter().all(|v| v.is_finite()));
            images.push(lp);
            // Samples invert back to the latents' log-density for this condition.
            let (samples, sample_lp) = flow.sample_given(&Dev::default(), &c, 3, k).unwrap();
            let again = host::values(&flow.log_prob_given(&mut tp, &samples, Some(&c)).unwrap());
            for (a, b) in host::values(&sample_lp).iter().zip(&again) {
                assert!((a - b).abs() < 1e-10, "{a} vs {b}");
            }
            // log p(x | c) = log 𝒩(f(x; c)) + log|det ∂f/∂x| with the Jacobian at fixed c.
            for r in 0..5 {
                let c_row: Vec<f64> = host::values(&c)[r * width..(r + 1) * width].to_vec();
                let map = |v: &[f64]| {
                    let dev = Dev::default();
                    let xm = host::matrix(&dev, v.iter().copied(), 1, dim);
                    let cm = host::matrix(&dev, c_row.iter().copied(), 1, width);
                    latent(&flow, &xm, &cm)
                };
                let row = &host::values(&x)[r * dim..(r + 1) * dim];
                let fd = log_abs_det_by_differences(map, row);
                let xm = host::matrix(&Dev::default(), row.iter().copied(), 1, dim);
                let cm = host::matrix(&Dev::default(), c_row.iter().copied(), 1, width);
                let z = latent(&flow, &xm, &cm);
                let base: f64 = z.iter().map(|v| -0.5 * v * v - 0.918_938_533_204_672_7).sum();
                assert!(
                    (base + fd - images[k as usize][r]).abs() < 1e-6,
                    "row {r} condition {k}"
                );
            }
        }
        let spread = (0..5).map(|r| (images[0][r] - images[1][r]).abs()).fold(0.0, f64::max);
        assert!(spread > 1e-3, "the condition changes nothing: {spread}");
    }
}

/// z = f(x; c) of the rows of `x` under their conditions.
fn latent(flow: &RealNvp<f64, Dev>, x: &Matrix<f64, Dev>, c: &Matrix<f64, Dev>) -> Vec<f64> {
    host::values(&flow.map_given(x, c).unwrap().0)
}

#[test]
fn conditional_flow_nll_parameter_gradients_match_finite_differences() {
    let config = RealNvpConfig::new(2, 2, &[6], 2.0)
        .with_spline(4, 2.0)
        .with_condition(2);
    let mut flow = perturbed(config, 8);
    // Training rows are [x, c].
    let rows = host::matrix(&Dev::default(), (0..6 * 4).map(|i| (i as f64 * 0.37).cos() * 1.8), 6, 4);
    let check = GradientCheck {
        entries: Entries::All,
        floor: 1e-3,
        ..GradientCheck::default()
    };
    let report = check_parameter_gradients(&mut flow, &NegativeLogLikelihood, &rows, check).unwrap();
    assert!(report.worst < 1e-6, "{report:?}");
}

#[test]
fn bad_conditions_are_typed_errors() {
    let flow = perturbed(RealNvpConfig::new(2, 2, &[4], 2.0).with_condition(3), 9);
    let x = points(4, 2, 0.0);
    let mut tp = Threaded::new(NoneTape);
    let wrong = conditions(4, 2, 1);
    match flow.log_prob_given(&mut tp, &x, Some(&wrong)) {
        Err(TensorError::ShapeMismatch(m)) => assert!(m.contains("[4, 2]") || m.contains("(4, 2)"), "{m}"),
        other => panic!("a condition of the wrong width: {other:?}"),
    }
    let short = conditions(3, 3, 1);
    assert!(matches!(
        flow.log_prob_given(&mut tp, &x, Some(&short)),
        Err(TensorError::ShapeMismatch(_))
    ));
    match flow.apply(&x) {
        Err(TensorError::ShapeMismatch(m)) => assert!(m.contains("no condition"), "{m}"),
        other => panic!("a conditional flow without its condition: {other:?}"),
    }
    let nan = host::matrix(
        &Dev::default(),
        [0.0, 1.0, 2.0, f64::NAN, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        4,
        3,
    );
    match flow.sample_given(&Dev::default(), &nan, 0, 0) {
        Err(TensorError::NonFiniteInput(m)) => assert!(m.contains("row 1, column 0"), "{m}"),
        other => panic!("a NaN condition: {other:?}"),
    }
    let unconditional = perturbed(RealNvpConfig::new(2, 2, &[4], 2.0), 9);
    assert!(unconditional.log_prob_given(&mut tp, &x, Some(&wrong)).is_err());
    // Training rows must be [x, c].
    let mut flow = flow;
    let narrow = Rows::new(vec![0.1; 8 * 4], 4).unwrap();
    let cfg = TrainConfig {
        steps: 2,
        batch_size: 4,
        ..TrainConfig::default()
    };
    assert!(train(&mut flow, &narrow, &NegativeLogLikelihood, &cfg).is_err());
    // Spline settings from a hand-written config are checked.
    for bad in [
        RealNvpConfig::new(2, 2, &[4], 2.0).with_spline(1, 2.0),
        RealNvpConfig::new(2, 2, &[4], 2.0).with_spline(4, 0.0),
    ] {
        assert!(matches!(
            RealNvp::<f64, Dev>::from_config(&bad, &Dev::default(), 0),
            Err(TensorError::InvalidConfig(_))
        ));
    }
}

/// A spline flow (4 couplings, 8 bins on ±4) learns two moons by maximum likelihood, saves and
/// loads through the checkpoint path, and samples with the log-density it reports.
#[test]
fn spline_flow_learns_two_moons_by_maximum_likelihood() {
    let dev = Dev::default();
    let (data, held_out) = common::two_moons_sets();
    let config = RealNvpConfig::new(2, 4, &[32, 32], 2.0).with_spline(8, 4.0);
    let mut flow = RealNvp::<f32, Dev>::from_config(&config, &dev, 0).unwrap();
    let nll = |f: &RealNvp<f32, Dev>| common::mean_nll(f.log_prob(&mut Threaded::new(NoneTape), &held_out).unwrap());
    let start = nll(&flow);
    let dir = tempfile::tempdir().unwrap();
    let best = dir.path().join("best.safetensors");
    let cfg = common::fit(1200, 3e-3, 200, best.clone());
    train(&mut flow, &data, &NegativeLogLikelihood, &cfg).unwrap();
    let end = nll(&flow);
    eprintln!("two moons (spline flow): held-out NLL {start:.3} -> {end:.3} nats (entropy floor ≈ 1.008)");
    // Issue 11's goal is 1.10 nats (measured here: 1.052 after 1,200 steps).
    assert!(start > 2.0 && end < 1.10 && end > 0.95, "held-out NLL {start} -> {end}");
    let (back, header): (RealNvp<f32, Dev>, _) = checkpoint::load(&dev, &best).unwrap();
    assert_eq!(header.kind, "realnvp");
    assert_eq!(back.settings().spline, config.spline);
    assert!(nll(&back) < 1.3);
    let (x, lp) = back.sample(&dev, 500, 7, 0).unwrap();
    let again = back.log_prob(&mut Threaded::new(NoneTape), &x).unwrap();
    common::assert_samples_carry_their_log_density(&lp, &again);
}

mod random_chains {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

        /// Any chain of the flow's layers — affine or spline couplings, each optionally after an
        /// ActNorm, a permutation and an LU map, with or without a learnable base, in 2 to 6
        /// dimensions — inverts to 1e-10 and its log-determinant is the finite-difference
        /// Jacobian's to 1e-6 relative (1e-6 · (1 + |ln|det J||)).
        #[test]
        fn random_chains_invert_and_match_the_jacobian(
            dim in 2usize..=6,
            couplings in 1usize..=4,
            bins in prop::option::of(2usize..=8),
            actnorm: bool,
            shuffle: bool,
            lu: bool,
            learnable_base: bool,
            seed in 0u64..1000,
        ) {
            let mut config = RealNvpConfig::new(dim, couplings, &[6], 2.0);
            if let Some(bins) = bins {
                config = config.with_spline(bins, 2.0);
            }
            config.actnorm = actnorm;
            config.shuffle = shuffle;
            config.lu = lu;
            config.learnable_base = learnable_base;
            let mut flow = perturbed(config, seed);
            if let Some(base) = flow.base_mut() {
                let data = host::matrix(&Dev::default(), (0..8 * dim).map(|i| (i as f64 * 1.3 + seed as f64).sin()), 8, dim);
                base.initialise_from(&data).unwrap();
            }
            let x = points(3, dim, seed as f64 * 0.01);
            let (z, log_det) = flow.apply(&x).unwrap();
            let (back, inverse_log_det) = flow.invert(&z).unwrap();
            let err = max_difference(&x, &back);
            prop_assert!(err < 1e-10, "inverse error {err:e}");
            let map = |v: &[f64]| {
                let row = host::matrix(&Dev::default(), v.iter().copied(), 1, dim);
                host::values(&flow.apply(&row).unwrap().0)
            };
            let (ld, ild) = (host::values(&log_det), host::values(&inverse_log_det));
            for r in 0..3 {
                prop_assert!((ld[r] + ild[r]).abs() < 1e-10);
                let row = &host::values(&x)[r * dim..(r + 1) * dim];
                let fd = log_abs_det_by_differences(map, row);
                // Relative to the log-determinant's size: a strongly contracting chain (ln|det J| ≈
                // −11.5 at seed 43) has finite differences good to a few parts in 10⁷.
                prop_assert!((fd - ld[r]).abs() < 1e-6 * (1.0 + ld[r].abs()), "row {r}: {} vs {fd}", ld[r]);
            }
        }
    }
}

/// A checkpoint of one flow does not load into a flow of another dimension or architecture.
#[test]
fn a_flow_loaded_for_another_dimension_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flow.safetensors");
    let flow = perturbed(RealNvpConfig::new(3, 2, &[4], 2.0).with_spline(4, 2.0), 1);
    checkpoint::save(&flow, &path, None).unwrap();
    let (back, _): (RealNvp<f64, Dev>, _) = checkpoint::load(&Dev::default(), &path).unwrap();
    let x = points(2, 3, 0.0);
    assert_eq!(
        host::values(&back.apply(&x).unwrap().0),
        host::values(&flow.apply(&x).unwrap().0)
    );
    for other in [
        RealNvpConfig::new(2, 2, &[4], 2.0).with_spline(4, 2.0),
        RealNvpConfig::new(3, 2, &[4], 2.0),
    ] {
        let mut target = perturbed(other, 2);
        assert!(checkpoint::load_into(&mut target, &path).is_err());
    }
}

/// Rows [x, c] of two moons with c the one-hot moon (upper, lower): `two_moons` alternates them.
fn labelled_moons(n: usize, seed: u64) -> Vec<f64> {
    liouville_generative::datasets::two_moons(n, 0.1, seed)
        .chunks(2)
        .enumerate()
        .flat_map(|(i, p)| {
            let upper = if i % 2 == 0 { 1.0 } else { 0.0 };
            [p[0], p[1], upper, 1.0 - upper]
        })
        .collect()
}

/// A conditional spline flow learns p(x | moon) from [x, c] rows: the label carries ≈ ln 2 nats
/// about x (the moons barely overlap), so the held-out conditional NLL must fall well below the
/// unconditional floor of 1.008 nats, towards 1.008 − 0.693 = 0.315; and samples drawn for the
/// upper moon lie on it (y above the lower moon's centre line).
#[test]
fn a_conditional_flow_learns_each_moon_given_its_label() {
    let dev = Dev::default();
    let data = Rows::new(labelled_moons(4000, 1), 4).unwrap();
    let held = labelled_moons(2000, 2);
    let pick =
        |cols: std::ops::Range<usize>| -> Vec<f64> { held.chunks(4).flat_map(|r| r[cols.clone()].to_vec()).collect() };
    let (x, c) = (
        host::matrix::<f32, Dev>(&dev, pick(0..2), 2000, 2),
        host::matrix::<f32, Dev>(&dev, pick(2..4), 2000, 2),
    );
    let config = RealNvpConfig::new(2, 4, &[32, 32], 2.0)
        .with_spline(8, 4.0)
        .with_condition(2);
    let mut flow = RealNvp::<f32, Dev>::from_config(&config, &dev, 0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    train(
        &mut flow,
        &data,
        &NegativeLogLikelihood,
        &common::fit(1200, 3e-3, 200, dir.path().join("best.safetensors")),
    )
    .unwrap();
    let nll = common::mean_nll(flow.log_prob_given(&mut Threaded::new(NoneTape), &x, Some(&c)).unwrap());
    eprintln!("two moons given the moon: held-out conditional NLL {nll:.3} nats (floor ≈ 0.315)");
    assert!(nll < 0.6 && nll > 0.2, "conditional NLL {nll}");
    // On the upper moon: x < 1.3 and y within 0.35 of √(1 − x²) (x clamped to [−1, 1]). Lower-moon
    // points, (1 − cos θ, ½ − sin θ), are at least 0.45 from that curve wherever x < 1.3.
    let on_upper_moon = |condition: [f32; 2], stream: u64| -> usize {
        let c = host::matrix::<f32, Dev>(&dev, (0..500).flat_map(|_| condition.map(f64::from)), 500, 2);
        let (samples, _) = flow.sample_given(&dev, &c, 5, stream).unwrap();
        host::values(&samples)
            .chunks(2)
            .filter(|p| p[0] < 1.3 && (p[1] - (1.0 - p[0].clamp(-1.0, 1.0).powi(2)).sqrt()).abs() < 0.35)
            .count()
    };
    let (upper, lower) = (on_upper_moon([1.0, 0.0], 0), on_upper_moon([0.0, 1.0], 1));
    assert!(upper > 450, "{upper} of 500 samples for the upper moon lie on it");
    assert!(
        lower < 50,
        "{lower} of 500 samples for the lower moon lie on the upper one"
    );
}
