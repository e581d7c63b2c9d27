//! The data and model moments of one CD-k or PCD-k minibatch, block by block in reused buffers.
//!
//! For each block of at most [`BLOCK`] rows: the data rows v₀ give p(h | v₀) and the data
//! moments Σ v₀ p(h|v₀)ᵀ, Σ v₀, Σ p(h|v₀); the chain h₀ ~ p(h | v₀), v₁ ~ p(v | h₀), …, v_k
//! (started at v₀ for CD-k, at the persistent state for PCD) gives the model moments through
//! p(h | v_k) (Hinton 2002; Tieleman 2008; Rao–Blackwellised hidden units as in
//! [`super::moments`]). CD-k reuses p(h | v₀) as the chain's first conditional, so one product
//! of the four per step is saved; every product runs through tensor's host product into buffers
//! that live as long as the workspace, so an epoch allocates nothing per batch but the moments.
//!
//! Block k draws from [`block_stream`]`(seed, stream, k)` in the order of
//! [`super::gibbs::run_chains`] (hidden draws row-major, then visible draws), so the chains are
//! those of `run_chains` on the same rows, whatever the number of threads; blocks run in
//! parallel and their sums are added in block order.

use liouville_base::random::Rng;
use liouville_tensor::host_product::{Operand, multiply_into};
use liouville_tensor::vector_math::{FusedActivation, VectorMath};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};
use rayon::prelude::*;

use super::gibbs::{BLOCK, bernoulli_in_place, block_stream, draw_visible};
use super::moments::Moments;
use super::weights::{RbmWeights, VisibleUnits};

/// Σ v hᵀ, Σ v, Σ h over one block's rows.
#[derive(Debug, Default)]
struct Sums {
    vh: Vec<f64>,
    v: Vec<f64>,
    h: Vec<f64>,
}

impl Sums {
    fn resize(&mut self, nv: usize, nh: usize) {
        self.vh.resize(nv * nh, 0.0);
        self.v.resize(nv, 0.0);
        self.h.resize(nh, 0.0);
    }

    /// Overwrites the sums with those of `rows` row-major rows `v` and hidden probabilities `p_h`.
    fn set(&mut self, v: &[f64], p_h: &[f64], rows: usize) {
        let (nv, nh) = (self.v.len(), self.h.len());
        let v_op = Operand::new(v, rows, nv).expect("rows × visible values");
        let h_op = Operand::new(p_h, rows, nh).expect("rows × hidden values");
        multiply_into(0.0, &mut self.vh, 1.0, v_op.t(), h_op).expect("visible × hidden sums");
        column_sums(v, &mut self.v);
        column_sums(p_h, &mut self.h);
    }
}

/// out[j] = Σ_r x[r, j] for row-major x with `out.len()` columns.
fn column_sums(x: &[f64], out: &mut [f64]) {
    out.fill(0.0);
    for row in x.chunks_exact(out.len()) {
        for (o, &value) in out.iter_mut().zip(row) {
            *o += value;
        }
    }
}

/// The buffers of one segment of rows: consecutive [`BLOCK`]s whose products run as one.
#[derive(Debug, Default)]
struct Segment {
    /// Data rows v₀; for CD-k, then the chain state.
    data: Vec<f64>,
    /// p(h | v₀); for CD-k, then p(h | v) of the chain state.
    data_hidden: Vec<f64>,
    /// The persistent chain state v.
    chain: Vec<f64>,
    /// p(h | v) of the persistent chain state.
    chain_hidden: Vec<f64>,
    /// A hidden draw.
    hidden_draw: Vec<f64>,
    /// Pre-activations and the activation kernel's second output.
    pre: Vec<f64>,
    basis: Vec<f64>,
    positive: Sums,
    negative: Sums,
}

