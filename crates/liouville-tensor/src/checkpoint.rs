//! Checkpoints as safetensors files (readable by Python's `safetensors`): tensors
//! `layers.{l}.weight` (`[in, out]`) and `layers.{l}.bias`, with one metadata entry
//! `liouville = "format=…;widths=…;activation=…;dtype=…[;key=value…]"` (fixed order, so the same
//! model always gives the same bytes). Written atomically (temporary file, fsync, rename); a
//! truncated, corrupt or mismatched file is a [`TensorError::Checkpoint`].

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use dfdx::prelude::*;
use safetensors::tensor::{Dtype as StDtype, SafeTensors, TensorView};

use crate::mlp::Mlp;
use crate::{Activation, Real, TensorError};

const FORMAT: &str = "liouville-mlp-v1";

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

fn activation_name(a: Activation) -> &'static str {
    match a {
        Activation::Tanh => "tanh",
        Activation::Softplus => "softplus",
        Activation::Sigmoid => "sigmoid",
        Activation::Sin => "sin",
    }
}

/// The checkpoint bytes of `model`, with `extra` metadata (for example the training step).
pub fn to_safetensors<E: Real, D: Device<E>>(
    model: &Mlp<E, D>,
    extra: &[(&str, String)],
) -> Result<Vec<u8>, TensorError> {
    let host: Vec<(String, Vec<usize>, Vec<u8>)> = model
        .weights
        .iter()
        .zip(&model.biases)
        .enumerate()
        .flat_map(|(l, (w, b))| {
            let (r, c) = *w.shape();
            [
                (format!("layers.{l}.weight"), vec![r, c], to_bytes(&w.as_vec())),
                (format!("layers.{l}.bias"), vec![b.shape().0], to_bytes(&b.as_vec())),
            ]
        })
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
        (
            "widths".to_string(),
            model
                .widths()
                .iter()
                .map(|w| w.to_string())
                .collect::<Vec<_>>()
                .join(","),
        ),
        (
            "activation".to_string(),
            activation_name(model.activation()).to_string(),
        ),
        ("dtype".to_string(), E::NAME.to_string()),
    ];
    for (k, v) in extra {
        if k.contains(['=', ';']) || v.contains(['=', ';']) {
            return Err(TensorError::InvalidConfig(format!(
                "metadata {k}={v} may not contain '=' or ';'"
            )));
        }
        fields.push(((*k).to_string(), v.clone()));
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
    model: &Mlp<E, D>,
    path: &Path,
    extra: &[(&str, String)],
) -> Result<(), TensorError> {
    write_atomic(path, &to_safetensors(model, extra)?)
}

/// Parses checkpoint bytes into a model on `device`; `path` only labels errors.
pub fn from_safetensors<E: Real, D: Device<E>>(
    device: &D,
    bytes: &[u8],
    path: &Path,
) -> Result<Loaded<E, D>, TensorError> {
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
    if widths.len() < 2 {
        return Err(bad("fewer than two widths".into()));
    }
    let st = SafeTensors::deserialize(bytes).map_err(|e| bad(format!("corrupt: {e}")))?;
    let mut weights = Vec::new();
    let mut biases = Vec::new();
    for (l, w) in widths.windows(2).enumerate() {
        let get = |name: String, shape: Vec<usize>| -> Result<Vec<E>, TensorError> {
            let t = st.tensor(&name).map_err(|e| bad(format!("{name}: {e}")))?;
            if t.dtype() != st_dtype::<E>() || t.shape() != shape.as_slice() {
                return Err(bad(format!(
                    "{name}: {:?} {:?}, expected {:?} {shape:?}",
                    t.dtype(),
                    t.shape(),
                    st_dtype::<E>()
                )));
            }
            let values: Vec<E> = from_bytes(t.data());
            if values.iter().any(|v| !v.is_finite()) {
                return Err(bad(format!("{name} holds non-finite values")));
            }
            Ok(values)
        };
        weights.push(device.tensor_from_vec(get(format!("layers.{l}.weight"), vec![w[0], w[1]])?, (w[0], w[1])));
        biases.push(device.tensor_from_vec(get(format!("layers.{l}.bias"), vec![w[1]])?, (w[1],)));
    }
    if st.names().len() != 2 * (widths.len() - 1) {
        return Err(bad(format!(
            "{} tensors, expected {}",
            st.names().len(),
            2 * (widths.len() - 1)
        )));
    }
    Ok((Mlp::from_parameters(activation, weights, biases)?, meta))
}

/// Loads a checkpoint written by [`save`].
pub fn load<E: Real, D: Device<E>>(device: &D, path: &Path) -> Result<Loaded<E, D>, TensorError> {
    let bytes = std::fs::read(path).map_err(|source| TensorError::Io {
        path: path.to_owned(),
        source,
    })?;
    from_safetensors(device, &bytes, path)
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
