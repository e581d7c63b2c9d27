//! Helpers shared by the integration tests.
#![allow(dead_code)]

use liouville_integrate::collocation::{Collocation, ImplicitMethod};
use liouville_integrate::explicit::{ExplicitMethod, ExplicitRk};
use liouville_integrate::splitting::{Splitting, SymplecticMethod};
use liouville_integrate::{HamiltonianField, SeparableHamiltonian, Stepper};
use ndarray::{Array2, ArrayView2};

/// Every fixed-step method, as a boxed stepper on a separable Hamiltonian.
pub enum Fixed {
    Explicit(ExplicitMethod),
    Splitting(SymplecticMethod),
    Implicit(ImplicitMethod),
}

impl Fixed {
    pub fn all() -> Vec<Fixed> {
        let mut v: Vec<Fixed> = ExplicitMethod::ALL.into_iter().map(Fixed::Explicit).collect();
        v.extend(SymplecticMethod::ALL.into_iter().map(Fixed::Splitting));
        v.extend(ImplicitMethod::ALL.into_iter().map(Fixed::Implicit));
        v
    }
    pub fn symplectic() -> Vec<Fixed> {
        Self::all()
            .into_iter()
            .filter(|m| !matches!(m, Fixed::Explicit(_)))
            .collect()
    }
    pub fn name(&self) -> String {
        match self {
            Fixed::Explicit(m) => format!("{m:?}"),
            Fixed::Splitting(m) => format!("{m:?}"),
            Fixed::Implicit(m) => format!("{m:?}"),
        }
    }
    pub fn order(&self) -> u32 {
        match self {
            Fixed::Explicit(m) => m.order(),
            Fixed::Splitting(m) => m.order(),
            Fixed::Implicit(m) => m.order(),
        }
    }
    pub fn is_symmetric(&self) -> bool {
        match self {
            Fixed::Explicit(_) => false,
            Fixed::Splitting(m) => m.is_symmetric(),
            Fixed::Implicit(_) => true,
        }
    }
    /// A stepper for `h`.
    pub fn stepper<H>(&self, h: H) -> Box<dyn DynStepper>
    where
        H: SeparableHamiltonian + Clone + Send + Sync + 'static,
    {
        match self {
            Fixed::Explicit(m) => Box::new(ExplicitRk::new(HamiltonianField(h), *m)),
            Fixed::Splitting(m) => Box::new(Splitting::new(h, *m)),
            Fixed::Implicit(m) => Box::new(Collocation::new(HamiltonianField(h), *m)),
        }
    }
}

/// Object-safe view of a stepper.
pub trait DynStepper {
    fn step_dyn(&mut self, t: f64, dt: f64, y: &mut Array2<f64>);
}

impl<S: Stepper> DynStepper for S {
    fn step_dyn(&mut self, t: f64, dt: f64, y: &mut Array2<f64>) {
        self.step(t, dt, y.view_mut()).expect("step succeeds");
    }
}

/// Advances `y` by `n` steps of `dt`.
pub fn run(stepper: &mut dyn DynStepper, y: &mut Array2<f64>, dt: f64, n: usize) {
    for k in 0..n {
        stepper.step_dyn(k as f64 * dt, dt, y);
    }
}

/// Least-squares slope of log(err) against log(dt).
pub fn loglog_slope(dts: &[f64], errs: &[f64]) -> f64 {
    let xs: Vec<f64> = dts.iter().map(|d| d.ln()).collect();
    let ys: Vec<f64> = errs.iter().map(|e| e.ln()).collect();
    let n = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    sxy / sxx
}

/// Jacobian of the one-step map at `y0` (one row) by central differences.
pub fn one_step_jacobian(stepper: &mut dyn DynStepper, y0: ArrayView2<'_, f64>, dt: f64, eps: f64) -> Array2<f64> {
    let d = y0.ncols();
    let mut jac = Array2::zeros((d, d));
    for j in 0..d {
        let mut plus = y0.to_owned();
        let mut minus = y0.to_owned();
        plus[[0, j]] += eps;
        minus[[0, j]] -= eps;
        stepper.step_dyn(0.0, dt, &mut plus);
        stepper.step_dyn(0.0, dt, &mut minus);
        for i in 0..d {
            jac[[i, j]] = (plus[[0, i]] - minus[[0, i]]) / (2.0 * eps);
        }
    }
    jac
}

/// The canonical symplectic matrix J = [[0, I], [-I, 0]].
pub fn symplectic_j(dof: usize) -> Array2<f64> {
    let mut j = Array2::zeros((2 * dof, 2 * dof));
    for i in 0..dof {
        j[[i, dof + i]] = 1.0;
        j[[dof + i, i]] = -1.0;
    }
    j
}
