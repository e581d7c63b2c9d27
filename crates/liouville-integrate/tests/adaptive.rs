//! Acceptance 5: DOP853 and Dopri5 on Kepler (e = 0.6), rtol = atol = 1e-10, 100 periods: final
//! position error no worse than scipy 1.17's with the same tolerances, in no more evaluations,
//! with the step statistics pinned; plus dense output, events and backward integration.

use liouville_integrate::adaptive::{Adaptive, AdaptiveMethod, Crossing, Event, Output, solve_to_end};
use liouville_integrate::reference::Kepler;
use liouville_integrate::{HamiltonianField, Stats};
use ndarray::Array2;

const KEPLER: Kepler = Kepler { eccentricity: 0.6 };

fn position_error(y: &Array2<f64>, t: f64) -> f64 {
    let exact = KEPLER.exact_state(t);
    ((y[[0, 0]] - exact[0]).powi(2) + (y[[0, 1]] - exact[1]).powi(2)).sqrt()
}

/// scipy 1.17.1 `solve_ivp` on the same problem (`python3 benches/peers/scipy_integrate.py`):
/// (final position error, f-evaluations).
fn scipy(method: AdaptiveMethod) -> (f64, usize) {
    match method {
        AdaptiveMethod::Dop853 => (4.4e-5, 66_734),
        AdaptiveMethod::Dopri5 => (3.5e-5, 111_116),
    }
}

#[test]
fn kepler_100_periods_beats_scipy_in_error_and_evaluations() {
    let t_end = 100.0 * KEPLER.period();
    for (method, pinned) in [
        (
            AdaptiveMethod::Dop853,
            Stats {
                steps: 4777,
                rejected: 0,
                evaluations: 57_326,
                iterations: 0,
            },
        ),
        (
            AdaptiveMethod::Dopri5,
            Stats {
                steps: 18_027,
                rejected: 0,
                evaluations: 108_164,
                iterations: 0,
            },
        ),
    ] {
        let solver = Adaptive::new(method).rtol(1e-10).atol(1e-10).build().unwrap();
        let field = HamiltonianField(KEPLER);
        let (y, stats) = solve_to_end(&solver, &field, 0.0, t_end, KEPLER.initial_state().view()).unwrap();
        let err = position_error(&y, t_end);
        let (scipy_err, scipy_evals) = scipy(method);
        println!("{method:?}: error {err:.3e} (scipy {scipy_err:.1e}), {stats:?} (scipy {scipy_evals} evaluations)");
        assert!(
            err <= scipy_err,
            "{method:?}: error {err:e} worse than scipy's {scipy_err:e}"
        );
        assert!(
            stats.evaluations <= scipy_evals,
            "{method:?}: {} evaluations",
            stats.evaluations
        );
        assert_eq!(stats, pinned, "{method:?}: step statistics changed");
    }
}

#[test]
fn pure_integral_control_reproduces_scipy_step_for_step() {
    // With β = 0 and safety 0.9 the controller is scipy's; RK45 then takes exactly its steps.
    let solver = Adaptive::new(AdaptiveMethod::Dopri5)
        .rtol(1e-10)
        .atol(1e-10)
        .pi_beta(0.0)
        .safety(0.9)
        .build()
        .unwrap();
    let t_end = 100.0 * KEPLER.period();
    let (y, stats) = solve_to_end(
        &solver,
        &HamiltonianField(KEPLER),
        0.0,
        t_end,
        KEPLER.initial_state().view(),
    )
    .unwrap();
    assert_eq!(stats.evaluations, 111_116);
    assert!((position_error(&y, t_end) / 3.536e-5 - 1.0).abs() < 0.01);
}

#[test]
fn dense_output_is_as_accurate_as_the_steps() {
    let field = HamiltonianField(KEPLER);
    let times: Vec<f64> = (0..=400).map(|i| i as f64 * 0.0314159).collect();
    for method in [AdaptiveMethod::Dopri5, AdaptiveMethod::Dop853] {
        let solver = Adaptive::new(method).rtol(1e-10).atol(1e-12).build().unwrap();
        let sol = solver
            .solve(&field, 0.0, 12.6, KEPLER.initial_state().view(), Output::Times(&times))
            .unwrap();
        assert_eq!(sol.times, times);
        let worst = times
            .iter()
            .enumerate()
            .map(|(i, &t)| position_error(&sol.states.index_axis(ndarray::Axis(0), i).to_owned(), t))
            .fold(0.0f64, f64::max);
        assert!(worst < 1e-7, "{method:?}: worst interpolated error {worst:e}");
    }
}

