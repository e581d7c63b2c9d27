//! Bad input gets a typed error, never a panic.

use liouville_integrate::adaptive::{Adaptive, AdaptiveMethod, Output};
use liouville_integrate::collocation::{Collocation, ImplicitMethod, IterationControl};
use liouville_integrate::explicit::{ExplicitMethod, ExplicitRk};
use liouville_integrate::fixed::{FixedGrid, integrate, propagate};
use liouville_integrate::reference::{Kepler, Pendulum};
use liouville_integrate::splitting::{Splitting, SymplecticMethod};
use liouville_integrate::{FnField, HamiltonianField, IntegrateError, Stepper};
use ndarray::{Array2, ArrayView2, ArrayViewMut2, array};

fn decay(rate: f64) -> FnField<impl Fn(f64, ArrayView2<'_, f64>, ArrayViewMut2<'_, f64>) + Sync + Clone> {
    FnField {
        dim: 1,
        f: move |_t: f64, y: ArrayView2<'_, f64>, mut dy: ArrayViewMut2<'_, f64>| dy.assign(&(&y * -rate)),
    }
}

#[test]
fn non_finite_initial_state_is_rejected() {
    let s = Splitting::new(Pendulum, SymplecticMethod::Leapfrog);
    let grid = FixedGrid::new(0.0, 0.1, 10).unwrap();
    for bad in [f64::NAN, f64::INFINITY] {
        let err = integrate(&s, &grid, array![[bad, 0.0]].view(), 1).unwrap_err();
        assert_eq!(err, IntegrateError::NonFiniteState { t: 0.0 });
    }
    let solver = Adaptive::new(AdaptiveMethod::Dopri5).build().unwrap();
    let err = solver.solve(
        &HamiltonianField(Pendulum),
        0.0,
        1.0,
        array![[f64::NAN, 0.0]].view(),
        Output::Final,
    );
    assert!(matches!(err, Err(IntegrateError::NonFiniteState { .. })));
}

#[test]
fn non_positive_or_nan_steps_are_rejected() {
    for dt in [0.0, -0.1, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(FixedGrid::new(0.0, dt, 10), Err(IntegrateError::InvalidStep { .. })),
            "dt = {dt}"
        );
        assert!(matches!(
            FixedGrid::spanning(0.0, 1.0, dt),
            Err(IntegrateError::InvalidStep { .. })
        ));
        let s = Splitting::new(Pendulum, SymplecticMethod::Leapfrog);
        let mut y = array![[1.0, 0.0]];
        assert!(propagate(&s, 0.0, dt, 10, y.view_mut()).is_err());
    }
    assert!(matches!(
        Adaptive::new(AdaptiveMethod::Dop853).first_step(-1.0).build(),
        Err(IntegrateError::InvalidStep { .. })
    ));
    assert!(Adaptive::new(AdaptiveMethod::Dop853).max_step(0.0).build().is_err());
}

#[test]
fn end_time_on_the_wrong_side_is_rejected() {
    assert!(matches!(
        FixedGrid::spanning(1.0, 0.0, 0.1),
        Err(IntegrateError::WrongDirection { .. })
    ));
    assert!(matches!(
        FixedGrid::spanning(0.0, f64::NAN, 0.1),
        Err(IntegrateError::WrongDirection { .. })
    ));
    let solver = Adaptive::new(AdaptiveMethod::Dopri5).build().unwrap();
    let y0 = array![[1.0, 0.0]];
    let field = HamiltonianField(Pendulum);
    assert!(matches!(
        solver.solve(&field, 1.0, 1.0, y0.view(), Output::Final),
        Err(IntegrateError::WrongDirection { .. })
    ));
    // Output times outside the interval are an error too.
    assert!(matches!(
        solver.solve(&field, 0.0, 1.0, y0.view(), Output::Times(&[0.5, 2.0])),
        Err(IntegrateError::InvalidOption(_))
    ));
}

