//! Events: zero crossings g(t, y(t)) = 0 of user functions, located on the dense output (used for
//! Poincaré sections, impacts, stopping conditions).

use ndarray::{Array2, ArrayView2};

use super::DenseStep;

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

/// The user's event function g(t, y).
type EventFn<'a> = Box<dyn FnMut(f64, ArrayView2<'_, f64>) -> f64 + 'a>;

/// An event function g(t, y) with its crossing direction and whether it stops the solve.
pub struct Event<'a> {
    g: EventFn<'a>,
    /// Which crossings are reported.
    pub crossing: Crossing,
    /// Stop the integration at the first reported crossing.
    pub terminal: bool,
}

impl<'a> Event<'a> {
    /// An event that records every crossing of `g` in the given direction.
    pub fn new(crossing: Crossing, g: impl FnMut(f64, ArrayView2<'_, f64>) -> f64 + 'a) -> Self {
        Self {
            g: Box::new(g),
            crossing,
            terminal: false,
        }
    }
    /// Makes the event stop the integration.
    pub fn terminal(mut self) -> Self {
        self.terminal = true;
        self
    }
    pub(crate) fn value(&mut self, t: f64, y: ArrayView2<'_, f64>) -> f64 {
        (self.g)(t, y)
    }
    fn crosses(&self, g0: f64, g1: f64) -> bool {
        match self.crossing {
            Crossing::Any => (g0 < 0.0 && g1 >= 0.0) || (g0 > 0.0 && g1 <= 0.0),
            Crossing::Rising => g0 < 0.0 && g1 >= 0.0,
            Crossing::Falling => g0 > 0.0 && g1 <= 0.0,
        }
    }
}

/// A located crossing.
#[derive(Debug, Clone, PartialEq)]
pub struct EventHit {
    /// Index of the event in the slice passed to the solver.
    pub event: usize,
    /// Time of the crossing.
    pub t: f64,
    /// State at the crossing, from the dense output.
    pub y: Array2<f64>,
}

/// Finds the crossings inside one step by the Illinois variant of regula falsi on the
/// interpolant, to a time tolerance of 4ε·max(1, |t|).
pub(crate) fn locate(
    events: &mut [Event<'_>],
    g_old: &[f64],
    g_new: &[f64],
    dense: &DenseStep,
    shape: (usize, usize),
    t_old: f64,
    t_new: f64,
) -> Vec<EventHit> {
    let mut hits = Vec::new();
    let mut y = vec![0.0; shape.0 * shape.1];
    for (i, event) in events.iter_mut().enumerate() {
        if !event.crosses(g_old[i], g_new[i]) {
            continue;
        }
        let mut g_at = |t: f64, y: &mut [f64]| {
            dense.eval(t, y);
            event.value(t, ArrayView2::from_shape(shape, &*y).expect("state shape"))
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
            let gc = g_at(c, &mut y);
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
        dense.eval(b, &mut y);
        hits.push(EventHit {
            event: i,
            t: b,
            y: Array2::from_shape_vec(shape, y.clone()).expect("state shape"),
        });
    }
    hits
}
