//! The integrators' showcase: the Kepler problem (e = 0.6) over many periods with every method,
//! reporting energy, angular-momentum and position errors against the exact solution
//! (Kepler's equation) and the work done. It is the main job until learned dynamics land.

use std::path::Path;
use std::time::Instant;

use liouville_base::progress::Progress;
use liouville_integrate::adaptive::{Adaptive, AdaptiveMethod, Output};
use liouville_integrate::collocation::{Collocation, ImplicitMethod};
use liouville_integrate::explicit::{ExplicitMethod, ExplicitRk};
use liouville_integrate::fixed::{FixedGrid, integrate};
use liouville_integrate::reference::{Kepler, angular_momentum};
use liouville_integrate::splitting::{Splitting, SymplecticMethod};
use liouville_integrate::{HamiltonianField, IntegrateError, Stepper, energies};
use ndarray::{Array3, Axis};
use rayon::prelude::*;

use crate::plot::{PlotError, Series, log_y_chart};

/// Settings of the showcase run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeplerShowcase {
    /// Orbital eccentricity.
    pub eccentricity: f64,
    /// Number of orbital periods (2π each).
    pub periods: f64,
    /// Step size of the fixed-step methods.
    pub dt: f64,
    /// Tolerance (rtol = atol) of the adaptive methods.
    pub tolerance: f64,
    /// Number of sampling intervals along the run, for the error curves.
    pub samples: usize,
}

impl Default for KeplerShowcase {
    fn default() -> Self {
        Self {
            eccentricity: 0.6,
            periods: 1000.0,
            dt: 0.01,
            tolerance: 1e-10,
            samples: 2000,
        }
    }
}

/// Any method the showcase runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Fixed-step explicit Runge–Kutta.
    Explicit(ExplicitMethod),
    /// Fixed-step symplectic splitting.
    Splitting(SymplecticMethod),
    /// Fixed-step Gauss–Legendre collocation.
    Implicit(ImplicitMethod),
    /// Adaptive embedded pair.
    Adaptive(AdaptiveMethod),
}

impl Method {
    /// Every method, in table order.
    pub fn all() -> Vec<Method> {
        let mut v: Vec<Method> = ExplicitMethod::ALL.into_iter().map(Method::Explicit).collect();
        v.extend(SymplecticMethod::ALL.into_iter().map(Method::Splitting));
        v.extend(ImplicitMethod::ALL.into_iter().map(Method::Implicit));
        v.extend([AdaptiveMethod::Dopri5, AdaptiveMethod::Dop853].map(Method::Adaptive));
        v
    }
    /// Display name.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Explicit(m) => m.name(),
            Method::Splitting(m) => m.name(),
            Method::Implicit(m) => m.name(),
            Method::Adaptive(m) => m.name(),
        }
    }
    /// Order of accuracy.
    pub fn order(&self) -> u32 {
        match self {
            Method::Explicit(m) => m.order(),
            Method::Splitting(m) => m.order(),
            Method::Implicit(m) => m.order(),
            Method::Adaptive(m) => m.order(),
        }
    }
    /// Whether the method is symplectic.
    pub fn symplectic(&self) -> bool {
        matches!(self, Method::Splitting(_) | Method::Implicit(_))
    }
}

/// One row of the showcase table.
#[derive(Debug, Clone)]
pub struct MethodReport {
    /// The method.
    pub method: Method,
    /// max over samples of |H - H₀|/|H₀|.
    pub max_energy_error: f64,
    /// max over samples of |L - L₀|/L₀.
    pub max_angular_momentum_error: f64,
    /// |q(t_end) - q_exact(t_end)|.
    pub final_position_error: f64,
    /// Right-hand-side (force, for splitting methods) evaluations.
    pub evaluations: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// (t, |H - H₀|/|H₀|) along the run.
    pub energy_curve: Vec<(f64, f64)>,
}

