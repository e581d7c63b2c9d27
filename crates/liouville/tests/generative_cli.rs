//! `liouville generative train|sample|eval` end to end on small settings: each model trains on
//! named data and on a CSV file, its checkpoint samples and evaluates, and trained models score
//! better than untrained ones; bad input is an error naming what is wrong. `boltzmann`: the mass
//! on a spring (exact ln Z = ln 2πT) trained by energy and the double well by example reach their
//! exact ln Z, and the checkpoint samples through `sample`.

use std::path::PathBuf;

use liouville::generative_commands::{
    BoltzmannArgs, BoltzmannMethod, DataArgs, EvalArgs, ModelName, SampleArgs, TargetName, TrainModelArgs, boltzmann,
    eval, sample, train_model,
};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("liouville-generative-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn data(name: &str, rows: usize, seed: u64) -> DataArgs {
    DataArgs {
        data: name.into(),
        rows,
        data_seed: seed,
    }
}

fn train_args(model: ModelName, data: DataArgs, steps: usize, output: PathBuf) -> TrainModelArgs {
    TrainModelArgs {
        model,
        data,
        steps,
        learning_rate: None,
        width: 32,
        condition_columns: 0,
        bins: 8,
        bound: 4.0,
        latent: 2,
        noise_std: 0.05,
        beta: 1.0,
        seed: 0,
        output,
    }
}

/// The number after `label` in a report line.
fn number_after(report: &str, label: &str) -> f64 {
    let at = report.find(label).unwrap_or_else(|| panic!("no {label:?} in {report}")) + label.len();
    report[at..]
        .trim_start()
        .split(|c: char| c.is_whitespace() || c == ',')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|e| panic!("{e}: {report}"))
}

#[test]
fn every_model_trains_samples_and_beats_its_untrained_self() {
    let dir = scratch("models");
    for (model, steps) in [
        (ModelName::Realnvp, 600),
        (ModelName::SplineFlow, 600),
        (ModelName::Maf, 600),
        (ModelName::WganGp, 150),
        (ModelName::Vae, 800),
    ] {
        let fresh = dir.join(format!("{model:?}-fresh.ckpt"));
        let trained = dir.join(format!("{model:?}.ckpt"));
        train_model(&train_args(model, data("two-moons", 2000, 0), 1, fresh.clone()), false).unwrap();
        let report = train_model(
            &train_args(model, data("two-moons", 2000, 0), steps, trained.clone()),
            false,
        )
        .unwrap();
        assert!(report.contains("wrote"), "{report}");
        let eval_args = |checkpoint: PathBuf| EvalArgs {
            checkpoint,
            data: data("two-moons", 1000, 9),
            seed: 1,
        };
        let before = eval(&eval_args(fresh)).unwrap();
        let after = eval(&eval_args(trained.clone())).unwrap();
        let d = |r: &str| number_after(r, "data rows:");
        assert!(d(&after) < 0.5 * d(&before), "{model:?}: {before}\n{after}");
        if matches!(model, ModelName::Realnvp | ModelName::SplineFlow | ModelName::Maf) {
            let nll = |r: &str| number_after(r, "log-likelihood");
            assert!(
                nll(&after) < nll(&before) - 0.5 && nll(&after) < 1.6,
                "{before}\n{after}"
            );
        }
        if model == ModelName::Vae {
            let elbo = number_after(&after, "ELBO");
            let iwae = number_after(&after, "IWAE bound (64 samples)");
            assert!(iwae >= elbo - 1e-6, "{after}");
        }
        let csv = dir.join(format!("{model:?}.csv"));
        let out = sample(&SampleArgs {
            checkpoint: trained,
            count: 50,
            seed: 3,
            condition: None,
            output: csv.clone(),
        })
        .unwrap();
        assert!(out.contains("50 samples of 2 columns"), "{out}");
        let text = std::fs::read_to_string(&csv).unwrap();
        assert_eq!(text.lines().next(), Some("x1,x2"));
        assert_eq!(text.lines().count(), 51);
    }
}

