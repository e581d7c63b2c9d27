//! Training data for an RBM's visible layer, validated once: rows of 0/1 values for binary units,
//! finite real rows for Gaussian ones.

use liouville_sim::dataset::IsingDataset;
use ndarray::{Array2, ArrayView2, Axis};

use super::RbmError;
use super::weights::VisibleUnits;

/// Rows of visible configurations (stored as f64 for the products) and the units they are for.
#[derive(Debug, Clone, PartialEq)]
pub struct VisibleData {
    rows: Array2<f64>,
    units: VisibleUnits,
}

fn check_shape(rows: &Array2<f64>) -> Result<(), RbmError> {
    if rows.nrows() == 0 || rows.ncols() == 0 {
        return Err(RbmError::InvalidConfig(format!(
            "visible data of shape {:?}",
            rows.dim()
        )));
    }
    Ok(())
}

impl VisibleData {
    /// Binary rows: every entry exactly 0 or 1 ([`RbmError::NonFinite`] for NaN and
    /// infinities, [`RbmError::NotBinary`] for anything else), at least one row and column.
    pub fn binary(rows: Array2<f64>) -> Result<Self, RbmError> {
        check_shape(&rows)?;
        for ((row, column), &value) in rows.indexed_iter() {
            if !value.is_finite() {
                return Err(RbmError::NonFinite { row, column, value });
            }
            if value != 0.0 && value != 1.0 {
                return Err(RbmError::NotBinary { row, column, value });
            }
        }
        Ok(Self {
            rows,
            units: VisibleUnits::Binary,
        })
    }

    /// Real rows for Gaussian visible units (finite values; unit variance is the model's, so
    /// standardise the columns first, e.g. with [`VisibleData::standardised`]).
    pub fn real(rows: Array2<f64>) -> Result<Self, RbmError> {
        check_shape(&rows)?;
        if let Some(((row, column), &value)) = rows.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(RbmError::NonFinite { row, column, value });
        }
        Ok(Self {
            rows,
            units: VisibleUnits::Gaussian,
        })
    }

    /// Real rows with every column shifted to mean 0 and scaled to standard deviation 1
    /// (constant columns are only shifted); returns the data and each column's (mean, std).
    pub fn standardised(rows: Array2<f64>) -> Result<(Self, Vec<(f64, f64)>), RbmError> {
        let data = Self::real(rows)?;
        let n = data.len() as f64;
        let mut rows = data.rows;
        let mut scales = Vec::with_capacity(rows.ncols());
        for mut column in rows.columns_mut() {
            let mean = column.sum() / n;
            let var = column.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
            let std = if var > 0.0 { var.sqrt() } else { 1.0 };
            column.mapv_inplace(|x| (x - mean) / std);
            scales.push((mean, std));
        }
        Ok((Self::real(rows)?, scales))
    }

    /// The units these rows are for.
    pub fn units(&self) -> VisibleUnits {
        self.units
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
        Self::binary(rows)
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

    /// The visible biases with which the W = 0 model has the data's marginal means: Hinton's
    /// guide (§8.1) a_i = ln(pᵢ / (1 − pᵢ)) of the marginal pᵢ for binary units, clipped to
    /// [ε, 1 − ε] with ε = 1/(2n) so constant columns stay finite; the column means for Gaussian
    /// units. The starting point of training and the base rate of annealed importance sampling.
    pub fn base_rate_bias(&self) -> Vec<f64> {
        let n = self.len() as f64;
        let eps = 0.5 / n;
        let means = self.rows.mean_axis(Axis(0)).expect("non-empty");
        match self.units {
            VisibleUnits::Gaussian => means.to_vec(),
            VisibleUnits::Binary => means
                .iter()
                .map(|&p| {
                    let p = p.clamp(eps, 1.0 - eps);
                    (p / (1.0 - p)).ln()
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn real_rows_are_checked_and_standardised() {
        let e = VisibleData::real(array![[0.5, f64::INFINITY]]).unwrap_err();
        assert!(matches!(e, RbmError::NonFinite { row: 0, column: 1, .. }), "{e}");
        let (d, scales) = VisibleData::standardised(array![[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]]).unwrap();
        assert_eq!(d.units(), VisibleUnits::Gaussian);
        assert_eq!(scales[1], (5.0, 1.0));
        let col: Vec<f64> = d.rows().column(0).to_vec();
        let sd = (8.0f64 / 3.0).sqrt();
        assert_eq!(col, vec![-2.0 / sd, 0.0, 2.0 / sd]);
        assert_eq!(d.base_rate_bias(), vec![0.0, 0.0]);
    }

    #[test]
    fn non_binary_and_nan_values_are_named() {
        let e = VisibleData::binary(array![[0.0, 1.0], [1.0, 0.5]]).unwrap_err();
        assert!(
            matches!(e, RbmError::NotBinary { row: 1, column: 1, value } if value == 0.5),
            "{e}"
        );
        assert!(e.to_string().contains("row 1, column 1 is 0.5"), "{e}");
        let e = VisibleData::binary(array![[0.0, f64::NAN]]).unwrap_err();
        assert!(matches!(e, RbmError::NonFinite { row: 0, column: 1, .. }), "{e}");
        let e = VisibleData::binary(array![[-1.0, 1.0]]).unwrap_err();
        assert!(matches!(e, RbmError::NotBinary { column: 0, .. }), "{e}");
        assert!(VisibleData::binary(Array2::zeros((0, 3))).is_err());
    }

    #[test]
    fn base_rate_is_the_logit_of_the_marginal() {
        let d = VisibleData::binary(array![[1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [1.0, 0.0]]).unwrap();
        let a = d.base_rate_bias();
        assert!((a[0] - 3f64.ln()).abs() < 1e-14);
        assert!((a[1] + 3f64.ln()).abs() < 1e-14);
        let constant = VisibleData::binary(array![[1.0], [1.0]]).unwrap().base_rate_bias();
        assert!(
            (constant[0] - 3f64.ln()).abs() < 1e-14,
            "clipped at 1 - 1/(2n): {constant:?}"
        );
    }
}
