//! Masked autoregressive flows (MAF, Papamakarios, Pavlakou & Murray 2017): each layer maps data x
//! to u with
//!
//! uᵢ = (xᵢ − μᵢ(x_{<i})) · exp(−αᵢ(x_{<i})),  log|det ∂u/∂x| = −Σᵢ αᵢ,
//!
//! where all μᵢ and αᵢ come from one pass of a MADE network (Germain et al. 2015): an MLP whose
//! weights are masked so that output i sees only inputs before i. Input j has degree j + 1,
//! hidden unit k degree (k mod (d − 1)) + 1; a hidden weight connects degrees m_out ≥ m_in, an
//! output weight m_out > m_in, so ∂u/∂x is triangular. Density evaluation (training) takes one
//! pass; sampling inverts coordinate by coordinate, d passes per layer (xᵢ = uᵢ e^{αᵢ} + μᵢ, each
//! pass fixing one more coordinate), traced so that it differentiates. αᵢ is soft-clamped as in
//! the affine coupling, α = c·tanh(α̂/c). Layers alternate with column reversals (nflows' MAF
//! example), and a fresh layer is the identity (last MADE layer zero).

use liouville_tensor::bijection::{Bijection, Transformed};
use liouville_tensor::columns;
use liouville_tensor::config::Configured;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::module::{Module, ParamMut, ParamRef, prefixed};
use liouville_tensor::shapes::{Matrix, Vector};
use liouville_tensor::tape::Threaded;
use liouville_tensor::train::Loss;
use liouville_tensor::{Activation, Init, Mlp, MlpConfig, Real, TensorError, host};
use serde::{Deserialize, Serialize};

use crate::flow::{NegativeLogLikelihood, standard_normal_log_prob, standard_normal_sample};
use crate::permutation::Permutation;

/// One MAF layer on rows of `dim` columns.
#[derive(Debug, Clone)]
pub struct MaskedAutoregressive<E: Real, D: Device<E>> {
    dim: usize,
    clamp: f64,
    /// MADE's parameters, `[dim] → hidden → [2·dim]` (μ, then α̂).
    made: Mlp<E, D>,
    /// One 0/1 mask per weight matrix, `[in, out]`.
    masks: Vec<Matrix<E, D>>,
}

/// MADE's degrees: inputs 1..=d, hidden units cycling through 1..=d−1, outputs (μ and α̂) 1..=d.
fn degree_masks(dim: usize, hidden: &[usize]) -> Vec<(Vec<f64>, usize, usize)> {
    let input: Vec<usize> = (1..=dim).collect();
    let mut previous = input;
    let mut masks = Vec::new();
    for &h in hidden {
        let degrees: Vec<usize> = (0..h).map(|k| k % (dim - 1).max(1) + 1).collect();
        let m = previous
            .iter()
            .flat_map(|&i| degrees.iter().map(move |&o| if o >= i { 1.0 } else { 0.0 }))
            .collect();
        masks.push((m, previous.len(), h));
        previous = degrees;
    }
    let outputs: Vec<usize> = (1..=dim).chain(1..=dim).collect();
    let m = previous
        .iter()
        .flat_map(|&i| outputs.iter().map(move |&o| if o > i { 1.0 } else { 0.0 }))
        .collect();
    masks.push((m, previous.len(), 2 * dim));
    masks
}

impl<E: Real, D: Device<E>> MaskedAutoregressive<E, D> {
    /// A layer on `dim ≥ 2` columns with MADE hidden widths `hidden` (tanh; each at least
    /// dim − 1 so that every degree is represented), soft clamp `clamp`, identity at the start.
    pub fn new(device: &D, dim: usize, hidden: &[usize], clamp: f64, seed: u64) -> Result<Self, TensorError> {
        if dim < 2 || !(clamp.is_finite() && clamp > 0.0) {
            return Err(TensorError::InvalidConfig(format!(
                "a MAF layer needs dim >= 2 and a finite positive clamp, got {dim}, {clamp}"
            )));
        }
        if hidden.is_empty() || hidden.iter().any(|&h| h + 1 < dim) {
            return Err(TensorError::InvalidConfig(format!(
                "MADE needs at least one hidden layer, each of at least dim − 1 = {} units, got {hidden:?}",
                dim - 1
            )));
        }
        let mut made = MlpConfig::new(dim, hidden, 2 * dim, Activation::Tanh, Init::Xavier).init(device, seed)?;
        let last = made.weights.len() - 1;
        made.weights[last] = device.zeros_like(made.weights[last].shape());
        let masks = degree_masks(dim, hidden)
            .into_iter()
            .map(|(m, rows, cols)| host::matrix(device, m, rows, cols))
            .collect();
        Ok(Self {
            dim,
            clamp,
            made,
            masks,
        })
    }

