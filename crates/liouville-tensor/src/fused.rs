//! Fused layer kernels: the activation of a dense layer and its slope in one sweep,
//!
//! a = σ(z + b),  s = σ'(z + b)   (z = a_prev·W `[rows, width]`, b `[width]`),
//!
//! with a hand-written backward, δ = ∂L/∂a ⊙ s + ∂L/∂s ⊙ σ''(z + b), ∂L/∂z += δ,
//! ∂L/∂b += Σ_rows δ. Composed from dfdx ops the same layer takes a broadcast add, the
//! activation, three element-wise ops for the slope, and the same again backwards, each its own
//! pass and allocation (and dfdx's CPU `tanh` is scalar libm). Here it is one pass forward and
//! one back, on [`crate::vector_math`]'s vectorised kernels.
//!
//! The fused path runs on dfdx's `Cpu` for tanh (σ' = 1 − a², σ'' = −2a(1 − a²), both from the
//! output); every other device and activation takes the composed path, which is also the
//! reference the tests compare against (`tests/fused.rs`: values and parameter gradients agree to
//! round-off in f32 and f64, and finite differences in f64).
//!
//! dfdx 0.13 has no public custom-op trait; this records its VJP with `Tape::add_backward_op` and
//! reaches the gradient buffers through `Gradients::get_or_alloc_mut`. Its backward runs after every
//! op recorded later (the tape executes in reverse order of recording).

use std::any::{Any, TypeId};
use std::cell::Cell;

use dfdx::prelude::*;
use dfdx::tensor::Gradients;

use crate::device::Cpu;
use crate::shapes::{Matrix, Vector};
use crate::tape::Threaded;
use crate::{Activation, Real};

/// A dense layer's activation a = σ(z + b) and, when asked for, its slope s = σ'(z + b).
pub struct Activated<E: Real, D: Device<E>> {
    /// a = σ(z + b).
    pub value: Matrix<E, D>,
    /// s = σ'(z + b) (`None` unless requested).
    pub slope: Option<Matrix<E, D>>,
    /// z + b, kept on the composed path only (activations whose σ'' is not a function of σ need
    /// it); `None` on the fused path.
    pub pre_activation: Option<Matrix<E, D>>,
}

thread_local! {
    /// Set inside [`composed`]: every layer on this thread takes the composed path.
    static COMPOSED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with the fused path off on this thread, every layer composed from dfdx ops: the
/// reference the fused kernels are tested and benchmarked against. Forward and backward both run
/// inside `f`, so both take the composed path.
pub fn composed<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            COMPOSED.set(self.0);
        }
    }
    let _restore = Restore(COMPOSED.replace(true));
    f()
}

/// Whether `D` is dfdx's CPU device, whose buffers are host vectors.
fn on_host<E: Real, D: Device<E>>() -> bool {
    TypeId::of::<D>() == TypeId::of::<Cpu>()
}

/// A host gradient buffer as a vector (`None` off the host).
fn host_vec_mut<E: Real, D: Device<E>>(v: &mut <D as Storage<E>>::Vec) -> Option<&mut Vec<E>> {
    (v as &mut dyn Any)
        .downcast_mut::<<Cpu as Storage<E>>::Vec>()
        .map(|v| &mut **v)
}

/// Whether [`dense`] takes the fused path for this device and activation.
pub fn is_fused<E: Real, D: Device<E>>(activation: Activation) -> bool {
    on_host::<E, D>() && activation == Activation::Tanh && !COMPOSED.get()
}

