//! liouville-generative: one RealNVP maximum-likelihood step (8 affine couplings, conditioners
//! 2 → 64 → 64 → 2 tanh, batch 256, f32: forward through the couplings, NLL, backward, Adam),
//! against PyTorch (`benches/peers/torch_flows.py`, issue 11's acceptance 4).

use std::time::Duration;

use criterion::{Criterion, criterion_group};
use liouville_generative::datasets::two_moons;
use liouville_generative::flow::{NegativeLogLikelihood, RealNvp, RealNvpConfig};
use liouville_tensor::config::Configured;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::host;
use liouville_tensor::optim::Optimizer;
use liouville_tensor::train::Trainer;

fn steps(c: &mut Criterion) {
    let mut g = c.benchmark_group("cpu_flow_step_realnvp_8x64_batch256_f32");
    g.sample_size(30)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    let dev = Cpu::default();
    let x = host::matrix(&dev, two_moons(256, 0.1, 0), 256, 2);
    let config = RealNvpConfig::new(2, 8, &[64, 64], 2.0);
    let mut flow = RealNvp::<f32, Cpu>::from_config(&config, &dev, 0).unwrap();
    let mut trainer = Trainer::new(&flow, Optimizer::adam(0.0), 1e-3).unwrap();
    g.bench_function("realnvp", |b| {
        b.iter(|| trainer.step(&mut flow, &NegativeLogLikelihood, &x).unwrap())
    });
    g.finish();
}

criterion_group!(benches, steps);
