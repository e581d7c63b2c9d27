//! Training data of any shape: a [`Data`] set hands out batches of the items at given indices, on
//! a device, so one training loop serves dense (x, y) regression, target-less rows (flows, VAEs,
//! RBMs, Boltzmann generators), trajectory windows (neural ODEs, recurrent models) and graph
//! batches (`liouville-graph` implements [`Data`] for its graph sets).
//!
//! Items are addressed by index; the loop draws them in a seeded order
//! ([`liouville_base::random::Rng::permutation`]), so a seed fixes every batch.

use dfdx::prelude::*;

use crate::shapes::Matrix;
use crate::{Real, TensorError, host};

/// A set of training items that can be batched on any device.
pub trait Data {
    /// What a loss receives: a batch of items on device `D` in dtype `E`.
    type Batch<E: Real, D: Device<E>>;
    /// Number of items.
    fn len(&self) -> usize;
    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The batch of items `indices` (each `< len()`), in that order.
    fn batch<E: Real, D: Device<E>>(&self, device: &D, indices: &[usize]) -> Result<Self::Batch<E, D>, TensorError>;
}

fn check_values(values: &[f64], width: usize, what: &'static str) -> Result<usize, TensorError> {
    if width == 0 || values.is_empty() || !values.len().is_multiple_of(width) {
        return Err(TensorError::ShapeMismatch(format!(
            "{what}: {} values are not whole rows of width {width}",
            values.len()
        )));
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(TensorError::ShapeMismatch(format!(
            "{what}: value {} (row {}, column {}) is {}",
            i,
            i / width,
            i % width,
            values[i]
        )));
    }
    Ok(values.len() / width)
}

fn pick_rows<'a>(values: &'a [f64], width: usize, rows: &'a [usize]) -> impl Iterator<Item = f64> + 'a {
    rows.iter()
        .flat_map(move |&r| values[r * width..(r + 1) * width].iter().copied())
}

fn check_indices(indices: &[usize], len: usize) -> Result<(), TensorError> {
    match indices.iter().find(|&&i| i >= len) {
        Some(i) => Err(TensorError::ShapeMismatch(format!("item {i} of a set of {len}"))),
        None => Ok(()),
    }
}

/// Inputs and targets on the host, row-major: supervised rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Examples {
    /// `[rows, input]`.
    pub inputs: Vec<f64>,
    /// `[rows, target]`.
    pub targets: Vec<f64>,
    /// Input width.
    pub input_width: usize,
    /// Target width.
    pub target_width: usize,
}

impl Examples {
    /// Validates that both arrays hold the same number of finite rows (for rows without targets,
    /// see [`Rows`]).
    pub fn new(
        inputs: Vec<f64>,
        input_width: usize,
        targets: Vec<f64>,
        target_width: usize,
    ) -> Result<Self, TensorError> {
        let n = check_values(&inputs, input_width, "inputs")?;
        let m = check_values(&targets, target_width, "targets")?;
        if n != m {
            return Err(TensorError::ShapeMismatch(format!(
                "{n} input rows but {m} target rows"
            )));
        }
        Ok(Self {
            inputs,
            targets,
            input_width,
            target_width,
        })
    }
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.inputs.len() / self.input_width
    }
}

/// A batch of supervised rows.
#[derive(Debug, Clone)]
pub struct Supervised<E: Real, D: Device<E>> {
    /// `[batch, input]`.
    pub inputs: Matrix<E, D>,
    /// `[batch, target]`.
    pub targets: Matrix<E, D>,
}

impl Data for Examples {
    type Batch<E: Real, D: Device<E>> = Supervised<E, D>;
    fn len(&self) -> usize {
        self.rows()
    }
    fn batch<E: Real, D: Device<E>>(&self, device: &D, rows: &[usize]) -> Result<Supervised<E, D>, TensorError> {
        check_indices(rows, self.rows())?;
        Ok(Supervised {
            inputs: host::matrix(
                device,
                pick_rows(&self.inputs, self.input_width, rows),
                rows.len(),
                self.input_width,
            ),
            targets: host::matrix(
                device,
                pick_rows(&self.targets, self.target_width, rows),
                rows.len(),
                self.target_width,
            ),
        })
    }
}

/// Rows without targets (samples for density estimation, spin configurations, latent codes).
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    /// `[rows, width]`, row-major.
    pub values: Vec<f64>,
    /// Row width.
    pub width: usize,
}

impl Rows {
    /// Validates whole, finite rows.
    pub fn new(values: Vec<f64>, width: usize) -> Result<Self, TensorError> {
        check_values(&values, width, "rows")?;
        Ok(Self { values, width })
    }
}

