//! Smooth activations with their first and second derivatives as traced dfdx ops, the pieces
//! the forward, VJP and JVP rules of [`crate::mlp`] are made of.

use dfdx::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Real;

/// An activation σ with σ' and σ'' available in closed form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Activation {
    /// tanh z; σ' = 1 - tanh², σ'' = -2 tanh (1 - tanh²).
    Tanh,
    /// softplus z = relu(z) + ln(1 + e^{-|z|}); σ' = sigmoid z, σ'' = s(1 - s).
    Softplus,
    /// sigmoid z = 1/(1 + e^{-z}); σ' = s(1 - s), σ'' = s(1 - s)(1 - 2s).
    Sigmoid,
    /// sin z; σ' = cos z, σ'' = -sin z.
    Sin,
}

impl Activation {
    /// Parses "tanh", "softplus", "sigmoid" or "sin".
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "tanh" => Self::Tanh,
            "softplus" => Self::Softplus,
            "sigmoid" => Self::Sigmoid,
            "sin" => Self::Sin,
            _ => return None,
        })
    }

    /// The name [`Activation::parse`] reads.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tanh => "tanh",
            Self::Softplus => "softplus",
            Self::Sigmoid => "sigmoid",
            Self::Sin => "sin",
        }
    }

    /// σ(z).
    pub fn value<S: Shape, E: Real, D: Device<E>, T: Tape<E, D>>(self, z: Tensor<S, E, D, T>) -> Tensor<S, E, D, T> {
        match self {
            Self::Tanh => z.tanh(),
            Self::Softplus => {
                // Stable form: relu(z) + ln(1 + exp(-|z|)).
                let (z, tape) = z.split_tape();
                // `retaped` *before* the ops, so they are recorded and merge into the result.
                let soft = (z.clone().retaped::<T>().abs().negate().exp() + E::ONE).ln();
                z.put_tape(tape).relu() + soft
            }
            Self::Sigmoid => z.sigmoid(),
            Self::Sin => z.sin(),
        }
    }

    /// σ'(z).
    pub fn first<S: Shape, E: Real, D: Device<E>, T: Tape<E, D>>(self, z: Tensor<S, E, D, T>) -> Tensor<S, E, D, T> {
        match self {
            Self::Tanh => z.tanh().square().negate() + E::ONE,
            Self::Softplus => z.sigmoid(),
            Self::Sigmoid => {
                let (s, tape) = z.sigmoid().split_tape();
                s.clone().put_tape(tape) * (s.retaped::<T>().negate() + E::ONE)
            }
            Self::Sin => z.cos(),
        }
    }

    /// σ'(z) given a = σ(z) as well, reusing a where the derivative is a function of it
    /// (tanh: 1 - a², sigmoid: a(1 - a)) so the transcendental is evaluated once per layer.
    pub fn first_from_value<S: Shape, E: Real, D: Device<E>, T: Tape<E, D>>(
        self,
        a: Tensor<S, E, D, T>,
        z: Tensor<S, E, D>,
    ) -> Tensor<S, E, D, T> {
        match self {
            Self::Tanh => a.square().negate() + E::ONE,
            Self::Sigmoid => {
                let (a, tape) = a.split_tape();
                a.clone().put_tape(tape) * (a.retaped::<T>().negate() + E::ONE)
            }
            Self::Softplus | Self::Sin => {
                let (_, tape) = a.split_tape();
                self.first(z.put_tape(tape))
            }
        }
    }

    /// σ''(z) given a = σ(z) and s = σ'(z) (tanh: -2as, sigmoid: s(1 - 2a)).
    pub fn second_from_value<S: Shape, E: Real, D: Device<E>, T: Tape<E, D>>(
        self,
        a: Tensor<S, E, D, T>,
        s: Tensor<S, E, D>,
        z: Tensor<S, E, D>,
    ) -> Tensor<S, E, D, T> {
        match self {
            Self::Tanh => a * E::of(-2.0) * s.retaped::<T>(),
            Self::Sigmoid => (a * E::of(-2.0) + E::ONE) * s.retaped::<T>(),
            Self::Softplus | Self::Sin => {
                let (_, tape) = a.split_tape();
                self.second(z.put_tape(tape))
            }
        }
    }

    /// σ''(z).
    pub fn second<S: Shape, E: Real, D: Device<E>, T: Tape<E, D>>(self, z: Tensor<S, E, D, T>) -> Tensor<S, E, D, T> {
        match self {
            Self::Tanh => {
                let (t, tape) = z.tanh().split_tape();
                (t.clone().put_tape(tape) * E::of(-2.0)) * (t.retaped::<T>().square().negate() + E::ONE)
            }
            Self::Softplus => Self::Sigmoid.first(z),
            Self::Sigmoid => {
                let (s, tape) = z.sigmoid().split_tape();
                let one_minus = s.clone().retaped::<T>().negate() + E::ONE;
                let one_minus_2s = s.clone().retaped::<T>() * E::of(-2.0) + E::ONE;
                s.put_tape(tape) * one_minus * one_minus_2s
            }
            Self::Sin => z.sin().negate(),
        }
    }
}
