//! The small-system fast path, ensembles and cheaper events (issue 14), written the way a user
//! would write them: one state, a closure field, no events argument, `last()`.

use liouville_integrate::adaptive::{Adaptive, AdaptiveMethod, Crossing, Event, Output, StateEvent};
use liouville_integrate::reference::{Arenstorf, Kepler};
use liouville_integrate::{FnField, HamiltonianField, IntegrateError, RowField, Stats, VectorField};
use ndarray::{Array2, ArrayView2, ArrayViewMut2, array};

const KEPLER: Kepler = Kepler { eccentricity: 0.6 };

fn solver(method: AdaptiveMethod, tol: f64) -> Adaptive {
    Adaptive::new(method).rtol(tol).atol(tol).build().unwrap()
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt()
}

/// Kepler e = 0.6 over 100 periods at rtol = atol = 1e-10 through the single-state API: the same
/// evaluation counts as the batched path (`tests/adaptive.rs`), and the final position errors.
#[test]
fn kepler_single_state_counts_are_pinned() {
    let t_end = 100.0 * KEPLER.period();
    let exact = KEPLER.exact_state(t_end);
    for (method, evaluations, max_error) in [
        (AdaptiveMethod::Dop853, 57_326, 1.6e-5),
        (AdaptiveMethod::Dopri5, 108_164, 3.1e-5),
    ] {
        let sol = solver(method, 1e-10)
            .solve_state(|t, y| KEPLER.rate(t, y), 0.0, t_end, KEPLER.initial(), Output::Final)
            .unwrap();
        let err = distance(&sol.last()[..2], &exact[..2]);
        assert_eq!(sol.stats.evaluations, evaluations, "{method:?}");
        assert_eq!(sol.stats.rejected, 0, "{method:?}");
        assert!(err < max_error, "{method:?}: error {err:e}");
        assert_eq!(sol.last_time(), t_end);
    }
}

/// The Arenstorf orbit at rtol = atol = 1e-13 returns to its start after one period; the
/// evaluation counts are pinned (the benchmark problem of docs/BENCHMARKS.md).
#[test]
fn arenstorf_orbit_closes_with_pinned_counts() {
    for (method, evaluations, max_error) in [
        (AdaptiveMethod::Dop853, ARENSTORF_DOP853, 1e-10),
        (AdaptiveMethod::Dopri5, ARENSTORF_DOPRI5, 1e-10),
    ] {
        let sol = solver(method, 1e-13)
            .solve_state(
                |t, y| Arenstorf.rate(t, y),
                0.0,
                Arenstorf::PERIOD,
                Arenstorf.initial(),
                Output::Final,
            )
            .unwrap();
        let err = distance(&sol.last()[..2], &Arenstorf.initial()[..2]);
        println!("{method:?}: {:?}, error {err:e}", sol.stats);
        assert_eq!(sol.stats.evaluations, evaluations, "{method:?}");
        assert!(err < max_error, "{method:?}: error {err:e}");
    }
}
const ARENSTORF_DOP853: usize = 6110;
const ARENSTORF_DOPRI5: usize = 18_500;

/// The three routes take bit-identical steps: the single-state API, a one-row batch (stepped on
/// the stack automatically) and a two-row batch of the same row (the general ndarray path, whose
/// RMS error norm over two equal rows equals the one-row norm exactly).
#[test]
fn stack_and_batch_paths_are_bit_identical() {
    let field = HamiltonianField(KEPLER);
    let t_end = 3.0 * KEPLER.period();
    for method in [AdaptiveMethod::Dopri5, AdaptiveMethod::Dop853] {
        let s = solver(method, 1e-9);
        let state = s
            .solve_state(|t, y| KEPLER.rate(t, y), 0.0, t_end, KEPLER.initial(), Output::Steps)
            .unwrap();
        let one_row = s
            .solve(&field, 0.0, t_end, KEPLER.initial_state().view(), Output::Steps)
            .unwrap();
        let two = Array2::from_shape_fn((2, 4), |(_, c)| KEPLER.initial()[c]);
        let two_rows = s.solve(&field, 0.0, t_end, two.view(), Output::Steps).unwrap();
        assert_eq!(state.times, one_row.times, "{method:?}");
        assert_eq!(state.times, two_rows.times, "{method:?}");
        assert_eq!(state.stats, one_row.stats);
        assert_eq!(state.stats, two_rows.stats);
        for (k, y) in state.states.iter().enumerate() {
            for c in 0..4 {
                assert_eq!(y[c].to_bits(), one_row.states[[k, 0, c]].to_bits());
                assert_eq!(y[c].to_bits(), two_rows.states[[k, 1, c]].to_bits());
            }
        }
    }
}

