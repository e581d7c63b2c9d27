//! # liouville-base
//!
//! What every other crate of Liouville shares and none of them owns, so that each exists once:
//!
//! - [`random`]: seeded, independent random streams (xoshiro256++ from `rand_xoshiro`), the only
//!   random-number source of the workspace — datasets, initialisations and shuffles draw from it;
//! - [`math`]: sin/cos that give the same bits on every platform (datasets are byte-reproducible);
//! - [`digest`]: the one checksum (FNV-1a 64 from the `fnv` crate) of datasets and checkpoints;
//! - [`files`]: the one atomic writer (temporary sibling from `tempfile`, fsync, rename), used by
//!   datasets, checkpoints, reports and plots;
//! - [`progress`]: the one progress reporter (an indicatif bar on a terminal, periodic log lines
//!   off one), used by training, dataset generation and the showcase.
//!
//! It depends on no other crate of ours, and on nothing heavier than a few small crates.

pub mod digest;
pub mod files;
pub mod math;
pub mod progress;
#[cfg(feature = "proptest")]
pub mod property;
pub mod random;
