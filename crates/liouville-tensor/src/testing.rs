//! Finite-difference checks of parameter gradients for any [`Module`] and [`Loss`], in f64: the
//! one copy of the loop every hand-built derivative's test needs (HNN, LNN, DeLaN, SRNN, neural
//! ODEs, graph energies, flows' log-determinants).
//!
//! For entries θₖ of every parameter tensor (all, or first, middle and last), the central difference
//! (L(θ + εeₖ) − L(θ − εeₖ)) / 2ε is compared with dfdx's reverse-mode gradient; the report gives
//! the worst relative error |a − n| / max(|a|, |n|, floor) and where it was (entries below
//! `floor` are compared absolutely).

use dfdx::prelude::*;

use crate::module::{Module, ParamMut, ParamRef};
use crate::train::Loss;
use crate::{TensorError, host};

/// Where the analytic and numeric gradients differ most.
#[derive(Debug, Clone, PartialEq)]
pub struct GradientReport {
    /// max |a − n| / max(|a|, |n|, floor) over the checked entries.
    pub worst: f64,
    /// Parameter name of the worst entry.
    pub parameter: String,
    /// Flat index within that parameter.
    pub index: usize,
    /// dfdx's value there.
    pub analytic: f64,
    /// The central difference there.
    pub numeric: f64,
    /// Entries checked.
    pub checked: usize,
}

/// The gradient of `grads` for every parameter of `model`, on the host (zeros where the tape
/// never reached a parameter — which is what a silently dropped gradient looks like).
pub fn parameter_gradients<D: Device<f64>>(
    model: &impl Module<f64, D>,
    grads: &mut Gradients<f64, D>,
) -> Result<Vec<Vec<f64>>, TensorError> {
    let alloc = |e: D::Err| TensorError::InvalidConfig(format!("{e:?}"));
    model
        .parameters()
        .into_iter()
        .map(|(_, p)| match p {
            ParamRef::Matrix(w) => {
                grads.try_alloc_for(w).map_err(alloc)?;
                Ok(grads.get(w).as_vec())
            }
            ParamRef::Vector(b) => {
                grads.try_alloc_for(b).map_err(alloc)?;
                Ok(grads.get(b).as_vec())
            }
        })
        .collect()
}

/// Adds `delta` to entry `k` of parameter `index`.
pub fn nudge<D: Device<f64>>(model: &mut impl Module<f64, D>, index: usize, k: usize, delta: f64) {
    match &mut model.parameters_mut()[index] {
        ParamMut::Matrix(w) => {
            let mut v = w.as_vec();
            v[k] += delta;
            **w = w.device().tensor_from_vec(v, *w.shape());
        }
        ParamMut::Vector(b) => {
            let mut v = b.as_vec();
            v[k] += delta;
            **b = b.device().tensor_from_vec(v, *b.shape());
        }
    }
}

/// Which entries of each parameter tensor to perturb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entries {
    /// The first, middle and last (cheap: for slow losses).
    Ends,
    /// Every one.
    All,
}

/// A finite-difference check: step, entries, and the scale below which errors are absolute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradientCheck {
    /// Central-difference step ε.
    pub eps: f64,
    /// Which entries to perturb.
    pub entries: Entries,
    /// Errors are relative to max(|a|, |n|, floor).
    pub floor: f64,
}

impl Default for GradientCheck {
    /// ε = 1e-6, first/middle/last entries, floor 1.
    fn default() -> Self {
        Self {
            eps: 1e-6,
            entries: Entries::Ends,
            floor: 1.0,
        }
    }
}

