//! Element-wise kernels over host slices for the fused layers ([`crate::fused`]), written so the
//! compiler vectorises them, and compiled three times — for AVX-512, for AVX2 and for the baseline
//! (SSE2) — the widest the CPU has chosen at run time. Rust never contracts `a·b + c` into an FMA
//! on its own, so the three give the same bits (`tests::every_path_gives_the_same_bits`). dfdx's
//! CPU `tanh` calls scalar libm per element, which was 22 % of an HNN training step (perf,
//! 2→200→200→1, batch 256).
//!
//! A fused layer computes a = σ(p) for the pre-activation p = z + b and keeps one *basis* array β
//! from which σ', σ'' and σ''' follow without another transcendental:
//!
//! | σ | β | σ' | σ'' | σ''' |
//! |---|---|---|---|---|
//! | tanh | tanh p | 1 − β² | −2βσ' | −2σ'(1 − 3β²) |
//! | sigmoid | sigmoid p | β(1 − β) | σ'(1 − 2β) | σ'((1 − 2β)² − 2σ') |
//! | softplus | sigmoid p | β | β(1 − β) | σ''(1 − 2β) |
//! | ReLU | H(p) (1 for p > 0, else 0) | β | 0 | 0 |
//! | identity (an output layer's affine map) | 1 | 1 | 0 | 0 |
//!
//! ReLU's σ'' is a Dirac mass at 0, 0 almost everywhere, as dfdx's composed ReLU has it; a NaN
//! pre-activation stays NaN (dfdx's `max(x, 0)` would turn it into 0 and hide bad data).
//!
//! Accuracy against the `libm` crate (a port of musl), over the whole range, is what the tests
//! below assert: tanh within 2 ulp (f32) and 3 ulp (f64), sigmoid and softplus within the bounds
//! stated there.

mod elementary;

use elementary::Scalar;

/// The activations the fused layers compute on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FusedActivation {
    /// tanh p.
    Tanh,
    /// 1/(1 + e^{−p}).
    Sigmoid,
    /// ln(1 + e^p).
    Softplus,
    /// max(p, 0).
    Relu,
    /// p (the bias add of a layer without an activation).
    Identity,
}

/// Element-wise kernels on host slices, for f32 and f64.
pub trait VectorMath: Copy {
    /// out[i] = tanh(x[i]).
    fn tanh_into(x: &[Self], out: &mut [Self]);
    /// value[i] = σ(pre[i]) and basis[i] = β(pre[i]) (see the module docs).
    fn activate_into(kind: FusedActivation, pre: &[Self], value: &mut [Self], basis: &mut [Self]);
    /// σ' (into `slope`) and σ'' (into `curvature`) from the basis, where given.
    fn derivatives_into(
        kind: FusedActivation,
        basis: &[Self],
        slope: Option<&mut [Self]>,
        curvature: Option<&mut [Self]>,
    );
    /// out = g ⊙ s over `[rows, width]` row-major; with `shared_row`, g is one row of `width`
    /// used for every row.
    fn gate_into(g: &[Self], shared_row: bool, s: &[Self], out: &mut [Self]);
    /// The backward of [`VectorMath::gate_into`]: g_g += g_out ⊙ s (summed over rows when
    /// `shared_row`), g_s += g_out ⊙ g.
    fn gate_backward(g: &[Self], shared_row: bool, s: &[Self], g_out: &[Self], g_g: &mut [Self], g_s: &mut [Self]);
    /// The backward of a fused layer over `[rows, width]` row-major (width = `g_bias.len()`):
    /// δ = g_value·σ' + g_slope·σ'' + g_curvature·σ''' (absent gradients count 0), g_pre += δ,
    /// g_bias[c] += Σ_rows δ[·, c].
    #[allow(clippy::too_many_arguments)]
    fn layer_backward(
        kind: FusedActivation,
        basis: &[Self],
        g_value: &[Self],
        g_slope: Option<&[Self]>,
        g_curvature: Option<&[Self]>,
        g_pre: &mut [Self],
        g_bias: &mut [Self],
    );
}

