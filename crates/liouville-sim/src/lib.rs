//! # liouville-sim
//!
//! Physical systems, simulators and reproducible datasets (serde + bincode, `.npz`), built on
//! `liouville-integrate`. Its contents arrive with the liouville-sim issue; until then the crate
//! is deliberately empty.
