//! Newtonian gravity of N point masses with optional Plummer softening ε:
//!
//! H = Σᵢ |pᵢ|²/(2mᵢ) - G Σ_{i<j} mᵢmⱼ / √(|qᵢ - qⱼ|² + ε²).
//!
//! A state row is `[q₁…q_N, p₁…p_N]` with each qᵢ, pᵢ of `dim` ∈ {2, 3} components. The force is
//! the direct O(N²) sum; from [`PARALLEL_BODIES`] bodies on it runs in parallel over bodies with
//! rayon, each body summing over the others in a fixed order, so results do not depend on the
//! number of threads.

use liouville_integrate::{SeparableHamiltonian, energies};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut1, ArrayViewMut2};
use rayon::prelude::*;

use super::{Conserved, Invariant};
use crate::SimError;
use crate::error::{non_negative, positive};

/// From this many bodies the force is computed in parallel.
pub const PARALLEL_BODIES: usize = 128;

/// N gravitating bodies in 2 or 3 dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct NBodyGravity {
    masses: Vec<f64>,
    dim: usize,
    softening: f64,
    g: f64,
}

impl NBodyGravity {
    /// Validates: at least two bodies, every mass > 0, dim ∈ {2, 3}, softening ≥ 0, G > 0.
    pub fn new(masses: Vec<f64>, dim: usize, softening: f64, g: f64) -> Result<Self, SimError> {
        if masses.len() < 2 {
            return Err(SimError::InvalidOption(format!(
                "N-body needs at least 2 bodies, got {}",
                masses.len()
            )));
        }
        if !(dim == 2 || dim == 3) {
            return Err(SimError::InvalidOption(format!("dimension must be 2 or 3, got {dim}")));
        }
        for &m in &masses {
            positive("mass", m)?;
        }
        Ok(Self {
            masses,
            dim,
            softening: non_negative("softening", softening)?,
            g: positive("G", g)?,
        })
    }

    /// Two unit masses in the plane, G = 1 (Greydanus et al.'s two-body task).
    pub fn two_body() -> Self {
        Self {
            masses: vec![1.0, 1.0],
            dim: 2,
            softening: 0.0,
            g: 1.0,
        }
    }

    /// Three unit masses in the plane, G = 1.
    pub fn three_body() -> Self {
        Self {
            masses: vec![1.0; 3],
            dim: 2,
            softening: 0.0,
            g: 1.0,
        }
    }

    /// The figure-eight choreography (Moore 1993; Chenciner & Montgomery 2000) with the
    /// 10-digit initial condition and period of Li & Liao (2017): q = (-1, 0), (1, 0), (0, 0),
    /// v₁ = v₂ = (0.3471168881, 0.5327249454), v₃ = -2v₁, T = 6.3259139829.
    /// Returns the system, the initial state row and the period.
    pub fn figure_eight() -> (Self, Array2<f64>, f64) {
        let (vx, vy) = (0.347_116_888_1, 0.532_724_945_4);
        let y = ndarray::array![[-1.0, 0.0, 1.0, 0.0, 0.0, 0.0, vx, vy, vx, vy, -2.0 * vx, -2.0 * vy]];
        (Self::three_body(), y, 6.325_913_982_9)
    }

    /// Masses.
    pub fn masses(&self) -> &[f64] {
        &self.masses
    }
    /// Number of bodies.
    pub fn bodies(&self) -> usize {
        self.masses.len()
    }
    /// Spatial dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Acceleration-free force on body i: ∂V/∂qᵢ = G mᵢ Σ_{j≠i} mⱼ (qᵢ - qⱼ)/(r² + ε²)^{3/2}.
    fn grad_on(&self, q: &[f64], i: usize, out: &mut [f64]) {
        let (d, eps2) = (self.dim, self.softening * self.softening);
        let mut acc = [0.0; 3];
        for j in 0..self.masses.len() {
            if j == i {
                continue;
            }
            let mut r2 = eps2;
            let mut delta = [0.0; 3];
            for c in 0..d {
                delta[c] = q[d * i + c] - q[d * j + c];
                r2 += delta[c] * delta[c];
            }
            let w = self.masses[j] / (r2 * r2.sqrt());
            for c in 0..d {
                acc[c] += w * delta[c];
            }
        }
        let scale = self.g * self.masses[i];
        for c in 0..d {
            out[c] = scale * acc[c];
        }
    }