/// (σ', σ'', σ''') from the basis β, per activation.
#[inline(always)]
fn tanh_derivatives<F: Scalar>(b: F) -> (F, F, F) {
    let (one, two, three) = (F::of(1.0), F::of(2.0), F::of(3.0));
    let s = one - b * b;
    (s, -two * b * s, -two * s * (one - three * b * b))
}

#[inline(always)]
fn sigmoid_derivatives<F: Scalar>(b: F) -> (F, F, F) {
    let (one, two) = (F::of(1.0), F::of(2.0));
    let s = b * (one - b);
    let u = one - two * b;
    (s, s * u, s * (u * u - two * s))
}

#[inline(always)]
fn softplus_derivatives<F: Scalar>(b: F) -> (F, F, F) {
    let (one, two) = (F::of(1.0), F::of(2.0));
    let c = b * (one - b);
    (b, c, c * (one - two * b))
}

/// (σ', σ'', σ''') from the basis β.
#[inline(always)]
fn derivatives<F: Scalar>(kind: FusedActivation, b: F) -> (F, F, F) {
    match kind {
        FusedActivation::Tanh => tanh_derivatives(b),
        FusedActivation::Sigmoid => sigmoid_derivatives(b),
        FusedActivation::Softplus => softplus_derivatives(b),
        FusedActivation::Relu => (b, F::zero(), F::zero()),
        FusedActivation::Identity => (F::of(1.0), F::zero(), F::zero()),
    }
}

/// (sigmoid p, e^{−|p|}).
#[inline(always)]
fn sigmoid_and_decay<F: Scalar>(p: F) -> (F, F) {
    let one = F::of(1.0);
    // e = e^{−|p|} ∈ (0, 1]: sigmoid p = 1/(1 + e) for p ≥ 0, e/(1 + e) below.
    let e = F::exp_nonpositive(-p.abs());
    let inv = one / (one + e);
    (if p >= F::zero() { inv } else { e * inv }, e)
}

/// (σ(p), β(p)).
#[inline(always)]
fn activate<F: Scalar>(kind: FusedActivation, p: F) -> (F, F) {
    match kind {
        FusedActivation::Tanh => {
            let t = F::tanh_fast(p);
            (t, t)
        }
        FusedActivation::Sigmoid => {
            // e^{−|p|} = n/d: σ(p) = d/(d + n) for p ≥ 0, n/(d + n) below, one division.
            let (n, d) = F::exp_nonpositive_ratio(-p.abs());
            let s = (if p >= F::zero() { d } else { n }) / (d + n);
            (s, s)
        }
        FusedActivation::Softplus => {
            let (s, e) = sigmoid_and_decay(p);
            let positive = if p > F::zero() { p } else { F::zero() };
            // A NaN input stays NaN (the comparisons above would drop it).
            let softplus = if p.is_nan() { p } else { positive + F::ln_1p_unit(e) };
            (softplus, s)
        }
        FusedActivation::Relu => {
            let on = p > F::zero();
            // p ≤ 0 gives 0, but a NaN (for which both comparisons fail) stays NaN.
            let value = if on || p.is_nan() { p } else { F::zero() };
            (value, if on { F::of(1.0) } else { F::zero() })
        }
        FusedActivation::Identity => (p, F::of(1.0)),
    }
}

/// One activation's forward and derivatives as static functions, so that each loop below is
/// monomorphised with everything inlined (a closure passed in was not inlined into the
/// `target_feature` copies, and a loop with the activation's `match` inside does not vectorise).
trait Kind {
    fn activate<F: Scalar>(p: F) -> (F, F);
    fn derivatives<F: Scalar>(b: F) -> (F, F, F);
}

struct TanhKind;
struct SigmoidKind;
struct SoftplusKind;
struct ReluKind;
struct IdentityKind;

impl Kind for ReluKind {
    #[inline(always)]
    fn activate<F: Scalar>(p: F) -> (F, F) {
        activate(FusedActivation::Relu, p)
    }
    #[inline(always)]
    fn derivatives<F: Scalar>(b: F) -> (F, F, F) {
        (b, F::zero(), F::zero())
    }
}

