//! liouville-dynamics: one training step per model (batch 256, hidden 200-200, f32 except the
//! f64 SympNets) and rollout throughput of a trained-size HNN through DOP853.

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group};
use liouville_dynamics::delan::Delan;
use liouville_dynamics::models::{Baseline, DissipativeHnn, DynamicsModel, Hnn, Lnn};
use liouville_dynamics::neural_ode::{LeapfrogOde, NeuralOde, OdeGradient};
use liouville_dynamics::rollout::LearnedField;
use liouville_dynamics::srnn::Srnn;
use liouville_dynamics::sympnet::{FlowMapLoss, GSympNet, LaSympNet};
use liouville_integrate::adaptive::{Adaptive, AdaptiveMethod, Output};
use liouville_tensor::Activation;
use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::train::{Examples, TrainConfig, train};
use ndarray::Array2;

fn examples(rows: usize) -> Examples {
    let x: Vec<f64> = (0..rows * 2).map(|i| (i as f64 * 0.37).sin()).collect();
    let y: Vec<f64> = x.chunks(2).flat_map(|c| [2.0 * c[1], -2.0 * c[0]]).collect();
    Examples::new(x, 2, y, 2).unwrap()
}

fn training_steps(c: &mut Criterion) {
    let mut g = c.benchmark_group("cpu_dynamics_train_step_batch256");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_millis(500));
    let data = examples(256);
    // One optimiser step per iteration: the loop's own overhead (batch gather, Adam) included.
    let cfg = TrainConfig {
        steps: 1,
        batch_size: 256,
        eval_every: 1,
        ..TrainConfig::default()
    };
    let mut baseline = Baseline::new(2, &[200, 200], 0).unwrap();
    g.bench_function("baseline", |b| b.iter(|| baseline.fit(&data, &cfg).unwrap()));
    let mut hnn = Hnn::new(2, &[200, 200], 0).unwrap();
    g.bench_function("hnn", |b| b.iter(|| hnn.fit(&data, &cfg).unwrap()));
    let mut dissipative = DissipativeHnn::new(2, &[200, 200], 0).unwrap();
    g.bench_function("dissipative_hnn", |b| b.iter(|| dissipative.fit(&data, &cfg).unwrap()));
    let mut lnn = Lnn::new(2, &[200, 200], true, 0).unwrap();
    g.bench_function("lnn", |b| b.iter(|| lnn.fit(&data, &cfg).unwrap()));
    let mut sympnet = LaSympNet::<f64, Cpu>::new(&Cpu::default(), 1, 8, 4, Activation::Sigmoid, 0).unwrap();
    g.bench_function("la_sympnet_f64_8x4", |b| {
        b.iter(|| train(&mut sympnet, &data, &FlowMapLoss, &cfg).unwrap())
    });
    // Neural ODE: 4 observations per window, 2 RK4 steps between them (32 field evaluations).
    let x: Vec<f64> = (0..256 * 2).map(|i| (i as f64 * 0.37).sin()).collect();
    let y: Vec<f64> = x
        .chunks(2)
        .flat_map(|c| {
            (1..=4).flat_map(move |j| {
                let t = 0.1 * j as f64;
                [c[0] * t.cos() + c[1] * t.sin(), c[1] * t.cos() - c[0] * t.sin()]
            })
        })
        .collect();
    let windows = Examples::new(x, 2, y, 8).unwrap();
    for gradient in [OdeGradient::Backprop, OdeGradient::Adjoint] {
        let mut ode = NeuralOde::new(2, &[200, 200], 0.1, 2, gradient, 0).unwrap();
        let name = format!("neural_ode_{gradient:?}_4obs_x_2rk4").to_lowercase();
        g.bench_function(name, |b| b.iter(|| ode.fit(&windows, &cfg).unwrap()));
    }
    // SRNN: the same windows through 4 × 2 leapfrog steps (T and V each 1 → 200 → 200 → 1).
    let mut srnn = Srnn::new(2, &[200, 200], 0.1, 2, 0).unwrap();
    g.bench_function("srnn_4obs_x_2leapfrog", |b| {
        b.iter(|| srnn.fit(&windows, &cfg).unwrap())
    });
    // Partitioned neural ODE through the same leapfrog windows (v and a each 1 → 200 → 200 → 1).
    let mut leapfrog = LeapfrogOde::new(2, &[200, 200], 0.1, 2, 0).unwrap();
    g.bench_function("leapfrog_ode_4obs_x_2leapfrog", |b| {
        b.iter(|| leapfrog.fit(&windows, &cfg).unwrap())
    });
    // DeLaN on (q, q̇) rows: factor and potential networks 1 → 200 → 200 → (1, 1).
    let mut delan = Delan::new(2, &[200, 200], 0).unwrap();
    g.bench_function("delan", |b| b.iter(|| delan.fit(&data, &cfg).unwrap()));
    let mut gsymp = GSympNet::<f64, Cpu>::new(&Cpu::default(), 1, 8, 32, Activation::Tanh, 0).unwrap();
    g.bench_function("g_sympnet_f64_8x32", |b| {
        b.iter(|| train(&mut gsymp, &data, &FlowMapLoss, &cfg).unwrap())
    });
    g.finish();
}

fn rollouts(c: &mut Criterion) {
    let mut g = c.benchmark_group("cpu_dynamics_rollout_hnn_200x200");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_millis(500));
    let hnn = Hnn::new(2, &[200, 200], 0).unwrap();
    let y0 = Array2::from_shape_fn((15, 2), |(i, j)| 0.2 + 0.05 * i as f64 + 0.1 * j as f64);
    let times: Vec<f64> = (0..100).map(|k| 20.0 * k as f64 / 99.0).collect();
    let solver = Adaptive::new(AdaptiveMethod::Dop853)
        .rtol(1e-6)
        .atol(1e-6)
        .build()
        .unwrap();
    g.throughput(Throughput::Elements(15));
    g.bench_function("15 trajectories, t in [0, 20], DOP853 rtol 1e-6", |b| {
        b.iter(|| {
            solver
                .solve(
                    &LearnedField(&hnn as &(dyn DynamicsModel + Sync)),
                    0.0,
                    20.0,
                    y0.view(),
                    Output::Times(&times),
                )
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, training_steps, rollouts);
