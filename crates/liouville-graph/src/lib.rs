//! # liouville-graph
//!
//! Graph networks for interacting particles (Battaglia et al. 2018), built on `liouville-tensor`.
//! So far: graph batches in jraph's layout ([`GraphBatch`]: validated construction, petgraph
//! conversion, batch / unbatch / pad with jraph's semantics), graph sets as training data
//! ([`data::GraphSet`], a `liouville_tensor::train::Data`) whose device batches carry the segment
//! ids that tensor's device-generic segment sums aggregate over, and the full graph network block
//! ([`blocks::GnBlock`]: edge → node → global updates with sum, mean or max aggregation; its
//! switches give interaction networks, Deep Sets and graph-independent blocks). Encode-process-
//! decode, MPNN and Hamiltonian graph networks come next (see the graph issue).

pub mod batch;
pub mod blocks;
pub mod data;
mod error;

pub use batch::{GraphBatch, Masks, Widths};
pub use error::GraphError;
