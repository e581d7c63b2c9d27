//! Invertible linear maps in LU form (Glow's invertible 1×1 convolution, Kingma & Dhariwal 2018
//! §3.2, on vectors; nflows' `LULinear`): y = W x with
//!
//! W = L U,  L unit lower triangular,  U upper triangular with diagonal e^{σ},
//!
//! so log|det W| = Σᵢ σᵢ costs O(d) instead of O(d³), and W stays invertible for every value of
//! the parameters. On rows, y = x Wᵀ = x Uᵀ Lᵀ; the inverse is two triangular solves per row,
//! traced column by column (d small matrix products each), so both directions differentiate —
//! reverse-KL training of a Boltzmann generator runs through the inverse. Fresh maps are the
//! identity (L = U = I), as nflows initialises them; a fixed permutation before the map (a
//! [`crate::permutation::Permutation`]) plays the role of Glow's P.

use liouville_base::random::Rng;
use liouville_tensor::bijection::{Bijection, Transformed};
use liouville_tensor::columns;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::module::{Module, ParamMut, ParamRef};
use liouville_tensor::shapes::{Matrix, Vector};
use liouville_tensor::tape::Threaded;
use liouville_tensor::{Real, TensorError, host};

/// W = L U on rows of `dim` columns.
#[derive(Debug, Clone)]
pub struct LuLinear<E: Real, D: Device<E>> {
    /// Entries below the diagonal are L's; the rest are unused (their gradient is zero).
    lower: Matrix<E, D>,
    /// Entries above the diagonal are U's; the rest are unused.
    upper: Matrix<E, D>,
    /// σ: U's diagonal is e^{σ}.
    log_diagonal: Vector<E, D>,
}

/// The constant masks and identity a map needs, `[d, d]` each.
struct Masks<E: Real, D: Device<E>> {
    strictly_lower: Matrix<E, D>,
    strictly_upper: Matrix<E, D>,
    identity: Matrix<E, D>,
}

impl<E: Real, D: Device<E>> Masks<E, D> {
    fn new(device: &D, d: usize) -> Self {
        let mask = |keep: fn(usize, usize) -> bool| {
            host::matrix(
                device,
                (0..d * d).map(|e| if keep(e / d, e % d) { 1.0 } else { 0.0 }),
                d,
                d,
            )
        };
        Self {
            strictly_lower: mask(|i, j| j < i),
            strictly_upper: mask(|i, j| j > i),
            identity: mask(|i, j| i == j),
        }
    }
}

impl<E: Real, D: Device<E>> LuLinear<E, D> {
    /// The identity on `dim ≥ 1` columns.
    pub fn new(device: &D, dim: usize) -> Result<Self, TensorError> {
        if dim == 0 {
            return Err(TensorError::InvalidConfig(
                "an LU linear map needs at least one column".into(),
            ));
        }
        Ok(Self {
            lower: device.zeros_like(&(dim, dim)),
            upper: device.zeros_like(&(dim, dim)),
            log_diagonal: device.zeros_like(&(dim,)),
        })
    }

    /// Draws every parameter from U(−`scale`, `scale`) (stream (`seed`, 0x10)), so that the map
    /// is no longer the identity (tests; a random start). `scale` must be finite and ≥ 0.
    pub fn randomise(&mut self, scale: f64, seed: u64) -> Result<(), TensorError> {
        if !(scale.is_finite() && scale >= 0.0) {
            return Err(TensorError::InvalidConfig(format!(
                "LU randomisation scale {scale} must be finite and non-negative"
            )));
        }
        let d = self.dim();
        let device = self.lower.device().clone();
        let mut rng = Rng::stream(seed, 0x10);
        let mut draw = |n: usize| -> Vec<f64> { (0..n).map(|_| rng.uniform_in(-scale, scale)).collect() };
        self.lower = host::matrix(&device, draw(d * d), d, d);
        self.upper = host::matrix(&device, draw(d * d), d, d);
        self.log_diagonal = host::vector(&device, draw(d));
        Ok(())
    }

