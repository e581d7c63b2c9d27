//! The gated recurrent unit (Cho et al. 2014), the node update of Gilmer et al.'s MPNN, in
//! PyTorch's convention (`torch.nn.GRUCell`):
//!
//! r = σ(x W_r + b_ir + h U_r + b_hr),  z = σ(x W_z + b_iz + h U_z + b_hz),
//! n = tanh(x W_n + b_in + r ⊙ (h U_n + b_hn)),  h′ = (1 − z) ⊙ n + z ⊙ h,
//!
//! with W = [W_r W_z W_n] `[input, 3H]`, U `[H, 3H]`, initialised U(±1/√H) like PyTorch.

use dfdx::prelude::*;
use liouville_base::random::Rng;

use crate::columns;
use crate::module::{Module, ParamMut, ParamRef};
use crate::shapes::{Matrix, Vector};
use crate::tape::Threaded;
use crate::{Real, TensorError};

/// A GRU cell from `input` features to a hidden state of `hidden`.
#[derive(Debug, Clone)]
pub struct GruCell<E: Real, D: Device<E>> {
    /// W `[input, 3H]` (gates r, z, n).
    pub input_weight: Matrix<E, D>,
    /// U `[H, 3H]`.
    pub hidden_weight: Matrix<E, D>,
    /// b_i `[3H]`.
    pub input_bias: Vector<E, D>,
    /// b_h `[3H]`.
    pub hidden_bias: Vector<E, D>,
}

impl<E: Real, D: Device<E>> GruCell<E, D> {
    /// Weights and biases U(±1/√H) from `seed`.
    pub fn new(device: &D, input: usize, hidden: usize, seed: u64) -> Result<Self, TensorError> {
        if input == 0 || hidden == 0 {
            return Err(TensorError::InvalidConfig(format!(
                "a GRU cell needs input and hidden widths >= 1, got {input}, {hidden}"
            )));
        }
        let bound = 1.0 / (hidden as f64).sqrt();
        let mut rng = Rng::stream(seed, 0x6e0);
        let mut draw = |n: usize| -> Vec<E> { (0..n).map(|_| E::of(rng.uniform_in(-bound, bound))).collect() };
        Ok(Self {
            input_weight: device.tensor_from_vec(draw(input * 3 * hidden), (input, 3 * hidden)),
            hidden_weight: device.tensor_from_vec(draw(hidden * 3 * hidden), (hidden, 3 * hidden)),
            input_bias: device.tensor_from_vec(draw(3 * hidden), (3 * hidden,)),
            hidden_bias: device.tensor_from_vec(draw(3 * hidden), (3 * hidden,)),
        })
    }

    /// Hidden width H.
    pub fn hidden(&self) -> usize {
        self.hidden_weight.shape().0
    }

    /// h′ for inputs `x` `[batch, input]` and states `h` `[batch, H]`, recorded on `tp`.
    pub fn step<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
        h: &Matrix<E, D>,
    ) -> Result<Matrix<E, D>, TensorError> {
        let (batch, hidden) = (x.shape().0, self.hidden());
        if x.shape().1 != self.input_weight.shape().0 || *h.shape() != (batch, hidden) {
            return Err(TensorError::ShapeMismatch(format!(
                "GRU inputs {:?} and state {:?}, the cell takes [_, {}] and [_, {hidden}]",
                x.shape(),
                h.shape(),
                self.input_weight.shape().0
            )));
        }
        let wide = (batch, 3 * hidden);
        let gi = tp.step(|t| {
            x.clone().put_tape(t).matmul(self.input_weight.retaped::<T>())
                + self.input_bias.retaped::<T>().broadcast_like::<_, Axis<0>>(&wide)
        });
        let gh = tp.step(|t| {
            h.clone().put_tape(t).matmul(self.hidden_weight.retaped::<T>())
                + self.hidden_bias.retaped::<T>().broadcast_like::<_, Axis<0>>(&wide)
        });
        let dev = x.device().clone();
        let gate = |tp: &mut Threaded<T>, g: &Matrix<E, D>, k: usize| {
            let s = columns::select::<E, D>(&dev, 3 * hidden, k * hidden, hidden);
            tp.step(|t| g.clone().put_tape(t).matmul(s.retaped::<T>()))
        };
        let (ir, iz, inn) = (gate(tp, &gi, 0), gate(tp, &gi, 1), gate(tp, &gi, 2));
        let (hr, hz, hn) = (gate(tp, &gh, 0), gate(tp, &gh, 1), gate(tp, &gh, 2));
        let r = tp.step(|t| (ir.put_tape(t) + hr.retaped::<T>()).sigmoid());
        let z = tp.step(|t| (iz.put_tape(t) + hz.retaped::<T>()).sigmoid());
        let n = tp.step(|t| (inn.put_tape(t) + r.retaped::<T>() * hn.retaped::<T>()).tanh());
        Ok(tp.step(|t| {
            (z.clone().put_tape(t).negate() + E::ONE) * n.retaped::<T>() + z.retaped::<T>() * h.retaped::<T>()
        }))
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for GruCell<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        vec![
            ("input_weight".into(), ParamRef::Matrix(&self.input_weight)),
            ("hidden_weight".into(), ParamRef::Matrix(&self.hidden_weight)),
            ("input_bias".into(), ParamRef::Vector(&self.input_bias)),
            ("hidden_bias".into(), ParamRef::Vector(&self.hidden_bias)),
        ]
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        vec![
            ParamMut::Matrix(&mut self.input_weight),
            ParamMut::Matrix(&mut self.hidden_weight),
            ParamMut::Vector(&mut self.input_bias),
            ParamMut::Vector(&mut self.hidden_bias),
        ]
    }
}