/// A hidden dense layer: z = input·W, a = σ(z + b) and (with `with_slope`) s = σ'(z + b), recorded
/// on `tp`'s tape; the matrix product is dfdx's, the rest fused on the host for tanh and composed
/// from dfdx ops otherwise (see the module docs).
pub fn dense<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    input: &Matrix<E, D>,
    weight: &Matrix<E, D>,
    bias: &Vector<E, D>,
    activation: Activation,
    with_slope: bool,
) -> Activated<E, D> {
    let z = tp.step(|t| input.clone().put_tape(t).matmul(weight.retaped::<T>()));
    if is_fused::<E, D>(activation) {
        return fused_tanh(tp, z, bias, with_slope);
    }
    let shape = *z.shape();
    let pre = tp.step(|t| z.put_tape(t) + bias.retaped::<T>().broadcast_like::<_, Axis<0>>(&shape));
    let value = tp.step(|t| activation.value(pre.clone().put_tape(t)));
    let slope = with_slope.then(|| tp.step(|t| activation.first_from_value(value.clone().put_tape(t), pre.clone())));
    Activated {
        value,
        slope,
        pre_activation: Some(pre),
    }
}

fn fused_tanh<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    z: Matrix<E, D>,
    bias: &Vector<E, D>,
    with_slope: bool,
) -> Activated<E, D> {
    let (rows, width) = *z.shape();
    let dev = z.device().clone();
    // z is the fresh row-major output of dfdx's matmul ([`dense`] made it), so its storage order
    // is the logical one and `copy_into` reads it as it is.
    let mut pre = vec![E::default(); rows * width];
    z.copy_into(&mut pre);
    let mut b = vec![E::default(); width];
    bias.copy_into(&mut b);
    for row in pre.chunks_exact_mut(width) {
        for (p, &bc) in row.iter_mut().zip(&b) {
            *p += bc;
        }
    }
    let mut a = vec![E::default(); rows * width];
    E::tanh_into(&pre, &mut a);
    let slope = with_slope.then(|| dev.tensor_from_vec(a.iter().map(|&t| E::ONE - t * t).collect(), (rows, width)));
    let saved = T::OWNS_TAPE.then(|| a.clone());
    let value = dev.tensor_from_vec(a, (rows, width));
    if let Some(y) = saved {
        let (value_id, slope_id, z_id, bias_id) = (value.clone(), slope.clone(), z, bias.clone());
        tp.add_backward_op(move |grads: &mut Gradients<E, D>| {
            // Every buffer is allocated first (zeros for an output nothing used), so the host
            // look-ups below cannot miss; `on_host` was checked before recording.
            grads.try_alloc_for(&value_id)?;
            grads.try_alloc_for(&z_id)?;
            grads.try_alloc_for(&bias_id)?;
            if let Some(s) = &slope_id {
                grads.try_alloc_for(s)?;
            }
            let take = |grads: &mut Gradients<E, D>, t: &Matrix<E, D>| -> Result<Vec<E>, D::Err> {
                Ok(std::mem::take(
                    host_vec_mut::<E, D>(grads.get_or_alloc_mut(t)?).expect("host buffer"),
                ))
            };
            let g_value = take(grads, &value_id)?;
            let g_slope = match &slope_id {
                Some(s) => Some(take(grads, s)?),
                None => None,
            };
            let mut g_bias =
                std::mem::take(host_vec_mut::<E, D>(grads.get_or_alloc_mut(&bias_id)?).expect("host buffer"));
            {
                let g_z = host_vec_mut::<E, D>(grads.get_or_alloc_mut(&z_id)?).expect("host buffer");
                E::tanh_layer_backward(&y, &g_value, g_slope.as_deref(), g_z, &mut g_bias);
            }
            *host_vec_mut::<E, D>(grads.get_or_alloc_mut(&bias_id)?).expect("host buffer") = g_bias;
            *host_vec_mut::<E, D>(grads.get_or_alloc_mut(&value_id)?).expect("host buffer") = g_value;
            if let (Some(s), Some(g)) = (&slope_id, g_slope) {
                *host_vec_mut::<E, D>(grads.get_or_alloc_mut(s)?).expect("host buffer") = g;
            }
            Ok(())
        });
    }
    Activated {
        value,
        slope,
        pre_activation: None,
    }
}
