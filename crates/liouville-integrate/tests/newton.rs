//! Simplified Newton stages (feature `lapack`): stiff decay where fixed-point iteration fails, and
//! agreement with fixed-point iteration on a nonlinear system in fewer iterations.
#![cfg(feature = "lapack")]

use ndarray::{ArrayView2, ArrayViewMut2, array};

use liouville_integrate::collocation::{Collocation, ImplicitMethod, IterationControl, StageSolver};
use liouville_integrate::reference::HenonHeiles;
use liouville_integrate::{FnField, HamiltonianField, Stepper};

#[test]
fn newton_solves_stiff_decay_where_fixed_point_fails() {
    let decay = FnField {
        dim: 1,
        f: |_t: f64, y: ArrayView2<'_, f64>, mut dy: ArrayViewMut2<'_, f64>| dy.assign(&(&y * -100.0)),
    };
    let newton = IterationControl {
        solver: StageSolver::Newton,
        ..IterationControl::default()
    };
    let mut s = Collocation::with_control(decay, ImplicitMethod::GaussLegendre2, newton).unwrap();
    let mut y = array![[1.0]];
    s.step(0.0, 0.1, y.view_mut()).unwrap();
    // GL2's stability function is the (2,2) Padé approximant of exp(z), z = hλ = -10.
    let z: f64 = -10.0;
    let exact = (1.0 + z / 2.0 + z * z / 12.0) / (1.0 - z / 2.0 + z * z / 12.0);
    assert!((y[[0, 0]] - exact).abs() < 1e-12, "{} vs {exact}", y[[0, 0]]);
    let mut fixed_point = Collocation::new(decay, ImplicitMethod::GaussLegendre2);
    assert!(fixed_point.step(0.0, 0.1, array![[1.0]].view_mut()).is_err());
}

#[test]
fn newton_and_fixed_point_agree_on_a_nonlinear_system() {
    let newton = IterationControl {
        solver: StageSolver::Newton,
        ..IterationControl::default()
    };
    for method in ImplicitMethod::ALL {
        let mut a = Collocation::with_control(HamiltonianField(HenonHeiles), method, newton).unwrap();
        let mut b = Collocation::new(HamiltonianField(HenonHeiles), method);
        let mut ya = array![[0.1, -0.2, 0.35, 0.3], [0.0, 0.1, 0.2, -0.3]];
        let mut yb = ya.clone();
        for k in 0..50 {
            a.step(k as f64 * 0.1, 0.1, ya.view_mut()).unwrap();
            b.step(k as f64 * 0.1, 0.1, yb.view_mut()).unwrap();
        }
        let gap = (&ya - &yb).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(gap < 1e-12, "{method:?}: {gap:e}");
        assert!(
            a.stats().iterations < b.stats().iterations,
            "{method:?}: Newton should need fewer iterations"
        );
    }
}
