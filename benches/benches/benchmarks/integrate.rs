//! liouville-integrate: every method on Kepler (e = 0.6) and on a batch of 10,000 pendulums, the
//! adaptive methods on the scipy comparison problems, and integrator overhead on N-body gravity.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use liouville_benches::{NBody, SMALL_SYSTEM_RUNS, lorenz_starts, pendulum_batch};
use liouville_integrate::adaptive::Output;
use liouville_integrate::adaptive::{Adaptive, AdaptiveMethod, solve_to_end};
use liouville_integrate::collocation::{Collocation, ImplicitMethod};
use liouville_integrate::explicit::{ExplicitMethod, ExplicitRk};
use liouville_integrate::fixed::propagate;
use liouville_integrate::reference::{Arenstorf, Kepler, Pendulum};
use liouville_integrate::splitting::{Splitting, SymplecticMethod};
use liouville_integrate::{HamiltonianField, SeparableHamiltonian, Stepper, VectorField};
use ndarray::{Array2, s};

const KEPLER: Kepler = Kepler { eccentricity: 0.6 };

fn bench_fixed<S: Stepper>(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    stepper: &S,
    y0: &Array2<f64>,
    dt: f64,
    steps: usize,
) {
    c.bench_function(BenchmarkId::from_parameter(name), |b| {
        b.iter(|| {
            let mut y = y0.clone();
            propagate(stepper, 0.0, dt, steps, y.view_mut()).unwrap();
            black_box(y)
        })
    });
}

/// One period of Kepler at 1,000 steps for every fixed-step method.
fn kepler_fixed(c: &mut Criterion) {
    let mut g = c.benchmark_group("cpu_kepler_one_period_1000_steps");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    let y0 = KEPLER.initial_state();
    let dt = KEPLER.period() / 1000.0;
    for m in ExplicitMethod::ALL {
        bench_fixed(
            &mut g,
            m.name(),
            &ExplicitRk::new(HamiltonianField(KEPLER), m),
            &y0,
            dt,
            1000,
        );
    }
    for m in SymplecticMethod::ALL {
        bench_fixed(&mut g, m.name(), &Splitting::new(KEPLER, m), &y0, dt, 1000);
    }
    for m in ImplicitMethod::ALL {
        bench_fixed(
            &mut g,
            m.name(),
            &Collocation::new(HamiltonianField(KEPLER), m),
            &y0,
            dt,
            1000,
        );
    }
    // Where the time goes: the right-hand side alone.
    let field = HamiltonianField(KEPLER);
    let mut dy = Array2::zeros((1, 4));
    g.bench_function("rhs evaluation x1000", |b| {
        b.iter(|| {
            for _ in 0..1000 {
                field.eval(0.0, black_box(y0.view()), dy.view_mut());
            }
        })
    });
    g.finish();
}

/// The scipy comparison: 100 periods at rtol = atol = 1e-10.
fn kepler_adaptive(c: &mut Criterion) {
    let mut g = c.benchmark_group("cpu_kepler_100_periods_rtol_1e-10");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));
    let y0 = KEPLER.initial_state();
    for m in [AdaptiveMethod::Dop853, AdaptiveMethod::Dopri5] {
        let solver = Adaptive::new(m).rtol(1e-10).atol(1e-10).build().unwrap();
        g.bench_function(BenchmarkId::from_parameter(m.name()), |b| {
            b.iter(|| {
                solve_to_end(
                    &solver,
                    &HamiltonianField(KEPLER),
                    0.0,
                    100.0 * KEPLER.period(),
                    y0.view(),
                )
                .unwrap()
            })
        });
    }
    g.finish();
}

