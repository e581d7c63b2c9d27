//! The one checksum: FNV-1a 64 (Fowler–Noll–Vo), from the `fnv` crate, over bytes. Datasets store
//! it for their payload, checkpoints for their tensors, so a flipped bit is found on load.

use std::hash::Hasher;

/// FNV-1a 64 of `bytes`.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h = fnv::FnvHasher::default();
    h.write(bytes);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The published test vectors of FNV-1a 64 (and so the bytes of existing dataset headers).
    #[test]
    fn known_values() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
