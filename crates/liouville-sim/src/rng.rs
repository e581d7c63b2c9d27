//! A seedable random number generator with independent streams, so that trajectory i of a
//! dataset draws the same numbers whatever the thread count or sharding.
//!
//! xoshiro256++ (Blackman & Vigna 2018) seeded through SplitMix64 from (seed, stream). Both are
//! specified bit for bit, so datasets do not change when a dependency is upgraded.

use crate::math;

/// xoshiro256++ state.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
    spare_normal: Option<f64>,
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// Stream `stream` of the generator family `seed`: distinct (seed, stream) pairs give
    /// statistically independent sequences.
    pub fn stream(seed: u64, stream: u64) -> Self {
        let mut sm = seed;
        let mixed = splitmix64(&mut sm) ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
        let mut state = mixed;
        let s = [
            splitmix64(&mut state),
            splitmix64(&mut state),
            splitmix64(&mut state),
            splitmix64(&mut state),
        ];
        Self { s, spare_normal: None }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform on [0, 1) with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform on [a, b).
    pub fn uniform_in(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.uniform()
    }

    /// Uniform integer in [0, n) (Lemire's multiply-shift with rejection, unbiased).
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0) has no value");
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = (self.next_u64() as u128) * (n as u128);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// Standard normal by Box–Muller with the deterministic kernels of [`crate::math`].
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        let u1 = 1.0 - self.uniform(); // (0, 1]: ln is finite
        let u2 = self.uniform();
        let radius = (-2.0 * libm::log(u1)).sqrt();
        let (s, c) = math::sin_cos(std::f64::consts::TAU * u2);
        self.spare_normal = Some(radius * s);
        radius * c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rng::stream(7, 3).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut x = Rng::stream(7, 3);
        let mut y = Rng::stream(7, 4);
        let mut z = Rng::stream(8, 3);
        let (xs, ys, zs): (Vec<u64>, Vec<u64>, Vec<u64>) = (0..8)
            .map(|_| (x.next_u64(), y.next_u64(), z.next_u64()))
            .fold((vec![], vec![], vec![]), |mut acc, v| {
                acc.0.push(v.0);
                acc.1.push(v.1);
                acc.2.push(v.2);
                acc
            });
        assert_ne!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn moments_of_uniform_and_normal() {
        let mut rng = Rng::stream(1, 0);
        let n = 200_000;
        let (mut su, mut sn, mut sn2, mut sn4) = (0.0, 0.0, 0.0, 0.0);
        for _ in 0..n {
            su += rng.uniform();
            let z = rng.normal();
            sn += z;
            sn2 += z * z;
            sn4 += z.powi(4);
        }
        let n = n as f64;
        assert!((su / n - 0.5).abs() < 3.0 * (1.0 / 12.0 / n).sqrt() * 2.0);
        assert!((sn / n).abs() < 4.0 / n.sqrt());
        assert!((sn2 / n - 1.0).abs() < 4.0 * (2.0 / n).sqrt());
        assert!((sn4 / n - 3.0).abs() < 4.0 * (96.0 / n).sqrt());
        let counts = (0..60_000).fold([0usize; 6], |mut c, _| {
            c[rng.below(6) as usize] += 1;
            c
        });
        assert!(
            counts.iter().all(|&c| (c as f64 - 10_000.0).abs() < 500.0),
            "{counts:?}"
        );
    }
}
