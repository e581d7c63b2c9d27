//! The one load path: every catalog kind trains (with a validation split, writing its best
//! checkpoint), saves, and loads back through `catalog::load` — the final model with identical
//! predictions, the best one as a model of the same kind — and a checkpoint of another kind,
//! version, dtype or configuration is refused with a typed error naming what differs.

use liouville_dynamics::DynamicsError;
use liouville_dynamics::catalog::{self, ModelKind, ModelOptions};
use liouville_dynamics::models::{DynamicsModel, FieldConfig, Hnn};
use liouville_dynamics::sympnet::SympNetModel;
use liouville_sim::dataset::{Dataset, DatasetSpec, Shard, SystemSpec, generate};
use liouville_tensor::checkpoint;
use liouville_tensor::config::Configured;
use liouville_tensor::device::HostDevice;
use liouville_tensor::train::TrainConfig;
use liouville_tensor::{Activation, TensorError};
use ndarray::{Array2, Axis};

fn pendulum() -> Dataset {
    let spec = DatasetSpec::new(SystemSpec::hnn_pendulum(), 8, 12, 2.0).seed(3);
    generate(&spec, Shard::whole(), false).unwrap()
}

fn mismatch(e: DynamicsError) -> (String, String, String) {
    match e {
        DynamicsError::Tensor(TensorError::CheckpointMismatch {
            field, expected, found, ..
        }) => (field, expected, found),
        other => panic!("expected a checkpoint mismatch, got {other}"),
    }
}

#[test]
fn every_kind_round_trips_including_the_best_checkpoint_of_a_validated_run() {
    let ds = pendulum();
    let dir = tempfile::tempdir().unwrap();
    let options = ModelOptions::default();
    let rows: Vec<usize> = (0..ds.states.len_of(Axis(0))).collect();
    let probe = Array2::from_shape_fn((5, 2), |(r, c)| 0.3 * r as f64 - 0.5 + 0.2 * c as f64);
    for kind in ModelKind::ALL {
        let mut model = kind.build(&ds, &[16], &options, 1).unwrap();
        let data = kind.examples(&ds, &rows, &options).unwrap();
        let best = dir.path().join(format!("{}-best.safetensors", kind.name()));
        let cfg = TrainConfig {
            steps: 24,
            batch_size: 32,
            validation_fraction: 0.25,
            eval_every: 6,
            checkpoint: Some(best.clone()),
            ..TrainConfig::default()
        };
        let report = model.fit(&data, &cfg).unwrap();
        assert_eq!(report.validation_curve.len(), 4, "{}", kind.name());
        // The final model: save -> load -> identical predictions.
        let last = dir.path().join(format!("{}.safetensors", kind.name()));
        model.save(&last).unwrap();
        let (back_kind, back) = catalog::load(&last).unwrap();
        assert_eq!(back_kind, kind);
        assert_eq!(
            back.field(probe.view()).unwrap(),
            model.field(probe.view()).unwrap(),
            "{}",
            kind.name()
        );
        // The best checkpoint of the validated run is a model of the same kind, at a recorded step.
        let header = checkpoint::read_header(&best).unwrap();
        assert_eq!(header.kind, kind.name());
        assert!(header.step.is_some_and(|s| s % 6 == 0 && s <= 24), "{header:?}");
        assert!(
            header
                .loss
                .is_some_and(|l| (l - report.best_loss).abs() <= 1e-12 * l.abs()),
            "{header:?} vs {}",
            report.best_loss
        );
        let (best_kind, best_model) = catalog::load(&best).unwrap();
        assert_eq!(best_kind, kind);
        assert!(best_model.field(probe.view()).unwrap().iter().all(|v| v.is_finite()));
    }
}