/// The diffrax comparison (benches/peers/diffrax_integrate.py): Kepler through the single-state
/// API, the Arenstorf orbit at 1e-13, and an ensemble of 10,000 Lorenz-63 trajectories with
/// per-member step control.
fn small_systems(c: &mut Criterion) {
    let mut g = c.benchmark_group("cpu_kepler_100_periods_single_state");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));
    for (m, tol) in SMALL_SYSTEM_RUNS.kepler {
        let solver = Adaptive::new(m).rtol(tol).atol(tol).build().unwrap();
        g.bench_function(BenchmarkId::new(m.name(), format!("{tol:e}")), |b| {
            b.iter(|| {
                solver
                    .solve_state(
                        |t, y| KEPLER.rate(t, y),
                        0.0,
                        100.0 * KEPLER.period(),
                        black_box(KEPLER.initial()),
                        Output::Final,
                    )
                    .unwrap()
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("cpu_arenstorf_one_period");
    g.sample_size(30)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    for (m, tol) in SMALL_SYSTEM_RUNS.arenstorf {
        let solver = Adaptive::new(m).rtol(tol).atol(tol).build().unwrap();
        g.bench_function(BenchmarkId::new(m.name(), format!("{tol:e}")), |b| {
            b.iter(|| {
                solver
                    .solve_state(
                        |t, y| Arenstorf.rate(t, y),
                        0.0,
                        Arenstorf::PERIOD,
                        black_box(Arenstorf.initial()),
                        Output::Final,
                    )
                    .unwrap()
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("cpu_lorenz_ensemble_10000_t10_rtol_1e-8");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_millis(500));
    let lorenz = liouville_sim::systems::lorenz::Lorenz63::classic();
    let starts = lorenz_starts(10_000);
    for m in [AdaptiveMethod::Dopri5, AdaptiveMethod::Dop853] {
        let solver = Adaptive::new(m).rtol(1e-8).atol(1e-8).build().unwrap();
        g.bench_function(BenchmarkId::from_parameter(m.name()), |b| {
            b.iter(|| {
                solver
                    .solve_ensemble(|t, y| lorenz.rate(t, y), 0.0, 10.0, &starts, Output::Final)
                    .unwrap()
            })
        });
    }
    g.finish();
}

/// 10,000 pendulums, 100 steps of dt = 0.01, every fixed-step method; and the scipy batch problem.
fn pendulum_batch_bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("cpu_pendulum_batch_10000x100_steps");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));
    let y0 = pendulum_batch(10_000);
    g.throughput(Throughput::Elements(10_000 * 100));
    for m in ExplicitMethod::ALL {
        bench_fixed(
            &mut g,
            m.name(),
            &ExplicitRk::new(HamiltonianField(Pendulum), m),
            &y0,
            0.01,
            100,
        );
    }
    for m in SymplecticMethod::ALL {
        bench_fixed(&mut g, m.name(), &Splitting::new(Pendulum, m), &y0, 0.01, 100);
    }
    for m in ImplicitMethod::ALL {
        bench_fixed(
            &mut g,
            m.name(),
            &Collocation::new(HamiltonianField(Pendulum), m),
            &y0,
            0.01,
            100,
        );
    }
    g.finish();

    let mut g = c.benchmark_group("cpu_pendulum_batch_10000_as_one_system_t10_rtol_1e-8");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));
    // scipy's layout: one system of 20,000 components [q..., p...].
    let flat = {
        let mut f = Array2::zeros((1, 20_000));
        f.slice_mut(s![0, ..10_000]).assign(&y0.column(0));
        f.slice_mut(s![0, 10_000..]).assign(&y0.column(1));
        f
    };
    let field = HamiltonianField(PendulumChain(10_000));
    for m in [AdaptiveMethod::Dop853, AdaptiveMethod::Dopri5] {
        let solver = Adaptive::new(m).rtol(1e-8).atol(1e-8).build().unwrap();
        g.bench_function(BenchmarkId::from_parameter(m.name()), |b| {
            b.iter(|| solve_to_end(&solver, &field, 0.0, 10.0, flat.view()).unwrap())
        });
    }
    g.finish();
}

/// n independent pendulums as one system with n degrees of freedom (scipy's vectorised layout).
#[derive(Clone, Copy)]
struct PendulumChain(usize);

impl SeparableHamiltonian for PendulumChain {
    fn dof(&self) -> usize {
        self.0
    }
    fn kinetic(&self, p: ndarray::ArrayView2<'_, f64>, mut out: ndarray::ArrayViewMut1<'_, f64>) {
        out.assign(&p.mapv(|v| 0.5 * v * v).sum_axis(ndarray::Axis(1)));
    }
    fn potential(&self, q: ndarray::ArrayView2<'_, f64>, mut out: ndarray::ArrayViewMut1<'_, f64>) {
        out.assign(&q.mapv(|v| 1.0 - v.cos()).sum_axis(ndarray::Axis(1)));
    }
    fn grad_kinetic(&self, p: ndarray::ArrayView2<'_, f64>, mut out: ndarray::ArrayViewMut2<'_, f64>) {
        out.assign(&p);
    }
    fn grad_potential(&self, q: ndarray::ArrayView2<'_, f64>, mut out: ndarray::ArrayViewMut2<'_, f64>) {
        ndarray::Zip::from(&mut out).and(&q).for_each(|o, &q| *o = q.sin());
    }
}

/// Integrator overhead on an expensive right-hand side: a leapfrog step (one force evaluation
/// thanks to first-same-as-last) against one force evaluation alone, N = 256.
fn nbody_overhead(c: &mut Criterion) {
    let mut g = c.benchmark_group("cpu_nbody_256");
    g.sample_size(30)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));
    let sys = NBody {
        n: 256,
        softening: 0.05,
    };
    let y0 = sys.initial_state();
    let q = y0.slice(s![.., ..3 * sys.n]).to_owned();
    let mut force = Array2::zeros(q.dim());
    g.bench_function("force evaluation", |b| {
        b.iter(|| sys.grad_potential(black_box(q.view()), force.view_mut()))
    });
    for m in [SymplecticMethod::Leapfrog, SymplecticMethod::Yoshida4] {
        let mut stepper = Splitting::new(sys, m);
        let mut y = y0.clone();
        stepper.step(0.0, 1e-3, y.view_mut()).unwrap();
        g.bench_function(format!("{} step", m.name()), |b| {
            b.iter(|| stepper.step(0.0, 1e-3, y.view_mut()).unwrap())
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    kepler_fixed,
    kepler_adaptive,
    small_systems,
    pendulum_batch_bench,
    nbody_overhead
);
