//! The subcommands end to end on small settings: gen → train (flags and TOML) → rollout → plot,
//! for a Hamiltonian, a Lagrangian and a neural-ODE model, and typed errors on bad input.

use std::path::{Path, PathBuf};

use liouville::commands::{GenArgs, PlotArgs, RolloutArgs, TrainArgs, gen_data, plot, rollout, train};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("liouville-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn gen_args(system: &str, output: PathBuf) -> GenArgs {
    GenArgs {
        system: system.into(),
        trajectories: Some(12),
        samples: Some(20),
        t_end: None,
        noise: None,
        test_fraction: Some(0.25),
        seed: 1,
        output,
        max_gigabytes: 4.0,
        max_steps: 1_000_000,
    }
}

fn train_args(data: &Path, model: Option<&str>, output: PathBuf) -> TrainArgs {
    TrainArgs {
        data: data.to_owned(),
        model: model.map(str::to_string),
        hidden: Some(vec![16, 16]),
        steps: Some(60),
        batch: Some(64),
        learning_rate: None,
        weight_decay: None,
        seed: None,
        horizon: None,
        substeps: None,
        gradient: None,
        config: None,
        metrics: None,
        validation: None,
        best: None,
        output,
    }
}

fn rollout_args(model: PathBuf, data: Option<PathBuf>, start: Option<Vec<f64>>, output: PathBuf) -> RolloutArgs {
    RolloutArgs {
        model,
        data,
        start,
        starts: 2,
        t_end: 2.0,
        points: 21,
        tolerance: 1e-6,
        max_steps: 100_000,
        output,
    }
}

