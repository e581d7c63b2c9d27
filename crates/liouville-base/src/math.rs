//! Deterministic transcendental functions for the simulators.
//!
//! Datasets must be bit-identical on every machine. `f64::sin` calls the platform's libm, whose
//! last bits differ between glibc, musl and macOS; these kernels are plain IEEE arithmetic
//! (correctly rounded +, ×, and fused nothing), so they give the same bits everywhere, and they
//! are branch-light enough to vectorise. `sqrt` is correctly rounded by IEEE 754 and needs no
//! replacement; `exp`/`ln` come from the pure-Rust `libm` crate.

#![allow(clippy::excessive_precision)] // fdlibm's constants, digit for digit

// Cody–Waite split of π/2 into three parts (fdlibm's pio2_1, pio2_2, pio2_3).
const PIO2_1: f64 = 1.570_796_326_734_125_614_17;
const PIO2_2: f64 = 6.077_100_506_303_965_976_6e-11;
const PIO2_3: f64 = 2.022_266_248_711_166_455_8e-21;
const TWO_OVER_PI: f64 = std::f64::consts::FRAC_2_PI;
/// Beyond this the three-part reduction loses accuracy; fall back to libm's Payne–Hanek.
const REDUCTION_LIMIT: f64 = 1e8;

// fdlibm's minimax kernels on [-π/4, π/4].
const S1: f64 = -1.666_666_666_666_663_243_48e-01;
const S2: f64 = 8.333_333_333_322_489_461_24e-03;
const S3: f64 = -1.984_126_982_985_794_931_34e-04;
const S4: f64 = 2.755_731_370_707_006_767_89e-06;
const S5: f64 = -2.505_076_025_340_686_341_95e-08;
const S6: f64 = 1.589_690_995_211_550_102_21e-10;
const C1: f64 = 4.166_666_666_666_660_190_37e-02;
const C2: f64 = -1.388_888_888_887_410_957_49e-03;
const C3: f64 = 2.480_158_728_947_672_941_78e-05;
const C4: f64 = -2.755_731_435_139_066_330_35e-07;
const C5: f64 = 2.087_572_321_298_174_827_90e-09;
const C6: f64 = -1.135_964_755_778_819_482_65e-11;

#[inline(always)]
fn kernel_sin(r: f64) -> f64 {
    let z = r * r;
    r + r * z * (S1 + z * (S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)))))
}

#[inline(always)]
fn kernel_cos(r: f64) -> f64 {
    let z = r * r;
    1.0 - 0.5 * z + z * z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))))
}

/// 1.5 × 2⁵²: adding and subtracting it rounds to the nearest integer (ties to even) with two
/// IEEE additions, which unlike `f64::round` needs no libm call and vectorises.
const ROUNDING_MAGIC: f64 = 6_755_399_441_055_744.0;

/// Reduces x to r ∈ [-π/4, π/4] with x = r + kπ/2; returns (r, k mod 4).
#[inline(always)]
fn reduce(x: f64) -> (f64, u64) {
    let shifted = x * TWO_OVER_PI + ROUNDING_MAGIC;
    let k = shifted - ROUNDING_MAGIC;
    let r = ((x - k * PIO2_1) - k * PIO2_2) - k * PIO2_3;
    // The low mantissa bits of `shifted` hold k (two's complement for negative k).
    (r, shifted.to_bits() & 3)
}

/// sin x, identical bits on every platform (within 2 ulp of the true value for |x| < 10⁸).
#[inline]
pub fn sin(x: f64) -> f64 {
    if x.is_nan() || x.abs() >= REDUCTION_LIMIT {
        return libm::sin(x);
    }
    let (r, quadrant) = reduce(x);
    // Both kernels and a select rather than a four-way branch: branch-free code vectorises.
    let (s, c) = (kernel_sin(r), kernel_cos(r));
    let v = if quadrant & 1 == 0 { s } else { c };
    if quadrant & 2 == 0 { v } else { -v }
}

/// cos x, identical bits on every platform (within 2 ulp for |x| < 10⁸).
#[inline]
pub fn cos(x: f64) -> f64 {
    if x.is_nan() || x.abs() >= REDUCTION_LIMIT {
        return libm::cos(x);
    }
    let (r, quadrant) = reduce(x);
    let (s, c) = (kernel_sin(r), kernel_cos(r));
    let v = if quadrant & 1 == 0 { c } else { s };
    if (quadrant + 1) & 2 == 0 { v } else { -v }
}

/// (sin x, cos x) with one reduction.
#[inline]
pub fn sin_cos(x: f64) -> (f64, f64) {
    if x.is_nan() || x.abs() >= REDUCTION_LIMIT {
        return (libm::sin(x), libm::cos(x));
    }
    let (r, quadrant) = reduce(x);
    let (s, c) = (kernel_sin(r), kernel_cos(r));
    match quadrant & 3 {
        0 => (s, c),
        1 => (c, -s),
        2 => (-s, -c),
        _ => (-c, s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> f64 {
        (a - b).abs() / (f64::EPSILON * b.abs().max(f64::MIN_POSITIVE))
    }

    #[test]
    fn agrees_with_libm_to_a_few_ulp() {
        let mut worst: f64 = 0.0;
        for i in 0..200_000 {
            let x = (i as f64 - 100_000.0) * 0.0123456789;
            let (s, c) = sin_cos(x);
            assert_eq!(s, sin(x));
            assert_eq!(c, cos(x));
            // Absolute error relative to 1 (values near zero crossings have no relative meaning).
            worst = worst.max(ulps(s, x.sin()).min((s - x.sin()).abs() / f64::EPSILON));
            worst = worst.max(ulps(c, x.cos()).min((c - x.cos()).abs() / f64::EPSILON));
        }
        assert!(worst <= 2.0, "worst error {worst} ulp");
        assert_eq!(sin(0.0), 0.0);
        assert_eq!(cos(0.0), 1.0);
        assert!(sin(f64::NAN).is_nan() && cos(f64::INFINITY).is_nan());
        assert!((sin(1e9) - 1e9f64.sin()).abs() < 1e-15);
    }
}
