//! Typed errors: every bad input or failed solve is reported, never panicked on.

use thiserror::Error;

/// Why an integration could not be started or completed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum IntegrateError {
    /// The state contains NaN or ±∞ (at the start, or produced by the right-hand side).
    #[error("non-finite state at t = {t}")]
    NonFiniteState {
        /// Time at which the non-finite value was seen.
        t: f64,
    },
    /// A fixed step size that is zero, negative or not finite.
    #[error("invalid step size dt = {dt}: it must be finite and positive")]
    InvalidStep {
        /// The rejected step size.
        dt: f64,
    },
    /// An end time that cannot be reached from the start time with the given direction.
    #[error("t_end = {t_end} is on the wrong side of t0 = {t0} (or not finite)")]
    WrongDirection {
        /// Start time.
        t0: f64,
        /// Requested end time.
        t_end: f64,
    },
    /// Tolerances must be positive and finite.
    #[error("invalid tolerances rtol = {rtol}, atol = {atol}: both must be finite and > 0")]
    InvalidTolerance {
        /// Relative tolerance.
        rtol: f64,
        /// Absolute tolerance.
        atol: f64,
    },
    /// The adaptive controller asked for a step below the allowed minimum.
    #[error("step size {h:e} fell below min_step {min_step:e} at t = {t} (stiff or singular problem?)")]
    StepSizeUnderflow {
        /// Time reached.
        t: f64,
        /// Proposed step.
        h: f64,
        /// The floor.
        min_step: f64,
    },
    /// The adaptive solver took `max_steps` steps without reaching `t_end`.
    #[error("reached the limit of {max_steps} steps at t = {t}")]
    TooManySteps {
        /// Time reached.
        t: f64,
        /// The limit.
        max_steps: usize,
    },
    /// The stage equations of an implicit method did not converge.
    #[error(
        "implicit stage equations did not converge in {iterations} iterations at t = {t} (last correction {correction:e})"
    )]
    ImplicitNotConverged {
        /// Time of the step.
        t: f64,
        /// Iterations spent.
        iterations: usize,
        /// Size of the last correction, relative to the tolerance scale.
        correction: f64,
    },
    /// A state whose shape does not match the system.
    #[error("state has {found} columns, the system expects {expected}")]
    DimensionMismatch {
        /// Columns the system needs.
        expected: usize,
        /// Columns given.
        found: usize,
    },
    /// One member of an ensemble failed.
    #[error("ensemble member {index}: {source}")]
    EnsembleMember {
        /// Index of the member (its initial state) in the ensemble.
        index: usize,
        /// Why it failed.
        source: Box<IntegrateError>,
    },
    /// An invalid option that is not a tolerance or a step (for example a zero iteration cap).
    #[error("invalid option: {0}")]
    InvalidOption(String),
}
