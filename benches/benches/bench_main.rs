//! Criterion benches of every hot path, one module per area (candle's layout). Names carry the
//! device: `cpu_` here, `cuda_` when GPU benches arrive.

mod benchmarks;

criterion::criterion_main!(
    benchmarks::integrate::benches,
    benchmarks::sim::benches,
    benchmarks::tensor::benches,
    benchmarks::dynamics::benches,
    benchmarks::graph::benches,
    benchmarks::generative::benches
);
