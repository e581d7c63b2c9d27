//! Target densities p(x) = e^{−u(x)} / Z of a Boltzmann generator, given by their energy u and
//! its gradient on the host in f64, so that any physical energy can be one: bgflow's double
//! well, normflows' TwoModes, or a simulated Hamiltonian at a temperature (the canonical
//! ensemble of its phase space). The flow sees u through [`traced_energy`], which puts β·u(x) on
//! the tape with the exact VJP ∂(βu)/∂x = β∇u(x).

use liouville_integrate::field::Hamiltonian;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::shapes::{Matrix, Vector};
use liouville_tensor::tape::Threaded;
use liouville_tensor::{Real, TensorError, host};
use ndarray::{Array1, Array2, ArrayView2, Axis, s};

/// An energy u: ℝⁿ → ℝ of a target density p ∝ e^{−u}, evaluated on rows.
pub trait TargetEnergy: Sync {
    /// n.
    fn dim(&self) -> usize;
    /// u(x) of every row of `x` (`[rows, n]`).
    fn energy(&self, x: ArrayView2<f64>) -> Array1<f64>;
    /// ∇u(x) of every row.
    fn gradient(&self, x: ArrayView2<f64>) -> Array2<f64>;
}

/// bgflow's double well on the first coordinate, harmonic in the others:
///
/// u(x) = a x₀ + b x₀² + c x₀⁴ + ½ Σ_{i ≥ 1} x_i²
///
/// (`DoubleWellEnergy`; with a = 0, b = −4, c = 1 in two dimensions, [`DoubleWell::bgflow`], the
/// wells at x₀ = ±√2 are 4 kT deep and ln Z = 5.21194).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DoubleWell {
    /// Dimension n ≥ 1.
    pub dim: usize,
    /// Linear coefficient a (tilts the wells).
    pub a: f64,
    /// Quadratic coefficient b (negative for two wells).
    pub b: f64,
    /// Quartic coefficient c > 0.
    pub c: f64,
}

impl DoubleWell {
    /// u = x⁴ − 4x² + y²/2 (bgflow's example).
    pub fn bgflow() -> Self {
        Self {
            dim: 2,
            a: 0.0,
            b: -4.0,
            c: 1.0,
        }
    }

    /// Checks the coefficients: finite, c > 0, n ≥ 1.
    pub fn validate(&self) -> Result<(), TensorError> {
        let finite = [self.a, self.b, self.c].iter().all(|v| v.is_finite());
        if self.dim == 0 || !finite || self.c <= 0.0 {
            return Err(TensorError::InvalidConfig(format!(
                "double well of dimension {} with a = {}, b = {}, c = {} (needs n ≥ 1 and a finite c > 0)",
                self.dim, self.a, self.b, self.c
            )));
        }
        Ok(())
    }

    /// The one-dimensional well's ∫ f(x) e^{−(ax + bx² + cx⁴)} dx by composite Simpson quadrature
    /// over the range where the integrand is above e^{−60} of its peak.
    fn well_integral(&self, f: impl Fn(f64) -> f64) -> f64 {
        let u = |x: f64| self.a * x + self.b * x * x + self.c * x.powi(4);
        // Beyond |x| = L the integrand is below e^{−60} of its peak: u(±L) exceeds the lower
        // bound −b²/4c − |a|L of min u by more than 60.
        let mut half_width: f64 = 1.0;
        while self.c * half_width.powi(4) - self.b.abs() * half_width.powi(2) - 2.0 * self.a.abs() * half_width
            < 60.0 + self.b * self.b / (4.0 * self.c)
        {
            half_width *= 1.1;
        }
        let n = 20_000;
        let h = 2.0 * half_width / n as f64;
        let u_min = (0..=n)
            .map(|k| u(-half_width + k as f64 * h))
            .fold(f64::INFINITY, f64::min);
        let total: f64 = (0..=n)
            .map(|k| {
                let x = -half_width + k as f64 * h;
                let w = if k == 0 || k == n {
                    1.0
                } else if k % 2 == 1 {
                    4.0
                } else {
                    2.0
                };
                w * f(x) * (-(u(x) - u_min)).exp()
            })
            .sum();
        total * h / 3.0 * (-u_min).exp()
    }

    /// ln Z = ln ∫ e^{−u} dx: the double well by quadrature times (2π)^{(n−1)/2}.
    pub fn log_partition(&self) -> f64 {
        self.well_integral(|_| 1.0).ln() + 0.5 * (self.dim as f64 - 1.0) * (2.0 * std::f64::consts::PI).ln()
    }

    /// P(x₀ > 0) under p, by quadrature (½ when a = 0).
    pub fn probability_positive(&self) -> f64 {
        self.well_integral(|x| {
            if x > 0.0 {
                1.0
            } else if x == 0.0 {
                0.5
            } else {
                0.0
            }
        }) / self.well_integral(|_| 1.0)
    }

