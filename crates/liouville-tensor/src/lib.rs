//! # liouville-tensor
//!
//! The dfdx autodiff layer: CPU and (with the `cuda` feature) GPU devices, runtime-width MLPs
//! whose input derivatives are explicit traced ops (dfdx 0.13 has no double backward), training
//! loops and checkpoints. Its contents arrive with the liouville-tensor issue; until then the
//! crate is deliberately empty.
