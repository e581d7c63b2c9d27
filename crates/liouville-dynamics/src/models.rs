//! The models. Each maps a batch of states `[rows, dim]` to time derivatives, trains on
//! (state, derivative) pairs, and checkpoints as safetensors.

use std::path::Path;

use liouville_sim::dataset::Dataset;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::losses::hamiltonian_field;
use liouville_tensor::train::{Examples, Hamiltonian, Loss, Regression, TrainConfig, TrainReport, train};
use liouville_tensor::{Activation, Energy, Init, Mlp, checkpoint};
use ndarray::{Array1, Array2, ArrayView2, Axis};

use crate::DynamicsError;
use crate::fields::widths_field;

/// A learned vector field ẋ = f(x) on states of a fixed dimension.
pub trait DynamicsModel: Send + Sync {
    /// State dimension.
    fn dim(&self) -> usize;
    /// ẋ for every row of `x`.
    fn field(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, DynamicsError>;
    /// Trains on `data` (inputs: states, targets: their time derivatives).
    fn fit(&mut self, data: &Examples, cfg: &TrainConfig) -> Result<TrainReport, DynamicsError>;
    /// Writes a checkpoint.
    fn save(&self, path: &Path) -> Result<(), DynamicsError>;
}

/// The (state → derivative) pairs of the chosen trajectories of a dataset: noisy observations
/// as inputs, exact derivatives at the clean states as targets (Greydanus et al.'s protocol).
pub fn examples(ds: &Dataset, trajectories: &[usize]) -> Result<Examples, DynamicsError> {
    let dim = ds.states.len_of(Axis(2));
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for &k in trajectories {
        x.extend(ds.observations.index_axis(Axis(0), k).iter().copied());
        y.extend(ds.derivatives.index_axis(Axis(0), k).iter().copied());
    }
    Ok(Examples::new(x, dim, y, dim)?)
}

/// As [`examples`], with the known control signal u(t) appended to every input row
/// (`[q, p, u(t)]`), for port-Hamiltonian models of driven systems.
pub fn examples_with_input(
    ds: &Dataset,
    trajectories: &[usize],
    input: impl Fn(f64) -> Vec<f64>,
) -> Result<Examples, DynamicsError> {
    let dim = ds.states.len_of(Axis(2));
    let mut width = dim;
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for &k in trajectories {
        let obs = ds.observations.index_axis(Axis(0), k);
        for (row, &t) in obs.rows().into_iter().zip(&ds.times) {
            let u = input(t);
            width = dim + u.len();
            x.extend(row.iter().copied());
            x.extend(u);
        }
        y.extend(ds.derivatives.index_axis(Axis(0), k).iter().copied());
    }
    Ok(Examples::new(x, width, y, dim)?)
}

fn to_tensor(dev: &Cpu, x: ArrayView2<'_, f64>) -> Tensor<(usize, usize), f32, Cpu> {
    dev.tensor_from_vec(x.iter().map(|&v| v as f32).collect(), x.dim())
}

fn check_dim(x: ArrayView2<'_, f64>, dim: usize) -> Result<(), DynamicsError> {
    if x.ncols() != dim {
        return Err(DynamicsError::ShapeMismatch(format!(
            "states have {} columns, the model takes {dim}",
            x.ncols()
        )));
    }
    Ok(())
}

fn from_vec(v: Vec<f32>, rows: usize, cols: usize) -> Array2<f64> {
    Array2::from_shape_vec((rows, cols), v.into_iter().map(f64::from).collect()).expect("tensor shape")
}

/// The baseline: an MLP vector field `[dim] → hidden → [dim]` trained by regression on ẋ.
pub struct Baseline {
    net: Mlp<f32, Cpu>,
}

impl Baseline {
    /// A tanh MLP with the given hidden widths, orthogonal initialisation.
    pub fn new(dim: usize, hidden: &[usize], seed: u64) -> Result<Self, DynamicsError> {
        let widths: Vec<usize> = std::iter::once(dim)
            .chain(hidden.iter().copied())
            .chain([dim])
            .collect();
        Ok(Self {
            net: Mlp::new(&Cpu::default(), &widths, Activation::Tanh, Init::Orthogonal, seed)?,
        })
    }
    /// Loads a checkpoint written by [`DynamicsModel::save`].
    pub fn load(path: &Path) -> Result<Self, DynamicsError> {
        let (net, _) = checkpoint::load(&Cpu::default(), path)?;
        Ok(Self { net })
    }
}

impl DynamicsModel for Baseline {
    fn dim(&self) -> usize {
        self.net.widths()[0]
    }
    fn field(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, DynamicsError> {
        check_dim(x, self.dim())?;
        let out = self.net.forward(&to_tensor(&Cpu::default(), x), NoneTape)?;
        Ok(from_vec(out.as_vec(), x.nrows(), self.dim()))
    }
    fn fit(&mut self, data: &Examples, cfg: &TrainConfig) -> Result<TrainReport, DynamicsError> {
        Ok(train(&mut self.net, data, &Regression, cfg)?)
    }
    fn save(&self, path: &Path) -> Result<(), DynamicsError> {
        Ok(checkpoint::save(&self.net, path, &[("model", "baseline".into())])?)
    }
}

/// A Hamiltonian neural network: a scalar H_θ(q, p) and the field (∂H/∂p, -∂H/∂q).
pub struct Hnn {
    h: Mlp<f32, Cpu>,
}

impl Hnn {
    /// H_θ as a tanh MLP `[dim] → hidden → 1` (dim even: rows are `[q, p]`).
    pub fn new(dim: usize, hidden: &[usize], seed: u64) -> Result<Self, DynamicsError> {
        if dim == 0 || !dim.is_multiple_of(2) {
            return Err(DynamicsError::ShapeMismatch(format!(
                "a Hamiltonian state has an even dimension, got {dim}"
            )));
        }
        let widths: Vec<usize> = std::iter::once(dim).chain(hidden.iter().copied()).chain([1]).collect();
        Ok(Self {
            h: Mlp::new(&Cpu::default(), &widths, Activation::Tanh, Init::Orthogonal, seed)?,
        })
    }
    /// Loads a checkpoint written by [`DynamicsModel::save`].
    pub fn load(path: &Path) -> Result<Self, DynamicsError> {
        let (h, _) = checkpoint::load(&Cpu::default(), path)?;
        Ok(Self { h })
    }
    /// The learned H at every row (defined up to an additive constant).
    pub fn energy(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>, DynamicsError> {
        check_dim(x, self.dim())?;
        let d = self.h.derivatives(&to_tensor(&Cpu::default(), x), &[], NoneTape)?;
        Ok(d.value.as_vec().into_iter().map(f64::from).collect())
    }
}

impl DynamicsModel for Hnn {
    fn dim(&self) -> usize {
        self.h.widths()[0]
    }
    fn field(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, DynamicsError> {
        check_dim(x, self.dim())?;
        let f = hamiltonian_field(&self.h, &to_tensor(&Cpu::default(), x), NoneTape)?;
        Ok(from_vec(f.as_vec(), x.nrows(), self.dim()))
    }
    fn fit(&mut self, data: &Examples, cfg: &TrainConfig) -> Result<TrainReport, DynamicsError> {
        Ok(train(&mut self.h, data, &Hamiltonian, cfg)?)
    }
    fn save(&self, path: &Path) -> Result<(), DynamicsError> {
        Ok(checkpoint::save(&self.h, path, &[("model", "hnn".into())])?)
    }
}

/// A port-Hamiltonian network: a learned H_θ, a learned constant positive semi-definite damping
/// D = LLᵀ (L lower triangular) on the momenta and, optionally, a learned input gain B for a known
/// control signal u(t) ∈ ℝᵐ:
///
/// q̇ = ∂H/∂p,  ṗ = -∂H/∂q - D ∂H/∂p + B u,
///
/// so dH/dt = -(∂H/∂p)ᵀ D (∂H/∂p) + (∂H/∂p)ᵀ B u: without input the energy can only decay. D
/// recovers the damping of damped systems and B the drive of driven ones. Rows are `[q, p]`, or
/// `[q, p, u]` with inputs (a row without its u columns is read as u = 0).
pub struct DissipativeHnn {
    h: Mlp<f32, Cpu>,
    /// The damping's Cholesky-factor parameter `[dof, dof]` (lower triangle used).
    factor: Tensor<(usize, usize), f32, Cpu>,
    /// Bᵀ, `[inputs, dof]`, when there is a control input.
    gain: Option<Tensor<(usize, usize), f32, Cpu>>,
}

impl DissipativeHnn {
    /// H_θ as a tanh MLP `[2·dof] → hidden → 1`, damping starting at D = 0.01·I, no input.
    pub fn new(dim: usize, hidden: &[usize], seed: u64) -> Result<Self, DynamicsError> {
        Self::with_inputs(dim, hidden, 0, seed)
    }

