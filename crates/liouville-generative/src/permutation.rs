//! Fixed permutations of the columns, y_j = x_{π(j)}: volume-preserving (log|det| = 0) maps that
//! let the couplings of a flow condition on different subsets of the dimensions (Dinh et al.
//! 2017 reverse the order; Kingma & Dhariwal 2018 compare a reversal, a fixed random shuffle and a
//! learned 1×1 map). They have no parameters.

use liouville_base::random::Rng;
use liouville_tensor::bijection::{Bijection, Transformed, zero_log_det};
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::module::{Module, ParamMut, ParamRef};
use liouville_tensor::shapes::Matrix;
use liouville_tensor::tape::Threaded;
use liouville_tensor::{Real, TensorError, host};

/// A fixed column permutation, applied as a product with its permutation matrix.
#[derive(Debug, Clone)]
pub struct Permutation<E: Real, D: Device<E>> {
    order: Vec<usize>,
    /// P with P[π(j), j] = 1, so that x P picks column π(j) into column j.
    forward: Matrix<E, D>,
    /// Pᵀ = P⁻¹.
    backward: Matrix<E, D>,
}

impl<E: Real, D: Device<E>> Permutation<E, D> {
    /// y_j = x_{order[j]}; `order` must hold each of 0..n exactly once.
    pub fn new(device: &D, order: Vec<usize>) -> Result<Self, TensorError> {
        let n = order.len();
        let mut seen = vec![false; n];
        for &i in &order {
            if i >= n || std::mem::replace(&mut seen[i], true) {
                return Err(TensorError::InvalidConfig(format!(
                    "{order:?} is not a permutation of 0..{n}"
                )));
            }
        }
        if n == 0 {
            return Err(TensorError::InvalidConfig(
                "a permutation needs at least one column".into(),
            ));
        }
        let mut p = vec![0.0; n * n];
        for (j, &i) in order.iter().enumerate() {
            p[i * n + j] = 1.0;
        }
        let mut pt = vec![0.0; n * n];
        for (j, &i) in order.iter().enumerate() {
            pt[j * n + i] = 1.0;
        }
        Ok(Self {
            forward: host::matrix(device, p, n, n),
            backward: host::matrix(device, pt, n, n),
            order,
        })
    }

    /// The reversal, y_j = x_{n−1−j} (RealNVP's alternation for any n).
    pub fn reverse(device: &D, n: usize) -> Result<Self, TensorError> {
        Self::new(device, (0..n).rev().collect())
    }

    /// A fixed random shuffle from stream (`seed`, `stream`) (Fisher–Yates).
    pub fn random(device: &D, n: usize, seed: u64, stream: u64) -> Result<Self, TensorError> {
        let mut rng = Rng::stream(seed, stream);
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = (rng.uniform() * (i + 1) as f64) as usize;
            order.swap(i, j.min(i));
        }
        Self::new(device, order)
    }

    /// π: column j of the output is column `order()[j]` of the input.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    fn apply_matrix<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
        p: &Matrix<E, D>,
    ) -> Result<Transformed<E, D>, TensorError> {
        let n = x.shape().1;
        if n != self.order.len() {
            return Err(TensorError::ShapeMismatch(format!(
                "rows have {n} columns, the permutation takes {}",
                self.order.len()
            )));
        }
        let y = tp.step(|t| x.clone().put_tape(t).matmul(p.retaped::<T>()));
        Ok((y, zero_log_det(x)))
    }
}

impl<E: Real, D: Device<E>> Bijection<E, D> for Permutation<E, D> {
    fn dim(&self) -> usize {
        self.order.len()
    }
    fn forward<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
    ) -> Result<Transformed<E, D>, TensorError> {
        self.apply_matrix(tp, x, &self.forward)
    }
    fn inverse<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        y: &Matrix<E, D>,
    ) -> Result<Transformed<E, D>, TensorError> {
        self.apply_matrix(tp, y, &self.backward)
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for Permutation<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        Vec::new()
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use liouville_tensor::device::HostDevice;

    #[test]
    fn permutes_columns_and_inverts_exactly() {
        let dev = HostDevice::default();
        let x = host::matrix(&dev, (0..12).map(f64::from), 3, 4);
        let p = Permutation::<f64, HostDevice>::new(&dev, vec![2, 0, 3, 1]).unwrap();
        let (y, ld) = p.apply(&x).unwrap();
        assert_eq!(host::values(&y)[..4], [2.0, 0.0, 3.0, 1.0]);
        assert!(host::values(&ld).iter().all(|&l| l == 0.0));
        let (back, _) = p.invert(&y).unwrap();
        assert_eq!(host::values(&back), host::values(&x));
        let r = Permutation::<f64, HostDevice>::reverse(&dev, 4).unwrap();
        assert_eq!(host::values(&r.apply(&x).unwrap().0)[..4], [3.0, 2.0, 1.0, 0.0]);
    }

    #[test]
    fn random_orders_are_seeded_permutations() {
        let dev = HostDevice::default();
        let a = Permutation::<f64, HostDevice>::random(&dev, 9, 4, 0).unwrap();
        let b = Permutation::<f64, HostDevice>::random(&dev, 9, 4, 0).unwrap();
        let c = Permutation::<f64, HostDevice>::random(&dev, 9, 5, 0).unwrap();
        assert_eq!(a.order(), b.order());
        assert_ne!(a.order(), c.order());
        let mut sorted = a.order().to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..9).collect::<Vec<_>>());
        assert_ne!(
            a.order(),
            (0..9).collect::<Vec<_>>().as_slice(),
            "a shuffle, not the identity"
        );
    }

    #[test]
    fn refuses_what_is_not_a_permutation() {
        let dev = HostDevice::default();
        for bad in [vec![0, 0], vec![0, 2], vec![]] {
            assert!(
                matches!(
                    Permutation::<f64, HostDevice>::new(&dev, bad.clone()),
                    Err(TensorError::InvalidConfig(_))
                ),
                "{bad:?}"
            );
        }
        let p = Permutation::<f64, HostDevice>::reverse(&dev, 3).unwrap();
        let x = host::matrix(&dev, [1.0, 2.0], 1, 2);
        assert!(matches!(p.apply(&x), Err(TensorError::ShapeMismatch(_))));
    }
}
