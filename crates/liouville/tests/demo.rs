//! The flagship demo on reduced settings: three scored rows, the ground truth exact, the HNN's
//! energy error below the baseline's, and the plots written.

use liouville::demo::{Demo, run, table};

#[test]
fn demo_scores_models_and_writes_plots() {
    let out = std::env::temp_dir().join(format!("liouville-demo-{}", std::process::id()));
    let cfg = Demo {
        steps: 300,
        hidden: vec![32, 32],
        t_end: 5.0,
        starts: 4,
        seed: 2,
        progress: false,
    };
    let report = run(&cfg, &out).unwrap();
    let names: Vec<&str> = report.rows.iter().map(|r| r.model).collect();
    assert_eq!(names, ["ground truth", "baseline", "HNN"]);
    // The ground truth against an independent solve (Dopri5 at 1e-13), not against itself.
    let truth = &report.rows[0];
    assert!(truth.energy_drift < 1e-9, "{truth:?}");
    assert!(
        truth.trajectory_error > 0.0 && truth.trajectory_error < 1e-8,
        "{truth:?}"
    );
    assert!(
        report.rows[2].energy_mse < report.rows[1].energy_mse,
        "HNN {} vs baseline {}",
        report.rows[2].energy_mse,
        report.rows[1].energy_mse
    );
    assert_eq!(report.plots.len(), 4);
    for p in &report.plots {
        assert!(std::fs::metadata(p).unwrap().len() > 1000, "{}", p.display());
    }
    let printed = table(&cfg, &report);
    assert!(
        printed.contains("HNN") && printed.contains("drifts") && printed.contains("in phase"),
        "{printed}"
    );
    std::fs::remove_dir_all(&out).unwrap();
}
