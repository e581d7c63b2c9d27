//! Monotone rational-quadratic splines with identity tails (Durkan, Bekasov, Murray & Papamakarios
//! 2019, "Neural Spline Flows", §3.1, after Gregory & Delbourgo 1982): an element-wise bijection
//! of [−B, B] onto itself through K + 1 knots (x_k, y_k) with positive derivatives δ_k, and the
//! identity outside. In bin k, with w_k = x_{k+1} − x_k, h_k = y_{k+1} − y_k, s_k = h_k / w_k and
//! ξ = (x − x_k) / w_k ∈ [0, 1],
//!
//! y = y_k + h_k [s_k ξ² + δ_k ξ(1 − ξ)] / [s_k + (δ_{k+1} + δ_k − 2 s_k) ξ(1 − ξ)],
//!
//! dy/dx = s_k² [δ_{k+1} ξ² + 2 s_k ξ(1 − ξ) + δ_k (1 − ξ)²] / [s_k + (δ_{k+1} + δ_k − 2 s_k) ξ(1 − ξ)]²,
//!
//! and the inverse is the root ξ = 2c / (−b − √(b² − 4ac)) of a quadratic (Durkan et al. eq. 6–8)
//! with a = h_k(s_k − δ_k) + (y − y_k)(δ_{k+1} + δ_k − 2 s_k), b = h_k δ_k − (y − y_k)(δ_{k+1} + δ_k −
//! 2 s_k), c = −s_k (y − y_k). The boundary derivatives are 1, so the spline joins its identity tails
//! with a continuous derivative.
//!
//! Each element has 3K − 1 unconstrained parameters: K widths and K heights through a softmax
//! (each bin at least [`MIN_BIN_FRACTION`] of 2B) and K − 1 interior derivatives through a
//! softplus (at least [`MIN_DERIVATIVE`]), shifted so that zero parameters give the identity
//! (equal bins, unit derivatives). Everything is traced dfdx ops; only the choice of bin (a
//! piecewise-constant function of the input) is made on the host, as one-hot masks.

use liouville_tensor::bijection::Transformed;
use liouville_tensor::columns;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::shapes::{Matrix, Vector};
use liouville_tensor::tape::Threaded;
use liouville_tensor::{Real, TensorError, host};
use serde::{Deserialize, Serialize};

use crate::traced::softplus;

/// The smallest share of the interval [−B, B] a bin may take, in x and in y (nflows' default).
pub const MIN_BIN_FRACTION: f64 = 1e-3;
/// The smallest knot derivative (nflows' default).
pub const MIN_DERIVATIVE: f64 = 1e-3;
/// The most bins a spline may have (each must be able to take [`MIN_BIN_FRACTION`]).
pub const MAX_BINS: usize = 256;

/// Shape of a rational-quadratic spline: `bins` bins on [−`bound`, `bound`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RationalQuadraticSpline {
    /// K ≥ 2.
    pub bins: usize,
    /// B > 0: the spline acts on [−B, B], the identity outside.
    pub bound: f64,
}

impl RationalQuadraticSpline {
    /// A spline of `bins` bins on [−`bound`, `bound`]; `bins` in 2..=[`MAX_BINS`], `bound` finite
    /// and positive, or a typed error naming the value.
    pub fn new(bins: usize, bound: f64) -> Result<Self, TensorError> {
        let spline = Self { bins, bound };
        spline.validate()?;
        Ok(spline)
    }

    /// Checks `bins` and `bound` (a deserialised config may hold anything).
    pub fn validate(&self) -> Result<(), TensorError> {
        if !(2..=MAX_BINS).contains(&self.bins) {
            return Err(TensorError::InvalidConfig(format!(
                "a rational-quadratic spline needs 2 to {MAX_BINS} bins (one bin with unit end \
                 derivatives is the identity), got {}",
                self.bins
            )));
        }
        if !(self.bound.is_finite() && self.bound > 0.0) {
            return Err(TensorError::InvalidConfig(format!(
                "a rational-quadratic spline needs a finite positive bound, got {}",
                self.bound
            )));
        }
        Ok(())
    }

