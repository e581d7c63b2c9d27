//! Every trainable dynamics model by name: build one, pick its training examples from a dataset,
//! and load any checkpoint back — the one load path: the checkpoint's header names the kind and
//! holds its typed config, `liouville_tensor::checkpoint::load` builds the model from that config
//! on the device and fills the weights. The CLI and the reproductions go through here.

use std::path::Path;

use liouville_sim::dataset::Dataset;
use liouville_tensor::train::Examples;
use liouville_tensor::{TensorError, checkpoint};

use crate::DynamicsError;
use crate::coordinates::lagrangian_examples;
use crate::delan::Delan;
use crate::models::{Baseline, DissipativeHnn, DynamicsModel, Hnn, Lnn, examples, load_default};
use crate::neural_ode::{LeapfrogOde, NeuralOde, OdeGradient, windows};
use crate::srnn::Srnn;
use crate::vin::Vin;

/// A model of any kind on the host device, ready to roll out through the integrators.
pub type Model = Box<dyn DynamicsModel + Send + Sync>;

/// The model families that train on datasets and roll out as vector fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// MLP vector field.
    Baseline,
    /// Hamiltonian neural network.
    Hnn,
    /// Learned H with learned PSD damping.
    DissipativeHnn,
    /// Lagrangian neural network (on (q, q̇)).
    Lnn,
    /// Neural ODE trained through RK4 on trajectory windows.
    NeuralOde,
    /// Symplectic RNN: separable learned H trained through multi-step leapfrog on windows.
    Srnn,
    /// Deep Lagrangian network (on (q, q̇)): L = ½q̇ᵀM(q)q̇ − V(q), M through a Cholesky factor.
    Delan,
    /// Partitioned neural ODE q̇ = v(p), ṗ = a(q) trained through leapfrog on windows.
    LeapfrogOde,
    /// Variational integrator network: learned V(q) and diagonal mass through velocity Verlet.
    Vin,
}

/// Options some kinds need; the defaults suit the HNN paper's tasks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelOptions {
    /// LNN: add ½|q̇|² to the learned L.
    pub kinetic_prior: bool,
    /// Neural ODE and SRNN: observations per training window.
    pub horizon: usize,
    /// Neural ODE and SRNN: integrator steps between observations.
    pub substeps: usize,
    /// Neural ODE: backprop or adjoint.
    pub gradient: OdeGradient,
}

impl Default for ModelOptions {
    fn default() -> Self {
        Self {
            kinetic_prior: true,
            horizon: 4,
            substeps: 2,
            gradient: OdeGradient::Adjoint,
        }
    }
}

impl ModelKind {
    /// Every kind.
    pub const ALL: [ModelKind; 9] = [
        ModelKind::Baseline,
        ModelKind::Hnn,
        ModelKind::DissipativeHnn,
        ModelKind::Lnn,
        ModelKind::NeuralOde,
        ModelKind::Srnn,
        ModelKind::Delan,
        ModelKind::LeapfrogOde,
        ModelKind::Vin,
    ];

