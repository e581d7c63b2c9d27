//! Segment reductions (scatter-add and friends), the aggregations graph networks need and dfdx
//! lacks, on every device:
//!
//! sum:  out[s, :] = Σ_{e : segment[e] = s} x[e, :]
//! mean: out[s, :] = sum[s, :] / max(nₛ, 1)
//! max:  out[s, :] = max_{e : segment[e] = s} x[e, :]   (0 for an empty segment)
//!
//! Built from dfdx's `gather` (whose backward is a scatter-add on CPU and CUDA alike): the rows of
//! each segment are gathered into a padded `[segments, K, features]` block (K the largest segment
//! size; padding points at row 0 and is masked out), then reduced over K. The gradient of the sum
//! is the gather ∂L/∂x[e] = ∂L/∂out[segment[e]]; of the max, it flows to the maximising rows.
//! Memory is segments·K·features, fine for the bounded degrees of particle graphs. No rows (a graph
//! without edges) reduce to zeros.
//!
//! On dfdx's `Cpu` the sum and the mean run as one host scatter-add pass forward and one gather
//! pass back, recorded with `Tape::add_backward_op` (as PyTorch's `index_add_` does): the padded
//! gather, its mask product and dfdx's generic reduction over K took 20 ms forward and backward
//! for 14,336 edge rows of width 64 into 2,048 nodes, the host pass a small fraction of that. The
//! gather path stays the reference (`crate::fused::composed` selects it; the tests compare both).

use dfdx::prelude::*;

use crate::shapes::Matrix;
use crate::{Real, TensorError};

/// Rows gathered per segment, `[segments, K, features]`.
type Blocks<E, D, T> = Tensor<(usize, usize, usize), E, D, T>;

/// The padded gather plan of a segmentation.
struct Plan<E: Real, D: Device<E>> {
    /// `[segments, K]` row indices (padding: 0).
    index: Tensor<(usize, usize), usize, D>,
    /// `[segments, K]` 1 for a real row, 0 for padding.
    mask: Tensor<(usize, usize), E, D>,
    /// Rows per segment.
    counts: Vec<usize>,
    width: usize,
}

fn plan<E: Real, D: Device<E>>(
    device: &D,
    rows: usize,
    segment_ids: &[usize],
    segments: usize,
) -> Result<Plan<E, D>, TensorError> {
    if segment_ids.len() != rows {
        return Err(TensorError::ShapeMismatch(format!(
            "{} segment ids for {rows} rows",
            segment_ids.len()
        )));
    }
    if let Some(&bad) = segment_ids.iter().find(|&&s| s >= segments) {
        return Err(TensorError::ShapeMismatch(format!(
            "segment id {bad} out of range 0..{segments}"
        )));
    }
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); segments];
    for (e, &s) in segment_ids.iter().enumerate() {
        members[s].push(e);
    }
    let width = members.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let mut index = vec![0usize; segments * width];
    let mut mask = vec![E::default(); segments * width];
    for (s, m) in members.iter().enumerate() {
        for (k, &e) in m.iter().enumerate() {
            index[s * width + k] = e;
            mask[s * width + k] = E::ONE;
        }
    }
    Ok(Plan {
        index: device.tensor_from_vec(index, (segments, width)),
        mask: device.tensor_from_vec(mask, (segments, width)),
        counts: members.iter().map(Vec::len).collect(),
        width,
    })
}

/// The rows of `x` gathered per segment, `[segments, K, features]`, padding zeroed.
fn gathered<E: Real, D: Device<E>, T: Tape<E, D>>(
    x: Matrix<E, D, T>,
    p: &Plan<E, D>,
) -> Result<Blocks<E, D, T>, TensorError> {
    let segments = p.counts.len();
    let shape = (segments, p.width, x.shape().1);
    let g: Blocks<E, D, T> = x.gather(p.index.clone());
    Ok(g * p.mask.clone().broadcast_like::<_, Axis<2>>(&shape))
}

/// Zeros `[segments, features]` carrying `x`'s tape: the reduction of no rows (a graph without
/// edges), with nothing to differentiate.
fn of_nothing<E: Real, D: Device<E>, T: Tape<E, D>>(x: Matrix<E, D, T>, segments: usize) -> Matrix<E, D, T> {
    let features = x.shape().1;
    let (x, tape) = x.split_tape();
    x.device().zeros_like(&(segments, features)).put_tape(tape)
}

/// Sums the rows of `x` `[rows, features]` into `segments` rows by `segment_ids[row]`.
pub fn segment_sum<E: Real, D: Device<E>, T: Tape<E, D>>(
    x: Matrix<E, D, T>,
    segment_ids: &[usize],
    segments: usize,
) -> Result<Matrix<E, D, T>, TensorError> {
    let p = plan::<E, D>(x.device(), x.shape().0, segment_ids, segments)?;
    if segment_ids.is_empty() {
        return Ok(of_nothing(x, segments));
    }
    if crate::fused::host_kernels::<E, D>() {
        return Ok(scatter_add(x, segment_ids, vec![E::ONE; segments]));
    }
    Ok(gathered(x, &p)?.sum::<(usize, usize), Axis<1>>())
}

