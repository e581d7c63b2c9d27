//! Typed errors of the dynamics models.

use thiserror::Error;

/// What went wrong training, predicting, rolling out, saving or loading a model.
#[derive(Debug, Error)]
pub enum DynamicsError {
    /// From the autodiff layer (shapes, non-finite losses, checkpoints).
    #[error(transparent)]
    Tensor(#[from] liouville_tensor::TensorError),
    /// From an integrator during a rollout.
    #[error(transparent)]
    Integrate(#[from] liouville_integrate::IntegrateError),
    /// From the simulators or datasets.
    #[error(transparent)]
    Sim(#[from] liouville_sim::SimError),
    /// Inputs whose shapes do not fit the model.
    #[error("shape mismatch: {0}")]
    ShapeMismatch(String),
}