    /// As [`DissipativeHnn::new`] with `inputs` control channels, B starting at zero.
    pub fn with_inputs(dim: usize, hidden: &[usize], inputs: usize, seed: u64) -> Result<Self, DynamicsError> {
        let hnn = Hnn::new(dim, hidden, seed)?;
        let dof = dim / 2;
        let l0: Vec<f32> = (0..dof * dof)
            .map(|i| if i / dof == i % dof { 0.1 } else { 0.0 })
            .collect();
        let dev = Cpu::default();
        Ok(Self {
            h: hnn.h,
            factor: dev.tensor_from_vec(l0, (dof, dof)),
            gain: (inputs > 0).then(|| dev.zeros_like(&(inputs, dof))),
        })
    }

    /// Number of control inputs m.
    pub fn inputs(&self) -> usize {
        self.gain.as_ref().map_or(0, |g| g.shape().0)
    }

    /// The learned input matrix B `[dof, inputs]` (empty without inputs).
    pub fn input_gain(&self) -> Array2<f64> {
        let dof = self.factor.shape().0;
        match &self.gain {
            Some(g) => {
                let v = g.as_vec();
                let m = g.shape().0;
                Array2::from_shape_fn((dof, m), |(i, j)| f64::from(v[j * dof + i]))
            }
            None => Array2::zeros((dof, 0)),
        }
    }

