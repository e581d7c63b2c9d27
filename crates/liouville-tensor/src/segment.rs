//! Segment sum (scatter-add), the reduction graph networks need and dfdx lacks:
//!
//! out[s, :] = Σ_{e : segment[e] = s} x[e, :],  with backward ∂L/∂x[e, :] = ∂L/∂out[segment[e], :]
//! (a gather). A custom CPU op recorded on the tape with `Tape::add_backward_op`.

use dfdx::prelude::*;

use crate::mlp::Matrix;
use crate::{Real, TensorError};

/// Sums the rows of `x` `[edges, features]` into `segments` rows by `segment_ids[e]`.
pub fn segment_sum<E: Real, T: Tape<E, Cpu>>(
    x: Matrix<E, Cpu, T>,
    segment_ids: &[usize],
    segments: usize,
) -> Result<Matrix<E, Cpu, T>, TensorError> {
    let (edges, features) = *x.shape();
    if segment_ids.len() != edges {
        return Err(TensorError::ShapeMismatch(format!(
            "{} segment ids for {edges} rows",
            segment_ids.len()
        )));
    }
    if let Some(&bad) = segment_ids.iter().find(|&&s| s >= segments) {
        return Err(TensorError::ShapeMismatch(format!(
            "segment id {bad} out of range 0..{segments}"
        )));
    }
    let (x, mut tape) = x.split_tape();
    let values = x.as_vec();
    let mut out = vec![E::default(); segments * features];
    for (e, &s) in segment_ids.iter().enumerate() {
        for f in 0..features {
            out[s * features + f] += values[e * features + f];
        }
    }
    let out = x.device().tensor_from_vec(out, (segments, features));
    let ids = segment_ids.to_vec();
    let (x_ref, out_ref) = (x.clone(), out.clone());
    tape.add_backward_op(move |grads| {
        grads.try_alloc_for(&out_ref)?;
        let upstream = grads.get(&out_ref).as_vec();
        let grad_x = grads.get_or_alloc_mut(&x_ref)?;
        for (e, &s) in ids.iter().enumerate() {
            for f in 0..features {
                grad_x[e * features + f] += upstream[s * features + f];
            }
        }
        Ok(())
    });
    Ok(out.put_tape(tape))
}