impl Segment {
    /// Room for `rows` rows (buffers only grow).
    fn reserve(&mut self, rows: usize, nv: usize, nh: usize) {
        for (buffer, width) in [
            (&mut self.data, nv),
            (&mut self.chain, nv),
            (&mut self.data_hidden, nh),
            (&mut self.chain_hidden, nh),
            (&mut self.hidden_draw, nh),
            (&mut self.pre, nv.max(nh)),
            (&mut self.basis, nv.max(nh)),
        ] {
            if buffer.len() < rows * width {
                buffer.resize(rows * width, 0.0);
            }
        }
        self.positive.resize(nv, nh);
        self.negative.resize(nv, nh);
    }
}

/// p(h | v) = σ(b + vW) of `rows` rows into `out`.
fn hidden_probabilities(rbm: &RbmWeights, v: &[f64], rows: usize, out: &mut [f64], pre: &mut [f64], basis: &mut [f64]) {
    let n = rows * rbm.hidden();
    rbm.hidden_input_into(v, rows, &mut pre[..n]);
    f64::activate_into(FusedActivation::Sigmoid, &pre[..n], &mut out[..n], &mut basis[..n]);
}

/// `k` block Gibbs steps h ~ p(h | v), v ~ p(v | h) of the `rows` rows of `v`, whose hidden
/// probabilities `p_h` are given, in place; leaves p(h | v_k) in `p_h`. Rows are drawn in
/// [`BLOCK`]s, block j from `streams[j]` (hidden draws, then visible draws, each step), so the
/// draws do not depend on how many blocks share a product.
#[allow(clippy::too_many_arguments)]
fn gibbs(
    rbm: &RbmWeights,
    rows: usize,
    k: usize,
    v: &mut [f64],
    p_h: &mut [f64],
    h: &mut [f64],
    pre: &mut [f64],
    basis: &mut [f64],
    streams: &mut [Rng],
) {
    let (nv, nh) = (rbm.visible(), rbm.hidden());
    let (v, p_h, h) = (&mut v[..rows * nv], &mut p_h[..rows * nh], &mut h[..rows * nh]);
    for _ in 0..k {
        h.copy_from_slice(p_h);
        for (block, rng) in h.chunks_mut(BLOCK * nh).zip(streams.iter_mut()) {
            let n = block.len() / nh;
            bernoulli_in_place(matrix(block, n, nh), rng);
        }
        rbm.visible_input_into(h, rows, &mut pre[..rows * nv]);
        match rbm.units {
            VisibleUnits::Binary => {
                f64::activate_into(FusedActivation::Sigmoid, &pre[..rows * nv], v, &mut basis[..rows * nv])
            }
            VisibleUnits::Gaussian => v.copy_from_slice(&pre[..rows * nv]),
        }
        for (block, rng) in v.chunks_mut(BLOCK * nv).zip(streams.iter_mut()) {
            let n = block.len() / nv;
            draw_visible(rbm.units, matrix(block, n, nv), rng);
        }
        hidden_probabilities(rbm, v, rows, p_h, pre, basis);
    }
}

/// The streams of the blocks of `rows` rows starting at block `first`.
fn streams(seed: u64, stream: u64, first: usize, rows: usize) -> Vec<Rng> {
    (first..first + rows.div_ceil(BLOCK))
        .map(|block| block_stream(seed, stream, block))
        .collect()
}

fn dot(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(a, b)| a * b).sum()
}

/// A row-major slice as a `rows × cols` matrix view.
fn matrix(x: &mut [f64], rows: usize, cols: usize) -> ArrayViewMut2<'_, f64> {
    ArrayViewMut2::from_shape((rows, cols), x).expect("rows × cols values")
}

/// Copies the rows `rows` of `data` into `out`.
fn gather(data: ArrayView2<f64>, rows: &[usize], out: &mut [f64]) {
    let width = data.ncols();
    for (&r, target) in rows.iter().zip(out.chunks_exact_mut(width)) {
        match data.row(r).as_slice() {
            Some(row) => target.copy_from_slice(row),
            None => target.iter_mut().zip(data.row(r)).for_each(|(t, &x)| *t = x),
        }
    }
}

