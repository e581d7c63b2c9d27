//! Typed model configurations (burn's `Config` → `init(&device)` pattern): every model that
//! trains and checkpoints has a serde config that says how to build it, and builds from it on any
//! device. Checkpoints record the config as JSON beside the weights, so one load path reads the
//! config, builds the model and fills its weights ([`crate::checkpoint::load`]).

use std::fmt::Debug;

use dfdx::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::module::Module;
use crate::{Real, TensorError};

/// What a model config must be: serialisable, comparable, printable.
pub trait ModelConfig: Serialize + DeserializeOwned + Clone + PartialEq + Debug {}
impl<C: Serialize + DeserializeOwned + Clone + PartialEq + Debug> ModelConfig for C {}

/// A module that can say how it was built and be built again from that.
pub trait Configured<E: Real, D: Device<E>>: Module<E, D> + Sized {
    /// The model's name in checkpoints ("mlp", "hnn", …): loading a checkpoint of another kind
    /// is a [`TensorError::CheckpointMismatch`] naming both.
    const KIND: &'static str;
    /// The architecture and initialisation recipe.
    type Config: ModelConfig;
    /// This model's config.
    fn config(&self) -> Self::Config;
    /// A fresh model on `device`, its initial weights drawn from random stream `seed` (the seed
    /// is not part of the config: loading a checkpoint overwrites the weights anyway, and two
    /// runs that differ only in their seed have the same architecture).
    fn from_config(config: &Self::Config, device: &D, seed: u64) -> Result<Self, TensorError>;
}

/// The first field where two JSON values differ, as a dotted path (`config.widths.1`), with both
/// values printed: the message of a configuration mismatch.
pub fn first_difference(
    path: &str,
    expected: &serde_json::Value,
    found: &serde_json::Value,
) -> Option<(String, String, String)> {
    use serde_json::Value;
    match (expected, found) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                match b.get(k) {
                    Some(vb) => {
                        if let Some(d) = first_difference(&format!("{path}.{k}"), va, vb) {
                            return Some(d);
                        }
                    }
                    None => return Some((format!("{path}.{k}"), va.to_string(), "absent".into())),
                }
            }
            b.keys()
                .find(|k| !a.contains_key(*k))
                .map(|k| (format!("{path}.{k}"), "absent".into(), b[k].to_string()))
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (va, vb))| first_difference(&format!("{path}.{i}"), va, vb)),
        _ if expected == found => None,
        _ => Some((path.to_string(), expected.to_string(), found.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_are_named_by_their_path() {
        let a = serde_json::json!({"widths": [2, 8, 1], "activation": "Tanh"});
        let b = serde_json::json!({"widths": [2, 9, 1], "activation": "Tanh"});
        assert_eq!(
            first_difference("config", &a, &b),
            Some(("config.widths.1".into(), "8".into(), "9".into()))
        );
        assert_eq!(first_difference("config", &a, &a), None);
        let c = serde_json::json!({"widths": [2, 8, 1]});
        assert_eq!(first_difference("config", &a, &c).unwrap().0, "config.activation");
    }
}