/// Rows `x1,x2,upper,lower` of two moons with the one-hot moon.
fn labelled_moons_csv(path: &std::path::Path, n: usize, seed: u64) {
    let mut csv = String::from("x1,x2,upper,lower\n");
    for (i, p) in liouville_generative::datasets::two_moons(n, 0.1, seed)
        .chunks(2)
        .enumerate()
    {
        let upper = (i % 2 == 0) as u8;
        csv.push_str(&format!("{},{},{upper},{}\n", p[0], p[1], 1 - upper));
    }
    std::fs::write(path, csv).unwrap();
}

/// A conditional spline flow from the command line: the last two CSV columns are the condition;
/// eval scores x given them (well below the unconditional entropy of 1.008 nats), and samples
/// for the upper moon lie on it; a missing or wrong condition is named.
#[test]
fn a_conditional_flow_trains_scores_and_samples_from_the_command_line() {
    let dir = scratch("conditional");
    let (train_csv, held_csv) = (dir.join("train.csv"), dir.join("held.csv"));
    labelled_moons_csv(&train_csv, 3000, 1);
    labelled_moons_csv(&held_csv, 1000, 2);
    let ckpt = dir.join("cflow.ckpt");
    let mut args = train_args(
        ModelName::SplineFlow,
        data(train_csv.to_str().unwrap(), 1, 0),
        800,
        ckpt.clone(),
    );
    args.condition_columns = 2;
    args.learning_rate = Some(3e-3);
    let report = train_model(&args, false).unwrap();
    assert!(report.contains("wrote"), "{report}");
    let scored = eval(&EvalArgs {
        checkpoint: ckpt.clone(),
        data: data(held_csv.to_str().unwrap(), 1, 0),
        seed: 1,
    })
    .unwrap();
    let nll = number_after(&scored, "log-likelihood");
    assert!(scored.contains("conditional spline flow") && nll < 0.7, "{scored}");
    let out = dir.join("upper.csv");
    let sample_args = |condition: Option<&str>| SampleArgs {
        checkpoint: ckpt.clone(),
        count: 200,
        seed: 4,
        condition: condition.map(str::to_string),
        output: out.clone(),
    };
    sample(&sample_args(Some("1,0"))).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let on_upper = text
        .lines()
        .skip(1)
        .filter(|l| {
            let v: Vec<f64> = l.split(',').map(|x| x.parse().unwrap()).collect();
            v[0] < 1.3 && (v[1] - (1.0 - v[0].clamp(-1.0, 1.0).powi(2)).sqrt()).abs() < 0.35
        })
        .count();
    assert!(on_upper > 170, "{on_upper} of 200 samples for the upper moon lie on it");
    for (condition, message) in [
        (None, "pass --condition"),
        (Some("1"), "condition of 1 values"),
        (Some("1,x"), "not a finite number"),
    ] {
        let err = sample(&sample_args(condition)).unwrap_err();
        assert!(err.contains(message), "{condition:?}: {err}");
    }
    let mut vae = train_args(
        ModelName::Vae,
        data(train_csv.to_str().unwrap(), 1, 0),
        5,
        dir.join("v.ckpt"),
    );
    vae.condition_columns = 2;
    assert!(train_model(&vae, false).unwrap_err().contains("--condition-columns"));
}

