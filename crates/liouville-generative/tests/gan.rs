//! GANs: parameter gradients of the critic's and generator's losses (non-saturating and WGAN-GP,
//! whose penalty differentiates through ∇ₓD) against finite differences in f64; short two-player
//! runs on 8 Gaussians that must move the samples onto the modes and (WGAN-GP) bring ‖∇ₓD‖ on
//! interpolates towards 1; checkpoints kept across a diverging run; bad input.

use liouville_generative::datasets::{EIGHT_GAUSSIANS_STD, eight_gaussian_modes, eight_gaussians};
use liouville_generative::gan::metrics::mode_coverage;
use liouville_generative::gan::train::{GanTrainConfig, train};
use liouville_generative::gan::{CriticBatch, CriticLoss, Gan, GanConfig, GeneratorLoss, Objective};
use liouville_tensor::config::Configured;
use liouville_tensor::device::HostDevice;
use liouville_tensor::testing::{Entries, GradientCheck, check_parameter_gradients};
use liouville_tensor::train::Rows;
use liouville_tensor::{Activation, TensorError, checkpoint, host};

type Dev = HostDevice;

fn smooth_gan(objective: Objective) -> Gan<f64, Dev> {
    let config = GanConfig {
        activation: Activation::Tanh,
        ..GanConfig::toy(2, 6, objective)
    };
    Gan::from_config(&config, &Dev::default(), 3).unwrap()
}

fn critic_batch(dev: &Dev) -> CriticBatch<f64, Dev> {
    let real = eight_gaussians(5, 1);
    let fake: Vec<f64> = (0..10).map(|i| 0.3 * i as f64 - 1.2).collect();
    let mixed: Vec<f64> = real.iter().zip(&fake).map(|(r, f)| 0.3 * r + 0.7 * f).collect();
    CriticBatch {
        real: host::matrix(dev, real, 5, 2),
        fake: host::matrix(dev, fake, 5, 2),
        interpolates: host::matrix(dev, mixed, 5, 2),
    }
}

#[test]
fn losses_have_exact_parameter_gradients() {
    let dev = Dev::default();
    let check = GradientCheck {
        eps: 1e-6,
        entries: Entries::All,
        floor: 1e-3,
    };
    for objective in [Objective::NonSaturating, Objective::WassersteinGp { penalty: 10.0 }] {
        let mut gan = smooth_gan(objective);
        let batch = critic_batch(&dev);
        let r = check_parameter_gradients(&mut gan.critic, &CriticLoss(objective), &batch, check).unwrap();
        assert!(r.worst < 1e-6, "{objective:?} critic: {r:?}");
        let z = gan.latent(&dev, 7, 0, 0);
        let critic = gan.critic.clone();
        let loss = GeneratorLoss {
            critic: &critic,
            objective,
        };
        let r = check_parameter_gradients(&mut gan.generator, &loss, &z, check).unwrap();
        assert!(r.worst < 1e-6, "{objective:?} generator: {r:?}");
    }
}

fn coverage(gan: &Gan<f32, Dev>) -> (usize, f64) {
    let x = host::values(&gan.sample(&Dev::default(), 2000, 9, 0).unwrap());
    let modes: Vec<Vec<f64>> = eight_gaussian_modes().iter().map(|m| m.to_vec()).collect();
    let c = mode_coverage(&x, &modes, EIGHT_GAUSSIANS_STD);
    (c.modes_covered, c.fraction_within_3_sigma)
}

#[test]
fn wgan_gp_moves_samples_onto_the_modes() {
    let data = Rows::new(eight_gaussians(20_000, 2), 2).unwrap();
    let objective = Objective::WassersteinGp { penalty: 1.0 };
    let mut gan = Gan::<f32, Dev>::from_config(&GanConfig::toy(2, 64, objective), &Dev::default(), 1).unwrap();
    let before = coverage(&gan);
    let cfg = GanTrainConfig {
        learning_rate: 1e-3,
        batch_size: 128,
        ..GanTrainConfig::paper(objective, 600)
    };
    let report = train(&mut gan, &data, &cfg).unwrap();
    let after = coverage(&gan);
    let last = report.records.last().unwrap();
    eprintln!("coverage {before:?} → {after:?}; last record {last:?}");
    assert!(
        after.1 > before.1 + 0.1 && after.0 >= 4,
        "coverage {before:?} → {after:?}"
    );
    assert!(
        (0.8..1.25).contains(&last.interpolate_gradient_norm),
        "‖∇D‖ on interpolates {}",
        last.interpolate_gradient_norm
    );
}

#[test]
fn a_diverging_run_stops_and_keeps_the_last_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gan.safetensors");
    let data = Rows::new(eight_gaussians(1000, 2), 2).unwrap();
    let objective = Objective::WassersteinGp { penalty: 0.1 };
    let mut gan = Gan::<f64, Dev>::from_config(&GanConfig::toy(2, 16, objective), &Dev::default(), 1).unwrap();
    let cfg = GanTrainConfig {
        checkpoint: Some(path.clone()),
        eval_every: 1,
        batch_size: 32,
        ..GanTrainConfig::paper(objective, 3)
    };
    train(&mut gan, &data, &cfg).unwrap();
    let (good, _) = checkpoint::load::<f64, Dev, Gan<f64, Dev>>(&Dev::default(), &path).unwrap();
    // A learning rate of 1e200 overflows the weights within a few steps.
    let wild = GanTrainConfig {
        learning_rate: 1e200,
        iterations: 50,
        ..cfg
    };
    let err = train(&mut gan, &data, &wild).unwrap_err();
    assert!(matches!(err, TensorError::NonFinite { .. }), "{err}");
    let (kept, _) = checkpoint::load::<f64, Dev, Gan<f64, Dev>>(&Dev::default(), &path).unwrap();
    let finite = |g: &Gan<f64, Dev>| {
        host::values(&g.sample(&Dev::default(), 16, 0, 0).unwrap())
            .iter()
            .all(|v| v.is_finite())
    };
    assert!(finite(&kept), "the kept checkpoint must be a good model");
    assert!(finite(&good));
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 1, "no temporary files left");
}

#[test]
fn bad_input_is_a_typed_error() {
    let objective = Objective::NonSaturating;
    let mut gan = Gan::<f64, Dev>::from_config(&GanConfig::toy(2, 8, objective), &Dev::default(), 0).unwrap();
    let three = Rows::new(vec![0.0; 30], 3).unwrap();
    let e = train(&mut gan, &three, &GanTrainConfig::paper(objective, 1)).unwrap_err();
    assert!(matches!(e, TensorError::ShapeMismatch(_)), "{e}");
    let e = Rows::new(vec![0.0, f64::NAN], 2).unwrap_err();
    assert!(e.to_string().contains("NaN"), "{e}");
    let bad = GanConfig::toy(2, 8, Objective::WassersteinGp { penalty: -1.0 });
    assert!(Gan::<f64, Dev>::from_config(&bad, &Dev::default(), 0).is_err());
    let data = Rows::new(eight_gaussians(10, 0), 2).unwrap();
    let zero = GanTrainConfig {
        critic_steps: 0,
        ..GanTrainConfig::paper(objective, 1)
    };
    assert!(matches!(
        train(&mut gan, &data, &zero),
        Err(TensorError::InvalidConfig(_))
    ));
}
