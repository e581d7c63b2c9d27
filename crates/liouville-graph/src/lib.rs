//! # liouville-graph
//!
//! Graph networks for interacting particles (Battaglia et al. 2018), built on `liouville-tensor`.
//! So far: graph batches in jraph's layout ([`GraphBatch`]: validated construction, petgraph
//! conversion, batch / unbatch / pad with jraph's semantics) and graph sets as training data
//! ([`data::GraphSet`], a `liouville_tensor::train::Data`), whose device batches carry the segment
//! ids that tensor's device-generic segment sums aggregate over. The GN blocks, message passing
//! and Hamiltonian graph networks come next (see the graph issue).

pub mod batch;
pub mod data;
mod error;

pub use batch::{GraphBatch, Masks, Widths};
pub use error::GraphError;
