//! Fixed-step integration: the [`Stepper`] trait all fixed-step methods implement, and the
//! driver that advances a batch over a uniform time grid (parallel over rows with rayon).

use ndarray::{Array2, Array3, ArrayView2, ArrayViewMut2, Axis, Zip};
use rayon::prelude::*;

use crate::IntegrateError;
use crate::validate::{check_finite, check_state_shape};

/// Work counters of a solve.
///
/// `evaluations` counts batched right-hand-side calls: f(t, y) for Runge–Kutta and collocation
/// methods, ∇V(q) (the force) for the splitting methods, whose ∇T(p) drifts are not counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Accepted steps.
    pub steps: usize,
    /// Rejected step attempts (adaptive methods only).
    pub rejected: usize,
    /// Right-hand-side (or force) evaluations.
    pub evaluations: usize,
    /// Fixed-point or Newton iterations (implicit methods only).
    pub iterations: usize,
}

impl std::ops::AddAssign for Stats {
    fn add_assign(&mut self, o: Self) {
        self.steps += o.steps;
        self.rejected += o.rejected;
        self.evaluations += o.evaluations;
        self.iterations += o.iterations;
    }
}

/// A one-step method with a fixed step size: y(t + dt) ≈ Φ_dt(y(t)).
pub trait Stepper: Send + Sync {
    /// Classical order p of the global error, O(dtᵖ).
    fn order(&self) -> u32;
    /// Number of state columns the method expects.
    fn dim(&self) -> usize;
    /// Advances every row of `y` from `t` to `t + dt` in place.
    ///
    /// `dt` may be negative (backward steps, used to check time reversibility); drivers only ever
    /// pass positive steps.
    fn step(&mut self, t: f64, dt: f64, y: ArrayViewMut2<'_, f64>) -> Result<(), IntegrateError>;
    /// Work done so far.
    fn stats(&self) -> Stats;
    /// A stepper for the same system and method with fresh workspace and zeroed statistics,
    /// used to integrate independent chunks of rows in parallel.
    fn fork(&self) -> Self
    where
        Self: Sized;
}

/// A validated uniform time grid t₀, t₀ + dt, …, t₀ + n·dt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FixedGrid {
    t0: f64,
    dt: f64,
    n_steps: usize,
}

impl FixedGrid {
    /// `n_steps` steps of size `dt` from `t0`.
    pub fn new(t0: f64, dt: f64, n_steps: usize) -> Result<Self, IntegrateError> {
        if !(dt.is_finite() && dt > 0.0) {
            return Err(IntegrateError::InvalidStep { dt });
        }
        if !t0.is_finite() {
            return Err(IntegrateError::WrongDirection { t0, t_end: t0 });
        }
        Ok(Self { t0, dt, n_steps })
    }

    /// From `t0` to `t_end` in steps as close to `dt` as divide the interval evenly
    /// (n = round((t_end - t0)/dt), step (t_end - t0)/n), so the grid ends exactly at `t_end`.
    pub fn spanning(t0: f64, t_end: f64, dt: f64) -> Result<Self, IntegrateError> {
        if !(dt.is_finite() && dt > 0.0) {
            return Err(IntegrateError::InvalidStep { dt });
        }
        if !(t0.is_finite() && t_end.is_finite() && t_end > t0) {
            return Err(IntegrateError::WrongDirection { t0, t_end });
        }
        let n = ((t_end - t0) / dt).round().max(1.0) as usize;
        Ok(Self {
            t0,
            dt: (t_end - t0) / n as f64,
            n_steps: n,
        })
    }

    /// Start time.
    pub fn t0(&self) -> f64 {
        self.t0
    }
    /// Step size.
    pub fn dt(&self) -> f64 {
        self.dt
    }
    /// Number of steps.
    pub fn n_steps(&self) -> usize {
        self.n_steps
    }
    /// Time after `k` steps, computed as t₀ + k·dt (no accumulated round-off).
    pub fn time(&self, k: usize) -> f64 {
        self.t0 + k as f64 * self.dt
    }
}

/// Recorded states of a batch along a time grid.
#[derive(Debug, Clone)]
pub struct Solution {
    /// Recorded times.
    pub times: Vec<f64>,
    /// States, shaped `[time, trajectory, component]`.
    pub states: Array3<f64>,
    /// Work counters summed over all rows.
    pub stats: Stats,
}