    /// W on the host, row-major (for tests and inspection).
    pub fn matrix(&self) -> Vec<f64> {
        let d = self.dim();
        let (l, u, s) = (
            host::values(&self.lower),
            host::values(&self.upper),
            host::values(&self.log_diagonal),
        );
        let lower = |i: usize, k: usize| match i.cmp(&k) {
            std::cmp::Ordering::Greater => l[i * d + k],
            std::cmp::Ordering::Equal => 1.0,
            std::cmp::Ordering::Less => 0.0,
        };
        let upper = |k: usize, j: usize| match k.cmp(&j) {
            std::cmp::Ordering::Less => u[k * d + j],
            std::cmp::Ordering::Equal => s[k].exp(),
            std::cmp::Ordering::Greater => 0.0,
        };
        (0..d * d)
            .map(|e| (0..d).map(|k| lower(e / d, k) * upper(k, e % d)).sum())
            .collect()
    }

    fn check(&self, x: &Matrix<E, D>) -> Result<(usize, usize), TensorError> {
        let shape = *x.shape();
        if shape.1 != self.dim() {
            return Err(TensorError::ShapeMismatch(format!(
                "rows have {} columns, the LU linear map takes {}",
                shape.1,
                self.dim()
            )));
        }
        Ok(shape)
    }

    /// (Uᵀ, Lᵀ) as traced matrices: rows map as x ↦ x Uᵀ Lᵀ.
    fn factors<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        masks: &Masks<E, D>,
    ) -> (Matrix<E, D>, Matrix<E, D>) {
        let d = self.dim();
        let l = tp.step(|t| {
            self.lower.clone().put_tape(t) * masks.strictly_lower.retaped::<T>() + masks.identity.retaped::<T>()
        });
        let u = tp.step(|t| {
            self.upper.clone().put_tape(t) * masks.strictly_upper.retaped::<T>()
                + self
                    .log_diagonal
                    .retaped::<T>()
                    .exp()
                    .broadcast_like::<_, Axis<0>>(&(d, d))
                    * masks.identity.retaped::<T>()
        });
        let transpose = |m: Matrix<E, D>, tp: &mut Threaded<T>| tp.step(|t| m.put_tape(t).permute::<_, Axes2<1, 0>>());
        let ut = transpose(u, tp);
        let lt = transpose(l, tp);
        (ut, lt)
    }

    /// Σ σ (negated for the inverse) for every row.
    fn log_det<T: Tape<E, D> + Merge<T>>(&self, tp: &mut Threaded<T>, rows: usize, inverse: bool) -> Vector<E, D> {
        tp.step(|t| {
            let total = self
                .log_diagonal
                .clone()
                .put_tape(t)
                .sum::<(), Axis<0>>()
                .broadcast_like::<_, Axis<0>>(&(rows,));
            if inverse { total.negate() } else { total }
        })
    }
}

/// Solves z M = y for z, row by row, with M `[d, d]` triangular: `lower` says M is lower
/// triangular (columns solved last to first), else upper (first to last); `diagonal` holds
/// 1/M_jj as `[1, d]`, or `None` for a unit diagonal. Traced column by column.
fn solve_triangular<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    y: &Matrix<E, D>,
    m: &Matrix<E, D>,
    lower: bool,
    inverse_diagonal: Option<&Matrix<E, D>>,
) -> Matrix<E, D> {
    let (rows, d) = *y.shape();
    let dev = y.device().clone();
    let mut solved: Matrix<E, D> = dev.zeros_like(&(rows, d));
    let order: Vec<usize> = if lower {
        (0..d).rev().collect()
    } else {
        (0..d).collect()
    };
    for j in order {
        let pick = columns::select(&dev, d, j, 1);
        // Only the columns solved so far are non-zero in `solved`, and M_jj multiplies a zero.
        let column = tp.step(|t| {
            y.clone().put_tape(t).matmul(pick.retaped::<T>())
                - solved
                    .retaped::<T>()
                    .matmul(m.retaped::<T>().matmul(pick.retaped::<T>()))
        });
        let column = match inverse_diagonal {
            None => column,
            Some(inv) => tp.step(|t| {
                column.put_tape(t)
                    * inv
                        .retaped::<T>()
                        .matmul(pick.retaped::<T>())
                        .reshape_like(&())
                        .broadcast_like::<_, Axes2<0, 1>>(&(rows, 1))
            }),
        };
        let place = columns::place(&dev, 1, d, j);
        solved = tp.step(|t| solved.put_tape(t) + column.retaped::<T>().matmul(place.retaped::<T>()));
    }
    solved
}

