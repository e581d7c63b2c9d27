//! Binary RBMs: the exact log-likelihood gradient and the free-energy (positive-phase) gradient
//! against central finite differences in f64 (ε = 1e-6, QuCumber's check), CD-k and PCD
//! gradients converging to the exact one, training that raises the exact log-likelihood to the
//! teacher's, checkpoints, a diverging run that keeps its last good checkpoint, and bad input.

use liouville_base::random::Rng;
use liouville_generative::rbm::gibbs;
use liouville_generative::rbm::moments::{Moments, RbmGradient};
use liouville_generative::rbm::partition::{exact_log_likelihood, exact_model_moments};
use liouville_generative::rbm::train::{NegativePhase, RbmTrainConfig, train};
use liouville_generative::rbm::{RbmConfig, RbmError, RbmWeights, VisibleData, VisibleUnits};
use liouville_tensor::checkpoint;
use liouville_tensor::config::Configured;
use liouville_tensor::device::HostDevice;
use liouville_tensor::optim::{Optimizer, Schedule};
use ndarray::{Array1, Array2};

type Rbm = liouville_generative::rbm::Rbm<f64, HostDevice>;

fn random_weights(nv: usize, nh: usize, scale: f64, seed: u64) -> RbmWeights {
    let mut rng = Rng::stream(seed, 1);
    RbmWeights::new(
        Array2::from_shape_fn((nv, nh), |_| scale * rng.normal()),
        Array1::from_shape_fn(nv, |_| 0.5 * rng.normal()),
        Array1::from_shape_fn(nh, |_| 0.5 * rng.normal()),
    )
    .unwrap()
}

/// A teacher with structure an independent-unit model cannot capture: each hidden unit, when
/// on, pulls the visible units towards its own random ±1 pattern (couplings ±3).
fn patterned_teacher(nv: usize, nh: usize, seed: u64) -> RbmWeights {
    let mut rng = Rng::stream(seed, 2);
    let w = Array2::from_shape_fn((nv, nh), |_| if rng.uniform() < 0.5 { 3.0 } else { -3.0 });
    // Visible biases cancel half of each pattern's pull, so no unit is on or off by itself.
    let a = -w.sum_axis(ndarray::Axis(1)) / (2.0 * nh as f64);
    RbmWeights::new(w, a, Array1::from_elem(nh, -1.0)).unwrap()
}

/// Exact samples of a teacher RBM (long chains, well spaced).
fn teacher_data(teacher: &RbmWeights, rows: usize, seed: u64) -> VisibleData {
    VisibleData::binary(gibbs::sample(teacher, rows / 10, 200, 10, 5, seed)).unwrap()
}

/// Every parameter of `w` as one flat vector (W row-major, a, b) and back.
fn flat(w: &RbmWeights) -> Vec<f64> {
    w.w.iter().chain(&w.a).chain(&w.b).copied().collect()
}
fn unflat(template: &RbmWeights, x: &[f64]) -> RbmWeights {
    let (nv, nh) = (template.visible(), template.hidden());
    RbmWeights::new(
        Array2::from_shape_vec((nv, nh), x[..nv * nh].to_vec()).unwrap(),
        Array1::from(x[nv * nh..nv * nh + nv].to_vec()),
        Array1::from(x[nv * nh + nv..].to_vec()),
    )
    .unwrap()
    .with_units(template.units)
}

/// Central differences of `f` at `w`, ε = 1e-6.
fn finite_differences(w: &RbmWeights, f: impl Fn(&RbmWeights) -> f64) -> Vec<f64> {
    let x = flat(w);
    let eps = 1e-6;
    (0..x.len())
        .map(|i| {
            let (mut up, mut down) = (x.clone(), x.clone());
            up[i] += eps;
            down[i] -= eps;
            (f(&unflat(w, &up)) - f(&unflat(w, &down))) / (2.0 * eps)
        })
        .collect()
}

fn flat_gradient(g: &RbmGradient) -> Vec<f64> {
    g.w.iter().chain(&g.a).chain(&g.b).copied().collect()
}