impl Solution {
    /// The final state of every trajectory.
    pub fn last(&self) -> ArrayView2<'_, f64> {
        self.states.index_axis(Axis(0), self.states.len_of(Axis(0)) - 1)
    }
}

/// Rows integrated per parallel task. Fixed (not derived from the thread count) so that the
/// result is bit-identical on any number of threads, including for implicit methods whose
/// iteration count depends on which rows share a chunk.
pub const ROWS_PER_TASK: usize = 512;

/// Integrates a batch `y0` (one trajectory per row) over `grid`, recording the state at t₀, every
/// `record_every` steps and at the final step.
///
/// Rows are independent, so batches larger than [`ROWS_PER_TASK`] are split into chunks that
/// run in parallel on rayon's pool, each with a [`Stepper::fork`] of `stepper`.
pub fn integrate<S: Stepper>(
    stepper: &S,
    grid: &FixedGrid,
    y0: ArrayView2<'_, f64>,
    record_every: usize,
) -> Result<Solution, IntegrateError> {
    check_state_shape(stepper.dim(), y0)?;
    check_finite(grid.t0, y0)?;
    if record_every == 0 {
        return Err(IntegrateError::InvalidOption("record_every must be at least 1".into()));
    }
    let n = grid.n_steps;
    let mut record_steps: Vec<usize> = (0..=n).step_by(record_every).collect();
    if *record_steps.last().expect("0 is always recorded") != n {
        record_steps.push(n);
    }
    let times = record_steps.iter().map(|&k| grid.time(k)).collect();
    let (rows, dim) = y0.dim();
    let mut states = Array3::zeros((record_steps.len(), rows, dim));

    let run_chunk = |mut out: ndarray::ArrayViewMut3<'_, f64>, y0: ArrayView2<'_, f64>| {
        let mut stepper = stepper.fork();
        let mut y = y0.to_owned();
        out.index_axis_mut(Axis(0), 0).assign(&y);
        let mut next_record = 1;
        for k in 1..=n {
            stepper.step(grid.time(k - 1), grid.dt, y.view_mut())?;
            if record_steps.get(next_record) == Some(&k) {
                check_finite(grid.time(k), y.view())?;
                out.index_axis_mut(Axis(0), next_record).assign(&y);
                next_record += 1;
            }
        }
        Ok::<Stats, IntegrateError>(stepper.stats())
    };

    let stats = if rows <= ROWS_PER_TASK {
        run_chunk(states.view_mut(), y0)?
    } else {
        let results: Vec<Result<Stats, IntegrateError>> = states
            .axis_chunks_iter_mut(Axis(1), ROWS_PER_TASK)
            .into_par_iter()
            .zip(y0.axis_chunks_iter(Axis(0), ROWS_PER_TASK).into_par_iter())
            .map(|(out, y0)| run_chunk(out, y0))
            .collect();
        let mut total = Stats::default();
        for r in results {
            total += r?;
        }
        total
    };
    Ok(Solution { times, states, stats })
}

/// Advances `y` in place by `n_steps` steps of `dt` without recording, in parallel chunks when
/// the batch is large. Returns the work done.
pub fn propagate<S: Stepper>(
    stepper: &S,
    t0: f64,
    dt: f64,
    n_steps: usize,
    mut y: ArrayViewMut2<'_, f64>,
) -> Result<Stats, IntegrateError> {
    let grid = FixedGrid::new(t0, dt, n_steps)?;
    check_state_shape(stepper.dim(), y.view())?;
    check_finite(t0, y.view())?;
    let run_chunk = |mut y: ArrayViewMut2<'_, f64>| {
        let mut stepper = stepper.fork();
        for k in 0..n_steps {
            stepper.step(grid.time(k), dt, y.view_mut())?;
        }
        check_finite(grid.time(n_steps), y.view())?;
        Ok::<Stats, IntegrateError>(stepper.stats())
    };
    if y.nrows() <= ROWS_PER_TASK {
        return run_chunk(y);
    }
    let results: Vec<_> = y
        .axis_chunks_iter_mut(Axis(0), ROWS_PER_TASK)
        .into_par_iter()
        .map(run_chunk)
        .collect();
    let mut total = Stats::default();
    for r in results {
        total += r?;
    }
    Ok(total)
}

/// y ← y + a·x, the update every Runge–Kutta stage is made of.
#[inline]
pub(crate) fn axpy(y: &mut ArrayViewMut2<'_, f64>, a: f64, x: &Array2<f64>) {
    Zip::from(y).and(x).for_each(|y, &x| *y += a * x);
}