#[test]
fn events_find_perihelion_passages_and_stop_at_the_first_aphelion_side_crossing() {
    let field = HamiltonianField(KEPLER);
    let solver = Adaptive::new(AdaptiveMethod::Dop853)
        .rtol(1e-12)
        .atol(1e-12)
        .build()
        .unwrap();
    // Poincaré section q₂ = 0 crossed upwards: the perihelion passages t = 2πk, including the
    // start (q₂(0) = 0 and rising), which scipy reports too.
    let mut events = [Event::new(Crossing::Rising, |_, y| y[[0, 1]])];
    let sol = solver
        .solve_with_events(
            &field,
            0.0,
            5.5 * KEPLER.period(),
            KEPLER.initial_state().view(),
            Output::Final,
            &mut events,
        )
        .unwrap();
    assert_eq!(
        sol.events.len(),
        6,
        "{:?}",
        sol.events.iter().map(|e| e.t).collect::<Vec<_>>()
    );
    assert_eq!(sol.events[0].t, 0.0);
    for (k, hit) in sol.events.iter().enumerate() {
        let expected = k as f64 * KEPLER.period();
        assert!((hit.t - expected).abs() < 1e-9, "passage {k}: {} vs {expected}", hit.t);
    }
    // Terminal event: q₁ = 0 crossed downwards, where cos E = e, t = E - e sin E.
    let e = KEPLER.eccentricity;
    let big_e = e.acos();
    let t_cross = big_e - e * big_e.sin();
    let mut events = [Event::new(Crossing::Falling, |_, y| y[[0, 0]]).terminal()];
    let sol = solver
        .solve_with_events(
            &field,
            0.0,
            10.0,
            KEPLER.initial_state().view(),
            Output::Steps,
            &mut events,
        )
        .unwrap();
    assert!(sol.terminated);
    assert!((sol.events[0].t - t_cross).abs() < 1e-10);
    assert_eq!(*sol.times.last().unwrap(), sol.events[0].t);
    assert!(sol.states.index_axis(ndarray::Axis(0), sol.times.len() - 1)[[0, 0]].abs() < 1e-10);
}

#[test]
fn backward_integration_returns_to_the_start() {
    let field = HamiltonianField(KEPLER);
    let solver = Adaptive::new(AdaptiveMethod::Dop853)
        .rtol(1e-12)
        .atol(1e-12)
        .build()
        .unwrap();
    let t_end = 3.0;
    let y_end = Array2::from_shape_vec((1, 4), KEPLER.exact_state(t_end).to_vec()).unwrap();
    let (y0, _) = solve_to_end(&solver, &field, t_end, 0.0, y_end.view()).unwrap();
    let gap = (&y0 - &KEPLER.initial_state())
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(gap < 1e-9, "{gap:e}");
}

#[test]
fn a_batch_shares_steps_and_matches_single_solves_closely() {
    let field = HamiltonianField(KEPLER);
    let solver = Adaptive::new(AdaptiveMethod::Dopri5)
        .rtol(1e-9)
        .atol(1e-9)
        .build()
        .unwrap();
    let mut batch = Array2::zeros((3, 4));
    for (i, e) in [0.1, 0.3, 0.6].into_iter().enumerate() {
        batch
            .row_mut(i)
            .assign(&Kepler { eccentricity: e }.initial_state().row(0));
    }
    let (y, _) = solve_to_end(&solver, &field, 0.0, 6.0, batch.view()).unwrap();
    for (i, e) in [0.1, 0.3, 0.6].into_iter().enumerate() {
        let exact = Kepler { eccentricity: e }.exact_state(6.0);
        for c in 0..4 {
            assert!((y[[i, c]] - exact[c]).abs() < 1e-6, "row {i}");
        }
    }
}
