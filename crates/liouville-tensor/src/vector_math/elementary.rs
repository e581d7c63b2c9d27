//! The elementary functions of the fused layers, scalar and branch-free (both sides of every
//! range split computed, one selected) so that loops over them vectorise.
//!
//! From Cephes (S. L. Moshier, *Methods and Programs for Mathematical Functions*, 1989):
//! - e^y by range reduction y = n ln 2 + r, |r| ≤ ½ ln 2 (ln 2 split in two parts so n ln 2 is
//!   exact), expf's polynomial or exp's Padé form for e^r, and 2ⁿ assembled in the exponent bits;
//! - tanh x for |x| below a switch from an odd polynomial or rational function (f32: tanhf's
//!   degree-4 polynomial in x² below 0.625; f64: tanh's P₂(x²)/Q₃(x²) below 0.5, moved down from
//!   Cephes' 0.625 where it measured 4 ulp), above from tanh|x| = 1 − 2/(e^{2|x|} + 1).
//!
//! And ln(1 + u) for u ∈ [0, 1] (all softplus needs: softplus z = max(z, 0) + ln(1 + e^{−|z|})) by
//! ln w = 2 artanh((w − 1)/(w + 1)), w = 1 + u, after halving w above √2 (ln w = ln 2 + ln(w/2)):
//! the argument s then has |s| ≤ 3 − 2√2 ≈ 0.172 and the odd series 2 Σ s^{2k+1}/(2k + 1) needs 6
//! terms in f32 and 11 in f64. (w − 1 is u itself, so there is no cancellation.)
//!
//! Their accuracy against the `libm` crate is measured by the tests of [`super`].

// The coefficients are written as Cephes publishes them; the compiler rounds them once.
#![allow(clippy::excessive_precision)]

/// The arithmetic the fused layers are written in: f32 or f64 with these kernels.
pub trait Scalar: num_traits::Float {
    /// e^y for y ≤ 0 (subnormal results included; 0 below them).
    fn exp_nonpositive(y: Self) -> Self;
    /// e^y = numerator / denominator for y ≤ 0, for quotients such as σ(x) = 1/(1 + e^{−x})
    /// that then need one division.
    fn exp_nonpositive_ratio(y: Self) -> (Self, Self);
    /// ln(1 + u), u ∈ [0, 1].
    fn ln_1p_unit(u: Self) -> Self;
    /// tanh x.
    fn tanh_fast(x: Self) -> Self;
    /// A constant in this precision.
    fn of(x: f64) -> Self;
}

/// 2 artanh s = 2 Σ_{k<N} s^{2k+1}/(2k + 1), for |s| ≤ 0.172.
#[inline(always)]
fn two_artanh<F: Scalar, const N: usize>(s: F) -> F {
    let z = s * s;
    let mut sum = F::of(1.0 / (2 * N - 1) as f64);
    let mut k = N - 1;
    while k > 0 {
        sum = sum * z + F::of(1.0 / (2 * k - 1) as f64);
        k -= 1;
    }
    F::of(2.0) * s * sum
}

#[inline(always)]
fn ln_1p_unit<F: Scalar, const N: usize>(u: F) -> F {
    let (one, two, three) = (F::of(1.0), F::of(2.0), F::of(3.0));
    // w = 1 + u ≤ √2: s = u/(u + 2); above: ln 2 + 2 artanh((u − 1)/(u + 3)) (w/2 = (1 + u)/2).
    let low = two_artanh::<F, N>(u / (u + two));
    let high = F::of(std::f64::consts::LN_2) + two_artanh::<F, N>((u - one) / (u + three));
    if u > F::of(std::f64::consts::SQRT_2 - 1.0) {
        high
    } else {
        low
    }
}

/// Cephes tanhf's polynomial: tanh x ≈ x + x³·P(x²) for |x| < 0.625.
const TANH_F32_P: [f32; 5] = [
    -5.704_988_7e-3,
    2.063_908_9e-2,
    -5.373_971_6e-2,
    1.333_144_2e-1,
    -3.333_328_2e-1,
];

/// Cephes expf's polynomial for e^r, |r| ≤ ½ ln 2: 1 + r + r²·P(r).
const EXP_F32_P: [f32; 6] = [
    1.987_569_1e-4,
    1.398_199_9e-3,
    8.333_452e-3,
    4.166_579_6e-2,
    1.666_666_5e-1,
    5.000_000_1e-1,
];

#[inline(always)]
pub(super) fn exp_f32(y: f32) -> f32 {
    // y ∈ [-104, 40] (callers clamp): n = round(y / ln 2) by the 1.5·2²³ rounding trick (exact for
    // |v| < 2²²).
    const ROUND: f32 = 12_582_912.0;
    let shifted = y * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = y - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let mut p = EXP_F32_P[0];
    for c in &EXP_F32_P[1..] {
        p = p * r + c;
    }
    let e = p * r * r + r + 1.0;
    // 2ⁿ as two normal factors, so results down into the subnormals stay accurate.
    // shifted = ROUND + n exactly, so its bits are ROUND's plus n: an integer subtraction, which
    // vectorises (`n as i32` is a saturating conversion, which does not).
    let n = shifted.to_bits() as i32 - ROUND.to_bits() as i32;
    let half = n >> 1;
    e * f32::from_bits(((half + 127) << 23) as u32) * f32::from_bits((((n - half) + 127) << 23) as u32)
}