    /// Total momentum Σ pᵢ, one array per component.
    pub fn momentum(&self, y: ArrayView2<'_, f64>) -> Vec<Array1<f64>> {
        let (n, d) = (self.bodies(), self.dim);
        (0..d)
            .map(|c| {
                y.rows()
                    .into_iter()
                    .map(|r| (0..n).map(|i| r[n * d + d * i + c]).sum())
                    .collect()
            })
            .collect()
    }

    /// Angular momentum Σ qᵢ × pᵢ: the z component in 2D, (x, y, z) in 3D.
    pub fn angular_momentum(&self, y: ArrayView2<'_, f64>) -> Vec<Array1<f64>> {
        let (n, d) = (self.bodies(), self.dim);
        let cross = |r: ndarray::ArrayView1<'_, f64>, axis: usize| -> f64 {
            (0..n)
                .map(|i| {
                    let q = |c: usize| r[d * i + c];
                    let p = |c: usize| r[n * d + d * i + c];
                    match (d, axis) {
                        (2, _) => q(0) * p(1) - q(1) * p(0),
                        (_, 0) => q(1) * p(2) - q(2) * p(1),
                        (_, 1) => q(2) * p(0) - q(0) * p(2),
                        _ => q(0) * p(1) - q(1) * p(0),
                    }
                })
                .sum()
        };
        let axes = if d == 2 { vec![2] } else { vec![0, 1, 2] };
        axes.into_iter()
            .map(|a| y.rows().into_iter().map(|r| cross(r, a)).collect())
            .collect()
    }
}

impl SeparableHamiltonian for NBodyGravity {
    fn dof(&self) -> usize {
        self.dim * self.masses.len()
    }
    fn kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        let d = self.dim;
        for (o, row) in out.iter_mut().zip(p.rows()) {
            *o = (0..self.masses.len())
                .map(|i| (0..d).map(|c| row[d * i + c].powi(2)).sum::<f64>() / (2.0 * self.masses[i]))
                .sum();
        }
    }
    fn potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        let (d, n, eps2) = (self.dim, self.masses.len(), self.softening * self.softening);
        for (o, row) in out.iter_mut().zip(q.rows()) {
            let mut v = 0.0;
            for i in 0..n {
                for j in i + 1..n {
                    let r2: f64 = eps2 + (0..d).map(|c| (row[d * i + c] - row[d * j + c]).powi(2)).sum::<f64>();
                    v -= self.g * self.masses[i] * self.masses[j] / r2.sqrt();
                }
            }
            *o = v;
        }
    }
    fn grad_kinetic(&self, p: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        let d = self.dim;
        for r in 0..p.nrows() {
            for k in 0..p.ncols() {
                out[[r, k]] = p[[r, k]] / self.masses[k / d];
            }
        }
    }
    fn grad_potential(&self, q: ArrayView2<'_, f64>, mut out: ArrayViewMut2<'_, f64>) {
        let d = self.dim;
        for (row, mut grad) in q.rows().into_iter().zip(out.rows_mut()) {
            let x: Vec<f64> = row.iter().copied().collect();
            let mut g = vec![0.0; x.len()];
            if self.masses.len() >= PARALLEL_BODIES {
                g.par_chunks_mut(d)
                    .enumerate()
                    .for_each(|(i, gi)| self.grad_on(&x, i, gi));
            } else {
                g.chunks_mut(d).enumerate().for_each(|(i, gi)| self.grad_on(&x, i, gi));
            }
            grad.assign(&ndarray::ArrayView1::from(&g));
        }
    }
}

impl Conserved for NBodyGravity {
    fn conserved(&self, y: ArrayView2<'_, f64>) -> Vec<Invariant> {
        let mut v = vec![Invariant {
            name: "energy",
            values: energies(self, y),
        }];
        let names = ["momentum_x", "momentum_y", "momentum_z"];
        for (c, values) in self.momentum(y).into_iter().enumerate() {
            v.push(Invariant { name: names[c], values });
        }
        let l = self.angular_momentum(y);
        let names: &[&'static str] = if l.len() == 1 {
            &["angular_momentum"]
        } else {
            &["angular_momentum_x", "angular_momentum_y", "angular_momentum_z"]
        };
        for (name, values) in names.iter().zip(l) {
            v.push(Invariant { name, values });
        }
        v
    }
}