    /// ⟨u⟩ under p, by quadrature (each harmonic coordinate adds ½).
    pub fn mean_energy(&self) -> f64 {
        let u = |x: f64| self.a * x + self.b * x * x + self.c * x.powi(4);
        self.well_integral(u) / self.well_integral(|_| 1.0) + 0.5 * (self.dim as f64 - 1.0)
    }
}

impl TargetEnergy for DoubleWell {
    fn dim(&self) -> usize {
        self.dim
    }
    fn energy(&self, x: ArrayView2<f64>) -> Array1<f64> {
        x.rows()
            .into_iter()
            .map(|r| {
                let x0 = r[0];
                let rest: f64 = r.iter().skip(1).map(|v| 0.5 * v * v).sum();
                self.a * x0 + self.b * x0 * x0 + self.c * x0.powi(4) + rest
            })
            .collect()
    }
    fn gradient(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let mut g = x.to_owned();
        g.column_mut(0)
            .mapv_inplace(|x0| self.a + 2.0 * self.b * x0 + 4.0 * self.c * x0.powi(3));
        g
    }
}

/// normflows' `TwoModes(loc, scale)`: a ring of radius `loc` cut into two arcs at x₀ = ±loc,
///
/// −u(x) = −½((‖x‖ − l)/(2s))² − ½((|x₀| − l)/(3s))² + ln(1 + e^{−2|x₀| l/(3s)²}),
///
/// the last two terms being ln(e^{−½((x₀−l)/3s)²} + e^{−½((x₀+l)/3s)²}) − ½((|x₀| − l)/3s)² + … in a
/// form that cannot overflow. normflows' examples use l = 2, s = 0.1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwoModes {
    /// Ring radius and mode position l.
    pub loc: f64,
    /// Width s.
    pub scale: f64,
}

impl TwoModes {
    fn terms(&self, x0: f64, x1: f64) -> (f64, [f64; 2]) {
        let (l, s) = (self.loc, self.scale);
        let r = (x0 * x0 + x1 * x1).sqrt();
        let (radial_w, arc_w) = (2.0 * s, 3.0 * s);
        let a = x0.abs();
        let k = 2.0 * l / (arc_w * arc_w);
        // ln(1 + e^{−k a}) = softplus(−k a), d/da = −k σ(−k a).
        let mix = (-k * a).exp().ln_1p();
        let u = 0.5 * ((r - l) / radial_w).powi(2) + 0.5 * ((a - l) / arc_w).powi(2) - mix;
        let d_r = (r - l) / (radial_w * radial_w);
        let d_a = (a - l) / (arc_w * arc_w) + k / (1.0 + (k * a).exp());
        let (rx0, rx1) = if r > 0.0 { (x0 / r, x1 / r) } else { (0.0, 0.0) };
        (u, [d_r * rx0 + d_a * x0.signum(), d_r * rx1])
    }
}

impl TargetEnergy for TwoModes {
    fn dim(&self) -> usize {
        2
    }
    fn energy(&self, x: ArrayView2<f64>) -> Array1<f64> {
        x.rows().into_iter().map(|r| self.terms(r[0], r[1]).0).collect()
    }
    fn gradient(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let mut g = Array2::zeros(x.raw_dim());
        for (mut out, r) in g.rows_mut().into_iter().zip(x.rows()) {
            let (_, d) = self.terms(r[0], r[1]);
            out[0] = d[0];
            out[1] = d[1];
        }
        g
    }
}

/// The canonical ensemble of a Hamiltonian system at temperature T: on rows x = [q, p],
/// u(x) = H(q, p) / T (k_B = 1), so a flow trained on it samples phase space at equilibrium.
#[derive(Debug, Clone)]
pub struct Canonical<H: Hamiltonian> {
    /// The system.
    pub system: H,
    /// Temperature T > 0.
    pub temperature: f64,
}

impl<H: Hamiltonian> Canonical<H> {
    /// Checks T.
    pub fn new(system: H, temperature: f64) -> Result<Self, TensorError> {
        if !(temperature.is_finite() && temperature > 0.0) {
            return Err(TensorError::InvalidConfig(format!(
                "temperature {temperature} must be finite and positive"
            )));
        }
        Ok(Self { system, temperature })
    }
}

impl<H: Hamiltonian> TargetEnergy for Canonical<H> {
    fn dim(&self) -> usize {
        2 * self.system.dof()
    }
    fn energy(&self, x: ArrayView2<f64>) -> Array1<f64> {
        let d = self.system.dof();
        let mut out = Array1::zeros(x.nrows());
        self.system
            .energy(x.slice(s![.., ..d]), x.slice(s![.., d..]), out.view_mut());
        out / self.temperature
    }
    fn gradient(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let d = self.system.dof();
        let (q, p) = (x.slice(s![.., ..d]), x.slice(s![.., d..]));
        let mut g = Array2::zeros(x.raw_dim());
        self.system.dh_dq(q, p, g.slice_mut(s![.., ..d]));
        self.system.dh_dp(q, p, g.slice_mut(s![.., d..]));
        g / self.temperature
    }
}

