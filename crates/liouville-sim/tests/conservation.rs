//! Acceptance 1: conservative systems keep their invariants across generated data; N-body keeps
//! momentum and angular momentum; the figure-eight returns to its start after one period.

use liouville_integrate::adaptive::{Adaptive, AdaptiveMethod, solve_to_end};
use liouville_integrate::fixed::propagate;
use liouville_integrate::splitting::{Splitting, SymplecticMethod};
use liouville_integrate::{HamiltonianField, energies};
use liouville_sim::dataset::{DatasetSpec, Shard, SystemSpec, generate};
use liouville_sim::rng::Rng;
use liouville_sim::systems::Conserved;
use liouville_sim::systems::double_pendulum::DoublePendulum;
use liouville_sim::systems::gravity::NBodyGravity;
use liouville_sim::systems::mass_spring::MassSpring;
use liouville_sim::systems::pendulum::Pendulum;
use liouville_sim::systems::seir::Seir;
use ndarray::{Array2, Axis};

/// Worst relative drift of every invariant along every trajectory of the dataset.
fn worst_drift(system: &dyn Conserved, states: &ndarray::Array3<f64>) -> Vec<(&'static str, f64)> {
    let mut worst: Vec<(&'static str, f64)> = Vec::new();
    for traj in states.axis_iter(Axis(0)) {
        for inv in system.conserved(traj) {
            let v0 = inv.values[0];
            let scale = v0.abs().max(1e-3);
            let d = inv.values.iter().map(|v| (v - v0).abs() / scale).fold(0.0, f64::max);
            match worst.iter_mut().find(|w| w.0 == inv.name) {
                Some(w) => w.1 = w.1.max(d),
                None => worst.push((inv.name, d)),
            }
        }
    }
    worst
}

#[test]
fn generated_hamiltonian_data_conserve_energy_to_the_integrator_tolerance() {
    let cases: Vec<(SystemSpec, Box<dyn Conserved>, f64)> = vec![
        (SystemSpec::hnn_mass_spring(), Box::new(MassSpring::hnn_paper()), 3.0),
        (SystemSpec::hnn_pendulum(), Box::new(Pendulum::hnn_paper()), 3.0),
        (
            SystemSpec::lnn_double_pendulum(),
            Box::new(DoublePendulum::lnn_paper()),
            10.0,
        ),
        (SystemSpec::hnn_two_body(), Box::new(NBodyGravity::two_body()), 20.0),
        (SystemSpec::hnn_three_body(), Box::new(NBodyGravity::three_body()), 5.0),
    ];
    for (system, conserved, t_end) in cases {
        let name = system.name();
        let ds = generate(
            &DatasetSpec::new(system, 8, 50, t_end).noise(0.1),
            Shard::whole(),
            false,
        )
        .unwrap();
        for (invariant, drift) in worst_drift(conserved.as_ref(), &ds.states) {
            // DOP853 at rtol = atol = 1e-10 over these horizons.
            assert!(drift < 1e-7, "{name}: {invariant} drifts by {drift:e}");
        }
        // Noise is on the observations only; derivatives are exact at the clean states.
        let noise = (&ds.observations - &ds.states).mapv(|v| v * v).mean().unwrap().sqrt();
        assert!((noise / 0.1 - 1.0).abs() < 0.1, "{name}: noise std {noise}");
    }
}

#[test]
fn seir_conserves_population() {
    let ds = generate(
        &DatasetSpec::new(
            SystemSpec::Seir {
                beta: 0.5,
                sigma: 0.2,
                gamma: 0.1,
            },
            4,
            100,
            200.0,
        ),
        Shard::whole(),
        false,
    )
    .unwrap();
    let seir = Seir::new(0.5, 0.2, 0.1).unwrap();
    for (name, drift) in worst_drift(&seir, &ds.states) {
        assert!(drift < 1e-10, "{name}: {drift:e}");
    }
    // The epidemic happened: the recovered fraction grew.
    assert!(ds.states[[0, 99, 3]] > 0.5);
}

#[test]
fn nbody_conserves_momentum_and_angular_momentum() {
    let mut rng = Rng::stream(11, 0);
    let masses: Vec<f64> = (0..12).map(|_| rng.uniform_in(0.5, 2.0)).collect();
    let sys = NBodyGravity::new(masses, 3, 0.1, 1.0).unwrap();
    let mut y = Array2::zeros((1, 72));
    for k in 0..72 {
        y[[0, k]] = if k < 36 {
            rng.uniform_in(-2.0, 2.0)
        } else {
            rng.uniform_in(-0.3, 0.3)
        };
    }
    let before = sys.conserved(y.view());
    let stepper = Splitting::new(sys.clone(), SymplecticMethod::Yoshida4);
    propagate(&stepper, 0.0, 1e-3, 5_000, y.view_mut()).unwrap();
    let after = sys.conserved(y.view());
    for (b, a) in before.iter().zip(&after) {
        let (v0, v1) = (b.values[0], a.values[0]);
        // Splitting methods conserve linear and angular momentum exactly (pairwise central
        // forces); the energy error is bounded by the method's O(dt⁴).
        let tol = if b.name == "energy" {
            1e-6 * v0.abs()
        } else {
            1e-12 * (1.0 + v0.abs())
        };
        assert!((v1 - v0).abs() <= tol, "{}: {v0} -> {v1}", b.name);
    }
    assert_eq!(after.len(), 1 + 3 + 3);
    // The parallel force path (N >= 128) agrees with the sequential one.
    let big = NBodyGravity::new(vec![1.0; 130], 2, 0.01, 1.0).unwrap();
    let mut q = Array2::zeros((1, 260));
    for k in 0..260 {
        q[[0, k]] = rng.uniform_in(-5.0, 5.0);
    }
    let mut g = Array2::zeros((1, 260));
    liouville_integrate::SeparableHamiltonian::grad_potential(&big, q.view(), g.view_mut());
    let net: f64 = (0..2)
        .map(|c| (0..130).map(|i| g[[0, 2 * i + c]]).sum::<f64>().abs())
        .sum();
    assert!(net < 1e-9, "forces must cancel (Newton's third law): {net}");
}

#[test]
fn figure_eight_returns_after_one_period() {
    let (sys, y0, period) = NBodyGravity::figure_eight();
    let solver = Adaptive::new(AdaptiveMethod::Dop853)
        .rtol(1e-13)
        .atol(1e-13)
        .build()
        .unwrap();
    let (y, _) = solve_to_end(&solver, &HamiltonianField(sys.clone()), 0.0, period, y0.view()).unwrap();
    let gap = (&y - &y0).iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(gap < 1e-6, "figure-eight misses its start by {gap:e}");
    // Zero total momentum, and the energy of the choreography is conserved.
    let e0 = energies(&sys, y0.view())[0];
    assert!((energies(&sys, y.view())[0] - e0).abs() < 1e-11);
    assert!(sys.momentum(y0.view()).iter().all(|p| p[0].abs() < 1e-9));
}

#[test]
fn spring_chain_runs_conserve_energy_and_momentum_and_reject_bad_settings() {
    use liouville_sim::systems::springs::{ChainRun, Spring};
    let run = ChainRun {
        particles: 5,
        dim: 2,
        spring: Spring {
            stiffness: 4.0,
            rest_length: 1.0,
        },
        jitter: 0.25,
        momentum: 0.4,
        interval: 0.1,
        samples: 200,
        substeps: 10,
    };
    let (chain, states) = run.simulate(3, 7).unwrap();
    assert_eq!(states.dim(), (3, 200, 20));
    assert_eq!(chain.springs().len(), 4);
    for (name, drift) in worst_drift(&chain, &states) {
        assert!(drift < 1e-6, "{name} drifts by {drift}");
    }
    // Momenta start with zero mean and keep it (internal forces only); the start positions sit
    // within the jitter of the rest positions.
    for traj in states.axis_iter(Axis(0)) {
        for row in traj.rows() {
            for c in 0..2 {
                let total: f64 = (0..5).map(|i| row[10 + 2 * i + c]).sum();
                assert!(total.abs() < 1e-12, "total momentum {total}");
            }
        }
        for i in 0..5 {
            assert!((traj[[0, 2 * i]] - i as f64).abs() <= 0.25 && traj[[0, 2 * i + 1]].abs() <= 0.25);
        }
    }
    // Trajectories differ (their own streams) and repeat with the seed.
    assert_ne!(states.index_axis(Axis(0), 0), states.index_axis(Axis(0), 1));
    assert_eq!(run.simulate(3, 7).unwrap().1, states);
    for bad in [
        ChainRun { particles: 1, ..run },
        ChainRun { samples: 1, ..run },
        ChainRun { interval: -0.1, ..run },
        ChainRun {
            jitter: f64::NAN,
            ..run
        },
        ChainRun { dim: 4, ..run },
    ] {
        assert!(bad.simulate(1, 0).is_err(), "{bad:?}");
    }
    assert!(run.simulate(0, 0).is_err());
}
