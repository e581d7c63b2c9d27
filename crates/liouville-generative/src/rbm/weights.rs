//! The host (f64) form of an RBM and its closed-form conditionals. Binary visible units:
//!
//! E(v, h) = −aᵀv − bᵀh − vᵀWh,   v ∈ {0,1}ⁿᵛ, h ∈ {0,1}ⁿʰ,
//! p(h_j = 1 | v) = σ(b_j + (vW)_j),   p(v_i = 1 | h) = σ(a_i + (Wh)_i),
//! F(v) = −ln Σ_h e^{−E(v,h)} = −aᵀv − Σ_j softplus(b_j + (vW)_j)
//!
//! (Hinton 2002; Hinton 2010, "A practical guide to training RBMs"). Gaussian visible units of
//! unit variance (Hinton 2010 §13.2; Cho, Ilin & Raiko 2011 with σ = 1):
//!
//! E(v, h) = ½‖v − a‖² − bᵀh − vᵀWh,   v ∈ ℝⁿᵛ,   p(v | h) = N(a + Wh, I),
//! F(v) = ½‖v − a‖² − Σ_j softplus(b_j + (vW)_j),
//! G(h) = −ln ∫ e^{−E(v,h)} dv = −bᵀh − aᵀWh − ½‖Wh‖² − (n_v/2) ln 2π.
//!
//! The free energy is the central function: ln p(v) = −F(v) − ln Z. Rows are configurations;
//! every product is one `ndarray` matrix product over a block of rows.

use liouville_tensor::host_product::{Operand, multiply_into};
use liouville_tensor::vector_math::{FusedActivation, VectorMath};
use ndarray::{Array1, Array2, ArrayBase, ArrayView2, Axis, Data, DataMut, Ix2};
use serde::{Deserialize, Serialize};

use super::RbmError;

/// σ(x) = 1 / (1 + e^{−x}).
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// softplus(x) = ln(1 + eˣ), without overflow: max(x, 0) + ln(1 + e^{−|x|}).
pub fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// σ of every entry, through tensor's vectorised kernel (within 3 ulp of libm's formula; a
/// third of a Gibbs step's time with scalar `exp`).
pub fn sigmoid_array(x: Array2<f64>) -> Array2<f64> {
    let mut x = x.as_standard_layout().into_owned();
    let pre = x.as_slice().expect("standard layout").to_vec();
    let mut basis = vec![0.0; pre.len()];
    let value = x.as_slice_mut().expect("standard layout");
    <f64 as VectorMath>::activate_into(FusedActivation::Sigmoid, &pre, value, &mut basis);
    x
}

/// The row-major values of a standard-layout matrix.
fn standard<S: Data<Elem = f64>>(x: &ArrayBase<S, Ix2>) -> &[f64] {
    x.as_slice().expect("a standard-layout matrix")
}

/// The row-major values of a standard-layout matrix, writable.
fn standard_mut<S: DataMut<Elem = f64>>(x: &mut ArrayBase<S, Ix2>) -> &mut [f64] {
    x.as_slice_mut().expect("a standard-layout matrix")
}

/// What the visible units are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum VisibleUnits {
    /// v ∈ {0, 1}.
    #[default]
    Binary,
    /// v ∈ ℝ, Gaussian of unit variance given h (standardise the data first).
    Gaussian,
}

/// W `[visible, hidden]`, a `[visible]`, b `[hidden]` in f64, and the kind of visible units.
#[derive(Debug, Clone, PartialEq)]
pub struct RbmWeights {
    /// Couplings W.
    pub w: Array2<f64>,
    /// Visible biases a (the Gaussian's offset for Gaussian units).
    pub a: Array1<f64>,
    /// Hidden biases b.
    pub b: Array1<f64>,
    /// The visible units.
    pub units: VisibleUnits,
}

/// ½ ln 2π.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

impl RbmWeights {
    /// Checks that the shapes agree and every value is finite.
    pub fn new(w: Array2<f64>, a: Array1<f64>, b: Array1<f64>) -> Result<Self, RbmError> {
        let (nv, nh) = w.dim();
        if nv == 0 || nh == 0 {
            return Err(RbmError::InvalidConfig(format!("an RBM of {nv} × {nh} units")));
        }
        if a.len() != nv {
            return Err(RbmError::WidthMismatch {
                what: "visible bias",
                expected: nv,
                found: a.len(),
            });
        }
        if b.len() != nh {
            return Err(RbmError::WidthMismatch {
                what: "hidden bias",
                expected: nh,
                found: b.len(),
            });
        }
        // The vectorisable test first (this runs before every minibatch); the search that names
        // the bad value only when it fails.
        let finite = |x: &f64| x.is_finite();
        if !(w.iter().all(finite) && a.iter().all(finite) && b.iter().all(finite)) {
            if let Some(((i, j), &v)) = w.indexed_iter().find(|(_, v)| !v.is_finite()) {
                return Err(RbmError::NonFinite {
                    row: i,
                    column: j,
                    value: v,
                });
            }
            for (row, x) in [(nv, &a), (nv + 1, &b)] {
                if let Some((j, &v)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
                    return Err(RbmError::NonFinite {
                        row,
                        column: j,
                        value: v,
                    });
                }
            }
        }
        Ok(Self {
            // Row-major, so that the products read W in place.
            w: if w.is_standard_layout() {
                w
            } else {
                w.as_standard_layout().into_owned()
            },
            a,
            b,
            units: VisibleUnits::Binary,
        })
    }

