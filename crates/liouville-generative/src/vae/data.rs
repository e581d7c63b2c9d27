//! What a VAE trains on: rows x, optional conditions c (encoder and decoder), optional questions
//! (decoder only) and optional targets y (x itself when absent), all validated; every batch
//! carries a fresh noise stream for the reparameterised latent.

use std::sync::atomic::{AtomicU64, Ordering};

use liouville_tensor::dfdx::prelude::*;
use liouville_tensor::shapes::Matrix;
use liouville_tensor::train::{Data, Rows};
use liouville_tensor::{Real, TensorError, host};

use super::{Likelihood, VaeConfig};

/// One batch on a device.
#[derive(Debug, Clone)]
pub struct VaeBatch<E: Real, D: Device<E>> {
    /// `[x, c]` rows for the encoder.
    pub encoder_input: Matrix<E, D>,
    /// `[c, question]` rows for the decoder (`None` when there are neither).
    pub decoder_side: Option<Matrix<E, D>>,
    /// y (x for an autoencoder).
    pub targets: Matrix<E, D>,
    /// (seed, stream) of this batch's ε ~ N(0, I).
    pub noise: (u64, u64),
}

/// Validated VAE data. Batches drawn from it take successive noise streams, so training is
/// reproducible from the seed and no two steps reuse ε.
#[derive(Debug)]
pub struct VaeData {
    inputs: Rows,
    conditions: Option<Rows>,
    questions: Option<Rows>,
    targets: Option<Rows>,
    seed: u64,
    draws: AtomicU64,
}

impl Clone for VaeData {
    fn clone(&self) -> Self {
        Self {
            inputs: self.inputs.clone(),
            conditions: self.conditions.clone(),
            questions: self.questions.clone(),
            targets: self.targets.clone(),
            seed: self.seed,
            draws: AtomicU64::new(self.draws.load(Ordering::Relaxed)),
        }
    }
}

fn rows_of(r: &Rows) -> usize {
    r.values.len() / r.width
}

fn row(r: &Rows, i: usize) -> &[f64] {
    &r.values[i * r.width..(i + 1) * r.width]
}

impl VaeData {
    /// Rows x that are also the targets; noise streams from `seed`.
    pub fn new(inputs: Rows, seed: u64) -> Self {
        Self {
            inputs,
            conditions: None,
            questions: None,
            targets: None,
            seed,
            draws: AtomicU64::new(0),
        }
    }
    fn same_count(&self, what: &str, r: &Rows) -> Result<(), TensorError> {
        if rows_of(r) != self.len() {
            return Err(TensorError::ShapeMismatch(format!(
                "{} {what} rows for {} inputs",
                rows_of(r),
                self.len()
            )));
        }
        Ok(())
    }
    /// Adds a condition c per row (a conditional VAE).
    pub fn with_conditions(mut self, conditions: Rows) -> Result<Self, TensorError> {
        self.same_count("condition", &conditions)?;
        self.conditions = Some(conditions);
        Ok(self)
    }
    /// Adds a question per row, seen by the decoder only (SciNet).
    pub fn with_questions(mut self, questions: Rows) -> Result<Self, TensorError> {
        self.same_count("question", &questions)?;
        self.questions = Some(questions);
        Ok(self)
    }
    /// Replaces the targets (x by default) by y.
    pub fn with_targets(mut self, targets: Rows) -> Result<Self, TensorError> {
        self.same_count("target", &targets)?;
        self.targets = Some(targets);
        Ok(self)
    }

    /// Checks the widths against `config`, and that Bernoulli targets are 0 or 1.
    pub fn check(&self, config: &VaeConfig) -> Result<(), TensorError> {
        let width = |r: &Option<Rows>| r.as_ref().map_or(0, |r| r.width);
        let found = (
            self.inputs.width,
            width(&self.conditions),
            width(&self.questions),
            self.targets().width,
        );
        let expected = (
            config.input_dim,
            config.condition_dim,
            config.question_dim,
            config.output_dim,
        );
        if found != expected {
            return Err(TensorError::ShapeMismatch(format!(
                "VAE data widths (input, condition, question, target) = {found:?}, the model expects {expected:?}"
            )));
        }
        if config.likelihood == Likelihood::Bernoulli
            && let Some(i) = self.targets().values.iter().position(|&v| v != 0.0 && v != 1.0)
        {
            let w = self.targets().width;
            return Err(TensorError::ShapeMismatch(format!(
                "a Bernoulli decoder needs 0/1 targets: row {}, column {} is {}",
                i / w,
                i % w,
                self.targets().values[i]
            )));
        }
        Ok(())
    }

    /// The targets y (the inputs when none were given).
    pub fn targets(&self) -> &Rows {
        self.targets.as_ref().unwrap_or(&self.inputs)
    }
    /// The inputs x.
    pub fn inputs(&self) -> &Rows {
        &self.inputs
    }
    /// The decoder's side row `[c, question]` of item `i` (empty without either).
    pub fn side_row(&self, i: usize) -> Vec<f64> {
        let mut v = Vec::new();
        for r in [&self.conditions, &self.questions].into_iter().flatten() {
            v.extend_from_slice(row(r, i));
        }
        v
    }
    /// The encoder's row `[x, c]` of item `i`.
    pub fn encoder_row(&self, i: usize) -> Vec<f64> {
        let mut v = row(&self.inputs, i).to_vec();
        if let Some(c) = &self.conditions {
            v.extend_from_slice(row(c, i));
        }
        v
    }
}

impl Data for VaeData {
    type Batch<E: Real, D: Device<E>> = VaeBatch<E, D>;
    fn len(&self) -> usize {
        rows_of(&self.inputs)
    }
    fn batch<E: Real, D: Device<E>>(&self, device: &D, indices: &[usize]) -> Result<VaeBatch<E, D>, TensorError> {
        if let Some(&i) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(TensorError::ShapeMismatch(format!(
                "item {i} of a set of {}",
                self.len()
            )));
        }
        let n = indices.len();
        let enc: Vec<f64> = indices.iter().flat_map(|&i| self.encoder_row(i)).collect();
        let width = |r: &Option<Rows>| r.as_ref().map_or(0, |r| r.width);
        let enc_width = self.inputs.width + width(&self.conditions);
        let side_width = width(&self.conditions) + width(&self.questions);
        let side: Vec<f64> = indices.iter().flat_map(|&i| self.side_row(i)).collect();
        let t = self.targets();
        let targets: Vec<f64> = indices.iter().flat_map(|&i| row(t, i).iter().copied()).collect();
        Ok(VaeBatch {
            encoder_input: host::matrix(device, enc, n, enc_width),
            decoder_side: (side_width > 0).then(|| host::matrix(device, side, n, side_width)),
            targets: host::matrix(device, targets, n, t.width),
            noise: (self.seed, self.draws.fetch_add(1, Ordering::Relaxed)),
        })
    }
}