    /// MADE, mutably (tests move it away from the identity).
    pub fn made_mut(&mut self) -> &mut Mlp<E, D> {
        &mut self.made
    }

    /// (μ, α) of every row of `x`, each `[batch, dim]`, output i depending on x_{<i} only.
    fn shift_and_log_scale<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
    ) -> (Matrix<E, D>, Matrix<E, D>) {
        let mut a = x.clone();
        let last = self.masks.len() - 1;
        for (l, mask) in self.masks.iter().enumerate() {
            let shape = (a.shape().0, mask.shape().1);
            let z = tp.step(|t| {
                a.clone()
                    .put_tape(t)
                    .matmul(self.made.weights[l].retaped::<T>() * mask.retaped::<T>())
                    + self.made.biases[l].retaped::<T>().broadcast_like::<_, Axis<0>>(&shape)
            });
            a = if l < last { tp.step(|t| z.put_tape(t).tanh()) } else { z };
        }
        let dev = x.device().clone();
        let (sm, sa) = (
            columns::select(&dev, 2 * self.dim, 0, self.dim),
            columns::select(&dev, 2 * self.dim, self.dim, self.dim),
        );
        let c = E::of(self.clamp);
        let shift = tp.step(|t| a.clone().put_tape(t).matmul(sm.retaped::<T>()));
        let log_scale = tp.step(|t| (a.put_tape(t).matmul(sa.retaped::<T>()) / c).tanh() * c);
        (shift, log_scale)
    }

    fn check(&self, x: &Matrix<E, D>) -> Result<(), TensorError> {
        if x.shape().1 != self.dim {
            return Err(TensorError::ShapeMismatch(format!(
                "rows have {} columns, the MAF layer takes {}",
                x.shape().1,
                self.dim
            )));
        }
        Ok(())
    }

    fn sum_rows<T: Tape<E, D> + Merge<T>>(tp: &mut Threaded<T>, m: &Matrix<E, D>, negate: bool) -> Vector<E, D> {
        tp.step(|t| {
            let s = m.clone().put_tape(t).sum::<(usize,), Axis<1>>();
            if negate { s.negate() } else { s }
        })
    }
}

impl<E: Real, D: Device<E>> Bijection<E, D> for MaskedAutoregressive<E, D> {
    fn dim(&self) -> usize {
        self.dim
    }
    /// u = (x − μ(x)) e^{−α(x)}, log|det| = −Σ α: one MADE pass.
    fn forward<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
    ) -> Result<Transformed<E, D>, TensorError> {
        self.check(x)?;
        let (shift, log_scale) = self.shift_and_log_scale(tp, x);
        let u = tp.step(|t| (x.clone().put_tape(t) - shift.retaped::<T>()) * log_scale.retaped::<T>().negate().exp());
        let log_det = Self::sum_rows(tp, &log_scale, true);
        Ok((u, log_det))
    }
    /// x = u e^{α(x)} + μ(x), solved by d passes: after pass k the first k coordinates are exact.
    fn inverse<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        u: &Matrix<E, D>,
    ) -> Result<Transformed<E, D>, TensorError> {
        self.check(u)?;
        let mut x: Matrix<E, D> = u.device().zeros_like(u.shape());
        let mut last_log_scale = None;
        for _ in 0..self.dim {
            let (shift, log_scale) = self.shift_and_log_scale(tp, &x);
            x = tp.step(|t| u.clone().put_tape(t) * log_scale.retaped::<T>().exp() + shift.retaped::<T>());
            last_log_scale = Some(log_scale);
        }
        // α at the final x: the d-th pass's α was computed from x with its first d − 1
        // coordinates exact, all that α depends on.
        let log_det = Self::sum_rows(tp, &last_log_scale.expect("dim >= 2"), false);
        Ok((x, log_det))
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for MaskedAutoregressive<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        prefixed("made", self.made.parameters())
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        self.made.parameters_mut()
    }
}

