//! Coupling layers: rows split into a conditioning half x_a and a transformed half x_b; y_a = x_a
//! and y_b = g(x_b; θ(x_a, c)) with an element-wise bijection g whose parameters θ come from one
//! MLP conditioner of x_a and, in a conditional flow (cINN, Ardizzone et al. 2019), of an external
//! condition vector c. Since θ does not depend on x_b, ∂y/∂x is triangular and
//! log|det ∂y/∂x| = Σ_j log|∂g/∂x_b,j|.
//!
//! - **Affine** (RealNVP, Dinh, Sohl-Dickstein & Bengio 2017): y_b = x_b ⊙ exp(s) + t,
//!   log|det| = Σ s, inverted in closed form, x_b = (y_b − t) ⊙ exp(−s). s is soft-clamped,
//!   s = c·tanh(ŝ/c) (FrEIA's soft clamping uses c·(2/π)·atan; tanh bounds it the same way and is a
//!   dfdx op), so exp(s) stays within e^{±c}.
//! - **Rational-quadratic spline** (Durkan et al. 2019, RQ-NSF (C)): g is the monotone spline of
//!   [`crate::spline`] on [−B, B] with identity tails.
//!
//! The conditioner's last layer starts at zero, so a fresh coupling of either kind is the identity
//! (Kingma & Dhariwal 2018).

use liouville_tensor::bijection::{Bijection, Transformed};
use liouville_tensor::columns;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::module::{Module, ParamMut, ParamRef};
use liouville_tensor::shapes::Matrix;
use liouville_tensor::tape::Threaded;
use liouville_tensor::{Activation, Init, Mlp, MlpConfig, Real, TensorError, host};

use crate::spline::RationalQuadraticSpline;

/// The element-wise bijection g of a coupling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CouplingTransform {
    /// y = x·exp(s) + t with the log-scale soft-clamped to (−`clamp`, `clamp`).
    Affine {
        /// The soft clamp c > 0.
        clamp: f64,
    },
    /// A rational-quadratic spline with identity tails.
    RationalQuadratic(RationalQuadraticSpline),
}

impl CouplingTransform {
    /// Conditioner outputs per transformed column: 2 (s, t) or the spline's 3K − 1.
    pub fn parameters_per_element(&self) -> usize {
        match self {
            Self::Affine { .. } => 2,
            Self::RationalQuadratic(spline) => spline.parameters_per_element(),
        }
    }

    fn validate(&self) -> Result<(), TensorError> {
        match self {
            Self::Affine { clamp } if !(clamp.is_finite() && *clamp > 0.0) => Err(TensorError::InvalidConfig(format!(
                "an affine coupling needs a finite positive clamp, got {clamp}"
            ))),
            Self::Affine { .. } => Ok(()),
            Self::RationalQuadratic(spline) => spline.validate(),
        }
    }
}

/// One coupling on rows of `dim` columns, optionally conditioned on `condition` more columns.
#[derive(Debug, Clone)]
pub struct Coupling<E: Real, D: Device<E>> {
    dim: usize,
    /// Columns `0..split` condition when `first_conditions`, else columns `split..dim` do.
    split: usize,
    first_conditions: bool,
    /// Width of the external condition vector (0: unconditional).
    condition: usize,
    transform: CouplingTransform,
    conditioner: Mlp<E, D>,
}

/// The RealNVP coupling under its usual name.
pub type AffineCoupling<E, D> = Coupling<E, D>;

impl<E: Real, D: Device<E>> Coupling<E, D> {
    /// An affine coupling on `dim ≥ 2` columns: the first ⌊dim/2⌋ condition the rest, or (with
    /// `first_conditions = false`) the other way round; conditioner `[a] → hidden → [2b]` (tanh),
    /// soft clamp `clamp`, identity at the start.
    pub fn new(
        device: &D,
        dim: usize,
        hidden: &[usize],
        first_conditions: bool,
        clamp: f64,
        seed: u64,
    ) -> Result<Self, TensorError> {
        Self::with_transform(
            device,
            dim,
            0,
            hidden,
            first_conditions,
            CouplingTransform::Affine { clamp },
            seed,
        )
    }

    /// A coupling of any `transform` on `dim ≥ 2` columns whose conditioner also reads a
    /// condition vector of `condition` columns (0: unconditional): `[a + condition] → hidden →
    /// [b·(parameters per element)]` (tanh), identity at the start.
    pub fn with_transform(
        device: &D,
        dim: usize,
        condition: usize,
        hidden: &[usize],
        first_conditions: bool,
        transform: CouplingTransform,
        seed: u64,
    ) -> Result<Self, TensorError> {
        if dim < 2 {
            return Err(TensorError::InvalidConfig(format!(
                "a coupling needs dim >= 2, got {dim}"
            )));
        }
        transform.validate()?;
        let split = dim / 2;
        let (a, b) = if first_conditions {
            (split, dim - split)
        } else {
            (dim - split, split)
        };
        let outputs = b * transform.parameters_per_element();
        let mut conditioner =
            MlpConfig::new(a + condition, hidden, outputs, Activation::Tanh, Init::Xavier).init(device, seed)?;
        let last = conditioner.weights.len() - 1;
        conditioner.weights[last] = device.zeros_like(conditioner.weights[last].shape());
        Ok(Self {
            dim,
            split,
            first_conditions,
            condition,
            transform,
            conditioner,
        })
    }

    /// Width of the condition vector this coupling reads (0: unconditional).
    pub fn condition_width(&self) -> usize {
        self.condition
    }

