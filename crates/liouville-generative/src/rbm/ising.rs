//! Thermodynamic observables of 2-D Ising configurations written as RBM visible rows
//! (v = (s + 1)/2, row-major L × L periodic lattice, J = 1, k_B = 1), as Torlai & Melko (2016)
//! measure them on RBM samples:
//!
//! e = ⟨E⟩/N,  ⟨|m|⟩,  c = (⟨E²⟩ − ⟨E⟩²) / (N T²),  χ = N (⟨m²⟩ − ⟨|m|⟩²) / T.

use liouville_sim::systems::ising::Lattice;
use ndarray::ArrayView2;

use super::RbmError;

/// Observables per site with standard errors over blocks of rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IsingObservables {
    /// Energy per site e and its standard error.
    pub energy: (f64, f64),
    /// ⟨|m|⟩ and its standard error.
    pub abs_magnetization: (f64, f64),
    /// Specific heat per site c.
    pub specific_heat: f64,
    /// Susceptibility per site χ (from |m|).
    pub susceptibility: f64,
    /// Configurations measured.
    pub samples: usize,
}

/// Mean and the standard error from `blocks` equal blocks (rows in chain order keep their
/// autocorrelation inside a block).
fn block_mean(x: &[f64], blocks: usize) -> (f64, f64) {
    let n = x.len();
    let mean = x.iter().sum::<f64>() / n as f64;
    let blocks = blocks.min(n).max(2);
    let size = n / blocks;
    if size == 0 {
        return (mean, f64::NAN);
    }
    let means: Vec<f64> = (0..blocks)
        .map(|b| x[b * size..(b + 1) * size].iter().sum::<f64>() / size as f64)
        .collect();
    let m = means.iter().sum::<f64>() / blocks as f64;
    let var = means.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (blocks - 1) as f64;
    (mean, (var / blocks as f64).sqrt())
}

/// Observables of the rows of `v` (each L² binary units) at temperature `t`.
pub fn observables(v: ArrayView2<f64>, l: usize, t: f64) -> Result<IsingObservables, RbmError> {
    if v.ncols() != l * l {
        return Err(RbmError::WidthMismatch {
            what: "Ising configurations",
            expected: l * l,
            found: v.ncols(),
        });
    }
    if !(t.is_finite() && t > 0.0) || v.nrows() < 2 {
        return Err(RbmError::InvalidConfig(format!(
            "temperature {t} and {} configurations: need T > 0 and at least 2 rows",
            v.nrows()
        )));
    }
    let n = (l * l) as f64;
    let mut energy = Vec::with_capacity(v.nrows());
    let mut abs_m = Vec::with_capacity(v.nrows());
    for (row, r) in v.rows().into_iter().enumerate() {
        let mut spins = Vec::with_capacity(l * l);
        for (column, &x) in r.iter().enumerate() {
            spins.push(match x {
                0.0 => -1,
                1.0 => 1,
                value => return Err(RbmError::NotBinary { row, column, value }),
            });
        }
        let lattice = Lattice::from_spins(l, spins).map_err(|e| RbmError::InvalidConfig(e.to_string()))?;
        energy.push(lattice.energy() / n);
        abs_m.push((lattice.magnetization() / n).abs());
    }
    let rows = energy.len() as f64;
    let mean = |x: &[f64]| x.iter().sum::<f64>() / rows;
    let e2 = energy.iter().map(|e| e * e).collect::<Vec<_>>();
    let m2 = abs_m.iter().map(|m| m * m).collect::<Vec<_>>();
    let (e, m) = (mean(&energy), mean(&abs_m));
    Ok(IsingObservables {
        energy: block_mean(&energy, 20),
        abs_magnetization: block_mean(&abs_m, 20),
        // Per site: Var(E_total)/(N T²) = N Var(e)/T².
        specific_heat: n * (mean(&e2) - e * e) / (t * t),
        susceptibility: n * (mean(&m2) - m * m) / t,
        samples: energy.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn ordered_lattices_have_the_ground_state_values() {
        let mut v = Array2::zeros((4, 16));
        v.row_mut(1).fill(1.0);
        v.row_mut(3).fill(1.0);
        let o = observables(v.view(), 4, 2.0).unwrap();
        assert_eq!(o.energy.0, -2.0);
        assert_eq!(o.abs_magnetization.0, 1.0);
        assert_eq!(o.specific_heat, 0.0);
        assert_eq!(o.susceptibility, 0.0);
    }

    #[test]
    fn checkerboards_have_the_highest_energy_and_no_magnetisation() {
        let v = Array2::from_shape_fn((3, 16), |(_, k)| ((k / 4 + k % 4) % 2) as f64);
        let o = observables(v.view(), 4, 1.0).unwrap();
        assert_eq!(o.energy.0, 2.0);
        assert_eq!(o.abs_magnetization.0, 0.0);
    }

    #[test]
    fn bad_rows_are_typed_errors() {
        let e = observables(Array2::zeros((3, 15)).view(), 4, 1.0).unwrap_err();
        assert!(
            matches!(
                e,
                RbmError::WidthMismatch {
                    expected: 16,
                    found: 15,
                    ..
                }
            ),
            "{e}"
        );
        let mut v = Array2::zeros((3, 16));
        v[[2, 5]] = 0.5;
        let e = observables(v.view(), 4, 1.0).unwrap_err();
        assert!(matches!(e, RbmError::NotBinary { row: 2, column: 5, .. }), "{e}");
    }
}
