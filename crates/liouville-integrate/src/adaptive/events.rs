//! Events: zero crossings g(t, y(t)) = 0 of user functions, located on the dense output (used for
//! Poincaré sections, impacts, stopping conditions).
//!
//! A crossing inside a step is a strict sign change (g₀ < 0 ≤ g₁ for a rising one). A function
//! that is exactly zero at t₀ and leaves zero in the event's direction during the first step is a
//! crossing at t₀, as in scipy's `solve_ivp`; one that stays zero is not a crossing.

use ndarray::ArrayView2;

use super::dense::Dense;
use super::storage::Storage;

/// Which sign changes of g count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crossing {
    /// Either direction.
    Any,
    /// g goes from negative to non-negative.
    Rising,
    /// g goes from positive to non-positive.
    Falling,
}

impl Crossing {
    /// A sign change from g₀ to g₁ in this direction.
    fn inside(self, g0: f64, g1: f64) -> bool {
        match self {
            Self::Any => (g0 < 0.0 && g1 >= 0.0) || (g0 > 0.0 && g1 <= 0.0),
            Self::Rising => g0 < 0.0 && g1 >= 0.0,
            Self::Falling => g0 > 0.0 && g1 <= 0.0,
        }
    }
    /// g is zero at the start and leaves zero in this direction.
    fn leaves_zero(self, g0: f64, g1: f64) -> bool {
        g0 == 0.0
            && match self {
                Self::Any => g1 != 0.0,
                Self::Rising => g1 > 0.0,
                Self::Falling => g1 < 0.0,
            }
    }
}

/// The event function of a batched solve: g(t, y) on the `[trajectory, component]` state.
pub type BatchEventFn<'a> = dyn FnMut(f64, ArrayView2<'_, f64>) -> f64 + 'a;

/// The event function of a single-state solve: g(t, y) on `[f64; N]`.
pub type StateEventFn<'a, const N: usize> = dyn FnMut(f64, &[f64; N]) -> f64 + 'a;

/// An event function g(t, y) with its crossing direction and whether it stops the solve.
///
/// `Event<'a>` takes batches (for [`Adaptive::solve_with_events`](super::Adaptive::solve_with_events));
/// [`StateEvent`] takes one state `[f64; N]` (for [`Adaptive::solve_state_with_events`](super::Adaptive::solve_state_with_events)).
pub struct Event<'a, G: ?Sized = BatchEventFn<'a>> {
    g: Box<G>,
    /// Which crossings are reported.
    pub crossing: Crossing,
    /// Stop the integration at the first reported crossing.
    pub terminal: bool,
    lifetime: std::marker::PhantomData<&'a ()>,
}

/// An event on a single state `[f64; N]`.
pub type StateEvent<'a, const N: usize> = Event<'a, StateEventFn<'a, N>>;

impl<'a> Event<'a> {
    /// An event that records every crossing of `g(t, batch)` in the given direction.
    pub fn new(crossing: Crossing, g: impl FnMut(f64, ArrayView2<'_, f64>) -> f64 + 'a) -> Self {
        Self {
            g: Box::new(g),
            crossing,
            terminal: false,
            lifetime: std::marker::PhantomData,
        }
    }
}

impl<'a, const N: usize> Event<'a, StateEventFn<'a, N>> {
    /// An event that records every crossing of `g(t, y)` on one state in the given direction.
    pub fn on_state(crossing: Crossing, g: impl FnMut(f64, &[f64; N]) -> f64 + 'a) -> Self {
        Self {
            g: Box::new(g),
            crossing,
            terminal: false,
            lifetime: std::marker::PhantomData,
        }
    }
}

impl<G: ?Sized> Event<'_, G> {
    /// Makes the event stop the integration.
    pub fn terminal(mut self) -> Self {
        self.terminal = true;
        self
    }
}

