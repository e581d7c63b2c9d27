//! Physics losses built on [`crate::Mlp::energy_derivatives`]: Hamiltonian networks, Lagrangian
//! networks and gradient penalties. Each returns a scalar tensor whose `backward()` gives exact
//! parameter gradients (checked against finite differences in `tests/finite_differences.rs`).

use dfdx::prelude::*;

use crate::columns;
use crate::energy::Energy;
use crate::shapes::Matrix;
use crate::{Real, TensorError};

/// The constant matrix S with [∂H/∂q, ∂H/∂p]·S = [∂H/∂p, -∂H/∂q] (Hamilton's equations).
pub fn symplectic_right<E: Real, D: Device<E>>(device: &D, dof: usize) -> Matrix<E, D> {
    let n = 2 * dof;
    let mut m = vec![E::default(); n * n];
    for j in 0..dof {
        m[(dof + j) * n + j] = E::ONE; // q̇ⱼ = ∂H/∂pⱼ
        m[j * n + dof + j] = -E::ONE; // ṗⱼ = -∂H/∂qⱼ
    }
    device.tensor_from_vec(m, (n, n))
}

/// The HNN vector field (∂H/∂p, -∂H/∂q) at rows `x = [q, p]`, recording on `tape`.
pub fn hamiltonian_field<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    hamiltonian: &impl Energy<E, D>,
    x: &Matrix<E, D>,
    tape: T,
) -> Result<Matrix<E, D, T>, TensorError> {
    let dof = x.shape().1 / 2;
    if x.shape().1 != 2 * dof {
        return Err(TensorError::ShapeMismatch(
            "a Hamiltonian state has an even number of columns".into(),
        ));
    }
    let s = symplectic_right::<E, D>(x.device(), dof);
    let d = hamiltonian.derivatives(x, &[], tape)?;
    let field = d.gradient.retaped::<T>().matmul(s.retaped::<T>());
    Ok(d.attach(field))
}

/// Greydanus et al.'s loss: mean over the batch and components of ((∂H/∂p, -∂H/∂q) - ẋ)².
pub fn hnn_loss<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    hamiltonian: &impl Energy<E, D>,
    x: &Matrix<E, D>,
    x_dot: &Matrix<E, D>,
    tape: T,
) -> Result<Tensor<(), E, D, T>, TensorError> {
    if x.shape() != x_dot.shape() {
        return Err(TensorError::ShapeMismatch(format!(
            "states {:?} and derivatives {:?}",
            x.shape(),
            x_dot.shape()
        )));
    }
    let field = hamiltonian_field(hamiltonian, x, tape)?;
    Ok((field - x_dot.retaped::<T>()).square().mean())
}

/// The WGAN-GP penalty (Gulrajani et al. 2017): mean over the batch of (‖∇ₓD(x)‖ - 1)², with
/// ‖·‖ = √(Σ g² + ε) so that it is differentiable at 0.
pub fn gradient_penalty<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    critic: &impl Energy<E, D>,
    x: &Matrix<E, D>,
    tape: T,
) -> Result<Tensor<(), E, D, T>, TensorError> {
    let d = critic.derivatives(x, &[], tape)?;
    let norm = (d.gradient.retaped::<T>().square().sum::<(usize,), Axis<1>>() + E::of(1e-12)).sqrt();
    let penalty = (norm - E::ONE).square().mean();
    Ok(d.attach(penalty))
}

/// Column k of `t` as `[batch, 1]`, by a product with a one-hot selector (differentiable).
fn column<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(t: Matrix<E, D, T>, k: usize) -> Matrix<E, D, T> {
    let sel = columns::select(t.device(), t.shape().1, k, 1);
    t.matmul(sel.retaped::<T>())
}

