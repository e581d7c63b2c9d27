//! Acceptance 2: Metropolis and Wolff reproduce the exact L = 8 values of
//! `shared/reference/README.md` (row transfer matrix) within 3 standard errors, with error bars
//! from binning; at T_c Wolff decorrelates |m| at least 10× faster per sweep than Metropolis.

use liouville_sim::stats::Estimate;
use liouville_sim::systems::ising::{Ising2d, IsingAlgorithm, Lattice, Start};

/// (T, e per site, c per site, ⟨|m|⟩) for L = 8, periodic, J = 1 (exact).
const EXACT_L8: [(f64, f64, f64, f64); 3] = [
    (1.5, -1.951115, 0.1973, 0.986498),
    (2.269185, -1.491589, 1.1456, 0.777331),
    (3.0, -0.841315, 0.4840, 0.346035),
];

#[test]
fn metropolis_and_wolff_reproduce_exact_l8_values() {
    for algorithm in [IsingAlgorithm::Metropolis, IsingAlgorithm::Wolff] {
        for (k, &(t, e, c, am)) in EXACT_L8.iter().enumerate() {
            let model = Ising2d::new(8, t).unwrap();
            let series = model
                .sample(algorithm, Start::Ordered, 8, 2_000, 40_000, 100 + k as u64)
                .unwrap();
            let est = model.estimate(&series, 20).unwrap();
            let report = format!("{algorithm:?} T = {t}: {est:?}");
            assert!(est.energy.deviation(e).abs() < 3.0, "energy: {report}");
            assert!(est.abs_magnetization.deviation(am).abs() < 3.0, "|m|: {report}");
            assert!(est.specific_heat.deviation(c).abs() < 3.0, "c: {report}");
            // Error bars are meaningful, not inflated: below 1% of the value.
            assert!(
                est.energy.error < 0.01 * e.abs() && est.specific_heat.error < 0.05 * c,
                "{report}"
            );
        }
    }
}

/// At L = 8 checkerboard Metropolis already decorrelates |m| in ≈ 3 sweeps while τ ≥ ½ for any
/// chain, so the factor 10 shows from L = 32 on (critical slowing down: τ ∝ L^2.17 for Metropolis).
#[test]
fn wolff_decorrelates_at_least_ten_times_faster_at_tc() {
    let model = Ising2d::new(32, 2.269185).unwrap();
    let metropolis = model
        .estimate(
            &model
                .sample(IsingAlgorithm::Metropolis, Start::Ordered, 2, 2_000, 20_000, 7)
                .unwrap(),
            20,
        )
        .unwrap();
    let wolff = model
        .estimate(
            &model
                .sample(IsingAlgorithm::Wolff, Start::Ordered, 2, 500, 5_000, 7)
                .unwrap(),
            20,
        )
        .unwrap();
    let (tm, tw) = (metropolis.tau_abs_magnetization, wolff.tau_abs_magnetization);
    println!("tau(|m|) at T_c, L = 32: Metropolis {tm:.2} sweeps, Wolff {tw:.2} sweeps");
    assert!(
        tm >= 10.0 * tw,
        "tau(|m|): Metropolis {tm:.2} sweeps, Wolff {tw:.2} sweeps"
    );
}

/// Brute force over all 2¹⁶ states of L = 4 at T = 2.5 checks the energy and magnetisation
/// functions against the reference (e = -1.379116, ⟨|m|⟩ = 0.764712, c = 0.812515).
#[test]
fn l4_brute_force_matches_reference() {
    let (beta, n) = (1.0 / 2.5, 16.0);
    let (mut z, mut se, mut se2, mut sm) = (0.0, 0.0, 0.0, 0.0);
    for bits in 0u32..(1 << 16) {
        let spins: Vec<i8> = (0..16).map(|i| if bits >> i & 1 == 1 { 1 } else { -1 }).collect();
        let lattice = Lattice::from_spins(4, spins).unwrap();
        let (e, m) = (lattice.energy(), lattice.magnetization());
        let w = (-beta * e).exp();
        z += w;
        se += w * e;
        se2 += w * e * e;
        sm += w * m.abs();
    }
    let (e, e2, am) = (se / z, se2 / z, sm / z);
    assert!((e / n - -1.379116).abs() < 1e-6);
    assert!((am / n - 0.764712).abs() < 1e-6);
    assert!(((e2 - e * e) * beta * beta / n - 0.812515).abs() < 1e-6);
}

#[test]
fn invalid_lattices_and_temperatures_are_errors() {
    assert!(Ising2d::new(1, 2.0).is_err());
    assert!(Ising2d::new(7, 2.0).is_ok(), "odd L is a valid lattice");
    assert!(Ising2d::new(8, 0.0).is_err());
    assert!(Ising2d::new(8, f64::NAN).is_err());
    assert!(Lattice::from_spins(4, vec![1; 15]).is_err());
    assert!(Lattice::from_spins(2, vec![1, 0, 1, 1]).is_err());
}

/// Exact ⟨e⟩ and ⟨|m|⟩ per site of the periodic L = 3 lattice at temperature T, by enumerating
/// its 2⁹ states.
fn exact_l3(t: f64) -> (f64, f64) {
    let (mut z, mut se, mut sm) = (0.0, 0.0, 0.0);
    for bits in 0u32..(1 << 9) {
        let spins: Vec<i8> = (0..9).map(|i| if bits >> i & 1 == 1 { 1 } else { -1 }).collect();
        let lattice = Lattice::from_spins(3, spins).unwrap();
        let w = (-lattice.energy() / t).exp();
        z += w;
        se += w * lattice.energy() / 9.0;
        sm += w * lattice.magnetization().abs() / 9.0;
    }
    (se / z, sm / z)
}

/// Odd L is sampled correctly by both algorithms, from either start (issue 14: `new` rejected
/// odd L even for Wolff).
#[test]
fn odd_lattices_match_exact_enumeration() {
    let t = 2.5;
    let (e, am) = exact_l3(t);
    let model = Ising2d::new(3, t).unwrap();
    for algorithm in [IsingAlgorithm::Metropolis, IsingAlgorithm::Wolff] {
        for start in [Start::Ordered, Start::Random] {
            let est = model
                .estimate(&model.sample(algorithm, start, 4, 500, 40_000, 11).unwrap(), 20)
                .unwrap();
            let report = format!("{algorithm:?} {start:?}: {est:?} vs exact e {e}, |m| {am}");
            assert!(est.energy.deviation(e).abs() < 4.0, "{report}");
            assert!(est.abs_magnetization.deviation(am).abs() < 4.0, "{report}");
        }
    }
}

/// A random start is hot: without thermalisation, one sweep in the ordered phase (T = 1.5) leaves
/// a random start near |m| = 0 and an ordered one near |m| = 1.
#[test]
fn random_starts_are_hot_and_ordered_starts_cold() {
    let model = Ising2d::new(16, 1.5).unwrap();
    let first = |start| {
        let series = model.sample(IsingAlgorithm::Metropolis, start, 8, 0, 1, 3).unwrap();
        series.iter().map(|s| s.magnetization[0].abs()).sum::<f64>() / 8.0
    };
    let (hot, cold) = (first(Start::Random), first(Start::Ordered));
    assert!(hot < 0.2, "random start |m| = {hot}");
    assert!(cold > 0.9, "ordered start |m| = {cold}");
}

/// The z-score keeps its sign (issue 14: `deviation` dropped it).
#[test]
fn deviation_is_signed() {
    let est = Estimate { value: 1.0, error: 0.5 };
    assert_eq!(est.deviation(2.0), -2.0);
    assert_eq!(est.deviation(0.0), 2.0);
}
