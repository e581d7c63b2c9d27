//! The step-size factor's power law, err^{-α}·err_prev^{β} = exp(-α ln err + β ln err_prev),
//! with a logarithm and an exponential written out in plain arithmetic.
//!
//! On a 4-component state the libm `log` and `exp` took a third of a Dopri5 step: the controller
//! sits on the critical path between steps. These versions are ≈ 1e-12 relative (tested against
//! libm below), far beyond what a step-size heuristic needs, and use only IEEE +, -, ×, ÷ and bit
//! operations: deterministic on every platform, as the datasets require.

use std::f64::consts::{LN_2, LOG2_E, SQRT_2};

/// ln 2 split so that k·LN2_HI is exact for |k| < 2¹¹ (Cody–Waite reduction; fdlibm's
/// `ln2_hi`/`ln2_lo`, given by their bits).
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// 1.5·2⁵²: adding and subtracting it rounds to the nearest integer.
const ROUNDER: f64 = 6_755_399_441_055_744.0;

/// ln x for finite x > 0 (relative error < 1e-12): x = 2ᵉ·m with m ∈ [√½, √2), and
/// ln m = 2 artanh t = 2(t + t³/3 + … + t¹³/13), t = (m - 1)/(m + 1), |t| ≤ 0.172.
pub(crate) fn ln(x: f64) -> f64 {
    if x < f64::MIN_POSITIVE {
        // Subnormal: scale into the normal range first.
        return ln(x * 18_014_398_509_481_984.0) - 54.0 * LN_2;
    }
    let bits = x.to_bits();
    let mut exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > SQRT_2 {
        m *= 0.5;
        exponent += 1;
    }
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let t4 = t2 * t2;
    // Estrin's scheme: the pairs are independent, so the latency is ≈ 3 multiplications.
    let p01 = 2.0 + t2 * (2.0 / 3.0);
    let p23 = 2.0 / 5.0 + t2 * (2.0 / 7.0);
    let p45 = 2.0 / 9.0 + t2 * (2.0 / 11.0);
    let p6 = 2.0 / 13.0;
    let series = t * (p01 + t4 * (p23 + t4 * (p45 + t4 * p6)));
    exponent as f64 * LN_2 + series
}

/// eʸ (relative error < 1e-12) for y clamped to [-700, 700]: y = k ln 2 + r, |r| ≤ ½ ln 2,
/// eʳ by its Taylor series to r¹⁰, scaled by 2ᵏ through the exponent bits.
pub(crate) fn exp(y: f64) -> f64 {
    let y = y.clamp(-700.0, 700.0);
    let k = (y * LOG2_E + ROUNDER) - ROUNDER;
    let r = (y - k * LN2_HI) - k * LN2_LO;
    let r2 = r * r;
    let r4 = r2 * r2;
    let r8 = r4 * r4;
    let p01 = 1.0 + r;
    let p23 = 1.0 / 2.0 + r * (1.0 / 6.0);
    let p45 = 1.0 / 24.0 + r * (1.0 / 120.0);
    let p67 = 1.0 / 720.0 + r * (1.0 / 5040.0);
    let p89 = 1.0 / 40_320.0 + r * (1.0 / 362_880.0);
    let p10 = 1.0 / 3_628_800.0;
    let poly = (p01 + r2 * p23) + r4 * (p45 + r2 * p67) + r8 * (p89 + r2 * p10);
    let scale = f64::from_bits(((k as i64 + 1023) as u64) << 52);
    poly * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relative(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    #[test]
    fn ln_matches_libm_over_the_whole_range() {
        let mut worst = 0.0f64;
        let mut x = 1e-310;
        while x < 1e300 {
            for m in [1.0, 1.1, 1.3, 1.41, 1.42, 1.7, 1.99] {
                let v = x * m;
                let exact = libm::log(v);
                let err = if exact.abs() < 1e-3 {
                    (ln(v) - exact).abs()
                } else {
                    relative(ln(v), exact)
                };
                worst = worst.max(err);
            }
            x *= 3.7;
        }
        for v in [1.0, 1.0 + 1e-12, 1.0 - 1e-12, 0.999, 1.001, 2.0, 0.5] {
            worst = worst.max((ln(v) - libm::log(v)).abs());
        }
        assert!(worst < 1e-12, "worst {worst:e}");
    }

    #[test]
    fn exp_matches_libm_over_the_whole_range() {
        let mut worst = 0.0f64;
        let mut y = -700.0;
        while y <= 700.0 {
            worst = worst.max(relative(exp(y), libm::exp(y)));
            y += 0.013_7;
        }
        assert!(worst < 1e-12, "worst {worst:e}");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(1e6), exp(700.0));
        assert!(exp(-1e6) > 0.0);
    }
}
