//! What can go wrong with an RBM: every variant names the offending value.

use liouville_tensor::TensorError;

/// An RBM error.
#[derive(Debug, thiserror::Error)]
pub enum RbmError {
    /// A value of a binary RBM's data that is neither 0 nor 1.
    #[error("binary data: row {row}, column {column} is {value}, expected 0 or 1")]
    NotBinary {
        /// Row of the data.
        row: usize,
        /// Column (visible unit).
        column: usize,
        /// The value found.
        value: f64,
    },
    /// A NaN or infinite value in data or samples.
    #[error("non-finite input: row {row}, column {column} is {value}")]
    NonFinite {
        /// Row.
        row: usize,
        /// Column.
        column: usize,
        /// The value found.
        value: f64,
    },
    /// Rows whose width is not the RBM's number of visible units (or hidden, for hidden states).
    #[error("width mismatch: {what} has {found} columns, the RBM has {expected}")]
    WidthMismatch {
        /// Which array.
        what: &'static str,
        /// The RBM's width.
        expected: usize,
        /// The array's width.
        found: usize,
    },
    /// Exact enumeration asked of a model whose smaller layer has too many units.
    #[error("exact enumeration over 2^{units} states: more than the limit of 2^{limit}")]
    TooLargeToEnumerate {
        /// Units of the smaller layer.
        units: usize,
        /// The limit.
        limit: usize,
    },
    /// Invalid settings (zero units, zero Gibbs steps, a learning rate that is not positive, …).
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// Training produced a non-finite gradient or parameter; the model (and checkpoint) keep the
    /// last good state.
    #[error("training diverged at epoch {epoch}, batch {batch}: {cause}")]
    Diverged {
        /// Epoch.
        epoch: usize,
        /// Minibatch within the epoch.
        batch: usize,
        /// What was non-finite.
        cause: String,
    },
    /// From the tensor layer (optimiser, checkpoints).
    #[error(transparent)]
    Tensor(#[from] TensorError),
}
