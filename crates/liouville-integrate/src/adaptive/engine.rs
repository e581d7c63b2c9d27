//! The stepping loop shared by every adaptive entry point, generic over the state buffer: an
//! `Array2` batch or a stack array `[f64; N]`. One loop means one controller and one arithmetic
//! order, so a small state stepped on the stack takes bit-identical steps to the same state in a
//! one-row batch.

use super::controller;
use super::dense::Dense;
use super::events::{self, EventFunction, EventHit};
use super::steps;
use super::storage::Storage;
use super::{Adaptive, AdaptiveBuilder, AdaptiveMethod, Output};
use crate::IntegrateError;
use crate::fixed::Stats;

/// What one run produced: recorded times, their states flattened in order, events, counters.
pub(crate) struct Run<S> {
    pub times: Vec<f64>,
    pub values: Vec<f64>,
    pub hits: Vec<EventHit<S>>,
    pub terminated: bool,
    pub stats: Stats,
}

/// The stage buffers as a fixed-size array, so that constant stage indices need no bounds checks.
fn stages_of<S, const M: usize>(k: &mut [S]) -> &mut [S; M] {
    (&mut k[..M]).try_into().expect("the method's stage count")
}

/// Checks the time span and the requested output times (the state is checked by the caller).
fn check_span(t0: f64, t_end: f64, output: Output<'_>) -> Result<f64, IntegrateError> {
    if !(t0.is_finite() && t_end.is_finite()) || t0 == t_end {
        return Err(IntegrateError::WrongDirection { t0, t_end });
    }
    let dir = (t_end - t0).signum();
    if let Output::Times(ts) = output {
        let inside = ts
            .iter()
            .all(|&t| t.is_finite() && dir * (t - t0) >= 0.0 && dir * (t_end - t) >= 0.0);
        let monotone = ts.windows(2).all(|w| dir * (w[1] - w[0]) >= 0.0);
        if !inside || !monotone {
            return Err(IntegrateError::InvalidOption(
                "output times must lie in [t0, t_end] and be monotone in the direction of integration".into(),
            ));
        }
    }
    Ok(dir)
}