/// out[s, :] = w[s] Σ_{e : segment[e] = s} x[e, :] as one host pass, and its backward
/// ∂L/∂x[e, :] += w[segment[e]] ∂L/∂out[segment[e], :] recorded on `x`'s tape. Only for dfdx's
/// `Cpu` (see [`crate::fused::host_kernels`]); the ids were checked by [`plan`].
fn scatter_add<E: Real, D: Device<E>, T: Tape<E, D>>(
    x: Matrix<E, D, T>,
    segment_ids: &[usize],
    weights: Vec<E>,
) -> Matrix<E, D, T> {
    let (rows, features) = *x.shape();
    let segments = weights.len();
    // Reshaping to its own shape is free for a row-major tensor and copies any other (a permuted
    // or broadcast one) into row-major order, with its backward: the host loops read the buffer
    // as row-major.
    let (x, mut tape) = x.reshape_like(&(rows, features)).split_tape();
    let mut xs = vec![E::default(); rows * features];
    x.copy_into(&mut xs);
    let mut out = vec![E::default(); segments * features];
    for (row, &s) in xs.chunks_exact(features).zip(segment_ids) {
        for (o, &v) in out[s * features..(s + 1) * features].iter_mut().zip(row) {
            *o += v;
        }
    }
    for (block, &w) in out.chunks_exact_mut(features).zip(&weights) {
        if w != E::ONE {
            block.iter_mut().for_each(|o| *o *= w);
        }
    }
    let out = x.device().tensor_from_vec(out, (segments, features));
    if T::OWNS_TAPE {
        let (out_id, ids) = (out.clone(), segment_ids.to_vec());
        tape.add_backward_op(move |grads| {
            grads.try_alloc_for(&out_id)?;
            grads.try_alloc_for(&x)?;
            let g_out = crate::fused::take_host(grads, &out_id);
            let mut g_x = crate::fused::take_host(grads, &x);
            for (g_row, &s) in g_x.chunks_exact_mut(features).zip(&ids) {
                let w = weights[s];
                for (g, &go) in g_row.iter_mut().zip(&g_out[s * features..(s + 1) * features]) {
                    *g += w * go;
                }
            }
            crate::fused::put_host(grads, &x, g_x);
            crate::fused::put_host(grads, &out_id, g_out);
            Ok(())
        });
    }
    out.put_tape(tape)
}

/// The mean of each segment's rows (0 for an empty segment).
pub fn segment_mean<E: Real, D: Device<E>, T: Tape<E, D>>(
    x: Matrix<E, D, T>,
    segment_ids: &[usize],
    segments: usize,
) -> Result<Matrix<E, D, T>, TensorError> {
    let features = x.shape().1;
    let p = plan::<E, D>(x.device(), x.shape().0, segment_ids, segments)?;
    if segment_ids.is_empty() {
        return Ok(of_nothing(x, segments));
    }
    let inv: Vec<E> = p.counts.iter().map(|&n| E::of(1.0 / n.max(1) as f64)).collect();
    if crate::fused::host_kernels::<E, D>() {
        return Ok(scatter_add(x, segment_ids, inv));
    }
    let inv = x.device().tensor_from_vec(inv, (segments,));
    let sum = gathered(x, &p)?.sum::<(usize, usize), Axis<1>>();
    Ok(sum * inv.broadcast_like::<_, Axis<1>>(&(segments, features)))
}

/// The element-wise maximum of each segment's rows (0 for an empty segment).
pub fn segment_max<E: Real, D: Device<E>, T: Tape<E, D>>(
    x: Matrix<E, D, T>,
    segment_ids: &[usize],
    segments: usize,
) -> Result<Matrix<E, D, T>, TensorError> {
    let (rows, features) = *x.shape();
    let dev = x.device().clone();
    let p = plan::<E, D>(&dev, rows, segment_ids, segments)?;
    if segment_ids.is_empty() {
        return Ok(of_nothing(x, segments));
    }
    let shape = (segments, p.width, features);
    // Padding gets a large negative offset so it never wins; empty segments are zeroed after.
    let offset: Vec<E> = p
        .mask
        .as_vec()
        .into_iter()
        .map(|m| {
            if m == E::ONE {
                E::default()
            } else {
                E::of(-1e30_f64.min(E::max_value().to64() / 4.0))
            }
        })
        .collect();
    let offset = dev.tensor_from_vec(offset, (segments, p.width));
    let nonempty: Vec<E> = p
        .counts
        .iter()
        .map(|&n| if n > 0 { E::ONE } else { E::default() })
        .collect();
    let nonempty = dev.tensor_from_vec(nonempty, (segments,));
    let g: Blocks<E, D, T> = x.gather(p.index.clone());
    let m = (g + offset.broadcast_like::<_, Axis<2>>(&shape)).max::<(usize, usize), Axis<1>>();
    Ok(m * nonempty.broadcast_like::<_, Axis<1>>(&(segments, features)))
}
