//! Branch-free transcendental kernels over slices, written so the compiler vectorises them (no
//! calls, no data-dependent branches: both sides of every range split are computed and one is
//! selected). dfdx's CPU `tanh` calls scalar libm per element, which was 22 % of an HNN training
//! step (perf, 2→200→200→1, batch 256); these run several lanes per instruction.
//!
//! tanh follows Cephes (S. L. Moshier, *Methods and Programs for Mathematical Functions*, 1989):
//! for |x| below a switch an odd polynomial or rational function (f32: tanhf's degree-4 polynomial
//! in x² below 0.625; f64: tanh's P₂(x²)/Q₃(x²) below 0.5, moved down from Cephes' 0.625 where it
//! measured 4 ulp); above, tanh|x| = 1 − 2/(e^{2|x|} + 1), with e^y by range reduction
//! y = n ln 2 + r, |r| ≤ ½ ln 2 (ln 2 split in two parts so n ln 2 is exact), Cephes' expf
//! polynomial or exp's Padé form for e^r, and 2ⁿ assembled in the exponent bits. The sign is
//! copied back, NaN propagates and ±∞ gives ±1.
//!
//! Measured against the `libm` crate (a port of musl) over the whole range by the tests below:
//! at most 2 ulp (f32) and 3 ulp (f64) away, where an ulp is that of the libm value.

// The coefficients are written as Cephes publishes them; the compiler rounds them once.
#![allow(clippy::excessive_precision)]