/// Lagrangian-network accelerations (Cranmer et al. 2020) from the Euler–Lagrange equations of a
/// learned L(q, q̇) at rows `x = [q, q̇]`:
///
/// q̈ = (∂²L/∂q̇²)⁻¹ (∂L/∂q - (∂²L/∂q̇∂q) q̇),
///
/// with ∂²L/∂q̇² from Hessian-vector products along the q̇ axes and the mixed term from one along
/// (q̇, 0). `kinetic_prior` adds ½|q̇|² to L (the identity to ∂²L/∂q̇²), which keeps the system
/// well conditioned from a random start. Closed-form solve for 1 and 2 degrees of freedom.
pub fn lnn_accelerations<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    lagrangian: &impl Energy<E, D>,
    x: &Matrix<E, D>,
    kinetic_prior: bool,
    tape: T,
) -> Result<Matrix<E, D, T>, TensorError> {
    let (batch, n) = *x.shape();
    let dof = n / 2;
    if n != 2 * dof || !(dof == 1 || dof == 2) {
        return Err(TensorError::InvalidConfig(format!(
            "LNN accelerations support 1 or 2 degrees of freedom, got {n} state columns"
        )));
    }
    let dev = x.device().clone();
    // Direction (q̇, 0) — the q̇ columns moved into the q slots — and the unit directions along
    // each q̇ₖ (all data: no gradient flows into the directions).
    let mut dirs = Vec::with_capacity(1 + dof);
    dirs.push(
        x.clone()
            .matmul(columns::select(&dev, n, dof, dof))
            .matmul(columns::place(&dev, dof, n, 0)),
    );
    dirs.extend((0..dof).map(|k| columns::unit_direction(&dev, batch, n, dof + k)));
    let d = lagrangian.derivatives(x, &dirs, tape)?;
    let prior = if kinetic_prior { E::ONE } else { E::default() };
    // rhsₖ = ∂L/∂qₖ - [(∂²L/∂q̇∂q) q̇]ₖ; Mₖⱼ = ∂²L/∂q̇ₖ∂q̇ⱼ (+ δₖⱼ).
    let rhs = |k: usize| column(d.gradient.retaped::<T>(), k) - column(d.hvps[0].retaped::<T>(), dof + k);
    let m = |k: usize, j: usize| {
        let entry = column(d.hvps[1 + j].retaped::<T>(), dof + k);
        if k == j { entry + prior } else { entry }
    };
    let qdd = if dof == 1 {
        rhs(0) / m(0, 0)
    } else {
        // 2 × 2 inverse: [[a, b], [c, e]]⁻¹ = [[e, -b], [-c, a]] / (ae - bc).
        let (a, b, c, e) = (m(0, 0), m(0, 1), m(1, 0), m(1, 1));
        let (a, ta) = a.split_tape();
        let (b, tb) = b.split_tape();
        let (c, tc) = c.split_tape();
        let (e, te) = e.split_tape();
        let det = a.clone().put_tape(ta) * e.retaped::<T>() - b.clone().put_tape(tb) * c.retaped::<T>();
        let (det, tdet) = det.split_tape();
        let (r0, t0) = rhs(0).split_tape();
        let (r1, t1) = rhs(1).split_tape();
        let q0 =
            (e.clone().put_tape(te) * r0.retaped::<T>() - b.retaped::<T>() * r1.retaped::<T>()) / det.retaped::<T>();
        let q1 = (a.retaped::<T>() * r1.clone().put_tape(t1) - c.clone().put_tape(tc) * r0.put_tape(t0))
            / det.put_tape(tdet);
        // Back to [batch, 2] as q0·[1, 0] + q1·[0, 1].
        let row = |k: usize| columns::place(&dev, 1, 2, k);
        q0.matmul(row(0).retaped::<T>()) + q1.matmul(row(1).retaped::<T>())
    };
    Ok(d.attach(qdd))
}

/// Mean squared error between LNN accelerations and targets `[batch, dof]`.
pub fn lnn_loss<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    lagrangian: &impl Energy<E, D>,
    x: &Matrix<E, D>,
    q_ddot: &Matrix<E, D>,
    kinetic_prior: bool,
    tape: T,
) -> Result<Tensor<(), E, D, T>, TensorError> {
    let qdd = lnn_accelerations(lagrangian, x, kinetic_prior, tape)?;
    if qdd.shape() != q_ddot.shape() {
        return Err(TensorError::ShapeMismatch(format!(
            "accelerations {:?} vs targets {:?}",
            qdd.shape(),
            q_ddot.shape()
        )));
    }
    Ok((qdd - q_ddot.retaped::<T>()).square().mean())
}