#[test]
fn csv_rows_train_and_bad_input_is_named() {
    let dir = scratch("csv");
    // Three columns on a noisy line: a CSV of any width works.
    let mut csv = String::from("a,b,c\n");
    for i in 0..300 {
        let t = i as f64 / 300.0 - 0.5;
        csv.push_str(&format!("{t},{},{}\n", 2.0 * t + 0.01 * ((i * 7) % 5) as f64, -t));
    }
    let path = dir.join("rows.csv");
    std::fs::write(&path, csv).unwrap();
    let ckpt = dir.join("vae.ckpt");
    train_model(
        &train_args(ModelName::Vae, data(path.to_str().unwrap(), 1, 0), 50, ckpt.clone()),
        false,
    )
    .unwrap();
    let report = eval(&EvalArgs {
        checkpoint: ckpt.clone(),
        data: data(path.to_str().unwrap(), 1, 0),
        seed: 0,
    })
    .unwrap();
    assert!(report.contains("KL per latent"), "{report}");

    // Bad input.
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "a,b\n1,2\n3,NaN\n").unwrap();
    let err = train_model(
        &train_args(
            ModelName::Realnvp,
            data(bad.to_str().unwrap(), 1, 0),
            5,
            dir.join("x.ckpt"),
        ),
        false,
    )
    .unwrap_err();
    assert!(err.contains("NaN"), "{err}");
    let err = train_model(
        &train_args(
            ModelName::Realnvp,
            data("no-such-file.csv", 1, 0),
            5,
            dir.join("x.ckpt"),
        ),
        false,
    )
    .unwrap_err();
    assert!(err.contains("no-such-file.csv"), "{err}");
    let err = eval(&EvalArgs {
        checkpoint: ckpt.clone(),
        data: data("two-moons", 100, 0),
        seed: 0,
    })
    .unwrap_err();
    assert!(err.contains("widths"), "{err}");
    let err = train_model(
        &train_args(ModelName::Gan, data("pendulum-shell", 0, 0), 5, dir.join("x.ckpt")),
        false,
    )
    .unwrap_err();
    assert!(err.contains("--rows"), "{err}");
    std::fs::write(dir.join("junk.ckpt"), b"not a checkpoint").unwrap();
    assert!(
        sample(&SampleArgs {
            checkpoint: dir.join("junk.ckpt"),
            count: 5,
            seed: 0,
            condition: None,
            output: dir.join("s.csv"),
        })
        .is_err()
    );
    assert!(!dir.join("s.csv").exists());
}

fn boltzmann_args(target: TargetName, method: BoltzmannMethod, steps: usize, output: PathBuf) -> BoltzmannArgs {
    BoltzmannArgs {
        target,
        method,
        temperature: 2.0,
        steps,
        width: 32,
        eval_samples: 20_000,
        seed: 0,
        output,
    }
}

#[test]
fn boltzmann_generators_reach_exact_partition_functions_and_sample() {
    let dir = scratch("boltzmann");
    let spring = dir.join("spring.safetensors");
    let report = boltzmann(
        &boltzmann_args(TargetName::MassSpring, BoltzmannMethod::Energy, 600, spring.clone()),
        false,
    )
    .unwrap();
    eprintln!("{report}");
    let exact = (2.0 * std::f64::consts::PI * 2.0).ln();
    assert!((number_after(&report, "ln Z") - exact).abs() < 0.03, "{report}");
    assert!(number_after(&report, "ESS") > 80.0, "{report}");
    let well = dir.join("well.safetensors");
    let report = boltzmann(
        &boltzmann_args(TargetName::DoubleWell, BoltzmannMethod::Example, 800, well.clone()),
        false,
    )
    .unwrap();
    eprintln!("{report}");
    assert!((number_after(&report, "ln Z") - 5.21194).abs() < 0.05, "{report}");
    assert!((number_after(&report, "P(x₀ > 0)") - 0.5).abs() < 0.03, "{report}");
    let csv = dir.join("samples.csv");
    sample(&SampleArgs {
        checkpoint: well,
        count: 100,
        seed: 3,
        condition: None,
        output: csv.clone(),
    })
    .unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 101);
    assert!(text.starts_with("x1,x2\n"));
}

#[test]
fn bad_boltzmann_settings_are_named() {
    let dir = scratch("boltzmann-bad");
    let out = dir.join("x.safetensors");
    let e = boltzmann(
        &boltzmann_args(TargetName::DoubleWell, BoltzmannMethod::Energy, 0, out.clone()),
        false,
    )
    .unwrap_err();
    assert!(e.contains("--steps 0"), "{e}");
    let cold = BoltzmannArgs {
        temperature: -1.0,
        ..boltzmann_args(TargetName::MassSpring, BoltzmannMethod::Energy, 10, out.clone())
    };
    let e = boltzmann(&cold, false).unwrap_err();
    assert!(e.contains("-1"), "{e}");
    assert!(!out.exists());
}
