//! Masked autoregressive flows (f64): inverse(forward(x)) = x to 1e-10 and log|det J| against the
//! log-determinant of a finite-difference Jacobian, NLL parameter gradients against finite
//! differences (through the density pass) and through the sampling pass, two moons by maximum
//! likelihood with a checkpoint that loads, and bad input.

mod common;

use liouville_base::random::Rng;
use liouville_generative::flow::NegativeLogLikelihood;
use liouville_generative::maf::{Maf, MafConfig};
use liouville_tensor::bijection::Bijection;
use liouville_tensor::checkpoint;
use liouville_tensor::config::Configured;
use liouville_tensor::device::HostDevice;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::shapes::Matrix;
use liouville_tensor::tape::Threaded;
use liouville_tensor::testing::{Entries, GradientCheck, bijection_log_det_by_differences, check_parameter_gradients};
use liouville_tensor::train::{Loss, train};
use liouville_tensor::{TensorError, host};

type Dev = HostDevice;

fn config(dim: usize, layers: usize) -> MafConfig {
    MafConfig {
        dim,
        layers,
        hidden: vec![8, 8],
        clamp: 2.0,
    }
}

/// A MAF whose MADE weights are all random, so that no layer is the identity.
fn perturbed(c: &MafConfig, seed: u64) -> Maf<f64, Dev> {
    let dev = Dev::default();
    let mut flow = Maf::<f64, Dev>::from_config(c, &dev, seed).unwrap();
    let mut rng = Rng::stream(seed, 9);
    for layer in flow.layers_mut() {
        for w in &mut layer.made_mut().weights {
            let (r, k) = *w.shape();
            *w = host::matrix(&dev, (0..r * k).map(|_| rng.uniform_in(-0.7, 0.7)), r, k);
        }
    }
    flow
}

fn points(rows: usize, dim: usize, phase: f64) -> Matrix<f64, Dev> {
    host::matrix(
        &Dev::default(),
        (0..rows * dim).map(|i| (i as f64 * 0.61 + phase).sin() * 1.8),
        rows,
        dim,
    )
}

fn log_det_by_differences(flow: &Maf<f64, Dev>, x: &[f64]) -> f64 {
    bijection_log_det_by_differences(flow, &Dev::default(), x)
}

#[test]
fn mafs_invert_and_match_the_jacobian() {
    for (dim, layers, seed) in [(2, 3, 1), (5, 2, 2), (3, 4, 3)] {
        let flow = perturbed(&config(dim, layers), seed);
        let x = points(6, dim, 0.2 * seed as f64);
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
        for r in 0..6 {
            assert!((ld[r] + ild[r]).abs() < 1e-10);
            let row = &host::values(&x)[r * dim..(r + 1) * dim];
            let fd = log_det_by_differences(&flow, row);
            assert!((fd - ld[r]).abs() < 1e-6, "dim {dim} row {r}: {} vs {fd}", ld[r]);
        }
    }
}

#[test]
fn nll_parameter_gradients_match_finite_differences() {
    let mut flow = perturbed(&config(3, 2), 4);
    let x = points(6, 3, 1.1);
    let check = GradientCheck {
        entries: Entries::All,
        floor: 1e-3,
        ..GradientCheck::default()
    };
    let report = check_parameter_gradients(&mut flow, &NegativeLogLikelihood, &x, check).unwrap();
    assert!(report.worst < 1e-6, "{report:?}");
}

/// The log-density of the flow's own samples, −E[log p(f⁻¹(z))] with fixed latents: a loss that
/// runs through the d sequential inverse passes (the reverse-KL path of a Boltzmann generator).
struct SampleLogDensity;

impl Loss<f64, Dev, Maf<f64, Dev>, Matrix<f64, Dev>> for SampleLogDensity {
    fn loss<T: Tape<f64, Dev> + Merge<T>>(
        &self,
        flow: &Maf<f64, Dev>,
        z: &Matrix<f64, Dev>,
        tape: T,
    ) -> Result<Tensor<(), f64, Dev, T>, TensorError> {
        let mut tp = Threaded::new(tape);
        let (x, log_det) = flow.inverse(&mut tp, z)?;
        // A quartic energy of the samples minus their entropy term: Σ x⁴/4 + log|det ∂x/∂z|.
        let l = tp.step(|t| {
            (x.put_tape(t).square().square() * 0.25)
                .sum::<(usize,), Axis<1>>()
                .mean()
                - log_det.retaped::<T>().mean()
        });
        Ok(tp.finish(l))
    }
}

