//! How the host allocator treats the large buffers of a training step.
//!
//! A CPU training step allocates and frees tens of megabytes of activations and gradients
//! (a GN block over 14,336 edges keeps a dozen `[14336, 64]` f32 buffers of 3.7 MB). glibc's
//! `malloc` serves blocks above its mmap threshold from fresh `mmap`s and returns the heap's free
//! top to the kernel above its trim threshold, so every step pays for page faults and for the
//! kernel zeroing the pages again: with the defaults the GN-block step of `benches` took 28 ms,
//! with the freed memory kept 16.6 ms (`benches/examples/gn_block_profile.rs`). Keeping it costs
//! resident memory up to the step's peak, which the next step reuses.
//!
//! [`keep_freed_memory`] raises both thresholds once per process; the `liouville` CLI, `xtask`
//! and the criterion benches call it at start. A program using the library calls it itself (or
//! sets `MALLOC_MMAP_THRESHOLD_` and `MALLOC_TRIM_THRESHOLD_`). Elsewhere than glibc it does
//! nothing.

/// Blocks up to this size come from the heap, not from their own `mmap` (glibc's largest allowed
/// mmap threshold on 64-bit targets).
pub const MMAP_THRESHOLD: usize = 32 << 20;
/// Free memory at the top of the heap up to this size is kept for reuse.
pub const TRIM_THRESHOLD: usize = 1 << 30;

/// Keeps freed host memory for reuse (see the module docs). Returns whether the allocator took
/// the settings (false off glibc).
pub fn keep_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes two of glibc's tuning parameters; it takes plain integers
        // and touches no memory of ours. Both values are within glibc's ranges.
        #[allow(unsafe_code)]
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD as libc::c_int) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD as libc::c_int) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn glibc_takes_the_settings() {
        let taken = super::keep_freed_memory();
        assert_eq!(taken, cfg!(all(target_os = "linux", target_env = "gnu")));
        // Memory still works after the change.
        let v = vec![1.0f32; 4 << 20];
        assert_eq!(v.iter().sum::<f32>(), (4 << 20) as f32);
    }
}
