//! Times the 10,000-pendulum RK4 batch (all states stored) outside criterion, for profiling.
use liouville_benches::pendulum_batch;
use liouville_integrate::HamiltonianField;
use liouville_integrate::explicit::{ExplicitMethod, ExplicitRk};
use liouville_integrate::fixed::{FixedGrid, integrate};
use liouville_sim::systems::pendulum::Pendulum;

fn main() {
    let y0 = pendulum_batch(10_000);
    let stepper = ExplicitRk::new(
        HamiltonianField(Pendulum::new(1.0, 1.0, 1.0).unwrap()),
        ExplicitMethod::Rk4,
    );
    let grid = FixedGrid::new(0.0, 0.01, 1_000).unwrap();
    for _ in 0..5 {
        let t = std::time::Instant::now();
        let sol = integrate(&stepper, &grid, y0.view(), 1).unwrap();
        println!("{:?} ({} states)", t.elapsed(), sol.states.len());
    }
}
