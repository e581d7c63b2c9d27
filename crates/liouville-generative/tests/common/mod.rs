//! The two-moons maximum-likelihood set-up shared by the flow tests: the same data, held-out set
//! and schedule for every architecture, so that their held-out NLLs compare.

// Each test binary uses the part it needs.
#![allow(dead_code)]

use std::path::PathBuf;

use liouville_generative::datasets::two_moons;
use liouville_tensor::device::HostDevice;
use liouville_tensor::optim::Schedule;
use liouville_tensor::shapes::{Matrix, Vector};
use liouville_tensor::train::{Rows, TrainConfig};
use liouville_tensor::{dfdx::prelude::*, host};

/// 4,000 training points (seed 1) and 2,000 held-out points (seed 2), noise 0.1.
pub fn two_moons_sets() -> (Rows, Matrix<f32, HostDevice>) {
    let data = Rows::new(two_moons(4000, 0.1, 1), 2).unwrap();
    let held_out = host::matrix(&HostDevice::default(), two_moons(2000, 0.1, 2), 2000, 2);
    (data, held_out)
}

/// Batch 256, 100 warm-up steps and a cosine decay to 2 %, 10 % validation, the best model
/// checkpointed at `checkpoint`.
pub fn fit(steps: usize, learning_rate: f64, eval_every: usize, checkpoint: PathBuf) -> TrainConfig {
    TrainConfig {
        steps,
        batch_size: 256,
        learning_rate,
        schedule: Schedule::Cosine {
            warmup: 100,
            total: steps,
            min_factor: 0.02,
        },
        validation_fraction: 0.1,
        eval_every,
        checkpoint: Some(checkpoint),
        ..TrainConfig::default()
    }
}

/// −mean of a batch of log-densities, in nats.
pub fn mean_nll(log_prob: Vector<f32, HostDevice>) -> f64 {
    -host::values(&log_prob.mean::<(), _>())[0]
}

/// Samples' reported log-densities are finite and equal (to f32 rounding) the model's log p at
/// the samples.
pub fn assert_samples_carry_their_log_density(reported: &Vector<f32, HostDevice>, again: &Vector<f32, HostDevice>) {
    for (a, b) in host::values(reported).iter().zip(host::values(again)) {
        assert!(a.is_finite() && (a - b).abs() < 1e-3 * (1.0 + b.abs()), "{a} vs {b}");
    }
}
