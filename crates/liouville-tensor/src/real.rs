//! The floating-point types models are built on.

use dfdx::dtypes::Dtype;

use crate::vector_math::VectorMath;

/// f32 or f64: a dfdx dtype with the usual float operations, convertible to and from f64.
/// Its slice kernels ([`VectorMath`]) serve the fused host path ([`crate::fused`]).
pub trait Real: Dtype + num_traits::Float + std::fmt::Display + VectorMath {
    /// Name in checkpoints ("F32"/"F64").
    const NAME: &'static str;
    /// Conversion from f64 (rounding for f32).
    fn of(x: f64) -> Self;
    /// Conversion to f64.
    fn to64(self) -> f64;
}

impl Real for f32 {
    const NAME: &'static str = "F32";
    fn of(x: f64) -> Self {
        x as f32
    }
    fn to64(self) -> f64 {
        self as f64
    }
}

impl Real for f64 {
    const NAME: &'static str = "F64";
    fn of(x: f64) -> Self {
        x
    }
    fn to64(self) -> f64 {
        self
    }
}
