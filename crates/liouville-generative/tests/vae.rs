//! VAEs: parameter gradients of the β-VAE loss (Gaussian and Bernoulli decoders, conditions and
//! questions) against finite differences in f64; the importance-weighted bound against ln p(y)
//! by quadrature for a one-latent model; a trained VAE on a one-factor linear Gaussian model
//! whose bounds must reach the exact log-likelihood, with one latent used and the other collapsed
//! to the prior; checkpoints; bad input.

use liouville_base::random::Rng;
use liouville_generative::vae::elbo::log_likelihood;
use liouville_generative::vae::scinet::pearson;
use liouville_generative::vae::{self, Likelihood, NegativeElbo, Vae, VaeConfig, VaeData, evaluate};
use liouville_tensor::config::Configured;
use liouville_tensor::device::HostDevice;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::module::{Module, ParamMut};
use liouville_tensor::testing::{Entries, GradientCheck, check_parameter_gradients};
use liouville_tensor::train::{Data, Rows, TrainConfig};
use liouville_tensor::{Activation, TensorError, checkpoint, host};

type Dev = HostDevice;

fn smooth(config: VaeConfig, seed: u64) -> Vae<f64, Dev> {
    let config = VaeConfig {
        activation: Activation::Tanh,
        ..config
    };
    Vae::from_config(&config, &Dev::default(), seed).unwrap()
}

fn column(rows: usize, width: usize, phase: f64) -> Rows {
    Rows::new(
        (0..rows * width).map(|i| (0.7 * i as f64 + phase).sin()).collect(),
        width,
    )
    .unwrap()
}

#[test]
fn negative_elbo_has_exact_parameter_gradients() {
    let dev = Dev::default();
    let check = GradientCheck {
        eps: 1e-6,
        entries: Entries::All,
        floor: 1e-3,
    };
    // A conditional Gaussian VAE whose decoder also answers a question.
    let config = VaeConfig {
        question_dim: 1,
        output_dim: 2,
        ..VaeConfig::conditional(3, 2, 2, &[5], Likelihood::Gaussian { std: 0.4 })
    };
    let mut vae = smooth(config, 1);
    let data = VaeData::new(column(6, 3, 0.0), 9)
        .with_conditions(column(6, 2, 1.0))
        .unwrap()
        .with_questions(column(6, 1, 2.0))
        .unwrap()
        .with_targets(column(6, 2, 3.0))
        .unwrap();
    let batch = data.batch::<f64, Dev>(&dev, &[0, 1, 2, 3, 4, 5]).unwrap();
    for beta in [1.0, 0.3] {
        let r = check_parameter_gradients(&mut vae, &NegativeElbo { beta }, &batch, check).unwrap();
        assert!(r.worst < 1e-6, "Gaussian, β = {beta}: {r:?}");
        assert_eq!(r.checked, vae.encoder.num_parameters() + vae.decoder.num_parameters());
    }
    // A Bernoulli decoder of binary rows given a condition.
    let mut vae = smooth(VaeConfig::conditional(4, 1, 2, &[5], Likelihood::Bernoulli), 2);
    let bits: Vec<f64> = (0..20).map(|i| ((i * 7 + 3) % 5 < 2) as u8 as f64).collect();
    let data = VaeData::new(Rows::new(bits, 4).unwrap(), 4)
        .with_conditions(column(5, 1, 0.5))
        .unwrap();
    let batch = data.batch::<f64, Dev>(&dev, &[4, 3, 2, 1, 0]).unwrap();
    let r = check_parameter_gradients(&mut vae, &NegativeElbo { beta: 1.0 }, &batch, check).unwrap();
    assert!(r.worst < 1e-6, "Bernoulli: {r:?}");
}