impl<E: Real, D: Device<E>> Bijection<E, D> for LuLinear<E, D> {
    fn dim(&self) -> usize {
        self.log_diagonal.shape().0
    }
    fn forward<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
    ) -> Result<Transformed<E, D>, TensorError> {
        let (rows, d) = self.check(x)?;
        let masks = Masks::new(x.device(), d);
        let (ut, lt) = self.factors(tp, &masks);
        let y = tp.step(|t| {
            x.clone()
                .put_tape(t)
                .matmul(ut.retaped::<T>())
                .matmul(lt.retaped::<T>())
        });
        Ok((y, self.log_det(tp, rows, false)))
    }
    /// x = y L⁻ᵀ U⁻ᵀ: solve a Lᵀ = y (Lᵀ unit upper), then x Uᵀ = a (Uᵀ lower, diagonal e^{σ}).
    fn inverse<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        y: &Matrix<E, D>,
    ) -> Result<Transformed<E, D>, TensorError> {
        let (rows, d) = self.check(y)?;
        let masks = Masks::new(y.device(), d);
        let (ut, lt) = self.factors(tp, &masks);
        let a = solve_triangular(tp, y, &lt, false, None);
        let inverse_diagonal = tp.step(|t| {
            self.log_diagonal
                .clone()
                .put_tape(t)
                .negate()
                .exp()
                .reshape_like(&(1, d))
        });
        let x = solve_triangular(tp, &a, &ut, true, Some(&inverse_diagonal));
        Ok((x, self.log_det(tp, rows, true)))
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for LuLinear<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        vec![
            ("lower".into(), ParamRef::Matrix(&self.lower)),
            ("upper".into(), ParamRef::Matrix(&self.upper)),
            ("log_diagonal".into(), ParamRef::Vector(&self.log_diagonal)),
        ]
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        vec![
            ParamMut::Matrix(&mut self.lower),
            ParamMut::Matrix(&mut self.upper),
            ParamMut::Vector(&mut self.log_diagonal),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use liouville_tensor::device::HostDevice;

    type Dev = HostDevice;

    fn random_map(d: usize, seed: u64) -> LuLinear<f64, Dev> {
        let mut map = LuLinear::<f64, Dev>::new(&Dev::default(), d).unwrap();
        map.randomise(0.9, seed).unwrap();
        map
    }

    #[test]
    fn forward_is_w_times_x_and_the_inverse_undoes_it() {
        for (d, seed) in [(1, 1), (3, 2), (6, 3)] {
            let map = random_map(d, seed);
            let w = map.matrix();
            let rows = 5;
            let xs: Vec<f64> = (0..rows * d).map(|i| (i as f64 * 0.77).sin() * 2.0).collect();
            let x = host::matrix::<f64, Dev>(&Dev::default(), xs.iter().copied(), rows, d);
            let (y, log_det) = map.apply(&x).unwrap();
            let yv = host::values(&y);
            for r in 0..rows {
                for i in 0..d {
                    let expected: f64 = (0..d).map(|j| w[i * d + j] * xs[r * d + j]).sum();
                    assert!((yv[r * d + i] - expected).abs() < 1e-12, "d {d}: W x");
                }
            }
            let (back, inverse_log_det) = map.invert(&y).unwrap();
            let err = host::values(&back)
                .iter()
                .zip(&xs)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(err < 1e-10, "d {d}: inverse error {err:e}");
            let sigma: f64 = host::values(&map.log_diagonal).iter().sum();
            for (l, il) in host::values(&log_det).iter().zip(host::values(&inverse_log_det)) {
                assert!((l - sigma).abs() < 1e-12 && (l + il).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn a_fresh_map_is_the_identity_and_bad_widths_are_typed_errors() {
        let dev = Dev::default();
        let map = LuLinear::<f64, Dev>::new(&dev, 3).unwrap();
        let x = host::matrix::<f64, Dev>(&dev, [1.0, -2.0, 3.0], 1, 3);
        assert_eq!(host::values(&map.apply(&x).unwrap().0), vec![1.0, -2.0, 3.0]);
        let wrong = host::matrix::<f64, Dev>(&dev, [1.0, 2.0], 1, 2);
        assert!(matches!(map.apply(&wrong), Err(TensorError::ShapeMismatch(_))));
        assert!(matches!(map.invert(&wrong), Err(TensorError::ShapeMismatch(_))));
        assert!(LuLinear::<f64, Dev>::new(&dev, 0).is_err());
    }
}
