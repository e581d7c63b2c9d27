//! Models predict, roll out, save and load; an HNN's flow conserves its own learned energy; and
//! on mass-spring data the HNN conserves the true energy far better than the baseline.

use liouville_dynamics::models::{Baseline, DynamicsModel, Hnn, examples};
use liouville_dynamics::rollout::LearnedField;
use liouville_integrate::adaptive::{Adaptive, AdaptiveMethod, Output};
use liouville_sim::dataset::{DatasetSpec, Shard, SystemSpec, generate};
use liouville_tensor::train::TrainConfig;
use ndarray::{Array2, Axis, array};

fn tempdir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("liouville-dynamics-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn save_load_predict_gives_identical_outputs() {
    let dir = tempdir("io");
    let x = array![[0.3, -0.2], [1.0, 0.5], [-0.7, 0.1]];
    let hnn = Hnn::new(2, &[16, 16], 3).unwrap();
    hnn.save(&dir.join("hnn.safetensors")).unwrap();
    let back = Hnn::load(&dir.join("hnn.safetensors")).unwrap();
    assert_eq!(back.field(x.view()).unwrap(), hnn.field(x.view()).unwrap());
    let base = Baseline::new(2, &[16, 16], 3).unwrap();
    base.save(&dir.join("base.safetensors")).unwrap();
    let back = Baseline::load(&dir.join("base.safetensors")).unwrap();
    assert_eq!(back.field(x.view()).unwrap(), base.field(x.view()).unwrap());
    assert!(hnn.field(Array2::zeros((2, 3)).view()).is_err());
    assert!(Hnn::new(3, &[8], 0).is_err());
    std::fs::remove_dir_all(dir).unwrap();
}

/// dH_θ/dt = ∇H_θ · J∇H_θ = 0: any HNN, trained or not, conserves its own H along its flow.
#[test]
fn an_hnn_rollout_conserves_its_learned_energy() {
    let hnn = Hnn::new(4, &[32, 32], 11).unwrap();
    let y0 = array![[0.5, -0.3, 0.2, 0.4], [-0.1, 0.6, -0.5, 0.0]];
    let solver = Adaptive::new(AdaptiveMethod::Dop853)
        .rtol(1e-9)
        .atol(1e-9)
        .build()
        .unwrap();
    let times: Vec<f64> = (0..=20).map(|k| k as f64 * 0.5).collect();
    let sol = solver
        .solve(&LearnedField(&hnn), 0.0, 10.0, y0.view(), Output::Times(&times))
        .unwrap();
    let h0 = hnn.energy(y0.view()).unwrap();
    for state in sol.states.axis_iter(Axis(0)) {
        let h = hnn.energy(state).unwrap();
        for r in 0..2 {
            // f32 network, f64 integration: conservation to f32 round-off of H.
            assert!(
                (h[r] - h0[r]).abs() < 1e-4 * h0[r].abs().max(1.0),
                "{} vs {}",
                h[r],
                h0[r]
            );
        }
    }
}

#[test]
fn on_mass_spring_data_the_hnn_conserves_energy_better_than_the_baseline() {
    let spec = DatasetSpec::new(SystemSpec::hnn_mass_spring(), 20, 30, 3.0)
        .noise(0.1)
        .seed(1);
    let ds = generate(&spec, Shard::whole(), false).unwrap();
    let train = examples(&ds, &ds.train_indices()).unwrap();
    let cfg = TrainConfig {
        steps: 600,
        batch_size: 300,
        learning_rate: 3e-3,
        eval_every: 600,
        ..TrainConfig::default()
    };
    let mut hnn = Hnn::new(2, &[64, 64], 0).unwrap();
    let mut base = Baseline::new(2, &[64, 64], 0).unwrap();
    hnn.fit(&train, &cfg).unwrap();
    base.fit(&train, &cfg).unwrap();
    // True energy q² + p² along learned rollouts from a few starts, t ∈ [0, 20].
    let y0 = array![[0.5, 0.0], [0.0, -0.8], [0.4, 0.4]];
    let times: Vec<f64> = (0..=100).map(|k| k as f64 * 0.2).collect();
    let solver = Adaptive::new(AdaptiveMethod::Dopri5)
        .rtol(1e-8)
        .atol(1e-8)
        .build()
        .unwrap();
    let drift = |m: &(dyn DynamicsModel + Sync)| -> f64 {
        let sol = solver
            .solve(&LearnedField(m), 0.0, 20.0, y0.view(), Output::Times(&times))
            .unwrap();
        let e = |s: ndarray::ArrayView2<'_, f64>| {
            s.rows()
                .into_iter()
                .map(|r| r[0] * r[0] + r[1] * r[1])
                .collect::<Vec<_>>()
        };
        let e0 = e(y0.view());
        sol.states
            .axis_iter(Axis(0))
            .map(|s| e(s).iter().zip(&e0).map(|(a, b)| (a - b).powi(2)).sum::<f64>())
            .sum::<f64>()
            / (times.len() * 3) as f64
    };
    let (dh, db) = (drift(&hnn), drift(&base));
    println!("energy MSE over t in [0, 20]: HNN {dh:.3e}, baseline {db:.3e}");
    assert!(dh * 5.0 < db, "energy MSE: HNN {dh:e}, baseline {db:e}");
}

