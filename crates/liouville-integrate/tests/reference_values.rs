//! Acceptance 4: the integrator figures of `shared/reference/README.md`, reproduced within 2%.
//! Energy errors are sampled at step ends, relative to H₀.

mod common;

use common::{DynStepper, Fixed, one_step_jacobian};
use liouville_integrate::explicit::ExplicitMethod;
use liouville_integrate::reference::{HarmonicOscillator, Pendulum};
use liouville_integrate::splitting::SymplecticMethod;
use liouville_integrate::{SeparableHamiltonian, energies};
use ndarray::{Array2, array};

/// Relative energy errors |H(t_k) - H₀|/H₀ at k = 1..=n.
fn relative_energy_errors(
    stepper: &mut dyn DynStepper,
    h: &impl SeparableHamiltonian,
    y0: Array2<f64>,
    dt: f64,
    n: usize,
) -> Vec<f64> {
    let h0 = energies(h, y0.view())[0];
    let mut y = y0;
    (0..n)
        .map(|k| {
            stepper.step_dyn(k as f64 * dt, dt, &mut y);
            ((energies(h, y.view())[0] - h0) / h0).abs()
        })
        .collect()
}

fn max(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, &x| m.max(x))
}

fn assert_within_2_percent(what: &str, got: f64, expected: f64) {
    assert!(
        (got / expected - 1.0).abs() <= 0.02,
        "{what}: got {got:.4e}, reference {expected:.4e}"
    );
}

const OSCILLATOR_Y0: [[f64; 2]; 1] = [[1.0, 0.0]];

#[test]
fn leapfrog_energy_error_on_the_oscillator_is_dt_squared_over_4() {
    let h = HarmonicOscillator::default();
    let mut s = Fixed::Splitting(SymplecticMethod::Leapfrog).stepper(h);
    let errs = relative_energy_errors(s.as_mut(), &h, Array2::from(OSCILLATOR_Y0.to_vec()), 0.1, 100_000);
    assert_within_2_percent("leapfrog max |dH|/H0 over t <= 1e4", max(&errs), 2.5e-3);
}

#[test]
fn rk4_energy_error_on_the_oscillator_drifts_linearly() {
    let h = HarmonicOscillator::default();
    let mut s = Fixed::Explicit(ExplicitMethod::Rk4).stepper(h);
    let errs = relative_energy_errors(s.as_mut(), &h, Array2::from(OSCILLATOR_Y0.to_vec()), 0.1, 1_000_000);
    assert_within_2_percent("RK4 at t = 1e3", errs[10_000 - 1], 1.387e-4);
    assert_within_2_percent("RK4 at t = 1e4", errs[100_000 - 1], 1.386e-3);
    assert_within_2_percent("RK4 at t = 1e5", errs[1_000_000 - 1], 1.378e-2);
}

#[test]
fn yoshida4_energy_error_on_the_oscillator() {
    let h = HarmonicOscillator::default();
    let mut s = Fixed::Splitting(SymplecticMethod::Yoshida4).stepper(h);
    let errs = relative_energy_errors(s.as_mut(), &h, Array2::from(OSCILLATOR_Y0.to_vec()), 0.1, 10_000);
    assert_within_2_percent("Yoshida-4 max |dH|/H0", max(&errs), 7.66e-6);
}

#[test]
fn pendulum_energy_errors_up_to_t_1000() {
    for (method, expected) in [
        (Fixed::Splitting(SymplecticMethod::Leapfrog), 1.91e-3),
        (Fixed::Splitting(SymplecticMethod::Yoshida4), 8.09e-6),
        (Fixed::Explicit(ExplicitMethod::Rk4), 7.26e-5),
    ] {
        let mut s = method.stepper(Pendulum);
        let errs = relative_energy_errors(s.as_mut(), &Pendulum, array![[2.0, 0.0]], 0.1, 10_000);
        assert_within_2_percent(&format!("pendulum {}", method.name()), max(&errs), expected);
    }
}

#[test]
fn one_step_jacobian_determinants_on_the_oscillator() {
    let h = HarmonicOscillator::default();
    let y0 = Array2::from(OSCILLATOR_Y0.to_vec());
    let det = |m: &Array2<f64>| m[[0, 0]] * m[[1, 1]] - m[[0, 1]] * m[[1, 0]];
    let mut leapfrog = Fixed::Splitting(SymplecticMethod::Leapfrog).stepper(h);
    let d_leapfrog = det(&one_step_jacobian(leapfrog.as_mut(), y0.view(), 0.1, 1e-3));
    assert!((d_leapfrog - 1.0).abs() < 1e-12, "leapfrog det {d_leapfrog}");
    let mut rk4 = Fixed::Explicit(ExplicitMethod::Rk4).stepper(h);
    let d_rk4 = det(&one_step_jacobian(rk4.as_mut(), y0.view(), 0.1, 1e-3));
    assert_within_2_percent("RK4 1 - det", 1.0 - d_rk4, 1.3873e-8);
}
