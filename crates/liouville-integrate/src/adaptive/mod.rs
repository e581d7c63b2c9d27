//! Adaptive embedded Runge–Kutta methods with PI step-size control, dense output and events
//! (Hairer–Nørsett–Wanner I, II.4–II.6 and II.10; Gustafsson's PI controller, HNW II §IV.2).
//!
//! A batch `[trajectory, component]` is one system here: all rows share the step, and the error
//! norm is the root mean square over every component, ‖e‖ = √(mean((eᵢ/(atol + rtol·max(|yᵢ|,|ŷᵢ|)))²)).
//! Integrate rows separately (e.g. with rayon) when they need their own steps.
//!
//! The controller's powers come from the pure-Rust `libm`, not the platform's, so the same
//! problem takes the same steps on every operating system (datasets depend on it).

mod controller;
mod dense;
mod engine;
mod ensemble;
mod events;
mod state;
mod steps;
mod storage;
mod tableau;

use ndarray::{Array2, Array3, ArrayView2, ArrayViewMut2, Axis};

pub use events::{BatchEventFn, Crossing, Event, EventHit, StateEvent, StateEventFn};
pub use state::StateSolution;

use crate::fixed::Stats;
use crate::validate::{check_finite, check_state_shape};
use crate::{IntegrateError, VectorField};

/// Which embedded pair to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdaptiveMethod {
    /// Dormand–Prince 5(4), 6 evaluations per step (FSAL), quartic dense output (scipy's `RK45`).
    Dopri5,
    /// Hairer's DOP853: order 8 with a 5th/3rd-order error estimate, 12 evaluations per step and
    /// 3 more for 7th-order dense output when it is used.
    Dop853,
}

impl AdaptiveMethod {
    /// Order of the propagated solution.
    pub fn order(self) -> u32 {
        match self {
            Self::Dopri5 => 5,
            Self::Dop853 => 8,
        }
    }
    /// Order q of the error estimator; steps scale like err^{-1/(q+1)}.
    fn error_order(self) -> u32 {
        match self {
            Self::Dopri5 => 4,
            Self::Dop853 => 7,
        }
    }
    /// A human-readable name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Dopri5 => "Dormand-Prince 5(4)",
            Self::Dop853 => "DOP853",
        }
    }
    fn all_stages(self) -> usize {
        match self {
            Self::Dopri5 => 7,
            Self::Dop853 => 16,
        }
    }
}

/// Builder for an [`Adaptive`] solver; every option is validated by [`AdaptiveBuilder::build`].
#[derive(Debug, Clone)]
pub struct AdaptiveBuilder {
    method: AdaptiveMethod,
    rtol: f64,
    atol: f64,
    first_step: Option<f64>,
    max_step: f64,
    min_step: f64,
    max_steps: usize,
    beta: f64,
    safety: f64,
    min_factor: f64,
    max_factor: f64,
}