/// Multiply-adds below which a minibatch runs on the calling thread, its products over all its
/// rows at once: handing a CD-1 batch of 100 rows × 64 × 64 units (≈ 1.2·10⁶ multiply-adds,
/// 0.1 ms) to rayon's workers and back cost more than the second core returned (in one session
/// on the 2-core CI machine, the epoch's median 131 ms in parallel blocks of 32 rows against
/// 65 ms serial, spread 72–237 ms against 51–76 ms), as for tensor's products.
pub const PARALLEL_ABOVE: usize = 1 << 24;

/// [`BLOCK`]s per segment when a minibatch runs in parallel. Fixed, so that the sums (added per
/// segment, in order) do not depend on the number of threads.
const PARALLEL_SEGMENT_BLOCKS: usize = 4;

/// Rows per segment for a minibatch of `rows` rows with `work` multiply-adds.
fn segment_rows(rows: usize, work: usize) -> usize {
    match work < PARALLEL_ABOVE {
        true => rows.max(1),
        false => PARALLEL_SEGMENT_BLOCKS * BLOCK,
    }
}

/// `f(first block, buffers, part)` for each segment and its part of the rows, in parallel when
/// there is more than one.
fn for_each_segment<P: Send>(
    segments: &mut [Segment],
    parts: impl Iterator<Item = P>,
    blocks_per_segment: usize,
    f: impl Fn(usize, &mut Segment, P) + Sync + Send,
) {
    let parts: Vec<P> = parts.collect();
    match parts.len() {
        0 => {}
        1 => f(0, &mut segments[0], parts.into_iter().next().expect("one part")),
        _ => segments
            .par_iter_mut()
            .zip(parts)
            .enumerate()
            .for_each(|(i, (b, p))| f(i * blocks_per_segment, b, p)),
    }
}

/// The reused buffers of CD-k / PCD-k minibatches of one RBM shape.
#[derive(Debug, Default)]
pub struct ContrastiveWorkspace {
    shape: (usize, usize),
    segments: Vec<Segment>,
}

impl ContrastiveWorkspace {
    /// An empty workspace; buffers grow on first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// At least `count` segments of room for `rows` rows each.
    fn prepare(&mut self, rbm: &RbmWeights, count: usize, rows: usize) {
        let shape = (rbm.visible(), rbm.hidden());
        if self.shape != shape {
            self.segments.clear();
            self.shape = shape;
        }
        if self.segments.len() < count {
            self.segments.resize_with(count, Segment::default);
        }
        for segment in &mut self.segments[..count] {
            segment.reserve(rows, shape.0, shape.1);
        }
    }

    /// CD-k on the rows `rows` of `data`: (data moments, model moments), both exact in the
    /// hidden layer (p(h | v)), the model's from k Gibbs steps started at each row; the chains
    /// are [`super::gibbs::run_chains`]`(rbm, rows, k, seed, stream)`'s.
    pub fn contrastive(
        &mut self,
        rbm: &RbmWeights,
        data: ArrayView2<f64>,
        rows: &[usize],
        k: usize,
        seed: u64,
        stream: u64,
    ) -> (Moments, Moments) {
        let (nv, nh) = (rbm.visible(), rbm.hidden());
        let per_segment = segment_rows(rows.len(), rows.len() * nv * nh * (k + 1));
        let count = rows.len().div_ceil(per_segment);
        self.prepare(rbm, count, per_segment);
        for_each_segment(
            &mut self.segments[..count],
            rows.chunks(per_segment),
            per_segment / BLOCK,
            |first, b, chunk| {
                let n = chunk.len();
                gather(data, chunk, &mut b.data);
                hidden_probabilities(rbm, &b.data[..n * nv], n, &mut b.data_hidden, &mut b.pre, &mut b.basis);
                b.positive.set(&b.data[..n * nv], &b.data_hidden[..n * nh], n);
                // The data rows and p(h | v₀) are the chain's start; nothing reads them again.
                gibbs(
                    rbm,
                    n,
                    k,
                    &mut b.data,
                    &mut b.data_hidden,
                    &mut b.hidden_draw,
                    &mut b.pre,
                    &mut b.basis,
                    &mut streams(seed, stream, first, n),
                );
                b.negative.set(&b.data[..n * nv], &b.data_hidden[..n * nh], n);
            },
        );
        let positive = self.mean(count, rows.len(), |b| &b.positive);
        let negative = self.mean(count, rows.len(), |b| &b.negative);
        (positive, negative)
    }