    /// The name used on the command line and in checkpoints.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Baseline => "baseline",
            ModelKind::Hnn => "hnn",
            ModelKind::DissipativeHnn => "dissipative_hnn",
            ModelKind::Lnn => "lnn",
            ModelKind::NeuralOde => "neural_ode",
            ModelKind::Srnn => "srnn",
            ModelKind::Delan => "delan",
            ModelKind::LeapfrogOde => "leapfrog_ode",
            ModelKind::Vin => "vin",
        }
    }

    /// The kind called `name` (`-` and `_` are interchangeable).
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.replace('-', "_");
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether the model's flow conserves a learned energy by construction (HNN, LNN, DeLaN and
    /// the separable-Hamiltonian recurrent models); such a model cannot fit a dissipative or
    /// driven system.
    pub fn conservative(self) -> bool {
        matches!(
            self,
            ModelKind::Hnn
                | ModelKind::Lnn
                | ModelKind::Delan
                | ModelKind::Srnn
                | ModelKind::LeapfrogOde
                | ModelKind::Vin
        )
    }

    /// Whether the model trains through an integrator on trajectory windows (its examples are
    /// windows, not (state, derivative) pairs).
    pub fn trains_on_windows(self) -> bool {
        matches!(
            self,
            ModelKind::NeuralOde | ModelKind::Srnn | ModelKind::LeapfrogOde | ModelKind::Vin
        )
    }

    /// Whether the model works in velocity coordinates (q, q̇) rather than (q, p).
    pub fn lagrangian(self) -> bool {
        matches!(self, ModelKind::Lnn | ModelKind::Delan)
    }

    /// A fresh model for states of `dim` columns with the given hidden widths.
    pub fn build(
        self,
        ds: &Dataset,
        hidden: &[usize],
        options: &ModelOptions,
        seed: u64,
    ) -> Result<Model, DynamicsError> {
        if hidden.is_empty() || hidden.contains(&0) {
            return Err(liouville_tensor::TensorError::InvalidConfig(format!(
                "hidden widths {hidden:?}: every model needs at least one hidden layer of width ≥ 1 (an empty list would be a linear map), e.g. [200, 200]"
            ))
            .into());
        }
        let dim = ds.states.shape()[2];
        Ok(match self {
            ModelKind::Baseline => Box::new(Baseline::new(dim, hidden, seed)?),
            ModelKind::Hnn => Box::new(Hnn::new(dim, hidden, seed)?),
            ModelKind::DissipativeHnn => Box::new(DissipativeHnn::new(dim, hidden, seed)?),
            ModelKind::Lnn => Box::new(Lnn::new(dim, hidden, options.kinetic_prior, seed)?),
            ModelKind::NeuralOde => {
                let interval = sample_interval(ds)?;
                Box::new(NeuralOde::new(
                    dim,
                    hidden,
                    interval,
                    options.substeps,
                    options.gradient,
                    seed,
                )?)
            }
            ModelKind::Delan => Box::new(Delan::new(dim, hidden, seed)?),
            ModelKind::LeapfrogOde => Box::new(LeapfrogOde::new(
                dim,
                hidden,
                sample_interval(ds)?,
                options.substeps,
                seed,
            )?),
            ModelKind::Srnn => Box::new(Srnn::new(dim, hidden, sample_interval(ds)?, options.substeps, seed)?),
            ModelKind::Vin => Box::new(Vin::new(dim, hidden, sample_interval(ds)?, options.substeps, seed)?),
        })
    }

    /// The training examples of the chosen trajectories for this kind: (state, ẋ) pairs,
    /// (q, q̇) → (q̇, q̈) pairs for Lagrangian models, trajectory windows for neural ODEs.
    pub fn examples(
        self,
        ds: &Dataset,
        trajectories: &[usize],
        options: &ModelOptions,
    ) -> Result<Examples, DynamicsError> {
        match self {
            ModelKind::Lnn | ModelKind::Delan => lagrangian_examples(ds, trajectories),
            _ if self.trains_on_windows() => windows(ds, trajectories, options.horizon),
            _ => examples(ds, trajectories),
        }
    }
}

/// The (uniform) spacing of a dataset's sample times.
fn sample_interval(ds: &Dataset) -> Result<f64, DynamicsError> {
    match ds.times.as_slice() {
        [t0, t1, ..] if t1 > t0 => Ok(t1 - t0),
        _ => Err(DynamicsError::ShapeMismatch(
            "a neural ODE needs at least two sample times".into(),
        )),
    }
}

/// Loads any checkpoint written by a model's `save` (or by a training run's best-model
/// checkpoint), returning its kind too. A checkpoint of another format version, dtype or an
/// unknown kind is a typed error naming what differs.
pub fn load(path: &Path) -> Result<(ModelKind, Model), DynamicsError> {
    let header = checkpoint::read_header(path)?;
    let kind = ModelKind::parse(&header.kind).ok_or_else(|| {
        DynamicsError::Tensor(TensorError::CheckpointMismatch {
            path: path.to_owned(),
            field: "kind".into(),
            expected: ModelKind::ALL.map(ModelKind::name).join(" | "),
            found: header.kind.clone(),
        })
    })?;
    let model: Model = match kind {
        ModelKind::Baseline => Box::new(load_default::<Baseline>(path)?),
        ModelKind::Hnn => Box::new(load_default::<Hnn>(path)?),
        ModelKind::DissipativeHnn => Box::new(load_default::<DissipativeHnn>(path)?),
        ModelKind::Lnn => Box::new(load_default::<Lnn>(path)?),
        ModelKind::NeuralOde => Box::new(load_default::<NeuralOde>(path)?),
        ModelKind::Srnn => Box::new(load_default::<Srnn>(path)?),
        ModelKind::Delan => Box::new(load_default::<Delan>(path)?),
        ModelKind::LeapfrogOde => Box::new(load_default::<LeapfrogOde>(path)?),
        ModelKind::Vin => Box::new(load_default::<Vin>(path)?),
    };
    Ok((kind, model))
}