    /// The conditioner network (for tests that perturb it away from the identity).
    pub fn conditioner_mut(&mut self) -> &mut Mlp<E, D> {
        &mut self.conditioner
    }

    /// (offset, width) of the conditioning and the transformed block.
    fn blocks(&self) -> ((usize, usize), (usize, usize)) {
        let (first, second) = ((0, self.split), (self.split, self.dim - self.split));
        if self.first_conditions {
            (first, second)
        } else {
            (second, first)
        }
    }

    /// y = f(x | c) (or x = f⁻¹(y | c) when `inverse`) and the log-determinant, recorded on `tp`.
    /// `condition` must be `[batch, condition width]` for a conditional coupling and absent
    /// otherwise; anything else is a typed error naming the widths.
    pub fn run<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
        condition: Option<&Matrix<E, D>>,
        inverse: bool,
    ) -> Result<Transformed<E, D>, TensorError> {
        let (rows, n) = *x.shape();
        if n != self.dim {
            return Err(TensorError::ShapeMismatch(format!(
                "rows have {n} columns, the coupling takes {}",
                self.dim
            )));
        }
        check_condition(condition, rows, self.condition)?;
        let dev = x.device().clone();
        let ((ao, aw), (bo, bw)) = self.blocks();
        let sel = |o: usize, w: usize| columns::select(&dev, n, o, w);
        let (sa, sb) = (sel(ao, aw), sel(bo, bw));
        let xa = tp.step(|t| x.clone().put_tape(t).matmul(sa.retaped::<T>()));
        let xb = tp.step(|t| x.clone().put_tape(t).matmul(sb.retaped::<T>()));
        let input = match condition {
            None => xa.clone(),
            Some(c) => {
                let width = aw + self.condition;
                let (pa, pc) = (
                    columns::place(&dev, aw, width, 0),
                    columns::place(&dev, self.condition, width, aw),
                );
                tp.step(|t| {
                    xa.clone().put_tape(t).matmul(pa.retaped::<T>()) + c.retaped::<T>().matmul(pc.retaped::<T>())
                })
            }
        };
        let out = tp.try_step(|t| self.conditioner.forward(&input, t))?;
        let (yb, log_det) = match self.transform {
            CouplingTransform::Affine { clamp } => affine(tp, &dev, &xb, &out, clamp, inverse),
            CouplingTransform::RationalQuadratic(spline) => spline.transform(tp, &xb, &out, inverse)?,
        };
        let (pa, pb) = (columns::place(&dev, aw, n, ao), columns::place(&dev, bw, n, bo));
        let y = tp.step(|t| xa.put_tape(t).matmul(pa.retaped::<T>()) + yb.retaped::<T>().matmul(pb.retaped::<T>()));
        Ok((y, log_det))
    }
}

/// A condition of `rows` rows and `width` columns when `width > 0`, none when `width = 0`.
pub fn check_condition<E: Real, D: Device<E>>(
    condition: Option<&Matrix<E, D>>,
    rows: usize,
    width: usize,
) -> Result<(), TensorError> {
    match (condition, width) {
        (None, 0) => Ok(()),
        (None, w) => Err(TensorError::ShapeMismatch(format!(
            "this flow is conditional on {w} columns and got no condition"
        ))),
        (Some(c), 0) => Err(TensorError::ShapeMismatch(format!(
            "this flow is unconditional and got a condition of {} columns",
            c.shape().1
        ))),
        (Some(c), w) if *c.shape() != (rows, w) => Err(TensorError::ShapeMismatch(format!(
            "a condition of shape {:?} for {rows} rows of a flow conditional on {w} columns",
            c.shape()
        ))),
        (Some(c), _) => host::check_finite(c, "condition"),
    }
}

/// The affine map of the transformed block `xb` `[batch, b]` by the conditioner's output
/// `[batch, 2b]` (log-scales, then shifts) and Σ s of every row.
fn affine<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    dev: &D,
    xb: &Matrix<E, D>,
    out: &Matrix<E, D>,
    clamp: f64,
    inverse: bool,
) -> Transformed<E, D> {
    let bw = xb.shape().1;
    let (s_sel, t_sel) = (
        columns::select(dev, 2 * bw, 0, bw),
        columns::select(dev, 2 * bw, bw, bw),
    );
    let c = E::of(clamp);
    let s = tp.step(|t| (out.clone().put_tape(t).matmul(s_sel.retaped::<T>()) / c).tanh() * c);
    let shift = tp.step(|t| out.clone().put_tape(t).matmul(t_sel.retaped::<T>()));
    let yb = if inverse {
        tp.step(|t| (xb.clone().put_tape(t) - shift.retaped::<T>()) * s.retaped::<T>().negate().exp())
    } else {
        tp.step(|t| xb.clone().put_tape(t) * s.retaped::<T>().exp() + shift.retaped::<T>())
    };
    let log_det = tp.step(|t| {
        let l = s.put_tape(t).sum::<(usize,), Axis<1>>();
        if inverse { l.negate() } else { l }
    });
    (yb, log_det)
}

impl<E: Real, D: Device<E>> Bijection<E, D> for Coupling<E, D> {
    fn dim(&self) -> usize {
        self.dim
    }
    fn forward<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
    ) -> Result<Transformed<E, D>, TensorError> {
        self.run(tp, x, None, false)
    }
    fn inverse<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        y: &Matrix<E, D>,
    ) -> Result<Transformed<E, D>, TensorError> {
        self.run(tp, y, None, true)
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for Coupling<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        self.conditioner.parameters()
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        self.conditioner.parameters_mut()
    }
}
