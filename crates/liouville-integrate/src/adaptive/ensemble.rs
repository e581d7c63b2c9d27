//! Ensembles of small systems: many initial conditions, or many parameter values, each integrated
//! with its own step-size control, in parallel on rayon (the use case of diffrax under `vmap`).
//!
//! Unlike a batched [`Adaptive::solve`], where every row shares the steps chosen for the worst
//! row, each member here takes exactly the steps it would take alone: the results equal those of
//! [`Adaptive::solve_state`] member by member, bit for bit, on any number of threads.

use rayon::prelude::*;

use super::{Adaptive, Output, StateSolution};
use crate::IntegrateError;

impl Adaptive {
    /// Integrates dy/dt = f(t, y) from every initial state in `initial`.
    pub fn solve_ensemble<const N: usize, F>(
        &self,
        field: F,
        t0: f64,
        t_end: f64,
        initial: &[[f64; N]],
        output: Output<'_>,
    ) -> Result<Vec<StateSolution<N>>, IntegrateError>
    where
        F: Fn(f64, &[f64; N]) -> [f64; N] + Sync,
    {
        self.members(initial.len(), |i| {
            self.solve_state(|t, y| field(t, y), t0, t_end, initial[i], output)
        })
    }

    /// A parameter sweep: member i integrates dy/dt = f(pᵢ, t, y) from `initial[i]`.
    pub fn solve_sweep<const N: usize, P, F>(
        &self,
        parameters: &[P],
        field: F,
        t0: f64,
        t_end: f64,
        initial: &[[f64; N]],
        output: Output<'_>,
    ) -> Result<Vec<StateSolution<N>>, IntegrateError>
    where
        P: Sync,
        F: Fn(&P, f64, &[f64; N]) -> [f64; N] + Sync,
    {
        if parameters.len() != initial.len() {
            return Err(IntegrateError::InvalidOption(format!(
                "{} parameter values but {} initial states",
                parameters.len(),
                initial.len()
            )));
        }
        self.members(initial.len(), |i| {
            let p = &parameters[i];
            self.solve_state(|t, y| field(p, t, y), t0, t_end, initial[i], output)
        })
    }

    /// Runs `count` members in parallel; the first failure (lowest index) is returned with its index.
    fn members<const N: usize>(
        &self,
        count: usize,
        member: impl Fn(usize) -> Result<StateSolution<N>, IntegrateError> + Sync,
    ) -> Result<Vec<StateSolution<N>>, IntegrateError> {
        (0..count)
            .into_par_iter()
            .map(|i| {
                member(i).map_err(|source| IntegrateError::EnsembleMember {
                    index: i,
                    source: Box::new(source),
                })
            })
            .collect()
    }
}
