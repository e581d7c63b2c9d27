//! Variational integrator networks: parameter gradients through velocity Verlet against finite
//! differences (f64, the masses included), learning the HNN paper's mass-spring (H = q² + p², so
//! mass ½) with its mass from windows, bounded rollouts, checkpoints through the catalog, and bad
//! input.

use liouville_dynamics::catalog::{self, ModelKind, ModelOptions};
use liouville_dynamics::models::DynamicsModel;
use liouville_dynamics::neural_ode::windows;
use liouville_dynamics::srnn::{LeapfrogConfig, LeapfrogLoss};
use liouville_dynamics::vin::Vin;
use liouville_integrate::fixed::{FixedGrid, integrate};
use liouville_integrate::splitting::{Splitting, SymplecticMethod};
use liouville_sim::dataset::{DatasetSpec, Shard, SystemSpec, generate};
use liouville_tensor::config::Configured;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::testing::{Entries, GradientCheck, check_parameter_gradients};
use liouville_tensor::train::{Loss, Supervised, TrainConfig};
use ndarray::{Array2, Axis};

#[test]
fn velocity_verlet_gradients_match_finite_differences_masses_included() {
    let dev = Cpu::default();
    let config = LeapfrogConfig {
        dim: 4,
        hidden: vec![6],
        interval: 0.2,
        substeps: 2,
    };
    let mut vin = Vin::<f64, Cpu>::from_config(&config, &dev, 3).unwrap();
    // Masses away from 1, so their gradient is not a special case.
    vin.set_masses(&[0.7, 1.6]).unwrap();
    let x: Vec<f64> = (0..5 * 4).map(|i| (i as f64 * 0.61).cos()).collect();
    let y: Vec<f64> = (0..5 * 12).map(|i| (i as f64 * 0.37).sin()).collect();
    let batch = Supervised {
        inputs: dev.tensor_from_vec(x, (5, 4)),
        targets: dev.tensor_from_vec(y, (5, 12)),
    };
    let loss = LeapfrogLoss {
        interval: 0.2,
        substeps: 2,
    };
    let check = GradientCheck {
        entries: Entries::All,
        floor: 1e-4,
        ..GradientCheck::default()
    };
    let report = check_parameter_gradients(&mut vin, &loss, &batch, check).unwrap();
    assert!(report.worst < 1e-6, "{report:?}");
    assert!(loss.loss(&vin, &batch, NoneTape).is_ok());
}

/// H = q² + p² is a unit spring with mass ½: from noisy windows (σ = 0.02) the VIN recovers the
/// mass, the field (2p, −2q) on held-out states, and Yoshida-4 rollouts keep the true energy.
#[test]
fn the_vin_learns_the_mass_spring_and_its_mass_from_windows() {
    let spec = DatasetSpec::new(SystemSpec::hnn_mass_spring(), 30, 31, 3.0)
        .noise(0.02)
        .seed(4);
    let ds = generate(&spec, Shard::whole(), false).unwrap();
    let data = windows(&ds, &ds.train_indices(), 4).unwrap();
    let mut model = Vin::new(2, &[32, 32], 0.1, 2, 0).unwrap();
    let cfg = TrainConfig {
        steps: 800,
        batch_size: 128,
        learning_rate: 5e-3,
        eval_every: 100,
        ..TrainConfig::default()
    };
    let report = model.fit(&data, &cfg).unwrap();
    let (first, last) = (report.train_curve[0].1, report.train_curve.last().unwrap().1);
    let mass = model.masses()[0];
    eprintln!("VIN: loss {first:e} → {last:e}, mass {mass}");
    assert!((mass - 0.5).abs() < 0.025, "learned mass {mass}, true 0.5");
    let test = ds.test_indices();
    let states = ds.states.select(Axis(0), &test);
    let flat = states.into_shape_with_order((test.len() * 31, 2)).unwrap();
    let f = model.field(flat.view()).unwrap();
    let truth = Array2::from_shape_fn(flat.dim(), |(r, c)| {
        if c == 0 {
            2.0 * flat[[r, 1]]
        } else {
            -2.0 * flat[[r, 0]]
        }
    });
    let rel = (&f - &truth).mapv(|v| v * v).sum() / truth.mapv(|v| v * v).sum();
    assert!(rel < 0.01, "relative field error {rel}");
    let y0 = ndarray::array![[0.9, 0.2], [-0.4, 1.1]];
    let grid = FixedGrid::spanning(0.0, 30.0, 0.05).unwrap();
    let sol = integrate(
        &Splitting::new(model.clone(), SymplecticMethod::Yoshida4),
        &grid,
        y0.view(),
        20,
    )
    .unwrap();
    for r in 0..2 {
        let e0 = y0[[r, 0]].powi(2) + y0[[r, 1]].powi(2);
        let worst = sol
            .states
            .index_axis(Axis(1), r)
            .rows()
            .into_iter()
            .map(|s| (s[0] * s[0] + s[1] * s[1] - e0).abs() / e0)
            .fold(0.0, f64::max);
        assert!(worst < 0.05, "start {r}: relative energy error {worst}");
    }
    // The learned energy is the model's own conserved quantity along its field.
    let e = model.energy(y0.view()).unwrap();
    assert!(e.iter().all(|v| v.is_finite()));
}

#[test]
fn vin_round_trips_through_the_catalog_and_rejects_bad_input() {
    let spec = DatasetSpec::new(SystemSpec::hnn_mass_spring(), 4, 6, 1.0).seed(1);
    let ds = generate(&spec, Shard::whole(), false).unwrap();
    let options = ModelOptions::default();
    assert!(ModelKind::Vin.trains_on_windows() && ModelKind::Vin.conservative());
    let mut model = ModelKind::Vin.build(&ds, &[8], &options, 2).unwrap();
    let rows: Vec<usize> = (0..4).collect();
    let data = ModelKind::Vin.examples(&ds, &rows, &options).unwrap();
    let cfg = TrainConfig {
        steps: 5,
        batch_size: 8,
        ..TrainConfig::default()
    };
    model.fit(&data, &cfg).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vin.safetensors");
    model.save(&path).unwrap();
    let (kind, back) = catalog::load(&path).unwrap();
    assert_eq!(kind, ModelKind::Vin);
    let x = ndarray::array![[0.3, -0.2], [1.5, 0.7]];
    assert_eq!(back.field(x.view()).unwrap(), model.field(x.view()).unwrap());
    let direct = Vin::load(&path).unwrap();
    assert_eq!(direct.field(x.view()).unwrap(), model.field(x.view()).unwrap());
    assert!(model.field(ndarray::array![[1.0, 2.0, 3.0]].view()).is_err());
    assert!(Vin::new(3, &[8], 0.1, 1, 0).is_err());
    assert!(Vin::new(2, &[8], 0.0, 1, 0).is_err());
    assert!(Vin::new(2, &[8], 0.1, 0, 0).is_err());
    let mut vin = Vin::new(2, &[8], 0.1, 1, 0).unwrap();
    assert!(vin.set_masses(&[0.0]).is_err());
    assert!(vin.set_masses(&[f64::NAN]).is_err());
    assert!(vin.set_masses(&[1.0, 2.0]).is_err());
    vin.set_masses(&[2.0]).unwrap();
    assert!((vin.masses()[0] - 2.0).abs() < 1e-6);
}
