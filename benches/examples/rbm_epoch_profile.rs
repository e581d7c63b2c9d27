//! Runs the RBM CD-1 epoch of the criterion bench `cpu_rbm_cd1_epoch_64x64_rows10000_batch100_f64`
//! in a loop, for `perf record` (the bench harness's own setup would blur the profile).
//!
//! `cargo run --release -p liouville-benches --example rbm_epoch_profile -- [epochs]`

use liouville_generative::rbm::train::train;
use liouville_generative::rbm::{Rbm, RbmConfig};
use liouville_tensor::config::Configured;
use liouville_tensor::dfdx::prelude::*;

fn main() {
    let epochs: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(50);
    let data = liouville_benches::rbm_binary_rows();
    let dev = Cpu::default();
    let mut rbm = Rbm::<f64, Cpu>::from_config(&RbmConfig::new(64, 64), &dev, 0).unwrap();
    let cfg = liouville_benches::rbm_epoch_config();
    let mut times = Vec::with_capacity(epochs);
    for _ in 0..epochs {
        let start = std::time::Instant::now();
        train(&mut rbm, &data, &cfg).unwrap();
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{epochs} epochs: median {:.2} ms (min {:.2}, max {:.2})",
        times[epochs / 2],
        times[0],
        times[epochs - 1]
    );
}
