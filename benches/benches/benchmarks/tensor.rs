//! liouville-tensor: one HNN training step (2→200→200→1 tanh, batch 256, f32: traced input
//! gradient, loss, backward, Adam) and the plain MLP regression step of the same size, against
//! PyTorch (`benches/peers/torch_hnn.py`).

use std::time::Duration;

use criterion::{Criterion, criterion_group};
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::optim::{Optimizer, OptimizerState};
use liouville_tensor::train::{Hamiltonian, Loss, Regression};
use liouville_tensor::{Activation, Init, Mlp};

fn batch(dev: &Cpu, rows: usize, cols: usize, phase: f32) -> Tensor<(usize, usize), f32, Cpu> {
    dev.tensor_from_vec(
        (0..rows * cols).map(|i| (i as f32 * 0.37 + phase).sin()).collect(),
        (rows, cols),
    )
}

fn steps(c: &mut Criterion) {
    let mut g = c.benchmark_group("cpu_train_step_2x200x200_batch256_f32");
    g.sample_size(30)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    let dev = Cpu::default();
    let x = batch(&dev, 256, 2, 0.0);
    let y = batch(&dev, 256, 2, 1.0);
    for (name, out) in [("hnn", 1usize), ("mlp", 2)] {
        let mut model = Mlp::<f32, Cpu>::new(&dev, &[2, 200, 200, out], Activation::Tanh, Init::Orthogonal, 0).unwrap();
        let mut opt = OptimizerState::new(Optimizer::adam(0.0), &model).unwrap();
        g.bench_function(name, |b| {
            b.iter(|| {
                let loss = if out == 1 {
                    Hamiltonian.loss(&model, &x, &y, OwnedTape::default()).unwrap()
                } else {
                    Regression.loss(&model, &x, &y, OwnedTape::default()).unwrap()
                };
                let mut grads = loss.backward();
                opt.update(&mut model, &mut grads, 1e-3, None).unwrap();
            })
        });
    }
    g.finish();
}

criterion_group!(benches, steps);
