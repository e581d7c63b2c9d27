//! Fused layer kernels: the activation of a dense layer and its derivatives in one sweep,
//!
//! a = σ(p),  s = σ'(p),  c = σ''(p)   (p = z + b, z = a_prev·W `[rows, width]`, b `[width]`),
//!
//! with a hand-written backward, δ = ∂L/∂a ⊙ σ' + ∂L/∂s ⊙ σ'' + ∂L/∂c ⊙ σ''', ∂L/∂z += δ,
//! ∂L/∂b += Σ_rows δ. Composed from dfdx ops the same layer takes a broadcast add, the
//! activation, several element-wise ops per derivative, and the same again backwards, each its own
//! pass and allocation (and dfdx's CPU transcendental functions are scalar libm). Here it is one
//! pass forward and one back, on [`crate::vector_math`]'s vectorised kernels.
//!
//! The fused path runs on dfdx's `Cpu` for tanh, sigmoid, softplus and ReLU (σ', σ'', σ''' from one kept
//! array, see [`crate::vector_math`]); every other device and activation takes the composed path,
//! which is also the reference the tests compare against (`tests/fused.rs`: values, input
//! derivatives and parameter gradients agree to round-off in f32 and f64; the finite-difference
//! checks of `tests/finite_differences.rs` run on the fused path).
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
use crate::vector_math::FusedActivation;
use crate::{Activation, Real};

/// What a caller needs of a layer besides its value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// σ'(p): input gradients and tangents.
    pub slope: bool,
    /// σ''(p): Hessian-vector products.
    pub curvature: bool,
}

/// A dense layer's activation a = σ(p) and, where asked for, σ'(p) and σ''(p).
pub struct Activated<E: Real, D: Device<E>> {
    /// a = σ(p).
    pub value: Matrix<E, D>,
    /// σ'(p), if [`Needs::slope`].
    pub slope: Option<Matrix<E, D>>,
    /// σ''(p), if [`Needs::curvature`].
    pub curvature: Option<Matrix<E, D>>,
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
pub(crate) fn on_host<E: Real, D: Device<E>>() -> bool {
    TypeId::of::<D>() == TypeId::of::<Cpu>()
}

/// A host gradient buffer as a vector (`None` off the host).
pub(crate) fn host_vec_mut<E: Real, D: Device<E>>(v: &mut <D as Storage<E>>::Vec) -> Option<&mut Vec<E>> {
    (v as &mut dyn Any)
        .downcast_mut::<<Cpu as Storage<E>>::Vec>()
        .map(|v| &mut **v)
}

fn fusable(activation: Activation) -> Option<FusedActivation> {
    match activation {
        Activation::Tanh => Some(FusedActivation::Tanh),
        Activation::Sigmoid => Some(FusedActivation::Sigmoid),
        Activation::Softplus => Some(FusedActivation::Softplus),
        Activation::Relu => Some(FusedActivation::Relu),
        _ => None,
    }
}

/// Whether host kernels (this module's, the segment sums') run: on dfdx's `Cpu`, outside
/// [`composed`].
pub(crate) fn host_kernels<E: Real, D: Device<E>>() -> bool {
    on_host::<E, D>() && !COMPOSED.get()
}

/// Whether [`dense`] takes the fused path for this device and activation.
pub fn is_fused<E: Real, D: Device<E>>(activation: Activation) -> bool {
    on_host::<E, D>() && fusable(activation).is_some() && !COMPOSED.get()
}

/// A hidden dense layer: z = input·W, then a = σ(z + b) and what `needs` asks for, recorded on
/// `tp`'s tape. The matrix product is dfdx's; the rest is fused where [`is_fused`] says so and
/// composed from dfdx ops otherwise (see the module docs).
pub fn dense<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    input: &Matrix<E, D>,
    weight: &Matrix<E, D>,
    bias: &Vector<E, D>,
    activation: Activation,
    needs: Needs,
) -> Activated<E, D> {
    let z = tp.step(|t| input.clone().put_tape(t).matmul(weight.retaped::<T>()));
    if let Some(kind) = fusable(activation).filter(|_| is_fused::<E, D>(activation)) {
        return fused(tp, z, bias, kind, needs);
    }
    let shape = *z.shape();
    let pre = tp.step(|t| z.put_tape(t) + bias.retaped::<T>().broadcast_like::<_, Axis<0>>(&shape));
    let value = tp.step(|t| activation.value(pre.clone().put_tape(t)));
    let slope = (needs.slope || needs.curvature)
        .then(|| tp.step(|t| activation.first_from_value(value.clone().put_tape(t), pre.clone())));
    let curvature = match (&slope, needs.curvature) {
        (Some(s), true) => Some(tp.step(|t| activation.second_from_value(value.clone().put_tape(t), s.clone(), pre))),
        _ => None,
    };
    Activated {
        value,
        slope: slope.filter(|_| needs.slope),
        curvature,
    }
}