/// What the engine needs of an event on states of type `S`.
pub(crate) trait EventFunction<S> {
    fn value(&mut self, t: f64, y: &S) -> f64;
    fn rule(&self) -> (Crossing, bool);
}

impl<'a, S: Storage> EventFunction<S> for Event<'a, BatchEventFn<'a>> {
    fn value(&mut self, t: f64, y: &S) -> f64 {
        (self.g)(t, y.batch_view())
    }
    fn rule(&self) -> (Crossing, bool) {
        (self.crossing, self.terminal)
    }
}

impl<'a, const N: usize> EventFunction<[f64; N]> for Event<'a, StateEventFn<'a, N>> {
    fn value(&mut self, t: f64, y: &[f64; N]) -> f64 {
        (self.g)(t, y)
    }
    fn rule(&self) -> (Crossing, bool) {
        (self.crossing, self.terminal)
    }
}

/// A located crossing.
#[derive(Debug, Clone, PartialEq)]
pub struct EventHit<Y = ndarray::Array2<f64>> {
    /// Index of the event in the slice passed to the solver.
    pub event: usize,
    /// Time of the crossing.
    pub t: f64,
    /// State at the crossing, from the dense output.
    pub y: Y,
}

/// Whether any event changes sign inside the step (the only case that needs dense output).
pub(crate) fn any_inside<S, E: EventFunction<S>>(events: &[E], g_old: &[f64], g_new: &[f64]) -> bool {
    events
        .iter()
        .enumerate()
        .any(|(i, e)| e.rule().0.inside(g_old[i], g_new[i]))
}

/// Events that sit on zero at t₀ and leave it in their direction during the first step.
pub(crate) fn leaving_start<S: Storage, E: EventFunction<S>>(
    events: &[E],
    g_old: &[f64],
    g_new: &[f64],
    t0: f64,
    y0: &S,
) -> Vec<EventHit<S>> {
    (0..events.len())
        .filter(|&i| events[i].rule().0.leaves_zero(g_old[i], g_new[i]))
        .map(|event| EventHit {
            event,
            t: t0,
            y: y0.clone(),
        })
        .collect()
}

/// Finds the crossings inside one step by the Illinois variant of regula falsi on the
/// interpolant, to a time tolerance of 4ε·max(1, |t|).
pub(crate) fn locate<S: Storage, E: EventFunction<S>>(
    events: &mut [E],
    g_old: &[f64],
    g_new: &[f64],
    dense: &Dense<S>,
    t_old: f64,
    t_new: f64,
    y: &mut S,
) -> Vec<EventHit<S>> {
    let mut hits = Vec::new();
    for (i, event) in events.iter_mut().enumerate() {
        if !event.rule().0.inside(g_old[i], g_new[i]) {
            continue;
        }
        let mut g_at = |t: f64, y: &mut S| {
            dense.eval(t, y);
            event.value(t, y)
        };
        let (mut a, mut ga, mut b, mut gb) = (t_old, g_old[i], t_new, g_new[i]);
        let tol = 4.0 * f64::EPSILON * t_old.abs().max(t_new.abs()).max(1.0);
        let mut side = 0i8;
        for _ in 0..200 {
            if (b - a).abs() <= tol || gb == 0.0 {
                break;
            }
            let c = (a * gb - b * ga) / (gb - ga);
            let c = if c.is_finite() && (c - a) * (c - b) < 0.0 {
                c
            } else {
                0.5 * (a + b)
            };
            let gc = g_at(c, y);
            if (gc < 0.0) == (gb < 0.0) || gc == 0.0 {
                b = c;
                gb = gc;
                if side == 1 {
                    ga *= 0.5;
                }
                side = 1;
            } else {
                a = c;
                ga = gc;
                if side == -1 {
                    gb *= 0.5;
                }
                side = -1;
            }
        }
        dense.eval(b, y);
        hits.push(EventHit {
            event: i,
            t: b,
            y: y.clone(),
        });
    }
    hits
}
