//! Deep Lagrangian networks (Lutter, Ritter, Peters 2019): the Lagrangian of a mechanical system,
//! L = ½ q̇ᵀ M(q) q̇ − V(q), with the mass matrix M(q) = L(q)L(q)ᵀ + εI built from a learned
//! lower-triangular Cholesky factor whose diagonal is kept positive by a softplus, so M is
//! symmetric positive definite for every q and every θ. The Euler–Lagrange equations give
//!
//! M(q) q̈ + c(q, q̇) + ∇V(q) = 0,   c = Ṁ q̇ − ½ ∂/∂q (q̇ᵀ M q̇),   Ṁ = Σₖ q̇ₖ ∂M/∂qₖ,
//!
//! where ∂L/∂qₖ comes from forward-mode tangents of the factor network along each axis
//! ([`Mlp::forward_with_tangents`]) and ∇V from the potential network's traced gradient. One
//! or two degrees of freedom (the 2 × 2 solve is closed form). Unlike a plain LNN, the structure
//! makes the q̇-Hessian of L positive definite by construction: no special initialisation is
//! needed.

use std::path::Path;

use liouville_tensor::config::Configured;
use liouville_tensor::device::HostDevice;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::module::{Module, ParamMut, ParamRef, prefixed};
use liouville_tensor::shapes::{Matrix, Vector};
use liouville_tensor::tape::Threaded;
use liouville_tensor::train::{Examples, Loss, Supervised, TrainConfig, TrainReport, train};
use liouville_tensor::{Activation, Energy, Init, Mlp, MlpConfig, Real, TensorError, checkpoint, columns, host};
use ndarray::{Array2, ArrayView2};

use crate::DynamicsError;
use crate::arrays::{array, check_columns, tensor};
use crate::models::{DynamicsModel, FieldConfig, load_default, on_default_device};
use crate::wrapper::{Through, through_field};

/// Regulariser ε of M = LLᵀ + εI.
const EPSILON: f64 = 1e-3;

/// The two networks of a DeLaN: the Cholesky factor's d(d+1)/2 entries (row-major lower
/// triangle, diagonal through softplus) and V, both functions of q.
#[derive(Debug, Clone)]
pub struct DelanNet<E: Real, D: Device<E>> {
    /// q → entries of L(q).
    pub cholesky: Mlp<E, D>,
    /// q → V(q).
    pub potential: Mlp<E, D>,
}

impl<E: Real, D: Device<E>> Module<E, D> for DelanNet<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        let mut v = prefixed("cholesky", self.cholesky.parameters());
        v.extend(prefixed("potential", self.potential.parameters()));
        v
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        let mut v = self.cholesky.parameters_mut();
        v.extend(self.potential.parameters_mut());
        v
    }
}

/// Per-row scalars on one thread: the small-matrix algebra of the 1- and 2-dof equations.
struct Rows<'a, E: Real, D: Device<E>, T> {
    tp: &'a mut Threaded<T>,
    dev: D,
    _e: std::marker::PhantomData<E>,
}