    /// The same parameters with `units` visible units.
    pub fn with_units(mut self, units: VisibleUnits) -> Self {
        self.units = units;
        self
    }

    /// Visible units.
    pub fn visible(&self) -> usize {
        self.w.nrows()
    }

    /// Hidden units.
    pub fn hidden(&self) -> usize {
        self.w.ncols()
    }

    /// Pre-activations of the hidden layer, b + vW, one row per configuration.
    pub fn hidden_input(&self, v: ArrayView2<f64>) -> Array2<f64> {
        let v = v.as_standard_layout();
        let mut out = Array2::zeros((v.nrows(), self.hidden()));
        self.hidden_input_into(standard(&v), v.nrows(), standard_mut(&mut out));
        out
    }

    /// Pre-activations of the visible layer, a + hWᵀ.
    pub fn visible_input(&self, h: ArrayView2<f64>) -> Array2<f64> {
        let h = h.as_standard_layout();
        let mut out = Array2::zeros((h.nrows(), self.visible()));
        self.visible_input_into(standard(&h), h.nrows(), standard_mut(&mut out));
        out
    }

    /// b + vW of `rows` row-major visible rows `v` into `out` (`rows × hidden`), without
    /// allocating when W is in standard layout (as [`RbmWeights::new`] leaves it).
    pub fn hidden_input_into(&self, v: &[f64], rows: usize, out: &mut [f64]) {
        self.affine_into(v, rows, false, out);
    }

    /// a + hWᵀ of `rows` row-major hidden rows `h` into `out` (`rows × visible`).
    pub fn visible_input_into(&self, h: &[f64], rows: usize, out: &mut [f64]) {
        self.affine_into(h, rows, true, out);
    }

    /// bias + x·W (x·Wᵀ with `transpose`), bias broadcast over the rows, through tensor's host
    /// product (gemm 0.19; half of `matrixmultiply`'s time at a Gibbs block's size).
    fn affine_into(&self, x: &[f64], rows: usize, transpose: bool, out: &mut [f64]) {
        let (nv, nh) = self.w.dim();
        let (width_in, bias) = match transpose {
            false => (nv, &self.b),
            true => (nh, &self.a),
        };
        let bias = bias.as_slice().expect("a bias vector is contiguous");
        assert!(
            x.len() == rows * width_in && out.len() == rows * bias.len(),
            "affine_into: {rows} rows of {} inputs into {} outputs for a {nv} × {nh} RBM",
            x.len(),
            out.len()
        );
        for row in out.chunks_exact_mut(bias.len()) {
            row.copy_from_slice(bias);
        }
        let w = self.w.as_standard_layout();
        let w = Operand::new(standard(&w), nv, nh).expect("W holds visible × hidden values");
        let x = Operand::new(x, rows, width_in).expect("checked above");
        multiply_into(1.0, out, 1.0, x, if transpose { w.t() } else { w }).expect("shapes checked above");
    }

    /// p(h = 1 | v) for every row of `v`.
    pub fn hidden_probabilities(&self, v: ArrayView2<f64>) -> Array2<f64> {
        sigmoid_array(self.hidden_input(v))
    }

    /// E[v | h] for every row of `h`: p(v = 1 | h) = σ(a + Wh) for binary units, the mean
    /// a + Wh for Gaussian ones.
    pub fn visible_probabilities(&self, h: ArrayView2<f64>) -> Array2<f64> {
        match self.units {
            VisibleUnits::Binary => sigmoid_array(self.visible_input(h)),
            VisibleUnits::Gaussian => self.visible_input(h),
        }
    }

    /// The visible layer's own energy term: −aᵀv (binary) or ½‖v − a‖² (Gaussian), per row.
    fn visible_energy(&self, v: ArrayView2<f64>) -> Array1<f64> {
        match self.units {
            VisibleUnits::Binary => -v.dot(&self.a),
            VisibleUnits::Gaussian => (&v - &self.a).mapv(|d| 0.5 * d * d).sum_axis(Axis(1)),
        }
    }

    /// F(v) = −aᵀv − Σ_j softplus(b_j + (vW)_j) of every row (½‖v − a‖² in place of −aᵀv for
    /// Gaussian units).
    pub fn free_energy(&self, v: ArrayView2<f64>) -> Array1<f64> {
        let hidden = self.hidden_input(v).mapv_into(softplus).sum_axis(Axis(1));
        self.visible_energy(v) - hidden
    }