/// An output layer without an activation: input·W + b, recorded on `tp`'s tape; the bias add and
/// its backward (the column sums of the upstream gradient) as one host pass each where
/// [`host_kernels`] holds, dfdx's broadcast add otherwise (whose backward reduces through
/// dfdx's generic strided kernel).
pub fn affine<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    input: &Matrix<E, D>,
    weight: &Matrix<E, D>,
    bias: &Vector<E, D>,
) -> Matrix<E, D> {
    let z = tp.step(|t| input.clone().put_tape(t).matmul(weight.retaped::<T>()));
    if host_kernels::<E, D>() {
        return fused(tp, z, bias, FusedActivation::Identity, Needs::default()).value;
    }
    let shape = *z.shape();
    tp.step(|t| z.put_tape(t) + bias.retaped::<T>().broadcast_like::<_, Axis<0>>(&shape))
}

fn fused<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    z: Matrix<E, D>,
    bias: &Vector<E, D>,
    kind: FusedActivation,
    needs: Needs,
) -> Activated<E, D> {
    let (rows, width) = *z.shape();
    let n = rows * width;
    let dev = z.device().clone();
    // z is the fresh row-major output of dfdx's matmul ([`dense`] made it), so its storage order
    // is the logical one and `copy_into` reads it as it is.
    let mut pre = vec![E::default(); n];
    z.copy_into(&mut pre);
    let mut b = vec![E::default(); width];
    bias.copy_into(&mut b);
    for row in pre.chunks_exact_mut(width) {
        for (p, &bc) in row.iter_mut().zip(&b) {
            *p += bc;
        }
    }
    if kind == FusedActivation::Identity && !needs.slope && !needs.curvature {
        return biased(tp, z, bias, pre);
    }
    let (mut value, mut basis) = (vec![E::default(); n], vec![E::default(); n]);
    E::activate_into(kind, &pre, &mut value, &mut basis);
    drop(pre);
    let mut slope = needs.slope.then(|| vec![E::default(); n]);
    let mut curvature = needs.curvature.then(|| vec![E::default(); n]);
    if needs.slope || needs.curvature {
        E::derivatives_into(kind, &basis, slope.as_deref_mut(), curvature.as_deref_mut());
    }
    let value = dev.tensor_from_vec(value, (rows, width));
    let slope = slope.map(|s| dev.tensor_from_vec(s, (rows, width)));
    let curvature = curvature.map(|c| dev.tensor_from_vec(c, (rows, width)));
    if T::OWNS_TAPE {
        let outputs = (value.clone(), slope.clone(), curvature.clone());
        let (z, bias) = (z, bias.clone());
        tp.add_backward_op(move |grads: &mut Gradients<E, D>| {
            let (value, slope, curvature) = &outputs;
            // Every buffer is allocated first (zeros for an output nothing used), so the host
            // look-ups below cannot miss; `on_host` was checked before recording.
            grads.try_alloc_for(value)?;
            grads.try_alloc_for(&z)?;
            grads.try_alloc_for(&bias)?;
            for t in [slope, curvature].into_iter().flatten() {
                grads.try_alloc_for(t)?;
            }
            // Taken out and put back, so that one gradient is borrowed mutably at a time.
            let g_value = take_host(grads, value);
            let g_slope = slope.as_ref().map(|s| take_host(grads, s));
            let g_curvature = curvature.as_ref().map(|c| take_host(grads, c));
            let mut g_bias = take_host(grads, &bias);
            let mut g_pre = take_host(grads, &z);
            E::layer_backward(
                kind,
                &basis,
                &g_value,
                g_slope.as_deref(),
                g_curvature.as_deref(),
                &mut g_pre,
                &mut g_bias,
            );
            put_host(grads, &z, g_pre);
            put_host(grads, &bias, g_bias);
            put_host(grads, value, g_value);
            if let (Some(s), Some(g)) = (slope, g_slope) {
                put_host(grads, s, g);
            }
            if let (Some(c), Some(g)) = (curvature, g_curvature) {
                put_host(grads, c, g);
            }
            Ok(())
        });
    }
    Activated {
        value,
        slope,
        curvature,
    }
}