impl<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>> Rows<'_, E, D, T> {
    /// Column `k` of `m` as a `[batch]` vector.
    fn col(&mut self, m: &Matrix<E, D>, k: usize) -> Vector<E, D> {
        let (batch, n) = *m.shape();
        let sel = columns::select(&self.dev, n, k, 1);
        self.tp
            .step(|t| m.clone().put_tape(t).matmul(sel.retaped::<T>()).reshape_like(&(batch,)))
    }
    fn add(&mut self, a: &Vector<E, D>, b: &Vector<E, D>) -> Vector<E, D> {
        self.tp.step(|t| a.clone().put_tape(t) + b.retaped::<T>())
    }
    fn sub(&mut self, a: &Vector<E, D>, b: &Vector<E, D>) -> Vector<E, D> {
        self.tp.step(|t| a.clone().put_tape(t) - b.retaped::<T>())
    }
    fn mul(&mut self, a: &Vector<E, D>, b: &Vector<E, D>) -> Vector<E, D> {
        self.tp.step(|t| a.clone().put_tape(t) * b.retaped::<T>())
    }
    /// a² (a product of a tensor with itself must not be a binary op on one tensor id).
    fn sq(&mut self, a: &Vector<E, D>) -> Vector<E, D> {
        self.tp.step(|t| a.clone().put_tape(t).square())
    }
    fn div(&mut self, a: &Vector<E, D>, b: &Vector<E, D>) -> Vector<E, D> {
        self.tp.step(|t| a.clone().put_tape(t) / b.retaped::<T>())
    }
    fn scale(&mut self, a: &Vector<E, D>, c: f64) -> Vector<E, D> {
        self.tp.step(|t| a.clone().put_tape(t) * E::of(c))
    }
    fn shift(&mut self, a: &Vector<E, D>, c: f64) -> Vector<E, D> {
        self.tp.step(|t| a.clone().put_tape(t) + E::of(c))
    }
    /// Σ aᵢbᵢ.
    fn dot(&mut self, a: &[Vector<E, D>], b: &[Vector<E, D>]) -> Vector<E, D> {
        let mut acc = self.mul(&a[0], &b[0]);
        for i in 1..a.len() {
            let term = self.mul(&a[i], &b[i]);
            acc = self.add(&acc, &term);
        }
        acc
    }
    /// Columns `[batch]` back into a `[batch, n]` matrix.
    fn stack(&mut self, cols: &[Vector<E, D>]) -> Matrix<E, D> {
        let n = cols.len();
        let batch = cols[0].shape().0;
        let mut acc: Option<Matrix<E, D>> = None;
        for (k, c) in cols.iter().enumerate() {
            let place = columns::place(&self.dev, 1, n, k);
            let term = self.tp.step(|t| {
                c.clone()
                    .put_tape(t)
                    .reshape_like(&(batch, 1))
                    .matmul(place.retaped::<T>())
            });
            acc = Some(match acc {
                None => term,
                Some(a) => self.tp.step(|t| a.put_tape(t) + term.retaped::<T>()),
            });
        }
        acc.expect("at least one column")
    }
}

/// q̈ `[batch, d]` of a DeLaN at rows `[q, q̇]`, recorded on `tape`.
pub fn delan_accelerations<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    net: &DelanNet<E, D>,
    x: &Matrix<E, D>,
    tape: T,
) -> Result<Matrix<E, D, T>, TensorError> {
    let mut tp = Threaded::new(tape);
    let q_ddot = accelerations(net, &mut tp, x)?;
    Ok(tp.finish(q_ddot))
}