/// ln p(y) = ln ∫ p(y | z) N(z; 0, 1) dz for a one-latent model, by the trapezoid rule.
fn log_marginal_by_quadrature(vae: &Vae<f64, Dev>, y: &[f64], side: &[f64]) -> f64 {
    let (n, lo, hi) = (8001, -12.0, 12.0);
    let h = (hi - lo) / (n - 1) as f64;
    let z: Vec<f64> = (0..n).map(|i| lo + h * i as f64).collect();
    let s = side.len();
    let side = (s > 0).then(|| host::matrix(&Dev::default(), side.repeat(n), n, s));
    let out = host::values(
        &vae.decode(host::matrix(&Dev::default(), z.clone(), n, 1), side.as_ref())
            .unwrap(),
    );
    let w = y.len();
    let log_f: Vec<f64> = (0..n)
        .map(|i| {
            log_likelihood(vae.likelihood(), y, &out[i * w..(i + 1) * w])
                - 0.5 * z[i] * z[i]
                - 0.5 * (2.0 * std::f64::consts::PI).ln()
        })
        .collect();
    let top = log_f.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = log_f
        .iter()
        .enumerate()
        .map(|(i, v)| (v - top).exp() * if i == 0 || i == n - 1 { 0.5 } else { 1.0 })
        .sum();
    top + (sum * h).ln()
}

#[test]
fn importance_weighted_bound_reaches_the_marginal_likelihood() {
    for (config, data) in [
        (
            VaeConfig {
                question_dim: 1,
                ..VaeConfig::autoencoder(2, 1, &[6], Likelihood::Gaussian { std: 0.8 })
            },
            VaeData::new(column(3, 2, 0.2), 0)
                .with_questions(column(3, 1, 1.1))
                .unwrap(),
        ),
        (
            VaeConfig::autoencoder(3, 1, &[6], Likelihood::Bernoulli),
            VaeData::new(Rows::new(vec![1., 0., 1., 0., 0., 1., 1., 1., 0.], 3).unwrap(), 0),
        ),
    ] {
        let mut vae = smooth(config, 5);
        // q(z | y) = N(0.3, 1.5²) for every row, wider than the prior: bounded importance
        // weights, so the bound converges in 40,000 samples (a narrow, misplaced q converges
        // much more slowly, though it converges too).
        let mut p = vae.encoder.parameters_mut();
        let n = p.len();
        if let ParamMut::Matrix(w) = &mut p[n - 2] {
            **w = w
                .device()
                .tensor_from_vec(vec![0.0; w.shape().0 * w.shape().1], *w.shape());
        }
        if let ParamMut::Vector(b) = &mut p[n - 1] {
            **b = b.device().tensor_from_vec(vec![0.3, 2.25f64.ln()], (2,));
        }
        drop(p);
        for i in 0..data.len() {
            let one = select(&data, i);
            let exact = log_marginal_by_quadrature(
                &vae,
                &data.targets().values[i * data.targets().width..][..data.targets().width],
                &data.side_row(i),
            );
            let e = evaluate(&vae, &one, 40_000, 7).unwrap();
            assert!(
                (e.iwae - exact).abs() < 0.01,
                "row {i}: IWAE {} vs ln p = {exact}",
                e.iwae
            );
            // Jensen: the ELBO sits below ln p by KL(q ‖ posterior), which a random encoder
            // does not make small.
            assert!(e.elbo < exact - 1e-3, "row {i}: ELBO {} vs ln p = {exact}", e.elbo);
        }
    }
}

/// Row `i` of `data` as a one-row set.
fn select(data: &VaeData, i: usize) -> VaeData {
    let x = data.inputs();
    let mut d = VaeData::new(
        Rows::new(x.values[i * x.width..(i + 1) * x.width].to_vec(), x.width).unwrap(),
        0,
    );
    let side = data.side_row(i);
    if !side.is_empty() {
        d = d.with_questions(Rows::new(side.clone(), side.len()).unwrap()).unwrap();
    }
    d
}

