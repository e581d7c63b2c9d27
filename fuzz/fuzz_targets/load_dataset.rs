//! Fuzz the dataset loaders: any input must give `Ok` or a typed error, never a panic, abort
//! or runaway allocation. Run by hand (not in CI):
//!
//! ```sh
//! cargo install cargo-fuzz && cd fuzz && cargo +nightly fuzz run load_dataset -- -max_total_time=300
//! ```
#![no_main]

use libfuzzer_sys::fuzz_target;
use liouville_sim::dataset::{Dataset, IsingDataset, container};

fuzz_target!(|data: &[u8]| {
    let _ = Dataset::from_bytes(data);
    let _ = IsingDataset::from_bytes(data);
    // Past the checksum: feed the fuzzer's bytes as a payload with a valid header, so the
    // codec and the shape validation are exercised too.
    let framed = container::assemble(container::Kind::Trajectories, [1, 1, 1], data);
    let _ = Dataset::from_bytes(&framed);
});
