//! One small state `[f64; N]` with a closure right-hand side `f(t, &y) -> ẏ`: no batch wrapping,
//! no ndarray views, stack buffers throughout (the diffrax-style single-trajectory API).

use super::engine;
use super::events::{EventHit, StateEvent};
use super::{Adaptive, Output};
use crate::IntegrateError;
use crate::fixed::Stats;

/// The result of a single-state solve.
#[derive(Debug, Clone, PartialEq)]
pub struct StateSolution<const N: usize> {
    /// Recorded times.
    pub times: Vec<f64>,
    /// The state at each recorded time.
    pub states: Vec<[f64; N]>,
    /// Located event crossings, in time order.
    pub events: Vec<EventHit<[f64; N]>>,
    /// Whether a terminal event stopped the integration before `t_end`.
    pub terminated: bool,
    /// Work counters.
    pub stats: Stats,
}

impl<const N: usize> StateSolution<N> {
    /// The last recorded state (the final one for `Output::Steps` and `Output::Final`).
    pub fn last(&self) -> [f64; N] {
        self.states[self.states.len() - 1]
    }
    /// The last recorded time.
    pub fn last_time(&self) -> f64 {
        self.times[self.times.len() - 1]
    }
}

impl Adaptive {
    /// Integrates one state dy/dt = f(t, y), y ∈ ℝᴺ, from `t0` to `t_end` (either direction).
    ///
    /// ```
    /// use liouville_integrate::adaptive::{Adaptive, AdaptiveMethod, Output};
    /// let solver = Adaptive::new(AdaptiveMethod::Dopri5).rtol(1e-10).atol(1e-10).build().unwrap();
    /// // The harmonic oscillator q̈ = -q.
    /// let sol = solver.solve_state(|_t, y| [y[1], -y[0]], 0.0, 1.0, [1.0, 0.0], Output::Final).unwrap();
    /// assert!((sol.last()[0] - 1f64.cos()).abs() < 1e-9);
    /// ```
    pub fn solve_state<const N: usize, F>(
        &self,
        field: F,
        t0: f64,
        t_end: f64,
        y0: [f64; N],
        output: Output<'_>,
    ) -> Result<StateSolution<N>, IntegrateError>
    where
        F: Fn(f64, &[f64; N]) -> [f64; N],
    {
        self.solve_state_with_events(field, t0, t_end, y0, output, &mut [])
    }

    /// [`Adaptive::solve_state`] with event functions g(t, y) on the state.
    pub fn solve_state_with_events<const N: usize, F>(
        &self,
        field: F,
        t0: f64,
        t_end: f64,
        y0: [f64; N],
        output: Output<'_>,
        events: &mut [StateEvent<'_, N>],
    ) -> Result<StateSolution<N>, IntegrateError>
    where
        F: Fn(f64, &[f64; N]) -> [f64; N],
    {
        if N == 0 {
            return Err(IntegrateError::DimensionMismatch { expected: 1, found: 0 });
        }
        let mut eval = |t: f64, y: &[f64; N], dy: &mut [f64; N]| *dy = field(t, y);
        let run = engine::integrate(self, &mut eval, t0, t_end, y0, output, events)?;
        let states = run
            .values
            .chunks_exact(N)
            .map(|c| c.try_into().expect("chunks of N"))
            .collect();
        Ok(StateSolution {
            times: run.times,
            states,
            events: run.hits,
            terminated: run.terminated,
            stats: run.stats,
        })
    }
}
