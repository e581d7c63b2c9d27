//! Acceptance 2 and 3: symplecticity Dφᵀ J Dφ = J of every symplectic method's one-step map on
//! non-linear Hamiltonians (finite-difference Jacobian, f64), the same check failing for the
//! explicit Runge–Kutta methods; and time reversibility Φ₋ₕ ∘ Φₕ = id of the symmetric methods.

mod common;

use common::{DynStepper, Fixed, one_step_jacobian, run, symplectic_j};
use liouville_integrate::SeparableHamiltonian;
use liouville_integrate::reference::{HenonHeiles, Pendulum};
use ndarray::{Array2, array};

/// max |Dφᵀ J Dφ - J| of the one-step map at `y0`.
fn symplecticity_defect(stepper: &mut dyn DynStepper, y0: &Array2<f64>, dof: usize, dt: f64) -> f64 {
    let jac = one_step_jacobian(stepper, y0.view(), dt, 1e-6);
    let j = symplectic_j(dof);
    let defect = jac.t().dot(&j).dot(&jac) - &j;
    defect.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

fn check_system<H>(name: &str, h: H, y0: Array2<f64>, dt: f64)
where
    H: SeparableHamiltonian + Clone + Send + Sync + 'static,
{
    let dof = h.dof();
    for method in Fixed::all() {
        let mut stepper = method.stepper(h.clone());
        let defect = symplecticity_defect(stepper.as_mut(), &y0, dof, dt);
        if matches!(method, Fixed::Explicit(_)) {
            assert!(
                defect > 1e-8,
                "{name}/{}: defect {defect:e} should fail the 1e-8 check",
                method.name()
            );
        } else {
            assert!(defect < 1e-8, "{name}/{}: defect {defect:e}", method.name());
        }
    }
}

#[test]
fn symplectic_methods_preserve_the_symplectic_form_on_the_pendulum() {
    check_system("pendulum", Pendulum, array![[2.0, 0.3]], 0.3);
}

#[test]
fn symplectic_methods_preserve_the_symplectic_form_on_henon_heiles() {
    // Energy ≈ 0.12, in the mixed chaotic regime.
    check_system("Henon-Heiles", HenonHeiles, array![[0.1, -0.2, 0.35, 0.3]], 0.3);
}

#[test]
fn symmetric_methods_are_time_reversible_to_round_off() {
    let y0 = array![[0.1, -0.2, 0.35, 0.3]];
    for method in Fixed::all() {
        let mut stepper = method.stepper(HenonHeiles);
        let mut y = y0.clone();
        run(stepper.as_mut(), &mut y, 0.05, 200);
        run(stepper.as_mut(), &mut y, -0.05, 200);
        let gap = (&y - &y0).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if method.is_symmetric() {
            assert!(
                gap < 1e-12,
                "{}: forward then backward misses by {gap:e}",
                method.name()
            );
        } else {
            assert!(
                gap > 1e-9,
                "{}: not symmetric, yet returned to within {gap:e}",
                method.name()
            );
        }
    }
}
