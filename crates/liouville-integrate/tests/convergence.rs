//! Acceptance 1: every fixed-step method's empirical order on Kepler (e = 0.6) matches theory
//! within ±0.15 (slope of log error against log dt), against the exact solution from Kepler's
//! equation at t = 0.7 periods (past perihelion and aphelion).

mod common;

use common::{Fixed, loglog_slope, run};
use liouville_integrate::collocation::ImplicitMethod;
use liouville_integrate::explicit::ExplicitMethod;
use liouville_integrate::reference::Kepler;
use liouville_integrate::splitting::SymplecticMethod;

/// Steps per period spanning each method's asymptotic range: coarse enough that round-off
/// (~1e-13) does not flatten the curve, fine enough that the leading error term dominates.
fn steps_per_period(method: &Fixed) -> Vec<usize> {
    use Fixed::*;
    match method {
        Explicit(ExplicitMethod::Euler) => vec![1600, 3200, 6400, 12800, 25600, 51200],
        Explicit(ExplicitMethod::Midpoint) => vec![400, 800, 1600, 3200, 6400, 12800],
        Explicit(ExplicitMethod::Rk4) => vec![200, 400, 800, 1600, 3200, 6400],
        Splitting(SymplecticMethod::SymplecticEulerKickDrift | SymplecticMethod::SymplecticEulerDriftKick) => {
            vec![800, 1600, 3200, 6400, 12800]
        }
        Splitting(SymplecticMethod::Leapfrog | SymplecticMethod::Yoshida4) => {
            vec![100, 200, 400, 800, 1600, 3200, 6400]
        }
        Splitting(SymplecticMethod::Yoshida6) => vec![100, 200, 400, 800, 1600],
        Splitting(SymplecticMethod::Yoshida8) => vec![200, 300, 400, 600],
        Implicit(ImplicitMethod::ImplicitMidpoint) => vec![100, 200, 400, 800, 1600, 3200, 6400],
        Implicit(ImplicitMethod::GaussLegendre2) => vec![100, 200, 400, 800, 1600, 3200],
        Implicit(ImplicitMethod::GaussLegendre3) => vec![50, 100, 200, 400, 800],
    }
}

#[test]
fn empirical_orders_match_theory_on_kepler() {
    let kepler = Kepler { eccentricity: 0.6 };
    // A generic time: after a whole period, symmetry cancels the O(h) error of symplectic Euler
    // and it would show order 2.
    let t_end = 0.7 * kepler.period();
    let exact = kepler.exact_state(t_end);
    let mut report = Vec::new();
    for method in Fixed::all() {
        let mut dts = Vec::new();
        let mut errs = Vec::new();
        for n in steps_per_period(&method) {
            let mut stepper = method.stepper(kepler);
            let mut y = kepler.initial_state();
            let dt = t_end / n as f64;
            run(stepper.as_mut(), &mut y, dt, n);
            let err = ((y[[0, 0]] - exact[0]).powi(2) + (y[[0, 1]] - exact[1]).powi(2)).sqrt();
            dts.push(dt);
            errs.push(err);
        }
        let slope = loglog_slope(&dts, &errs);
        report.push(format!(
            "{}: slope {slope:.3} (theory {})",
            method.name(),
            method.order()
        ));
        assert!(
            (slope - method.order() as f64).abs() <= 0.15,
            "{}: empirical order {slope:.3}, theory {}; errors {errs:?}",
            method.name(),
            method.order()
        );
    }
    println!("{}", report.join("\n"));
}
