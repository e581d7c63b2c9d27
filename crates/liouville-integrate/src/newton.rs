//! Simplified Newton iteration for the Gauss–Legendre stage equations (feature `lapack`).
//!
//! Solves Gᵢ(k) = kᵢ - f(t + cᵢh, y + h Σⱼ aᵢⱼ kⱼ) = 0 with the frozen Newton matrix
//! M = I - h (A ⊗ J), J ≈ ∂f/∂y(t, y) by forward differences, factorised once per step and per
//! trajectory row by LAPACK (Hairer–Wanner II, IV.8). Unlike fixed-point iteration it converges
//! for h·Lip(f) ≥ 1, e.g. on stiff linear decay.

use ndarray::{Array1, Array2, ArrayView2, Zip};
use ndarray_linalg::{FactorizeInto, Solve};

use crate::fixed::{Stats, axpy};
use crate::{IntegrateError, VectorField};

/// Runs the Newton iteration until max |h Δkᵢ| / (1 + |y|) ≤ `tolerance` (at most
/// `max_iterations`; the controls of [`crate::collocation::IterationControl`]); `k` holds the starting guess (every stage = f(t, y)) on entry and
/// the solution on exit.
#[allow(clippy::too_many_arguments)]
pub(crate) fn solve_stages<F: VectorField + ?Sized>(
    field: &F,
    c: &[f64],
    a: &[Vec<f64>],
    tolerance: f64,
    max_iterations: usize,
    t: f64,
    h: f64,
    y: ArrayView2<'_, f64>,
    k: &mut [Array2<f64>],
    stats: &mut Stats,
) -> Result<(), IntegrateError> {
    let (rows, d) = y.dim();
    let s = c.len();
    let f0 = k[0].clone();
    // Forward-difference Jacobian of every row at once: perturb column j of all rows.
    let mut jac = vec![Array2::<f64>::zeros((d, d)); rows];
    let mut perturbed = y.to_owned();
    let mut f_perturbed = Array2::zeros((rows, d));
    for j in 0..d {
        let steps: Array1<f64> = y.column(j).mapv(|v| f64::EPSILON.sqrt() * v.abs().max(1.0));
        perturbed.column_mut(j).zip_mut_with(&steps, |p, e| *p += e);
        field.eval(t, perturbed.view(), f_perturbed.view_mut());
        stats.evaluations += 1;
        for r in 0..rows {
            for i in 0..d {
                jac[r][[i, j]] = (f_perturbed[[r, i]] - f0[[r, i]]) / steps[r];
            }
        }
        perturbed.column_mut(j).assign(&y.column(j));
    }
    let failed = |iterations, correction| IntegrateError::ImplicitNotConverged {
        t,
        iterations,
        correction,
    };
    let mut lus = Vec::with_capacity(rows);
    for jr in &jac {
        let mut m = Array2::<f64>::eye(s * d);
        for i in 0..s {
            for l in 0..s {
                let ha = h * a[i][l];
                for p in 0..d {
                    for q in 0..d {
                        m[[i * d + p, l * d + q]] -= ha * jr[[p, q]];
                    }
                }
            }
        }
        lus.push(m.factorize_into().map_err(|_| failed(0, f64::NAN))?);
    }

    let mut stage_y = Array2::zeros((rows, d));
    let mut residual = vec![Array2::zeros((rows, d)); s];
    let mut previous = f64::INFINITY;
    for iteration in 1..=max_iterations {
        for i in 0..s {
            stage_y.assign(&y);
            let mut sy = stage_y.view_mut();
            for (j, &aij) in a[i].iter().enumerate() {
                axpy(&mut sy, h * aij, &k[j]);
            }
            field.eval(t + c[i] * h, stage_y.view(), residual[i].view_mut());
            // G = k - f(stage)
            Zip::from(&mut residual[i]).and(&k[i]).for_each(|g, &ki| *g = ki - *g);
        }
        stats.evaluations += s;
        stats.iterations += 1;
        let mut correction: f64 = 0.0;
        for (r, lu) in lus.iter().enumerate() {
            let rhs: Array1<f64> = (0..s * d).map(|idx| -residual[idx / d][[r, idx % d]]).collect();
            let delta = lu.solve_into(rhs).map_err(|_| failed(iteration, f64::NAN))?;
            for idx in 0..s * d {
                let (i, p) = (idx / d, idx % d);
                k[i][[r, p]] += delta[idx];
                correction = correction.max((h * delta[idx]).abs() / (1.0 + y[[r, p]].abs()));
            }
        }
        if !correction.is_finite() {
            return Err(failed(iteration, correction));
        }
        if correction <= tolerance || (correction >= previous && correction < 1e-12) {
            return Ok(());
        }
        previous = correction;
    }
    Err(failed(max_iterations, previous))
}
