//! Externally computed gradients into the ordinary optimiser: the adjoint method, CD-k for RBMs
//! and REINFORCE-style estimators produce ∂L/∂θ without a tape. The surrogate scalar
//!
//! s(θ) = Σᵢ ⟨θᵢ, Gᵢ⟩ + (L − Σᵢ ⟨θᵢ, Gᵢ⟩),
//!
//! the bracket a constant without gradient, has value L and gradient G, so `backward()` hands G to
//! any optimiser and training loop unchanged (works on every device: it is made of dfdx ops).

use dfdx::prelude::*;

use crate::module::{Module, ParamRef};
use crate::tape::Threaded;
use crate::{Real, TensorError, host};

/// A scalar on `tape` whose value is `value` and whose gradient with respect to `model`'s
/// parameters is `gradient` (one host vector per parameter, in [`Module::parameters`] order).
pub fn with_gradient<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    model: &impl Module<E, D>,
    gradient: &[Vec<E>],
    value: f64,
    tape: T,
) -> Result<Tensor<(), E, D, T>, TensorError> {
    let params = model.parameters();
    if params.len() != gradient.len() {
        return Err(TensorError::ShapeMismatch(format!(
            "{} gradient tensors for {} parameters",
            gradient.len(),
            params.len()
        )));
    }
    let mut tp = Threaded::new(tape);
    let mut total: Option<Tensor<(), E, D>> = None;
    for ((name, p), g) in params.into_iter().zip(gradient) {
        let size: usize = p.dims().iter().product();
        if g.len() != size {
            return Err(TensorError::ShapeMismatch(format!(
                "gradient of {name} has {} values, the parameter {size}",
                g.len()
            )));
        }
        let term = match p {
            ParamRef::Matrix(w) => {
                let g = w.device().tensor_from_vec(g.clone(), *w.shape());
                tp.step(|t| (w.clone().put_tape(t) * g).sum())
            }
            ParamRef::Vector(b) => {
                let g = b.device().tensor_from_vec(g.clone(), *b.shape());
                tp.step(|t| (b.clone().put_tape(t) * g).sum())
            }
        };
        total = Some(match total {
            None => term,
            Some(acc) => tp.step(|t| acc.put_tape(t) + term.retaped::<T>()),
        });
    }
    let total = total.ok_or_else(|| TensorError::InvalidConfig("the model has no parameters".into()))?;
    let inner = host::scalar(&total);
    Ok(tp.finish(total) + E::of(value - inner))
}
