//! Reading a model's architecture back from its checkpoint metadata, with a typed error naming
//! the field that is missing or malformed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use liouville_tensor::{TensorError, checkpoint};

use crate::DynamicsError;

/// The `widths` metadata field, read back by [`CheckpointFields::widths`].
pub(crate) fn widths_field(widths: &[usize]) -> (&'static str, String) {
    (
        "widths",
        widths.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(","),
    )
}

/// The `liouville` metadata of one checkpoint file.
pub(crate) struct CheckpointFields {
    path: PathBuf,
    meta: HashMap<String, String>,
}

impl CheckpointFields {
    /// Reads the metadata of an f32 (`f64 = false`) or f64 checkpoint.
    pub(crate) fn read(path: &Path, f64: bool) -> Result<Self, DynamicsError> {
        let meta = if f64 {
            checkpoint::metadata::<f64>(path)?
        } else {
            checkpoint::metadata::<f32>(path)?
        };
        Ok(Self {
            path: path.to_owned(),
            meta,
        })
    }

    /// The error for a missing or malformed `key`.
    pub(crate) fn bad(&self, key: &str) -> DynamicsError {
        DynamicsError::Tensor(TensorError::Checkpoint {
            path: self.path.clone(),
            message: format!("the checkpoint needs a valid {key:?} field"),
        })
    }

    /// The raw value of `key`, if present.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.meta.get(key).map(String::as_str)
    }

    /// `key` parsed as a `T`.
    pub(crate) fn parse<T: FromStr>(&self, key: &str) -> Result<T, DynamicsError> {
        self.get(key).and_then(|v| v.parse().ok()).ok_or_else(|| self.bad(key))
    }

    /// A positive finite number.
    pub(crate) fn positive(&self, key: &str) -> Result<f64, DynamicsError> {
        self.parse::<f64>(key)
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
            .ok_or_else(|| self.bad(key))
    }

    /// Comma-separated layer widths (input, hidden..., output), at least two.
    pub(crate) fn widths(&self) -> Result<Vec<usize>, DynamicsError> {
        let w: Vec<usize> = self
            .get("widths")
            .map(|w| w.split(',').filter_map(|v| v.parse().ok()).collect())
            .unwrap_or_default();
        if w.len() >= 2 && !w.contains(&0) {
            Ok(w)
        } else {
            Err(self.bad("widths"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use liouville_tensor::dfdx::prelude::*;
    use liouville_tensor::{Activation, Init, Mlp};

    /// Present fields parse; missing, malformed or non-positive ones are typed errors naming them.
    #[test]
    fn fields_parse_or_name_what_is_wrong() {
        let dir = std::env::temp_dir().join(format!("liouville-fields-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.safetensors");
        let net = Mlp::<f32, Cpu>::new(&Cpu::default(), &[2, 4, 1], Activation::Tanh, Init::Xavier, 0).unwrap();
        checkpoint::save(&net, &path, &[("interval", "-0.5".into()), ("substeps", "3".into())]).unwrap();
        let fields = CheckpointFields::read(&path, false).unwrap();
        assert_eq!(fields.widths().unwrap(), vec![2, 4, 1]);
        assert_eq!(fields.parse::<usize>("substeps").unwrap(), 3);
        for err in [
            fields.positive("interval").unwrap_err(),
            fields.parse::<f64>("dt").unwrap_err(),
        ] {
            assert!(
                matches!(err, DynamicsError::Tensor(TensorError::Checkpoint { .. })),
                "{err}"
            );
        }
        assert!(
            fields
                .positive("interval")
                .unwrap_err()
                .to_string()
                .contains("interval")
        );
        // An f32 checkpoint read as f64 is refused.
        assert!(CheckpointFields::read(&path, true).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
