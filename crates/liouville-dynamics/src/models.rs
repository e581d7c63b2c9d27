//! The models. Each maps a batch of states `[rows, dim]` to time derivatives, trains on
//! (state, derivative) pairs, and checkpoints as safetensors with its typed config. Every model
//! is generic over dtype and device (`Hnn<f64, D>` on a GPU too); the defaults, f32 on the
//! [`HostDevice`] (where rollouts run), are what the CLI and reproductions use.

use std::path::Path;

use liouville_sim::dataset::Dataset;
use liouville_tensor::checkpoint;
use liouville_tensor::columns;
use liouville_tensor::config::Configured;
use liouville_tensor::device::HostDevice;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::losses::hamiltonian_field;
use liouville_tensor::module::{Module, ParamMut, ParamRef, prefixed};
use liouville_tensor::shapes::Matrix;
use liouville_tensor::train::{Examples, Hamiltonian, Loss, Regression, Supervised, TrainConfig, TrainReport, train};
use liouville_tensor::{Activation, Init, Mlp, MlpConfig, Real, TensorError, host};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::DynamicsError;
use crate::arrays::{array, check_columns, tensor};
use crate::wrapper::{Through, through_field};

/// A learned vector field ẋ = f(x) on states of a fixed dimension, on any device. Rolling one
/// out through the (multi-threaded) integrators needs it `Sync` too: models on the host device
/// are; [`crate::catalog::Model`] is such a model behind a box.
pub trait DynamicsModel {
    /// State dimension.
    fn dim(&self) -> usize;
    /// ẋ for every row of `x`.
    fn field(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, DynamicsError>;
    /// Trains on `data` (inputs: states, targets: their time derivatives).
    fn fit(&mut self, data: &Examples, cfg: &TrainConfig) -> Result<TrainReport, DynamicsError>;
    /// Writes a checkpoint (weights and typed config; `catalog::load` reads any of them back).
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

/// A model of the default dtype and device from its config (a fresh seed-`seed` initialisation).
pub(crate) fn on_default_device<M: Configured<f32, HostDevice>>(
    config: &M::Config,
    seed: u64,
) -> Result<M, DynamicsError> {
    Ok(M::from_config(config, &HostDevice::default(), seed)?)
}

/// Reads a checkpoint of model `M` onto the default device.
pub(crate) fn load_default<M: Configured<f32, HostDevice>>(path: &Path) -> Result<M, DynamicsError> {
    Ok(checkpoint::load::<f32, HostDevice, M>(&HostDevice::default(), path)?.0)
}

/// An even state dimension `[q, p]`, or a typed error.
fn canonical_dim(dim: usize) -> Result<usize, DynamicsError> {
    if dim == 0 || !dim.is_multiple_of(2) {
        return Err(DynamicsError::ShapeMismatch(format!(
            "a Hamiltonian state has an even dimension, got {dim}"
        )));
    }
    Ok(dim / 2)
}

/// Architecture of the MLP-based field models: state dimension, hidden widths and the weight
/// initialisation (absent: each model's default, as in checkpoints written before it existed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldConfig {
    /// State dimension.
    pub dim: usize,
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Weight initialisation; `None` is the model's default (orthogonal with zero biases for the
    /// baseline and the HNN, Xavier for DeLaN). Greydanus et al.'s experiments use
    /// [`Init::TorchOrthogonal`] (orthogonal weights, PyTorch's U(±1/√fan_in) biases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<Init>,
}

impl FieldConfig {
    /// `dim` columns, the given hidden widths, the model's default initialisation.
    pub fn new(dim: usize, hidden: &[usize]) -> Self {
        Self {
            dim,
            hidden: hidden.to_vec(),
            init: None,
        }
    }
    /// The same architecture with another initialisation.
    pub fn with_init(mut self, init: Init) -> Self {
        self.init = Some(init);
        self
    }
    /// State dimension `dim` and the hidden widths and initialisation of `net`.
    pub(crate) fn of<E: Real, D: Device<E>>(dim: usize, net: &Mlp<E, D>) -> Self {
        Self {
            dim,
            hidden: net.hidden_widths().to_vec(),
            init: Some(net.init_scheme()),
        }
    }
}

/// The baseline: an MLP vector field `[dim] → hidden → [dim]` trained by regression on ẋ.
#[derive(Debug, Clone)]
pub struct Baseline<E: Real = f32, D: Device<E> = HostDevice> {
    net: Mlp<E, D>,
}

through_field!(Baseline, net, Mlp<E, D>);

impl<E: Real, D: Device<E>> Configured<E, D> for Baseline<E, D> {
    const KIND: &'static str = "baseline";
    type Config = FieldConfig;
    fn config(&self) -> FieldConfig {
        FieldConfig::of(self.net.widths()[0], &self.net)
    }
    /// A tanh MLP with the config's initialisation.
    fn from_config(c: &FieldConfig, device: &D, seed: u64) -> Result<Self, TensorError> {
        let init = c.init.unwrap_or(Init::Orthogonal);
        let net = MlpConfig::new(c.dim, &c.hidden, c.dim, Activation::Tanh, init).init(device, seed)?;
        Ok(Self { net })
    }
}

impl Baseline {
    /// A tanh MLP with the given hidden widths, orthogonal initialisation.
    pub fn new(dim: usize, hidden: &[usize], seed: u64) -> Result<Self, DynamicsError> {
        Self::with_config(&FieldConfig::new(dim, hidden), seed)
    }
    /// A tanh MLP from a full config (e.g. Greydanus et al.'s initialisation).
    pub fn with_config(config: &FieldConfig, seed: u64) -> Result<Self, DynamicsError> {
        on_default_device(config, seed)
    }
    /// Loads a checkpoint written by [`DynamicsModel::save`].
    pub fn load(path: &Path) -> Result<Self, DynamicsError> {
        load_default(path)
    }
}

impl<E: Real, D: Device<E>> DynamicsModel for Baseline<E, D> {
    fn dim(&self) -> usize {
        self.net.widths()[0]
    }
    fn field(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, DynamicsError> {
        check_columns(x, self.dim())?;
        Ok(array(&self.net.forward(&tensor(self.net.device(), x), NoneTape)?))
    }
    fn fit(&mut self, data: &Examples, cfg: &TrainConfig) -> Result<TrainReport, DynamicsError> {
        Ok(train(self, data, &Through(&Regression), cfg)?)
    }
    fn save(&self, path: &Path) -> Result<(), DynamicsError> {
        Ok(checkpoint::save(self, path, None)?)
    }
}

/// A Hamiltonian neural network: a scalar H_θ(q, p) and the field (∂H/∂p, -∂H/∂q).
#[derive(Debug, Clone)]
pub struct Hnn<E: Real = f32, D: Device<E> = HostDevice> {
    h: Mlp<E, D>,
}

through_field!(Hnn, h, Mlp<E, D>);

impl<E: Real, D: Device<E>> Configured<E, D> for Hnn<E, D> {
    const KIND: &'static str = "hnn";
    type Config = FieldConfig;
    fn config(&self) -> FieldConfig {
        FieldConfig::of(self.h.widths()[0], &self.h)
    }
    /// H_θ as a tanh MLP `[dim] → hidden → 1` (dim even: rows are `[q, p]`).
    fn from_config(c: &FieldConfig, device: &D, seed: u64) -> Result<Self, TensorError> {
        canonical_dim(c.dim).map_err(|e| TensorError::InvalidConfig(e.to_string()))?;
        let init = c.init.unwrap_or(Init::Orthogonal);
        let h = MlpConfig::new(c.dim, &c.hidden, 1, Activation::Tanh, init).init(device, seed)?;
        Ok(Self { h })
    }
}

impl Hnn {
    /// H_θ as a tanh MLP `[dim] → hidden → 1` (dim even: rows are `[q, p]`).
    pub fn new(dim: usize, hidden: &[usize], seed: u64) -> Result<Self, DynamicsError> {
        Self::with_config(&FieldConfig::new(dim, hidden), seed)
    }
    /// H_θ from a full config (e.g. Greydanus et al.'s initialisation).
    pub fn with_config(config: &FieldConfig, seed: u64) -> Result<Self, DynamicsError> {
        canonical_dim(config.dim)?;
        on_default_device(config, seed)
    }
    /// Loads a checkpoint written by [`DynamicsModel::save`].
    pub fn load(path: &Path) -> Result<Self, DynamicsError> {
        load_default(path)
    }
}

impl<E: Real, D: Device<E>> Hnn<E, D> {
    /// The learned H at every row (defined up to an additive constant).
    pub fn energy(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>, DynamicsError> {
        check_columns(x, self.h.widths()[0])?;
        let d = self.h.energy_derivatives(&tensor(self.h.device(), x), &[], NoneTape)?;
        Ok(Array1::from(host::values(&d.value)))
    }
}

impl<E: Real, D: Device<E>> DynamicsModel for Hnn<E, D> {
    fn dim(&self) -> usize {
        self.h.widths()[0]
    }
    fn field(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, DynamicsError> {
        check_columns(x, self.dim())?;
        Ok(array(&hamiltonian_field(
            &self.h,
            &tensor(self.h.device(), x),
            NoneTape,
        )?))
    }
    fn fit(&mut self, data: &Examples, cfg: &TrainConfig) -> Result<TrainReport, DynamicsError> {
        Ok(train(self, data, &Through(&Hamiltonian), cfg)?)
    }
    fn save(&self, path: &Path) -> Result<(), DynamicsError> {
        Ok(checkpoint::save(self, path, None)?)
    }
}

/// Architecture of a [`DissipativeHnn`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DissipativeHnnConfig {
    /// State dimension 2·dof.
    pub dim: usize,
    /// Hidden widths of H_θ.
    pub hidden: Vec<usize>,
    /// Control inputs m (0 for none).
    pub inputs: usize,
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
#[derive(Debug, Clone)]
pub struct DissipativeHnn<E: Real = f32, D: Device<E> = HostDevice> {
    h: Mlp<E, D>,
    /// The damping's Cholesky-factor parameter `[dof, dof]` (lower triangle used).
    factor: Matrix<E, D>,
    /// Bᵀ, `[inputs, dof]`, when there is a control input.
    gain: Option<Matrix<E, D>>,
}

impl<E: Real, D: Device<E>> Configured<E, D> for DissipativeHnn<E, D> {
    const KIND: &'static str = "dissipative_hnn";
    type Config = DissipativeHnnConfig;
    fn config(&self) -> DissipativeHnnConfig {
        DissipativeHnnConfig {
            dim: self.h.widths()[0],
            hidden: self.h.hidden_widths().to_vec(),
            inputs: self.inputs(),
        }
    }
    /// H_θ as a tanh MLP `[2·dof] → hidden → 1`, damping starting at D = 0.01·I, B = 0.
    fn from_config(c: &DissipativeHnnConfig, device: &D, seed: u64) -> Result<Self, TensorError> {
        let dof = canonical_dim(c.dim).map_err(|e| TensorError::InvalidConfig(e.to_string()))?;
        let h = MlpConfig::new(c.dim, &c.hidden, 1, Activation::Tanh, Init::Orthogonal).init(device, seed)?;
        let l0 = (0..dof * dof).map(|i| if i / dof == i % dof { 0.1 } else { 0.0 });
        Ok(Self {
            h,
            factor: host::matrix(device, l0, dof, dof),
            gain: (c.inputs > 0).then(|| device.zeros_like(&(c.inputs, dof))),
        })
    }
}

impl DissipativeHnn {
    /// H_θ as a tanh MLP `[2·dof] → hidden → 1`, damping starting at D = 0.01·I, no input.
    pub fn new(dim: usize, hidden: &[usize], seed: u64) -> Result<Self, DynamicsError> {
        Self::with_inputs(dim, hidden, 0, seed)
    }
    /// As [`DissipativeHnn::new`] with `inputs` control channels, B starting at zero.
    pub fn with_inputs(dim: usize, hidden: &[usize], inputs: usize, seed: u64) -> Result<Self, DynamicsError> {
        canonical_dim(dim)?;
        on_default_device(
            &DissipativeHnnConfig {
                dim,
                hidden: hidden.to_vec(),
                inputs,
            },
            seed,
        )
    }
    /// Loads a checkpoint written by [`DynamicsModel::save`].
    pub fn load(path: &Path) -> Result<Self, DynamicsError> {
        load_default(path)
    }
}

impl<E: Real, D: Device<E>> DissipativeHnn<E, D> {
    /// Number of control inputs m.
    pub fn inputs(&self) -> usize {
        self.gain.as_ref().map_or(0, |g| g.shape().0)
    }

