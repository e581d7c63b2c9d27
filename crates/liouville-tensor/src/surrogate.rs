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
    check_shapes(model, gradient)?;
    let mut tp = Threaded::new(tape);
    let mut total: Option<Tensor<(), E, D>> = None;
    for ((_, p), g) in model.parameters().into_iter().zip(gradient) {
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

/// One host vector per parameter, each of the parameter's size, or an error naming the first
/// that is not.
fn check_shapes<E: Real, D: Device<E>>(model: &impl Module<E, D>, gradient: &[Vec<E>]) -> Result<(), TensorError> {
    let params = model.parameters();
    if params.len() != gradient.len() {
        return Err(TensorError::ShapeMismatch(format!(
            "{} gradient tensors for {} parameters",
            gradient.len(),
            params.len()
        )));
    }
    for ((name, p), g) in params.into_iter().zip(gradient) {
        let size: usize = p.dims().iter().product();
        if g.len() != size {
            return Err(TensorError::ShapeMismatch(format!(
                "gradient of {name} has {} values, the parameter {size}",
                g.len()
            )));
        }
    }
    Ok(())
}

/// dfdx gradients of `model`'s parameters holding `gradient` (one host vector per parameter, in
/// [`Module::parameters`] order), for an optimiser step. On the CPU the gradient buffers are
/// host vectors and are filled by copying: the surrogate's backward through dfdx ops cost more
/// than a 64 × 64 RBM's whole CD-1 minibatch. Elsewhere the gradients come from
/// [`with_gradient`]'s backward.
pub fn gradients<E: Real, D: Device<E>>(
    model: &impl Module<E, D>,
    gradient: &[Vec<E>],
) -> Result<Gradients<E, D>, TensorError> {
    check_shapes(model, gradient)?;
    if crate::fused::on_host::<E, D>() {
        let mut grads = Gradients::leaky();
        for ((name, p), g) in model.parameters().into_iter().zip(gradient) {
            let buffer = match p {
                ParamRef::Matrix(w) => grads.get_or_alloc_mut(w),
                ParamRef::Vector(b) => grads.get_or_alloc_mut(b),
            }
            .map_err(|e| TensorError::InvalidConfig(format!("gradient buffer of {name}: {e:?}")))?;
            crate::fused::host_vec_mut::<E, D>(buffer)
                .expect("dfdx's CPU buffers are host vectors")
                .copy_from_slice(g);
        }
        return Ok(grads);
    }
    Ok(with_gradient(model, gradient, 0.0, OwnedTape::default())?.backward())
}
