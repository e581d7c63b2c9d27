//! Activations with their first and second derivatives as traced dfdx ops, the pieces the
//! forward, VJP and JVP rules of [`crate::mlp`] are made of. The smooth ones (tanh, softplus,
//! sigmoid, sin) suit energies, whose input derivatives enter losses; the piecewise ones (ReLU,
//! ELU, leaky ReLU) suit networks that need none (decoders, critics without a penalty, flows'
//! conditioners) — their σ″ is the a.e. derivative (zero at the kinks).

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
    /// max(z, 0); σ' = H(z), σ'' = 0 (a.e.).
    Relu,
    /// ELU with α = 1 (Clevert et al. 2016): z for z > 0, eᶻ − 1 otherwise; σ' = e^{min(z,0)},
    /// σ'' = eᶻ for z < 0, else 0.
    Elu,
    /// Leaky ReLU with slope 0.01 below zero (PyTorch's default); σ' = 1 or 0.01, σ'' = 0.
    LeakyRelu,
}

/// Slope of [`Activation::LeakyRelu`] below zero.
pub const LEAKY_SLOPE: f64 = 0.01;

/// H(z) = 1 for z > 0, else 0, untaped (its derivative vanishes almost everywhere).
fn step<S: Shape, E: Real, D: Device<E>>(z: &Tensor<S, E, D>) -> Tensor<S, E, D> {
    let dev = z.device().clone();
    z.gt(E::default())
        .choose(dev.ones_like(z.shape()), dev.zeros_like(z.shape()))
}

impl Activation {
    /// Every activation.
    pub const ALL: [Activation; 7] = [
        Self::Tanh,
        Self::Softplus,
        Self::Sigmoid,
        Self::Sin,
        Self::Relu,
        Self::Elu,
        Self::LeakyRelu,
    ];

    /// Parses "tanh", "softplus", "sigmoid", "sin", "relu", "elu" or "leaky_relu".
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "tanh" => Self::Tanh,
            "softplus" => Self::Softplus,
            "sigmoid" => Self::Sigmoid,
            "sin" => Self::Sin,
            "relu" => Self::Relu,
            "elu" => Self::Elu,
            "leaky_relu" => Self::LeakyRelu,
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
            Self::Relu => "relu",
            Self::Elu => "elu",
            Self::LeakyRelu => "leaky_relu",
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
            Self::Relu => z.relu(),
            Self::Elu => {
                // relu(z) + e^{-relu(-z)} - 1.
                let (z, tape) = z.split_tape();
                let below = z.clone().retaped::<T>().negate().relu().negate().exp() - E::ONE;
                z.put_tape(tape).relu() + below
            }
            Self::LeakyRelu => {
                // relu(z) - slope·relu(-z).
                let (z, tape) = z.split_tape();
                let below = z.clone().retaped::<T>().negate().relu() * E::of(-LEAKY_SLOPE);
                z.put_tape(tape).relu() + below
            }
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
            Self::Relu => {
                let (z, tape) = z.split_tape();
                step(&z).put_tape(tape)
            }
            Self::Elu => z.negate().relu().negate().exp(),
            Self::LeakyRelu => {
                let (z, tape) = z.split_tape();
                (step(&z) * E::of(1.0 - LEAKY_SLOPE) + E::of(LEAKY_SLOPE)).put_tape(tape)
            }
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
            _ => {
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
            _ => {
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
            Self::Relu | Self::LeakyRelu => {
                let (z, tape) = z.split_tape();
                z.device().zeros_like(z.shape()).put_tape(tape)
            }
            Self::Elu => {
                // e^{min(z,0)} − H(z): eᶻ below zero, 0 above.
                let (z, tape) = z.split_tape();
                let h = step(&z);
                z.put_tape(tape).negate().relu().negate().exp() - h
            }
        }
    }
}
