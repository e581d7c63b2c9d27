//! Acceptance 3: the largest Lyapunov exponent of Lorenz-63 is 0.906 ± 0.05.

use liouville_sim::systems::lorenz::Lorenz63;

#[test]
fn largest_lyapunov_exponent_is_0_906() {
    let lambda = Lorenz63::classic()
        .largest_lyapunov([1.0, 1.0, 20.0], 0.01, 50.0, 2_000.0)
        .unwrap();
    assert!((lambda - 0.906).abs() < 0.05, "lambda = {lambda}");
}

#[test]
fn a_stable_fixed_point_has_a_negative_exponent() {
    // Below ρ = 1 the origin attracts everything: λ < 0, so the estimator can tell the regimes apart.
    let lambda = Lorenz63::new(10.0, 0.5, 8.0 / 3.0)
        .unwrap()
        .largest_lyapunov([1.0, 1.0, 1.0], 0.01, 10.0, 200.0)
        .unwrap();
    assert!(lambda < -0.1, "lambda = {lambda}");
    assert!(Lorenz63::new(-10.0, 28.0, 8.0 / 3.0).is_err());
}
