//! The planar double pendulum in canonical coordinates (angles q₁, q₂ from the vertical and
//! their conjugate momenta), a non-separable Hamiltonian:
//!
//! H = [m₂l₂²p₁² + (m₁+m₂)l₁²p₂² - 2m₂l₁l₂p₁p₂ cos Δ] / [2m₂l₁²l₂²(m₁ + m₂ sin²Δ)]
//!     - (m₁+m₂)gl₁ cos q₁ - m₂gl₂ cos q₂,   Δ = q₁ - q₂.
//!
//! Symplectic integration needs the implicit (Gauss–Legendre) methods; the splitting methods do
//! not apply.

use liouville_integrate::{Hamiltonian, energies};
use ndarray::{ArrayView2, ArrayViewMut1, ArrayViewMut2};

use super::{Conserved, Invariant};
use crate::error::positive;
use crate::{SimError, math};

/// Masses m₁, m₂, lengths l₁, l₂ and gravity g.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DoublePendulum {
    m1: f64,
    m2: f64,
    l1: f64,
    l2: f64,
    g: f64,
}

/// Per-row quantities shared by H and its gradient.
struct Terms {
    sin_d: f64,
    cos_d: f64,
    denom: f64,
    numer: f64,
}

impl DoublePendulum {
    /// Validates every mass, length and g > 0.
    pub fn new(m1: f64, m2: f64, l1: f64, l2: f64, g: f64) -> Result<Self, SimError> {
        Ok(Self {
            m1: positive("m1", m1)?,
            m2: positive("m2", m2)?,
            l1: positive("l1", l1)?,
            l2: positive("l2", l2)?,
            g: positive("g", g)?,
        })
    }
    /// Cranmer et al.'s LNN setting: m = l = 1, g = 9.8.
    pub fn lnn_paper() -> Self {
        Self {
            m1: 1.0,
            m2: 1.0,
            l1: 1.0,
            l2: 1.0,
            g: 9.8,
        }
    }
    fn terms(&self, q1: f64, q2: f64, p1: f64, p2: f64) -> Terms {
        let (sin_d, cos_d) = math::sin_cos(q1 - q2);
        let denom = self.m1 + self.m2 * sin_d * sin_d;
        let numer = self.m2 * self.l2 * self.l2 * p1 * p1 + (self.m1 + self.m2) * self.l1 * self.l1 * p2 * p2
            - 2.0 * self.m2 * self.l1 * self.l2 * p1 * p2 * cos_d;
        Terms {
            sin_d,
            cos_d,
            denom,
            numer,
        }
    }
}

impl Hamiltonian for DoublePendulum {
    fn dof(&self) -> usize {
        2
    }
    fn energy(&self, q: ArrayView2<'_, f64>, p: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        let (m1, m2, l1, l2, g) = (self.m1, self.m2, self.l1, self.l2, self.g);
        for r in 0..q.nrows() {
            let t = self.terms(q[[r, 0]], q[[r, 1]], p[[r, 0]], p[[r, 1]]);
            let kinetic = t.numer / (2.0 * m2 * l1 * l1 * l2 * l2 * t.denom);
            out[r] = kinetic - (m1 + m2) * g * l1 * math::cos(q[[r, 0]]) - m2 * g * l2 * math::cos(q[[r, 1]]);
        }
    }
    fn dh_dq(&self, q: ArrayView2<'_, f64>, p: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        let (m1, m2, l1, l2, g) = (self.m1, self.m2, self.l1, self.l2, self.g);
        for r in 0..q.nrows() {
            let (p1, p2) = (p[[r, 0]], p[[r, 1]]);
            let t = self.terms(q[[r, 0]], q[[r, 1]], p1, p2);
            let c1 = p1 * p2 * t.sin_d / (l1 * l2 * t.denom);
            let c2 = t.numer * 2.0 * t.sin_d * t.cos_d / (2.0 * l1 * l1 * l2 * l2 * t.denom * t.denom);
            out[[r, 0]] = (m1 + m2) * g * l1 * math::sin(q[[r, 0]]) + c1 - c2;
            out[[r, 1]] = m2 * g * l2 * math::sin(q[[r, 1]]) - c1 + c2;
        }
    }
    fn dh_dp(&self, q: ArrayView2<'_, f64>, p: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        let (m1, m2, l1, l2) = (self.m1, self.m2, self.l1, self.l2);
        for r in 0..q.nrows() {
            let (p1, p2) = (p[[r, 0]], p[[r, 1]]);
            let t = self.terms(q[[r, 0]], q[[r, 1]], p1, p2);
            out[[r, 0]] = (l2 * p1 - l1 * p2 * t.cos_d) / (l1 * l1 * l2 * t.denom);
            out[[r, 1]] = (-m2 * l2 * p1 * t.cos_d + (m1 + m2) * l1 * p2) / (m2 * l1 * l2 * l2 * t.denom);
        }
    }
}

impl Conserved for DoublePendulum {
    fn conserved(&self, y: ArrayView2<'_, f64>) -> Vec<Invariant> {
        vec![Invariant {
            name: "energy",
            values: energies(self, y),
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array, s};

    /// The analytic gradient matches central differences of H (checks the closed forms).
    #[test]
    fn gradient_matches_finite_differences() {
        let dp = DoublePendulum::new(1.3, 0.7, 0.9, 1.4, 9.8).unwrap();
        let y = array![[0.7, -1.1, 0.4, -0.3], [2.5, 0.2, -1.0, 0.8]];
        let mut grad = Array2::zeros((2, 4));
        {
            let (q, p) = (y.slice(s![.., ..2]), y.slice(s![.., 2..]));
            let (gq, gp) = grad.view_mut().split_at(ndarray::Axis(1), 2);
            dp.dh_dq(q, p, gq);
            dp.dh_dp(q, p, gp);
        }
        for c in 0..4 {
            let (mut yp, mut ym) = (y.clone(), y.clone());
            yp.column_mut(c).mapv_inplace(|v| v + 1e-6);
            ym.column_mut(c).mapv_inplace(|v| v - 1e-6);
            let fd = (energies(&dp, yp.view()) - energies(&dp, ym.view())) / 2e-6;
            for r in 0..2 {
                assert!(
                    (fd[r] - grad[[r, c]]).abs() < 1e-7,
                    "row {r} col {c}: {} vs {}",
                    fd[r],
                    grad[[r, c]]
                );
            }
        }
        assert!(DoublePendulum::new(0.0, 1.0, 1.0, 1.0, 9.8).is_err());
    }
}
