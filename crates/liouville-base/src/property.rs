//! Property tests that cannot silently run zero cases (feature `proptest`, for dev-dependencies).
//!
//! proptest's `TestRunner` keeps its success count across `run` calls, so a runner reused for a
//! second property runs no case at all and passes (issue 13 found the dataset checksum untested
//! that way). [`check`] makes a fresh deterministic runner per property, counts the cases the
//! property actually saw, and fails unless it saw at least as many as configured.

use std::sync::atomic::{AtomicU64, Ordering};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

/// Runs `property` on `cases` values drawn from `strategy` (deterministic ChaCha stream) and
/// panics with proptest's shrunk counterexample on failure, or if fewer than `cases` ran.
/// Returns the number of cases run.
pub fn check<S: Strategy>(cases: u32, strategy: &S, property: impl Fn(S::Value) -> Result<(), TestCaseError>) -> u64 {
    let ran = AtomicU64::new(0);
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let result = runner.run(strategy, |value| {
        ran.fetch_add(1, Ordering::Relaxed);
        property(value)
    });
    if let Err(e) = result {
        panic!("property failed: {e}");
    }
    let ran = ran.into_inner();
    assert!(ran >= cases as u64, "the property ran {ran} of its {cases} cases");
    ran
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_configured_case_runs_and_failures_surface() {
        assert_eq!(
            check(37, &(0u32..100), |v| {
                prop_assert!(v < 100);
                Ok(())
            }),
            37
        );
        // Two properties in a row each run their own cases (a shared runner would run 0).
        assert_eq!(check(5, &any::<u8>(), |_| Ok(())), 5);
        let failed = std::panic::catch_unwind(|| {
            check(50, &(0u32..100), |v| {
                prop_assert!(v < 10);
                Ok(())
            })
        });
        assert!(failed.is_err(), "a false property must fail");
    }
}