#[test]
fn mismatched_checkpoints_are_typed_errors_naming_what_differs() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.safetensors");
    let ds = pendulum();
    let model = ModelKind::Baseline
        .build(&ds, &[8], &ModelOptions::default(), 0)
        .unwrap();
    model.save(&baseline).unwrap();
    // Another kind.
    assert_eq!(
        mismatch(Hnn::load(&baseline).unwrap_err()),
        ("kind".into(), "hnn".into(), "baseline".into())
    );
    // Another configuration, into an existing model: the first differing field is named.
    let hnn_path = dir.path().join("hnn.safetensors");
    Hnn::new(2, &[8, 8], 0).unwrap().save(&hnn_path).unwrap();
    let mut wider = Hnn::new(2, &[8, 16], 0).unwrap();
    let e = checkpoint::load_into(&mut wider, &hnn_path).unwrap_err();
    match e {
        TensorError::CheckpointMismatch {
            field, expected, found, ..
        } => assert_eq!(
            (field.as_str(), expected.as_str(), found.as_str()),
            ("config.hidden.1", "16", "8")
        ),
        other => panic!("{other}"),
    }
    // Another shape: a header whose config promises wider layers than the tensors hold is
    // refused at the first tensor that differs.
    let bytes = std::fs::read(&hnn_path).unwrap();
    let mut header = checkpoint::read_header(&hnn_path).unwrap();
    header.config["hidden"] = serde_json::json!([8, 16]);
    let forged = dir.path().join("forged.safetensors");
    std::fs::write(
        &forged,
        rewrite_header(&bytes, &serde_json::to_string(&header).unwrap()),
    )
    .unwrap();
    assert_eq!(
        mismatch(Hnn::load(&forged).unwrap_err()),
        ("layers.1.weight".into(), "[8, 16]".into(), "[8, 8]".into())
    );
    // An HNN's tensors under a header that says baseline (the same config shape): refused at the
    // output layer, whose width differs (1 vs 2), never a panic at rollout.
    let mut header = checkpoint::read_header(&hnn_path).unwrap();
    header.kind = "baseline".into();
    let relabelled = dir.path().join("relabelled.safetensors");
    std::fs::write(
        &relabelled,
        rewrite_header(&bytes, &serde_json::to_string(&header).unwrap()),
    )
    .unwrap();
    let (field, expected, found) = mismatch(load_error(&relabelled));
    assert_eq!(
        (field.as_str(), expected.as_str(), found.as_str()),
        ("layers.2.weight", "[8, 2]", "[8, 1]")
    );
    // Another dtype: a SympNet map is f64, the catalog's models f32; and its kind is no
    // vector-field model.
    let map = dir.path().join("map.safetensors");
    SympNetModel::g(1, 2, 4, Activation::Tanh, 0.1, 0)
        .unwrap()
        .save(&map)
        .unwrap();
    let (field, _, found) = mismatch(load_error(&map));
    assert_eq!((field.as_str(), found.as_str()), ("kind", "sympnet"));
    let hnn64 = dir.path().join("hnn64.safetensors");
    let dev = HostDevice::default();
    checkpoint::save(
        &Hnn::<f64, HostDevice>::from_config(&FieldConfig::new(2, &[8]), &dev, 0).unwrap(),
        &hnn64,
        None,
    )
    .unwrap();
    assert_eq!(
        mismatch(Hnn::load(&hnn64).unwrap_err()),
        ("dtype".into(), "F32".into(), "F64".into())
    );
    // Another format version: a version-1 header (`k=v;` strings) is refused as such.
    let bytes = std::fs::read(&baseline).unwrap();
    let v1 = rewrite_header(
        &bytes,
        "format=liouville-v1;dtype=F32;model=baseline;widths=2,8,2;activation=tanh",
    );
    let old = dir.path().join("v1.safetensors");
    std::fs::write(&old, v1).unwrap();
    assert_eq!(mismatch(load_error(&old)), ("version".into(), "2".into(), "1".into()));
    // Truncated and missing files are errors too, never panics.
    let cut = dir.path().join("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    assert!(catalog::load(&cut).is_err());
    assert!(catalog::load(&dir.path().join("missing.safetensors")).is_err());
}

/// The same safetensors tensors with the `liouville` metadata replaced by `meta`.
fn rewrite_header(bytes: &[u8], meta: &str) -> Vec<u8> {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    header["__metadata__"]["liouville"] = serde_json::Value::String(meta.into());
    let mut text = serde_json::to_vec(&header).unwrap();
    while !text.len().is_multiple_of(8) {
        text.push(b' ');
    }
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend(text);
    out.extend(&bytes[8 + n..]);
    out
}

/// The error of loading `path` through the catalog.
fn load_error(path: &std::path::Path) -> DynamicsError {
    match catalog::load(path) {
        Ok((kind, _)) => panic!("{} loaded as {kind:?}", path.display()),
        Err(e) => e,
    }
}

#[test]
fn sympnet_best_checkpoints_load_too() {
    let dir = tempfile::tempdir().unwrap();
    let ds = pendulum();
    let rows: Vec<usize> = (0..ds.states.len_of(Axis(0))).collect();
    let data = liouville_dynamics::neural_ode::windows(&ds, &rows, 1).unwrap();
    let mut map = SympNetModel::la(1, 2, 2, Activation::Sigmoid, ds.times[1] - ds.times[0], 4).unwrap();
    let best = dir.path().join("best.safetensors");
    let cfg = TrainConfig {
        steps: 20,
        validation_fraction: 0.2,
        eval_every: 5,
        checkpoint: Some(best.clone()),
        ..TrainConfig::default()
    };
    map.fit(&data, &cfg).unwrap();
    let back = SympNetModel::load(&best).unwrap();
    assert_eq!(back.dt(), map.dt());
    let x = Array2::from_shape_fn((3, 2), |(r, c)| 0.1 * (r + c) as f64);
    assert!(back.step(x.view()).unwrap().iter().all(|v| v.is_finite()));
}