    /// PCD-k: the data moments of the rows `rows` of `data`, and the model moments of the
    /// persistent `chains` after k Gibbs steps ([`super::gibbs::run_chains`]`(rbm, chains, k,
    /// seed, stream)`), which are advanced in place.
    #[allow(clippy::too_many_arguments)]
    pub fn persistent(
        &mut self,
        rbm: &RbmWeights,
        data: ArrayView2<f64>,
        rows: &[usize],
        chains: &mut Array2<f64>,
        k: usize,
        seed: u64,
        stream: u64,
    ) -> (Moments, Moments) {
        let (nv, nh) = (rbm.visible(), rbm.hidden());
        let data_rows = segment_rows(rows.len(), rows.len() * nv * nh);
        let chain_rows = segment_rows(chains.nrows(), chains.nrows() * nv * nh * (k + 1));
        let (data_count, chain_count) = (rows.len().div_ceil(data_rows), chains.nrows().div_ceil(chain_rows));
        self.prepare(rbm, data_count.max(chain_count), data_rows.max(chain_rows));
        for_each_segment(
            &mut self.segments[..data_count],
            rows.chunks(data_rows),
            data_rows / BLOCK,
            |_, b, chunk| {
                let n = chunk.len();
                gather(data, chunk, &mut b.data);
                hidden_probabilities(rbm, &b.data[..n * nv], n, &mut b.data_hidden, &mut b.pre, &mut b.basis);
                b.positive.set(&b.data[..n * nv], &b.data_hidden[..n * nh], n);
            },
        );
        let state = chains.as_slice_mut().expect("chains are a standard-layout matrix");
        for_each_segment(
            &mut self.segments[..chain_count],
            state.chunks_mut(chain_rows * nv),
            chain_rows / BLOCK,
            |first, b, rows_of_state| {
                let n = rows_of_state.len() / nv;
                b.chain[..n * nv].copy_from_slice(rows_of_state);
                hidden_probabilities(
                    rbm,
                    &b.chain[..n * nv],
                    n,
                    &mut b.chain_hidden,
                    &mut b.pre,
                    &mut b.basis,
                );
                gibbs(
                    rbm,
                    n,
                    k,
                    &mut b.chain,
                    &mut b.chain_hidden,
                    &mut b.hidden_draw,
                    &mut b.pre,
                    &mut b.basis,
                    &mut streams(seed, stream, first, n),
                );
                rows_of_state.copy_from_slice(&b.chain[..n * nv]);
                b.negative.set(&b.chain[..n * nv], &b.chain_hidden[..n * nh], n);
            },
        );
        let positive = self.mean(data_count, rows.len(), |b| &b.positive);
        let negative = self.mean(chain_count, chains.nrows(), |b| &b.negative);
        (positive, negative)
    }

