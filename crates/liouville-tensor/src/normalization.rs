//! Layer normalisation (Ba, Kiros & Hinton 2016), the stabiliser of GNS's encode-process-decode
//! latents: over the n features of each row,
//!
//! y = γ ⊙ x̂ + β,  x̂ = (x − μ)/σ,  μ = mean(x),  σ = √(var(x) + ε)  (biased variance, as PyTorch).
//!
//! Its input VJP, for energies that normalise inside (gₓ = (1/σ)(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂))
//! with ĝ = g ⊙ γ), is a traced rule like the MLP's, checked against finite differences.

use dfdx::prelude::*;

use crate::module::{Module, ParamMut, ParamRef};
use crate::shapes::{Matrix, Vector};
use crate::tape::Threaded;
use crate::{Real, TensorError};

/// LayerNorm over `features` columns with learned scale γ (ones) and shift β (zeros).
#[derive(Debug, Clone)]
pub struct LayerNorm<E: Real, D: Device<E>> {
    /// γ, `[features]`.
    pub scale: Vector<E, D>,
    /// β, `[features]`.
    pub shift: Vector<E, D>,
    epsilon: f64,
}

/// x̂ and 1/σ of a forward pass, kept for the VJP.
pub struct Normalised<E: Real, D: Device<E>> {
    /// The output y.
    pub output: Matrix<E, D>,
    /// x̂.
    pub standardised: Matrix<E, D>,
    /// 1/σ per row, `[batch]`.
    pub inverse_std: Vector<E, D>,
}

impl<E: Real, D: Device<E>> LayerNorm<E, D> {
    /// γ = 1, β = 0, ε = 1e-5 (PyTorch's default).
    pub fn new(device: &D, features: usize) -> Result<Self, TensorError> {
        if features == 0 {
            return Err(TensorError::InvalidConfig("LayerNorm over zero features".into()));
        }
        Ok(Self {
            scale: device.ones_like(&(features,)),
            shift: device.zeros_like(&(features,)),
            epsilon: 1e-5,
        })
    }

    /// Features n.
    pub fn features(&self) -> usize {
        self.scale.shape().0
    }

    /// y for rows `x`, with x̂ and 1/σ, recorded on `tp`.
    pub fn normalise<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
    ) -> Result<Normalised<E, D>, TensorError> {
        let shape = *x.shape();
        if shape.1 != self.features() {
            return Err(TensorError::ShapeMismatch(format!(
                "rows have {} columns, the LayerNorm takes {}",
                shape.1,
                self.features()
            )));
        }
        let eps = E::of(self.epsilon);
        let mean = tp.step(|t| x.clone().put_tape(t).mean::<(usize,), Axis<1>>());
        let centred = tp.step(|t| x.clone().put_tape(t) - mean.retaped::<T>().broadcast_like::<_, Axis<1>>(&shape));
        let inverse_std = tp.step(|t| {
            (centred.clone().put_tape(t).square().mean::<(usize,), Axis<1>>() + eps)
                .sqrt()
                .recip()
        });
        let standardised =
            tp.step(|t| centred.put_tape(t) * inverse_std.retaped::<T>().broadcast_like::<_, Axis<1>>(&shape));
        let output = tp.step(|t| {
            standardised.clone().put_tape(t) * self.scale.retaped::<T>().broadcast_like::<_, Axis<0>>(&shape)
                + self.shift.retaped::<T>().broadcast_like::<_, Axis<0>>(&shape)
        });
        Ok(Normalised {
            output,
            standardised,
            inverse_std,
        })
    }

    /// y for rows `x` (any tape).
    pub fn forward<T: Tape<E, D> + Merge<T>>(&self, x: Matrix<E, D, T>) -> Result<Matrix<E, D, T>, TensorError> {
        let (x, tape) = x.split_tape();
        let mut tp = Threaded::new(tape);
        let n = self.normalise(&mut tp, &x)?;
        Ok(tp.finish(n.output))
    }

    /// The input VJP gₓ = (∂y/∂x)ᵀ g for upstream `g` `[batch, n]`, from a forward pass `n`.
    pub fn vjp<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        n: &Normalised<E, D>,
        g: &Matrix<E, D>,
    ) -> Matrix<E, D> {
        let shape = *g.shape();
        let gh = tp.step(|t| g.clone().put_tape(t) * self.scale.retaped::<T>().broadcast_like::<_, Axis<0>>(&shape));
        let mean_g = tp.step(|t| gh.clone().put_tape(t).mean::<(usize,), Axis<1>>());
        let mean_gx = tp.step(|t| (gh.clone().put_tape(t) * n.standardised.retaped::<T>()).mean::<(usize,), Axis<1>>());
        tp.step(|t| {
            (gh.put_tape(t)
                - mean_g.retaped::<T>().broadcast_like::<_, Axis<1>>(&shape)
                - n.standardised.retaped::<T>() * mean_gx.retaped::<T>().broadcast_like::<_, Axis<1>>(&shape))
                * n.inverse_std.retaped::<T>().broadcast_like::<_, Axis<1>>(&shape)
        })
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for LayerNorm<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        vec![
            ("scale".into(), ParamRef::Vector(&self.scale)),
            ("shift".into(), ParamRef::Vector(&self.shift)),
        ]
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        vec![ParamMut::Vector(&mut self.scale), ParamMut::Vector(&mut self.shift)]
    }
}
