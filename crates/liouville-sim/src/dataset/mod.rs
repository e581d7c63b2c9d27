//! Reproducible datasets: trajectories of any system (times, clean and noisy states, exact time
//! derivatives, initial conditions, a train/test split by trajectory) and Ising configurations.
//!
//! The same spec and seed give the same bytes on any machine and thread count: trajectory i
//! draws from random stream i, trajectories are generated in parallel but collected in order,
//! and the trigonometry is [`crate::math`]'s. A shard `i/n` generates a contiguous slice of
//! trajectories; [`Dataset::merge`] joins shards into exactly the bytes of an unsharded run.

pub mod codec;
pub mod container;
mod generate;
mod ising_data;
mod npz;
pub mod spec;

use std::path::Path;

use ndarray::{Array2, Array3, Axis, concatenate};
use serde::{Deserialize, Serialize};

pub use generate::{Limits, Shard, generate, generate_within};
pub use ising_data::{IsingDataset, IsingSpec};
pub use spec::{DatasetSpec, SystemSpec};

use crate::SimError;
use container::Kind;

/// A trajectory dataset (or a shard of one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// What was simulated.
    pub spec: DatasetSpec,
    /// Index of the first trajectory held (0 unless this is a shard).
    pub first_trajectory: usize,
    /// Sample times, shared by all trajectories.
    pub times: Vec<f64>,
    /// Exact states `[trajectory, time, component]`.
    pub states: Array3<f64>,
    /// States plus observation noise (equal to `states` when the noise is 0).
    pub observations: Array3<f64>,
    /// Exact time derivatives f(t, state) at the clean states.
    pub derivatives: Array3<f64>,
    /// Initial conditions `[trajectory, component]`.
    pub initial_conditions: Array2<f64>,
    /// Whether each trajectory belongs to the test split.
    pub is_test: Vec<bool>,
    /// Names of the state components.
    pub state_labels: Vec<String>,
    /// Interaction graphs `[trajectory, node, node]` (NRI springs only).
    pub edges: Option<Array3<f64>>,
}

impl Dataset {
    /// Number of trajectories held.
    pub fn trajectories(&self) -> usize {
        self.states.len_of(Axis(0))
    }
    /// Indices (within this dataset) of the training trajectories.
    pub fn train_indices(&self) -> Vec<usize> {
        (0..self.is_test.len()).filter(|&i| !self.is_test[i]).collect()
    }
    /// Indices (within this dataset) of the test trajectories.
    pub fn test_indices(&self) -> Vec<usize> {
        (0..self.is_test.len()).filter(|&i| self.is_test[i]).collect()
    }

