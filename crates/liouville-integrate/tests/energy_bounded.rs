//! Acceptance 6 (proptest): random harmonic oscillators and random separable polynomial
//! potentials keep |ΔH| bounded over 1e5 steps under every symplectic method: no secular drift
//! (the second half's worst error is within a small factor of the first half's) and small.

mod common;

use common::Fixed;
use liouville_base::property;
use liouville_integrate::collocation::Collocation;
use liouville_integrate::explicit::{ExplicitMethod, ExplicitRk};
use liouville_integrate::reference::HarmonicOscillator;
use liouville_integrate::splitting::Splitting;
use liouville_integrate::{HamiltonianField, SeparableHamiltonian, Stepper, energies};
use ndarray::{Array2, ArrayView2, ArrayViewMut1, ArrayViewMut2, Zip};
use proptest::prelude::*;

/// V(q) = Σᵢ (aᵢqᵢ² + bᵢqᵢ⁴) + c q₁²q₂², T = |p|²/2, with bᵢ, c ≥ 0 so V is confining.
#[derive(Debug, Clone, Copy)]
struct Polynomial {
    a: [f64; 2],
    b: [f64; 2],
    c: f64,
}

impl SeparableHamiltonian for Polynomial {
    fn dof(&self) -> usize {
        2
    }
    fn kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        Zip::from(&mut out).and(p.rows()).for_each(|o, p| *o = 0.5 * p.dot(&p));
    }
    fn potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        Zip::from(&mut out).and(q.rows()).for_each(|o, q| {
            let (x2, y2) = (q[0] * q[0], q[1] * q[1]);
            *o = self.a[0] * x2 + self.b[0] * x2 * x2 + self.a[1] * y2 + self.b[1] * y2 * y2 + self.c * x2 * y2;
        });
    }
    fn grad_kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        out.assign(&p);
    }
    fn grad_potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        Zip::from(out.rows_mut()).and(q.rows()).for_each(|mut o, q| {
            let (x, y) = (q[0], q[1]);
            o[0] = 2.0 * self.a[0] * x + 4.0 * self.b[0] * x * x * x + 2.0 * self.c * x * y * y;
            o[1] = 2.0 * self.a[1] * y + 4.0 * self.b[1] * y * y * y + 2.0 * self.c * x * x * y;
        });
    }
}

const STEPS: usize = 100_000;
/// A linear drift makes the second half's worst error twice the first half's; bounded
/// oscillation keeps them about equal.
const DRIFT_FACTOR: f64 = 1.5;
const CHUNK: usize = 1_000;

/// Worst relative energy error in the first and second halves of `STEPS` steps.
fn energy_error_halves<S: Stepper, H: SeparableHamiltonian>(
    stepper: &S,
    h: &H,
    y0: &Array2<f64>,
    dt: f64,
) -> (f64, f64) {
    let e0 = energies(h, y0.view());
    let mut y = y0.clone();
    let (mut first, mut second) = (0.0f64, 0.0f64);
    let mut s = stepper.fork();
    for chunk in 0..STEPS / CHUNK {
        for k in 0..CHUNK {
            s.step(((chunk * CHUNK + k) as f64) * dt, dt, y.view_mut()).unwrap();
        }
        let e = energies(h, y.view());
        let worst = Zip::from(&e)
            .and(&e0)
            .fold(0.0f64, |m, &e, &e0| m.max(((e - e0) / e0.abs().max(1e-3)).abs()));
        if chunk < STEPS / CHUNK / 2 {
            first = first.max(worst)
        } else {
            second = second.max(worst)
        }
    }
    (first, second)
}

fn check<H: SeparableHamiltonian + Clone + Send + Sync + 'static>(
    h: H,
    y0: Array2<f64>,
    dt: f64,
) -> Result<(), TestCaseError> {
    for method in Fixed::symplectic() {
        let (first, second) = match method {
            Fixed::Splitting(m) => energy_error_halves(&Splitting::new(h.clone(), m), &h, &y0, dt),
            Fixed::Implicit(m) => {
                // Implicit methods cost ~10× more per step; they run the same horizon on one row.
                energy_error_halves(
                    &Collocation::new(HamiltonianField(h.clone()), m),
                    &h,
                    &y0.slice(ndarray::s![0..1, ..]).to_owned(),
                    dt,
                )
            }
            Fixed::Explicit(_) => unreachable!(),
        };
        prop_assert!(
            second <= DRIFT_FACTOR * first + 1e-12,
            "{}: drift, first half {first:e}, second half {second:e}",
            method.name()
        );
        prop_assert!(second < 0.05, "{}: |dH|/H = {second:e} is not small", method.name());
    }
    Ok(())
}

#[test]
fn random_oscillators_keep_energy_bounded() {
    let strategy = (0.5f64..2.0, 0.5f64..2.0, prop::collection::vec(-1.0f64..1.0, 8));
    property::check(CASES, &strategy, |(mass, stiffness, init)| {
        let y0 = Array2::from_shape_vec((4, 2), init)
            .unwrap()
            .mapv(|v| v + 0.1f64.copysign(v));
        check(HarmonicOscillator { mass, stiffness }, y0, 0.02)
    });
}

#[test]
fn random_polynomial_potentials_keep_energy_bounded() {
    let strategy = (
        prop::array::uniform2(-0.5f64..1.0),
        prop::array::uniform2(0.05f64..1.0),
        0.0f64..0.5,
        prop::collection::vec(-1.0f64..1.0, 8),
    );
    property::check(CASES, &strategy, |(a, b, c, init)| {
        let y0 = Array2::from_shape_vec((2, 4), init).unwrap();
        check(Polynomial { a, b, c }, y0, 0.01)
    });
}

/// Cases per property: each runs 10⁵ steps of four or two trajectories.
const CASES: u32 = 4;

/// The criterion can fail: RK4's energy error drifts and is caught by it.
#[test]
fn the_drift_criterion_catches_rk4() {
    let h = HarmonicOscillator {
        mass: 1.0,
        stiffness: 1.0,
    };
    let y0 = ndarray::array![[1.0, 0.0]];
    let (first, second) = energy_error_halves(&ExplicitRk::new(HamiltonianField(h), ExplicitMethod::Rk4), &h, &y0, 0.1);
    assert!(second > DRIFT_FACTOR * first, "first {first:e}, second {second:e}");
}