/// Compares the reverse-mode gradient of `loss` on `batch` with central differences, as `check`
/// says. `model` is restored.
pub fn check_parameter_gradients<D: Device<f64>, M: Module<f64, D>, B, L: Loss<f64, D, M, B>>(
    model: &mut M,
    loss: &L,
    batch: &B,
    check: GradientCheck,
) -> Result<GradientReport, TensorError> {
    let GradientCheck { eps, entries, floor } = check;
    let l = loss.loss(model, batch, OwnedTape::default())?;
    let mut grads = l.backward();
    let analytic = parameter_gradients(model, &mut grads)?;
    let names: Vec<String> = model.parameters().into_iter().map(|(n, _)| n).collect();
    let mut report = GradientReport {
        worst: 0.0,
        parameter: String::new(),
        index: 0,
        analytic: 0.0,
        numeric: 0.0,
        checked: 0,
    };
    for (pi, g) in analytic.iter().enumerate() {
        let mut ks = match entries {
            Entries::Ends => vec![0, g.len() / 2, g.len() - 1],
            Entries::All => (0..g.len()).collect(),
        };
        ks.dedup();
        for k in ks {
            nudge(model, pi, k, eps);
            let plus = host::scalar(&loss.loss(model, batch, NoneTape)?);
            nudge(model, pi, k, -2.0 * eps);
            let minus = host::scalar(&loss.loss(model, batch, NoneTape)?);
            nudge(model, pi, k, eps);
            let numeric = (plus - minus) / (2.0 * eps);
            let err = (g[k] - numeric).abs() / g[k].abs().max(numeric.abs()).max(floor);
            report.checked += 1;
            if err > report.worst || err.is_nan() {
                report = GradientReport {
                    worst: err,
                    parameter: names[pi].clone(),
                    index: k,
                    analytic: g[k],
                    numeric,
                    checked: report.checked,
                };
            }
        }
    }
    Ok(report)
}

/// log|det J| at `x` of the central-difference Jacobian J (step 1e-6) of `map` ℝⁿ → ℝⁿ, by
/// Gaussian elimination with partial pivoting: the reference every bijection's analytic
/// log-determinant is tested against (error ≈ 1e-8 for smooth maps of order-one curvature).
pub fn log_abs_det_by_differences(map: impl Fn(&[f64]) -> Vec<f64>, x: &[f64]) -> f64 {
    let n = x.len();
    let h = 1e-6;
    let mut jac = vec![vec![0.0; n]; n];
    for j in 0..n {
        let (mut up, mut down) = (x.to_vec(), x.to_vec());
        up[j] += h;
        down[j] -= h;
        let (fu, fd) = (map(&up), map(&down));
        for i in 0..n {
            jac[i][j] = (fu[i] - fd[i]) / (2.0 * h);
        }
    }
    let mut log_det = 0.0;
    for c in 0..n {
        let p = (c..n)
            .max_by(|&a, &b| jac[a][c].abs().total_cmp(&jac[b][c].abs()))
            .expect("a non-empty column");
        jac.swap(p, c);
        log_det += jac[c][c].abs().ln();
        for r in c + 1..n {
            let f = jac[r][c] / jac[c][c];
            for k in c..n {
                jac[r][k] -= f * jac[c][k];
            }
        }
    }
    log_det
}

/// [`log_abs_det_by_differences`] of a bijection's forward map at one row `x`, on `device`.
pub fn bijection_log_det_by_differences<D: Device<f64>, B: crate::bijection::Bijection<f64, D>>(
    bijection: &B,
    device: &D,
    x: &[f64],
) -> f64 {
    let n = x.len();
    let map = |v: &[f64]| {
        let row = host::matrix(device, v.iter().copied(), 1, n);
        host::values(&bijection.apply(&row).expect("a row of the bijection's width").0)
    };
    log_abs_det_by_differences(map, x)
}

#[cfg(test)]
mod log_det_tests {
    use super::*;

    /// A linear map's log|det| is exact under central differences: diag(2, 3) after a shear has
    /// log|det| = ln 6.
    #[test]
    fn the_difference_log_det_of_a_linear_map_is_its_determinant() {
        let map = |v: &[f64]| vec![2.0 * v[0] + 5.0 * v[1], 3.0 * v[1]];
        let ld = log_abs_det_by_differences(map, &[0.3, -0.7]);
        assert!((ld - 6f64.ln()).abs() < 1e-8, "{ld}");
        // A row swap (a pivot) keeps |det|.
        let swapped = |v: &[f64]| vec![3.0 * v[1], 2.0 * v[0] + 5.0 * v[1]];
        assert!((log_abs_det_by_differences(swapped, &[1.0, 2.0]) - 6f64.ln()).abs() < 1e-8);
    }
}