/// The rows of a device matrix as a host array.
pub fn host_rows<E: Real, D: Device<E>>(x: &Matrix<E, D>) -> Array2<f64> {
    let (rows, width) = *x.shape();
    Array2::from_shape_vec((rows, width), host::values(x)).expect("row-major matrix")
}

/// β·u(x) of every row of `x`, recorded on `tp` with the VJP β∇u(x), and u(x) on the host.
///
/// The traced value is Σ_i x_i g_i + (βu − Σ_i x_i g_i) with g = β∇u(x) a constant: equal to βu
/// up to round-off, with gradient g. A width that is not the target's is a typed error.
pub fn traced_energy<E: Real, D: Device<E>, T: Tape<E, D> + Merge<T>>(
    tp: &mut Threaded<T>,
    x: &Matrix<E, D>,
    target: &dyn TargetEnergy,
    beta: f64,
) -> Result<(Vector<E, D>, Array1<f64>), TensorError> {
    let (rows, width) = *x.shape();
    if width != target.dim() {
        return Err(TensorError::ShapeMismatch(format!(
            "rows of width {width} for a target energy of dimension {}",
            target.dim()
        )));
    }
    let xs = host_rows(x);
    let u = target.energy(xs.view());
    let g = target.gradient(xs.view()) * beta;
    let offset = &u * beta - (&xs * &g).sum_axis(Axis(1));
    let device = x.device().clone();
    let g = host::matrix(&device, g.iter().copied(), rows, width);
    let offset = host::vector(&device, offset.iter().copied());
    let value =
        tp.step(|t| (x.clone().put_tape(t) * g).sum::<(usize,), liouville_tensor::dfdx::shapes::Axis<1>>() + offset);
    Ok((value, u))
}

#[cfg(test)]
mod tests {
    use super::*;
    use liouville_sim::systems::pendulum::Pendulum;
    use ndarray::array;

    fn gradient_matches_differences(target: &dyn TargetEnergy, x: Array2<f64>) {
        let g = target.gradient(x.view());
        let eps = 1e-6;
        for r in 0..x.nrows() {
            for i in 0..x.ncols() {
                let (mut plus, mut minus) = (x.clone(), x.clone());
                plus[[r, i]] += eps;
                minus[[r, i]] -= eps;
                let fd = (target.energy(plus.view())[r] - target.energy(minus.view())[r]) / (2.0 * eps);
                assert!(
                    (g[[r, i]] - fd).abs() < 1e-6 * (1.0 + fd.abs()),
                    "row {r}, coordinate {i}: {} vs {fd}",
                    g[[r, i]]
                );
            }
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        let x = array![[1.3, -0.4], [-0.2, 2.1], [0.05, -1.7]];
        gradient_matches_differences(&DoubleWell::bgflow(), x.clone());
        let tilted = DoubleWell {
            dim: 3,
            a: 0.7,
            b: -2.0,
            c: 0.5,
        };
        gradient_matches_differences(&tilted, array![[0.4, 1.0, -2.0], [-1.1, 0.3, 0.2]]);
        gradient_matches_differences(&TwoModes { loc: 2.0, scale: 0.1 }, x.clone() * 1.5);
        let pendulum = Canonical::new(Pendulum::new(1.3, 0.8, 9.81).unwrap(), 0.7).unwrap();
        gradient_matches_differences(&pendulum, x);
    }

    #[test]
    fn the_double_well_matches_its_reference_values() {
        // ../shared/reference: ln Z = 5.21194, ⟨u⟩ = −2.921, P(x > 0) = ½.
        let dw = DoubleWell::bgflow();
        assert!((dw.log_partition() - 5.21194).abs() < 1e-5, "{}", dw.log_partition());
        assert!((dw.mean_energy() + 2.921).abs() < 1e-3, "{}", dw.mean_energy());
        assert!((dw.probability_positive() - 0.5).abs() < 1e-9);
        // A tilt moves probability to the lower well: 0.211138 by an independent 200,001-point
        // Riemann sum over [−4, 4] (the logistic two-state estimate 1/(1 + e^{2a√2}) is 0.196).
        let tilted = DoubleWell { a: 0.5, ..dw };
        assert!(
            (tilted.probability_positive() - 0.211138).abs() < 1e-5,
            "{}",
            tilted.probability_positive()
        );
        assert!(DoubleWell { c: 0.0, ..dw }.validate().is_err());
    }

    #[test]
    fn canonical_energies_are_hamiltonians_over_temperature() {
        let p = Pendulum::new(1.0, 1.0, 9.81).unwrap();
        let c = Canonical::new(p, 2.0).unwrap();
        let u = c.energy(array![[0.0, 1.0]].view());
        // H = p²/2ml² + mgl(1 − cos q).
        assert!((u[0] - 0.5 / 2.0).abs() < 1e-12, "{u}");
        assert!(Canonical::new(p, 0.0).is_err());
        assert!(Canonical::new(p, f64::NAN).is_err());
    }
}
