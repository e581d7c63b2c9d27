//! Constant 0/1 matrices that pick column blocks out of rows and put them back: x·S selects
//! `width` columns starting at `offset`, y·P places a `width`-column block at `offset`. Built here
//! once for every model that splits rows `[q, p]` or `[q, p, u]` (they carry no gradient).

use dfdx::prelude::*;

use crate::Real;
use crate::shapes::Matrix;

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