    /// The learned input matrix B `[dof, inputs]` (empty without inputs).
    pub fn input_gain(&self) -> Array2<f64> {
        let dof = self.factor.shape().0;
        match &self.gain {
            Some(g) => array(g).reversed_axes(),
            None => Array2::zeros((dof, 0)),
        }
    }

    /// The learned damping matrix D = LLᵀ (row-major, dof × dof).
    pub fn damping(&self) -> Array2<f64> {
        let d = self.factor.shape().0;
        let l = host::values(&self.factor);
        Array2::from_shape_fn((d, d), |(i, j)| {
            (0..=i.min(j)).map(|k| l[i * d + k] * l[j * d + k]).sum()
        })
    }

    /// The field on the tape `tape` for rows `x` (`[q, p]` or `[q, p, u]`).
    fn field_tensor<T: Tape<E, D> + Merge<T>>(
        &self,
        x: &Matrix<E, D>,
        tape: T,
    ) -> Result<Matrix<E, D, T>, TensorError> {
        let dev = x.device().clone();
        let (cols, dof, m) = (x.shape().1, self.factor.shape().0, self.inputs());
        let n = 2 * dof;
        if cols != n && cols != n + m {
            return Err(TensorError::ShapeMismatch(format!(
                "rows have {cols} columns, the model takes {n} (state) or {} (state and input)",
                n + m
            )));
        }
        // Split [q, p, u] into the state and the input with constant selectors (data, no tape).
        let (state, input) = if cols == n {
            (x.clone(), None)
        } else {
            (
                x.clone().matmul(columns::select(&dev, cols, 0, n)),
                Some(x.clone().matmul(columns::select(&dev, cols, n, m))),
            )
        };
        let select_p = columns::select(&dev, n, dof, dof);
        let place_p = columns::place(&dev, dof, n, dof);
        let mask = columns::lower_triangle(&dev, dof);
        let d = self.h.energy_derivatives(&state, &[], tape)?;
        let s = liouville_tensor::losses::symplectic_right::<E, D>(&dev, dof);
        let conservative = d.gradient.retaped::<T>().matmul(s.retaped::<T>());
        let l = self.factor.retaped::<T>() * mask.retaped::<T>();
        let l_t = (self.factor.retaped::<T>() * mask.retaped::<T>()).permute::<_, Axes2<1, 0>>();
        let damping = l.matmul(l_t);
        let friction = d
            .gradient
            .retaped::<T>()
            .matmul(select_p.retaped::<T>())
            .matmul(damping)
            .matmul(place_p.retaped::<T>());
        let field = conservative - friction;
        Ok(d.attach(match (&self.gain, input) {
            (Some(g), Some(u)) => field + u.retaped::<T>().matmul(g.retaped::<T>()).matmul(place_p.retaped::<T>()),
            _ => field,
        }))
    }
}

impl<E: Real, D: Device<E>> Module<E, D> for DissipativeHnn<E, D> {
    fn parameters(&self) -> Vec<(String, ParamRef<'_, E, D>)> {
        let mut v = prefixed("hamiltonian", self.h.parameters());
        v.push(("damping_factor".into(), ParamRef::Matrix(&self.factor)));
        if let Some(g) = &self.gain {
            v.push(("input_gain".into(), ParamRef::Matrix(g)));
        }
        v
    }
    fn parameters_mut(&mut self) -> Vec<ParamMut<'_, E, D>> {
        let mut v = self.h.parameters_mut();
        v.push(ParamMut::Matrix(&mut self.factor));
        if let Some(g) = &mut self.gain {
            v.push(ParamMut::Matrix(g));
        }
        v
    }
}

/// The loss of a [`DissipativeHnn`]: mean squared error of its field against ẋ.
struct DissipativeLoss;

impl<E: Real, D: Device<E>> Loss<E, D, DissipativeHnn<E, D>> for DissipativeLoss {
    fn loss<T: Tape<E, D> + Merge<T>>(
        &self,
        model: &DissipativeHnn<E, D>,
        batch: &Supervised<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        let f = model.field_tensor(&batch.inputs, tape)?;
        Ok((f - batch.targets.retaped::<T>()).square().mean())
    }
}

impl<E: Real, D: Device<E>> DynamicsModel for DissipativeHnn<E, D> {
    fn dim(&self) -> usize {
        self.h.widths()[0]
    }
    /// The field at rows `[q, p]` (no input) or `[q, p, u]`.
    fn field(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, DynamicsError> {
        Ok(array(&self.field_tensor(&tensor(self.h.device(), x), NoneTape)?))
    }
    fn fit(&mut self, data: &Examples, cfg: &TrainConfig) -> Result<TrainReport, DynamicsError> {
        Ok(train(self, data, &DissipativeLoss, cfg)?)
    }
    fn save(&self, path: &Path) -> Result<(), DynamicsError> {
        Ok(checkpoint::save(self, path, None)?)
    }
}

/// Architecture of an [`Lnn`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LnnConfig {
    /// State dimension 2·dof (2 or 4).
    pub dim: usize,
    /// Hidden widths of L_θ.
    pub hidden: Vec<usize>,
    /// Add ½|q̇|² to the learned L.
    pub kinetic_prior: bool,
}

/// A Lagrangian neural network (Cranmer et al. 2020): a learned L_θ(q, q̇) on rows `[q, q̇]` and
/// the accelerations of its Euler–Lagrange equations, q̈ = (∂²L/∂q̇²)⁻¹(∂L/∂q - (∂²L/∂q̇∂q)q̇);
/// the field is (q̇, q̈). With `kinetic_prior`, L_θ + ½|q̇|² is used, which keeps ∂²L/∂q̇²
/// well conditioned from a random start. One or two degrees of freedom.
#[derive(Debug, Clone)]
pub struct Lnn<E: Real = f32, D: Device<E> = HostDevice> {
    l: Mlp<E, D>,
    kinetic_prior: bool,
}

through_field!(Lnn, l, Mlp<E, D>);

fn lagrangian_dim(dim: usize) -> Result<(), TensorError> {
    if !(dim == 2 || dim == 4) {
        return Err(TensorError::InvalidConfig(format!(
            "Lagrangian models here take 1 or 2 degrees of freedom (2 or 4 columns), got {dim}"
        )));
    }
    Ok(())
}

impl<E: Real, D: Device<E>> Configured<E, D> for Lnn<E, D> {
    const KIND: &'static str = "lnn";
    type Config = LnnConfig;
    fn config(&self) -> LnnConfig {
        LnnConfig {
            dim: self.l.widths()[0],
            hidden: self.l.hidden_widths().to_vec(),
            kinetic_prior: self.kinetic_prior,
        }
    }
    /// L_θ as a softplus MLP `[2·dof] → hidden → 1` (softplus: L needs non-zero second
    /// derivatives).
    fn from_config(c: &LnnConfig, device: &D, seed: u64) -> Result<Self, TensorError> {
        lagrangian_dim(c.dim)?;
        let l = MlpConfig::new(c.dim, &c.hidden, 1, Activation::Softplus, Init::Xavier).init(device, seed)?;
        Ok(Self {
            l,
            kinetic_prior: c.kinetic_prior,
        })
    }
}

impl Lnn {
    /// L_θ as a softplus MLP `[2·dof] → hidden → 1`.
    pub fn new(dim: usize, hidden: &[usize], kinetic_prior: bool, seed: u64) -> Result<Self, DynamicsError> {
        lagrangian_dim(dim).map_err(|e| DynamicsError::ShapeMismatch(e.to_string()))?;
        on_default_device(
            &LnnConfig {
                dim,
                hidden: hidden.to_vec(),
                kinetic_prior,
            },
            seed,
        )
    }
    /// Loads a checkpoint written by [`DynamicsModel::save`] (the prior is in its config).
    pub fn load(path: &Path) -> Result<Self, DynamicsError> {
        load_default(path)
    }
}

/// LNN training targets are full fields (q̇, q̈); the loss compares the accelerations.
struct LagrangianLoss;

impl<E: Real, D: Device<E>> Loss<E, D, Lnn<E, D>> for LagrangianLoss {
    fn loss<T: Tape<E, D> + Merge<T>>(
        &self,
        model: &Lnn<E, D>,
        batch: &Supervised<E, D>,
        tape: T,
    ) -> Result<Tensor<(), E, D, T>, TensorError> {
        let n = batch.targets.shape().1;
        let dof = n / 2;
        let q_ddot = batch
            .targets
            .clone()
            .matmul(columns::select(batch.targets.device(), n, dof, dof));
        liouville_tensor::losses::lnn_loss(&model.l, &batch.inputs, &q_ddot, model.kinetic_prior, tape)
    }
}

impl<E: Real, D: Device<E>> DynamicsModel for Lnn<E, D> {
    fn dim(&self) -> usize {
        self.l.widths()[0]
    }
    fn field(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, DynamicsError> {
        check_columns(x, self.dim())?;
        let dof = self.dim() / 2;
        let qdd = array(&liouville_tensor::losses::lnn_accelerations(
            &self.l,
            &tensor(self.l.device(), x),
            self.kinetic_prior,
            NoneTape,
        )?);
        Ok(Array2::from_shape_fn(x.dim(), |(r, c)| {
            if c < dof { x[[r, dof + c]] } else { qdd[[r, c - dof]] }
        }))
    }
    fn fit(&mut self, data: &Examples, cfg: &TrainConfig) -> Result<TrainReport, DynamicsError> {
        Ok(train(self, data, &LagrangianLoss, cfg)?)
    }
    fn save(&self, path: &Path) -> Result<(), DynamicsError> {
        Ok(checkpoint::save(self, path, None)?)
    }
}