#[test]
fn non_positive_tolerances_are_rejected() {
    for (rtol, atol) in [(0.0, 1e-6), (1e-6, -1.0), (f64::NAN, 1e-6), (1e-6, f64::INFINITY)] {
        let r = Adaptive::new(AdaptiveMethod::Dopri5).rtol(rtol).atol(atol).build();
        assert!(
            matches!(r, Err(IntegrateError::InvalidTolerance { .. })),
            "{rtol} {atol}"
        );
    }
}

#[test]
fn step_size_underflow_is_reported() {
    // y' = y² from y(0) = 1 blows up at t = 1.
    let blow_up = FnField {
        dim: 1,
        f: |_t: f64, y: ArrayView2<'_, f64>, mut dy: ArrayViewMut2<'_, f64>| dy.assign(&y.mapv(|v| v * v)),
    };
    let solver = Adaptive::new(AdaptiveMethod::Dopri5).min_step(1e-6).build().unwrap();
    let err = solver
        .solve(&blow_up, 0.0, 2.0, array![[1.0]].view(), Output::Final)
        .unwrap_err();
    match err {
        IntegrateError::StepSizeUnderflow { t, .. } => assert!(t > 0.99 && t < 1.0, "t = {t}"),
        other => panic!("expected StepSizeUnderflow, got {other:?}"),
    }
    let solver = Adaptive::new(AdaptiveMethod::Dopri5).max_steps(10).build().unwrap();
    let err = solver
        .solve(&blow_up, 0.0, 0.99, array![[1.0]].view(), Output::Final)
        .unwrap_err();
    assert!(matches!(err, IntegrateError::TooManySteps { max_steps: 10, .. }));
}

#[test]
fn implicit_iteration_that_cannot_converge_is_an_error() {
    // h·λ = 10: the fixed-point map is a contraction only for h·λ·|a| < 1.
    let mut s = Collocation::new(decay(100.0), ImplicitMethod::GaussLegendre2);
    let mut y = array![[1.0]];
    let err = s.step(0.0, 0.1, y.view_mut()).unwrap_err();
    assert!(matches!(err, IntegrateError::ImplicitNotConverged { .. }), "{err:?}");
    let bad = IterationControl {
        max_iterations: 0,
        ..IterationControl::default()
    };
    assert!(Collocation::with_control(decay(1.0), ImplicitMethod::ImplicitMidpoint, bad).is_err());
}

#[test]
fn shape_mismatch_and_zero_record_interval_are_rejected() {
    let s = ExplicitRk::new(HamiltonianField(Kepler { eccentricity: 0.5 }), ExplicitMethod::Rk4);
    let grid = FixedGrid::new(0.0, 0.1, 10).unwrap();
    let err = integrate(&s, &grid, Array2::zeros((3, 2)).view(), 1).unwrap_err();
    assert_eq!(err, IntegrateError::DimensionMismatch { expected: 4, found: 2 });
    let solver = Adaptive::new(AdaptiveMethod::Dop853).build().unwrap();
    assert!(
        solver
            .solve(&s_field(), 0.0, 1.0, Array2::zeros((1, 3)).view(), Output::Final)
            .is_err()
    );
    let y0 = Kepler { eccentricity: 0.5 }.initial_state();
    assert!(matches!(
        integrate(&s, &grid, y0.view(), 0),
        Err(IntegrateError::InvalidOption(_))
    ));
}

fn s_field() -> HamiltonianField<Pendulum> {
    HamiltonianField(Pendulum)
}

#[test]
fn a_field_that_produces_nan_mid_run_is_reported() {
    // y' = 1/(1 - t) style singularity reached by a fixed-step method: y' = y², y(0) = 1, to t = 2.
    let blow_up = FnField {
        dim: 1,
        f: |_t: f64, y: ArrayView2<'_, f64>, mut dy: ArrayViewMut2<'_, f64>| dy.assign(&y.mapv(|v| v * v)),
    };
    let s = ExplicitRk::new(blow_up, ExplicitMethod::Rk4);
    let grid = FixedGrid::spanning(0.0, 2.0, 0.01).unwrap();
    let err = integrate(&s, &grid, array![[1.0]].view(), 1).unwrap_err();
    assert!(
        matches!(err, IntegrateError::NonFiniteState { t } if t > 0.9),
        "{err:?}"
    );
}
