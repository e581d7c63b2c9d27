//! The one place that knows the binary codec: serde + bincode 2.0.1.
//!
//! bincode 3.0.0 is a tombstone (its library is a `compile_error!`) and RUSTSEC-2025-0141 marks
//! bincode unmaintained, so the codec is isolated here: swapping it touches this file only.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::SimError;

/// Fixed-width little-endian integers (varints would make the payload size depend on values),
/// and a 16 GiB allocation limit as a guard on crafted inputs.
fn config() -> impl bincode::config::Config {
    bincode::config::standard()
        .with_little_endian()
        .with_fixed_int_encoding()
        .with_limit::<{ 16 << 30 }>()
}

/// Serialises `value`.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, SimError> {
    bincode::serde::encode_to_vec(value, config()).map_err(|e| SimError::Format(format!("encoding: {e}")))
}

/// Deserialises a whole buffer; trailing bytes are an error.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, SimError> {
    let (value, read) =
        bincode::serde::decode_from_slice(bytes, config()).map_err(|e| SimError::Format(format!("decoding: {e}")))?;
    if read != bytes.len() {
        return Err(SimError::Format(format!(
            "{} trailing bytes after the payload",
            bytes.len() - read
        )));
    }
    Ok(value)
}
