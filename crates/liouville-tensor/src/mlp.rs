//! Runtime-width multilayer perceptrons, and energy functions E: ℝⁿ → ℝ with exact input
//! derivatives built as traced dfdx ops (dfdx 0.13 has no double backward).
//!
//! Layers l = 1..L with weights Wₗ ∈ ℝ^{nₗ₋₁×nₗ} (stored `[in, out]`) and biases bₗ:
//!
//! - forward: zₗ = aₗ₋₁Wₗ + bₗ, aₗ = σ(zₗ) for hidden layers, output a_{L-1}W_L + b_L;
//! - VJP (input gradient of a scalar energy): g_{L-1} = W_Lᵀ, δₗ = gₗ ⊙ σ'(zₗ), gₗ₋₁ = δₗWₗᵀ,
//!   ∇ₓE = g₀;
//! - JVP of the VJP (Hessian-vector product along v): żₗ = ȧₗ₋₁Wₗ, ȧₗ = σ'(zₗ) ⊙ żₗ (ȧ₀ = v),
//!   δ̇ₗ = ġₗ ⊙ σ'(zₗ) + gₗ ⊙ σ''(zₗ) ⊙ żₗ, ġₗ₋₁ = δ̇ₗWₗᵀ (ġ_{L-1} = 0), Hv = ġ₀.
//!
//! Every quantity is a traced op of the parameters, so dfdx's ordinary reverse mode then gives
//! parameter gradients of losses built on ∇ₓE and Hv (HNN, LNN, gradient penalties).

use dfdx::prelude::*;

use liouville_base::random::Rng;

use crate::energy::{Derivatives, Energy, EnergyDerivatives, check_directions};
use crate::fused::{Needs, Upstream};
use crate::module::{Module, ParamMut, ParamRef};
use crate::tape::Threaded;
use crate::{Activation, Real, TensorError};

/// Weight initialisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Init {
    /// Glorot & Bengio (2010): U[-√(6/(nᵢₙ+nₒᵤₜ)), √(6/(nᵢₙ+nₒᵤₜ))], zero biases.
    Xavier,
    /// Saxe et al. (2014): a random orthogonal matrix (Gram–Schmidt of a Gaussian matrix), zero
    /// biases. (Greydanus et al.'s code orthogonalises the weights only and keeps PyTorch's
    /// U(±1/√fan_in) biases: that is [`Init::TorchOrthogonal`].)
    Orthogonal,
    /// Greydanus et al.'s initialisation (hamiltonian-nn `nn_models.py`): PyTorch's `nn.Linear`
    /// followed by `torch.nn.init.orthogonal_` on the weights only, so the weights are orthogonal
    /// and the biases keep `nn.Linear`'s U(±1/√fan_in). With zero hidden biases, 2 of 5 seeds of
    /// the mass-spring baseline learn an outward push beyond r ≈ 1 and their rollouts run away.
    TorchOrthogonal,
}

pub use crate::shapes::{Matrix, Vector};

/// A hidden layer's value and slope (input gradients, tangents).
const SLOPE: Needs = Needs {
    slope: true,
    curvature: false,
};
/// An output and its Jacobian-vector products (see [`Mlp::forward_with_tangents`]).
pub type WithTangents<E, D> = (Matrix<E, D>, Vec<Matrix<E, D>>);

/// A multilayer perceptron with runtime widths.
#[derive(Debug, Clone)]
pub struct Mlp<E: Real, D: Device<E>> {
    widths: Vec<usize>,
    activation: Activation,
    init: Init,
    /// Weights `[in, out]` per layer.
    pub weights: Vec<Matrix<E, D>>,
    /// Biases per layer.
    pub biases: Vec<Vector<E, D>>,
}

/// The random stream of weight initialisation (of the seed given to [`Mlp::new`]).
const INIT_STREAM: u64 = 0x1417;

