//! Criterion benches of every hot path, one module per area (candle's layout). Names carry the
//! device: `cpu_` here, `cuda_` when GPU benches arrive.

mod benchmarks;

/// criterion_main!'s body, after keeping freed host memory for reuse as the `liouville` CLI does
/// (`liouville_tensor::host_memory`: the large training buffers otherwise come back as fresh,
/// page-faulting `mmap`s every step).
fn main() {
    liouville_tensor::host_memory::keep_freed_memory();
    benchmarks::integrate::benches();
    benchmarks::sim::benches();
    benchmarks::tensor::benches();
    benchmarks::dynamics::benches();
    benchmarks::graph::benches();
    benchmarks::generative::benches();
    criterion::Criterion::default().configure_from_args().final_summary();
}