fn accelerations<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    net: &DelanNet<E, D>,
    tp: &mut Threaded<T>,
    x: &Matrix<E, D>,
) -> Result<Matrix<E, D>, TensorError> {
    let d = net.potential.widths()[0];
    let (batch, n) = *x.shape();
    if n != 2 * d || !(d == 1 || d == 2) {
        return Err(TensorError::ShapeMismatch(format!(
            "a DeLaN here takes rows [q, q̇] of 1 or 2 degrees of freedom, got {n} columns for d = {d}"
        )));
    }
    let dev = x.device().clone();
    let mut r = Rows {
        tp,
        dev: dev.clone(),
        _e: std::marker::PhantomData,
    };
    // q as its own matrix (constant data: no gradient flows to the inputs).
    let q = x.clone().matmul(columns::select(&dev, n, 0, d));
    let axes: Vec<Matrix<E, D>> = (0..d).map(|k| columns::unit_direction(&dev, batch, d, k)).collect();
    let (raw, raw_dots) = net.cholesky.forward_with_tangents(r.tp, &q, &axes)?;
    let grad_v = net.potential.derive(r.tp, &q, &[])?.gradient;
    let q_dot: Vec<Vector<E, D>> = (0..d).map(|k| r.col(x, d + k)).collect();
    let force: Vec<Vector<E, D>> = (0..d).map(|k| r.col(&grad_v, k)).collect();

    // Factor entries: diagonal softplus(o) (derivative sigmoid(o)·ȯ), off-diagonal o.
    let diag =
        |r: &mut Rows<'_, E, D, T>, o: &Vector<E, D>| r.tp.step(|t| Activation::Softplus.value(o.clone().put_tape(t)));
    let diag_slope = |r: &mut Rows<'_, E, D, T>, o: &Vector<E, D>| r.tp.step(|t| o.clone().put_tape(t).sigmoid());
    let q_ddot = if d == 1 {
        let o = r.col(&raw, 0);
        let l = diag(&mut r, &o);
        let s = diag_slope(&mut r, &o);
        let o_dot = r.col(&raw_dots[0], 0);
        let dl = r.mul(&s, &o_dot);
        // M = l² + ε, dM/dq = 2 l l′, c = ½ (dM/dq) q̇².
        let l2 = r.sq(&l);
        let m = r.shift(&l2, EPSILON);
        let ll = r.mul(&l, &dl);
        let dm = r.scale(&ll, 2.0);
        let v2 = r.sq(&q_dot[0]);
        let c_full = r.mul(&dm, &v2);
        let c = r.scale(&c_full, 0.5);
        let rhs = r.add(&c, &force[0]);
        let neg = r.scale(&rhs, -1.0);
        vec![r.div(&neg, &m)]
    } else {
        let o: Vec<Vector<E, D>> = (0..3).map(|k| r.col(&raw, k)).collect();
        let (l11, l21, l22) = (diag(&mut r, &o[0]), o[1].clone(), diag(&mut r, &o[2]));
        let (s11, s22) = (diag_slope(&mut r, &o[0]), diag_slope(&mut r, &o[2]));
        // ∂M/∂q_k for k = 1, 2 as (m11, m12, m22) entries.
        let mut dm: Vec<[Vector<E, D>; 3]> = Vec::new();
        for tangent in &raw_dots {
            let (t11, t21, t22) = (r.col(tangent, 0), r.col(tangent, 1), r.col(tangent, 2));
            let dl11 = r.mul(&s11, &t11);
            let dl22 = r.mul(&s22, &t22);
            let dl21 = t21;
            let a = r.mul(&l11, &dl11);
            let dm11 = r.scale(&a, 2.0);
            let b1 = r.mul(&dl11, &l21);
            let b2 = r.mul(&l11, &dl21);
            let dm12 = r.add(&b1, &b2);
            let c1 = r.mul(&l21, &dl21);
            let c2 = r.mul(&l22, &dl22);
            let c12 = r.add(&c1, &c2);
            let dm22 = r.scale(&c12, 2.0);
            dm.push([dm11, dm12, dm22]);
        }
        let l11sq = r.sq(&l11);
        let m11 = r.shift(&l11sq, EPSILON);
        let m12 = r.mul(&l11, &l21);
        let l21sq = r.sq(&l21);
        let l22sq = r.sq(&l22);
        let m22_raw = r.add(&l21sq, &l22sq);
        let m22 = r.shift(&m22_raw, EPSILON);
        // Ṁ = Σ_k q̇_k ∂M/∂q_k.
        let mut m_dot: Vec<Vector<E, D>> = Vec::new();
        for e in 0..3 {
            let parts: Vec<Vector<E, D>> = dm.iter().map(|dmk| dmk[e].clone()).collect();
            m_dot.push(r.dot(&parts, &q_dot));
        }
        // (Ṁ q̇)_i and ½ q̇ᵀ (∂M/∂q_i) q̇.
        let md_v1 = r.dot(&[m_dot[0].clone(), m_dot[1].clone()], &q_dot);
        let md_v2 = r.dot(&[m_dot[1].clone(), m_dot[2].clone()], &q_dot);
        let quad = |r: &mut Rows<'_, E, D, T>, m: &[Vector<E, D>; 3]| {
            let a = r.sq(&q_dot[0]);
            let a = r.mul(&m[0], &a);
            let b = r.mul(&q_dot[0], &q_dot[1]);
            let b = r.mul(&m[1], &b);
            let b = r.scale(&b, 2.0);
            let c = r.sq(&q_dot[1]);
            let c = r.mul(&m[2], &c);
            let ab = r.add(&a, &b);
            let abc = r.add(&ab, &c);
            r.scale(&abc, 0.5)
        };
        let h1 = quad(&mut r, &dm[0]);
        let h2 = quad(&mut r, &dm[1]);
        // rhs = −(Ṁq̇ − ½∂(q̇ᵀMq̇)/∂q + ∇V).
        let c1 = r.sub(&md_v1, &h1);
        let c2 = r.sub(&md_v2, &h2);
        let g1 = r.add(&c1, &force[0]);
        let g2 = r.add(&c2, &force[1]);
        let rhs1 = r.scale(&g1, -1.0);
        let rhs2 = r.scale(&g2, -1.0);
        // M⁻¹ rhs by the adjugate.
        let a = r.mul(&m11, &m22);
        let b = r.sq(&m12);
        let det = r.sub(&a, &b);
        let a1 = r.mul(&m22, &rhs1);
        let b1 = r.mul(&m12, &rhs2);
        let n1 = r.sub(&a1, &b1);
        let a2 = r.mul(&m11, &rhs2);
        let b2 = r.mul(&m12, &rhs1);
        let n2 = r.sub(&a2, &b2);
        vec![r.div(&n1, &det), r.div(&n2, &det)]
    };
    Ok(r.stack(&q_ddot))
}