/// A `rows × cols` matrix with orthonormal columns (or rows, whichever are fewer), row-major.
fn orthogonal(rows: usize, cols: usize, rng: &mut Rng) -> Vec<f64> {
    let (n, k) = (rows.max(cols), rows.min(cols));
    // k orthonormal vectors of length n by modified Gram–Schmidt.
    let mut basis: Vec<Vec<f64>> = Vec::with_capacity(k);
    while basis.len() < k {
        let mut v: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        for b in &basis {
            let dot: f64 = v.iter().zip(b).map(|(x, y)| x * y).sum();
            v.iter_mut().zip(b).for_each(|(x, y)| *x -= dot * y);
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm > 1e-8 {
            basis.push(v.into_iter().map(|x| x / norm).collect());
        }
    }
    let mut m = vec![0.0; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            m[r * cols + c] = if rows >= cols { basis[c][r] } else { basis[r][c] };
        }
    }
    m
}

/// How to build an [`Mlp`]: `widths` = [input, hidden…, output].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MlpConfig {
    /// Layer widths [input, hidden…, output].
    pub widths: Vec<usize>,
    /// Hidden activation.
    pub activation: Activation,
    /// Weight initialisation.
    pub init: Init,
}

impl MlpConfig {
    /// `[input] → hidden → [output]`.
    pub fn new(input: usize, hidden: &[usize], output: usize, activation: Activation, init: Init) -> Self {
        Self {
            widths: std::iter::once(input)
                .chain(hidden.iter().copied())
                .chain([output])
                .collect(),
            activation,
            init,
        }
    }
    /// The network on `device`, weights from random stream `seed`.
    pub fn init<E: Real, D: Device<E>>(&self, device: &D, seed: u64) -> Result<Mlp<E, D>, TensorError> {
        Mlp::new(device, &self.widths, self.activation, self.init, seed)
    }
}

impl<E: Real, D: Device<E>> crate::config::Configured<E, D> for Mlp<E, D> {
    const KIND: &'static str = "mlp";
    type Config = MlpConfig;
    fn config(&self) -> MlpConfig {
        MlpConfig {
            widths: self.widths.clone(),
            activation: self.activation,
            init: self.init,
        }
    }
    fn from_config(config: &MlpConfig, device: &D, seed: u64) -> Result<Self, TensorError> {
        config.init(device, seed)
    }
}

impl<E: Real, D: Device<E>> Mlp<E, D> {
    /// The initialisation it was built with.
    pub fn init_scheme(&self) -> Init {
        self.init
    }

    /// The device holding the parameters.
    pub fn device(&self) -> &D {
        self.weights[0].device()
    }

    /// An MLP with layer widths `widths` = [input, hidden…, output] on `device`.
    pub fn new(
        device: &D,
        widths: &[usize],
        activation: Activation,
        init: Init,
        seed: u64,
    ) -> Result<Self, TensorError> {
        if widths.len() < 2 || widths.contains(&0) {
            return Err(TensorError::InvalidConfig(format!(
                "MLP widths must be at least [in, out], all > 0: {widths:?}"
            )));
        }
        let mut rng = Rng::stream(seed, INIT_STREAM);
        // Biases draw from a stream of their own, so the weights are those of `Orthogonal`.
        let mut bias_rng = Rng::stream(seed, INIT_STREAM + 1);
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        for w in widths.windows(2) {
            let (n_in, n_out) = (w[0], w[1]);
            let values: Vec<f64> = match init {
                Init::Xavier => {
                    let bound = (6.0 / (n_in + n_out) as f64).sqrt();
                    (0..n_in * n_out).map(|_| rng.uniform_in(-bound, bound)).collect()
                }
                Init::Orthogonal | Init::TorchOrthogonal => orthogonal(n_in, n_out, &mut rng),
            };
            let bias: Vec<f64> = match init {
                Init::TorchOrthogonal => {
                    let bound = 1.0 / (n_in as f64).sqrt();
                    (0..n_out).map(|_| bias_rng.uniform_in(-bound, bound)).collect()
                }
                Init::Xavier | Init::Orthogonal => vec![0.0; n_out],
            };
            weights.push(device.tensor_from_vec(values.into_iter().map(E::of).collect(), (n_in, n_out)));
            biases.push(device.tensor_from_vec(bias.into_iter().map(E::of).collect(), (n_out,)));
        }
        Ok(Self {
            widths: widths.to_vec(),
            activation,
            init,
            weights,
            biases,
        })
    }

