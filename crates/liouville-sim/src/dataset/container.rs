//! The dataset file container: a fixed 64-byte header, then the codec payload.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `LIOUVDS\0` |
//! | 8 | 4 | format version (u32 LE) |
//! | 12 | 4 | kind: 1 trajectories, 2 Ising configurations |
//! | 16 | 4 | dtype of the state arrays: 1 = f64 |
//! | 20 | 4 | reserved, 0 (checked on load: it is outside the checksum) |
//! | 24 | 24 | shape (3 × u64 LE): trajectories/temperatures, time points/samples, state dimension/sites |
//! | 48 | 8 | payload length (u64 LE) |
//! | 56 | 8 | FNV-1a 64 checksum of the payload |
//!
//! Files are written atomically (temporary file in the same directory, fsync, rename), so a crash
//! never leaves a half-written dataset under the final name, and an existing file is only
//! replaced by a complete one.

use std::path::Path;

use crate::SimError;

/// File magic.
pub const MAGIC: &[u8; 8] = b"LIOUVDS\0";
/// Current format version.
pub const VERSION: u32 = 1;
/// Header size in bytes.
pub const HEADER_LEN: usize = 64;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A trajectory dataset ([`crate::dataset::Dataset`]).
    Trajectories = 1,
    /// Ising configurations ([`crate::dataset::IsingDataset`]).
    Ising = 2,
}

/// The decoded header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Content kind.
    pub kind: Kind,
    /// Leading array shape.
    pub shape: [u64; 3],
    /// Payload length.
    pub payload_len: u64,
    /// Payload checksum.
    pub checksum: u64,
}

/// FNV-1a, 64 bit (the workspace's one checksum, `liouville_base::digest`).
pub use liouville_base::digest::fnv1a64;

/// Header followed by payload.
pub fn assemble(kind: Kind, shape: [u64; 3], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(kind as u32).to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    for s in shape {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&fnv1a64(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Validates the header and checksum; returns the header and the payload.
pub fn split(bytes: &[u8], expected: Kind) -> Result<(Header, &[u8]), SimError> {
    if bytes.starts_with(b"PK\x03\x04") {
        return Err(SimError::Format(
            "this is a zip archive (a numpy .npz export?): Liouville reads its .lds container; write one with `liouville gen -o data.lds`".into(),
        ));
    }
    if bytes.len() < HEADER_LEN {
        return Err(SimError::Format(format!(
            "truncated: {} bytes, the header alone is {HEADER_LEN}",
            bytes.len()
        )));
    }
    if &bytes[..8] != MAGIC {
        return Err(SimError::Format("not a Liouville dataset (bad magic)".into()));
    }
    let version = u32_at(bytes, 8);
    if version != VERSION {
        return Err(SimError::Format(format!(
            "format version {version} is not supported (this build reads {VERSION})"
        )));
    }
    let kind = match u32_at(bytes, 12) {
        1 => Kind::Trajectories,
        2 => Kind::Ising,
        k => return Err(SimError::Format(format!("unknown content kind {k}"))),
    };
    if kind != expected {
        return Err(SimError::ShapeMismatch(format!(
            "file holds {kind:?}, expected {expected:?}"
        )));
    }
    let dtype = u32_at(bytes, 16);
    if dtype != 1 {
        return Err(SimError::Format(format!("unsupported dtype code {dtype}")));
    }
    // Written as zero and outside the payload checksum: anything else is a corrupt header.
    let reserved = u32_at(bytes, 20);
    if reserved != 0 {
        return Err(SimError::Format(format!(
            "reserved header bytes 20..24 hold {reserved:#x}, not 0: the file is corrupt"
        )));
    }
    let shape = [u64_at(bytes, 24), u64_at(bytes, 32), u64_at(bytes, 40)];
    let payload_len = u64_at(bytes, 48);
    let checksum = u64_at(bytes, 56);
    let payload = &bytes[HEADER_LEN..];
    if payload.len() as u64 != payload_len {
        return Err(SimError::Format(format!(
            "truncated or padded: header announces {payload_len} payload bytes, file has {}",
            payload.len()
        )));
    }
    if fnv1a64(payload) != checksum {
        return Err(SimError::Format("checksum mismatch: the file is corrupt".into()));
    }
    Ok((
        Header {
            kind,
            shape,
            payload_len,
            checksum,
        },
        payload,
    ))
}

/// Writes `bytes` to `path` atomically (the workspace's one writer, `liouville_base::files`).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SimError> {
    liouville_base::files::write_atomic(path, bytes).map_err(|source| SimError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Reads a whole file.
pub fn read(path: &Path) -> Result<Vec<u8>, SimError> {
    std::fs::read(path).map_err(|source| SimError::Io {
        path: path.to_owned(),
        source,
    })
}
