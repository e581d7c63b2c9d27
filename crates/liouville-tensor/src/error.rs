//! Typed errors of the autodiff layer.

use std::path::PathBuf;

use thiserror::Error;

/// What went wrong building, training, saving or loading a model.
#[derive(Debug, Error)]
pub enum TensorError {
    /// Arrays, batches or checkpoints whose shapes do not fit.
    #[error("shape mismatch: {0}")]
    ShapeMismatch(String),
    /// An invalid configuration (zero width, negative learning rate, …).
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// A loss or gradient that is NaN or infinite; training stops and keeps the last good
    /// checkpoint.
    #[error("non-finite {what} at step {step}")]
    NonFinite {
        /// "loss" or "gradient".
        what: &'static str,
        /// Optimiser step.
        step: usize,
    },
    /// Input data that is NaN or infinite, named by where it is (row, column, value).
    #[error("non-finite input: {0}")]
    NonFiniteInput(String),
    /// A corrupt, truncated or foreign checkpoint.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// File.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A well-formed checkpoint of another kind, format version, dtype, configuration or shape
    /// than the one asked for.
    #[error("checkpoint {path}: {field} is {found}, expected {expected}")]
    CheckpointMismatch {
        /// File.
        path: PathBuf,
        /// What differs: `kind`, `version`, `dtype`, `config.<field>` or a tensor's name.
        field: String,
        /// What the caller's model has.
        expected: String,
        /// What the file holds.
        found: String,
    },
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}