    /// From existing parameters (checked for consistent shapes).
    pub fn from_parameters(
        activation: Activation,
        weights: Vec<Matrix<E, D>>,
        biases: Vec<Vector<E, D>>,
    ) -> Result<Self, TensorError> {
        if weights.is_empty() || weights.len() != biases.len() {
            return Err(TensorError::ShapeMismatch(
                "need as many biases as weights, at least one layer".into(),
            ));
        }
        let mut widths = vec![weights[0].shape().0];
        for (w, b) in weights.iter().zip(&biases) {
            let (n_in, n_out) = *w.shape();
            if n_in != *widths.last().expect("non-empty") || b.shape().0 != n_out {
                return Err(TensorError::ShapeMismatch(format!(
                    "layer shapes do not chain: {:?}, {:?}",
                    w.shape(),
                    b.shape()
                )));
            }
            widths.push(n_out);
        }
        Ok(Self {
            widths,
            activation,
            init: Init::Xavier,
            weights,
            biases,
        })
    }

    /// Layer widths [input, hidden…, output].
    pub fn widths(&self) -> &[usize] {
        &self.widths
    }
    /// Hidden layer widths (the widths between input and output).
    pub fn hidden_widths(&self) -> &[usize] {
        &self.widths[1..self.widths.len() - 1]
    }
    /// The activation.
    pub fn activation(&self) -> Activation {
        self.activation
    }
    /// Number of trainable scalars.
    pub fn num_parameters(&self) -> usize {
        self.widths.windows(2).map(|w| w[0] * w[1] + w[1]).sum()
    }
    fn check_input(&self, x: &Matrix<E, D>) -> Result<(), TensorError> {
        if x.shape().1 != self.widths[0] {
            return Err(TensorError::ShapeMismatch(format!(
                "input has {} columns, the MLP takes {}",
                x.shape().1,
                self.widths[0]
            )));
        }
        Ok(())
    }

    /// zₗ = aWₗ + bₗ on the threaded tape.
    fn affine<T: Tape<E, D> + Merge<T>>(&self, tp: &mut Threaded<T>, a: &Matrix<E, D>, l: usize) -> Matrix<E, D> {
        crate::fused::affine(tp, a, &self.weights[l], &self.biases[l])
    }

