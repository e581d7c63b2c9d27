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
    /// Generalised velocities q̇ = ∂H/∂p of one canonical state `[q₁, q₂, p₁, p₂]`.
    pub fn velocities(&self, state: [f64; 4]) -> [f64; 2] {
        let [q1, q2, p1, p2] = state;
        let t = self.terms(q1, q2, p1, p2);
        let (m1, m2, l1, l2) = (self.m1, self.m2, self.l1, self.l2);
        [
            (l2 * p1 - l1 * p2 * t.cos_d) / (l1 * l1 * l2 * t.denom),
            (-m2 * l2 * p1 * t.cos_d + (m1 + m2) * l1 * p2) / (m2 * l1 * l2 * l2 * t.denom),
        ]
    }

    /// Accelerations q̈ of the Euler–Lagrange equations at `[q₁, q₂, q̇₁, q̇₂]`, Δ = q₁ − q₂,
    /// D = 2m₁ + m₂ − m₂cos 2Δ:
    /// q̈₁ = [−g(2m₁+m₂) sin q₁ − m₂g sin(q₁ − 2q₂) − 2 sin Δ · m₂(q̇₂²l₂ + q̇₁²l₁ cos Δ)] / (l₁D),
    /// q̈₂ = 2 sin Δ [q̇₁²l₁(m₁+m₂) + g(m₁+m₂) cos q₁ + q̇₂²l₂m₂ cos Δ] / (l₂D).
    pub fn accelerations(&self, state: [f64; 4]) -> [f64; 2] {
        let [q1, q2, v1, v2] = state;
        let (m1, m2, l1, l2, g) = (self.m1, self.m2, self.l1, self.l2, self.g);
        let (sin_d, cos_d) = math::sin_cos(q1 - q2);
        let d = 2.0 * m1 + m2 - m2 * math::cos(2.0 * (q1 - q2));
        [
            (-g * (2.0 * m1 + m2) * math::sin(q1)
                - m2 * g * math::sin(q1 - 2.0 * q2)
                - 2.0 * sin_d * m2 * (v2 * v2 * l2 + v1 * v1 * l1 * cos_d))
                / (l1 * d),
            2.0 * sin_d * (v1 * v1 * l1 * (m1 + m2) + g * (m1 + m2) * math::cos(q1) + v2 * v2 * l2 * m2 * cos_d)
                / (l2 * d),
        ]
    }

    /// Total energy in velocity coordinates `[q₁, q₂, q̇₁, q̇₂]`:
    /// E = ½(m₁+m₂)l₁²q̇₁² + ½m₂l₂²q̇₂² + m₂l₁l₂q̇₁q̇₂ cos Δ − (m₁+m₂)gl₁ cos q₁ − m₂gl₂ cos q₂.
    pub fn energy_from_velocities(&self, state: [f64; 4]) -> f64 {
        let [q1, q2, v1, v2] = state;
        let (m1, m2, l1, l2, g) = (self.m1, self.m2, self.l1, self.l2, self.g);
        0.5 * (m1 + m2) * l1 * l1 * v1 * v1 + 0.5 * m2 * l2 * l2 * v2 * v2 + m2 * l1 * l2 * v1 * v2 * math::cos(q1 - q2)
            - (m1 + m2) * g * l1 * math::cos(q1)
            - m2 * g * l2 * math::cos(q2)
    }

    /// The scale of the potential, (m₁+m₂)gl₁ + m₂gl₂ (29.4 in the LNN paper's setting), by which
    /// Cranmer et al. divide energy errors.
    pub fn potential_scale(&self) -> f64 {
        (self.m1 + self.m2) * self.g * self.l1 + self.m2 * self.g * self.l2
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

    /// The Lagrangian forms agree with the Hamiltonian ones: the energies match, and q̈ equals
    /// the time derivative of q̇(q, p) along the Hamiltonian flow (central differences).
    #[test]
    fn velocity_coordinates_agree_with_the_hamiltonian() {
        let dp = DoublePendulum::new(1.3, 0.7, 0.9, 1.4, 9.8).unwrap();
        let y = array![[0.7, -1.1, 0.4, -0.3], [2.5, 0.2, -1.0, 0.8]];
        let mut field = Array2::zeros((2, 4));
        {
            let (q, p) = (y.slice(s![.., ..2]), y.slice(s![.., 2..]));
            let (mut gq, gp) = field.view_mut().split_at(ndarray::Axis(1), 2);
            dp.dh_dq(q, p, gq.view_mut());
            gq.mapv_inplace(|v| -v);
            // Columns: (ṗ, q̇) = (−∂H/∂q, ∂H/∂p).
            dp.dh_dp(q, p, gp);
        }
        let h = energies(&dp, y.view());
        for r in 0..2 {
            let state = [y[[r, 0]], y[[r, 1]], y[[r, 2]], y[[r, 3]]];
            let v = dp.velocities(state);
            assert!((v[0] - field[[r, 2]]).abs() < 1e-12 && (v[1] - field[[r, 3]]).abs() < 1e-12);
            let lag = [state[0], state[1], v[0], v[1]];
            assert!((dp.energy_from_velocities(lag) - h[r]).abs() < 1e-10);
            let eps = 1e-6;
            let flow = [field[[r, 2]], field[[r, 3]], field[[r, 0]], field[[r, 1]]];
            let shifted = |sign: f64| {
                let s: Vec<f64> = (0..4).map(|c| state[c] + sign * eps * flow[c]).collect();
                dp.velocities([s[0], s[1], s[2], s[3]])
            };
            let (plus, minus) = (shifted(1.0), shifted(-1.0));
            let a = dp.accelerations(lag);
            for k in 0..2 {
                let fd = (plus[k] - minus[k]) / (2.0 * eps);
                assert!((fd - a[k]).abs() < 1e-6, "row {r}, q̈{k}: {} vs {fd}", a[k]);
            }
        }
        assert!((DoublePendulum::lnn_paper().potential_scale() - 29.4).abs() < 1e-12);
    }

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