/// x = a s + σ n, s ~ N(0, 1), n ~ N(0, I₄): one factor in four dimensions.
const LOADINGS: [f64; 4] = [0.9, -0.6, 0.4, 1.2];
const NOISE: f64 = 0.1;

fn one_factor(rows: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = Rng::stream(seed, 0);
    let (mut x, mut s) = (Vec::new(), Vec::new());
    for _ in 0..rows {
        let f = rng.normal();
        s.push(f);
        x.extend(LOADINGS.iter().map(|a| a * f + NOISE * rng.normal()));
    }
    (x, s)
}

/// ln N(x; 0, aaᵀ + σ²I) by Sherman–Morrison and the matrix determinant lemma.
fn exact_log_likelihood(x: &[f64]) -> f64 {
    let d = LOADINGS.len() as f64;
    let s2 = NOISE * NOISE;
    let aa: f64 = LOADINGS.iter().map(|a| a * a).sum();
    let (xx, ax): (f64, f64) = (
        x.iter().map(|v| v * v).sum(),
        x.iter().zip(LOADINGS).map(|(v, a)| v * a).sum(),
    );
    let quad = xx / s2 - ax * ax / (s2 * (s2 + aa));
    let log_det = (d - 1.0) * s2.ln() + (s2 + aa).ln();
    -0.5 * (quad + log_det + d * (2.0 * std::f64::consts::PI).ln())
}

#[test]
fn a_one_factor_model_uses_one_latent_and_reaches_its_likelihood() {
    let (x, _) = one_factor(3000, 1);
    let data = VaeData::new(Rows::new(x, 4).unwrap(), 2);
    let config = VaeConfig::autoencoder(4, 2, &[32], Likelihood::Gaussian { std: NOISE });
    let mut vae: Vae<f64, Dev> = Vae::from_config(&config, &Dev::default(), 3).unwrap();
    let cfg = TrainConfig {
        steps: 3000,
        batch_size: 128,
        learning_rate: 3e-3,
        eval_every: 500,
        ..TrainConfig::default()
    };
    vae::train(&mut vae, &data, 1.0, &cfg).unwrap();
    let (x_test, s_test) = one_factor(1000, 99);
    let exact: f64 = x_test.chunks(4).map(exact_log_likelihood).sum::<f64>() / 1000.0;
    let test = VaeData::new(Rows::new(x_test, 4).unwrap(), 0);
    let e = evaluate(&vae, &test, 200, 1).unwrap();
    assert!(e.iwae <= exact + 0.05, "IWAE {} above ln p = {exact}", e.iwae);
    assert!(exact - e.iwae < 0.1, "IWAE {} vs ln p = {exact}", e.iwae);
    assert!(exact - e.elbo < 0.25, "ELBO {} vs ln p = {exact}", e.elbo);
    let (used, unused) = match e.kl_per_latent[0] > e.kl_per_latent[1] {
        true => (0, 1),
        false => (1, 0),
    };
    assert!(e.kl_per_latent[used] > 1.0, "{:?}", e.kl_per_latent);
    assert!(e.kl_per_latent[unused] < 0.05, "{:?}", e.kl_per_latent);
    // The used latent's posterior mean is the factor, up to sign and scale.
    let b = test
        .batch::<f64, Dev>(&Dev::default(), &(0..1000).collect::<Vec<_>>())
        .unwrap();
    let (mu, _) = vae.posterior(&b.encoder_input, NoneTape).unwrap();
    let mu: Vec<f64> = host::values(&mu).into_iter().skip(used).step_by(2).collect();
    let r = pearson(&mu, &s_test);
    assert!(r.abs() > 0.98, "r = {r}");
}