    /// Hidden layer `l`: σ(a·Wₗ + bₗ) and the derivatives `needs` asks for; fused where
    /// [`crate::fused::is_fused`] says so.
    fn hidden<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        a: &Matrix<E, D>,
        l: usize,
        needs: Needs,
    ) -> crate::fused::Activated<E, D> {
        crate::fused::dense(tp, a, &self.weights[l], &self.biases[l], self.activation, needs)
    }

    /// The network's output `[batch, out]` for inputs `x` `[batch, in]`, recording on `tape`.
    pub fn forward<T: Tape<E, D> + Merge<T>>(&self, x: &Matrix<E, D>, tape: T) -> Result<Matrix<E, D, T>, TensorError> {
        self.check_input(x)?;
        let mut tp = Threaded::new(tape);
        let mut a = x.clone();
        let last = self.weights.len() - 1;
        for l in 0..last {
            a = self.hidden(&mut tp, &a, l, Needs::default()).value;
        }
        let out = self.affine(&mut tp, &a, last);
        Ok(tp.finish(out))
    }

    /// The output `[batch, out]` and Jacobian-vector products (∂f/∂x)v `[batch, out]` along each
    /// of `directions` (`[batch, in]` each), by forward-mode tangents through the layers
    /// (ż = ȧW, ȧ = σ′(z) ⊙ ż), all recorded on the thread `tp`.
    pub fn forward_with_tangents<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
        directions: &[Matrix<E, D>],
    ) -> Result<WithTangents<E, D>, TensorError> {
        self.check_input(x)?;
        check_directions(x, directions)?;
        let last = self.weights.len() - 1;
        let mut a = x.clone();
        let mut tangents: Vec<Matrix<E, D>> = directions.to_vec();
        let push = |tp: &mut Threaded<T>, tangents: &[Matrix<E, D>], l: usize| -> Vec<Matrix<E, D>> {
            tangents
                .iter()
                .map(|v| tp.step(|t| v.clone().put_tape(t).matmul(self.weights[l].retaped::<T>())))
                .collect()
        };
        for l in 0..last {
            let layer = self.hidden(tp, &a, l, SLOPE);
            let z_dots = push(tp, &tangents, l);
            a = layer.value;
            let slope = layer.slope.expect("slope requested");
            tangents = z_dots
                .into_iter()
                .map(|zd| tp.step(|t| zd.put_tape(t) * slope.retaped::<T>()))
                .collect();
        }
        let out = self.affine(tp, &a, last);
        let out_dots = push(tp, &tangents, last);
        Ok((out, out_dots))
    }

    /// Value, input gradient and Hessian-vector products of the scalar energy E(x) (the MLP's
    /// single output) at every row of `x`, along each of `directions` (`[batch, in]` each).
    pub fn energy_derivatives<T: Tape<E, D> + Merge<T>>(
        &self,
        x: &Matrix<E, D>,
        directions: &[Matrix<E, D>],
        tape: T,
    ) -> Result<EnergyDerivatives<E, D, T>, TensorError> {
        Energy::derivatives(self, x, directions, tape)
    }
}

impl<E: Real, D: Device<E>> Energy<E, D> for Mlp<E, D> {
    fn input_dim(&self) -> usize {
        self.widths[0]
    }

