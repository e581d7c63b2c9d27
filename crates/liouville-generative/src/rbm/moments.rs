//! The log-likelihood gradient of an RBM as a difference of moments
//!
//! −∂ ln p(v)/∂W = ⟨v hᵀ⟩_model − v p(h|v)ᵀ,   −∂ ln p(v)/∂a = ⟨v⟩_model − v,
//! −∂ ln p(v)/∂b = ⟨h⟩_model − p(h|v)
//!
//! (Hinton 2002; Fischer & Igel 2014, eq. 28–30). The data term is exact; the model term is
//! exact by enumeration for small RBMs ([`super::partition::exact_model_moments`]) and estimated
//! from Gibbs samples by CD-k and persistent CD ([`super::train`]). Hidden units enter through
//! their probabilities, not samples (Rao–Blackwellised, as in Hinton's guide §3 and QuCumber).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use super::weights::RbmWeights;

/// ⟨v hᵀ⟩, ⟨v⟩, ⟨h⟩ under some distribution of visible rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Moments {
    /// ⟨v hᵀ⟩ `[visible, hidden]`.
    pub vh: Array2<f64>,
    /// ⟨v⟩.
    pub v: Array1<f64>,
    /// ⟨h⟩.
    pub h: Array1<f64>,
}

impl Moments {
    /// Moments of the rows of `v` weighted by `weights` (summing to 1), with h replaced by
    /// p(h | v). Uniform weights when `None`.
    pub fn of_visible(rbm: &RbmWeights, v: ArrayView2<f64>, weights: Option<ArrayView1<f64>>) -> Self {
        let p_h = rbm.hidden_probabilities(v);
        let uniform;
        let w = match weights {
            Some(w) => w,
            None => {
                uniform = Array1::from_elem(v.nrows(), 1.0 / v.nrows() as f64);
                uniform.view()
            }
        };
        let weighted = &v * &w.view().insert_axis(Axis(1));
        Self {
            vh: weighted.t().dot(&p_h),
            v: weighted.sum_axis(Axis(0)),
            h: p_h.t().dot(&w),
        }
    }

    /// Moments from hidden rows `h` weighted by p(h) (summing to 1), with v replaced by
    /// p(v | h): the enumeration of the hidden layer when it is the smaller one.
    pub fn of_hidden(rbm: &RbmWeights, h: ArrayView2<f64>, weights: ArrayView1<f64>) -> Self {
        let p_v = rbm.visible_probabilities(h);
        let weighted = &h * &weights.insert_axis(Axis(1));
        Self {
            vh: p_v.t().dot(&weighted),
            v: p_v.t().dot(&weights),
            h: weighted.sum_axis(Axis(0)),
        }
    }
}

/// The gradient of the mean negative log-likelihood with respect to (W, a, b), in the order
/// and layout of [`super::Rbm`]'s parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct RbmGradient {
    /// ∂/∂W.
    pub w: Array2<f64>,
    /// ∂/∂a.
    pub a: Array1<f64>,
    /// ∂/∂b.
    pub b: Array1<f64>,
}

impl RbmGradient {
    /// ⟨·⟩_model − ⟨·⟩_data.
    pub fn from_moments(model: &Moments, data: &Moments) -> Self {
        Self {
            w: &model.vh - &data.vh,
            a: &model.v - &data.v,
            b: &model.h - &data.h,
        }
    }

    /// The centred gradient (Montavon & Müller 2012; Melchior, Fischer & Wiskott 2016, eq. 8–10)
    /// expressed as a step of the ordinary parameters. The centred energy
    /// E = −(v − μ)ᵀW(h − λ) − a_cᵀv − b_cᵀh is the ordinary one with a = a_c − Wλ and
    /// b = b_c − Wᵀμ (up to a constant), so a gradient step in (W, a_c, b_c) moves the ordinary
    /// parameters by
    ///
    /// g_W = ⟨(v−μ)(h−λ)ᵀ⟩_model − ⟨(v−μ)(h−λ)ᵀ⟩_data,  g_a = Δ⟨v⟩ − g_W λ,  g_b = Δ⟨h⟩ − g_Wᵀ μ
    ///
    /// (Δ = model − data). With μ the data mean the W step no longer carries the mean terms
    /// μ⟨h⟩ᵀ, which on spin data (μ ≈ ½) dominate it and make plain CD converge slowly. With μ = λ =
    /// 0 this is [`RbmGradient::from_moments`].
    pub fn centred(model: &Moments, data: &Moments, mu: &Array1<f64>, lambda: &Array1<f64>) -> Self {
        let dv = &model.v - &data.v;
        let dh = &model.h - &data.h;
        // ⟨(v−μ)(h−λ)ᵀ⟩ = ⟨vhᵀ⟩ − μ⟨h⟩ᵀ − ⟨v⟩λᵀ + μλᵀ; the last term cancels in the difference.
        // Row by row over contiguous rows: this runs after every minibatch.
        let mut w = &model.vh - &data.vh;
        for (i, mut row) in w.rows_mut().into_iter().enumerate() {
            let (mu_i, dv_i) = (mu[i], dv[i]);
            row.zip_mut_with(&dh, |x, &dh_j| *x -= mu_i * dh_j);
            row.zip_mut_with(lambda, |x, &lambda_j| *x -= dv_i * lambda_j);
        }
        let a = &dv - &w.dot(lambda);
        let b = &dh - &w.t().dot(mu);
        Self { w, a, b }
    }

    /// Euclidean norm over all parameters.
    pub fn norm(&self) -> f64 {
        self.w
            .iter()
            .chain(&self.a)
            .chain(&self.b)
            .map(|g| g * g)
            .sum::<f64>()
            .sqrt()
    }

    /// The first non-finite entry, named.
    pub fn first_non_finite(&self) -> Option<String> {
        if let Some(((i, j), g)) = self.w.indexed_iter().find(|(_, g)| !g.is_finite()) {
            return Some(format!("gradient of W[{i}, {j}] is {g}"));
        }
        if let Some((i, g)) = self.a.indexed_iter().find(|(_, g)| !g.is_finite()) {
            return Some(format!("gradient of a[{i}] is {g}"));
        }
        self.b
            .indexed_iter()
            .find(|(_, g)| !g.is_finite())
            .map(|(j, g)| format!("gradient of b[{j}] is {g}"))
    }

    /// One host vector per parameter (W row-major, a, b): the input of
    /// `Trainer::apply_external`.
    pub fn parameter_vectors<E: liouville_tensor::Real>(&self) -> Vec<Vec<E>> {
        let of = |g: &f64| E::of(*g);
        vec![
            self.w.iter().map(of).collect(),
            self.a.iter().map(of).collect(),
            self.b.iter().map(of).collect(),
        ]
    }
}