fn max_abs_difference(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

fn relative_error(a: &[f64], b: &[f64]) -> f64 {
    let d: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt();
    d / b.iter().map(|y| y * y).sum::<f64>().sqrt()
}

#[test]
fn exact_likelihood_gradient_matches_finite_differences() {
    // 6 visible × 4 hidden (enumerates h) and 4 × 6 (enumerates v).
    for (nv, nh) in [(6, 4), (4, 6)] {
        let w = random_weights(nv, nh, 0.7, 40 + nv as u64);
        let data = VisibleData::binary(Array2::from_shape_fn((9, nv), |(r, i)| {
            ((r * 7 + i * 3) % 5 < 2) as u8 as f64
        }))
        .unwrap();
        let analytic = RbmGradient::from_moments(
            &exact_model_moments(&w).unwrap(),
            &Moments::of_visible(&w, data.rows(), None),
        );
        let numeric = finite_differences(&w, |m| -exact_log_likelihood(m, data.rows()).unwrap());
        let err = max_abs_difference(&flat_gradient(&analytic), &numeric);
        assert!(err < 1e-8, "{nv}×{nh}: max |analytic − FD| = {err:e}");
        assert!(analytic.norm() > 0.1, "a gradient this small would not test anything");
    }
}

#[test]
fn centred_gradient_is_the_gradient_in_centred_coordinates() {
    // In centred coordinates (W, a_c, b_c) with a = a_c − Wλ, b = b_c − Wᵀμ: moving W_ij by ε
    // with a_c, b_c fixed moves a_i by −ελ_j and b_j by −εμ_i. The centred W gradient must be
    // that directional derivative of the exact NLL; the bias gradients are the ordinary ones.
    let w = random_weights(6, 4, 0.7, 77);
    let data = VisibleData::binary(Array2::from_shape_fn((9, 6), |(r, i)| {
        ((r * 7 + i * 3) % 5 < 2) as u8 as f64
    }))
    .unwrap();
    let mu = Array1::from_shape_fn(6, |i| 0.2 + 0.1 * i as f64);
    let lambda = Array1::from_shape_fn(4, |j| 0.7 - 0.15 * j as f64);
    let model = exact_model_moments(&w).unwrap();
    let positive = Moments::of_visible(&w, data.rows(), None);
    let g = RbmGradient::centred(&model, &positive, &mu, &lambda);
    let plain = RbmGradient::from_moments(&model, &positive);
    let nll = |m: &RbmWeights| -exact_log_likelihood(m, data.rows()).unwrap();
    let eps = 1e-6;
    let mut worst: f64 = 0.0;
    for i in 0..6 {
        for j in 0..4 {
            let moved = |e: f64| {
                let mut m = w.clone();
                m.w[[i, j]] += e;
                m.a[i] -= e * lambda[j];
                m.b[j] -= e * mu[i];
                m
            };
            let fd = (nll(&moved(eps)) - nll(&moved(-eps))) / (2.0 * eps);
            worst = worst.max((fd - g.w[[i, j]]).abs());
        }
    }
    assert!(worst < 1e-8, "centred W gradient against FD: {worst:e}");
    // The step in ordinary coordinates: a moves by the centred a step minus (W step)·λ.
    let a_c = &g.a + &g.w.dot(&lambda);
    let b_c = &g.b + &g.w.t().dot(&mu);
    assert!((&a_c - &plain.a).iter().all(|d| d.abs() < 1e-14));
    assert!((&b_c - &plain.b).iter().all(|d| d.abs() < 1e-14));
    // And with μ = λ = 0 it is the ordinary gradient.
    let zero = RbmGradient::centred(&model, &positive, &Array1::zeros(6), &Array1::zeros(4));
    assert_eq!(zero, plain);
}

#[test]
fn positive_phase_is_the_free_energy_gradient() {
    // ∂ mean F(v) / ∂θ = −⟨data moments⟩: the part of CD-k that is exact.
    let w = random_weights(7, 5, 0.9, 5);
    let v = Array2::from_shape_fn((11, 7), |(r, i)| ((r + 2 * i) % 3 == 0) as u8 as f64);
    let m = Moments::of_visible(&w, v.view(), None);
    let analytic: Vec<f64> = m.vh.iter().chain(&m.v).chain(&m.h).map(|x| -x).collect();
    let numeric = finite_differences(&w, |w| w.free_energy(v.view()).mean().unwrap());
    let err = max_abs_difference(&analytic, &numeric);
    assert!(err < 1e-8, "max |analytic − FD| = {err:e}");
}

#[test]
fn long_chains_turn_cd_and_pcd_into_the_exact_gradient() {
    // CD-k's negative phase with k large, from many copies of the data, samples the model: its
    // gradient must approach the exact one. CD-1 is biased (Carreira-Perpiñán & Hinton 2005):
    // it must be measurably further away.
    let w = random_weights(6, 4, 1.2, 9);
    let data = VisibleData::binary(Array2::from_shape_fn((40, 6), |(r, i)| {
        ((r * 5 + i) % 4 == 0) as u8 as f64
    }))
    .unwrap();
    let exact = flat_gradient(&RbmGradient::from_moments(
        &exact_model_moments(&w).unwrap(),
        &Moments::of_visible(&w, data.rows(), None),
    ));
    let replicated: Vec<usize> = (0..4000).map(|r| r % data.len()).collect();
    let cd = |k: usize| {
        let mut neg = data.select(&replicated);
        gibbs::run_chains(&w, &mut neg, k, 3, 0);
        flat_gradient(&RbmGradient::from_moments(
            &Moments::of_visible(&w, neg.view(), None),
            &Moments::of_visible(&w, data.rows(), None),
        ))
    };
    let long = relative_error(&cd(100), &exact);
    let one = relative_error(&cd(1), &exact);
    assert!(long < 0.05, "CD-100 relative error {long}");
    assert!(one > 2.0 * long, "CD-1 ({one}) should be biased beyond CD-100 ({long})");
}

#[test]
fn training_reaches_the_teachers_log_likelihood() {
    // Data from a patterned 8 × 5 teacher; a fresh 8 × 5 student trained by CD-10 and by PCD must
    // approach the teacher's exact log-likelihood on the same data.
    let teacher = patterned_teacher(8, 5, 21);
    let data = teacher_data(&teacher, 3000, 4);
    let target = exact_log_likelihood(&teacher, data.rows()).unwrap();
    let adam = Optimizer::adam(0.0);
    let sgd = RbmTrainConfig::contrastive(1, 1, 1.0, 1).optimizer;
    let cases = [
        // (negative phase, centred, optimiser, learning rate, epochs)
        (NegativePhase::Contrastive { k: 10 }, false, adam, 0.05, 30),
        (NegativePhase::Persistent { k: 5, chains: 100 }, false, adam, 0.05, 30),
        (NegativePhase::Contrastive { k: 10 }, true, sgd, 0.2, 30),
        (NegativePhase::Persistent { k: 5, chains: 100 }, true, sgd, 0.2, 30),
    ];
    for (negative, centred, optimizer, learning_rate, epochs) in cases {
        let dev = HostDevice::default();
        let mut rbm = Rbm::from_config(&RbmConfig::new(8, 5), &dev, 2).unwrap();
        rbm.initialise_visible_bias(&data).unwrap();
        let start = exact_log_likelihood(&rbm.weights().unwrap(), data.rows()).unwrap();
        let cfg = RbmTrainConfig {
            negative,
            centred,
            optimizer,
            schedule: Schedule::Cosine {
                warmup: 0,
                total: epochs * 60,
                min_factor: 0.01,
            },
            seed: 7,
            ..RbmTrainConfig::contrastive(epochs, 50, learning_rate, 1)
        };
        let report = train(&mut rbm, &data, &cfg).unwrap();
        let end = report.epochs.last().unwrap().log_likelihood.unwrap();
        assert_eq!(report.epochs.len(), epochs);
        assert_eq!(report.updates, epochs * 60);
        // The untrained model (base-rate biases) is ≈ 0.11 nats below the teacher; training
        // must close at least 90 % of that gap.
        assert!(target - start > 0.1, "the teacher is too easy: {start} vs {target}");
        eprintln!("{negative:?}, centred {centred}: log-likelihood {start:.4} → {end:.4}, teacher {target:.4}");
        assert!(
            target - end < 0.1 * (target - start),
            "{negative:?}, centred {centred}: log-likelihood {start:.4} → {end:.4}, teacher {target:.4}"
        );
    }
}

#[test]
fn checkpoints_round_trip_and_survive_a_diverging_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rbm.safetensors");
    let teacher = random_weights(6, 3, 1.0, 2);
    let data = teacher_data(&teacher, 500, 1);
    let dev = HostDevice::default();
    let mut rbm = Rbm::from_config(&RbmConfig::new(6, 3), &dev, 5).unwrap();
    let cfg = RbmTrainConfig {
        checkpoint: Some(path.clone()),
        ..RbmTrainConfig::contrastive(2, 50, 0.05, 1)
    };
    train(&mut rbm, &data, &cfg).unwrap();
    let (loaded, _) = checkpoint::load::<f64, HostDevice, Rbm>(&dev, &path).unwrap();
    assert_eq!(loaded.weights().unwrap(), rbm.weights().unwrap());
    let good = rbm.weights().unwrap();

    // Plain SGD at 1e308 overflows the weights within a few updates.
    let wild = RbmTrainConfig {
        optimizer: Optimizer::Sgd {
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        },
        learning_rate: 1e308,
        ..cfg.clone()
    };
    let err = train(&mut rbm, &data, &wild).unwrap_err();
    assert!(matches!(err, RbmError::Diverged { epoch: 1, .. }), "{err}");
    let (kept, _) = checkpoint::load::<f64, HostDevice, Rbm>(&dev, &path).unwrap();
    assert_eq!(
        kept.weights().unwrap(),
        good,
        "the checkpoint must hold the last good epoch"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");
}

#[test]
fn bad_input_is_a_typed_error() {
    let dev = HostDevice::default();
    let mut rbm = Rbm::from_config(&RbmConfig::new(4, 3), &dev, 0).unwrap();
    let narrow = VisibleData::binary(Array2::zeros((10, 3))).unwrap();
    let e = train(&mut rbm, &narrow, &RbmTrainConfig::contrastive(1, 5, 0.1, 1)).unwrap_err();
    assert!(
        matches!(
            e,
            RbmError::WidthMismatch {
                expected: 4,
                found: 3,
                ..
            }
        ),
        "{e}"
    );
    let data = VisibleData::binary(Array2::zeros((10, 4))).unwrap();
    let e = train(&mut rbm, &data, &RbmTrainConfig::contrastive(1, 5, 0.1, 0)).unwrap_err();
    assert!(matches!(e, RbmError::InvalidConfig(_)), "{e}");
    let e = train(&mut rbm, &data, &RbmTrainConfig::contrastive(1, 5, f64::NAN, 1)).unwrap_err();
    assert!(e.to_string().contains("learning rate NaN"), "{e}");
    assert!(Rbm::from_config(&RbmConfig::new(0, 3), &dev, 0).is_err());
    let e = exact_log_likelihood(&rbm.weights().unwrap(), Array2::from_elem((2, 4), f64::NAN).view()).unwrap_err();
    assert!(matches!(e, RbmError::NonFinite { row: 0, column: 0, .. }), "{e}");
}

/// A Gaussian–binary RBM with random couplings of `scale`.
fn random_gaussian(nv: usize, nh: usize, scale: f64, seed: u64) -> RbmWeights {
    random_weights(nv, nh, scale, seed).with_units(VisibleUnits::Gaussian)
}

#[test]
fn gaussian_partition_function_matches_quadrature() {
    // One Gaussian visible unit, three hidden: Z = Σ_h ∫ e^{−E(v,h)} dv by the trapezoid rule.
    let w = random_gaussian(1, 3, 1.1, 5);
    let (lo, hi, n) = (-40.0, 40.0, 160_001);
    let dv = (hi - lo) / (n - 1) as f64;
    let mut z = 0.0;
    for code in 0..8u32 {
        let h: Vec<f64> = (0..3).map(|j| ((code >> j) & 1) as f64).collect();
        let bh: f64 = w.b.iter().zip(&h).map(|(b, h)| b * h).sum();
        let wh: f64 = (0..3).map(|j| w.w[[0, j]] * h[j]).sum();
        for i in 0..n {
            let v = lo + dv * i as f64;
            let weight = if i == 0 || i == n - 1 { 0.5 } else { 1.0 };
            z += weight * dv * (-(0.5 * (v - w.a[0]).powi(2)) + bh + v * wh).exp();
        }
    }
    let exact = liouville_generative::rbm::partition::exact_log_partition(&w).unwrap();
    assert!((exact - z.ln()).abs() < 1e-9, "{exact} vs quadrature {}", z.ln());
    // p(v) integrates to one: ln p = −F − ln Z on the same grid.
    let grid = Array2::from_shape_fn((n, 1), |(i, _)| lo + dv * i as f64);
    let total: f64 = w.free_energy(grid.view()).iter().map(|f| (-f - exact).exp() * dv).sum();
    assert!((total - 1.0).abs() < 1e-9, "∫ p(v) dv = {total}");
}

#[test]
fn gaussian_exact_gradient_matches_finite_differences() {
    let w = random_gaussian(3, 4, 0.6, 9);
    let rows = Array2::from_shape_fn((7, 3), |(r, i)| ((r * 5 + i * 3) % 7) as f64 / 3.0 - 1.0);
    let data = VisibleData::real(rows).unwrap();
    let analytic = RbmGradient::from_moments(
        &exact_model_moments(&w).unwrap(),
        &Moments::of_visible(&w, data.rows(), None),
    );
    let numeric = finite_differences(&w, |m| -exact_log_likelihood(m, data.rows()).unwrap());
    let err = max_abs_difference(&flat_gradient(&analytic), &numeric);
    assert!(err < 1e-8, "max |analytic − FD| = {err:e}");
    assert!(analytic.norm() > 0.1, "a gradient this small would not test anything");
}

#[test]
fn gaussian_gibbs_samples_have_the_exact_moments() {
    let w = random_gaussian(2, 3, 0.8, 13);
    let exact = exact_model_moments(&w).unwrap();
    let s = gibbs::sample(&w, 400, 100, 50, 4, 3);
    let n = s.nrows() as f64;
    for i in 0..2 {
        let mean = s.column(i).sum() / n;
        // 20,000 nearly independent draws of a unit-variance-ish marginal: SE ≈ 0.01.
        assert!(
            (mean - exact.v[i]).abs() < 0.04,
            "⟨v{i}⟩ = {mean} vs exact {}",
            exact.v[i]
        );
    }
    // Second moments: E[v_i²] = Σ_h p(h) ((a + Wh)_i² + 1), by enumerating the 8 hidden states.
    let h = Array2::from_shape_fn((8, 3), |(code, j)| ((code >> j) & 1) as f64);
    let log_p = w.hidden_free_energy(h.view()).mapv(|g| -g);
    let top = log_p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let p = log_p.mapv(|l| (l - top).exp());
    let p = &p / p.sum();
    let mean_given_h = w.visible_probabilities(h.view());
    for i in 0..2 {
        let exact_square: f64 = (0..8).map(|c| p[c] * (mean_given_h[[c, i]].powi(2) + 1.0)).sum();
        let sampled = s.column(i).iter().map(|v| v * v).sum::<f64>() / n;
        assert!(
            (sampled - exact_square).abs() < 0.08,
            "⟨v{i}²⟩ = {sampled} vs exact {exact_square}"
        );
    }
    // Draws are real numbers, not bits.
    assert!(s.iter().any(|v| v.fract() != 0.0));
}

/// ln of the density of the mixture 0.3 N(μ₀, I) + 0.7 N(μ₁, I) in 2-D.
const MIX: [(f64, [f64; 2]); 2] = [(0.3, [-1.5, 1.0]), (0.7, [1.5, -0.5])];

fn mixture_log_density(x: &[f64]) -> f64 {
    let terms = MIX.map(|(p, m)| {
        p.ln() - 0.5 * ((x[0] - m[0]).powi(2) + (x[1] - m[1]).powi(2)) - (2.0 * std::f64::consts::PI).ln()
    });
    let top = terms[0].max(terms[1]);
    top + terms.iter().map(|t| (t - top).exp()).sum::<f64>().ln()
}

fn mixture(rows: usize, seed: u64) -> Array2<f64> {
    let mut rng = Rng::stream(seed, 0);
    let mut x = Array2::zeros((rows, 2));
    for mut r in x.rows_mut() {
        let m = if rng.uniform() < MIX[0].0 { MIX[0].1 } else { MIX[1].1 };
        r[0] = m[0] + rng.normal();
        r[1] = m[1] + rng.normal();
    }
    x
}

#[test]
fn a_gaussian_rbm_learns_a_mixture_it_can_represent() {
    // p(v) = Σ_h p(h) N(v; a + Wh, I): one hidden unit represents this mixture exactly
    // (a = μ₀, w = μ₁ − μ₀, b = ln(0.7/0.3) − ½‖w‖² − aᵀw). Trained by PCD, the RBM's exact
    // held-out log-likelihood must come within 0.02 nats of the true density's.
    let data = VisibleData::real(mixture(4000, 1)).unwrap();
    let test = mixture(4000, 2);
    let truth = test
        .rows()
        .into_iter()
        .map(|r| mixture_log_density(r.as_slice().unwrap()))
        .sum::<f64>()
        / 4000.0;
    let dev = HostDevice::default();
    let mut rbm = Rbm::from_config(&RbmConfig::gaussian(2, 1), &dev, 0).unwrap();
    rbm.initialise_visible_bias(&data).unwrap();
    let start = exact_log_likelihood(&rbm.weights().unwrap(), test.view()).unwrap();
    let cfg = RbmTrainConfig {
        negative: NegativePhase::Persistent { k: 5, chains: 100 },
        optimizer: Optimizer::adam(0.0),
        schedule: Schedule::Cosine {
            warmup: 0,
            total: 40 * 40,
            min_factor: 0.01,
        },
        seed: 3,
        ..RbmTrainConfig::contrastive(40, 100, 0.05, 1)
    };
    train(&mut rbm, &data, &cfg).unwrap();
    let end = exact_log_likelihood(&rbm.weights().unwrap(), test.view()).unwrap();
    eprintln!("Gaussian RBM: held-out log-likelihood {start:.4} → {end:.4}, truth {truth:.4}");
    assert!(truth - start > 0.3, "the start is too good: {start} vs {truth}");
    assert!(
        truth - end < 0.02,
        "log-likelihood {start:.4} → {end:.4}, truth {truth:.4}"
    );
}

#[test]
fn gaussian_units_want_real_data_and_refuse_ais() {
    let dev = HostDevice::default();
    let mut rbm = Rbm::from_config(&RbmConfig::gaussian(2, 2), &dev, 0).unwrap();
    let bits = VisibleData::binary(Array2::from_shape_fn((4, 2), |(r, c)| ((r + c) % 2) as f64)).unwrap();
    match train(&mut rbm, &bits, &RbmTrainConfig::contrastive(1, 2, 0.1, 1)) {
        Err(RbmError::InvalidConfig(m)) => assert!(m.contains("Binary data") && m.contains("Gaussian"), "{m}"),
        other => panic!("{other:?}"),
    }
    let real = VisibleData::real(Array2::from_elem((4, 2), 0.5)).unwrap();
    let mut binary = Rbm::from_config(&RbmConfig::new(2, 2), &dev, 0).unwrap();
    assert!(matches!(
        train(&mut binary, &real, &RbmTrainConfig::contrastive(1, 2, 0.1, 1)),
        Err(RbmError::InvalidConfig(_))
    ));
    let cfg = liouville_generative::rbm::partition::AisConfig {
        betas: 10,
        runs: 10,
        base_visible_bias: vec![0.0, 0.0],
        seed: 0,
    };
    let w = rbm.weights().unwrap();
    assert!(liouville_generative::rbm::partition::annealed_log_partition(&w, &cfg).is_err());
    // Older configs (no `visible_units`) read as binary.
    let old: RbmConfig = serde_json::from_str(r#"{"visible": 3, "hidden": 2, "init_std": 0.01}"#).unwrap();
    assert_eq!(old.visible_units, VisibleUnits::Binary);
}
