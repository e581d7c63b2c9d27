//! Final errors and work of the single-state and ensemble benches (`cpu_kepler_100_periods_single_state`,
//! `cpu_arenstorf_one_period`, `cpu_lorenz_ensemble_10000_t10_rtol_1e-8`), as JSON for
//! `benches/scripts/integrate_vs_diffrax.py`: the runs are deterministic, so once is enough.
//!
//!     cargo run --release -p liouville-benches --example small_system_errors

use liouville_benches::{SMALL_SYSTEM_RUNS, lorenz_starts};
use liouville_integrate::adaptive::{Adaptive, AdaptiveMethod, Output};
use liouville_integrate::reference::{Arenstorf, Kepler};

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt()
}

fn main() {
    let kepler = Kepler { eccentricity: 0.6 };
    let mut rows = Vec::new();
    let t_end = 100.0 * kepler.period();
    for (m, tol) in SMALL_SYSTEM_RUNS.kepler {
        let s = Adaptive::new(m).rtol(tol).atol(tol).build().unwrap();
        let sol = s
            .solve_state(|t, y| kepler.rate(t, y), 0.0, t_end, kepler.initial(), Output::Final)
            .unwrap();
        let err = distance(&sol.last()[..2], &kepler.exact_state(t_end)[..2]);
        rows.push(row(
            "cpu_kepler_100_periods_single_state",
            m,
            tol,
            err,
            sol.stats.steps,
            sol.stats.evaluations,
        ));
    }
    for (m, tol) in SMALL_SYSTEM_RUNS.arenstorf {
        let s = Adaptive::new(m).rtol(tol).atol(tol).build().unwrap();
        let sol = s
            .solve_state(
                |t, y| Arenstorf.rate(t, y),
                0.0,
                Arenstorf::PERIOD,
                Arenstorf.initial(),
                Output::Final,
            )
            .unwrap();
        let err = distance(&sol.last()[..2], &Arenstorf.initial()[..2]);
        rows.push(row(
            "cpu_arenstorf_one_period",
            m,
            tol,
            err,
            sol.stats.steps,
            sol.stats.evaluations,
        ));
    }
    let lorenz = liouville_sim::systems::lorenz::Lorenz63::classic();
    let starts = lorenz_starts(10_000);
    for m in [AdaptiveMethod::Dopri5, AdaptiveMethod::Dop853] {
        let s = Adaptive::new(m).rtol(1e-8).atol(1e-8).build().unwrap();
        let sols = s
            .solve_ensemble(|t, y| lorenz.rate(t, y), 0.0, 10.0, &starts, Output::Final)
            .unwrap();
        let steps: Vec<usize> = sols.iter().map(|s| s.stats.steps).collect();
        let evaluations: usize = sols.iter().map(|s| s.stats.evaluations).sum();
        rows.push(format!(
            "{{\"group\": \"cpu_lorenz_ensemble_10000_t10_rtol_1e-8\", \"id\": \"{}\", \"tol\": 1e-8, \"error\": null, \"steps_min\": {}, \"steps_max\": {}, \"evaluations\": {evaluations}}}",
            m.name(),
            steps.iter().min().unwrap(),
            steps.iter().max().unwrap()
        ));
    }
    println!("[\n{}\n]", rows.join(",\n"));
}

fn row(group: &str, m: AdaptiveMethod, tol: f64, err: f64, steps: usize, evaluations: usize) -> String {
    format!(
        "{{\"group\": \"{group}\", \"id\": \"{}/{tol:e}\", \"tol\": {tol:e}, \"error\": {err:e}, \"steps\": {steps}, \"evaluations\": {evaluations}}}",
        m.name()
    )
}
