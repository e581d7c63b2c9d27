//! Row-major matrix products on the host, C ← β·C + α·op(A)·op(B), through `gemm` 0.19.
//!
//! Host kernels that run many small products (an RBM's Gibbs steps multiply 32 × 64 blocks by
//! 64 × 64 couplings thousands of times an epoch) spend their time in the product. At those sizes
//! gemm 0.19's AVX-512 micro-kernels take half the time of ndarray's `matrixmultiply` (100 × 64 ·
//! 64 × 64 in f64: 19 µs against 41 µs on the 2-core CI machine), and the operands' transposes
//! cost nothing: they are strides. The products run on the calling thread: callers parallelise
//! over row blocks, where the work is large enough to pay for a second thread.

use crate::TensorError;

/// A row-major `rows × cols` matrix in a slice, read as itself or as its transpose.
#[derive(Debug, Clone, Copy)]
pub struct Operand<'a, E> {
    values: &'a [E],
    rows: usize,
    cols: usize,
    transposed: bool,
}

impl<'a, E> Operand<'a, E> {
    /// The `rows × cols` matrix whose row-major entries are `values`.
    pub fn new(values: &'a [E], rows: usize, cols: usize) -> Result<Self, TensorError> {
        if rows.checked_mul(cols) != Some(values.len()) {
            return Err(TensorError::ShapeMismatch(format!(
                "a {rows} × {cols} operand needs {} values, got {}",
                rows.saturating_mul(cols),
                values.len()
            )));
        }
        Ok(Self {
            values,
            rows,
            cols,
            transposed: false,
        })
    }

    /// The transpose (no copy).
    pub fn t(self) -> Self {
        Self {
            transposed: !self.transposed,
            ..self
        }
    }

    /// Rows and columns of the operand as it enters the product.
    pub fn shape(&self) -> (usize, usize) {
        match self.transposed {
            false => (self.rows, self.cols),
            true => (self.cols, self.rows),
        }
    }

    /// (column stride, row stride) of the operand as it enters the product.
    fn strides(&self) -> (isize, isize) {
        match self.transposed {
            false => (1, self.cols as isize),
            true => (self.cols as isize, 1),
        }
    }
}

/// C ← β·C + α·A·B for `C` row-major `A.rows × B.cols` (C is not read when β = 0, so it may
/// hold anything, NaN included). Shapes that do not fit are a [`TensorError::Shape`] naming them.
pub fn multiply_into<E: crate::Real>(
    beta: E,
    c: &mut [E],
    alpha: E,
    a: Operand<'_, E>,
    b: Operand<'_, E>,
) -> Result<(), TensorError> {
    let (m, k) = a.shape();
    let (kb, n) = b.shape();
    if k != kb || m.checked_mul(n) != Some(c.len()) {
        return Err(TensorError::ShapeMismatch(format!(
            "product of {m} × {k} and {kb} × {n} into {} values",
            c.len()
        )));
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        // gemm reads no operand; keep the C ← β·C meaning.
        for x in c.iter_mut() {
            *x = if beta == E::zero() { E::zero() } else { beta * *x };
        }
        return Ok(());
    }
    let (a_cs, a_rs) = a.strides();
    let (b_cs, b_rs) = b.strides();
    let read_dst = beta != E::zero();
    // SAFETY: the operands' slices hold exactly rows·cols values (checked in `Operand::new`), and
    // with the strides above every index (i, p) of A (i < m, p < k) and (p, j) of B lies inside
    // them; C is a distinct `&mut` slice of exactly m·n values with row stride n, so it aliases
    // neither operand. gemm computes dst := β·dst + α·lhs·rhs in its own names (α·dst + β·lhs·rhs,
    // reading dst only when `read_dst`).
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            read_dst,
            a.values.as_ptr(),
            a_cs,
            a_rs,
            b.values.as_ptr(),
            b_cs,
            b_rs,
            beta,
            alpha,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook triple loop, in f64.
    fn reference(
        a: &[f64],
        (m, k): (usize, usize),
        at: bool,
        b: &[f64],
        (kb, n): (usize, usize),
        bt: bool,
    ) -> Vec<f64> {
        assert_eq!(k, kb);
        let get_a = |i: usize, p: usize| if at { a[p * m + i] } else { a[i * k + p] };
        let get_b = |p: usize, j: usize| if bt { b[j * k + p] } else { b[p * n + j] };
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| get_a(i, p) * get_b(p, j)).sum();
            }
        }
        c
    }

    fn values(len: usize, seed: u64) -> Vec<f64> {
        let mut rng = liouville_base::random::Rng::stream(seed, 0);
        (0..len).map(|_| rng.normal()).collect()
    }

    #[test]
    fn products_match_the_triple_loop_in_every_transposition() {
        let (m, k, n) = (37, 19, 23);
        for (at, bt) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = values(m * k, 1);
            let b = values(k * n, 2);
            let op_a = match at {
                false => Operand::new(&a, m, k).unwrap(),
                true => Operand::new(&a, k, m).unwrap().t(),
            };
            let op_b = match bt {
                false => Operand::new(&b, k, n).unwrap(),
                true => Operand::new(&b, n, k).unwrap().t(),
            };
            let expected = reference(&a, (m, k), at, &b, (k, n), bt);
            let mut c = vec![f64::NAN; m * n];
            multiply_into(0.0, &mut c, 1.0, op_a, op_b).unwrap();
            for (x, y) in c.iter().zip(&expected) {
                assert!((x - y).abs() < 1e-12, "{at} {bt}: {x} vs {y}");
            }
            // β·C + α·A·B accumulates onto what C holds.
            let mut acc = vec![1.0; m * n];
            multiply_into(0.5, &mut acc, -2.0, op_a, op_b).unwrap();
            for (x, y) in acc.iter().zip(&expected) {
                assert!((x - (0.5 - 2.0 * y)).abs() < 1e-12, "{at} {bt}: {x} vs {y}");
            }
        }
    }

    #[test]
    fn shapes_that_do_not_fit_are_errors() {
        let a = vec![1.0f64; 6];
        assert!(Operand::new(&a, 4, 2).is_err());
        let op = Operand::new(&a, 2, 3).unwrap();
        let mut c = vec![0.0; 4];
        let err = multiply_into(0.0, &mut c, 1.0, op, op).unwrap_err();
        assert!(err.to_string().contains("2 × 3 and 2 × 3"), "{err}");
        multiply_into(0.0, &mut c, 1.0, op, op.t()).unwrap();
        assert_eq!(c, vec![3.0; 4]);
        let mut wrong = vec![0.0; 5];
        assert!(multiply_into(0.0, &mut wrong, 1.0, op, op.t()).is_err());
    }

    #[test]
    fn an_empty_inner_dimension_scales_c() {
        let empty: [f64; 0] = [];
        let a = Operand::new(&empty, 2, 0).unwrap();
        let b = Operand::new(&empty, 0, 2).unwrap();
        let mut c = vec![f64::NAN, 1.0, 2.0, 3.0];
        multiply_into(0.0, &mut c, 1.0, a, b).unwrap();
        assert_eq!(c, vec![0.0; 4]);
        let mut c = vec![1.0, 2.0, 3.0, 4.0];
        multiply_into(2.0, &mut c, 1.0, a, b).unwrap();
        assert_eq!(c, vec![2.0, 4.0, 6.0, 8.0]);
    }
}