impl Kind for IdentityKind {
    #[inline(always)]
    fn activate<F: Scalar>(p: F) -> (F, F) {
        (p, F::of(1.0))
    }
    #[inline(always)]
    fn derivatives<F: Scalar>(_: F) -> (F, F, F) {
        (F::of(1.0), F::zero(), F::zero())
    }
}

impl Kind for TanhKind {
    #[inline(always)]
    fn activate<F: Scalar>(p: F) -> (F, F) {
        activate(FusedActivation::Tanh, p)
    }
    #[inline(always)]
    fn derivatives<F: Scalar>(b: F) -> (F, F, F) {
        tanh_derivatives(b)
    }
}

impl Kind for SigmoidKind {
    #[inline(always)]
    fn activate<F: Scalar>(p: F) -> (F, F) {
        activate(FusedActivation::Sigmoid, p)
    }
    #[inline(always)]
    fn derivatives<F: Scalar>(b: F) -> (F, F, F) {
        sigmoid_derivatives(b)
    }
}

impl Kind for SoftplusKind {
    #[inline(always)]
    fn activate<F: Scalar>(p: F) -> (F, F) {
        activate(FusedActivation::Softplus, p)
    }
    #[inline(always)]
    fn derivatives<F: Scalar>(b: F) -> (F, F, F) {
        softplus_derivatives(b)
    }
}

#[inline(always)]
fn activate_each<F: Scalar, K: Kind>(pre: &[F], value: &mut [F], basis: &mut [F]) {
    for ((v, b), &p) in value.iter_mut().zip(basis.iter_mut()).zip(pre) {
        (*v, *b) = K::activate(p);
    }
}

#[inline(always)]
fn activate_body<F: Scalar>(kind: FusedActivation, pre: &[F], value: &mut [F], basis: &mut [F]) {
    match kind {
        FusedActivation::Tanh => activate_each::<F, TanhKind>(pre, value, basis),
        FusedActivation::Sigmoid => activate_each::<F, SigmoidKind>(pre, value, basis),
        FusedActivation::Softplus => activate_each::<F, SoftplusKind>(pre, value, basis),
        FusedActivation::Relu => activate_each::<F, ReluKind>(pre, value, basis),
        FusedActivation::Identity => activate_each::<F, IdentityKind>(pre, value, basis),
    }
}

/// The gradients a layer's backward reads, and where it writes.
struct Backward<'a, F> {
    basis: &'a [F],
    g_value: &'a [F],
    g_slope: Option<&'a [F]>,
    g_curvature: Option<&'a [F]>,
    g_pre: &'a mut [F],
    g_bias: &'a mut [F],
}

/// δ = g_value·σ' + g_slope·σ'' + g_curvature·σ''' per element, with the activation and the
/// present terms fixed outside the loop so that each combination is its own vectorised loop.
#[inline(always)]
fn backward_body<F: Scalar>(kind: FusedActivation, b: Backward<'_, F>) {
    #[inline(always)]
    fn rows<F: Scalar, K: Kind, const SLOPE: bool, const CURVATURE: bool>(b: Backward<'_, F>) {
        let width = b.g_bias.len();
        let (g_slope, g_curvature) = (b.g_slope.unwrap_or(&[]), b.g_curvature.unwrap_or(&[]));
        for (r, g_pre) in b.g_pre.chunks_exact_mut(width).enumerate() {
            let at = r * width;
            let basis = &b.basis[at..at + width];
            let g_value = &b.g_value[at..at + width];
            let g_slope = if SLOPE { &g_slope[at..at + width] } else { &[][..] };
            let g_curvature = if CURVATURE {
                &g_curvature[at..at + width]
            } else {
                &[][..]
            };
            for c in 0..width {
                let (s, k, third) = K::derivatives(basis[c]);
                let mut delta = g_value[c] * s;
                if SLOPE {
                    delta = delta + g_slope[c] * k;
                }
                if CURVATURE {
                    delta = delta + g_curvature[c] * third;
                }
                g_pre[c] = g_pre[c] + delta;
                b.g_bias[c] = b.g_bias[c] + delta;
            }
        }
    }
    #[inline(always)]
    fn terms<F: Scalar, K: Kind>(b: Backward<'_, F>) {
        match (b.g_slope.is_some(), b.g_curvature.is_some()) {
            (false, false) => rows::<F, K, false, false>(b),
            (true, false) => rows::<F, K, true, false>(b),
            (false, true) => rows::<F, K, false, true>(b),
            (true, true) => rows::<F, K, true, true>(b),
        }
    }
    match kind {
        FusedActivation::Tanh => terms::<F, TanhKind>(b),
        FusedActivation::Sigmoid => terms::<F, SigmoidKind>(b),
        FusedActivation::Softplus => terms::<F, SoftplusKind>(b),
        FusedActivation::Relu => terms::<F, ReluKind>(b),
        FusedActivation::Identity => terms::<F, IdentityKind>(b),
    }
}

