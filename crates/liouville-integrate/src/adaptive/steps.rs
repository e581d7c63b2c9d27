//! One attempted step of each embedded pair: the stages, the propagated solution and the error
//! norm. Stages are spelled out one by one (a macro, not a loop) so that on stack states every
//! tableau row and stage index is a constant: the compiler keeps the arithmetic in registers and
//! drops the bounds checks, which halves the cost of a Dopri5 step on a 4-component state.

use super::storage::Storage;
use super::tableau::{dop853, dopri5};

/// Evaluates stages `$s…` in order: stage = y + Σⱼ (h aₛⱼ) kⱼ, kₛ = f(t + cₛh, stage).
macro_rules! stages {
    ($tableau:ident, $eval:ident, $t:ident, $h:ident, $y:ident, $stage:ident, $k:ident; $($s:literal)*) => {
        $(
            combine($stage, $y, $h, $tableau::A[$s], &$k[..]);
            $eval($t + $tableau::C[$s] * $h, $stage, &mut $k[$s]);
        )*
    };
}

/// A Dopri5 attempt from (t, y) with step h = t_new - t; writes y₁ into `y_new` and all 7 stages (the last
/// one is f(t + h, y₁), first-same-as-last) and returns the RMS error norm.
#[allow(clippy::too_many_arguments)]
pub(crate) fn dopri5<S: Storage, F: FnMut(f64, &S, &mut S) + ?Sized>(
    eval: &mut F,
    (t, t_new): (f64, f64),
    h: f64,
    y: &S,
    y_new: &mut S,
    stage: &mut S,
    k: &mut [S; 7],
    rtol: f64,
    atol: f64,
) -> ErrorNorm {
    stages!(dopri5, eval, t, h, y, stage, k; 1 2 3 4 5);
    combine_dense(y_new, y, h, &dopri5::B, &k[..]);
    eval(t_new, y_new, &mut k[6]);
    let (yf, ynf) = (y.flat(), y_new.flat());
    let mut sum = 0.0;
    for i in 0..yf.len() {
        // E₁ = 0: skipping it leaves the sum unchanged.
        let e: f64 = [0, 2, 3, 4, 5, 6]
            .iter()
            .map(|&s| dopri5::E[s] * k[s].flat()[i])
            .sum::<f64>()
            * h;
        let scale = atol + rtol * yf[i].abs().max(ynf[i].abs());
        sum += (e / scale).powi(2);
    }
    ErrorNorm::Squared(sum / yf.len() as f64)
}

/// A DOP853 attempt: 12 stages, y₁, f(t + h, y₁), and Hairer's combined 5th/3rd-order norm
/// err = |h|·e₅²/√(N(e₅² + 0.01 e₃²)) (HNW I, II.10).
#[allow(clippy::too_many_arguments)]
pub(crate) fn dop853<S: Storage, F: FnMut(f64, &S, &mut S) + ?Sized>(
    eval: &mut F,
    (t, t_new): (f64, f64),
    h: f64,
    y: &S,
    y_new: &mut S,
    stage: &mut S,
    k: &mut [S; 16],
    rtol: f64,
    atol: f64,
) -> ErrorNorm {
    stages!(dop853, eval, t, h, y, stage, k; 1 2 3 4 5 6 7 8 9 10 11);
    combine(y_new, y, h, dop853::B, &k[..]);
    eval(t_new, y_new, &mut k[12]);
    let (yf, ynf) = (y.flat(), y_new.flat());
    let (mut e5, mut e3) = (0.0, 0.0);
    for i in 0..yf.len() {
        let scale = atol + rtol * yf[i].abs().max(ynf[i].abs());
        let d5: f64 = dop853::E5.iter().map(|&(s, e)| e * k[s].flat()[i]).sum();
        let d3: f64 = dop853::E3.iter().map(|&(s, e)| e * k[s].flat()[i]).sum();
        e5 += (d5 / scale).powi(2);
        e3 += (d3 / scale).powi(2);
    }
    if e5 == 0.0 && e3 == 0.0 {
        ErrorNorm::Plain(0.0)
    } else {
        ErrorNorm::Plain(h.abs() * e5 / ((e5 + 0.01 * e3) * yf.len() as f64).sqrt())
    }
}

/// The 3 extra DOP853 stages of its 7th-order dense output, only on steps that need it.
pub(crate) fn dop853_dense_stages<S: Storage, F: FnMut(f64, &S, &mut S) + ?Sized>(
    eval: &mut F,
    t: f64,
    h: f64,
    y: &S,
    stage: &mut S,
    k: &mut [S; 16],
) {
    stages!(dop853, eval, t, h, y, stage, k; 13 14 15);
}

/// out = y + Σⱼ (h aⱼ) kⱼ over a sparse row. The increment is summed before it is added to y (as
/// Hairer's codes and scipy do): adding each term to y separately rounds at the scale of |y| once
/// per stage. h·aⱼ is formed off the critical path: on small states the stages are latency-bound.
#[inline(always)]
fn combine<S: Storage>(out: &mut S, y: &S, h: f64, row: &[(usize, f64)], k: &[S]) {
    let ((j0, a0), rest) = row.split_first().expect("a stage row has at least one term");
    out.set_scaled(h * a0, &k[*j0]);
    for &(j, a) in rest {
        out.add_scaled(h * a, &k[j]);
    }
    out.add_scaled(1.0, y);
}

/// out = y + Σⱼ (h bⱼ) kⱼ over a dense weight vector (zero weights skipped).
#[inline(always)]
fn combine_dense<S: Storage>(out: &mut S, y: &S, h: f64, b: &[f64], k: &[S]) {
    out.set_scaled(h * b[0], &k[0]);
    for (j, &bj) in b.iter().enumerate().skip(1) {
        if bj != 0.0 {
            out.add_scaled(h * bj, &k[j]);
        }
    }
    out.add_scaled(1.0, y);
}

/// A step's error norm, or its square where taking the root can be folded into the logarithm:
/// the controller needs ln(err), and for Dopri5's RMS norm that is ½·ln(mean square), one square
/// root fewer on the critical path of every step.
#[derive(Clone, Copy)]
pub(crate) enum ErrorNorm {
    Plain(f64),
    Squared(f64),
}

impl ErrorNorm {
    pub(crate) fn is_nan(self) -> bool {
        match self {
            Self::Plain(v) | Self::Squared(v) => v.is_nan(),
        }
    }
    pub(crate) fn below_one(self) -> bool {
        match self {
            Self::Plain(v) | Self::Squared(v) => v < 1.0,
        }
    }
    pub(crate) fn value(self) -> f64 {
        match self {
            Self::Plain(v) => v,
            Self::Squared(v) => v.sqrt(),
        }
    }
    /// ln(err), -∞ for a zero error.
    pub(crate) fn ln(self) -> f64 {
        match self {
            Self::Plain(v) if v > 0.0 => super::controller::ln(v),
            Self::Squared(v) if v > 0.0 => 0.5 * super::controller::ln(v),
            _ => f64::NEG_INFINITY,
        }
    }
}