/// Integrates dy/dt = f(t, y) from `t0` to `t_end` with the solver's method and controller.
///
/// The 3 extra DOP853 stages and the dense coefficients are computed only on steps where an event
/// changes sign or a requested output time lies strictly inside the step.
pub(crate) fn integrate<S, F, E>(
    solver: &Adaptive,
    eval: &mut F,
    t0: f64,
    t_end: f64,
    y0: S,
    output: Output<'_>,
    events: &mut [E],
) -> Result<Run<S>, IntegrateError>
where
    S: Storage,
    F: FnMut(f64, &S, &mut S) + ?Sized,
    E: EventFunction<S>,
{
    let o = &solver.options;
    let method = o.method;
    let dir = check_span(t0, t_end, output)?;
    if !y0.flat().iter().all(|v| v.is_finite()) {
        return Err(IntegrateError::NonFiniteState { t: t0 });
    }

    let mut stats = Stats::default();
    let mut y = y0;
    let mut y_new = y.zeros_like();
    let mut stage = y.zeros_like();
    let mut k = vec![y.zeros_like(); method.all_stages()];
    let mut dense = Dense::new(method, &y);
    let mut t = t0;
    eval(t, &y, &mut k[0]);
    stats.evaluations += 1;

    let mut h_abs = match o.first_step {
        Some(h) => h.min((t_end - t0).abs()),
        None => {
            stats.evaluations += 1;
            initial_step(eval, t0, &y, &k[0], t_end, method.error_order(), o)
        }
    };

    let mut recorder = Recorder::new(output);
    recorder.start(t0, y.flat());
    let mut g_old: Vec<f64> = events.iter_mut().map(|e| e.value(t0, &y)).collect();
    let mut g_new = vec![0.0; events.len()];
    let mut hits = Vec::new();
    let mut terminated = false;
    let mut first_step = true;
    // ln of the previous accepted error, floored at 1e-4 (Hairer's DOPRI5 `facold`).
    let ln_err_floor = controller::ln(1e-4);
    let mut ln_err_prev = ln_err_floor;
    let exponent = -1.0 / (method.error_order() as f64 + 1.0);
    let (min_factor, max_factor) = (o.min_factor, o.max_factor);

    while dir * (t_end - t) > 0.0 {
        if stats.steps >= o.max_steps {
            return Err(IntegrateError::TooManySteps {
                t,
                max_steps: o.max_steps,
            });
        }
        let min_step = o.min_step.max(10.0 * f64::EPSILON * t.abs());
        h_abs = h_abs.min(o.max_step);
        let mut rejected_here = false;
        let (h, t_new, factor) = loop {
            if h_abs < min_step {
                return Err(IntegrateError::StepSizeUnderflow { t, h: h_abs, min_step });
            }
            let mut t_new = t + dir * h_abs;
            if dir * (t_new - t_end) > 0.0 {
                t_new = t_end;
            }
            let h = t_new - t;
            h_abs = h.abs();
            let norm = match method {
                AdaptiveMethod::Dopri5 => {
                    stats.evaluations += 6;
                    steps::dopri5(
                        eval,
                        (t, t_new),
                        h,
                        &y,
                        &mut y_new,
                        &mut stage,
                        stages_of(&mut k),
                        o.rtol,
                        o.atol,
                    )
                }
                AdaptiveMethod::Dop853 => {
                    stats.evaluations += 12;
                    steps::dop853(
                        eval,
                        (t, t_new),
                        h,
                        &y,
                        &mut y_new,
                        &mut stage,
                        stages_of(&mut k),
                        o.rtol,
                        o.atol,
                    )
                }
            };
            if norm.is_nan() {
                return Err(IntegrateError::NonFiniteState { t: t_new });
            }
            if norm.below_one() {
                // safety·err^{-α}·err_prev^{β} as one exp of logs: two libm `pow` calls cost as
                // much as the rest of a Dopri5 step on a 4-component state.
                let ln_err = norm.ln();
                let mut factor = if ln_err == f64::NEG_INFINITY {
                    max_factor
                } else {
                    (o.safety * controller::exp(-solver.alpha * ln_err + o.beta * ln_err_prev)).min(max_factor)
                };
                if rejected_here {
                    factor = factor.min(1.0);
                }
                ln_err_prev = ln_err.max(ln_err_floor);
                break (h, t_new, factor.max(min_factor));
            }
            stats.rejected += 1;
            rejected_here = true;
            h_abs *= (o.safety * libm::pow(norm.value(), exponent)).max(min_factor);
        };
        stats.steps += 1;
        if y_new.flat().iter().any(|v| !v.is_finite()) {
            return Err(IntegrateError::NonFiniteState { t: t_new });
        }

        for (g, e) in g_new.iter_mut().zip(events.iter_mut()) {
            *g = e.value(t_new, &y_new);
        }
        let mut t_stop = t_new;
        if first_step {
            first_step = false;
            for hit in events::leaving_start(events, &g_old, &g_new, t, &y) {
                let terminal = events[hit.event].rule().1;
                hits.push(hit);
                if terminal {
                    terminated = true;
                    break;
                }
            }
            if terminated {
                break;
            }
        }

        let crossing = events::any_inside(events, &g_old, &g_new);
        let needs_dense = crossing || recorder.wants_inside(t_new, dir);
        if needs_dense {
            match method {
                AdaptiveMethod::Dopri5 => dense.fill_dopri5(t, h, &y, &k),
                AdaptiveMethod::Dop853 => {
                    steps::dop853_dense_stages(eval, t, h, &y, &mut stage, stages_of(&mut k));
                    stats.evaluations += 3;
                    dense.fill_dop853(t, h, &y, &y_new, &k);
                }
            }
        }
        if crossing {
            let mut found = events::locate(events, &g_old, &g_new, &dense, t, t_new, &mut stage);
            found.sort_by(|a, b| (dir * a.t).total_cmp(&(dir * b.t)));
            for hit in found {
                let terminal = events[hit.event].rule().1;
                if terminal {
                    t_stop = hit.t;
                    terminated = true;
                }
                hits.push(hit);
                if terminal {
                    break;
                }
            }
        }
        std::mem::swap(&mut g_old, &mut g_new);

        if terminated {
            dense.eval(t_stop, &mut y_new);
        }
        recorder.step(t, t_stop, y_new.flat(), needs_dense.then_some(&dense), &mut stage);
        t = t_stop;
        std::mem::swap(&mut y, &mut y_new);
        if terminated {
            break;
        }
        let fsal = match method {
            AdaptiveMethod::Dopri5 => 6,
            AdaptiveMethod::Dop853 => 12,
        };
        k.swap(0, fsal);
        h_abs *= factor;
    }
    let (times, values) = recorder.finish(t, y.flat());
    Ok(Run {
        times,
        values,
        hits,
        terminated,
        stats,
    })
}

