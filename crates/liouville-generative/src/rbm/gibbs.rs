//! Block Gibbs sampling: h ~ p(h | v), then v ~ p(v | h) (Bernoulli or unit Gaussian), on blocks
//! of chains in parallel.
//!
//! Each block of [`BLOCK`] chains draws from its own seeded stream, so the samples depend on the
//! seed and the chain count only, never on the number of threads.

use liouville_base::random::Rng;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;

use super::weights::{RbmWeights, VisibleUnits, sigmoid};

/// Chains per random stream and per parallel task.
pub const BLOCK: usize = 32;

/// Replaces each probability p by a Bernoulli(p) draw: 1 if u < p for u uniform on [0, 1).
pub fn bernoulli_in_place(mut p: ArrayViewMut2<f64>, rng: &mut Rng) {
    p.mapv_inplace(|q| if rng.uniform() < q { 1.0 } else { 0.0 });
}

/// One block Gibbs step v → h → v′ on the rows of `v` with the stream `rng`; returns v′ and the
/// hidden probabilities p(h | v) of the starting rows.
pub fn gibbs_step(rbm: &RbmWeights, v: ArrayView2<f64>, rng: &mut Rng) -> (Array2<f64>, Array2<f64>) {
    let p_h = rbm.hidden_probabilities(v);
    let mut h = p_h.clone();
    bernoulli_in_place(h.view_mut(), rng);
    let mut v_next = rbm.visible_probabilities(h.view());
    draw_visible(rbm.units, v_next.view_mut(), rng);
    (v_next, p_h)
}

/// Replaces E[v | h] by a draw of v: Bernoulli for binary units, mean + N(0, 1) for Gaussian.
pub fn draw_visible(units: VisibleUnits, mut mean: ArrayViewMut2<f64>, rng: &mut Rng) {
    match units {
        VisibleUnits::Binary => bernoulli_in_place(mean, rng),
        VisibleUnits::Gaussian => mean.mapv_inplace(|m| m + rng.normal()),
    }
}

/// `rows` starting states of the visible layer: uniformly random bits, or N(0, 1) values.
pub fn random_visible(units: VisibleUnits, rows: usize, visible: usize, rng: &mut Rng) -> Array2<f64> {
    let mut v = Array2::from_elem((rows, visible), sigmoid(0.0));
    match units {
        VisibleUnits::Binary => bernoulli_in_place(v.view_mut(), rng),
        VisibleUnits::Gaussian => v.mapv_inplace(|_| rng.normal()),
    }
    v
}

/// The stream of chain block `block` for draw `stream` of `seed`: distinct for every pair.
pub fn block_stream(seed: u64, stream: u64, block: usize) -> Rng {
    Rng::stream(seed, stream.wrapping_mul(0x1_0000_0000).wrapping_add(block as u64))
}

/// Runs `steps` block Gibbs steps from each row of `v` in place, blocks of [`BLOCK`] chains in
/// parallel, block k on [`block_stream`]`(seed, stream, k)`.
pub fn run_chains(rbm: &RbmWeights, v: &mut Array2<f64>, steps: usize, seed: u64, stream: u64) {
    v.axis_chunks_iter_mut(Axis(0), BLOCK)
        .into_par_iter()
        .enumerate()
        .for_each(|(k, mut block)| {
            let mut rng = block_stream(seed, stream, k);
            for _ in 0..steps {
                let (next, _) = gibbs_step(rbm, block.view(), &mut rng);
                block.assign(&next);
            }
        });
}

/// `chains` independent samples: each chain starts from uniformly random units, runs
/// `burn_in` steps, then records every `spacing` steps `per_chain` times. Returns
/// `[chains · per_chain, visible]`, chain-major.
pub fn sample(
    rbm: &RbmWeights,
    chains: usize,
    burn_in: usize,
    per_chain: usize,
    spacing: usize,
    seed: u64,
) -> Array2<f64> {
    let nv = rbm.visible();
    let blocks = chains.div_ceil(BLOCK);
    let parts: Vec<Vec<Array2<f64>>> = (0..blocks)
        .into_par_iter()
        .map(|k| {
            let rows = BLOCK.min(chains - k * BLOCK);
            let mut rng = block_stream(seed, u64::MAX, k);
            let mut v = random_visible(rbm.units, rows, nv, &mut rng);
            for _ in 0..burn_in {
                v = gibbs_step(rbm, v.view(), &mut rng).0;
            }
            let mut out = Vec::with_capacity(per_chain);
            for _ in 0..per_chain {
                for _ in 0..spacing.max(1) {
                    v = gibbs_step(rbm, v.view(), &mut rng).0;
                }
                out.push(v.clone());
            }
            out
        })
        .collect();
    // Chain-major: chain c's records are rows c·per_chain … (c+1)·per_chain − 1.
    let mut samples = Array2::zeros((chains * per_chain, nv));
    for (k, records) in parts.iter().enumerate() {
        for (t, rec) in records.iter().enumerate() {
            for (r, row) in rec.rows().into_iter().enumerate() {
                let chain = k * BLOCK + r;
                samples.row_mut(chain * per_chain + t).assign(&row);
            }
        }
    }
    samples
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn rbm() -> RbmWeights {
        RbmWeights::new(
            array![[1.5, -2.0], [0.7, 1.1], [-1.3, 0.4]],
            array![0.3, -0.5, 0.2],
            array![-0.4, 0.8],
        )
        .unwrap()
    }

    #[test]
    fn samples_follow_the_exact_marginal() {
        // 3 visible units: the empirical frequency of each of the 8 states against
        // p(v) = e^{−F(v)} / Z by enumeration, within 4 standard errors.
        let m = rbm();
        let states = Array2::from_shape_fn((8, 3), |(s, i)| ((s >> i) & 1) as f64);
        let f = m.free_energy(states.view());
        let z: f64 = f.iter().map(|x| (-x).exp()).sum();
        let s = sample(&m, 200, 50, 100, 2, 11);
        assert_eq!(s.dim(), (20_000, 3));
        let mut counts = [0usize; 8];
        for row in s.rows() {
            counts[(0..3).map(|i| (row[i] as usize) << i).sum::<usize>()] += 1;
        }
        let n = s.nrows() as f64;
        for k in 0..8 {
            let p = (-f[k]).exp() / z;
            let se = (p * (1.0 - p) / n).sqrt();
            // Chains are autocorrelated: allow for an integrated autocorrelation time of ~2.
            let got = counts[k] as f64 / n;
            assert!(
                (got - p).abs() < 4.0 * se * 2f64.sqrt(),
                "state {k}: {got} vs {p} (se {se})"
            );
        }
    }

    #[test]
    fn chains_do_not_depend_on_the_thread_count() {
        let m = rbm();
        let start = Array2::from_shape_fn((100, 3), |(r, i)| ((r + i) % 2) as f64);
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let three = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let (mut a, mut b) = (start.clone(), start);
        one.install(|| run_chains(&m, &mut a, 7, 5, 2));
        three.install(|| run_chains(&m, &mut b, 7, 5, 2));
        assert_eq!(a, b);
        let sa = one.install(|| sample(&m, 70, 3, 2, 1, 9));
        let sb = three.install(|| sample(&m, 70, 3, 2, 1, 9));
        assert_eq!(sa, sb);
        assert!(sa.iter().all(|&x| x == 0.0 || x == 1.0));
    }
}
