//! Affine coupling layers (RealNVP, Dinh, Sohl-Dickstein & Bengio 2017): rows split into a
//! conditioning half x_a and a transformed half x_b,
//!
//! y_a = x_a,  y_b = x_b ⊙ exp(s(x_a)) + t(x_a),  log|det ∂y/∂x| = Σ s(x_a),
//!
//! inverted in closed form, x_b = (y_b − t(y_a)) ⊙ exp(−s(y_a)). s and t come from one MLP
//! conditioner; s is soft-clamped, s = c·tanh(ŝ/c) (FrEIA's soft clamping uses c·(2/π)·atan; tanh
//! bounds it the same way and is a dfdx op), so exp(s) stays within e^{±c}. The conditioner's last
//! layer starts at zero, so a fresh coupling is the identity (Kingma & Dhariwal 2018).

use liouville_tensor::bijection::{Bijection, Transformed};
use liouville_tensor::columns;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::module::{Module, ParamMut, ParamRef};
use liouville_tensor::shapes::Matrix;
use liouville_tensor::tape::Threaded;
use liouville_tensor::{Activation, Init, Mlp, MlpConfig, Real, TensorError};

/// One affine coupling on rows of `dim` columns.
#[derive(Debug, Clone)]
pub struct AffineCoupling<E: Real, D: Device<E>> {
    dim: usize,
    /// Columns `0..split` condition when `first_conditions`, else columns `split..dim` do.
    split: usize,
    first_conditions: bool,
    clamp: f64,
    conditioner: Mlp<E, D>,
}

impl<E: Real, D: Device<E>> AffineCoupling<E, D> {
    /// A coupling on `dim ≥ 2` columns: the first ⌊dim/2⌋ condition the rest, or (with
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
        if dim < 2 || !(clamp.is_finite() && clamp > 0.0) {
            return Err(TensorError::InvalidConfig(format!(
                "a coupling needs dim >= 2 and a positive clamp, got {dim}, {clamp}"
            )));
        }
        let split = dim / 2;
        let (a, b) = if first_conditions {
            (split, dim - split)
        } else {
            (dim - split, split)
        };
        let mut conditioner = MlpConfig::new(a, hidden, 2 * b, Activation::Tanh, Init::Xavier).init(device, seed)?;
        let last = conditioner.weights.len() - 1;
        conditioner.weights[last] = device.zeros_like(conditioner.weights[last].shape());
        Ok(Self {
            dim,
            split,
            first_conditions,
            clamp,
            conditioner,
        })
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

    fn run<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
        inverse: bool,
    ) -> Result<Transformed<E, D>, TensorError> {
        let n = x.shape().1;
        if n != self.dim {
            return Err(TensorError::ShapeMismatch(format!(
                "rows have {n} columns, the coupling takes {}",
                self.dim
            )));
        }
        let dev = x.device().clone();
        let ((ao, aw), (bo, bw)) = self.blocks();
        let sel = |o: usize, w: usize| columns::select(&dev, n, o, w);
        let (sa, sb) = (sel(ao, aw), sel(bo, bw));
        let xa = tp.step(|t| x.clone().put_tape(t).matmul(sa.retaped::<T>()));
        let xb = tp.step(|t| x.clone().put_tape(t).matmul(sb.retaped::<T>()));
        let out = tp.try_step(|t| self.conditioner.forward(&xa, t))?;
        let (s_sel, t_sel) = (
            columns::select(&dev, 2 * bw, 0, bw),
            columns::select(&dev, 2 * bw, bw, bw),
        );
        let c = E::of(self.clamp);
        let s = tp.step(|t| (out.clone().put_tape(t).matmul(s_sel.retaped::<T>()) / c).tanh() * c);
        let shift = tp.step(|t| out.clone().put_tape(t).matmul(t_sel.retaped::<T>()));
        let yb = if inverse {
            tp.step(|t| (xb.put_tape(t) - shift.retaped::<T>()) * s.retaped::<T>().negate().exp())
        } else {
            tp.step(|t| xb.put_tape(t) * s.retaped::<T>().exp() + shift.retaped::<T>())
        };
        let (pa, pb) = (columns::place(&dev, aw, n, ao), columns::place(&dev, bw, n, bo));
        let y = tp.step(|t| xa.put_tape(t).matmul(pa.retaped::<T>()) + yb.retaped::<T>().matmul(pb.retaped::<T>()));
        let log_det = tp.step(|t| {
            let l = s.put_tape(t).sum::<(usize,), Axis<1>>();
            if inverse { l.negate() } else { l }
        });
        Ok((y, log_det))
    }
}

impl<E: Real, D: Device<E>> Bijection<E, D> for AffineCoupling<E, D> {
    fn dim(&self) -> usize {
        self.dim
    }
    fn forward<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
    ) -> Result<Transformed<E, D>, TensorError> {
        self.run(tp, x, false)
    }
    fn inverse<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        y: &Matrix<E, D>,
    ) -> Result<Transformed<E, D>, TensorError> {
        self.run(tp, y, true)
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for AffineCoupling<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        self.conditioner.parameters()
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        self.conditioner.parameters_mut()
    }
}