impl Data for Rows {
    type Batch<E: Real, D: Device<E>> = Matrix<E, D>;
    fn len(&self) -> usize {
        self.values.len() / self.width
    }
    fn batch<E: Real, D: Device<E>>(&self, device: &D, rows: &[usize]) -> Result<Matrix<E, D>, TensorError> {
        check_indices(rows, self.len())?;
        Ok(host::matrix(
            device,
            pick_rows(&self.values, self.width, rows),
            rows.len(),
            self.width,
        ))
    }
}

/// Windows of `horizon + 1` consecutive states cut from equally long trajectories: item
/// (trajectory k, start s) is states s..=s + horizon of trajectory k.
#[derive(Debug, Clone, PartialEq)]
pub struct Windows {
    /// `[trajectories, length, width]`, row-major.
    pub states: Vec<f64>,
    /// Trajectories.
    pub trajectories: usize,
    /// States per trajectory.
    pub length: usize,
    /// State width.
    pub width: usize,
    /// Steps after the first state of a window.
    pub horizon: usize,
}

/// A batch of windows: `states[j]` is the j-th state of every window, `[batch, width]`.
#[derive(Debug, Clone)]
pub struct Window<E: Real, D: Device<E>> {
    /// `horizon + 1` matrices.
    pub states: Vec<Matrix<E, D>>,
}

impl Windows {
    /// Validates the shape, the values and `1 ≤ horizon < length`.
    pub fn new(
        states: Vec<f64>,
        trajectories: usize,
        length: usize,
        width: usize,
        horizon: usize,
    ) -> Result<Self, TensorError> {
        let rows = check_values(&states, width, "trajectories")?;
        if rows != trajectories * length {
            return Err(TensorError::ShapeMismatch(format!(
                "{rows} states are not {trajectories} trajectories of {length}"
            )));
        }
        if horizon == 0 || horizon >= length {
            return Err(TensorError::ShapeMismatch(format!(
                "a window of horizon {horizon} needs 1 ≤ horizon < {length} states"
            )));
        }
        Ok(Self {
            states,
            trajectories,
            length,
            width,
            horizon,
        })
    }
    fn starts(&self) -> usize {
        self.length - self.horizon
    }
}

impl Data for Windows {
    type Batch<E: Real, D: Device<E>> = Window<E, D>;
    fn len(&self) -> usize {
        self.trajectories * self.starts()
    }
    fn batch<E: Real, D: Device<E>>(&self, device: &D, items: &[usize]) -> Result<Window<E, D>, TensorError> {
        check_indices(items, self.len())?;
        let states = (0..=self.horizon)
            .map(|j| {
                let rows: Vec<usize> = items
                    .iter()
                    .map(|&i| (i / self.starts()) * self.length + i % self.starts() + j)
                    .collect();
                host::matrix(
                    device,
                    pick_rows(&self.states, self.width, &rows),
                    items.len(),
                    self.width,
                )
            })
            .collect();
        Ok(Window { states })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::HostDevice;

    #[test]
    fn bad_data_is_refused_with_what_is_wrong() {
        let e = Examples::new(vec![1.0, f64::NAN], 1, vec![0.0, 0.0], 1).unwrap_err();
        assert!(e.to_string().contains("NaN"), "{e}");
        assert!(Examples::new(vec![1.0, 2.0], 1, vec![0.0], 1).is_err());
        assert!(Examples::new(vec![1.0, 2.0, 3.0], 2, vec![0.0], 1).is_err());
        assert!(Rows::new(vec![], 2).is_err());
        assert!(Windows::new(vec![0.0; 12], 2, 3, 2, 3).is_err());
        assert!(Windows::new(vec![0.0; 12], 2, 4, 2, 1).is_err());
        let rows = Rows::new(vec![1.0, 2.0, 3.0, 4.0], 2).unwrap();
        assert!(rows.batch::<f64, HostDevice>(&HostDevice::default(), &[2]).is_err());
    }

    #[test]
    fn windows_are_consecutive_states_of_one_trajectory() {
        // Two trajectories of 4 states of width 1: values 10k + s.
        let states: Vec<f64> = (0..2).flat_map(|k| (0..4).map(move |s| (10 * k + s) as f64)).collect();
        let w = Windows::new(states, 2, 4, 1, 2).unwrap();
        assert_eq!(w.len(), 4); // starts 0 and 1 of each
        let b = w.batch::<f64, HostDevice>(&HostDevice::default(), &[3, 0]).unwrap();
        let got: Vec<Vec<f64>> = b.states.iter().map(|m| m.as_vec()).collect();
        assert_eq!(got, vec![vec![11.0, 0.0], vec![12.0, 1.0], vec![13.0, 2.0]]);
        let r = Rows::new(vec![1.0, 2.0, 3.0, 4.0], 2).unwrap();
        assert_eq!(
            r.batch::<f64, HostDevice>(&HostDevice::default(), &[1, 0])
                .unwrap()
                .as_vec(),
            vec![3.0, 4.0, 1.0, 2.0]
        );
    }
}
