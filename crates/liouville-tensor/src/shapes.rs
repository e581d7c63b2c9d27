//! The runtime shapes every model here works in: a batch of row vectors and a vector.

use dfdx::prelude::*;

/// A batch of row vectors `[rows, columns]`.
pub type Matrix<E, D, T = NoneTape> = Tensor<(usize, usize), E, D, T>;
/// A vector `[n]`.
pub type Vector<E, D, T = NoneTape> = Tensor<(usize,), E, D, T>;