/// Architecture of a [`Maf`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MafConfig {
    /// Data dimension (≥ 2).
    pub dim: usize,
    /// MAF layers (a column reversal between consecutive ones).
    pub layers: usize,
    /// MADE hidden widths (each ≥ dim − 1).
    pub hidden: Vec<usize>,
    /// Soft clamp of the log-scales.
    pub clamp: f64,
}

/// A masked autoregressive flow with a standard normal base.
#[derive(Debug, Clone)]
pub struct Maf<E: Real, D: Device<E>> {
    config: MafConfig,
    layers: Vec<MaskedAutoregressive<E, D>>,
    reverse: Permutation<E, D>,
}

impl<E: Real, D: Device<E>> Maf<E, D> {
    /// The layers, mutably (tests move them away from the identity).
    pub fn layers_mut(&mut self) -> &mut [MaskedAutoregressive<E, D>] {
        &mut self.layers
    }

    /// log p(x) of every row, recorded on `tp`.
    pub fn log_prob<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
    ) -> Result<Vector<E, D>, TensorError> {
        standard_normal_log_prob(self, tp, x)
    }

    /// `rows` samples from random stream (`seed`, `stream`) with their log p(x).
    pub fn sample(&self, device: &D, rows: usize, seed: u64, stream: u64) -> Result<Transformed<E, D>, TensorError> {
        standard_normal_sample(self, device, rows, seed, stream)
    }
}

impl<E: Real, D: Device<E>> Bijection<E, D> for Maf<E, D> {
    fn dim(&self) -> usize {
        self.config.dim
    }
    fn forward<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
    ) -> Result<Transformed<E, D>, TensorError> {
        let mut y = x.clone();
        let mut total: Option<Vector<E, D>> = None;
        for (k, layer) in self.layers.iter().enumerate() {
            if k > 0 {
                y = self.reverse.forward(tp, &y)?.0;
            }
            let (next, log_det) = layer.forward(tp, &y)?;
            y = next;
            total = Some(match total {
                None => log_det,
                Some(acc) => tp.step(|t| acc.put_tape(t) + log_det.retaped::<T>()),
            });
        }
        Ok((y, total.expect("at least one layer")))
    }
    fn inverse<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        z: &Matrix<E, D>,
    ) -> Result<Transformed<E, D>, TensorError> {
        let mut x = z.clone();
        let mut total: Option<Vector<E, D>> = None;
        for (k, layer) in self.layers.iter().enumerate().rev() {
            let (next, log_det) = layer.inverse(tp, &x)?;
            x = next;
            total = Some(match total {
                None => log_det,
                Some(acc) => tp.step(|t| acc.put_tape(t) + log_det.retaped::<T>()),
            });
            if k > 0 {
                x = self.reverse.inverse(tp, &x)?.0;
            }
        }
        Ok((x, total.expect("at least one layer")))
    }
}

impl<E: Real, D: Device<E>> Configured<E, D> for Maf<E, D> {
    const KIND: &'static str = "maf";
    type Config = MafConfig;
    fn config(&self) -> MafConfig {
        self.config.clone()
    }
    fn from_config(c: &MafConfig, device: &D, seed: u64) -> Result<Self, TensorError> {
        if c.layers == 0 {
            return Err(TensorError::InvalidConfig("a MAF needs at least one layer".into()));
        }
        let layers = (0..c.layers)
            .map(|k| MaskedAutoregressive::new(device, c.dim, &c.hidden, c.clamp, seed.wrapping_add(k as u64)))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            config: c.clone(),
            layers,
            reverse: Permutation::reverse(device, c.dim)?,
        })
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for Maf<E, D> {
    /// `layers.{k}.made.layers.{l}.weight` / `.bias`.
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(k, l)| prefixed(&format!("layers.{k}"), l.parameters()))
            .collect()
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        self.layers.iter_mut().flat_map(|l| l.parameters_mut()).collect()
    }
}