impl AdaptiveBuilder {
    /// Relative tolerance (default 1e-6).
    pub fn rtol(mut self, rtol: f64) -> Self {
        self.rtol = rtol;
        self
    }
    /// Absolute tolerance (default 1e-9).
    pub fn atol(mut self, atol: f64) -> Self {
        self.atol = atol;
        self
    }
    /// First step size; chosen by Hairer's heuristic (HNW I, II.4) when not given.
    pub fn first_step(mut self, h: f64) -> Self {
        self.first_step = Some(h);
        self
    }
    /// Largest step allowed (default ∞).
    pub fn max_step(mut self, h: f64) -> Self {
        self.max_step = h;
        self
    }
    /// Smallest step allowed before failing with [`IntegrateError::StepSizeUnderflow`]; the floor
    /// is never below 10·ε·|t| (default 0, i.e. only that floor).
    pub fn min_step(mut self, h: f64) -> Self {
        self.min_step = h;
        self
    }
    /// Accepted-step limit (default 10⁸).
    pub fn max_steps(mut self, n: usize) -> Self {
        self.max_steps = n;
        self
    }
    /// The PI controller's β: hₙ₊₁ = hₙ·safety·errₙ^{-α}·errₙ₋₁^{β}, α = 1/(q+1) - 0.75β.
    /// β = 0 is the classical (integral) controller.
    pub fn pi_beta(mut self, beta: f64) -> Self {
        self.beta = beta;
        self
    }
    /// Safety factor of the step proposal (default 0.9).
    pub fn safety(mut self, safety: f64) -> Self {
        self.safety = safety;
        self
    }
    /// Bounds on the ratio of consecutive step sizes (defaults 0.2 and 10, as Hairer's DOPRI5).
    pub fn step_ratio_bounds(mut self, min_factor: f64, max_factor: f64) -> Self {
        self.min_factor = min_factor;
        self.max_factor = max_factor;
        self
    }
    /// Validates the options.
    pub fn build(self) -> Result<Adaptive, IntegrateError> {
        let (rtol, atol) = (self.rtol, self.atol);
        if !(rtol.is_finite() && atol.is_finite() && rtol > 0.0 && atol > 0.0) {
            return Err(IntegrateError::InvalidTolerance { rtol, atol });
        }
        if let Some(h) = self.first_step
            && !(h.is_finite() && h > 0.0)
        {
            return Err(IntegrateError::InvalidStep { dt: h });
        }
        if self.max_step.is_nan() || self.max_step <= 0.0 {
            return Err(IntegrateError::InvalidStep { dt: self.max_step });
        }
        if !(self.min_step >= 0.0 && self.min_step < self.max_step) {
            return Err(IntegrateError::InvalidOption(format!(
                "min_step = {} must be ≥ 0 and below max_step = {}",
                self.min_step, self.max_step
            )));
        }
        if self.max_steps == 0 {
            return Err(IntegrateError::InvalidOption("max_steps must be at least 1".into()));
        }
        let ratios_ok =
            self.min_factor > 0.0 && self.min_factor < 1.0 && self.max_factor > 1.0 && self.max_factor.is_finite();
        if !(self.safety > 0.0 && self.safety <= 1.0 && ratios_ok) {
            return Err(IntegrateError::InvalidOption(format!(
                "safety {} must be in (0, 1], step ratio bounds ({}, {}) must bracket 1",
                self.safety, self.min_factor, self.max_factor
            )));
        }
        let alpha = 1.0 / (self.method.error_order() as f64 + 1.0) - 0.75 * self.beta;
        if !(self.beta >= 0.0 && alpha > 0.0) {
            return Err(IntegrateError::InvalidOption(format!(
                "PI beta = {} out of range",
                self.beta
            )));
        }
        Ok(Adaptive { options: self, alpha })
    }
}

/// What an adaptive solve records.
#[derive(Debug, Clone, Copy)]
pub enum Output<'a> {
    /// The state after every accepted step (and the initial state).
    Steps,
    /// The state at these times, interpolated by dense output; they must lie in [t₀, t_end] and be
    /// monotone in the direction of integration.
    Times(&'a [f64]),
    /// Only the initial and the final state.
    Final,
}

/// The result of a batched adaptive solve.
#[derive(Debug, Clone)]
pub struct AdaptiveSolution {
    /// Recorded times.
    pub times: Vec<f64>,
    /// States `[time, trajectory, component]`.
    pub states: Array3<f64>,
    /// Located event crossings, in time order.
    pub events: Vec<EventHit>,
    /// Whether a terminal event stopped the integration before `t_end`.
    pub terminated: bool,
    /// Work counters.
    pub stats: Stats,
}

impl AdaptiveSolution {
    /// The last recorded state `[trajectory, component]` (the final one for `Steps` and `Final`).
    pub fn last(&self) -> ndarray::ArrayView2<'_, f64> {
        self.states.index_axis(Axis(0), self.times.len() - 1)
    }
    /// The last recorded time.
    pub fn last_time(&self) -> f64 {
        self.times[self.times.len() - 1]
    }
}

/// A validated adaptive solver (see [`Adaptive::new`]).
#[derive(Debug, Clone)]
pub struct Adaptive {
    options: AdaptiveBuilder,
    alpha: f64,
}

impl Adaptive {
    /// Starts a builder with defaults rtol 1e-6, atol 1e-9 and a PI controller: β = 0.04 and
    /// safety 0.95 for Dopri5, β = 0.03 and safety 0.8 for DOP853. These controller settings came
    /// from a sweep on the Kepler problem (e = 0.6, rtol = atol = 1e-10, 100 periods), where they
    /// give a smaller error than scipy's integral controller in fewer evaluations (pinned in
    /// `tests/adaptive.rs`); β = 0 with safety 0.9 reproduces scipy's `RK45`/`DOP853` step for step.
    #[allow(clippy::new_ret_no_self)] // the builder pattern: `Adaptive::new(m).rtol(..).build()?`
    pub fn new(method: AdaptiveMethod) -> AdaptiveBuilder {
        AdaptiveBuilder {
            method,
            rtol: 1e-6,
            atol: 1e-9,
            first_step: None,
            max_step: f64::INFINITY,
            min_step: 0.0,
            max_steps: 100_000_000,
            beta: match method {
                AdaptiveMethod::Dopri5 => 0.04,
                AdaptiveMethod::Dop853 => 0.03,
            },
            safety: match method {
                AdaptiveMethod::Dopri5 => 0.95,
                AdaptiveMethod::Dop853 => 0.8,
            },
            min_factor: 0.2,
            max_factor: 10.0,
        }
    }