    /// The training loop's monitors of the rows of `v`, block by block: the mean squared error
    /// of the mean-field reconstruction E[v | p(h | v)] per unit, and the mean free energy F(v)
    /// (as [`RbmWeights::free_energy`]). One product gives both: softplus of the hidden
    /// pre-activations for F, their sigmoid (the kernel's second output) for p(h | v).
    pub fn monitors(&mut self, rbm: &RbmWeights, v: ArrayView2<f64>) -> (f64, f64) {
        let (nv, nh) = (rbm.visible(), rbm.hidden());
        let rows: Vec<usize> = (0..v.nrows()).collect();
        self.prepare(rbm, 1, BLOCK);
        let b = &mut self.segments[0];
        let (a, a_slice) = (&rbm.a, rbm.a.as_slice().expect("a contiguous bias"));
        let (mut squared_error, mut free_energy) = (0.0, 0.0);
        for chunk in rows.chunks(BLOCK) {
            let n = chunk.len();
            let (x, pre) = (&mut b.data[..n * nv], &mut b.pre[..n * nh]);
            gather(v, chunk, x);
            rbm.hidden_input_into(x, n, pre);
            let (softplus, p_h) = (&mut b.chain_hidden[..n * nh], &mut b.data_hidden[..n * nh]);
            f64::activate_into(FusedActivation::Softplus, pre, softplus, p_h);
            free_energy -= softplus.iter().sum::<f64>();
            free_energy += match rbm.units {
                VisibleUnits::Binary => -x.chunks_exact(nv).map(|row| dot(row, a_slice)).sum::<f64>(),
                VisibleUnits::Gaussian => x
                    .iter()
                    .zip(a.iter().cycle())
                    .map(|(&xi, &ai)| 0.5 * (xi - ai) * (xi - ai))
                    .sum(),
            };
            let (back, pre_v) = (&mut b.chain[..n * nv], &mut b.pre[..n * nv]);
            rbm.visible_input_into(p_h, n, pre_v);
            match rbm.units {
                VisibleUnits::Binary => {
                    f64::activate_into(FusedActivation::Sigmoid, pre_v, back, &mut b.basis[..n * nv])
                }
                VisibleUnits::Gaussian => back.copy_from_slice(pre_v),
            }
            squared_error += back
                .iter()
                .zip(x.iter())
                .map(|(r, xi)| (r - xi) * (r - xi))
                .sum::<f64>();
        }
        let rows = v.nrows() as f64;
        (squared_error / (rows * nv as f64), free_energy / rows)
    }