/// On a damped pendulum (ṗ = -g sin q - γp, unit mass and length, so ∂H/∂p = p and D = γ) the
/// dissipative HNN recovers the damping, and its energy decays along its own flow.
#[test]
fn the_dissipative_hnn_recovers_the_damping_of_a_damped_pendulum() {
    use liouville_dynamics::models::DissipativeHnn;
    let gamma = 0.3;
    let system = SystemSpec::DrivenPendulum {
        mass: 1.0,
        length: 1.0,
        gravity: 2.0,
        damping: gamma,
        amplitude: 0.0,
        frequency: 0.0,
    };
    let ds = generate(&DatasetSpec::new(system, 16, 40, 4.0).seed(3), Shard::whole(), false).unwrap();
    let train = examples(&ds, &ds.train_indices()).unwrap();
    let mut model = DissipativeHnn::new(2, &[32, 32], 0).unwrap();
    let cfg = TrainConfig {
        steps: 1500,
        batch_size: 128,
        learning_rate: 3e-3,
        eval_every: 1500,
        ..TrainConfig::default()
    };
    model.fit(&train, &cfg).unwrap();
    let d = model.damping()[[0, 0]];
    println!("learned damping {d:.4} (true {gamma})");
    assert!((d - gamma).abs() < 0.1 * gamma, "learned damping {d}, true {gamma}");
    // Save -> load -> identical predictions.
    let dir = tempdir("dhnn");
    model.save(&dir.join("d.safetensors")).unwrap();
    let back = DissipativeHnn::load(&dir.join("d.safetensors")).unwrap();
    let x = array![[0.4, -0.2], [1.0, 0.3]];
    assert_eq!(back.field(x.view()).unwrap(), model.field(x.view()).unwrap());
    std::fs::remove_dir_all(dir).unwrap();
}