    fn derive<T: Tape<E, D> + Merge<T>>(
        &self,
        tp: &mut Threaded<T>,
        x: &Matrix<E, D>,
        directions: &[Matrix<E, D>],
    ) -> Result<Derivatives<E, D>, TensorError> {
        self.check_input(x)?;
        if *self.widths.last().expect("non-empty") != 1 {
            return Err(TensorError::InvalidConfig("an energy needs a single output".into()));
        }
        check_directions(x, directions)?;
        let batch = x.shape().0;
        let hidden = self.weights.len() - 1;

        // Forward, keeping zₗ, σ'(zₗ) and (for HVPs) σ''(zₗ).
        let mut a = x.clone();
        let (mut s1, mut s2) = (Vec::with_capacity(hidden), Vec::with_capacity(hidden));
        for l in 0..hidden {
            let needs = Needs {
                slope: true,
                curvature: !directions.is_empty(),
            };
            let layer = self.hidden(tp, &a, l, needs);
            a = layer.value;
            let first = layer.slope.expect("slope requested");
            if let Some(curvature) = layer.curvature {
                s2.push(curvature);
            }
            s1.push(first);
        }
        let value = {
            let out = self.affine(tp, &a, hidden);
            tp.step(|t| out.put_tape(t).reshape_like(&(batch,)))
        };

        // Reverse (VJP with seed 1): g_{L-1} = W_Lᵀ broadcast over the batch.
        let act = self.activation;
        let top = &self.weights[hidden];
        let n_top = top.shape().0;
        let mut g = Upstream::SharedRow(top.clone());
        let mut gs = vec![g.clone(); hidden];
        for l in (0..hidden).rev() {
            gs[l] = g.clone();
            let delta = crate::fused::gate(tp, &g, &s1[l], act);
            g = Upstream::Full(tp.step(|t| {
                delta
                    .put_tape(t)
                    .matmul(self.weights[l].retaped::<T>().permute::<_, Axes2<1, 0>>())
            }));
        }
        let gradient = match g {
            Upstream::Full(g) => g,
            // No hidden layer: ∇ₓE = W_Lᵀ on every row.
            Upstream::SharedRow(w) => tp.step(|t| {
                w.put_tape(t)
                    .reshape_like(&(n_top,))
                    .broadcast_like::<_, Axis<0>>(&(batch, n_top))
            }),
        };

        // Forward-over-reverse for each direction.
        let mut hvps = Vec::with_capacity(directions.len());
        for v in directions {
            let mut a_dot = v.clone();
            let mut z_dots = Vec::with_capacity(hidden);
            for l in 0..hidden {
                let z_dot = tp.step(|t| a_dot.clone().put_tape(t).matmul(self.weights[l].retaped::<T>()));
                a_dot = crate::fused::gate(tp, &Upstream::Full(z_dot.clone()), &s1[l], act);
                z_dots.push(z_dot);
            }
            let mut g_dot: Option<Matrix<E, D>> = None;
            for l in (0..hidden).rev() {
                let g_curvature = crate::fused::gate(tp, &gs[l], &s2[l], act);
                let curvature = crate::fused::gate(tp, &Upstream::Full(g_curvature), &z_dots[l], act);
                let delta_dot = match &g_dot {
                    None => curvature,
                    Some(gd) => {
                        let through = crate::fused::gate(tp, &Upstream::Full(gd.clone()), &s1[l], act);
                        tp.step(|t| through.put_tape(t) + curvature.retaped::<T>())
                    }
                };
                g_dot = Some(tp.step(|t| {
                    delta_dot
                        .put_tape(t)
                        .matmul(self.weights[l].retaped::<T>().permute::<_, Axes2<1, 0>>())
                }));
            }
            // With no hidden layer E is affine and its Hessian vanishes.
            hvps.push(g_dot.unwrap_or_else(|| tp.step(|t| v.clone().put_tape(t) * E::default())));
        }
        Ok(Derivatives { value, gradient, hvps })
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for Mlp<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        let mut v = Vec::new();
        for (l, (w, b)) in self.weights.iter().zip(&self.biases).enumerate() {
            v.push((format!("layers.{l}.weight"), ParamRef::Matrix(w)));
            v.push((format!("layers.{l}.bias"), ParamRef::Vector(b)));
        }
        v
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        self.weights
            .iter_mut()
            .zip(self.biases.iter_mut())
            .flat_map(|(w, b)| [ParamMut::Matrix(w), ParamMut::Vector(b)])
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Greydanus et al.'s initialisation: the same orthogonal weights as `Orthogonal`, and biases
    /// U(±1/√fan_in) like PyTorch's `nn.Linear` instead of zeros.
    #[test]
    fn torch_orthogonal_keeps_the_weights_and_draws_linear_biases() {
        let dev = Cpu::default();
        let widths = [2, 64, 64, 1];
        let plain = Mlp::<f64, Cpu>::new(&dev, &widths, Activation::Tanh, Init::Orthogonal, 4).unwrap();
        let torch = Mlp::<f64, Cpu>::new(&dev, &widths, Activation::Tanh, Init::TorchOrthogonal, 4).unwrap();
        assert_eq!(torch.init_scheme(), Init::TorchOrthogonal);
        for (layer, (a, b)) in plain.weights.iter().zip(&torch.weights).enumerate() {
            assert!(a.as_vec() == b.as_vec(), "layer {layer}: weights differ");
        }
        for (layer, (b, w)) in torch.biases.iter().zip(widths.windows(2)).enumerate() {
            let bound = 1.0 / (w[0] as f64).sqrt();
            let v = b.as_vec();
            assert!(v.iter().all(|x| x.abs() <= bound), "layer {layer}");
            let spread = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            assert!(
                v.len() < 4 || spread > 0.5 * bound,
                "layer {layer}: biases {v:?} do not fill U(±{bound})"
            );
        }
        assert!(plain.biases.iter().all(|b| b.as_vec().iter().all(|&x| x == 0.0)));
    }
}
