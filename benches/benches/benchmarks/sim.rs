//! liouville-sim: dataset-scale generation (10,000 pendulums × 1,000 RK4 steps, every state
//! stored) and N-body gravity steps at N = 256 and 1,024, against numpy (`benches/peers/numpy_sim.py`).

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use liouville_benches::pendulum_batch;
use liouville_integrate::explicit::{ExplicitMethod, ExplicitRk};
use liouville_integrate::fixed::{FixedGrid, integrate};
use liouville_integrate::splitting::{Splitting, SymplecticMethod};
use liouville_integrate::{HamiltonianField, SeparableHamiltonian, Stepper};
use liouville_sim::rng::Rng;
use liouville_sim::systems::gravity::NBodyGravity;
use liouville_sim::systems::pendulum::Pendulum;
use ndarray::{Array2, s};

fn pendulum_dataset(c: &mut Criterion) {
    let mut g = c.benchmark_group("cpu_sim_pendulum_10000x1000_rk4_stored");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .warm_up_time(Duration::from_secs(1));
    g.throughput(Throughput::Elements(10_000 * 1_000));
    let y0 = pendulum_batch(10_000);
    let stepper = ExplicitRk::new(
        HamiltonianField(Pendulum::new(1.0, 1.0, 1.0).unwrap()),
        ExplicitMethod::Rk4,
    );
    let grid = FixedGrid::new(0.0, 0.01, 1_000).unwrap();
    g.bench_function("integrate, record every step", |b| {
        b.iter(|| integrate(&stepper, &grid, y0.view(), 1).unwrap())
    });
    g.finish();
}

fn nbody(c: &mut Criterion) {
    let mut g = c.benchmark_group("cpu_sim_nbody_3d");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_millis(500));
    for n in [256usize, 1024] {
        let sys = NBodyGravity::new(vec![1.0; n], 3, 0.1, 1.0).unwrap();
        let mut rng = Rng::stream(1, 0);
        let mut y = Array2::zeros((1, 6 * n));
        for k in 0..6 * n {
            y[[0, k]] = if k < 3 * n {
                rng.uniform_in(-10.0, 10.0)
            } else {
                0.1 * rng.normal()
            };
        }
        let q = y.slice(s![.., ..3 * n]).to_owned();
        let mut force = Array2::zeros(q.dim());
        g.bench_function(BenchmarkId::new("force evaluation", n), |b| {
            b.iter(|| sys.grad_potential(q.view(), force.view_mut()))
        });
        let mut stepper = Splitting::new(sys.clone(), SymplecticMethod::Leapfrog);
        g.bench_function(BenchmarkId::new("leapfrog step", n), |b| {
            b.iter(|| stepper.step(0.0, 1e-3, y.view_mut()).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, pendulum_dataset, nbody);