/// On a damped, driven pendulum (ṗ = -g sin q - γp + A cos ωt, unit mass and length) a
/// port-Hamiltonian network given u(t) = cos ωt recovers both the damping D = γ and the input
/// gain B = A; rolled out with the same input it tracks the true driven motion.
#[test]
fn the_port_hamiltonian_network_recovers_damping_and_drive() {
    use liouville_dynamics::models::{DissipativeHnn, examples_with_input};
    use liouville_dynamics::rollout::WithInput;
    let (gamma, amplitude, omega) = (0.3, 0.8, 1.3);
    let system = SystemSpec::DrivenPendulum {
        mass: 1.0,
        length: 1.0,
        gravity: 2.0,
        damping: gamma,
        amplitude,
        frequency: omega,
    };
    let ds = generate(&DatasetSpec::new(system, 16, 60, 6.0).seed(4), Shard::whole(), false).unwrap();
    let drive = move |t: f64| vec![(omega * t).cos()];
    let train = examples_with_input(&ds, &ds.train_indices(), drive).unwrap();
    assert_eq!(train.input_width, 3);
    let mut model = DissipativeHnn::with_inputs(2, &[32, 32], 1, 0).unwrap();
    let cfg = TrainConfig {
        steps: 2000,
        batch_size: 128,
        learning_rate: 3e-3,
        eval_every: 2000,
        ..TrainConfig::default()
    };
    model.fit(&train, &cfg).unwrap();
    let (d, b) = (model.damping()[[0, 0]], model.input_gain()[[0, 0]]);
    println!("learned damping {d:.4} (true {gamma}), gain {b:.4} (true {amplitude})");
    assert!((d - gamma).abs() < 0.1 * gamma, "learned damping {d}, true {gamma}");
    assert!(
        (b - amplitude).abs() < 0.1 * amplitude,
        "learned gain {b}, true {amplitude}"
    );
    // Rolled out with the drive, it follows the true trajectory of a held-out start.
    let k = ds.test_indices()[0];
    let y0 = ds.states.slice(ndarray::s![k, 0..1, ..]).to_owned();
    let solver = Adaptive::new(AdaptiveMethod::Dop853)
        .rtol(1e-6)
        .atol(1e-6)
        .build()
        .unwrap();
    let field = WithInput {
        model: &model,
        input: drive,
    };
    let t_end = *ds.times.last().unwrap();
    let sol = solver.solve(&field, 0.0, t_end, y0.view(), Output::Final).unwrap();
    let last = ds.states.slice(ndarray::s![k, -1, ..]);
    let err = (&sol.states.slice(ndarray::s![-1, 0, ..]) - &last).mapv(f64::abs).sum();
    assert!(err < 0.1, "state error {err} at t = {t_end}");
    // Save -> load keeps the input channel.
    let dir = tempdir("phnn");
    model.save(&dir.join("p.safetensors")).unwrap();
    let back = DissipativeHnn::load(&dir.join("p.safetensors")).unwrap();
    let x = array![[0.4, -0.2, 0.5], [1.0, 0.3, -1.0]];
    assert_eq!(back.field(x.view()).unwrap(), model.field(x.view()).unwrap());
    assert!(model.field(array![[0.4, -0.2, 0.5, 1.0]].view()).is_err());
    std::fs::remove_dir_all(dir).unwrap();
}

/// An LNN learns the pendulum (unit mass and length, so p = q̇ and the dataset's (q, p) rows are
/// (q, q̇)): its accelerations match -g sin q on held-out states, and it saves and loads exactly.
#[test]
fn the_lnn_learns_pendulum_accelerations() {
    use liouville_dynamics::models::Lnn;
    let system = SystemSpec::Pendulum {
        mass: 1.0,
        length: 1.0,
        gravity: 2.0,
        radius: (0.3, 1.2),
    };
    let ds = generate(&DatasetSpec::new(system, 16, 40, 4.0).seed(5), Shard::whole(), false).unwrap();
    let (train, test) = (
        examples(&ds, &ds.train_indices()).unwrap(),
        examples(&ds, &ds.test_indices()).unwrap(),
    );
    let mut lnn = Lnn::new(2, &[32, 32], true, 0).unwrap();
    let cfg = TrainConfig {
        steps: 1500,
        batch_size: 128,
        learning_rate: 3e-3,
        eval_every: 1500,
        ..TrainConfig::default()
    };
    lnn.fit(&train, &cfg).unwrap();
    let x = Array2::from_shape_vec((test.rows(), 2), test.inputs.clone()).unwrap();
    let f = lnn.field(x.view()).unwrap();
    let mse = (0..x.nrows())
        .map(|r| (f[[r, 1]] - test.targets[2 * r + 1]).powi(2))
        .sum::<f64>()
        / x.nrows() as f64;
    let scale = (0..x.nrows()).map(|r| test.targets[2 * r + 1].powi(2)).sum::<f64>() / x.nrows() as f64;
    println!("LNN acceleration MSE {mse:e} (signal {scale:e})");
    assert!(mse < 1e-2 * scale, "acceleration MSE {mse:e} vs signal {scale:e}");
    let dir = tempdir("lnn");
    lnn.save(&dir.join("l.safetensors")).unwrap();
    let back = Lnn::load(&dir.join("l.safetensors")).unwrap();
    assert_eq!(back.field(x.view()).unwrap(), f);
    assert!(Lnn::new(6, &[8], true, 0).is_err());
    std::fs::remove_dir_all(dir).unwrap();
}