/// Maximum likelihood for a MAF: the mean of −log p(x) over a batch, in nats.
impl<E: Real, D: Device<E>> Loss<E, D, Maf<E, D>, Matrix<E, D>> for NegativeLogLikelihood {
    fn loss<T: Tape<E, D> + Merge<T>>(
        &self,
        flow: &Maf<E, D>,
        x: &Matrix<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        let mut tp = Threaded::new(tape);
        let lp = flow.log_prob(&mut tp, x)?;
        let l = tp.step(|t| lp.put_tape(t).mean().negate());
        Ok(tp.finish(l))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use liouville_base::random::Rng;
    use liouville_tensor::device::HostDevice;

    type Dev = HostDevice;

    /// A layer with every MADE weight random (the masks decide the structure).
    fn random_layer(dim: usize, seed: u64) -> MaskedAutoregressive<f64, Dev> {
        let dev = Dev::default();
        let mut layer = MaskedAutoregressive::<f64, Dev>::new(&dev, dim, &[8, 8], 2.0, seed).unwrap();
        let mut rng = Rng::stream(seed, 3);
        for w in &mut layer.made_mut().weights {
            let (r, c) = *w.shape();
            *w = host::matrix(&dev, (0..r * c).map(|_| rng.uniform_in(-0.9, 0.9)), r, c);
        }
        layer
    }

    /// Output i of the forward map changes with x_j only for j ≤ i (triangular Jacobian with the
    /// diagonal e^{−αᵢ}): checked by perturbing one input at a time.
    #[test]
    fn the_forward_map_is_autoregressive() {
        let dim = 4;
        let layer = random_layer(dim, 1);
        let dev = Dev::default();
        let x0 = [0.3, -1.2, 0.8, 0.5];
        let at = |x: &[f64]| host::values(&layer.apply(&host::matrix(&dev, x.iter().copied(), 1, dim)).unwrap().0);
        let base = at(&x0);
        for j in 0..dim {
            let mut x = x0;
            x[j] += 0.37;
            let moved = at(&x);
            for i in 0..dim {
                let changed = (moved[i] - base[i]).abs() > 1e-12;
                assert_eq!(changed, i >= j, "output {i} and input {j}: {moved:?} vs {base:?}");
            }
        }
    }

    #[test]
    fn the_inverse_undoes_the_forward_map() {
        for dim in [2, 3, 5] {
            let layer = random_layer(dim, dim as u64);
            let dev = Dev::default();
            let x = host::matrix::<f64, Dev>(&dev, (0..6 * dim).map(|i| (i as f64 * 0.43).cos() * 1.5), 6, dim);
            let (u, ld) = layer.apply(&x).unwrap();
            let (back, ild) = layer.invert(&u).unwrap();
            let err = host::values(&x)
                .iter()
                .zip(host::values(&back))
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(err < 1e-12, "dim {dim}: {err:e}");
            for (a, b) in host::values(&ld).iter().zip(host::values(&ild)) {
                assert!((a + b).abs() < 1e-12 && a.abs() > 1e-3);
            }
        }
    }

    #[test]
    fn bad_settings_are_typed_errors() {
        let dev = Dev::default();
        assert!(MaskedAutoregressive::<f64, Dev>::new(&dev, 1, &[4], 2.0, 0).is_err());
        assert!(MaskedAutoregressive::<f64, Dev>::new(&dev, 5, &[3], 2.0, 0).is_err());
        assert!(MaskedAutoregressive::<f64, Dev>::new(&dev, 3, &[], 2.0, 0).is_err());
        assert!(MaskedAutoregressive::<f64, Dev>::new(&dev, 3, &[4], f64::NAN, 0).is_err());
        let layer = random_layer(3, 0);
        let x = host::matrix::<f64, Dev>(&dev, [0.0; 4], 2, 2);
        assert!(matches!(layer.apply(&x), Err(TensorError::ShapeMismatch(_))));
    }
}
