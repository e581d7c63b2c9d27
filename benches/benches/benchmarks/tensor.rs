//! liouville-tensor: one HNN training step (2→200→200→1 tanh, batch 256, f32: traced input
//! gradient, loss, backward, Adam) and the plain MLP regression step of the same size, against
//! PyTorch (`benches/peers/torch_hnn.py`).

use std::time::Duration;

use criterion::{Criterion, criterion_group};
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::optim::Optimizer;
use liouville_tensor::train::{Hamiltonian, Regression, Supervised, Trainer};
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
    let data = Supervised {
        inputs: batch(&dev, 256, 2, 0.0),
        targets: batch(&dev, 256, 2, 1.0),
    };
    for (name, out) in [("hnn", 1usize), ("mlp", 2)] {
        let mut model = Mlp::<f32, Cpu>::new(&dev, &[2, 200, 200, out], Activation::Tanh, Init::Orthogonal, 0).unwrap();
        let mut trainer = Trainer::new(&model, Optimizer::adam(0.0), 1e-3).unwrap();
        // The step the training loop runs: loss (read back), backward, Adam update.
        g.bench_function(name, |b| {
            b.iter(|| {
                if out == 1 {
                    trainer.step(&mut model, &Hamiltonian, &data).unwrap()
                } else {
                    trainer.step(&mut model, &Regression, &data).unwrap()
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, steps);