    /// The learned damping matrix D = LLᵀ (row-major, dof × dof).
    pub fn damping(&self) -> Array2<f64> {
        let d = self.factor.shape().0;
        let l = self.factor.as_vec();
        Array2::from_shape_fn((d, d), |(i, j)| {
            (0..=i.min(j))
                .map(|k| f64::from(l[i * d + k]) * f64::from(l[j * d + k]))
                .sum()
        })
    }

    /// The field on the tape `tape` for rows `x` (`[q, p]` or `[q, p, u]`).
    fn field_tensor<T: Tape<f32, Cpu> + Merge<T>>(
        &self,
        x: &Tensor<(usize, usize), f32, Cpu>,
        tape: T,
    ) -> Result<Tensor<(usize, usize), f32, Cpu, T>, DynamicsError> {
        let dev = Cpu::default();
        let (cols, dof, m) = (x.shape().1, self.factor.shape().0, self.inputs());
        let n = 2 * dof;
        if cols != n && cols != n + m {
            return Err(DynamicsError::ShapeMismatch(format!(
                "rows have {cols} columns, the model takes {n} (state) or {} (state and input)",
                n + m
            )));
        }
        // Split [q, p, u] into the state and the input with constant selectors (data, no tape).
        let split = |offset: usize, width: usize| {
            let mut sel = vec![0.0f32; cols * width];
            for k in 0..width {
                sel[(offset + k) * width + k] = 1.0;
            }
            dev.tensor_from_vec(sel, (cols, width))
        };
        let (state, input) = if cols == n {
            (x.clone(), None)
        } else {
            (x.clone().matmul(split(0, n)), Some(x.clone().matmul(split(n, m))))
        };
        let x = &state;
        // Constant selectors: p-columns of a row, and placement back into the ṗ columns.
        let mut select = vec![0.0f32; n * dof];
        let mut place = vec![0.0f32; dof * n];
        let mut mask = vec![0.0f32; dof * dof];
        for k in 0..dof {
            select[(dof + k) * dof + k] = 1.0;
            place[k * n + dof + k] = 1.0;
            for j in 0..=k {
                mask[k * dof + j] = 1.0;
            }
        }
        let (select, place, mask) = (
            dev.tensor_from_vec(select, (n, dof)),
            dev.tensor_from_vec(place, (dof, n)),
            dev.tensor_from_vec(mask, (dof, dof)),
        );
        let d = self.h.derivatives(x, &[], tape)?;
        let s = liouville_tensor::losses::symplectic_right::<f32, Cpu>(&dev, dof);
        let conservative = d.gradient.retaped::<T>().matmul(s.retaped::<T>());
        let l = self.factor.retaped::<T>() * mask.retaped::<T>();
        let l_t = (self.factor.retaped::<T>() * mask.retaped::<T>()).permute::<_, Axes2<1, 0>>();
        let damping = l.matmul(l_t);
        let friction = d
            .gradient
            .retaped::<T>()
            .matmul(select.retaped::<T>())
            .matmul(damping)
            .matmul(place.retaped::<T>());
        let field = conservative - friction;
        Ok(d.attach(match (&self.gain, input) {
            (Some(g), Some(u)) => field + u.retaped::<T>().matmul(g.retaped::<T>()).matmul(place.retaped::<T>()),
            _ => field,
        }))
    }
}

impl liouville_tensor::Module<f32, Cpu> for DissipativeHnn {
    fn parameters(&self) -> Vec<(String, liouville_tensor::module::ParamRef<'_, f32, Cpu>)> {
        let mut v: Vec<_> = self
            .h
            .parameters()
            .into_iter()
            .map(|(n, p)| (format!("hamiltonian.{n}"), p))
            .collect();
        v.push((
            "damping_factor".into(),
            liouville_tensor::module::ParamRef::Matrix(&self.factor),
        ));
        if let Some(g) = &self.gain {
            v.push(("input_gain".into(), liouville_tensor::module::ParamRef::Matrix(g)));
        }
        v
    }
    fn parameters_mut(&mut self) -> Vec<liouville_tensor::module::ParamMut<'_, f32, Cpu>> {
        let mut v = self.h.parameters_mut();
        v.push(liouville_tensor::module::ParamMut::Matrix(&mut self.factor));
        if let Some(g) = &mut self.gain {
            v.push(liouville_tensor::module::ParamMut::Matrix(g));
        }
        v
    }
}

/// The loss of a [`DissipativeHnn`]: mean squared error of its field against ẋ.
struct DissipativeLoss;

impl Loss<f32, Cpu, DissipativeHnn> for DissipativeLoss {
    fn loss<T: Tape<f32, Cpu> + Merge<T>>(
        &self,
        model: &DissipativeHnn,
        x: &Tensor<(usize, usize), f32, Cpu>,
        y: &Tensor<(usize, usize), f32, Cpu>,
        tape: T,
    ) -> Result<Tensor<(), f32, Cpu, T>, liouville_tensor::TensorError> {
        let f = model
            .field_tensor(x, tape)
            .map_err(|e| liouville_tensor::TensorError::ShapeMismatch(e.to_string()))?;
        Ok((f - y.retaped::<T>()).square().mean())
    }
}

impl DynamicsModel for DissipativeHnn {
    fn dim(&self) -> usize {
        self.h.widths()[0]
    }
    /// The field at rows `[q, p]` (no input) or `[q, p, u]`.
    fn field(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, DynamicsError> {
        let f = self.field_tensor(&to_tensor(&Cpu::default(), x), NoneTape)?;
        Ok(from_vec(f.as_vec(), x.nrows(), self.dim()))
    }
    fn fit(&mut self, data: &Examples, cfg: &TrainConfig) -> Result<TrainReport, DynamicsError> {
        Ok(train(self, data, &DissipativeLoss, cfg)?)
    }
    fn save(&self, path: &Path) -> Result<(), DynamicsError> {
        Ok(checkpoint::save(
            self,
            path,
            &[
                ("model", "dissipative_hnn".into()),
                widths_field(self.h.widths()),
                ("inputs", self.inputs().to_string()),
            ],
        )?)
    }
}

impl DissipativeHnn {
    /// Loads a checkpoint into a model of the given architecture (the number of inputs is read
    /// from the checkpoint).
    pub fn load(path: &Path, dim: usize, hidden: &[usize]) -> Result<Self, DynamicsError> {
        let inputs = checkpoint::metadata::<f32>(path)?
            .get("inputs")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut m = Self::with_inputs(dim, hidden, inputs, 0)?;
        checkpoint::load_into(&mut m, path)?;
        Ok(m)
    }
}

/// A Lagrangian neural network (Cranmer et al. 2020): a learned L_θ(q, q̇) on rows `[q, q̇]` and
/// the accelerations of its Euler–Lagrange equations, q̈ = (∂²L/∂q̇²)⁻¹(∂L/∂q - (∂²L/∂q̇∂q)q̇);
/// the field is (q̇, q̈). With `kinetic_prior`, L_θ + ½|q̇|² is used, which keeps ∂²L/∂q̇²
/// well conditioned from a random start. One or two degrees of freedom.
pub struct Lnn {
    l: Mlp<f32, Cpu>,
    kinetic_prior: bool,
}

impl Lnn {
    /// L_θ as a softplus MLP `[2·dof] → hidden → 1` (softplus: L needs non-zero second derivatives).
    pub fn new(dim: usize, hidden: &[usize], kinetic_prior: bool, seed: u64) -> Result<Self, DynamicsError> {
        if !(dim == 2 || dim == 4) {
            return Err(DynamicsError::ShapeMismatch(format!(
                "LNNs here take 1 or 2 degrees of freedom (2 or 4 columns), got {dim}"
            )));
        }
        let widths: Vec<usize> = std::iter::once(dim).chain(hidden.iter().copied()).chain([1]).collect();
        Ok(Self {
            l: Mlp::new(&Cpu::default(), &widths, Activation::Softplus, Init::Xavier, seed)?,
            kinetic_prior,
        })
    }
    /// Loads a checkpoint written by [`DynamicsModel::save`].
    pub fn load(path: &Path, kinetic_prior: bool) -> Result<Self, DynamicsError> {
        let (l, _) = checkpoint::load(&Cpu::default(), path)?;
        Ok(Self { l, kinetic_prior })
    }
}

/// LNN training targets are full fields (q̇, q̈); the loss compares the accelerations.
struct LagrangianLoss(bool);

impl Loss<f32, Cpu, Mlp<f32, Cpu>> for LagrangianLoss {
    fn loss<T: Tape<f32, Cpu> + Merge<T>>(
        &self,
        model: &Mlp<f32, Cpu>,
        x: &Tensor<(usize, usize), f32, Cpu>,
        y: &Tensor<(usize, usize), f32, Cpu>,
        tape: T,
    ) -> Result<Tensor<(), f32, Cpu, T>, liouville_tensor::TensorError> {
        let (rows, n) = *y.shape();
        let dof = n / 2;
        let targets = y.as_vec();
        let q_ddot: Vec<f32> = (0..rows)
            .flat_map(|r| targets[r * n + dof..(r + 1) * n].to_vec())
            .collect();
        let q_ddot = Cpu::default().tensor_from_vec(q_ddot, (rows, dof));
        liouville_tensor::losses::lnn_loss(model, x, &q_ddot, self.0, tape)
    }
}

impl DynamicsModel for Lnn {
    fn dim(&self) -> usize {
        self.l.widths()[0]
    }
    fn field(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, DynamicsError> {
        check_dim(x, self.dim())?;
        let dof = self.dim() / 2;
        let qdd = liouville_tensor::losses::lnn_accelerations(
            &self.l,
            &to_tensor(&Cpu::default(), x),
            self.kinetic_prior,
            NoneTape,
        )?
        .as_vec();
        let mut out = Array2::zeros(x.dim());
        for r in 0..x.nrows() {
            for k in 0..dof {
                out[[r, k]] = x[[r, dof + k]];
                out[[r, dof + k]] = f64::from(qdd[r * dof + k]);
            }
        }
        Ok(out)
    }
    fn fit(&mut self, data: &Examples, cfg: &TrainConfig) -> Result<TrainReport, DynamicsError> {
        Ok(train(&mut self.l, data, &LagrangianLoss(self.kinetic_prior), cfg)?)
    }
    fn save(&self, path: &Path) -> Result<(), DynamicsError> {
        Ok(checkpoint::save(
            &self.l,
            path,
            &[
                ("model", "lnn".into()),
                ("kinetic_prior", self.kinetic_prior.to_string()),
            ],
        )?)
    }
}