    /// The free energy of the hidden layer, G(h) = −bᵀh − Σ_i softplus(a_i + (Wh)_i) (binary)
    /// or −bᵀh − aᵀWh − ½‖Wh‖² − (n_v/2) ln 2π (Gaussian), so that p(h) = e^{−G(h)} / Z: the
    /// same Z, summed (integrated) over the other layer.
    pub fn hidden_free_energy(&self, h: ArrayView2<f64>) -> Array1<f64> {
        match self.units {
            VisibleUnits::Binary => {
                let visible = self.visible_input(h).mapv_into(softplus).sum_axis(Axis(1));
                -(h.dot(&self.b) + visible)
            }
            VisibleUnits::Gaussian => {
                let wh = h.dot(&self.w.t());
                let square = wh.mapv(|x| 0.5 * x * x).sum_axis(Axis(1));
                -(h.dot(&self.b) + wh.dot(&self.a) + square) - self.visible() as f64 * HALF_LN_2PI
            }
        }
    }

    /// Energy E(v, h) of paired rows.
    pub fn energy(&self, v: ArrayView2<f64>, h: ArrayView2<f64>) -> Array1<f64> {
        let coupling = (&v.dot(&self.w) * &h).sum_axis(Axis(1));
        self.visible_energy(v) - (h.dot(&self.b) + coupling)
    }

    /// Checks that `v` has this RBM's visible width and only finite values.
    pub fn check_visible(&self, v: ArrayView2<f64>, what: &'static str) -> Result<(), RbmError> {
        if v.ncols() != self.visible() {
            return Err(RbmError::WidthMismatch {
                what,
                expected: self.visible(),
                found: v.ncols(),
            });
        }
        if let Some(((row, column), &value)) = v.indexed_iter().find(|(_, x)| !x.is_finite()) {
            return Err(RbmError::NonFinite { row, column, value });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn small() -> RbmWeights {
        RbmWeights::new(
            array![[0.5, -1.0], [2.0, 0.3], [-0.7, 0.1]],
            array![0.2, -0.4, 0.9],
            array![-0.3, 0.6],
        )
        .unwrap()
    }

    #[test]
    fn free_energy_is_minus_log_sum_over_hidden_states() {
        let m = small();
        let v = array![[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]];
        let f = m.free_energy(v.view());
        for (r, row) in v.rows().into_iter().enumerate() {
            let mut total = 0.0;
            for code in 0..4u32 {
                let h = array![[(code & 1) as f64, (code >> 1 & 1) as f64]];
                let vr = row.to_owned().insert_axis(Axis(0));
                total += (-m.energy(vr.view(), h.view())[0]).exp();
            }
            assert!(
                (f[r] + total.ln()).abs() < 1e-13,
                "row {r}: {} vs {}",
                f[r],
                -total.ln()
            );
        }
    }

    #[test]
    fn conditionals_are_ratios_of_joint_probabilities() {
        // p(h_j = 1 | v) = e^{−E(v, h with h_j=1)} / Σ_{h_j} e^{−E}: checked for h_0 with h_1 = 0.
        let m = small();
        let v = array![[1.0, 1.0, 0.0]];
        let e1 = m.energy(v.view(), array![[1.0, 0.0]].view())[0];
        let e0 = m.energy(v.view(), array![[0.0, 0.0]].view())[0];
        let expected = (-e1).exp() / ((-e1).exp() + (-e0).exp());
        assert!((m.hidden_probabilities(v.view())[[0, 0]] - expected).abs() < 1e-15);
        let h = array![[0.0, 1.0]];
        let e1 = m.energy(array![[0.0, 1.0, 0.0]].view(), h.view())[0];
        let e0 = m.energy(array![[0.0, 0.0, 0.0]].view(), h.view())[0];
        let expected = (-e1).exp() / ((-e1).exp() + (-e0).exp());
        assert!((m.visible_probabilities(h.view())[[0, 1]] - expected).abs() < 1e-15);
    }

    #[test]
    fn softplus_is_stable_and_accurate() {
        assert_eq!(softplus(1000.0), 1000.0);
        assert_eq!(softplus(-1000.0), 0.0);
        for x in [-30.0, -1.0, 0.0, 0.5, 20.0] {
            assert!((softplus(x) - (1.0f64 + f64::exp(x)).ln()).abs() < 1e-14 * (1.0 + x.abs()));
        }
    }

    #[test]
    fn bad_weights_are_typed_errors() {
        let e = RbmWeights::new(Array2::zeros((3, 2)), Array1::zeros(2), Array1::zeros(2)).unwrap_err();
        assert!(
            matches!(
                e,
                RbmError::WidthMismatch {
                    expected: 3,
                    found: 2,
                    ..
                }
            ),
            "{e}"
        );
        let mut w = Array2::zeros((3, 2));
        w[[1, 1]] = f64::NAN;
        let e = RbmWeights::new(w, Array1::zeros(3), Array1::zeros(2)).unwrap_err();
        assert!(matches!(e, RbmError::NonFinite { row: 1, column: 1, .. }), "{e}");
    }
}