/// Hairer's starting step (HNW I, II.4): h₀ from ‖y₀‖/‖f₀‖, refined with a second-derivative
/// estimate so that h^{q+1}·max(‖f₀‖, ‖f'‖) ≈ 0.01.
fn initial_step<S: Storage, F: FnMut(f64, &S, &mut S) + ?Sized>(
    eval: &mut F,
    t0: f64,
    y0: &S,
    f0: &S,
    t_end: f64,
    error_order: u32,
    o: &AdaptiveBuilder,
) -> f64 {
    let (y0f, f0f) = (y0.flat(), f0.flat());
    let n = y0f.len() as f64;
    let interval = (t_end - t0).abs();
    let dir = (t_end - t0).signum();
    let scale = |i: usize| o.atol + o.rtol * y0f[i].abs();
    let rms = |v: &mut dyn Iterator<Item = f64>| (v.map(|x| x * x).sum::<f64>() / n).sqrt();
    let d0 = rms(&mut (0..y0f.len()).map(|i| y0f[i] / scale(i)));
    let d1 = rms(&mut (0..y0f.len()).map(|i| f0f[i] / scale(i)));
    let h0 = if d0 < 1e-5 || d1 < 1e-5 { 1e-6 } else { 0.01 * d0 / d1 }.min(interval);
    let mut y1 = y0.zeros_like();
    for (i, v) in y1.flat_mut().iter_mut().enumerate() {
        *v = y0f[i] + f0f[i] * (dir * h0);
    }
    let mut f1 = y0.zeros_like();
    eval(t0 + dir * h0, &y1, &mut f1);
    let f1f = f1.flat();
    let d2 = rms(&mut (0..y0f.len()).map(|i| (f1f[i] - f0f[i]) / scale(i))) / h0;
    let h1 = if d1 <= 1e-15 && d2 <= 1e-15 {
        (h0 * 1e-3).max(1e-6)
    } else {
        libm::pow(0.01 / d1.max(d2), 1.0 / (error_order as f64 + 1.0))
    };
    (100.0 * h0).min(h1).min(interval).min(o.max_step)
}

/// Collects the requested output as the solve proceeds.
struct Recorder<'a> {
    output: Output<'a>,
    times: Vec<f64>,
    values: Vec<f64>,
    next_time: usize,
}

impl<'a> Recorder<'a> {
    fn new(output: Output<'a>) -> Self {
        Self {
            output,
            times: Vec::new(),
            values: Vec::new(),
            next_time: 0,
        }
    }
    fn push(&mut self, t: f64, y: &[f64]) {
        self.times.push(t);
        self.values.extend_from_slice(y);
    }
    fn start(&mut self, t0: f64, y0: &[f64]) {
        match self.output {
            Output::Steps | Output::Final => self.push(t0, y0),
            Output::Times(ts) => {
                while self.next_time < ts.len() && ts[self.next_time] == t0 {
                    self.push(t0, y0);
                    self.next_time += 1;
                }
            }
        }
    }
    /// Whether the next requested time lies strictly before `t_new` (so it needs dense output).
    fn wants_inside(&self, t_new: f64, dir: f64) -> bool {
        match self.output {
            Output::Times(ts) => self.next_time < ts.len() && dir * (t_new - ts[self.next_time]) > 0.0,
            Output::Steps | Output::Final => false,
        }
    }
    fn step<S: Storage>(&mut self, t_old: f64, t_new: f64, y_new: &[f64], dense: Option<&Dense<S>>, scratch: &mut S) {
        match self.output {
            Output::Steps => self.push(t_new, y_new),
            Output::Final => {}
            Output::Times(ts) => {
                let dir = (t_new - t_old).signum();
                while self.next_time < ts.len() && dir * (t_new - ts[self.next_time]) >= 0.0 {
                    let t = ts[self.next_time];
                    if t == t_new {
                        self.push(t, y_new);
                    } else {
                        dense
                            .expect("a time inside the step implies dense output")
                            .eval(t, scratch);
                        self.push(t, scratch.flat());
                    }
                    self.next_time += 1;
                }
            }
        }
    }
    fn finish(mut self, t: f64, y: &[f64]) -> (Vec<f64>, Vec<f64>) {
        if matches!(self.output, Output::Final) {
            self.push(t, y);
        }
        (self.times, self.values)
    }
}