#[test]
fn gradients_through_the_sampling_pass_match_finite_differences() {
    let mut flow = perturbed(&config(3, 2), 5);
    let z = points(5, 3, 0.4);
    let check = GradientCheck {
        entries: Entries::All,
        floor: 1e-3,
        ..GradientCheck::default()
    };
    let report = check_parameter_gradients(&mut flow, &SampleLogDensity, &z, check).unwrap();
    assert!(report.checked > 100, "{report:?}");
    assert!(report.worst < 1e-6, "{report:?}");
}

#[test]
fn maf_learns_two_moons_by_maximum_likelihood() {
    let dev = Dev::default();
    let (data, held_out) = common::two_moons_sets();
    let c = MafConfig {
        dim: 2,
        layers: 6,
        hidden: vec![32, 32],
        clamp: 2.0,
    };
    let mut flow = Maf::<f32, Dev>::from_config(&c, &dev, 0).unwrap();
    let nll = |f: &Maf<f32, Dev>| common::mean_nll(f.log_prob(&mut Threaded::new(NoneTape), &held_out).unwrap());
    let start = nll(&flow);
    let dir = tempfile::tempdir().unwrap();
    let best = dir.path().join("best.safetensors");
    let cfg = common::fit(1500, 3e-3, 250, best.clone());
    train(&mut flow, &data, &NegativeLogLikelihood, &cfg).unwrap();
    let end = nll(&flow);
    eprintln!("two moons (MAF): held-out NLL {start:.3} -> {end:.3} nats (entropy floor ≈ 1.008)");
    assert!(start > 2.0 && end < 1.3 && end > 0.95, "held-out NLL {start} -> {end}");
    let (back, header): (Maf<f32, Dev>, _) = checkpoint::load(&dev, &best).unwrap();
    assert_eq!(header.kind, "maf");
    assert!(nll(&back) < 1.35);
    let (x, lp) = back.sample(&dev, 300, 7, 0).unwrap();
    let again = back.log_prob(&mut Threaded::new(NoneTape), &x).unwrap();
    common::assert_samples_carry_their_log_density(&lp, &again);
}

#[test]
fn bad_input_is_a_typed_error() {
    let dev = Dev::default();
    let flow = perturbed(&config(3, 2), 1);
    assert!(matches!(
        flow.apply(&points(2, 2, 0.0)),
        Err(TensorError::ShapeMismatch(_))
    ));
    assert!(matches!(
        flow.invert(&points(2, 4, 0.0)),
        Err(TensorError::ShapeMismatch(_))
    ));
    assert!(Maf::<f64, Dev>::from_config(&config(3, 0), &dev, 0).is_err());
    let narrow = MafConfig {
        hidden: vec![2],
        ..config(4, 2)
    };
    assert!(matches!(
        Maf::<f64, Dev>::from_config(&narrow, &dev, 0),
        Err(TensorError::InvalidConfig(_))
    ));
    // A MAF checkpoint loads back, but not into a MAF of another dimension nor as a RealNVP.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("maf.safetensors");
    checkpoint::save(&flow, &path, None).unwrap();
    let (back, _): (Maf<f64, Dev>, _) = checkpoint::load(&dev, &path).unwrap();
    let x = points(3, 3, 0.5);
    assert_eq!(
        host::values(&back.apply(&x).unwrap().0),
        host::values(&flow.apply(&x).unwrap().0)
    );
    let mut wider = perturbed(&config(4, 2), 1);
    assert!(checkpoint::load_into(&mut wider, &path).is_err());
    let as_realnvp: Result<(liouville_generative::flow::RealNvp<f64, Dev>, _), _> = checkpoint::load(&dev, &path);
    assert!(as_realnvp.is_err());
}
