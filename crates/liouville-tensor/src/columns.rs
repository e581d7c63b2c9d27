//! Constant 0/1 matrices that pick column blocks out of rows and put them back: x·S selects
//! `width` columns starting at `offset`, y·P places a `width`-column block at `offset`. Built here
//! once for every model that splits rows `[q, p]` or `[q, p, u]` (they carry no gradient).

use dfdx::prelude::*;
use dfdx::tensor::Gradients;

use crate::Real;
use crate::shapes::Matrix;
use crate::tape::Threaded;

/// S `[cols, width]` with S[offset + k, k] = 1: `x · S` is columns `offset..offset + width` of x.
pub fn select<E: Real, D: Device<E>>(device: &D, cols: usize, offset: usize, width: usize) -> Matrix<E, D> {
    assert!(
        offset + width <= cols,
        "column block {offset}+{width} outside {cols} columns"
    );
    let mut m = vec![E::default(); cols * width];
    for k in 0..width {
        m[(offset + k) * width + k] = E::ONE;
    }
    device.tensor_from_vec(m, (cols, width))
}

/// P `[width, cols]` = Sᵀ: `y · P` puts the `width` columns of y at `offset..offset + width`.
pub fn place<E: Real, D: Device<E>>(device: &D, width: usize, cols: usize, offset: usize) -> Matrix<E, D> {
    assert!(
        offset + width <= cols,
        "column block {offset}+{width} outside {cols} columns"
    );
    let mut m = vec![E::default(); width * cols];
    for k in 0..width {
        m[k * cols + offset + k] = E::ONE;
    }
    device.tensor_from_vec(m, (width, cols))
}

/// The unit direction e_k in every row, `[batch, n]`: the tangent that a Jacobian- or
/// Hessian-vector product turns into column k of the Jacobian or Hessian.
pub fn unit_direction<E: Real, D: Device<E>>(device: &D, batch: usize, n: usize, k: usize) -> Matrix<E, D> {
    assert!(k < n, "direction {k} of {n}");
    let mut m = vec![E::default(); batch * n];
    for r in 0..batch {
        m[r * n + k] = E::ONE;
    }
    device.tensor_from_vec(m, (batch, n))
}

/// The selectors of q and p in rows `[q, p]` of `2·dof` columns, and their placements back.
pub type CanonicalSplit<E, D> = ([Matrix<E, D>; 2], [Matrix<E, D>; 2]);

/// ([S_q, S_p], [P_q, P_p]) for rows `[q, p]` with `dof` degrees of freedom.
pub fn canonical<E: Real, D: Device<E>>(device: &D, dof: usize) -> CanonicalSplit<E, D> {
    let n = 2 * dof;
    (
        [select(device, n, 0, dof), select(device, n, dof, dof)],
        [place(device, dof, n, 0), place(device, dof, n, dof)],
    )
}

/// The lower-triangular mask L[i, j] = 1 for j ≤ i, `[n, n]`.
pub fn lower_triangle<E: Real, D: Device<E>>(device: &D, n: usize) -> Matrix<E, D> {
    let m: Vec<E> = (0..n * n)
        .map(|i| if i % n <= i / n { E::ONE } else { E::default() })
        .collect();
    device.tensor_from_vec(m, (n, n))
}

/// [parts…] side by side, `[rows, Σ widths]`, recorded on the thread: y = Σₖ xₖ·Pₖ with the
/// placements [`place`], whose backward hands each part its columns of ∂L/∂y. On dfdx's `Cpu`
/// (outside [`crate::fused::composed`]) one host copy each way, as `torch.cat` does; elsewhere
/// the placement products (a product and an add per part, each with its backward, were a tenth
/// of a GN-block step over 14,336 edges on the CPU).
///
/// Panics without parts or when their row counts differ (a caller's bug, not input).
pub fn concat<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    parts: &[&Matrix<E, D>],
) -> Matrix<E, D> {
    assert!(!parts.is_empty(), "concat of no parts");
    let rows = parts[0].shape().0;
    assert!(
        parts.iter().all(|p| p.shape().0 == rows),
        "concat of parts with different row counts"
    );
    let widths: Vec<usize> = parts.iter().map(|p| p.shape().1).collect();
    let total: usize = widths.iter().sum();
    if !crate::fused::host_kernels::<E, D>() || rows == 0 {
        return by_placement(tp, parts, total);
    }
    // Reshaping to its own shape is free for a row-major tensor and copies any other into
    // row-major order (with its backward), so the host loops may read the buffers as row-major.
    let parts: Vec<Matrix<E, D>> = parts
        .iter()
        .map(|&p| tp.step(|t| p.clone().put_tape(t).reshape_like(&(rows, p.shape().1))))
        .collect();
    let mut out = vec![E::default(); rows * total];
    let mut offset = 0;
    for (p, &w) in parts.iter().zip(&widths) {
        let mut v = vec![E::default(); rows * w];
        p.copy_into(&mut v);
        for (dst, src) in out.chunks_exact_mut(total).zip(v.chunks_exact(w.max(1))) {
            dst[offset..offset + w].copy_from_slice(&src[..w]);
        }
        offset += w;
    }
    let out = parts[0].device().tensor_from_vec(out, (rows, total));
    if T::OWNS_TAPE {
        let out_id = out.clone();
        tp.add_backward_op(move |grads: &mut Gradients<E, D>| {
            grads.try_alloc_for(&out_id)?;
            for p in &parts {
                grads.try_alloc_for(p)?;
            }
            let g_out = crate::fused::take_host(grads, &out_id);
            let mut offset = 0;
            for (p, &w) in parts.iter().zip(&widths) {
                let mut g = crate::fused::take_host(grads, p);
                for (dst, src) in g.chunks_exact_mut(w.max(1)).zip(g_out.chunks_exact(total)) {
                    for (d, &s) in dst[..w].iter_mut().zip(&src[offset..offset + w]) {
                        *d += s;
                    }
                }
                crate::fused::put_host(grads, p, g);
                offset += w;
            }
            crate::fused::put_host(grads, &out_id, g_out);
            Ok(())
        });
    }
    out
}

/// [`concat`] by placement products, on any device.
fn by_placement<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    parts: &[&Matrix<E, D>],
    total: usize,
) -> Matrix<E, D> {
    let mut offset = 0;
    let mut acc: Option<Matrix<E, D>> = None;
    for p in parts {
        let w = p.shape().1;
        let place = place(p.device(), w, total, offset);
        offset += w;
        let part: &Matrix<E, D> = p;
        let term = tp.step(|t| part.clone().put_tape(t).matmul(place.retaped::<T>()));
        acc = Some(match acc {
            None => term,
            Some(a) => tp.step(|t| a.put_tape(t) + term.retaped::<T>()),
        });
    }
    acc.expect("at least one part")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::HostDevice;

    #[test]
    fn select_then_place_is_the_block_projection() {
        let dev = HostDevice::default();
        let x: Matrix<f64, HostDevice> = dev.tensor_from_vec((0..10).map(f64::from).collect(), (2, 5));
        let block = x.clone().matmul(select(&dev, 5, 1, 3));
        assert_eq!(block.as_vec(), vec![1.0, 2.0, 3.0, 6.0, 7.0, 8.0]);
        let back = block.matmul(place(&dev, 3, 5, 1));
        assert_eq!(back.as_vec(), vec![0.0, 1.0, 2.0, 3.0, 0.0, 0.0, 6.0, 7.0, 8.0, 0.0]);
        let l = lower_triangle::<f64, HostDevice>(&dev, 3).as_vec();
        assert_eq!(l, vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0]);
    }
}