/// The DeLaN loss: mean squared error of q̈ (targets are (q̇, q̈) rows).
pub struct DelanLoss;

impl<E: Real, D: Device<E>> Loss<E, D, DelanNet<E, D>> for DelanLoss {
    fn loss<T: Tape<E, D> + Merge<T>>(
        &self,
        model: &DelanNet<E, D>,
        batch: &Supervised<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        let (x, y) = (&batch.inputs, &batch.targets);
        let n = y.shape().1;
        if y.shape() != x.shape() {
            return Err(TensorError::ShapeMismatch(format!(
                "targets {:?} must match inputs {:?}",
                y.shape(),
                x.shape()
            )));
        }
        let d = n / 2;
        let q_ddot = y.clone().matmul(columns::select(y.device(), n, d, d));
        let pred = delan_accelerations(model, x, tape)?;
        Ok((pred - q_ddot).square().mean())
    }
}

/// A deep Lagrangian network on rows `[q, q̇]`.
#[derive(Debug, Clone)]
pub struct Delan<E: Real = f32, D: Device<E> = HostDevice> {
    net: DelanNet<E, D>,
}

through_field!(Delan, net, DelanNet<E, D>);

impl<E: Real, D: Device<E>> Configured<E, D> for Delan<E, D> {
    const KIND: &'static str = "delan";
    type Config = FieldConfig;
    fn config(&self) -> FieldConfig {
        FieldConfig::of(2 * self.net.potential.widths()[0], &self.net.potential)
    }
    /// Softplus MLPs `[dof] → hidden → dof(dof+1)/2` (factor) and `[dof] → hidden → 1` (V).
    fn from_config(c: &FieldConfig, device: &D, seed: u64) -> Result<Self, TensorError> {
        if !(c.dim == 2 || c.dim == 4) {
            return Err(TensorError::InvalidConfig(format!(
                "DeLaNs here take 1 or 2 degrees of freedom (2 or 4 columns), got {}",
                c.dim
            )));
        }
        if let Some(init) = c.init.filter(|&i| i != Init::Xavier) {
            return Err(TensorError::InvalidConfig(format!(
                "DeLaN's softplus networks are Xavier-initialised; init {init:?} does not apply"
            )));
        }
        let d = c.dim / 2;
        let mlp = |out: usize| MlpConfig::new(d, &c.hidden, out, Activation::Softplus, Init::Xavier);
        Ok(Self {
            net: DelanNet {
                cholesky: mlp(d * (d + 1) / 2).init(device, seed)?,
                potential: mlp(1).init(device, seed.wrapping_add(1))?,
            },
        })
    }
}

