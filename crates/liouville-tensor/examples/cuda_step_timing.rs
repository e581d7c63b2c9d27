//! Median time of one HNN and one plain-MLP training step (2→200→200→1 tanh, batch 256, f32) on
//! the GPU, the CUDA counterpart of the `cpu_train_step_*` criterion benches:
//! `cargo run --release -p liouville-tensor --features cuda --example cuda_step_timing`.
use std::time::Instant;

use dfdx::prelude::*;
use liouville_tensor::device::Cuda;
use liouville_tensor::optim::{Optimizer, OptimizerState};
use liouville_tensor::train::{Hamiltonian, Loss, Regression};
use liouville_tensor::{Activation, Init, Mlp};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dev = Cuda::default();
    let data = |phase: f32| dev.tensor_from_vec((0..512).map(|i| (i as f32 * 0.37 + phase).sin()).collect(), (256, 2));
    let (x, y) = (data(0.0), data(1.0));
    for (name, out) in [("hnn", 1usize), ("mlp", 2)] {
        let mut model = Mlp::<f32, Cuda>::new(&dev, &[2, 200, 200, out], Activation::Tanh, Init::Orthogonal, 0)?;
        let mut opt = OptimizerState::new(Optimizer::adam(0.0), &model)?;
        let mut times = Vec::new();
        for i in 0..220 {
            let t = Instant::now();
            let loss = if out == 1 {
                Hamiltonian.loss(&model, &x, &y, OwnedTape::default())?
            } else {
                Regression.loss(&model, &x, &y, OwnedTape::default())?
            };
            let mut grads = loss.backward();
            opt.update(&mut model, &mut grads, 1e-3, None)?;
            dev.synchronize();
            if i >= 20 {
                times.push(t.elapsed().as_secs_f64());
            }
        }
        times.sort_by(f64::total_cmp);
        println!(
            "cuda {name} step: median {:.3} ms over {} steps",
            times[times.len() / 2] * 1e3,
            times.len()
        );
    }
    Ok(())
}
