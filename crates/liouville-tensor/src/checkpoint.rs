//! Checkpoints as safetensors files (readable by Python's `safetensors`): the tensors named by
//! [`Module::parameters`] (for an MLP `layers.{l}.weight` `[in, out]` and `layers.{l}.bias`), with
//! one metadata entry `liouville = "format=…;dtype=…;widths=…;…"` in a fixed order, so the same
//! model always gives the same bytes. Written atomically (temporary file, fsync, rename); a
//! truncated, corrupt or mismatched file is a [`TensorError::Checkpoint`].

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use dfdx::prelude::*;
use safetensors::tensor::{Dtype as StDtype, SafeTensors, TensorView};

use crate::mlp::Mlp;
use crate::module::{Module, ParamMut};
use crate::{Activation, Real, TensorError};

const FORMAT: &str = "liouville-v1";

/// A loaded model and its metadata fields.
pub type Loaded<E, D> = (Mlp<E, D>, HashMap<String, String>);

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

/// Checkpoint name of an activation.
pub(crate) fn activation_name(a: Activation) -> &'static str {
    a.name()
}

/// The checkpoint bytes of `model`, with `extra` metadata (for example the training step).
pub fn to_safetensors<E: Real, D: Device<E>>(
    model: &impl Module<E, D>,
    extra: &[(&str, String)],
) -> Result<Vec<u8>, TensorError> {
    let host: Vec<(String, Vec<usize>, Vec<u8>)> = model
        .parameters()
        .into_iter()
        .map(|(name, p)| (name, p.dims(), to_bytes(&p.to_vec())))
        .collect();
    let views = host
        .iter()
        .map(|(name, shape, data)| TensorView::new(st_dtype::<E>(), shape.clone(), data).map(|v| (name.clone(), v)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TensorError::InvalidConfig(format!("safetensors view: {e}")))?;
    // One metadata entry with fields in a fixed order: a HashMap's iteration order would make
    // the header (and so the file) differ from save to save.
    let mut fields = vec![
        ("format".to_string(), FORMAT.to_string()),
        ("dtype".to_string(), E::NAME.to_string()),
    ];
    fields.extend(model.describe());
    fields.extend(extra.iter().map(|(k, v)| ((*k).to_string(), v.clone())));
    if fields
        .iter()
        .any(|(k, v)| k.contains(['=', ';']) || v.contains(['=', ';']))
    {
        return Err(TensorError::InvalidConfig("metadata may not contain '=' or ';'".into()));
    }
    let mut meta: HashMap<String, String> = HashMap::new();
    meta.insert(
        "liouville".into(),
        fields
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(";"),
    );
    safetensors::tensor::serialize(views, Some(meta))
        .map_err(|e| TensorError::InvalidConfig(format!("safetensors: {e}")))
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TensorError> {
    let io = |source| TensorError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!("{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// Saves `model` to `path` atomically.
pub fn save<E: Real, D: Device<E>>(
    model: &impl Module<E, D>,
    path: &Path,
    extra: &[(&str, String)],
) -> Result<(), TensorError> {
    write_atomic(path, &to_safetensors(model, extra)?)
}

/// The `liouville` metadata fields of checkpoint bytes, after checking format and dtype.
fn read_fields<E: Real>(bytes: &[u8], path: &Path) -> Result<HashMap<String, String>, TensorError> {
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
    let meta: HashMap<String, String> = raw
        .split(';')
        .filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    if meta.get("format").map(String::as_str) != Some(FORMAT) {
        return Err(bad(format!("format {:?} is not {FORMAT}", meta.get("format"))));
    }
    if meta.get("dtype").map(String::as_str) != Some(E::NAME) {
        return Err(bad(format!("dtype {:?}, expected {}", meta.get("dtype"), E::NAME)));
    }
    Ok(meta)
}

/// Parses checkpoint bytes of an MLP (architecture from the metadata) into a model on `device`;
/// `path` only labels errors.
pub fn from_safetensors<E: Real, D: Device<E>>(
    device: &D,
    bytes: &[u8],
    path: &Path,
) -> Result<Loaded<E, D>, TensorError> {
    let bad = |message: String| TensorError::Checkpoint {
        path: path.to_owned(),
        message,
    };
    let meta = read_fields::<E>(bytes, path)?;
    let activation = meta
        .get("activation")
        .and_then(|a| Activation::parse(a))
        .ok_or_else(|| bad("unknown activation".into()))?;
    let widths: Vec<usize> = meta
        .get("widths")
        .ok_or_else(|| bad("no widths".into()))?
        .split(',')
        .map(|w| w.parse::<usize>().map_err(|e| bad(format!("widths: {e}"))))
        .collect::<Result<_, _>>()?;
    if widths.len() < 2 || widths.contains(&0) {
        return Err(bad(format!("invalid widths {widths:?}")));
    }
    let mut model = Mlp::new(device, &widths, activation, crate::Init::Xavier, 0)?;
    fill(&mut model, bytes, path)?;
    Ok((model, meta))
}

/// Copies the checkpoint's tensors into `model`, checking names, shapes, dtype and finiteness;
/// on error `model` is unchanged.
fn fill<E: Real, D: Device<E>>(model: &mut impl Module<E, D>, bytes: &[u8], path: &Path) -> Result<(), TensorError> {
    let bad = |message: String| TensorError::Checkpoint {
        path: path.to_owned(),
        message,
    };
    let st = SafeTensors::deserialize(bytes).map_err(|e| bad(format!("corrupt: {e}")))?;
    let params = model.parameters();
    if st.names().len() != params.len() {
        return Err(bad(format!(
            "{} tensors, the model has {}",
            st.names().len(),
            params.len()
        )));
    }
    let mut values = Vec::with_capacity(params.len());
    for (name, p) in &params {
        let t = st.tensor(name).map_err(|e| bad(format!("{name}: {e}")))?;
        if t.dtype() != st_dtype::<E>() || t.shape() != p.dims().as_slice() {
            return Err(bad(format!(
                "{name}: {:?} {:?}, the model has {:?} {:?}",
                t.dtype(),
                t.shape(),
                st_dtype::<E>(),
                p.dims()
            )));
        }
        let v: Vec<E> = from_bytes(t.data());
        if v.iter().any(|x| !x.is_finite()) {
            return Err(bad(format!("{name} holds non-finite values")));
        }
        values.push(v);
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

/// The `liouville` metadata of a checkpoint file (format and dtype checked), without loading
/// its tensors: which model it holds, its architecture and training step.
pub fn metadata<E: Real>(path: &Path) -> Result<HashMap<String, String>, TensorError> {
    let bytes = std::fs::read(path).map_err(|source| TensorError::Io {
        path: path.to_owned(),
        source,
    })?;
    read_fields::<E>(&bytes, path)
}

/// Loads an MLP checkpoint written by [`save`].
pub fn load<E: Real, D: Device<E>>(device: &D, path: &Path) -> Result<Loaded<E, D>, TensorError> {
    let bytes = std::fs::read(path).map_err(|source| TensorError::Io {
        path: path.to_owned(),
        source,
    })?;
    from_safetensors(device, &bytes, path)
}

/// Loads a checkpoint into an existing `model` of the same architecture (any [`Module`]: every
/// parameter must be present under its name with its shape and dtype). On error the model is
/// left unchanged.
pub fn load_into<E: Real, D: Device<E>>(
    model: &mut impl Module<E, D>,
    path: &Path,
) -> Result<HashMap<String, String>, TensorError> {
    let bytes = std::fs::read(path).map_err(|source| TensorError::Io {
        path: path.to_owned(),
        source,
    })?;
    let meta = read_fields::<E>(&bytes, path)?;
    fill(model, &bytes, path)?;
    Ok(meta)
}

/// Checks that a checkpoint matches the expected architecture (widths and activation).
pub fn expect_architecture<E: Real, D: Device<E>>(
    model: &Mlp<E, D>,
    widths: &[usize],
    activation: Activation,
    path: &Path,
) -> Result<(), TensorError> {
    if model.widths() != widths || model.activation() != activation {
        return Err(TensorError::Checkpoint {
            path: path.to_owned(),
            message: format!(
                "architecture {:?}/{:?} does not match the expected {widths:?}/{activation:?}",
                model.widths(),
                model.activation()
            ),
        });
    }
    Ok(())
}
