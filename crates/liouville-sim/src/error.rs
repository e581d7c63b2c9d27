//! Typed errors of systems, simulators and datasets.

use std::path::PathBuf;

use liouville_integrate::IntegrateError;
use thiserror::Error;

/// Why a system could not be built, a simulation run, or a dataset read or written.
#[derive(Debug, Error)]
pub enum SimError {
    /// A physical parameter outside its domain (zero mass, negative length, …).
    #[error("invalid parameter {name} = {value}: {requirement}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// Rejected value.
        value: f64,
        /// What it must satisfy.
        requirement: &'static str,
    },
    /// An invalid option of a generator or sampler (zero trajectories, bad shard, …).
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// The integrator failed.
    #[error(transparent)]
    Integrate(#[from] IntegrateError),
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// File involved.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A dataset file that is not one, is truncated, corrupt, or of another format version.
    #[error("corrupt or unsupported dataset: {0}")]
    Format(String),
    /// Arrays or datasets whose shapes do not fit together.
    #[error("shape mismatch: {0}")]
    ShapeMismatch(String),
    /// A trajectory used its whole step budget before reaching t_end.
    #[error(
        "t_end = {t_end:e}: trajectory {trajectory} used its budget of {max_steps} DOP853 steps by t = {t:.6e}; lower t_end or raise the step budget"
    )]
    StepBudget {
        /// The requested final time.
        t_end: f64,
        /// Index of the trajectory.
        trajectory: usize,
        /// The budget.
        max_steps: usize,
        /// Time reached.
        t: f64,
    },
    /// A dataset larger than the memory limit, refused before any work.
    #[error(
        "the dataset would take {bytes} bytes in memory ({what}), over the limit of {limit}; lower the counts or raise the limit"
    )]
    TooLarge {
        /// Estimated size.
        bytes: u128,
        /// The limit.
        limit: u64,
        /// Where the size comes from.
        what: String,
    },
    /// Writing the `.npz` export failed.
    #[error("npz export: {0}")]
    Npz(String),
}

/// Checks a parameter that must be finite and strictly positive.
pub(crate) fn positive(name: &'static str, value: f64) -> Result<f64, SimError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(SimError::InvalidParameter {
            name,
            value,
            requirement: "must be finite and > 0",
        })
    }
}

/// Checks a parameter that must be finite and non-negative.
pub(crate) fn non_negative(name: &'static str, value: f64) -> Result<f64, SimError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(SimError::InvalidParameter {
            name,
            value,
            requirement: "must be finite and >= 0",
        })
    }
}

/// Checks a parameter that must be finite.
pub(crate) fn finite(name: &'static str, value: f64) -> Result<f64, SimError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(SimError::InvalidParameter {
            name,
            value,
            requirement: "must be finite",
        })
    }
}
