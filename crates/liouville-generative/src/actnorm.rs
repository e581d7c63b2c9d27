//! ActNorm (Kingma & Dhariwal 2018, Glow §3.1): a learned per-dimension affine map
//!
//! y = (x + b) ⊙ exp(s),  log|det ∂y/∂x| = Σᵢ sᵢ  (the same for every row),
//!
//! with a data-dependent initialisation: b = −mean(x) and s = −ln std(x) over a first batch, so
//! that on that batch the layer outputs zero mean and unit variance in every dimension. Glow uses
//! it in place of batch normalisation: after initialisation it is an ordinary bijection whose
//! output does not depend on the rest of the batch. Parameterising the scale by its logarithm
//! keeps it positive and makes the log-determinant linear in the parameters.

use liouville_tensor::bijection::{Bijection, Transformed};
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::module::{Module, ParamMut, ParamRef};
use liouville_tensor::shapes::{Matrix, Vector};
use liouville_tensor::tape::Threaded;
use liouville_tensor::{Real, TensorError, host};

/// The smallest standard deviation a data-dependent initialisation divides by: a constant
/// column would otherwise get an infinite scale.
const MIN_STD: f64 = 1e-6;

/// ActNorm on rows of `dim` columns.
#[derive(Debug, Clone)]
pub struct ActNorm<E: Real, D: Device<E>> {
    bias: Vector<E, D>,
    log_scale: Vector<E, D>,
}

impl<E: Real, D: Device<E>> ActNorm<E, D> {
    /// The identity on `dim ≥ 1` columns (b = 0, s = 0), until [`ActNorm::initialise_from`].
    pub fn new(device: &D, dim: usize) -> Result<Self, TensorError> {
        if dim == 0 {
            return Err(TensorError::InvalidConfig("ActNorm needs at least one column".into()));
        }
        Ok(Self {
            bias: device.zeros_like(&(dim,)),
            log_scale: device.zeros_like(&(dim,)),
        })
    }

    /// Glow's data-dependent initialisation from a batch `x` (≥ 2 rows of finite values):
    /// b = −mean, s = −ln max(std, 1e-6), column by column (population standard deviation).
    pub fn initialise_from(&mut self, x: &Matrix<E, D>) -> Result<(), TensorError> {
        let (rows, n) = *x.shape();
        if n != self.dim() {
            return Err(TensorError::ShapeMismatch(format!(
                "rows have {n} columns, the ActNorm takes {}",
                self.dim()
            )));
        }
        if rows < 2 {
            return Err(TensorError::InvalidConfig(format!(
                "ActNorm's data-dependent initialisation needs at least 2 rows, got {rows}"
            )));
        }
        host::check_finite(x, "ActNorm initialisation")?;
        let values = host::values(x);
        let mut mean = vec![0.0; n];
        for (i, v) in values.iter().enumerate() {
            mean[i % n] += v / rows as f64;
        }
        let mut var = vec![0.0; n];
        for (i, v) in values.iter().enumerate() {
            var[i % n] += (v - mean[i % n]).powi(2) / rows as f64;
        }
        let device = x.device();
        self.bias = host::vector(device, mean.iter().map(|m| -m));
        self.log_scale = host::vector(device, var.iter().map(|v| -v.sqrt().max(MIN_STD).ln()));
        Ok(())
    }

    /// b, on the host.
    pub fn bias(&self) -> Vec<f64> {
        host::values(&self.bias)
    }

    /// s = ln(scale), on the host.
    pub fn log_scale(&self) -> Vec<f64> {
        host::values(&self.log_scale)
    }

    fn check(&self, x: &Matrix<E, D>) -> Result<(usize, usize), TensorError> {
        let shape = *x.shape();
        if shape.1 != self.dim() {
            return Err(TensorError::ShapeMismatch(format!(
                "rows have {} columns, the ActNorm takes {}",
                shape.1,
                self.dim()
            )));
        }
        Ok(shape)
    }

    /// Σᵢ sᵢ (negated for the inverse) broadcast to every row.
    fn log_det<T: Tape<E, D> + Merge<T>>(&self, tp: &mut Threaded<T>, rows: usize, inverse: bool) -> Vector<E, D> {
        tp.step(|t| {
            let total = self
                .log_scale
                .clone()
                .put_tape(t)
                .sum::<(), Axis<0>>()
                .broadcast_like::<_, Axis<0>>(&(rows,));
            if inverse { total.negate() } else { total }
        })
    }
}