#[test]
fn checkpoints_round_trip_and_bad_input_is_typed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vae.ckpt");
    let config = VaeConfig {
        question_dim: 1,
        ..VaeConfig::conditional(3, 1, 2, &[4], Likelihood::Gaussian { std: 0.1 })
    };
    let vae: Vae<f64, Dev> = Vae::from_config(&config, &Dev::default(), 8).unwrap();
    let data = VaeData::new(column(5, 3, 0.0), 0)
        .with_conditions(column(5, 1, 1.0))
        .unwrap()
        .with_questions(column(5, 1, 2.0))
        .unwrap();
    checkpoint::save(&vae, &path, None).unwrap();
    let (back, _): (Vae<f64, Dev>, _) = checkpoint::load(&Dev::default(), &path).unwrap();
    let b = data.batch::<f64, Dev>(&Dev::default(), &[0, 1, 2, 3, 4]).unwrap();
    assert_eq!(vae.predict(&b).unwrap(), back.predict(&b).unwrap());
    // The decoder hears the question and the condition.
    let asked_later = VaeData::new(column(5, 3, 0.0), 0)
        .with_conditions(column(5, 1, 1.0))
        .unwrap()
        .with_questions(column(5, 1, 2.5))
        .unwrap();
    let c = asked_later
        .batch::<f64, Dev>(&Dev::default(), &[0, 1, 2, 3, 4])
        .unwrap();
    let (p, q) = (vae.predict(&b).unwrap(), vae.predict(&c).unwrap());
    assert!(p.iter().zip(&q).all(|(a, b)| (a - b).abs() > 1e-6), "{p:?} {q:?}");
    assert_eq!(
        evaluate(&vae, &data, 3, 1).unwrap(),
        evaluate(&back, &data, 3, 1).unwrap()
    );

    // Configs.
    for bad in [
        VaeConfig {
            latent_dim: 0,
            ..config.clone()
        },
        VaeConfig {
            likelihood: Likelihood::Gaussian { std: 0.0 },
            ..config.clone()
        },
        VaeConfig {
            likelihood: Likelihood::Gaussian { std: f64::NAN },
            ..config.clone()
        },
    ] {
        assert!(matches!(
            Vae::<f64, Dev>::from_config(&bad, &Dev::default(), 0),
            Err(TensorError::InvalidConfig(_))
        ));
    }
    // NaN rows and mismatched counts or widths.
    assert!(Rows::new(vec![0.0, f64::NAN, 1.0], 3).is_err());
    assert!(matches!(
        VaeData::new(column(5, 3, 0.0), 0).with_conditions(column(4, 1, 0.0)),
        Err(TensorError::ShapeMismatch(_))
    ));
    let no_question = VaeData::new(column(5, 3, 0.0), 0)
        .with_conditions(column(5, 1, 1.0))
        .unwrap();
    match evaluate(&vae, &no_question, 1, 0) {
        Err(TensorError::ShapeMismatch(m)) => assert!(m.contains("(3, 1, 0, 3)"), "{m}"),
        other => panic!("{other:?}"),
    }
    let cfg = TrainConfig {
        steps: 5,
        ..TrainConfig::default()
    };
    let mut fresh = vae.clone();
    assert!(matches!(
        vae::train(&mut fresh, &no_question, 1.0, &cfg),
        Err(TensorError::ShapeMismatch(_))
    ));
    assert!(matches!(
        vae::train(&mut fresh, &data, -1.0, &cfg),
        Err(TensorError::InvalidConfig(_))
    ));
    assert!(matches!(
        evaluate(&vae, &data, 0, 0),
        Err(TensorError::InvalidConfig(_))
    ));
    // A Bernoulli decoder refuses non-binary targets, naming the value.
    let bernoulli: Vae<f64, Dev> = Vae::from_config(
        &VaeConfig::autoencoder(3, 1, &[4], Likelihood::Bernoulli),
        &Dev::default(),
        0,
    )
    .unwrap();
    match evaluate(&bernoulli, &VaeData::new(column(2, 3, 0.3), 0), 1, 0) {
        Err(TensorError::ShapeMismatch(m)) => assert!(m.contains("0/1"), "{m}"),
        other => panic!("{other:?}"),
    }
}