/// z + b (`pre`, already summed on the host) as a tensor, with the backward ∂L/∂z += ∂L/∂y,
/// ∂L/∂b += Σ_rows ∂L/∂y: an output layer needs no activation arrays.
fn biased<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    z: Matrix<E, D>,
    bias: &Vector<E, D>,
    pre: Vec<E>,
) -> Activated<E, D> {
    let (rows, width) = *z.shape();
    let value = z.device().tensor_from_vec(pre, (rows, width));
    if T::OWNS_TAPE {
        let (out, bias) = (value.clone(), bias.clone());
        tp.add_backward_op(move |grads: &mut Gradients<E, D>| {
            grads.try_alloc_for(&out)?;
            grads.try_alloc_for(&z)?;
            grads.try_alloc_for(&bias)?;
            let g_out = take_host(grads, &out);
            let mut g_z = take_host(grads, &z);
            let mut g_b = take_host(grads, &bias);
            for (g_row, o_row) in g_z.chunks_exact_mut(width.max(1)).zip(g_out.chunks_exact(width.max(1))) {
                for ((g, b), &o) in g_row.iter_mut().zip(g_b.iter_mut()).zip(o_row) {
                    *g += o;
                    *b += o;
                }
            }
            put_host(grads, &z, g_z);
            put_host(grads, &bias, g_b);
            put_host(grads, &out, g_out);
            Ok(())
        });
    }
    Activated {
        value,
        slope: None,
        curvature: None,
    }
}

/// An upstream gradient of a layer's output: a full `[rows, width]` matrix, or one row shared by
/// every row of the batch (the top layer of an energy's input gradient: W_Lᵀ, as a `[width, 1]`
/// weight), which is never materialised.
#[derive(Clone)]
pub enum Upstream<E: Real, D: Device<E>> {
    /// A full matrix.
    Full(Matrix<E, D>),
    /// A `[width, 1]` column whose transpose is every row.
    SharedRow(Matrix<E, D>),
}

/// g ⊙ s for an upstream gradient g and a same-shaped s (a slope or curvature of [`dense`]),
/// recorded on `tp`; one host pass each way where [`is_fused`] holds for `activation` (whose
/// layers made `s`), dfdx's broadcast and product otherwise.
pub fn gate<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    g: &Upstream<E, D>,
    s: &Matrix<E, D>,
    activation: Activation,
) -> Matrix<E, D> {
    let shape = *s.shape();
    if !is_fused::<E, D>(activation) {
        return match g {
            Upstream::Full(g) => tp.step(|t| g.clone().put_tape(t) * s.retaped::<T>()),
            Upstream::SharedRow(w) => tp.step(|t| {
                w.clone()
                    .put_tape(t)
                    .reshape_like(&(shape.1,))
                    .broadcast_like::<_, Axis<0>>(&shape)
                    * s.retaped::<T>()
            }),
        };
    }
    let (rows, width) = shape;
    let dev = s.device().clone();
    let mut sv = vec![E::default(); rows * width];
    s.copy_into(&mut sv);
    let (gv, shared, g_tensor) = match g {
        Upstream::Full(g) => {
            // g is a matrix product's output (the previous layer's backward), row-major.
            let mut v = vec![E::default(); rows * width];
            g.copy_into(&mut v);
            (v, false, g.clone())
        }
        Upstream::SharedRow(w) => {
            let mut v = vec![E::default(); width];
            w.copy_into(&mut v);
            (v, true, w.clone())
        }
    };
    let mut out = vec![E::default(); rows * width];
    E::gate_into(&gv, shared, &sv, &mut out);
    let out = dev.tensor_from_vec(out, shape);
    if T::OWNS_TAPE {
        let (out_id, s_id) = (out.clone(), s.clone());
        tp.add_backward_op(move |grads: &mut Gradients<E, D>| {
            grads.try_alloc_for(&out_id)?;
            grads.try_alloc_for(&s_id)?;
            grads.try_alloc_for(&g_tensor)?;
            let g_out = take_host(grads, &out_id);
            let mut g_g = take_host(grads, &g_tensor);
            let mut g_s = take_host(grads, &s_id);
            E::gate_backward(&gv, shared, &sv, &g_out, &mut g_g, &mut g_s);
            put_host(grads, &s_id, g_s);
            put_host(grads, &g_tensor, g_g);
            put_host(grads, &out_id, g_out);
            Ok(())
        });
    }
    out
}

/// The host gradient buffer of `t`, taken out (so that one is borrowed at a time); it must have
/// been allocated.
pub(crate) fn take_host<E: Real, D: Device<E>, S: Shape>(grads: &mut Gradients<E, D>, t: &Tensor<S, E, D>) -> Vec<E> {
    let buffer = grads.get_or_alloc_mut(t).ok().and_then(host_vec_mut::<E, D>);
    std::mem::take(buffer.expect("allocated host buffer"))
}

/// Puts a buffer [`take`] took back.
pub(crate) fn put_host<E: Real, D: Device<E>, S: Shape>(grads: &mut Gradients<E, D>, t: &Tensor<S, E, D>, v: Vec<E>) {
    let buffer = grads.get_or_alloc_mut(t).ok().and_then(host_vec_mut::<E, D>);
    *buffer.expect("allocated host buffer") = v;
}