    /// The sums of the first `segments` segments, added in order, over `rows`.
    fn mean(&self, segments: usize, rows: usize, sums: impl Fn(&Segment) -> &Sums) -> Moments {
        let (nv, nh) = self.shape;
        let mut vh = vec![0.0; nv * nh];
        let mut v = vec![0.0; nv];
        let mut h = vec![0.0; nh];
        for segment in &self.segments[..segments] {
            let s = sums(segment);
            for (total, part) in [(&mut vh, &s.vh), (&mut v, &s.v), (&mut h, &s.h)] {
                total.iter_mut().zip(part).for_each(|(t, &p)| *t += p);
            }
        }
        let scale = 1.0 / rows as f64;
        Moments {
            vh: Array2::from_shape_vec((nv, nh), vh).expect("visible × hidden") * scale,
            v: Array1::from(v) * scale,
            h: Array1::from(h) * scale,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbm::gibbs::run_chains;
    use ndarray::array;

    fn rbm(units: VisibleUnits) -> RbmWeights {
        RbmWeights::new(
            array![[1.5, -2.0], [0.7, 1.1], [-1.3, 0.4]],
            array![0.3, -0.5, 0.2],
            array![-0.4, 0.8],
        )
        .unwrap()
        .with_units(units)
    }

    fn close(a: &Moments, b: &Moments) {
        let pairs = [
            (a.vh.iter().collect::<Vec<_>>(), b.vh.iter().collect::<Vec<_>>()),
            (a.v.iter().collect(), b.v.iter().collect()),
            (a.h.iter().collect(), b.h.iter().collect()),
        ];
        for (x, y) in pairs {
            for (p, q) in x.iter().zip(&y) {
                assert!((*p - *q).abs() < 1e-12, "{p} vs {q}");
            }
        }
    }

    /// 70 data rows (3 blocks, the last partial) in a scrambled order.
    fn data(units: VisibleUnits) -> (Array2<f64>, Vec<usize>) {
        let rows = Array2::from_shape_fn((90, 3), |(r, i)| match units {
            VisibleUnits::Binary => ((r * 7 + i * 3) % 5 < 2) as u8 as f64,
            VisibleUnits::Gaussian => ((r * 13 + i * 5) % 11) as f64 / 5.0 - 1.0,
        });
        let order: Vec<usize> = (0..70).map(|i| (i * 37 + 11) % 90).collect();
        (rows, order)
    }

    #[test]
    fn contrastive_moments_are_those_of_run_chains() {
        for units in [VisibleUnits::Binary, VisibleUnits::Gaussian] {
            let m = rbm(units);
            let (rows, order) = data(units);
            let v0 = rows.select(ndarray::Axis(0), &order);
            let mut chain = v0.clone();
            run_chains(&m, &mut chain, 3, 9, 4);
            let mut ws = ContrastiveWorkspace::new();
            for _ in 0..2 {
                // The second pass reuses the buffers: nothing of the first may leak into it.
                let (positive, negative) = ws.contrastive(&m, rows.view(), &order, 3, 9, 4);
                close(&positive, &Moments::of_visible(&m, v0.view(), None));
                close(&negative, &Moments::of_visible(&m, chain.view(), None));
            }
        }
    }

    #[test]
    fn persistent_chains_advance_as_run_chains_does() {
        for units in [VisibleUnits::Binary, VisibleUnits::Gaussian] {
            let m = rbm(units);
            let (rows, order) = data(units);
            let start = rows.slice(ndarray::s![..45, ..]).to_owned();
            let (mut expected, mut chains) = (start.clone(), start);
            let mut ws = ContrastiveWorkspace::new();
            for stream in 0..3 {
                run_chains(&m, &mut expected, 2, 5, stream);
                let (positive, negative) = ws.persistent(&m, rows.view(), &order, &mut chains, 2, 5, stream);
                assert_eq!(chains, expected);
                close(&negative, &Moments::of_visible(&m, expected.view(), None));
                let v0 = rows.select(ndarray::Axis(0), &order);
                close(&positive, &Moments::of_visible(&m, v0.view(), None));
            }
        }
    }

    #[test]
    fn monitors_are_the_reconstruction_error_and_mean_free_energy() {
        for units in [VisibleUnits::Binary, VisibleUnits::Gaussian] {
            let m = rbm(units);
            let (rows, _) = data(units);
            let back = m.visible_probabilities(m.hidden_probabilities(rows.view()).view());
            let error = (&back - &rows).mapv(|d| d * d).mean().unwrap();
            let free = m.free_energy(rows.view()).mean().unwrap();
            let (got_error, got_free) = ContrastiveWorkspace::new().monitors(&m, rows.view());
            assert!((got_error - error).abs() < 1e-13, "{units:?}: {got_error} vs {error}");
            assert!(
                (got_free - free).abs() < 1e-12 * free.abs().max(1.0),
                "{units:?}: {got_free} vs {free}"
            );
        }
    }

    #[test]
    fn large_batches_run_in_parallel_segments_with_the_same_chains() {
        // 1,100 rows of a 64 × 64 RBM at k = 3 pass PARALLEL_ABOVE: segments of 128 rows on
        // rayon, against run_chains' 32-row blocks and any thread count.
        let mut rng = Rng::stream(3, 0);
        let m = RbmWeights::new(
            Array2::from_shape_fn((64, 64), |_| 0.3 * rng.normal()),
            Array1::from_shape_fn(64, |_| 0.2 * rng.normal()),
            Array1::from_shape_fn(64, |_| 0.2 * rng.normal()),
        )
        .unwrap();
        let rows = Array2::from_shape_fn((1200, 64), |_| (rng.uniform() < 0.4) as u8 as f64);
        let order: Vec<usize> = (0..1100).map(|i| (i * 7 + 3) % 1200).collect();
        const { assert!(1100 * 64 * 64 * 4 >= PARALLEL_ABOVE) };
        let v0 = rows.select(ndarray::Axis(0), &order);
        let mut chain = v0.clone();
        run_chains(&m, &mut chain, 3, 8, 2);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| ContrastiveWorkspace::new().contrastive(&m, rows.view(), &order, 3, 8, 2))
        };
        let (positive, negative) = run(2);
        close(&positive, &Moments::of_visible(&m, v0.view(), None));
        close(&negative, &Moments::of_visible(&m, chain.view(), None));
        assert_eq!(run(1), run(3));
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let m = rbm(VisibleUnits::Binary);
        let (rows, order) = data(VisibleUnits::Binary);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| ContrastiveWorkspace::new().contrastive(&m, rows.view(), &order, 2, 3, 1))
        };
        assert_eq!(run(1), run(3));
    }
}