/// Runs `$body(args…)` compiled for the widest instruction set the CPU has (AVX-512, AVX2, or the
/// baseline).
macro_rules! by_cpu {
    ($body:ident, <$f:ident>, ($($arg:ident: $ty:ty),*)) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx512f")]
            fn avx512<$f: Scalar>($($arg: $ty),*) {
                $body($($arg),*)
            }
            #[target_feature(enable = "avx2")]
            fn avx2<$f: Scalar>($($arg: $ty),*) {
                $body($($arg),*)
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has AVX-512F, checked on the line above.
                #[allow(unsafe_code)]
                return unsafe { avx512($($arg),*) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2, checked on the line above.
                #[allow(unsafe_code)]
                return unsafe { avx2($($arg),*) };
            }
        }
        $body($($arg),*)
    }};
}

fn activate_by_cpu<F: Scalar>(kind: FusedActivation, pre: &[F], value: &mut [F], basis: &mut [F]) {
    assert!(
        pre.len() == value.len() && pre.len() == basis.len(),
        "activate_into: lengths differ"
    );
    by_cpu!(activate_body, <F>, (kind: FusedActivation, pre: &[F], value: &mut [F], basis: &mut [F]))
}

fn backward_by_cpu<F: Scalar>(kind: FusedActivation, b: Backward<'_, F>) {
    by_cpu!(backward_body, <F>, (kind: FusedActivation, b: Backward<'_, F>))
}

impl<F: Scalar> VectorMath for F {
    fn tanh_into(x: &[F], out: &mut [F]) {
        let mut basis = vec![F::zero(); x.len()];
        activate_by_cpu(FusedActivation::Tanh, x, out, &mut basis);
    }

    fn activate_into(kind: FusedActivation, pre: &[F], value: &mut [F], basis: &mut [F]) {
        activate_by_cpu(kind, pre, value, basis);
    }

    fn derivatives_into(
        kind: FusedActivation,
        basis: &[F],
        mut slope: Option<&mut [F]>,
        mut curvature: Option<&mut [F]>,
    ) {
        assert!(
            slope.as_ref().is_none_or(|s| s.len() == basis.len())
                && curvature.as_ref().is_none_or(|c| c.len() == basis.len()),
            "derivatives_into: lengths differ"
        );
        for (i, &b) in basis.iter().enumerate() {
            let (s, c, _) = derivatives(kind, b);
            if let Some(slope) = slope.as_deref_mut() {
                slope[i] = s;
            }
            if let Some(curvature) = curvature.as_deref_mut() {
                curvature[i] = c;
            }
        }
    }

    fn gate_into(g: &[F], shared_row: bool, s: &[F], out: &mut [F]) {
        assert!(
            s.len() == out.len()
                && (if shared_row {
                    !g.is_empty() && s.len().is_multiple_of(g.len())
                } else {
                    g.len() == s.len()
                }),
            "gate_into: lengths differ"
        );
        if shared_row {
            for (out, s) in out.chunks_exact_mut(g.len()).zip(s.chunks_exact(g.len())) {
                for ((o, &s), &g) in out.iter_mut().zip(s).zip(g) {
                    *o = g * s;
                }
            }
        } else {
            for ((o, &s), &g) in out.iter_mut().zip(s).zip(g) {
                *o = g * s;
            }
        }
    }

    fn gate_backward(g: &[F], shared_row: bool, s: &[F], g_out: &[F], g_g: &mut [F], g_s: &mut [F]) {
        assert!(
            s.len() == g_out.len() && s.len() == g_s.len() && g.len() == g_g.len(),
            "gate_backward: lengths differ"
        );
        if shared_row {
            let width = g.len();
            for ((g_out, s), g_s) in g_out
                .chunks_exact(width)
                .zip(s.chunks_exact(width))
                .zip(g_s.chunks_exact_mut(width))
            {
                for c in 0..width {
                    g_g[c] = g_g[c] + g_out[c] * s[c];
                    g_s[c] = g_s[c] + g_out[c] * g[c];
                }
            }
        } else {
            for i in 0..s.len() {
                g_g[i] = g_g[i] + g_out[i] * s[i];
                g_s[i] = g_s[i] + g_out[i] * g[i];
            }
        }
    }

    fn layer_backward(
        kind: FusedActivation,
        basis: &[F],
        g_value: &[F],
        g_slope: Option<&[F]>,
        g_curvature: Option<&[F]>,
        g_pre: &mut [F],
        g_bias: &mut [F],
    ) {
        let width = g_bias.len();
        let n = basis.len();
        assert!(
            width > 0
                && n.is_multiple_of(width)
                && g_value.len() == n
                && g_pre.len() == n
                && g_slope.is_none_or(|g| g.len() == n)
                && g_curvature.is_none_or(|g| g.len() == n),
            "layer_backward: lengths differ"
        );
        backward_by_cpu(
            kind,
            Backward {
                basis,
                g_value,
                g_slope,
                g_curvature,
                g_pre,
                g_bias,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// |ours − libm| in units of the spacing of floats at the libm value.
    fn ulps_f32(ours: f32, exact: f32) -> f32 {
        if ours == exact {
            return 0.0;
        }
        let spacing = f32::from_bits(exact.abs().to_bits() + 1) - exact.abs();
        (ours - exact).abs() / spacing
    }

    fn ulps_f64(ours: f64, exact: f64) -> f64 {
        if ours == exact {
            return 0.0;
        }
        let spacing = f64::from_bits(exact.abs().to_bits() + 1) - exact.abs();
        (ours - exact).abs() / spacing
    }

    /// Every f32 in [-25, 25] at a stride of 97 bit patterns (≈ 22 M values, both branches and the
    /// switch at 0.625, subnormals included), plus the special values.
    #[test]
    fn f32_tanh_is_within_2_ulp_of_libm_over_the_whole_range() {
        let mut xs: Vec<f32> = (0..u32::MAX / 97)
            .map(|i| f32::from_bits(i * 97))
            .filter(|x| x.abs() <= 25.0)
            .flat_map(|x| [x, -x])
            .collect();
        xs.extend([
            0.0,
            -0.0,
            0.625,
            -0.625,
            0.624_999_94,
            1e-30,
            f32::MIN_POSITIVE,
            9.0,
            20.0,
            1e30,
        ]);
        let mut out = vec![0.0; xs.len()];
        f32::tanh_into(&xs, &mut out);
        let worst = xs
            .iter()
            .zip(&out)
            .map(|(&x, &y)| (ulps_f32(y, libm::tanhf(x)), x))
            .fold((0.0f32, 0.0f32), |a, b| if b.0 > a.0 { b } else { a });
        assert!(worst.0 <= 2.0, "worst error {} ulp at x = {:e}", worst.0, worst.1);
    }

    #[test]
    fn f64_tanh_is_within_3_ulp_of_libm_over_the_whole_range() {
        // 4 M points spread log-uniformly over [1e-300, 30] with both signs, plus a dense sweep
        // around the switch and the specials.
        let mut xs: Vec<f64> = (0..2_000_000)
            .map(|i| 10f64.powf(-300.0 + 301.477 * i as f64 / 2e6))
            .flat_map(|x| [x, -x])
            .collect();
        xs.extend((0..100_000).map(|i| 0.6 + 0.05 * i as f64 / 1e5));
        xs.extend([0.0, -0.0, 0.625, f64::MIN_POSITIVE, 5e-324, 19.0, 22.0, 1e300]);
        let mut out = vec![0.0; xs.len()];
        f64::tanh_into(&xs, &mut out);
        let worst = xs
            .iter()
            .zip(&out)
            .map(|(&x, &y)| (ulps_f64(y, libm::tanh(x)), x))
            .fold((0.0f64, 0.0f64), |a, b| if b.0 > a.0 { b } else { a });
        assert!(worst.0 <= 3.0, "worst error {} ulp at x = {:e}", worst.0, worst.1);
    }

    /// The run-time choice of instruction set changes no bit: the dispatched kernel against the
    /// element-by-element scalar function (the baseline build of the same code).
    #[test]
    fn every_path_gives_the_same_bits() {
        let xs: Vec<f32> = (0..200_003).map(|i| (i as f32 - 100_000.0) * 1.7e-4).collect();
        let mut out = vec![0.0; xs.len()];
        f32::tanh_into(&xs, &mut out);
        for (&x, &y) in xs.iter().zip(&out) {
            assert_eq!(y.to_bits(), elementary::tanh_f32(x).to_bits(), "x = {x:e}");
        }
        let xs: Vec<f64> = (0..200_003).map(|i| (i as f64 - 100_000.0) * 1.7e-4).collect();
        let mut out = vec![0.0; xs.len()];
        f64::tanh_into(&xs, &mut out);
        for (&x, &y) in xs.iter().zip(&out) {
            assert_eq!(y.to_bits(), elementary::tanh_f64(x).to_bits(), "x = {x:e}");
        }
    }

    #[test]
    fn special_values() {
        let xs = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0];
        let mut out = [0.0f32; 4];
        f32::tanh_into(&xs, &mut out);
        assert!(out[0].is_nan());
        assert_eq!(&out[1..3], &[1.0, -1.0]);
        assert!(out[3] == 0.0 && out[3].is_sign_negative());
        let xs = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0];
        let mut out = [0.0f64; 4];
        f64::tanh_into(&xs, &mut out);
        assert!(out[0].is_nan());
        assert_eq!(&out[1..3], &[1.0, -1.0]);
        assert!(out[3] == 0.0 && out[3].is_sign_negative());
    }

    /// sigmoid and softplus against libm's formulas in f64 (f32: rounded from them), over
    /// [-100, 100] and the specials.
    #[test]
    fn sigmoid_and_softplus_are_close_to_libm() {
        fn exact(p: f64) -> (f64, f64) {
            let sigmoid = if p >= 0.0 {
                1.0 / (1.0 + libm::exp(-p))
            } else {
                libm::exp(p) / (1.0 + libm::exp(p))
            };
            (p.max(0.0) + libm::log1p(libm::exp(-p.abs())), sigmoid)
        }
        let xs: Vec<f64> = (0..2_000_001).map(|i| -100.0 + 1e-4 * i as f64).collect();
        for kind in [FusedActivation::Sigmoid, FusedActivation::Softplus] {
            let (mut v, mut b) = (vec![0.0; xs.len()], vec![0.0; xs.len()]);
            f64::activate_into(kind, &xs, &mut v, &mut b);
            let xs32: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
            let (mut v32, mut b32) = (vec![0.0f32; xs.len()], vec![0.0f32; xs.len()]);
            f32::activate_into(kind, &xs32, &mut v32, &mut b32);
            let (mut worst64, mut worst32) = ((0.0f64, 0.0f64), (0.0f32, 0.0f32));
            for i in 0..xs.len() {
                let (sp, sg) = exact(xs[i]);
                let want = if kind == FusedActivation::Sigmoid { sg } else { sp };
                let e = ulps_f64(v[i], want).max(ulps_f64(b[i], sg));
                if e > worst64.0 {
                    worst64 = (e, xs[i]);
                }
                let (sp, sg) = exact(xs32[i] as f64);
                let want = if kind == FusedActivation::Sigmoid { sg } else { sp };
                let e = ulps_f32(v32[i], want as f32).max(ulps_f32(b32[i], sg as f32));
                if e > worst32.0 {
                    worst32 = (e, xs32[i]);
                }
            }
            assert!(worst64.0 <= 4.0, "{kind:?} f64: {} ulp at {:e}", worst64.0, worst64.1);
            assert!(worst32.0 <= 3.0, "{kind:?} f32: {} ulp at {:e}", worst32.0, worst32.1);
        }
        let specials = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, 800.0, -800.0];
        let (mut v, mut b) = ([0.0; 6], [0.0; 6]);
        f64::activate_into(FusedActivation::Softplus, &specials, &mut v, &mut b);
        assert!(v[0].is_nan() && b[0].is_nan());
        assert_eq!((v[1], b[1]), (f64::INFINITY, 1.0));
        assert_eq!(b[2], 0.0);
        assert!((v[3] - std::f64::consts::LN_2).abs() < 1e-16);
        assert_eq!((v[4], b[4]), (800.0, 1.0));
        assert!(v[5] >= 0.0 && v[5] < 1e-300);
    }

    /// The first, second and third derivatives from the basis against central differences of the
    /// function one order lower, for each kind.
    #[test]
    fn derivatives_from_the_basis_match_finite_differences() {
        for kind in [
            FusedActivation::Tanh,
            FusedActivation::Sigmoid,
            FusedActivation::Softplus,
            FusedActivation::Relu,
            FusedActivation::Identity,
        ] {
            // ReLU's kink at 0 is left out: its derivatives hold almost everywhere.
            let points: &[f64] = match kind {
                FusedActivation::Relu => &[-3.0, -0.7, 0.3, 1.9],
                _ => &[-3.0, -0.7, 0.0, 0.3, 1.9],
            };
            for &p in points {
                let h = 1e-4;
                let at = |x: f64| activate(kind, x);
                let first = |x: f64| derivatives(kind, at(x).1).0;
                let second = |x: f64| derivatives(kind, at(x).1).1;
                let (s, c, d) = derivatives(kind, at(p).1);
                let fd1 = (at(p + h).0 - at(p - h).0) / (2.0 * h);
                let fd2 = (first(p + h) - first(p - h)) / (2.0 * h);
                let fd3 = (second(p + h) - second(p - h)) / (2.0 * h);
                for (what, a, b) in [("first", s, fd1), ("second", c, fd2), ("third", d, fd3)] {
                    assert!((a - b).abs() < 1e-7, "{kind:?} {what} at {p}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn relu_keeps_nan_and_zeroes_the_negative_half() {
        let pre = [f64::NAN, -2.0, -0.0, 0.0, 3.5, f64::INFINITY, f64::NEG_INFINITY];
        let (mut v, mut b) = ([9.0; 7], [9.0; 7]);
        f64::activate_into(FusedActivation::Relu, &pre, &mut v, &mut b);
        assert!(v[0].is_nan() && b[0] == 0.0);
        assert_eq!(&v[1..], &[0.0, 0.0, 0.0, 3.5, f64::INFINITY, 0.0]);
        assert_eq!(&b[1..], &[0.0, 0.0, 0.0, 1.0, 1.0, 0.0]);
    }

    #[test]
    fn the_backward_sums_the_terms_and_the_bias_over_rows() {
        let basis = [0.0f64, 0.5, -0.5, 0.25];
        let g_value = [1.0, 2.0, 3.0, 4.0];
        let g_slope = [0.5, 0.5, 0.5, 0.5];
        let g_curvature = [0.1, 0.2, 0.3, 0.4];
        let (mut g_pre, mut g_bias) = ([1.0; 4], [0.0; 2]);
        f64::layer_backward(
            FusedActivation::Tanh,
            &basis,
            &g_value,
            Some(&g_slope),
            Some(&g_curvature),
            &mut g_pre,
            &mut g_bias,
        );
        let delta: Vec<f64> = (0..4)
            .map(|i| {
                let (s, c, d) = derivatives(FusedActivation::Tanh, basis[i]);
                g_value[i] * s + g_slope[i] * c + g_curvature[i] * d
            })
            .collect();
        for i in 0..4 {
            assert_eq!(g_pre[i], 1.0 + delta[i]);
        }
        assert_eq!(g_bias, [delta[0] + delta[2], delta[1] + delta[3]]);
    }
}