    /// Unconstrained parameters per transformed element: 3K − 1.
    pub fn parameters_per_element(&self) -> usize {
        3 * self.bins - 1
    }

    /// y = g(x) (or x = g⁻¹(y) when `inverse`) of every element of `x` `[batch, width]`, with
    /// the parameters of element (r, j) in columns `j·(3K−1)..(j+1)·(3K−1)` of row r of `raw`
    /// (widths, heights, interior derivatives), and Σ_j log|dg/dx| of every row (negated when
    /// `inverse`), all recorded on `tp`.
    pub fn transform<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
        raw: &Matrix<E, D>,
        inverse: bool,
    ) -> Result<Transformed<E, D>, TensorError> {
        self.validate()?;
        let (batch, width) = *x.shape();
        let p = self.parameters_per_element();
        if *raw.shape() != (batch, width * p) {
            return Err(TensorError::ShapeMismatch(format!(
                "spline parameters of shape {:?} for {batch}×{width} elements of {p} each",
                raw.shape()
            )));
        }
        let n = batch * width;
        let k = self.bins;
        let dev = x.device().clone();
        let flat: Vector<E, D> = tp.step(|t| x.clone().put_tape(t).reshape_like(&(n,)));
        let raw = tp.step(|t| raw.clone().put_tape(t).reshape_like(&(n, p)));
        let knots = Knots::new(self, tp, &dev, &raw);

        // The bin of every element, from the knots its value is compared with; elements outside
        // [−B, B] are evaluated at 0 (any finite point would do) and masked out.
        let values = host::values(&flat);
        let edges = host::values(if inverse { &knots.y } else { &knots.x });
        let inside: Vec<bool> = values.iter().map(|v| v.abs() <= self.bound).collect();
        let bins: Vec<usize> = (0..n)
            .map(|i| {
                let v = if inside[i] { values[i] } else { 0.0 };
                let row = &edges[i * (k + 1)..(i + 1) * (k + 1)];
                row[1..k].iter().filter(|&&e| e <= v).count()
            })
            .collect();
        let one_hot = |offset: usize, cols: usize| {
            host::matrix(
                &dev,
                (0..n).flat_map(|i| {
                    let hot = bins[i] + offset;
                    (0..cols).map(move |c| if c == hot { 1.0 } else { 0.0 })
                }),
                n,
                cols,
            )
        };
        let (in_bin, lower, upper) = (one_hot(0, k), one_hot(0, k + 1), one_hot(1, k + 1));
        let mask = host::vector::<E, D>(&dev, inside.iter().map(|&i| if i { 1.0 } else { 0.0 }));
        let outside = host::vector::<E, D>(&dev, inside.iter().map(|&i| if i { 0.0 } else { 1.0 }));
        let mut pick = |q: &Matrix<E, D>, m: &Matrix<E, D>| -> Vector<E, D> {
            tp.step(|t| (q.clone().put_tape(t) * m.retaped::<T>()).sum::<(usize,), Axis<1>>())
        };
        let xk = pick(&knots.x, &lower);
        let yk = pick(&knots.y, &lower);
        let wk = pick(&knots.widths, &in_bin);
        let hk = pick(&knots.heights, &in_bin);
        let dk = pick(&knots.derivatives, &lower);
        let dk1 = pick(&knots.derivatives, &upper);

        let v_in = tp.step(|t| flat.clone().put_tape(t) * mask.retaped::<T>());
        let slope = tp.step(|t| hk.clone().put_tape(t) / wk.retaped::<T>());
        // δ_{k+1} + δ_k − 2 s_k: how far the bin bends from a straight line.
        let bend = tp.step(|t| dk1.clone().put_tape(t) + dk.retaped::<T>() - slope.retaped::<T>() * E::of(2.0));
        let xi = if inverse {
            let dy = tp.step(|t| v_in.put_tape(t) - yk.retaped::<T>());
            let a = tp.step(|t| {
                (slope.clone().put_tape(t) - dk.retaped::<T>()) * hk.retaped::<T>()
                    + dy.retaped::<T>() * bend.retaped::<T>()
            });
            let b = tp.step(|t| hk.clone().put_tape(t) * dk.retaped::<T>() - dy.retaped::<T>() * bend.retaped::<T>());
            let c = tp.step(|t| (slope.clone().put_tape(t) * dy.retaped::<T>()).negate());
            // b² − 4ac ≥ 0 for a monotone bin; relu keeps a rounding error below 0 from a NaN.
            let root = tp.step(|t| {
                (b.clone().put_tape(t).square() - a.retaped::<T>() * c.retaped::<T>() * E::of(4.0))
                    .relu()
                    .sqrt()
            });
            tp.step(|t| (c.put_tape(t) * E::of(2.0)) / (b.retaped::<T>().negate() - root.retaped::<T>()))
        } else {
            tp.step(|t| (v_in.put_tape(t) - xk.retaped::<T>()) / wk.retaped::<T>())
        };
        // ξ(1 − ξ) and the common denominator s_k + bend·ξ(1 − ξ).
        let xi_rest = tp.step(|t| xi.clone().put_tape(t) * (xi.retaped::<T>().negate() + E::ONE));
        let denominator = tp.step(|t| bend.put_tape(t) * xi_rest.retaped::<T>() + slope.retaped::<T>());
        let mapped_in = if inverse {
            tp.step(|t| xi.clone().put_tape(t) * wk.retaped::<T>() + xk.retaped::<T>())
        } else {
            let numerator = tp.step(|t| {
                (slope.clone().put_tape(t) * xi.retaped::<T>().square() + dk.retaped::<T>() * xi_rest.retaped::<T>())
                    * hk.retaped::<T>()
            });
            tp.step(|t| numerator.put_tape(t) / denominator.retaped::<T>() + yk.retaped::<T>())
        };
        // ln dy/dx = 2 ln s_k + ln[δ_{k+1} ξ² + 2 s_k ξ(1 − ξ) + δ_k (1 − ξ)²] − 2 ln(denominator).
        let log_slope = tp.step(|t| {
            let rest = xi.retaped::<T>().negate() + E::ONE;
            let inner = dk1.put_tape(t) * xi.retaped::<T>().square()
                + slope.retaped::<T>() * xi_rest.retaped::<T>() * E::of(2.0)
                + dk.retaped::<T>() * rest.square();
            inner.ln() + (slope.retaped::<T>().ln() - denominator.retaped::<T>().ln()) * E::of(2.0)
        });
        let mapped = tp.step(|t| {
            (mapped_in.put_tape(t) * mask.retaped::<T>() + flat.retaped::<T>() * outside.retaped::<T>())
                .reshape_like(&(batch, width))
        });
        let log_det = tp.step(|t| {
            let per_row = (log_slope.put_tape(t) * mask.retaped::<T>())
                .reshape_like(&(batch, width))
                .sum::<(usize,), Axis<1>>();
            if inverse { per_row.negate() } else { per_row }
        });
        Ok((mapped, log_det))
    }
}

