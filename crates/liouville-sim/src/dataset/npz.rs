//! NumPy `.npz` export through ndarray-npy, written atomically.

use std::path::Path;

use ndarray::Array1;
use ndarray_npy::NpzWriter;

use super::container::write_atomic;
use super::{Dataset, IsingDataset};
use crate::SimError;

fn npz_err(e: impl std::fmt::Display) -> SimError {
    SimError::Npz(e.to_string())
}

/// Builds the archive in memory, then writes it atomically.
fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut NpzWriter<std::io::Cursor<Vec<u8>>>) -> Result<(), SimError>,
) -> Result<(), SimError> {
    let mut npz = NpzWriter::new(std::io::Cursor::new(Vec::new()));
    fill(&mut npz)?;
    let bytes = npz.finish().map_err(npz_err)?.into_inner();
    write_atomic(path, &bytes)
}

fn utf8(s: &str) -> Array1<u8> {
    Array1::from(s.as_bytes().to_vec())
}

pub(super) fn write_dataset(ds: &Dataset, path: &Path) -> Result<(), SimError> {
    write_with(path, |npz| {
        npz.add_array("times", &Array1::from(ds.times.clone()))
            .map_err(npz_err)?;
        npz.add_array("states", &ds.states).map_err(npz_err)?;
        npz.add_array("observations", &ds.observations).map_err(npz_err)?;
        npz.add_array("derivatives", &ds.derivatives).map_err(npz_err)?;
        npz.add_array("initial_conditions", &ds.initial_conditions)
            .map_err(npz_err)?;
        npz.add_array("is_test", &Array1::from(ds.is_test.clone()))
            .map_err(npz_err)?;
        if let Some(e) = &ds.edges {
            npz.add_array("edges", e).map_err(npz_err)?;
        }
        npz.add_array("state_labels", &utf8(&ds.state_labels.join("\n")))
            .map_err(npz_err)?;
        npz.add_array("spec", &utf8(&format!("{:?}", ds.spec)))
            .map_err(npz_err)?;
        Ok(())
    })
}

pub(super) fn write_ising(ds: &IsingDataset, path: &Path) -> Result<(), SimError> {
    write_with(path, |npz| {
        npz.add_array("temperatures", &Array1::from(ds.spec.temperatures.clone()))
            .map_err(npz_err)?;
        npz.add_array("spins", &ds.spins).map_err(npz_err)?;
        npz.add_array("energy", &ds.energy).map_err(npz_err)?;
        npz.add_array("magnetization", &ds.magnetization).map_err(npz_err)?;
        npz.add_array("spec", &utf8(&format!("{:?}", ds.spec)))
            .map_err(npz_err)?;
        Ok(())
    })
}