/// Element-wise kernels on host slices, for f32 and f64.
pub trait VectorMath: Copy {
    /// out[i] = tanh(x[i]).
    fn tanh_into(x: &[Self], out: &mut [Self]);
    /// g_in[i] += g_out[i]·(1 − y[i]²): the backward of y = tanh x, from its output.
    fn tanh_backward(y: &[Self], g_out: &[Self], g_in: &mut [Self]);
    /// The backward of a fused tanh layer y = tanh(z + b), s = 1 − y² over `[rows, width]`
    /// row-major: δ = g_y·s + g_s·(−2ys) (g_s absent: 0), g_z += δ, g_b[c] += Σ_rows δ[·, c].
    fn tanh_layer_backward(y: &[Self], g_y: &[Self], g_s: Option<&[Self]>, g_z: &mut [Self], g_b: &mut [Self]);
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
fn exp_f32(y: f32) -> f32 {
    // y ∈ [0, 40]: n = round(y / ln 2) by the 1.5·2²³ rounding trick (exact for |v| < 2²²).
    const ROUND: f32 = 12_582_912.0;
    let n = (y * std::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = y - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let mut p = EXP_F32_P[0];
    for c in &EXP_F32_P[1..] {
        p = p * r + c;
    }
    let e = p * r * r + r + 1.0;
    e * f32::from_bits(((n as i32 + 127) << 23) as u32)
}

#[inline(always)]
fn tanh_f32(x: f32) -> f32 {
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

#[inline(always)]
fn exp_f64(y: f64) -> f64 {
    // y ∈ [0, 44]; 1.5·2⁵² rounds to nearest.
    const ROUND: f64 = 6_755_399_441_055_744.0;
    let n = (y * std::f64::consts::LOG2_E + ROUND) - ROUND;
    let r = y - n * 6.931_457_519_531_25e-1 - n * 1.428_606_820_309_417_2e-6;
    let rr = r * r;
    let px = r * ((EXP_F64_P[0] * rr + EXP_F64_P[1]) * rr + EXP_F64_P[2]);
    let q = ((EXP_F64_Q[0] * rr + EXP_F64_Q[1]) * rr + EXP_F64_Q[2]) * rr + EXP_F64_Q[3];
    let e = 1.0 + 2.0 * px / (q - px);
    e * f64::from_bits(((n as i64 + 1023) << 52) as u64)
}

#[inline(always)]
fn tanh_f64(x: f64) -> f64 {
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

/// `out[i] = f(x[i])`, compiled three times: for AVX-512 (16 f32 lanes), for AVX2 (8) and for the
/// baseline (SSE2, 4), the widest the CPU has chosen at run time. Rust never contracts `a·b + c`
/// into an FMA on its own, so the three give the same bits (`tests::every_path_gives_the_same_bits`).
macro_rules! map_by_cpu {
    ($name:ident, $t:ty, $f:ident) => {
        fn $name(x: &[$t], out: &mut [$t]) {
            assert_eq!(x.len(), out.len(), "input and output lengths differ");
            #[inline(always)]
            fn body(x: &[$t], out: &mut [$t]) {
                for (o, &v) in out.iter_mut().zip(x) {
                    *o = $f(v);
                }
            }
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                fn avx512(x: &[$t], out: &mut [$t]) {
                    body(x, out)
                }
                #[target_feature(enable = "avx2")]
                fn avx2(x: &[$t], out: &mut [$t]) {
                    body(x, out)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has AVX-512F, checked on the line above.
                    #[allow(unsafe_code)]
                    return unsafe { avx512(x, out) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2, checked on the line above.
                    #[allow(unsafe_code)]
                    return unsafe { avx2(x, out) };
                }
            }
            body(x, out)
        }
    };
}

map_by_cpu!(tanh_f32_slice, f32, tanh_f32);
map_by_cpu!(tanh_f64_slice, f64, tanh_f64);

macro_rules! vector_math {
    ($t:ty, $tanh:ident, $slice:ident) => {
        impl VectorMath for $t {
            fn tanh_into(x: &[Self], out: &mut [Self]) {
                $slice(x, out)
            }
            fn tanh_backward(y: &[Self], g_out: &[Self], g_in: &mut [Self]) {
                assert!(
                    y.len() == g_out.len() && y.len() == g_in.len(),
                    "tanh_backward: lengths differ"
                );
                for ((gi, &go), &t) in g_in.iter_mut().zip(g_out).zip(y) {
                    *gi += go * (1.0 - t * t);
                }
            }
            fn tanh_layer_backward(y: &[Self], g_y: &[Self], g_s: Option<&[Self]>, g_z: &mut [Self], g_b: &mut [Self]) {
                let width = g_b.len();
                assert!(
                    width > 0
                        && y.len() % width == 0
                        && g_y.len() == y.len()
                        && g_z.len() == y.len()
                        && g_s.is_none_or(|g| g.len() == y.len()),
                    "tanh_layer_backward: lengths differ"
                );
                let rows = y.chunks_exact(width).zip(g_y.chunks_exact(width));
                for (r, ((y, g_y), g_z)) in rows.zip(g_z.chunks_exact_mut(width)).enumerate() {
                    match g_s {
                        Some(g_s) => {
                            let g_s = &g_s[r * width..(r + 1) * width];
                            for c in 0..width {
                                let (t, s) = (y[c], 1.0 - y[c] * y[c]);
                                let delta = g_y[c] * s - 2.0 * g_s[c] * t * s;
                                g_z[c] += delta;
                                g_b[c] += delta;
                            }
                        }
                        None => {
                            for c in 0..width {
                                let delta = g_y[c] * (1.0 - y[c] * y[c]);
                                g_z[c] += delta;
                                g_b[c] += delta;
                            }
                        }
                    }
                }
            }
        }
    };
}

vector_math!(f32, tanh_f32, tanh_f32_slice);
vector_math!(f64, tanh_f64, tanh_f64_slice);

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
            assert_eq!(y.to_bits(), tanh_f32(x).to_bits(), "x = {x:e}");
        }
        let xs: Vec<f64> = (0..200_003).map(|i| (i as f64 - 100_000.0) * 1.7e-4).collect();
        let mut out = vec![0.0; xs.len()];
        f64::tanh_into(&xs, &mut out);
        for (&x, &y) in xs.iter().zip(&out) {
            assert_eq!(y.to_bits(), tanh_f64(x).to_bits(), "x = {x:e}");
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

    #[test]
    fn backward_is_the_derivative_from_the_output() {
        let y = [0.0f64, 0.5, -0.9];
        let mut g = [1.0f64, 1.0, 1.0];
        f64::tanh_backward(&y, &[2.0, 2.0, -1.0], &mut g);
        assert_eq!(g, [3.0, 1.0 + 2.0 * 0.75, 1.0 - (1.0 - 0.81)]);
    }
}