/// The knots of every element's spline, `[n, K + 1]` (x, y, derivatives) and its bins `[n, K]`.
struct Knots<E: Real, D: Device<E>> {
    x: Matrix<E, D>,
    y: Matrix<E, D>,
    widths: Matrix<E, D>,
    heights: Matrix<E, D>,
    derivatives: Matrix<E, D>,
}

impl<E: Real, D: Device<E>> Knots<E, D> {
    /// From the unconstrained parameters `[n, 3K − 1]`.
    fn new<T: Tape<E, D> + Merge<T>>(
        spline: &RationalQuadraticSpline,
        tp: &mut Threaded<T>,
        dev: &D,
        raw: &Matrix<E, D>,
    ) -> Self {
        let (n, p) = *raw.shape();
        let k = spline.bins;
        let span = E::of(2.0 * spline.bound);
        let bound = E::of(spline.bound);
        // Cumulative sums with a leading zero: C[i, j] = 1 for i < j, `[K, K + 1]`.
        let cumulative = host::matrix(
            dev,
            (0..k * (k + 1)).map(|e| if e / (k + 1) < e % (k + 1) { 1.0 } else { 0.0 }),
            k,
            k + 1,
        );
        let mut sizes_and_knots = |offset: usize| {
            let select = columns::select(dev, p, offset, k);
            let share = E::of(1.0 - MIN_BIN_FRACTION * k as f64);
            let fractions = tp.step(|t| {
                raw.clone()
                    .put_tape(t)
                    .matmul(select.retaped::<T>())
                    .softmax::<Axis<1>>()
                    * share
                    + E::of(MIN_BIN_FRACTION)
            });
            let knots = tp.step(|t| fractions.clone().put_tape(t).matmul(cumulative.retaped::<T>()) * span - bound);
            let sizes = tp.step(|t| fractions.put_tape(t) * span);
            (sizes, knots)
        };
        let (widths, x) = sizes_and_knots(0);
        let (heights, y) = sizes_and_knots(k);
        // Interior derivatives δ = δ_min + softplus(u + u₀), with softplus(u₀) = 1 − δ_min so that
        // u = 0 gives δ = 1; the two boundary derivatives are exactly 1.
        let shift = E::of((1.0 - MIN_DERIVATIVE).exp_m1().ln());
        let derivatives = {
            let select = columns::select(dev, p, 2 * k, k - 1);
            let place = columns::place(dev, k - 1, k + 1, 1);
            let ends = host::matrix(
                dev,
                (0..n * (k + 1)).map(|e| if e % (k + 1) == 0 || e % (k + 1) == k { 1.0 } else { 0.0 }),
                n,
                k + 1,
            );
            tp.step(|t| {
                let u = raw.clone().put_tape(t).matmul(select.retaped::<T>()) + shift;
                (softplus(u) + E::of(MIN_DERIVATIVE)).matmul(place.retaped::<T>()) + ends.retaped::<T>()
            })
        };
        Self {
            x,
            y,
            widths,
            heights,
            derivatives,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use liouville_base::random::Rng;
    use liouville_tensor::device::HostDevice;

    type Dev = HostDevice;

    fn run(spline: &RationalQuadraticSpline, x: &[f64], raw: &[f64], inverse: bool) -> (Vec<f64>, Vec<f64>) {
        let dev = Dev::default();
        let width = 1;
        let xs = host::matrix::<f64, Dev>(&dev, x.iter().copied(), x.len(), width);
        let p = spline.parameters_per_element();
        let rs = host::matrix::<f64, Dev>(&dev, raw.iter().copied(), x.len(), p);
        let (y, ld) = spline
            .transform(&mut Threaded::new(NoneTape), &xs, &rs, inverse)
            .unwrap();
        (host::values(&y), host::values(&ld))
    }

    /// The same random parameters for every one of `rows` elements.
    fn shared_parameters(spline: &RationalQuadraticSpline, rows: usize, seed: u64) -> Vec<f64> {
        let mut rng = Rng::stream(seed, 1);
        let one: Vec<f64> = (0..spline.parameters_per_element())
            .map(|_| rng.uniform_in(-2.0, 2.0))
            .collect();
        (0..rows).flat_map(|_| one.clone()).collect()
    }

    #[test]
    fn zero_parameters_are_the_identity() {
        let spline = RationalQuadraticSpline::new(5, 3.0).unwrap();
        let x = [-4.0, -2.9, -1.0, 0.0, 0.3, 2.99, 3.5];
        let raw = vec![0.0; x.len() * spline.parameters_per_element()];
        let (y, ld) = run(&spline, &x, &raw, false);
        for (a, b) in x.iter().zip(&y) {
            assert!((a - b).abs() < 1e-12, "{a} -> {b}");
        }
        assert!(ld.iter().all(|l| l.abs() < 1e-12), "{ld:?}");
    }

    /// Monotone on a fine grid through [−B − 1, B + 1], the identity outside, and the derivative
    /// continuous at every knot and at ±B (left and right difference quotients agree).
    #[test]
    fn splines_are_monotone_with_a_continuous_derivative_at_the_knots() {
        for (bins, seed) in [(2, 1), (4, 2), (8, 3)] {
            let spline = RationalQuadraticSpline::new(bins, 2.0).unwrap();
            let grid: Vec<f64> = (0..=1200).map(|i| -3.0 + 6.0 * i as f64 / 1200.0).collect();
            let raw = shared_parameters(&spline, grid.len(), seed);
            let (y, ld) = run(&spline, &grid, &raw, false);
            for w in y.windows(2) {
                assert!(w[1] > w[0], "bins {bins}: not increasing: {w:?}");
            }
            for (x, v) in grid.iter().zip(&y) {
                if x.abs() > 2.0 {
                    assert_eq!(x, v, "outside the bound the spline is the identity");
                }
            }
            assert!(
                ld.iter().any(|l| l.abs() > 0.05),
                "bins {bins}: the spline is the identity"
            );
            // The knots of this parameter set, and ±B.
            let dev = Dev::default();
            let rs = host::matrix::<f64, Dev>(
                &dev,
                raw[..spline.parameters_per_element()].iter().copied(),
                1,
                3 * bins - 1,
            );
            let knots = host::values(&Knots::new(&spline, &mut Threaded::new(NoneTape), &dev, &rs).x);
            for knot in knots {
                let h = 1e-7;
                let at = |x: f64| run(&spline, &[x], &raw[..3 * bins - 1], false).0[0];
                let left = (at(knot) - at(knot - h)) / h;
                let right = (at(knot + h) - at(knot)) / h;
                assert!(
                    (left - right).abs() < 1e-4 * (1.0 + left.abs()),
                    "bins {bins}: derivative jumps at {knot}: {left} vs {right}"
                );
            }
        }
    }

    #[test]
    fn inverse_and_log_derivative_agree_with_the_forward_map() {
        let spline = RationalQuadraticSpline::new(6, 2.5).unwrap();
        let x: Vec<f64> = (0..200).map(|i| -3.0 + 6.0 * i as f64 / 199.0).collect();
        let mut rng = Rng::stream(11, 2);
        let raw: Vec<f64> = (0..x.len() * spline.parameters_per_element())
            .map(|_| rng.uniform_in(-3.0, 3.0))
            .collect();
        let (y, ld) = run(&spline, &x, &raw, false);
        let (back, ild) = run(&spline, &y, &raw, true);
        for i in 0..x.len() {
            assert!((back[i] - x[i]).abs() < 1e-12, "{} -> {} -> {}", x[i], y[i], back[i]);
            assert!((ld[i] + ild[i]).abs() < 1e-10);
            let h = 1e-6;
            let p = &raw[i * 17..(i + 1) * 17];
            let fd = (run(&spline, &[x[i] + h], p, false).0[0] - run(&spline, &[x[i] - h], p, false).0[0]) / (2.0 * h);
            let exact = ld[i].exp();
            assert!(
                (fd - exact).abs() < 1e-7 * fd.max(1.0),
                "x {}: dy/dx {exact} vs {fd}",
                x[i]
            );
        }
    }

    #[test]
    fn bad_shapes_and_settings_are_typed_errors() {
        assert!(RationalQuadraticSpline::new(1, 1.0).is_err());
        assert!(RationalQuadraticSpline::new(4, f64::NAN).is_err());
        assert!(RationalQuadraticSpline::new(4, -1.0).is_err());
        let spline = RationalQuadraticSpline::new(3, 1.0).unwrap();
        let dev = Dev::default();
        let x = host::matrix::<f64, Dev>(&dev, [0.1, 0.2], 2, 1);
        let raw = host::matrix::<f64, Dev>(&dev, vec![0.0; 2 * 7], 2, 7);
        assert!(matches!(
            spline.transform(&mut Threaded::new(NoneTape), &x, &raw, false),
            Err(TensorError::ShapeMismatch(_))
        ));
    }
}
