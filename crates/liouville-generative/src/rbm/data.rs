//! Binary training data for an RBM: rows of 0/1 values, validated once.

use liouville_sim::dataset::IsingDataset;
use ndarray::{Array2, ArrayView2, Axis};

use super::RbmError;

/// Rows of binary configurations (0 or 1 in every entry, stored as f64 for the products).
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryData {
    rows: Array2<f64>,
}

impl BinaryData {
    /// Validates `rows`: every entry exactly 0 or 1 ([`RbmError::NonFinite`] for NaN and
    /// infinities, [`RbmError::NotBinary`] for anything else), at least one row and column.
    pub fn new(rows: Array2<f64>) -> Result<Self, RbmError> {
        if rows.nrows() == 0 || rows.ncols() == 0 {
            return Err(RbmError::InvalidConfig(format!(
                "binary data of shape {:?}",
                rows.dim()
            )));
        }
        for ((row, column), &value) in rows.indexed_iter() {
            if !value.is_finite() {
                return Err(RbmError::NonFinite { row, column, value });
            }
            if value != 0.0 && value != 1.0 {
                return Err(RbmError::NotBinary { row, column, value });
            }
        }
        Ok(Self { rows })
    }

    /// Ising configurations at temperature index `temperature` of a sim dataset, spins ±1
    /// mapped to v = (s + 1)/2, one row of L² sites per configuration (row-major lattice).
    pub fn from_ising(data: &IsingDataset, temperature: usize) -> Result<Self, RbmError> {
        let (nt, samples, l, _) = data.spins.dim();
        if temperature >= nt {
            return Err(RbmError::InvalidConfig(format!(
                "temperature index {temperature}, the dataset has {nt}"
            )));
        }
        let spins = data.spins.index_axis(Axis(0), temperature);
        let rows = Array2::from_shape_fn((samples, l * l), |(s, k)| f64::from(spins[[s, k / l, k % l]] + 1) / 2.0);
        Self::new(rows)
    }

    /// The rows.
    pub fn rows(&self) -> ArrayView2<'_, f64> {
        self.rows.view()
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.nrows()
    }

    /// Never true (construction rejects empty data); for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.rows.nrows() == 0
    }

    /// Visible units per row.
    pub fn width(&self) -> usize {
        self.rows.ncols()
    }

    /// The rows at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Array2<f64> {
        self.rows.select(Axis(0), indices)
    }

    /// Visible biases of Hinton's guide (§8.1): a_i = ln(pᵢ / (1 − pᵢ)) of the data's marginal
    /// pᵢ, clipped to [ε, 1 − ε] with ε = 1/(2n) so constant columns stay finite. The starting
    /// point of training and the base rate of annealed importance sampling.
    pub fn base_rate_bias(&self) -> Vec<f64> {
        let n = self.len() as f64;
        let eps = 0.5 / n;
        self.rows
            .mean_axis(Axis(0))
            .expect("non-empty")
            .iter()
            .map(|&p| {
                let p = p.clamp(eps, 1.0 - eps);
                (p / (1.0 - p)).ln()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn non_binary_and_nan_values_are_named() {
        let e = BinaryData::new(array![[0.0, 1.0], [1.0, 0.5]]).unwrap_err();
        assert!(
            matches!(e, RbmError::NotBinary { row: 1, column: 1, value } if value == 0.5),
            "{e}"
        );
        assert!(e.to_string().contains("row 1, column 1 is 0.5"), "{e}");
        let e = BinaryData::new(array![[0.0, f64::NAN]]).unwrap_err();
        assert!(matches!(e, RbmError::NonFinite { row: 0, column: 1, .. }), "{e}");
        let e = BinaryData::new(array![[-1.0, 1.0]]).unwrap_err();
        assert!(matches!(e, RbmError::NotBinary { column: 0, .. }), "{e}");
        assert!(BinaryData::new(Array2::zeros((0, 3))).is_err());
    }

    #[test]
    fn base_rate_is_the_logit_of_the_marginal() {
        let d = BinaryData::new(array![[1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [1.0, 0.0]]).unwrap();
        let a = d.base_rate_bias();
        assert!((a[0] - 3f64.ln()).abs() < 1e-14);
        assert!((a[1] + 3f64.ln()).abs() < 1e-14);
        let constant = BinaryData::new(array![[1.0], [1.0]]).unwrap().base_rate_bias();
        assert!(
            (constant[0] - 3f64.ln()).abs() < 1e-14,
            "clipped at 1 - 1/(2n): {constant:?}"
        );
    }
}
