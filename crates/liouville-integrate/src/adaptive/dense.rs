//! Dense output: the interpolant of one accepted step, built only on steps that need it (an event
//! sign change or a requested output time inside the step).

use super::AdaptiveMethod;
use super::storage::Storage;
use super::tableau;

/// Interpolant of one accepted step; its buffers are allocated once per solve and refilled.
pub(crate) struct Dense<S> {
    method: AdaptiveMethod,
    t_old: f64,
    h: f64,
    y_old: S,
    coeffs: Vec<S>,
}

impl<S: Storage> Dense<S> {
    /// Buffers shaped like `like`: 4 coefficient vectors for Dopri5, 7 for DOP853.
    pub(crate) fn new(method: AdaptiveMethod, like: &S) -> Self {
        let count = match method {
            AdaptiveMethod::Dopri5 => 4,
            AdaptiveMethod::Dop853 => 7,
        };
        Self {
            method,
            t_old: 0.0,
            h: 0.0,
            y_old: like.zeros_like(),
            coeffs: vec![like.zeros_like(); count],
        }
    }

    /// Dopri5 (Shampine 1986): Qᵣ = Σⱼ Pⱼᵣ kⱼ, so that y(t + θh) = y + h Σᵣ Qᵣ θ^{r+1}.
    pub(crate) fn fill_dopri5(&mut self, t: f64, h: f64, y: &S, k: &[S]) {
        self.start(t, h, y);
        for (r, q) in self.coeffs.iter_mut().enumerate() {
            for (i, qi) in q.flat_mut().iter_mut().enumerate() {
                *qi = (0..7).map(|s| tableau::dopri5::P[s][r] * k[s].flat()[i]).sum();
            }
        }
    }

    /// DOP853 (Hairer's CONTD8): F₀ = Δy, F₁ = hk₀ - Δy, F₂ = 2Δy - h(k₁₂ + k₀), F₃..F₆ from the
    /// rows of D over all 16 stages (the 3 extra ones already evaluated into `k`).
    pub(crate) fn fill_dop853(&mut self, t: f64, h: f64, y: &S, y_new: &S, k: &[S]) {
        use tableau::dop853::D;
        self.start(t, h, y);
        let (yf, ynf) = (y.flat(), y_new.flat());
        for i in 0..yf.len() {
            let dy = ynf[i] - yf[i];
            self.coeffs[0].flat_mut()[i] = dy;
            self.coeffs[1].flat_mut()[i] = h * k[0].flat()[i] - dy;
            self.coeffs[2].flat_mut()[i] = 2.0 * dy - h * (k[12].flat()[i] + k[0].flat()[i]);
            for r in 0..4 {
                self.coeffs[3 + r].flat_mut()[i] = h * D[r].iter().map(|&(s, d)| d * k[s].flat()[i]).sum::<f64>();
            }
        }
    }

    fn start(&mut self, t: f64, h: f64, y: &S) {
        self.t_old = t;
        self.h = h;
        self.y_old.flat_mut().copy_from_slice(y.flat());
    }

    /// Writes the interpolated state at `t` (inside the step) into `out`.
    pub(crate) fn eval(&self, t: f64, out: &mut S) {
        let x = (t - self.t_old) / self.h;
        let y_old = self.y_old.flat();
        match self.method {
            AdaptiveMethod::Dopri5 => {
                // y + h Σᵣ Qᵣ x^{r+1}, by Horner.
                for (i, o) in out.flat_mut().iter_mut().enumerate() {
                    let mut acc = 0.0;
                    for q in self.coeffs.iter().rev() {
                        acc = (acc + q.flat()[i]) * x;
                    }
                    *o = y_old[i] + self.h * acc;
                }
            }
            AdaptiveMethod::Dop853 => {
                // F₀ + (1-x)(F₁ + x(F₂ + (1-x)(F₃ + …))) multiplied by x, Hairer's CONTD8 form.
                for (i, o) in out.flat_mut().iter_mut().enumerate() {
                    let mut acc = 0.0;
                    for (k, f) in self.coeffs.iter().rev().enumerate() {
                        acc += f.flat()[i];
                        acc *= if k % 2 == 0 { x } else { 1.0 - x };
                    }
                    *o = y_old[i] + acc;
                }
            }
        }
    }
}
