//! Ising configuration datasets: spin samples at several temperatures, for RBMs and flows.

use std::path::Path;

use ndarray::{Array2, Array4, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::container::{self, Kind};
use super::{codec, npz};
use crate::SimError;
use crate::systems::ising::{Ising2d, IsingAlgorithm};

/// What to sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsingSpec {
    /// Lattice size L.
    pub l: usize,
    /// Temperatures.
    pub temperatures: Vec<f64>,
    /// Configurations per temperature.
    pub samples: usize,
    /// Sweeps between recorded configurations.
    pub spacing: usize,
    /// Sweeps discarded first.
    pub thermalization: usize,
    /// Markov chain.
    pub algorithm: IsingAlgorithm,
    /// Seed (temperature k uses stream k).
    pub seed: u64,
}

impl IsingSpec {
    /// The standard dataset: L = 8 at the temperatures of the exact reference table
    /// (`shared/reference/README.md`), 1000 Wolff configurations each, 2 "sweeps" apart after
    /// 1000 thermalisation sweeps.
    pub fn standard(seed: u64) -> Self {
        Self {
            l: 8,
            temperatures: vec![1.5, 2.0, 2.269185, 2.5, 3.0, 3.5],
            samples: 1000,
            spacing: 2,
            thermalization: 1000,
            algorithm: IsingAlgorithm::Wolff,
            seed,
        }
    }
}

/// Spin configurations `[temperature, sample, row, column]` with their energy and magnetisation
/// per site `[temperature, sample]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsingDataset {
    /// What was sampled.
    pub spec: IsingSpec,
    /// Spins ±1.
    pub spins: Array4<i8>,
    /// Energy per site.
    pub energy: Array2<f64>,
    /// Magnetisation per site.
    pub magnetization: Array2<f64>,
}

impl IsingDataset {
    /// Samples every temperature in parallel.
    pub fn generate(spec: &IsingSpec) -> Result<Self, SimError> {
        if spec.samples == 0 || spec.temperatures.is_empty() {
            return Err(SimError::InvalidOption(
                "need at least one temperature and one sample".into(),
            ));
        }
        let models = spec
            .temperatures
            .iter()
            .map(|&t| Ising2d::new(spec.l, t))
            .collect::<Result<Vec<_>, _>>()?;
        let runs: Vec<_> = models
            .par_iter()
            .enumerate()
            .map(|(k, m)| {
                m.configurations(
                    spec.algorithm,
                    spec.samples,
                    spec.spacing,
                    spec.thermalization,
                    spec.seed,
                    k as u64,
                )
            })
            .collect();
        let (nt, l) = (spec.temperatures.len(), spec.l);
        let mut spins = Array4::zeros((nt, spec.samples, l, l));
        let mut energy = Array2::zeros((nt, spec.samples));
        let mut magnetization = Array2::zeros((nt, spec.samples));
        for (k, (s, e, m)) in runs.into_iter().enumerate() {
            spins.index_axis_mut(Axis(0), k).assign(&s);
            energy.row_mut(k).assign(&ndarray::Array1::from(e));
            magnetization.row_mut(k).assign(&ndarray::Array1::from(m));
        }
        Ok(Self {
            spec: spec.clone(),
            spins,
            energy,
            magnetization,
        })
    }

    /// File bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SimError> {
        let (nt, ns, l, _) = self.spins.dim();
        Ok(container::assemble(
            Kind::Ising,
            [nt as u64, ns as u64, (l * l) as u64],
            &codec::encode(self)?,
        ))
    }

    /// Parses and validates file bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SimError> {
        let (header, payload) = container::split(bytes, Kind::Ising)?;
        let ds: IsingDataset = codec::decode(payload)?;
        let (nt, ns, l, l2) = ds.spins.dim();
        if header.shape != [nt as u64, ns as u64, (l * l2) as u64]
            || l != l2
            || l != ds.spec.l
            || ds.energy.dim() != (nt, ns)
            || ds.magnetization.dim() != (nt, ns)
            || ds.spec.temperatures.len() != nt
        {
            return Err(SimError::ShapeMismatch(
                "Ising arrays do not fit each other or the header".into(),
            ));
        }
        if ds.spins.iter().any(|&s| s != 1 && s != -1) {
            return Err(SimError::Format("spins must be ±1".into()));
        }
        Ok(ds)
    }

    /// Writes atomically.
    pub fn save(&self, path: &Path) -> Result<(), SimError> {
        container::write_atomic(path, &self.to_bytes()?)
    }

    /// Reads and validates.
    pub fn load(path: &Path) -> Result<Self, SimError> {
        Self::from_bytes(&container::read(path)?)
    }

    /// NumPy export.
    pub fn save_npz(&self, path: &Path) -> Result<(), SimError> {
        npz::write_ising(self, path)
    }
}
