//! Checkpoints as safetensors files (readable by Python's `safetensors`): the tensors named by
//! [`Module::parameters`] (for an MLP `layers.{l}.weight` `[in, out]` and `layers.{l}.bias`) and
//! one metadata entry `liouville` holding a JSON [`Header`]: format name and version, dtype, the
//! model's kind and typed config ([`Configured`]), and where training was. Keys are sorted, so
//! the same model always gives the same bytes.
//!
//! One load path: [`load`] reads the header, checks format version, dtype and kind, builds the
//! model from its config on the caller's device and fills the weights; [`load_into`] fills an
//! existing model after checking that its config is the file's. A checkpoint of another kind,
//! version, dtype, config or shape is a [`TensorError::CheckpointMismatch`] naming what differs; a
//! truncated or corrupt file — including one flipped weight, caught by the header's digest of the
//! tensor bytes — is a [`TensorError::Checkpoint`]. Writes are atomic
//! (`liouville_base::files`), so an interrupted save keeps the previous file.

use std::collections::HashMap;
use std::path::Path;

use dfdx::prelude::*;
use safetensors::tensor::{Dtype as StDtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};

use crate::config::{Configured, first_difference};
use crate::module::{Module, ParamMut};
use crate::{Real, TensorError};

/// The format's name in every header.
pub const FORMAT: &str = "liouville-checkpoint";
/// The format version this build writes and reads. Version 1 (before typed configs) stored
/// `k=v;` strings and is refused with a [`TensorError::CheckpointMismatch`] on `version`.
pub const VERSION: u32 = 2;

/// The metadata of a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// Format version ([`VERSION`]).
    pub version: u32,
    /// "F32" or "F64".
    pub dtype: String,
    /// The model's [`Configured::KIND`].
    pub kind: String,
    /// The model's [`Configured::Config`] as JSON.
    pub config: serde_json::Value,
    /// Optimiser steps taken when it was written (training checkpoints).
    #[serde(default)]
    pub step: Option<usize>,
    /// The monitored loss at that step.
    #[serde(default)]
    pub loss: Option<f64>,
    /// FNV-1a 64 of the tensors' bytes in parameter order, hex: a flipped weight is found on
    /// load instead of silently changing the physics.
    pub digest: String,
    /// What the model was trained on, when its trainer recorded it ([`record_provenance`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trained_on: Option<Provenance>,
}

/// The data a checkpoint was trained on: the system's name and the names of the state
/// components in the model's coordinates, so that a rollout can label its columns and warn when
/// it is started on another system's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The system (e.g. "pendulum").
    pub system: String,
    /// Names of the model's input components (e.g. ["q", "p"], or ["q0", "qdot0"]).
    pub state_labels: Vec<String>,
}

impl Header {
    /// The config, typed (an error names the field serde could not read).
    pub fn config<C: serde::de::DeserializeOwned>(&self, path: &Path) -> Result<C, TensorError> {
        serde_json::from_value(self.config.clone()).map_err(|e| TensorError::Checkpoint {
            path: path.to_owned(),
            message: format!("the {} config does not parse: {e}", self.kind),
        })
    }
}

/// Where training was when a checkpoint was written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Optimiser steps taken.
    pub step: usize,
    /// The monitored (validation or training) loss.
    pub loss: f64,
}

fn st_dtype<E: Real>() -> StDtype {
    if E::NAME == "F32" { StDtype::F32 } else { StDtype::F64 }
}

fn to_bytes<E: Real>(v: &[E]) -> Vec<u8> {
    let mut out = Vec::with_capacity(std::mem::size_of_val(v));
    for &x in v {
        if E::NAME == "F32" {
            out.extend_from_slice(&(x.to64() as f32).to_le_bytes());
        } else {
            out.extend_from_slice(&x.to64().to_le_bytes());
        }
    }
    out
}

fn from_bytes<E: Real>(b: &[u8]) -> Vec<E> {
    if E::NAME == "F32" {
        b.chunks_exact(4)
            .map(|c| E::of(f32::from_le_bytes(c.try_into().expect("4 bytes")) as f64))
            .collect()
    } else {
        b.chunks_exact(8)
            .map(|c| E::of(f64::from_le_bytes(c.try_into().expect("8 bytes"))))
            .collect()
    }
}