#[inline(always)]
pub(super) fn tanh_f32(x: f32) -> f32 {
    let a = x.abs();
    let z = a * a;
    let mut p = TANH_F32_P[0];
    for c in &TANH_F32_P[1..] {
        p = p * z + c;
    }
    let small = p * z * a + a;
    // tanh 20 = 1 in f32; the comparison (not `min`) keeps a NaN a NaN.
    let clamped = if a > 20.0 { 20.0 } else { a };
    let large = 1.0 - 2.0 / (exp_f32(2.0 * clamped) + 1.0);
    let t = if a < 0.625 { small } else { large };
    t.copysign(x)
}

/// Cephes tanh's rational function for small |x| (used below 0.5): tanh x ≈ x + x³·P(x²)/Q(x²), Q monic.
const TANH_F64_P: [f64; 3] = [
    -9.643_991_794_250_523e-1,
    -9.928_772_310_019_186e1,
    -1.614_687_684_417_079_5e3,
];
const TANH_F64_Q: [f64; 3] = [
    1.128_116_784_916_329_3e2,
    2.235_488_390_601_004_5e3,
    4.844_063_053_251_255e3,
];

/// Cephes exp's Padé form: e^r = 1 + 2·r P(r²) / (Q(r²) − r P(r²)).
const EXP_F64_P: [f64; 3] = [
    1.261_771_930_748_105_9e-4,
    3.029_944_077_074_419_6e-2,
    9.999_999_999_999_999_9e-1,
];
const EXP_F64_Q: [f64; 4] = [
    3.001_985_051_386_644_5e-6,
    2.524_483_403_496_841e-3,
    2.272_655_482_081_550_3e-1,
    2.0,
];

/// The pieces of e^y = 2ⁿ·e^r: (2ⁿ as two factors, r P(r²), Q(r²)), for y ∈ [-746, 44].
#[inline(always)]
fn exp_f64_parts(y: f64) -> (f64, f64, f64, f64) {
    // 1.5·2⁵² rounds to nearest.
    const ROUND: f64 = 6_755_399_441_055_744.0;
    let shifted = y * std::f64::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = y - n * 6.931_457_519_531_25e-1 - n * 1.428_606_820_309_417_2e-6;
    let rr = r * r;
    let px = r * ((EXP_F64_P[0] * rr + EXP_F64_P[1]) * rr + EXP_F64_P[2]);
    let q = ((EXP_F64_Q[0] * rr + EXP_F64_Q[1]) * rr + EXP_F64_Q[2]) * rr + EXP_F64_Q[3];
    let n = shifted.to_bits() as i64 - ROUND.to_bits() as i64;
    // 2ⁿ in two factors, so that n below −1022 (subnormal results) needs no special case.
    let half = n >> 1;
    let low = f64::from_bits(((half + 1023) << 52) as u64);
    let high = f64::from_bits((((n - half) + 1023) << 52) as u64);
    (low, high, px, q)
}

#[inline(always)]
pub(super) fn exp_f64(y: f64) -> f64 {
    // y ∈ [-746, 44] (callers clamp).
    let (low, high, px, q) = exp_f64_parts(y);
    let e = 1.0 + 2.0 * px / (q - px);
    e * low * high
}

/// e^y = numerator / denominator for y ≤ 0 (y ≥ −746, callers clamp), from the Padé form
/// e^r = (Q + rP)/(Q − rP): a quotient of e^y with other terms costs one division, not two.
#[inline(always)]
pub(super) fn exp_f64_ratio(y: f64) -> (f64, f64) {
    let (low, high, px, q) = exp_f64_parts(y);
    ((q + px) * low * high, q - px)
}

#[inline(always)]
pub(super) fn tanh_f64(x: f64) -> f64 {
    let a = x.abs();
    let z = a * a;
    let p = (TANH_F64_P[0] * z + TANH_F64_P[1]) * z + TANH_F64_P[2];
    let q = ((z + TANH_F64_Q[0]) * z + TANH_F64_Q[1]) * z + TANH_F64_Q[2];
    let small = a + a * z * p / q;
    // tanh 22 = 1 in f64.
    let clamped = if a > 22.0 { 22.0 } else { a };
    let large = 1.0 - 2.0 / (exp_f64(2.0 * clamped) + 1.0);
    let t = if a < 0.5 { small } else { large };
    t.copysign(x)
}

impl Scalar for f32 {
    #[inline(always)]
    fn exp_nonpositive(y: f32) -> f32 {
        // e^{-104} rounds to 0 in f32; the comparison (not `max`) keeps a NaN a NaN.
        exp_f32(if y < -104.0 { -104.0 } else { y })
    }
    #[inline(always)]
    fn exp_nonpositive_ratio(y: f32) -> (f32, f32) {
        // expf is a polynomial: no division to save.
        (Self::exp_nonpositive(y), 1.0)
    }
    #[inline(always)]
    fn ln_1p_unit(u: f32) -> f32 {
        ln_1p_unit::<f32, 6>(u)
    }
    #[inline(always)]
    fn tanh_fast(x: f32) -> f32 {
        tanh_f32(x)
    }
    #[inline(always)]
    fn of(x: f64) -> f32 {
        x as f32
    }
}

impl Scalar for f64 {
    #[inline(always)]
    fn exp_nonpositive(y: f64) -> f64 {
        // e^{-746} rounds to 0 in f64.
        exp_f64(if y < -746.0 { -746.0 } else { y })
    }
    #[inline(always)]
    fn exp_nonpositive_ratio(y: f64) -> (f64, f64) {
        exp_f64_ratio(if y < -746.0 { -746.0 } else { y })
    }
    #[inline(always)]
    fn ln_1p_unit(u: f64) -> f64 {
        ln_1p_unit::<f64, 11>(u)
    }
    #[inline(always)]
    fn tanh_fast(x: f64) -> f64 {
        tanh_f64(x)
    }
    #[inline(always)]
    fn of(x: f64) -> f64 {
        x
    }
}
