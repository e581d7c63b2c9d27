//! Traced element-wise functions that dfdx 0.13 lacks, shared by the models' losses.

use liouville_tensor::Real;
use liouville_tensor::dfdx::prelude::*;

/// softplus(x) = ln(1 + eˣ) = max(x, 0) + ln(1 + e^{−|x|}) (the second form never overflows),
/// on any shape, recorded on x's tape.
pub(crate) fn softplus<S: Shape, E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    x: Tensor<S, E, D, T>,
) -> Tensor<S, E, D, T> {
    let (x, tape) = x.split_tape();
    let relu = x.clone().put_tape(tape).relu();
    let (relu, tape) = relu.split_tape();
    let tail = (x.put_tape(tape).abs().negate().exp() + E::ONE).ln();
    tail + relu.retaped::<T>()
}
