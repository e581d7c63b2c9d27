//! Prints evaluation counts and energy errors of the adaptive pendulum-batch bench problem, for
//! docs/BENCHMARKS.md (scipy's counterparts come from benches/peers/scipy_integrate.py).
use liouville_benches::pendulum_batch;
use liouville_integrate::adaptive::{Adaptive, AdaptiveMethod, solve_to_end};
use liouville_integrate::reference::Pendulum;
use liouville_integrate::{HamiltonianField, energies};

fn main() {
    let y0 = pendulum_batch(10_000);
    let h0 = energies(&Pendulum, y0.view());
    for m in [AdaptiveMethod::Dop853, AdaptiveMethod::Dopri5] {
        let solver = Adaptive::new(m).rtol(1e-8).atol(1e-8).build().unwrap();
        let (y, stats) = solve_to_end(&solver, &HamiltonianField(Pendulum), 0.0, 10.0, y0.view()).unwrap();
        let h = energies(&Pendulum, y.view());
        let worst = (&h - &h0).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        println!("{}: {} evaluations, max |dH| {worst:.2e}", m.name(), stats.evaluations);
    }
}
