//! `gemm` 0.15's interface, as dfdx 0.13 calls it, served by `gemm` 0.19.
//!
//! dfdx 0.13's CPU matrix product calls `gemm::gemm(m, n, k, dst, dst_cs, dst_rs, read_dst, lhs,
//! lhs_cs, lhs_rs, rhs, rhs_cs, rhs_rs, alpha, beta, conj_dst, conj_lhs, conj_rhs, parallelism)`,
//! computing dst := α·dst + β·lhs·rhs, and names `gemm::Parallelism`. Both have the same shape in
//! 0.19, whose `x86-v4` feature selects AVX-512 micro-kernels at run time where the CPU has them
//! (AVX2/FMA or portable kernels elsewhere), so the build stays portable.
//!
//! One policy is ours: dfdx asks for every rayon thread on every product. At the sizes our models
//! run (a 256×200·200×200 hidden layer is 10⁷ multiply-adds) the second thread's start-up and
//! spinning cost more than it brings: the HNN training step took 0.77× the time and the MLP step
//! 0.85× with products kept on the calling thread (2 cores, AVX-512; `benches/scripts/ab_compare.py`,
//! recorded in docs/benchmarks/substrate-ab.md). Splitting such a product in two row blocks with
//! `rayon::join` instead was slower still (HNN step 1.17×, MLP 1.16× the serial time): waking the
//! second worker costs more than half a product. Products above [`SERIAL_BELOW`] multiply-adds keep
//! dfdx's request.
#![allow(unsafe_code)] // gemm is an unsafe, pointer-based API; this crate forwards it.

pub use gemm19::Parallelism;

/// m·n·k below which a product runs on the calling thread (2²⁵ ≈ 3.4·10⁷ multiply-adds).
pub const SERIAL_BELOW: usize = 1 << 25;

/// dst := α·dst + β·lhs·rhs (α read only when `read_dst`), `gemm` 0.15's signature.
///
/// # Safety
/// As `gemm` 0.19's `gemm`: the pointers with their strides must address valid `m×k`, `k×n` and
/// `m×n` matrices, the destination not aliasing the operands.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm<T: 'static>(
    m: usize,
    n: usize,
    k: usize,
    dst: *mut T,
    dst_cs: isize,
    dst_rs: isize,
    read_dst: bool,
    lhs: *const T,
    lhs_cs: isize,
    lhs_rs: isize,
    rhs: *const T,
    rhs_cs: isize,
    rhs_rs: isize,
    alpha: T,
    beta: T,
    conj_dst: bool,
    conj_lhs: bool,
    conj_rhs: bool,
    parallelism: Parallelism,
) {
    let parallelism = if m.saturating_mul(n).saturating_mul(k) < SERIAL_BELOW {
        Parallelism::None
    } else {
        parallelism
    };
    // SAFETY: the caller's contract is gemm 0.19's, passed through unchanged.
    unsafe {
        gemm19::gemm(
            m, n, k, dst, dst_cs, dst_rs, read_dst, lhs, lhs_cs, lhs_rs, rhs, rhs_cs, rhs_rs, alpha, beta,
            conj_dst, conj_lhs, conj_rhs, parallelism,
        )
    }
}