    /// The file bytes: header and codec payload.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SimError> {
        let payload = codec::encode(self)?;
        let (n, t, d) = self.states.dim();
        Ok(container::assemble(
            Kind::Trajectories,
            [n as u64, t as u64, d as u64],
            &payload,
        ))
    }

    /// Parses and validates file bytes; truncated, corrupt or inconsistent input is an error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SimError> {
        let (header, payload) = container::split(bytes, Kind::Trajectories)?;
        let ds: Dataset = codec::decode(payload)?;
        let (n, t, d) = ds.states.dim();
        if header.shape != [n as u64, t as u64, d as u64] {
            return Err(SimError::ShapeMismatch(format!(
                "header shape {:?} but arrays are {:?}",
                header.shape,
                (n, t, d)
            )));
        }
        ds.validate()?;
        Ok(ds)
    }

    /// Checks that every array fits the others and holds finite numbers.
    pub fn validate(&self) -> Result<(), SimError> {
        let (n, t, d) = self.states.dim();
        let mismatch = |what: &str| {
            Err(SimError::ShapeMismatch(format!(
                "{what} does not fit states {:?}",
                (n, t, d)
            )))
        };
        if self.observations.dim() != (n, t, d) {
            return mismatch("observations");
        }
        if self.derivatives.dim() != (n, t, d) {
            return mismatch("derivatives");
        }
        if self.initial_conditions.dim() != (n, d) {
            return mismatch("initial_conditions");
        }
        if self.times.len() != t || self.is_test.len() != n || self.state_labels.len() != d {
            return mismatch("times, split or labels");
        }
        if let Some(e) = &self.edges
            && e.len_of(Axis(0)) != n
        {
            return mismatch("edges");
        }
        if self.first_trajectory + n > self.spec.trajectories {
            return Err(SimError::ShapeMismatch(format!(
                "trajectories {}..{} exceed the spec's {}",
                self.first_trajectory,
                self.first_trajectory + n,
                self.spec.trajectories
            )));
        }
        let all_finite = self.states.iter().all(|v| v.is_finite())
            && self.observations.iter().all(|v| v.is_finite())
            && self.derivatives.iter().all(|v| v.is_finite())
            && self.times.iter().all(|v| v.is_finite());
        if !all_finite {
            return Err(SimError::Format("non-finite values in the dataset".into()));
        }
        Ok(())
    }

    /// Writes the dataset atomically.
    pub fn save(&self, path: &Path) -> Result<(), SimError> {
        container::write_atomic(path, &self.to_bytes()?)
    }

    /// Reads and validates a dataset file.
    pub fn load(path: &Path) -> Result<Self, SimError> {
        Self::from_bytes(&container::read(path)?)
    }

    /// Writes a NumPy `.npz` (atomically) that `np.load` opens: `times`, `states`,
    /// `observations`, `derivatives`, `initial_conditions`, `is_test`, `edges` (NRI), and the
    /// UTF-8 bytes `state_labels` (newline-separated) and `spec`.
    pub fn save_npz(&self, path: &Path) -> Result<(), SimError> {
        npz::write_dataset(self, path)
    }

    /// Joins shards of one spec, in any order, into the full dataset: identical to what an
    /// unsharded run writes.
    pub fn merge(mut shards: Vec<Dataset>) -> Result<Dataset, SimError> {
        if shards.is_empty() {
            return Err(SimError::InvalidOption("nothing to merge".into()));
        }
        shards.sort_by_key(|s| s.first_trajectory);
        let spec = shards[0].spec.clone();
        let (mut next, mut missing, mut overlapping) = (0, Vec::new(), Vec::new());
        for s in &shards {
            if s.spec != spec {
                return Err(SimError::ShapeMismatch("shards come from different specs".into()));
            }
            match s.first_trajectory.cmp(&next) {
                std::cmp::Ordering::Greater => missing.push(format!("{next}..{}", s.first_trajectory)),
                std::cmp::Ordering::Less => overlapping.push(format!("{}..{}", s.first_trajectory, next)),
                std::cmp::Ordering::Equal => {}
            }
            next = next.max(s.first_trajectory + s.trajectories());
        }
        if next < spec.trajectories {
            missing.push(format!("{next}..{}", spec.trajectories));
        }
        if !missing.is_empty() || !overlapping.is_empty() {
            let mut problems = Vec::new();
            if !missing.is_empty() {
                problems.push(format!("trajectories {} are in no shard", missing.join(", ")));
            }
            if !overlapping.is_empty() {
                problems.push(format!("trajectories {} are in two shards", overlapping.join(", ")));
            }
            return Err(SimError::ShapeMismatch(format!(
                "{} {} shards of a {}-trajectory dataset: {}",
                shards.len(),
                spec.system.name(),
                spec.trajectories,
                problems.join("; ")
            )));
        }
        let cat3 = |f: &dyn Fn(&Dataset) -> &Array3<f64>| -> Result<Array3<f64>, SimError> {
            let views: Vec<_> = shards.iter().map(|s| f(s).view()).collect();
            concatenate(Axis(0), &views).map_err(|e| SimError::ShapeMismatch(e.to_string()))
        };
        let views: Vec<_> = shards.iter().map(|s| s.initial_conditions.view()).collect();
        let initial_conditions = concatenate(Axis(0), &views).map_err(|e| SimError::ShapeMismatch(e.to_string()))?;
        let edges = if shards.iter().all(|s| s.edges.is_some()) {
            Some(cat3(&|s| s.edges.as_ref().expect("checked"))?)
        } else {
            None
        };
        let merged = Dataset {
            spec,
            first_trajectory: 0,
            times: shards[0].times.clone(),
            states: cat3(&|s| &s.states)?,
            observations: cat3(&|s| &s.observations)?,
            derivatives: cat3(&|s| &s.derivatives)?,
            initial_conditions,
            is_test: shards.iter().flat_map(|s| s.is_test.iter().copied()).collect(),
            state_labels: shards[0].state_labels.clone(),
            edges,
        };
        merged.validate()?;
        Ok(merged)
    }
}