/// An event costs no f-evaluations on steps without a sign change: Dopri5's dense output is free,
/// DOP853 pays its 3 extra stages only on the steps that contain a crossing.
#[test]
fn events_cost_evaluations_only_on_crossing_steps() {
    let t_end = 10.5 * KEPLER.period();
    // Crossing times carry the solution's own phase error after ten periods (2e-7 for Dopri5, 7e-8 for DOP853).
    for (method, extra_per_crossing, time_error) in
        [(AdaptiveMethod::Dopri5, 0, 5e-7), (AdaptiveMethod::Dop853, 3, 2e-7)]
    {
        let s = solver(method, 1e-10);
        let plain = s
            .solve_state(|t, y| KEPLER.rate(t, y), 0.0, t_end, KEPLER.initial(), Output::Final)
            .unwrap();
        // q₁ = 0 falling: once per period, never at a step end.
        let mut events = [StateEvent::on_state(Crossing::Falling, |_, y: &[f64; 4]| y[0])];
        let with = s
            .solve_state_with_events(
                |t, y| KEPLER.rate(t, y),
                0.0,
                t_end,
                KEPLER.initial(),
                Output::Final,
                &mut events,
            )
            .unwrap();
        assert_eq!(with.events.len(), 11, "{method:?}");
        assert_eq!(with.stats.steps, plain.stats.steps);
        assert_eq!(
            with.stats.evaluations,
            plain.stats.evaluations + extra_per_crossing * with.events.len(),
            "{method:?}"
        );
        assert_eq!(with.last(), plain.last(), "events do not change the steps");
        // Each crossing is where cos E = e: t = E - e sin E + 2πk.
        let big_e = KEPLER.eccentricity.acos();
        let t_first = big_e - KEPLER.eccentricity * big_e.sin();
        let worst = with
            .events
            .iter()
            .enumerate()
            .map(|(k, hit)| (hit.t - t_first - k as f64 * KEPLER.period()).abs())
            .fold(0.0, f64::max);
        println!("{method:?}: worst crossing time error {worst:e}");
        assert!(worst < time_error, "{method:?}: {worst:e}");
        assert!(
            with.events.iter().all(|hit| hit.y[0].abs() < 1e-12),
            "g = 0 on the interpolant"
        );
    }
}

/// Requested output times cost DOP853 its extra stages only on the steps that contain one, and
/// the interpolant stays within 1e-11 of an independent tight solve at those times.
#[test]
fn dense_output_is_lazy_and_accurate() {
    let t_end = 2.0 * KEPLER.period();
    let times: Vec<f64> = (0..=20).map(|i| i as f64 * 0.6).collect();
    for method in [AdaptiveMethod::Dopri5, AdaptiveMethod::Dop853] {
        let s = solver(method, 1e-12);
        let steps = s
            .solve_state(|t, y| KEPLER.rate(t, y), 0.0, t_end, KEPLER.initial(), Output::Steps)
            .unwrap();
        let dense = s
            .solve_state(
                |t, y| KEPLER.rate(t, y),
                0.0,
                t_end,
                KEPLER.initial(),
                Output::Times(&times),
            )
            .unwrap();
        assert_eq!(dense.times, times);
        // Steps containing a requested time strictly inside (t = 0 is the start, not inside).
        let containing = (1..steps.times.len())
            .filter(|&j| times.iter().any(|&t| steps.times[j - 1] < t && t < steps.times[j]))
            .count();
        let extra = if method == AdaptiveMethod::Dop853 {
            3 * containing
        } else {
            0
        };
        assert_eq!(dense.stats.evaluations, steps.stats.evaluations + extra, "{method:?}");
        for (&t, y) in times.iter().zip(&dense.states) {
            let exact = KEPLER.exact_state(t);
            // The steps themselves are this accurate at the step ends around t.
            assert!(distance(y, &exact) < 1e-11 + 1e-9, "{method:?} t = {t}");
        }
        // Against the steps: the interpolant at a step end reproduces the step.
        let tight = solver(method, 1e-12)
            .solve_state(
                |t, y| KEPLER.rate(t, y),
                0.0,
                t_end,
                KEPLER.initial(),
                Output::Times(&steps.times),
            )
            .unwrap();
        for (a, b) in tight.states.iter().zip(&steps.states) {
            assert!(distance(a, b) < 1e-11, "{method:?}");
        }
    }
}