impl Delan {
    /// Softplus MLPs `[dof] → hidden → dof(dof+1)/2` (factor) and `[dof] → hidden → 1` (V).
    pub fn new(dim: usize, hidden: &[usize], seed: u64) -> Result<Self, DynamicsError> {
        if !(dim == 2 || dim == 4) {
            return Err(DynamicsError::ShapeMismatch(format!(
                "DeLaNs here take 1 or 2 degrees of freedom (2 or 4 columns), got {dim}"
            )));
        }
        on_default_device(&FieldConfig::new(dim, hidden), seed)
    }

    /// Loads a checkpoint written by [`DynamicsModel::save`].
    pub fn load(path: &Path) -> Result<Self, DynamicsError> {
        load_default(path)
    }
}

impl<E: Real, D: Device<E>> Delan<E, D> {
    /// The learned mass matrix M(q) at each row of `q` (`[rows, dof]`), row-major `[rows, dof²]`.
    pub fn mass_matrix(&self, q: ArrayView2<'_, f64>) -> Result<Array2<f64>, DynamicsError> {
        let d = self.net.potential.widths()[0];
        if q.ncols() != d {
            return Err(DynamicsError::ShapeMismatch(format!(
                "q has {} columns, the model takes {d}",
                q.ncols()
            )));
        }
        let raw = host::values(
            &self
                .net
                .cholesky
                .forward(&tensor(self.net.cholesky.device(), q), NoneTape)?,
        );
        let softplus = |z: f64| z.max(0.0) + (-z.abs()).exp().ln_1p();
        let k = d * (d + 1) / 2;
        Ok(Array2::from_shape_fn((q.nrows(), d * d), |(r, e)| {
            let o = &raw[r * k..(r + 1) * k];
            let (i, j) = (e / d, e % d);
            if d == 1 {
                softplus(o[0]).powi(2) + EPSILON
            } else {
                let l = [[softplus(o[0]), 0.0], [o[1], softplus(o[2])]];
                l[i][0] * l[j][0] + l[i][1] * l[j][1] + if i == j { EPSILON } else { 0.0 }
            }
        }))
    }
}

impl<E: Real, D: Device<E>> DynamicsModel for Delan<E, D> {
    fn dim(&self) -> usize {
        2 * self.net.potential.widths()[0]
    }
    /// (q̇, q̈) at rows `[q, q̇]`.
    fn field(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, DynamicsError> {
        check_columns(x, self.dim())?;
        let (rows, n) = x.dim();
        let d = n / 2;
        let qdd = array(&delan_accelerations(
            &self.net,
            &tensor(self.net.potential.device(), x),
            NoneTape,
        )?);
        Ok(Array2::from_shape_fn((rows, n), |(r, c)| {
            if c < d { x[[r, d + c]] } else { qdd[[r, c - d]] }
        }))
    }
    /// Trains on (q, q̇) → (q̇, q̈) rows (`coordinates::lagrangian_examples`).
    fn fit(&mut self, data: &Examples, cfg: &TrainConfig) -> Result<TrainReport, DynamicsError> {
        Ok(train(self, data, &Through(&DelanLoss), cfg)?)
    }
    fn save(&self, path: &Path) -> Result<(), DynamicsError> {
        Ok(checkpoint::save(self, path, None)?)
    }
}
