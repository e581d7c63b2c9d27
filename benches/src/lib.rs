//! Shared problem definitions for the criterion benches (see `benches/bench_main.rs`).