/// scipy reports a crossing at t₀ when g(t₀) = 0 and g leaves zero in the event's direction; a
/// terminal one stops the solve there. A g that leaves zero the other way, or stays zero, does not.
#[test]
fn a_crossing_at_the_start_is_reported() {
    let s = solver(AdaptiveMethod::Dop853, 1e-10);
    let oscillator = |_t: f64, y: &[f64; 2]| [y[1], -y[0]];
    // y = (0, 1): q = sin t rises through zero at t = 0 and falls at t = π.
    let mut events = [
        StateEvent::on_state(Crossing::Rising, |_, y: &[f64; 2]| y[0]),
        StateEvent::on_state(Crossing::Falling, |_, y: &[f64; 2]| y[0]),
        StateEvent::on_state(Crossing::Any, |_, _y: &[f64; 2]| 0.0),
    ];
    let sol = s
        .solve_state_with_events(oscillator, 0.0, 4.0, [0.0, 1.0], Output::Final, &mut events)
        .unwrap();
    let found: Vec<(usize, f64)> = sol.events.iter().map(|h| (h.event, h.t)).collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0], (0, 0.0));
    assert_eq!(found[1].0, 1);
    assert!((found[1].1 - std::f64::consts::PI).abs() < 1e-9);

    let mut stop = [StateEvent::on_state(Crossing::Rising, |_, y: &[f64; 2]| y[0]).terminal()];
    let sol = s
        .solve_state_with_events(oscillator, 0.0, 4.0, [0.0, 1.0], Output::Steps, &mut stop)
        .unwrap();
    assert!(sol.terminated);
    assert_eq!(sol.times, vec![0.0]);
    assert_eq!(sol.events[0].t, 0.0);
    assert_eq!(sol.events[0].y, [0.0, 1.0]);

    // The batched API reports it too.
    let field = RowField::new(2, |_t, y: &[f64], dy: &mut [f64]| {
        dy[0] = y[1];
        dy[1] = -y[0];
    });
    let mut batch_events = [Event::new(Crossing::Rising, |_, y| y[[0, 0]])];
    let sol = s
        .solve_with_events(
            &field,
            0.0,
            4.0,
            array![[0.0, 1.0]].view(),
            Output::Final,
            &mut batch_events,
        )
        .unwrap();
    assert_eq!(sol.events.len(), 1);
    assert_eq!(sol.events[0].t, 0.0);
}

#[test]
fn max_steps_is_a_typed_error() {
    let s = Adaptive::new(AdaptiveMethod::Dopri5)
        .rtol(1e-10)
        .atol(1e-10)
        .max_steps(100)
        .build()
        .unwrap();
    let err = s
        .solve_state(|t, y| KEPLER.rate(t, y), 0.0, 1e6, KEPLER.initial(), Output::Final)
        .unwrap_err();
    assert!(
        matches!(err, IntegrateError::TooManySteps { max_steps: 100, t } if t > 0.0 && t < 1e6),
        "{err:?}"
    );
}

/// Friction points, as a user writes them.
mod as_a_user_writes_it {
    use super::*;

    fn final_state(field: &impl VectorField, y0: ArrayView2<'_, f64>) -> Array2<f64> {
        let s = Adaptive::new(AdaptiveMethod::Dop853)
            .rtol(1e-10)
            .atol(1e-10)
            .build()
            .unwrap();
        // No events argument, and `last()` on the solution.
        s.solve(field, 0.0, 1.0, y0, Output::Final).unwrap().last().to_owned()
    }

    fn decay_time(field: impl Fn(f64, &[f64; 1]) -> [f64; 1]) -> f64 {
        let s = Adaptive::new(AdaptiveMethod::Dopri5)
            .rtol(1e-10)
            .atol(1e-12)
            .build()
            .unwrap();
        let mut half = [StateEvent::on_state(Crossing::Falling, |_, y: &[f64; 1]| y[0] - 0.5).terminal()];
        s.solve_state_with_events(field, 0.0, 10.0, [1.0], Output::Final, &mut half)
            .unwrap()
            .last_time()
    }

    #[test]
    fn a_closure_field_needs_no_type_annotations() {
        // FnField::new infers the closure's argument types.
        let rotation = FnField::new(2, |_t, y: ArrayView2<'_, f64>, mut dy: ArrayViewMut2<'_, f64>| {
            for r in 0..y.nrows() {
                dy[[r, 0]] = y[[r, 1]];
                dy[[r, 1]] = -y[[r, 0]];
            }
        });
        let inferred = FnField::new(2, |_t, y, mut dy| {
            let _: &ArrayView2<'_, f64> = &y;
            dy.assign(&y);
            dy.column_mut(0).assign(&y.column(1));
            dy.column_mut(1).assign(&(-&y.column(0)));
        });
        let y = final_state(&rotation, array![[1.0, 0.0]].view());
        let z = final_state(&inferred, array![[1.0, 0.0]].view());
        assert!((y[[0, 0]] - 1f64.cos()).abs() < 1e-9);
        assert!((z[[0, 1]] + 1f64.sin()).abs() < 1e-9);
    }