/// The checkpoint bytes of `model`.
pub fn to_safetensors<E: Real, D: Device<E>, M: Configured<E, D>>(
    model: &M,
    progress: Option<Progress>,
) -> Result<Vec<u8>, TensorError> {
    let host: Vec<(String, Vec<usize>, Vec<u8>)> = model
        .parameters()
        .into_iter()
        .map(|(name, p)| (name, p.dims(), to_bytes(&p.to_vec())))
        .collect();
    let digest = digest_of(host.iter().map(|(_, _, bytes)| bytes.as_slice()));
    let header = Header {
        format: FORMAT.into(),
        version: VERSION,
        dtype: E::NAME.into(),
        kind: M::KIND.into(),
        config: serde_json::to_value(model.config())
            .map_err(|e| TensorError::InvalidConfig(format!("config does not serialise: {e}")))?,
        step: progress.map(|p| p.step),
        loss: progress.map(|p| p.loss).filter(|l| l.is_finite()),
        digest,
        trained_on: None,
    };
    let views = host
        .iter()
        .map(|(name, shape, data)| TensorView::new(st_dtype::<E>(), shape.clone(), data).map(|v| (name.clone(), v)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TensorError::InvalidConfig(format!("safetensors view: {e}")))?;
    let json = serde_json::to_string(&header).map_err(|e| TensorError::InvalidConfig(format!("header: {e}")))?;
    let meta: HashMap<String, String> = HashMap::from([("liouville".to_string(), json)]);
    safetensors::tensor::serialize(views, Some(meta))
        .map_err(|e| TensorError::InvalidConfig(format!("safetensors: {e}")))
}

/// Records in the header of the checkpoint at `path` what it was trained on (the tensors and their
/// digest are unchanged), rewriting the file atomically.
pub fn record_provenance(path: &Path, provenance: Provenance) -> Result<(), TensorError> {
    let bytes = read(path)?;
    let mut header = header_of(&bytes, path)?;
    header.trained_on = Some(provenance);
    let bad = |message: String| TensorError::Checkpoint {
        path: path.to_owned(),
        message,
    };
    let tensors = SafeTensors::deserialize(&bytes).map_err(|e| bad(format!("not a safetensors file: {e}")))?;
    let json = serde_json::to_string(&header).map_err(|e| TensorError::InvalidConfig(format!("header: {e}")))?;
    let meta: HashMap<String, String> = HashMap::from([("liouville".to_string(), json)]);
    let rewritten = safetensors::tensor::serialize(tensors.tensors(), Some(meta))
        .map_err(|e| TensorError::InvalidConfig(format!("safetensors: {e}")))?;
    liouville_base::files::write_atomic(path, &rewritten).map_err(|source| TensorError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Saves `model` to `path` atomically.
pub fn save<E: Real, D: Device<E>, M: Configured<E, D>>(
    model: &M,
    path: &Path,
    progress: Option<Progress>,
) -> Result<(), TensorError> {
    let bytes = to_safetensors(model, progress)?;
    liouville_base::files::write_atomic(path, &bytes).map_err(|source| TensorError::Io {
        path: path.to_owned(),
        source,
    })
}

/// FNV-1a 64 of the concatenated tensor bytes, as 16 hex digits.
fn digest_of<'a>(tensors: impl Iterator<Item = &'a [u8]>) -> String {
    let bytes: Vec<u8> = tensors.flat_map(|b| b.iter().copied()).collect();
    format!("{:016x}", liouville_base::digest::fnv1a64(&bytes))
}

fn mismatch(path: &Path, field: &str, expected: impl ToString, found: impl ToString) -> TensorError {
    TensorError::CheckpointMismatch {
        path: path.to_owned(),
        field: field.into(),
        expected: expected.to_string(),
        found: found.to_string(),
    }
}

/// The header of checkpoint bytes, after checking the format and its version; `path` labels
/// errors.
pub fn header_of(bytes: &[u8], path: &Path) -> Result<Header, TensorError> {
    let bad = |message: String| TensorError::Checkpoint {
        path: path.to_owned(),
        message,
    };
    let (_, metadata) = SafeTensors::read_metadata(bytes).map_err(|e| bad(format!("not a safetensors file: {e}")))?;
    let raw = metadata
        .metadata()
        .as_ref()
        .and_then(|m| m.get("liouville"))
        .ok_or_else(|| bad("no liouville metadata".into()))?;
    if raw.starts_with("format=liouville-v1") {
        return Err(mismatch(path, "version", VERSION, 1));
    }
    let header: Header = serde_json::from_str(raw).map_err(|e| bad(format!("unreadable header: {e}")))?;
    if header.format != FORMAT {
        return Err(mismatch(path, "format", FORMAT, &header.format));
    }
    if header.version != VERSION {
        return Err(mismatch(path, "version", VERSION, header.version));
    }
    Ok(header)
}

/// The header of a checkpoint file (format and version checked), without loading its tensors:
/// which model it holds, its config and its training step.
pub fn read_header(path: &Path) -> Result<Header, TensorError> {
    header_of(&read(path)?, path)
}

fn read(path: &Path) -> Result<Vec<u8>, TensorError> {
    std::fs::read(path).map_err(|source| TensorError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Checks dtype and kind of `header` against `M`.
fn expect_model<E: Real, D: Device<E>, M: Configured<E, D>>(header: &Header, path: &Path) -> Result<(), TensorError> {
    if header.dtype != E::NAME {
        return Err(mismatch(path, "dtype", E::NAME, &header.dtype));
    }
    if header.kind != M::KIND {
        return Err(mismatch(path, "kind", M::KIND, &header.kind));
    }
    Ok(())
}

/// Builds the model a checkpoint's bytes describe on `device` and fills its weights.
pub fn from_safetensors<E: Real, D: Device<E>, M: Configured<E, D>>(
    device: &D,
    bytes: &[u8],
    path: &Path,
) -> Result<(M, Header), TensorError> {
    let header = header_of(bytes, path)?;
    expect_model::<E, D, M>(&header, path)?;
    let config: M::Config = header.config(path)?;
    let mut model = M::from_config(&config, device, 0).map_err(|e| TensorError::Checkpoint {
        path: path.to_owned(),
        message: format!("its {} config does not build: {e}", header.kind),
    })?;
    fill(&mut model, bytes, &header.digest, path)?;
    Ok((model, header))
}

/// Loads a checkpoint written by [`save`] onto `device`: reads the config, builds, fills.
pub fn load<E: Real, D: Device<E>, M: Configured<E, D>>(device: &D, path: &Path) -> Result<(M, Header), TensorError> {
    from_safetensors(device, &read(path)?, path)
}

/// Loads a checkpoint into an existing `model`, which must have the file's kind and config; on
/// error the model is left unchanged.
pub fn load_into<E: Real, D: Device<E>, M: Configured<E, D>>(
    model: &mut M,
    path: &Path,
) -> Result<Header, TensorError> {
    let bytes = read(path)?;
    let header = header_of(&bytes, path)?;
    expect_model::<E, D, M>(&header, path)?;
    let ours = serde_json::to_value(model.config()).map_err(|e| TensorError::InvalidConfig(e.to_string()))?;
    if let Some((field, expected, found)) = first_difference("config", &ours, &header.config) {
        return Err(mismatch(path, &field, expected, found));
    }
    fill(model, &bytes, &header.digest, path)?;
    Ok(header)
}

/// Copies the checkpoint's tensors into `model`, checking names, shapes, dtype and finiteness;
/// on error `model` is unchanged.
fn fill<E: Real, D: Device<E>>(
    model: &mut impl Module<E, D>,
    bytes: &[u8],
    digest: &str,
    path: &Path,
) -> Result<(), TensorError> {
    let bad = |message: String| TensorError::Checkpoint {
        path: path.to_owned(),
        message,
    };
    let st = SafeTensors::deserialize(bytes).map_err(|e| bad(format!("corrupt: {e}")))?;
    let params = model.parameters();
    if st.names().len() != params.len() {
        return Err(mismatch(path, "number of tensors", params.len(), st.names().len()));
    }
    let mut values = Vec::with_capacity(params.len());
    let mut raw: Vec<&[u8]> = Vec::with_capacity(params.len());
    for (name, p) in &params {
        let t = st.tensor(name).map_err(|e| bad(format!("{name}: {e}")))?;
        if t.dtype() != st_dtype::<E>() {
            return Err(mismatch(
                path,
                name,
                format!("{:?}", st_dtype::<E>()),
                format!("{:?}", t.dtype()),
            ));
        }
        if t.shape() != p.dims().as_slice() {
            return Err(mismatch(
                path,
                name,
                format!("{:?}", p.dims()),
                format!("{:?}", t.shape()),
            ));
        }
        raw.push(t.data());
        let v: Vec<E> = from_bytes(t.data());
        if v.iter().any(|x| !x.is_finite()) {
            return Err(bad(format!("{name} holds non-finite values")));
        }
        values.push(v);
    }
    let found = digest_of(raw.into_iter());
    if found != digest {
        return Err(bad(format!(
            "the tensors' digest is {found}, the header says {digest}: the weights are corrupt"
        )));
    }
    drop(params);
    for (p, v) in model.parameters_mut().into_iter().zip(values) {
        match p {
            ParamMut::Matrix(m) => *m = m.device().tensor_from_vec(v, *m.shape()),
            ParamMut::Vector(b) => *b = b.device().tensor_from_vec(v, *b.shape()),
        }
    }
    Ok(())
}