/// Runs one method; a method that fails (for instance an implicit solve that does not converge)
/// reports its error instead of a row.
pub fn run_method(cfg: &KeplerShowcase, method: Method) -> Result<MethodReport, IntegrateError> {
    let kepler = Kepler {
        eccentricity: cfg.eccentricity,
    };
    let t_end = cfg.periods * kepler.period();
    let y0 = kepler.initial_state();
    let grid = FixedGrid::spanning(0.0, t_end, cfg.dt)?;
    let record_every = (grid.n_steps() / cfg.samples.max(1)).max(1);
    let start = Instant::now();
    let (times, states, evaluations) = match method {
        Method::Explicit(m) => run_fixed(&ExplicitRk::new(HamiltonianField(kepler), m), &grid, &y0, record_every)?,
        Method::Splitting(m) => run_fixed(&Splitting::new(kepler, m), &grid, &y0, record_every)?,
        Method::Implicit(m) => run_fixed(&Collocation::new(HamiltonianField(kepler), m), &grid, &y0, record_every)?,
        Method::Adaptive(m) => {
            let solver = Adaptive::new(m).rtol(cfg.tolerance).atol(cfg.tolerance).build()?;
            let ts: Vec<f64> = (0..=grid.n_steps())
                .step_by(record_every)
                .map(|k| grid.time(k))
                .chain([t_end])
                .collect();
            let mut ts = ts;
            ts.dedup();
            let sol = solver.solve(&HamiltonianField(kepler), 0.0, t_end, y0.view(), Output::Times(&ts))?;
            (sol.times, sol.states, sol.stats.evaluations)
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    let flat = states.index_axis(Axis(1), 0);
    let h = energies(&kepler, flat);
    let l = angular_momentum(flat);
    let (h0, l0) = (h[0], l[0]);
    let energy_curve: Vec<(f64, f64)> = times
        .iter()
        .zip(h.iter())
        .map(|(&t, &e)| (t, ((e - h0) / h0).abs()))
        .collect();
    let max_energy_error = energy_curve.iter().map(|p| p.1).fold(0.0, f64::max);
    let max_angular_momentum_error = l.iter().map(|&v| ((v - l0) / l0).abs()).fold(0.0, f64::max);
    let last = flat.row(flat.nrows() - 1);
    let exact = kepler.exact_state(t_end);
    let final_position_error = ((last[0] - exact[0]).powi(2) + (last[1] - exact[1]).powi(2)).sqrt();
    Ok(MethodReport {
        method,
        max_energy_error,
        max_angular_momentum_error,
        final_position_error,
        evaluations,
        seconds,
        energy_curve,
    })
}

fn run_fixed<S: Stepper>(
    stepper: &S,
    grid: &FixedGrid,
    y0: &ndarray::Array2<f64>,
    record_every: usize,
) -> Result<(Vec<f64>, Array3<f64>, usize), IntegrateError> {
    let sol = integrate(stepper, grid, y0.view(), record_every)?;
    Ok((sol.times, sol.states, sol.stats.evaluations))
}

/// Runs every method in parallel, with a progress bar on a terminal.
pub fn run_all(cfg: &KeplerShowcase, quiet: bool) -> Vec<(Method, Result<MethodReport, IntegrateError>)> {
    let methods = Method::all();
    let bar = Progress::new("Kepler showcase", "methods", methods.len() as u64, !quiet);
    let results = methods
        .into_par_iter()
        .map(|m| {
            let r = run_method(cfg, m);
            bar.inc(1);
            (m, r)
        })
        .collect();
    bar.finish();
    results
}

/// The results as a fixed-width text table.
pub fn table(cfg: &KeplerShowcase, results: &[(Method, Result<MethodReport, IntegrateError>)]) -> String {
    let mut out = format!(
        "Kepler problem, e = {}, {} periods (t = {:.1}); fixed step dt = {}, adaptive rtol = atol = {:e}\n",
        cfg.eccentricity,
        cfg.periods,
        cfg.periods * std::f64::consts::TAU,
        cfg.dt,
        cfg.tolerance
    );
    out += &format!(
        "{:<32} {:>5} {:>10} {:>12} {:>12} {:>12} {:>12} {:>8}\n",
        "method", "order", "symplectic", "max |dH/H|", "max |dL/L|", "|q - q_ex|", "f-evals", "seconds"
    );
    for (m, r) in results {
        match r {
            Ok(r) => {
                out += &format!(
                    "{:<32} {:>5} {:>10} {:>12.3e} {:>12.3e} {:>12.3e} {:>12} {:>8.3}\n",
                    m.name(),
                    m.order(),
                    if m.symplectic() { "yes" } else { "no" },
                    r.max_energy_error,
                    r.max_angular_momentum_error,
                    r.final_position_error,
                    r.evaluations,
                    r.seconds
                )
            }
            Err(e) => out += &format!("{:<32} {:>5} failed: {e}\n", m.name(), m.order()),
        }
    }
    out += "f-evals: right-hand-side evaluations; for splitting methods, force evaluations ∇V(q).\n";
    out
}

/// Writes the energy-error plot (PNG and SVG) into `dir`.
pub fn plot(
    dir: &Path,
    results: &[(Method, Result<MethodReport, IntegrateError>)],
) -> Result<Vec<std::path::PathBuf>, PlotError> {
    std::fs::create_dir_all(dir).map_err(|source| PlotError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let ok: Vec<&MethodReport> = results.iter().filter_map(|(_, r)| r.as_ref().ok()).collect();
    let series: Vec<Series<'_>> = ok
        .iter()
        .map(|r| Series {
            label: r.method.name(),
            points: &r.energy_curve,
        })
        .collect();
    let mut written = Vec::new();
    for name in ["kepler_energy_error.png", "kepler_energy_error.svg"] {
        let path = dir.join(name);
        log_y_chart(
            &path,
            "Kepler e = 0.6: relative energy error",
            "t",
            "|H - H0| / |H0|",
            &series,
        )?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_showcase_ranks_symplectic_methods_above_rk4_over_many_periods() {
        let cfg = KeplerShowcase {
            periods: 50.0,
            dt: 0.02,
            samples: 200,
            ..KeplerShowcase::default()
        };
        let results = run_all(&cfg, true);
        assert_eq!(results.len(), Method::all().len());
        let get = |m: Method| results.iter().find(|(x, _)| *x == m).unwrap().1.as_ref().unwrap();
        let rk4 = get(Method::Explicit(ExplicitMethod::Rk4));
        let yoshida4 = get(Method::Splitting(SymplecticMethod::Yoshida4));
        let gl2 = get(Method::Implicit(ImplicitMethod::GaussLegendre2));
        // Same order and comparable work, but bounded rather than drifting energy error.
        assert!(
            yoshida4.max_energy_error < rk4.max_energy_error,
            "{} vs {}",
            yoshida4.max_energy_error,
            rk4.max_energy_error
        );
        assert!(gl2.max_energy_error < rk4.max_energy_error);
        // Splitting methods conserve angular momentum exactly (it is a quadratic invariant).
        assert!(yoshida4.max_angular_momentum_error < 1e-11);
        let text = table(&cfg, &results);
        assert_eq!(text.lines().count(), Method::all().len() + 3);
        let dop853 = get(Method::Adaptive(AdaptiveMethod::Dop853));
        assert!(dop853.final_position_error < 1e-4);
    }
}