    #[test]
    fn a_per_trajectory_closure_runs_over_a_batch() {
        let oscillator = RowField::new(2, |_t, y: &[f64], dy: &mut [f64]| {
            dy[0] = y[1];
            dy[1] = -y[0];
        });
        let y = final_state(&oscillator, array![[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]].view());
        assert!((y[[1, 0]] - 1f64.sin()).abs() < 1e-9);
        assert!((y[[2, 0]] - 2.0 * 1f64.cos()).abs() < 1e-9);
        // A boxed field is a field too, and steps exactly as the unboxed one.
        let boxed: Box<dyn VectorField> = Box::new(oscillator);
        let one = array![[1.0, 0.0]];
        assert_eq!(
            final_state(&boxed.as_ref(), one.view()),
            final_state(&oscillator, one.view())
        );
    }

    #[test]
    fn a_single_state_closure_passes_to_a_helper() {
        let rate = 0.3;
        let t_half = decay_time(move |_t, y| [-rate * y[0]]);
        assert!((t_half - 2f64.ln() / rate).abs() < 1e-9, "{t_half}");
    }

    #[test]
    fn stats_add_up() {
        let s = Adaptive::new(AdaptiveMethod::Dopri5).build().unwrap();
        let sol = s
            .solve_state(|_t, y: &[f64; 1]| [-y[0]], 0.0, 1.0, [1.0], Output::Steps)
            .unwrap();
        let Stats { steps, evaluations, .. } = sol.stats;
        assert_eq!(sol.states.len(), steps + 1);
        assert_eq!(evaluations, 2 + 6 * (steps + sol.stats.rejected));
    }
}

/// Lorenz-63, σ = 10, ρ, β = 8/3.
fn lorenz(rho: f64) -> impl Fn(f64, &[f64; 3]) -> [f64; 3] + Sync + Copy {
    move |_t, y| {
        [
            10.0 * (y[1] - y[0]),
            y[0] * (rho - y[2]) - y[1],
            y[0] * y[1] - 8.0 / 3.0 * y[2],
        ]
    }
}

fn lorenz_starts(n: usize) -> Vec<[f64; 3]> {
    (0..n)
        .map(|i| [1.0 + 0.01 * i as f64, 1.0, 20.0 - 0.005 * i as f64])
        .collect()
}

/// Each member takes its own steps: the ensemble equals member-by-member single solves, bit for
/// bit, on one thread or many.
#[test]
fn ensemble_members_take_their_own_steps() {
    let s = solver(AdaptiveMethod::Dopri5, 1e-8);
    let starts = lorenz_starts(64);
    let ensemble = s
        .solve_ensemble(lorenz(28.0), 0.0, 10.0, &starts, Output::Final)
        .unwrap();
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let serial = one_thread.install(|| {
        s.solve_ensemble(lorenz(28.0), 0.0, 10.0, &starts, Output::Final)
            .unwrap()
    });
    assert_eq!(ensemble, serial);
    let mut step_counts = std::collections::BTreeSet::new();
    for (member, y0) in ensemble.iter().zip(&starts) {
        let alone = s.solve_state(lorenz(28.0), 0.0, 10.0, *y0, Output::Final).unwrap();
        assert_eq!(member, &alone);
        step_counts.insert(member.stats.steps);
    }
    assert!(
        step_counts.len() > 10,
        "chaotic members need different steps: {step_counts:?}"
    );
}

#[test]
fn a_parameter_sweep_and_its_errors() {
    let s = solver(AdaptiveMethod::Dop853, 1e-9);
    // Below ρ = 1 the origin attracts every start; above, it does not.
    let rhos = [0.5, 0.9, 28.0];
    let starts = vec![[1.0, 1.0, 1.0]; 3];
    let sweep = s
        .solve_sweep(&rhos, |&rho, t, y| lorenz(rho)(t, y), 0.0, 30.0, &starts, Output::Final)
        .unwrap();
    let radius = |y: [f64; 3]| distance(&y, &[0.0; 3]);
    assert!(radius(sweep[0].last()) < 1e-3);
    assert!(radius(sweep[1].last()) < 1e-1);
    assert!(radius(sweep[2].last()) > 1.0);
    assert!(matches!(
        s.solve_sweep(
            &rhos[..2],
            |&rho, t, y| lorenz(rho)(t, y),
            0.0,
            1.0,
            &starts,
            Output::Final
        ),
        Err(IntegrateError::InvalidOption(_))
    ));
    let mut bad = lorenz_starts(5);
    bad[3][1] = f64::NAN;
    let err = s
        .solve_ensemble(lorenz(28.0), 0.0, 1.0, &bad, Output::Final)
        .unwrap_err();
    assert_eq!(
        err,
        IntegrateError::EnsembleMember {
            index: 3,
            source: Box::new(IntegrateError::NonFiniteState { t: 0.0 })
        }
    );
}