#[test]
fn gen_train_rollout_plot_round_trip() {
    let dir = scratch("round-trip");
    let data = dir.join("pendulum.lds");
    let msg = gen_data(&gen_args("pendulum", data.clone()), false).unwrap();
    assert!(msg.contains("12 trajectories"), "{msg}");

    // Settings from a TOML file; the flag-less fields come from it.
    let config = dir.join("hnn.toml");
    std::fs::write(
        &config,
        "model = \"hnn\"\nhidden = [8]\nsteps = 40\nlearning_rate = 2e-3\n",
    )
    .unwrap();
    let mut args = train_args(&data, None, dir.join("hnn.safetensors"));
    args.hidden = None;
    args.steps = None;
    args.config = Some(config);
    args.metrics = Some(dir.join("metrics.jsonl"));
    let msg = train(&args, false).unwrap();
    assert!(msg.contains("trained hnn (40 steps)"), "{msg}");
    assert!(
        std::fs::read_to_string(dir.join("metrics.jsonl"))
            .unwrap()
            .contains("train_loss")
    );

    let csv = dir.join("hnn.csv");
    rollout(&rollout_args(
        dir.join("hnn.safetensors"),
        Some(data.clone()),
        None,
        csv.clone(),
    ))
    .unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("t,trajectory,q,p"));
    assert_eq!(lines.count(), 2 * 21);

    let png = dir.join("phase.png");
    let msg = plot(&PlotArgs {
        input: csv,
        x: "q".into(),
        y: vec!["p".into()],
        log_y: false,
        title: "phase".into(),
        output: png.clone(),
    })
    .unwrap();
    assert!(msg.contains("2 series"), "{msg}");
    assert!(std::fs::metadata(&png).unwrap().len() > 1000);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn lagrangian_and_neural_ode_models_train_and_roll_out() {
    let dir = scratch("models");
    let data = dir.join("double.lds");
    gen_data(&gen_args("double_pendulum", data.clone()), false).unwrap();
    train(&train_args(&data, Some("lnn"), dir.join("lnn.safetensors")), false).unwrap();
    let csv = dir.join("lnn.csv");
    rollout(&rollout_args(
        dir.join("lnn.safetensors"),
        Some(data.clone()),
        None,
        csv.clone(),
    ))
    .unwrap();
    assert!(
        std::fs::read_to_string(&csv)
            .unwrap()
            .starts_with("t,trajectory,q0,q1,qdot0,qdot1")
    );

    let msg = train(
        &train_args(&data, Some("neural-ode"), dir.join("node.safetensors")),
        false,
    )
    .unwrap();
    assert!(msg.contains("neural_ode"), "{msg}");
    let start = Some(vec![0.1, -0.2, 0.0, 0.0]);
    rollout(&rollout_args(
        dir.join("node.safetensors"),
        None,
        start,
        dir.join("node.csv"),
    ))
    .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A run with validation writes its best model as it trains; that checkpoint rolls out like the
/// final one (it records its kind and config).
#[test]
fn the_best_checkpoint_of_a_validated_run_rolls_out() {
    let dir = scratch("best");
    let data = dir.join("pendulum.lds");
    gen_data(&gen_args("pendulum", data.clone()), false).unwrap();
    let mut args = train_args(&data, Some("hnn"), dir.join("final.safetensors"));
    args.validation = Some(0.25);
    args.best = Some(dir.join("best.safetensors"));
    train(&args, false).unwrap();
    let csv = dir.join("best.csv");
    rollout(&rollout_args(
        dir.join("best.safetensors"),
        Some(data),
        None,
        csv.clone(),
    ))
    .unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().next(), Some("t,trajectory,q,p"));
    assert_eq!(text.lines().count(), 1 + 2 * 21);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let dir = scratch("bad");
    let data = dir.join("spring.lds");
    assert!(gen_data(&gen_args("no_such_system", data.clone()), false).is_err());
    gen_data(&gen_args("mass_spring", data.clone()), false).unwrap();
    assert!(
        train(
            &train_args(&data, Some("no_such_model"), dir.join("m.safetensors")),
            false
        )
        .is_err()
    );
    // LNNs need a known Legendre map; two-body has none here.
    let two_body = dir.join("two_body.lds");
    let mut g = gen_args("two_body", two_body.clone());
    g.trajectories = Some(4);
    gen_data(&g, false).unwrap();
    assert!(train(&train_args(&two_body, Some("lnn"), dir.join("m.safetensors")), false).is_err());
    // Unknown TOML keys, corrupt datasets and non-checkpoints are reported.
    let config = dir.join("bad.toml");
    std::fs::write(&config, "modle = \"hnn\"\n").unwrap();
    let mut args = train_args(&data, Some("hnn"), dir.join("m.safetensors"));
    args.config = Some(config);
    assert!(train(&args, false).unwrap_err().contains("unknown field"));
    let corrupt = dir.join("corrupt.lds");
    let mut bytes = std::fs::read(&data).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xFF;
    std::fs::write(&corrupt, bytes).unwrap();
    assert!(train(&train_args(&corrupt, Some("hnn"), dir.join("m.safetensors")), false).is_err());
    assert!(
        rollout(&rollout_args(
            data.clone(),
            None,
            Some(vec![1.0, 0.0]),
            dir.join("r.csv")
        ))
        .is_err()
    );
    // A start of the wrong length for the model.
    train(&train_args(&data, Some("baseline"), dir.join("b.safetensors")), false).unwrap();
    assert!(
        rollout(&rollout_args(
            dir.join("b.safetensors"),
            None,
            Some(vec![1.0]),
            dir.join("r.csv")
        ))
        .is_err()
    );
    // A CSV with a ragged row.
    let ragged = dir.join("ragged.csv");
    std::fs::write(&ragged, "t,q\n0,1\n1\n").unwrap();
    let p = PlotArgs {
        input: ragged,
        x: "t".into(),
        y: vec![],
        log_y: false,
        title: String::new(),
        output: dir.join("x.png"),
    };
    assert!(plot(&p).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Settings that used to hang, exhaust memory or silently write the wrong format (issue 13) are
/// typed errors that name the value, returned before or shortly after the work starts.
#[test]
fn absurd_settings_are_refused_with_the_value_named() {
    let dir = scratch("absurd");
    // A horizon no step budget reaches: the error names t_end and the budget.
    let mut g = gen_args("pendulum", dir.join("far.lds"));
    g.t_end = Some(1e300);
    g.max_steps = 20_000;
    let err = gen_data(&g, false).unwrap_err();
    assert!(
        err.contains("t_end = 1e300") && err.contains("20000") && err.contains("--max-steps"),
        "{err}"
    );
    assert!(!dir.join("far.lds").exists());
    // 10⁸ samples would need tens of GB: refused up front, nothing allocated.
    let mut g = gen_args("pendulum", dir.join("huge.lds"));
    g.samples = Some(100_000_000);
    let err = gen_data(&g, false).unwrap_err();
    assert!(
        err.contains("over the limit") && err.contains("--max-gigabytes"),
        "{err}"
    );
    // ...and the limit can be raised past the estimate of a small run.
    let mut g = gen_args("pendulum", dir.join("small.lds"));
    g.max_gigabytes = 1e-6;
    assert!(gen_data(&g, false).unwrap_err().contains("over the limit"));
    // The extension decides the format in any case; an unknown one is an error naming it.
    let upper = dir.join("x.NPZ");
    gen_data(&gen_args("pendulum", upper.clone()), false).unwrap();
    assert_eq!(&std::fs::read(&upper).unwrap()[..2], b"PK", "an .NPZ is a zip archive");
    let err = gen_data(&gen_args("pendulum", dir.join("x.csv")), false).unwrap_err();
    assert!(err.contains(".csv"), "{err}");
    assert!(!dir.join("x.csv").exists());

    // Rollouts: a horizon beyond the step budget, and zero starts.
    let data = dir.join("spring.lds");
    gen_data(&gen_args("mass_spring", data.clone()), false).unwrap();
    let model = dir.join("hnn.safetensors");
    train(&train_args(&data, Some("hnn"), model.clone()), false).unwrap();
    let mut r = rollout_args(model.clone(), Some(data.clone()), None, dir.join("far.csv"));
    r.t_end = 1e9;
    r.max_steps = 500;
    let err = rollout(&r).unwrap_err();
    assert!(
        err.contains("t_end = 1e9") && err.contains("500") && err.contains("--max-steps"),
        "{err}"
    );
    assert!(!dir.join("far.csv").exists());
    let mut r = rollout_args(model, Some(data), None, dir.join("none.csv"));
    r.starts = 0;
    assert!(rollout(&r).unwrap_err().contains("--starts"));
    // A CSV spanning ±1e308 cannot be drawn: an error naming the span, not a hang.
    let wide = dir.join("wide.csv");
    std::fs::write(&wide, "t,q\n0,1e308\n1,-1e308\n").unwrap();
    let p = PlotArgs {
        input: wide,
        x: "t".into(),
        y: vec!["q".into()],
        log_y: false,
        title: String::new(),
        output: dir.join("wide.png"),
    };
    let err = plot(&p).unwrap_err();
    assert!(err.contains("1e308") && err.contains("span"), "{err}");
    assert!(!dir.join("wide.png").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Misleading or silent answers to wrong training settings (issue 13) now name what is wrong.
#[test]
fn wrong_training_settings_name_the_setting() {
    let dir = scratch("settings");
    let data = dir.join("spring.lds");
    gen_data(&gen_args("mass_spring", data.clone()), false).unwrap();
    // An empty hidden list used to train a linear model without a word.
    let mut a = train_args(&data, Some("hnn"), dir.join("m.safetensors"));
    a.hidden = Some(vec![]);
    let err = train(&a, false).unwrap_err();
    assert!(err.contains("hidden widths []") && err.contains("linear"), "{err}");
    // Zero substeps used to be a "shape mismatch".
    let mut a = train_args(&data, Some("srnn"), dir.join("m.safetensors"));
    a.substeps = Some(0);
    let err = train(&a, false).unwrap_err();
    assert!(err.contains("substeps = 0") && !err.contains("shape mismatch"), "{err}");
    let mut a = train_args(&data, Some("neural_ode"), dir.join("m.safetensors"));
    a.substeps = Some(0);
    assert!(train(&a, false).unwrap_err().contains("substeps = 0"));
    // An LNN on a 12-component three-body state used to be told it "has 2 components".
    let three = dir.join("three.lds");
    let mut g = gen_args("three_body", three.clone());
    g.trajectories = Some(4);
    gen_data(&g, false).unwrap();
    let err = train(&train_args(&three, Some("lnn"), dir.join("m.safetensors")), false).unwrap_err();
    assert!(
        err.contains("Legendre map") && err.contains("three_body") && !err.contains("2 components"),
        "{err}"
    );
    // An invalid TOML value names its key and line, not the whole configuration.
    let config = dir.join("bad_value.toml");
    std::fs::write(&config, "model = \"hnn\"\nsteps = \"many\"\n").unwrap();
    let mut a = train_args(&data, None, dir.join("m.safetensors"));
    a.steps = None;
    a.config = Some(config);
    let err = train(&a, false).unwrap_err();
    assert!(
        err.contains("line 2") && err.contains("steps") && !err.contains("TrainConfig"),
        "{err}"
    );
    // A conservative model on a dissipative system trains, with a warning that says why it fits badly.
    let seir = dir.join("seir.lds");
    let mut g = gen_args("seir", seir.clone());
    g.trajectories = Some(4);
    gen_data(&g, false).unwrap();
    let summary = train(&train_args(&seir, Some("hnn"), dir.join("m.safetensors")), false).unwrap();
    assert!(
        summary.contains("warning: hnn conserves") && summary.contains("seir"),
        "{summary}"
    );
    let summary = train(&train_args(&seir, Some("baseline"), dir.join("m.safetensors")), false).unwrap();
    assert!(!summary.contains("warning"), "{summary}");
    // A numpy export handed to train used to be "bad magic".
    let npz = dir.join("spring.npz");
    gen_data(&gen_args("mass_spring", npz.clone()), false).unwrap();
    let err = train(&train_args(&npz, Some("hnn"), dir.join("m.safetensors")), false).unwrap_err();
    assert!(err.contains(".npz") && err.contains(".lds"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every choice is listed by `--help` (issue 13), `ising` is one of `gen`'s systems, and the plot
/// folder is a flag of the commands that plot, not of every subcommand.
#[test]
fn help_lists_the_choices_and_scopes_the_plot_folder() {
    let help = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_liouville"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let gen_help = help(&["gen", "--help"]);
    for system in liouville_sim::dataset::DatasetSpec::STANDARD_NAMES {
        assert!(gen_help.contains(system), "gen --help lacks {system}");
    }
    let train_help = help(&["train", "--help"]);
    for kind in liouville_dynamics::catalog::ModelKind::ALL {
        assert!(train_help.contains(kind.name()), "train --help lacks {}", kind.name());
    }
    assert!(train_help.contains("backprop") && train_help.contains("adjoint"));
    for sub in ["gen", "train", "rollout", "plot"] {
        let h = help(&[sub, "--help"]);
        assert!(!h.contains("--plot-dir") && !h.contains("--out "), "{sub} --help: {h}");
    }
    for sub in ["demo", "integrators"] {
        assert!(help(&[sub, "--help"]).contains("--plot-dir"), "{sub}");
    }
    // A choice outside the list is refused by the parser with the list.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_liouville"))
        .args(["gen", "--system", "no_such", "-o", "x.lds"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values"));

    // ising through gen: configurations, and trajectory flags refused by name.
    let dir = scratch("ising");
    let mut g = gen_args("ising", dir.join("ising.lds"));
    g.trajectories = None;
    g.test_fraction = None;
    g.samples = Some(10);
    let summary = gen_data(&g, false).unwrap();
    assert!(summary.contains("× 10 configurations"), "{summary}");
    let ds = liouville_sim::dataset::IsingDataset::load(&dir.join("ising.lds")).unwrap();
    assert_eq!(ds.spins.shape(), &[6, 10, 8, 8]);
    g.t_end = Some(3.0);
    assert!(
        gen_data(&g, false)
            .unwrap_err()
            .contains("--t-end does not apply to ising")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Off a terminal (here: stderr is a pipe) long commands still report progress as log lines
/// (issue 13: a run under a scheduler or `| tee` was silent).
#[test]
fn progress_is_logged_when_stderr_is_not_a_terminal() {
    let dir = scratch("progress");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_liouville"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).unwrap()
    };
    let data = dir.join("p.lds");
    let data = data.to_str().unwrap();
    let log = run(&["gen", "--system", "pendulum", "--trajectories", "6", "-o", data]);
    assert!(log.contains("pendulum: 6/6 trajectories (100 %)"), "{log}");
    let model = dir.join("m.safetensors");
    let log = run(&[
        "train",
        "--data",
        data,
        "--model",
        "hnn",
        "--hidden",
        "8",
        "--steps",
        "40",
        "-o",
        model.to_str().unwrap(),
    ]);
    assert!(log.contains("training: 40/40 steps (100 %), loss "), "{log}");
    assert!(
        run(&[
            "--quiet",
            "gen",
            "--system",
            "pendulum",
            "--trajectories",
            "2",
            "-o",
            data
        ])
        .is_empty()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The rollout CSV read back and checked for physics (issue 13: CLI tests only checked that the
/// commands succeeded): rows start at the dataset's test initial states, the times are the
/// requested grid, and a trained HNN keeps the pendulum's true energy along its rollout.
#[test]
fn a_rolled_out_hnn_keeps_the_pendulum_energy() {
    use liouville_integrate::energies;
    use liouville_sim::dataset::Dataset;
    use liouville_sim::systems::pendulum::Pendulum;

    let dir = scratch("physics");
    let data = dir.join("pendulum.lds");
    let mut g = gen_args("pendulum", data.clone());
    g.trajectories = Some(24);
    g.noise = Some(0.0);
    gen_data(&g, false).unwrap();
    let mut a = train_args(&data, Some("hnn"), dir.join("hnn.safetensors"));
    a.hidden = Some(vec![32, 32]);
    a.steps = Some(2000);
    a.learning_rate = Some(3e-3);
    train(&a, false).unwrap();
    let csv = dir.join("hnn.csv");
    let mut r = rollout_args(dir.join("hnn.safetensors"), Some(data.clone()), None, csv.clone());
    r.t_end = 3.0;
    r.points = 31;
    r.tolerance = 1e-8;
    rollout(&r).unwrap();

    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("t,trajectory,q,p"));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 2 * 31);
    assert!(rows.iter().flatten().all(|v| v.is_finite()));
    let ds = Dataset::load(&data).unwrap();
    let pendulum = match ds.spec.system {
        liouville_sim::dataset::SystemSpec::Pendulum {
            mass, length, gravity, ..
        } => Pendulum::new(mass, length, gravity).unwrap(),
        _ => unreachable!("a pendulum dataset"),
    };
    for (k, start) in ds.test_indices().into_iter().take(2).enumerate() {
        let traj: Vec<&Vec<f64>> = rows.iter().filter(|row| row[1] == k as f64).collect();
        assert_eq!(traj.len(), 31);
        for (j, row) in traj.iter().enumerate() {
            assert!((row[0] - 0.1 * j as f64).abs() < 1e-12, "time grid: {}", row[0]);
        }
        let initial = ds.initial_conditions.row(start);
        assert!((traj[0][2] - initial[0]).abs() < 1e-12 && (traj[0][3] - initial[1]).abs() < 1e-12);
        let energy = |row: &Vec<f64>| energies(&pendulum, ndarray::array![[row[2], row[3]]].view())[0];
        let h0 = energy(traj[0]);
        let drift = traj.iter().map(|row| (energy(row) - h0).abs()).fold(0.0, f64::max) / h0;
        println!("trajectory {k}: H(0) = {h0:.4}, worst relative energy error {drift:.3e}");
        // Measured 1.6e-3 and 2.4e-3.
        assert!(drift < 1e-2, "trajectory {k}: relative energy drift {drift:e}");
    }
    // The checkpoint records what it was trained on: a --start rollout names its columns, and
    // starts from another system's data get a warning.
    let start_csv = dir.join("start.csv");
    let r = rollout_args(
        dir.join("hnn.safetensors"),
        None,
        Some(vec![1.0, 0.0]),
        start_csv.clone(),
    );
    rollout(&r).unwrap();
    assert!(
        std::fs::read_to_string(&start_csv)
            .unwrap()
            .starts_with("t,trajectory,q,p\n")
    );
    let spring = dir.join("spring.lds");
    gen_data(&gen_args("mass_spring", spring.clone()), false).unwrap();
    let r = rollout_args(dir.join("hnn.safetensors"), Some(spring), None, dir.join("other.csv"));
    let summary = rollout(&r).unwrap();
    assert!(
        summary.contains("warning: the model was trained on pendulum data, these starts are from mass_spring"),
        "{summary}"
    );
    assert!(
        !rollout(&rollout_args(dir.join("hnn.safetensors"), Some(data), None, csv))
            .unwrap()
            .contains("warning")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