impl<E: Real, D: Device<E>> Bijection<E, D> for ActNorm<E, D> {
    fn dim(&self) -> usize {
        self.bias.shape().0
    }
    fn forward<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
    ) -> Result<Transformed<E, D>, TensorError> {
        let shape = self.check(x)?;
        let y = tp.step(|t| {
            (x.clone().put_tape(t) + self.bias.retaped::<T>().broadcast_like::<_, Axis<0>>(&shape))
                * self.log_scale.retaped::<T>().exp().broadcast_like::<_, Axis<0>>(&shape)
        });
        Ok((y, self.log_det(tp, shape.0, false)))
    }
    fn inverse<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        y: &Matrix<E, D>,
    ) -> Result<Transformed<E, D>, TensorError> {
        let shape = self.check(y)?;
        let x = tp.step(|t| {
            y.clone().put_tape(t)
                * self
                    .log_scale
                    .retaped::<T>()
                    .negate()
                    .exp()
                    .broadcast_like::<_, Axis<0>>(&shape)
                - self.bias.retaped::<T>().broadcast_like::<_, Axis<0>>(&shape)
        });
        Ok((x, self.log_det(tp, shape.0, true)))
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for ActNorm<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        vec![
            ("bias".into(), ParamRef::Vector(&self.bias)),
            ("log_scale".into(), ParamRef::Vector(&self.log_scale)),
        ]
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        vec![ParamMut::Vector(&mut self.bias), ParamMut::Vector(&mut self.log_scale)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use liouville_tensor::device::HostDevice;

    fn batch(dev: &HostDevice) -> Matrix<f64, HostDevice> {
        // Column 0 has mean 3 and spread 2, column 1 mean -1 and spread 0.5.
        let rows: Vec<f64> = (0..64)
            .flat_map(|i| {
                let u = (i as f64 * 0.61).sin();
                [3.0 + 2.0 * u, -1.0 + 0.5 * (i as f64 * 1.3).cos()]
            })
            .collect();
        host::matrix(dev, rows, 64, 2)
    }

    #[test]
    fn data_dependent_initialisation_standardises_the_first_batch() {
        let dev = HostDevice::default();
        let x = batch(&dev);
        let mut a = ActNorm::<f64, HostDevice>::new(&dev, 2).unwrap();
        a.initialise_from(&x).unwrap();
        let (y, log_det) = a.apply(&x).unwrap();
        let v = host::values(&y);
        for c in 0..2 {
            let col: Vec<f64> = v.iter().skip(c).step_by(2).copied().collect();
            let mean = col.iter().sum::<f64>() / col.len() as f64;
            let var = col.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / col.len() as f64;
            assert!(mean.abs() < 1e-12, "column {c}: mean {mean}");
            assert!((var - 1.0).abs() < 1e-12, "column {c}: variance {var}");
        }
        // log|det| = Σ s = −Σ ln std, the same on every row.
        let expected: f64 = a.log_scale().iter().sum();
        assert!(host::values(&log_det).iter().all(|&l| (l - expected).abs() < 1e-12));
        assert!(expected > 0.0, "column 1's spread is below 1 and dominates: {expected}");
    }

    #[test]
    fn initialisation_refuses_bad_batches() {
        let dev = HostDevice::default();
        let mut a = ActNorm::<f64, HostDevice>::new(&dev, 2).unwrap();
        let one_row = host::matrix(&dev, [1.0, 2.0], 1, 2);
        assert!(matches!(
            a.initialise_from(&one_row),
            Err(TensorError::InvalidConfig(_))
        ));
        let nan = host::matrix(&dev, [1.0, 2.0, f64::NAN, 0.0], 2, 2);
        match a.initialise_from(&nan) {
            Err(TensorError::NonFiniteInput(m)) => assert!(m.contains("row 1, column 0"), "{m}"),
            other => panic!("{other:?}"),
        }
        let wide = host::matrix(&dev, [1.0; 6], 2, 3);
        assert!(matches!(a.initialise_from(&wide), Err(TensorError::ShapeMismatch(_))));
        assert!(matches!(a.apply(&wide), Err(TensorError::ShapeMismatch(_))));
        // A constant column gets the floored scale, not an infinite one.
        let constant = host::matrix(&dev, [1.0, 5.0, 2.0, 5.0], 2, 2);
        a.initialise_from(&constant).unwrap();
        assert!(a.log_scale().iter().all(|s| s.is_finite()));
        assert!(ActNorm::<f64, HostDevice>::new(&dev, 0).is_err());
    }
}
