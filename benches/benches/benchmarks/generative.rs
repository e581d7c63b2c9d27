//! liouville-generative: one RealNVP maximum-likelihood step (8 affine couplings, conditioners
//! 2 → 64 → 64 → 2 tanh, batch 256, f32: forward through the couplings, NLL, backward, Adam),
//! against PyTorch (`benches/peers/torch_flows.py`, issue 11's acceptance 4); and one CD-1 epoch
//! of a 64 × 64 binary RBM over 10,000 rows in batches of 100 (issue 12's acceptance 5), against
//! `benches/peers/torch_rbm.py`; and one WGAN-GP critic step at gan_toy.py's width 512 (issue
//! 12's acceptance 5), against `benches/peers/torch_gan.py`.

use std::time::Duration;

use criterion::{Criterion, criterion_group};
use liouville_generative::datasets::{eight_gaussians, two_moons};
use liouville_generative::flow::{NegativeLogLikelihood, RealNvp, RealNvpConfig};
use liouville_generative::gan::train::{GanTrainConfig, critic_step};
use liouville_generative::gan::{Gan, GanConfig, Objective};
use liouville_generative::rbm::train::train;
use liouville_generative::rbm::{Rbm, RbmConfig};
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

/// The neural spline flow's step beside `benches/peers/torch_flows.py`'s: 4 rational-quadratic
/// spline couplings, 8 bins on ±4, conditioners 1 → 64 → 64 → 23, batch 256, f32, Adam.
fn spline_step(c: &mut Criterion) {
    let mut g = c.benchmark_group("cpu_flow_step_spline_4x64_bins8_batch256_f32");
    g.sample_size(30)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    let dev = Cpu::default();
    let x = host::matrix(&dev, two_moons(256, 0.1, 0), 256, 2);
    let config = RealNvpConfig::new(2, 4, &[64, 64], 2.0).with_spline(8, 4.0);
    let mut flow = RealNvp::<f32, Cpu>::from_config(&config, &dev, 0).unwrap();
    let mut trainer = Trainer::new(&flow, Optimizer::adam(0.0), 1e-3).unwrap();
    g.bench_function("spline", |b| {
        b.iter(|| trainer.step(&mut flow, &NegativeLogLikelihood, &x).unwrap())
    });
    g.finish();
}

fn rbm_epoch(c: &mut Criterion) {
    let mut g = c.benchmark_group("cpu_rbm_cd1_epoch_64x64_rows10000_batch100_f64");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .warm_up_time(Duration::from_secs(2));
    let data = liouville_benches::rbm_binary_rows();
    let dev = Cpu::default();
    let mut rbm = Rbm::<f64, Cpu>::from_config(&RbmConfig::new(64, 64), &dev, 0).unwrap();
    let cfg = liouville_benches::rbm_epoch_config();
    g.bench_function("cd1", |b| b.iter(|| train(&mut rbm, &data, &cfg).unwrap()));
    g.finish();
}

/// One WGAN-GP critic step at gan_toy.py's size: generator and critic 2 → 512 → 512 → 512 →
/// (2 | 1), ReLU, batch 256, f32, λ = 0.1: G(z) without a tape, interpolates, the critic loss with
/// the penalty through the exact ∇ₓD, backward, Adam (0.5, 0.9).
fn wgan_gp_critic_step(c: &mut Criterion) {
    let mut g = c.benchmark_group("cpu_wgan_gp_critic_step_width512_batch256_f32");
    g.sample_size(30)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    let dev = Cpu::default();
    let config = GanConfig::toy(2, 512, Objective::WassersteinGp { penalty: 0.1 });
    let mut gan = Gan::<f32, Cpu>::from_config(&config, &dev, 0).unwrap();
    let optimizer = GanTrainConfig::paper(config.objective, 1).optimizer;
    let mut trainer = Trainer::new(&gan.critic, optimizer, 1e-4).unwrap();
    let real = host::matrix(&dev, eight_gaussians(256, 0), 256, 2);
    let mut rng = liouville_sim::rng::Rng::stream(0, 1);
    g.bench_function("critic", |b| {
        b.iter(|| critic_step(&mut gan, &mut trainer, real.clone(), 0, &mut rng).unwrap())
    });
    g.finish();
}

criterion_group!(benches, steps, spline_step, rbm_epoch, wgan_gp_critic_step);