    /// The method.
    pub fn method(&self) -> AdaptiveMethod {
        self.options.method
    }

    /// Integrates dy/dt = f(t, y) from `t0` to `t_end` (either direction) starting at the batch
    /// `y0` (one trajectory per row, all sharing the steps).
    pub fn solve<F: VectorField + ?Sized>(
        &self,
        field: &F,
        t0: f64,
        t_end: f64,
        y0: ArrayView2<'_, f64>,
        output: Output<'_>,
    ) -> Result<AdaptiveSolution, IntegrateError> {
        self.solve_with_events(field, t0, t_end, y0, output, &mut [])
    }

    /// [`Adaptive::solve`] with event functions, located on the dense output.
    ///
    /// A one-row batch of at most 8 components is stepped in stack arrays (the small-system fast
    /// path); it takes bit-identical steps to the general path (`tests/small_systems.rs`).
    pub fn solve_with_events<F: VectorField + ?Sized>(
        &self,
        field: &F,
        t0: f64,
        t_end: f64,
        y0: ArrayView2<'_, f64>,
        output: Output<'_>,
        events: &mut [Event<'_>],
    ) -> Result<AdaptiveSolution, IntegrateError> {
        check_state_shape(field.dim(), y0)?;
        check_finite(t0, y0)?;
        macro_rules! on_the_stack {
            ($($n:literal)*) => {
                match y0.ncols() {
                    $($n if y0.nrows() == 1 => return self.solve_row::<$n, F>(field, t0, t_end, y0, output, events),)*
                    _ => {}
                }
            };
        }
        on_the_stack!(1 2 3 4 5 6 7 8);
        let shape = y0.dim();
        let mut eval = |t: f64, y: &Array2<f64>, dy: &mut Array2<f64>| field.eval(t, y.view(), dy.view_mut());
        let eval: &mut StageRate<'_, Array2<f64>> = &mut eval;
        let run = engine::integrate(self, eval, t0, t_end, y0.to_owned(), output, events)?;
        Ok(batch_solution(run, shape, |y| y))
    }

    /// One row of N components, stepped in `[f64; N]` buffers; the field still sees a batch.
    fn solve_row<const N: usize, F: VectorField + ?Sized>(
        &self,
        field: &F,
        t0: f64,
        t_end: f64,
        y0: ArrayView2<'_, f64>,
        output: Output<'_>,
        events: &mut [Event<'_>],
    ) -> Result<AdaptiveSolution, IntegrateError> {
        let start: [f64; N] = std::array::from_fn(|i| y0[[0, i]]);
        let mut eval = |t: f64, y: &[f64; N], dy: &mut [f64; N]| {
            let dy = ArrayViewMut2::from_shape((1, N), dy).expect("one row of N components");
            field.eval(
                t,
                ArrayView2::from_shape((1, N), y).expect("one row of N components"),
                dy,
            )
        };
        // Behind `dyn`: one copy of the stepping loop per N, not per field type.
        let eval: &mut StageRate<'_, [f64; N]> = &mut eval;
        let run = engine::integrate(self, eval, t0, t_end, start, output, events)?;
        Ok(batch_solution(run, (1, N), |y| {
            Array2::from_shape_vec((1, N), y.to_vec()).expect("one row of N components")
        }))
    }
}

/// A run as a batched solution: states `[time, trajectory, component]`, event states as batches.
fn batch_solution<S>(
    run: engine::Run<S>,
    shape: (usize, usize),
    as_batch: impl Fn(S) -> Array2<f64>,
) -> AdaptiveSolution {
    let states = Array3::from_shape_vec((run.times.len(), shape.0, shape.1), run.values)
        .expect("recorded values match the recorded times");
    AdaptiveSolution {
        times: run.times,
        states,
        events: run
            .hits
            .into_iter()
            .map(|h| EventHit {
                event: h.event,
                t: h.t,
                y: as_batch(h.y),
            })
            .collect(),
        terminated: run.terminated,
        stats: run.stats,
    }
}

/// The right-hand side as the engine calls it, behind `dyn` on the batched paths.
type StageRate<'a, S> = dyn FnMut(f64, &S, &mut S) + 'a;

/// A convenience: integrate and return the final state only.
pub fn solve_to_end<F: VectorField + ?Sized>(
    solver: &Adaptive,
    field: &F,
    t0: f64,
    t_end: f64,
    y0: ArrayView2<'_, f64>,
) -> Result<(Array2<f64>, Stats), IntegrateError> {
    let sol = solver.solve(field, t0, t_end, y0, Output::Final)?;
    Ok((sol.last().to_owned(), sol.stats))
}
