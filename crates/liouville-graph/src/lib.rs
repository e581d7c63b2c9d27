//! # liouville-graph
//!
//! Graph networks for interacting particles (Battaglia et al. 2018), built on `liouville-tensor`.
//! So far:
//!
//! - [`batch`]: graph batches in jraph's layout ([`GraphBatch`]: validated construction, petgraph
//!   conversion, batch / unbatch / pad with jraph's semantics);
//! - [`data`]: graph sets as training data ([`data::GraphSet`], a `liouville_tensor::train::Data`)
//!   whose device batches carry the segment ids that tensor's segment reductions aggregate over;
//! - [`blocks`]: the full graph network block ([`blocks::GnBlock`]: edge → node → global updates
//!   with sum, mean or max aggregation; its switches give interaction networks, Deep Sets and
//!   graph-independent blocks);
//! - [`neighbourhoods`]: who interacts with whom — complete graphs, radius graphs by cell lists
//!   in O(N);
//! - [`potential`]: a learned graph potential V = Σ_edges φ(q_s − q_r) (+ Σ_nodes ψ(qᵢ)) with
//!   exact input derivatives, on fixed-size rows or on the node rows of any graph batch;
//! - [`hamiltonian`]: the Hamiltonian graph network H = Σ T(pᵢ) + V(q)
//!   ([`hamiltonian::HamiltonianGraph`]), a tensor `Energy` with exact input derivatives, so the
//!   HNN loss and the symplectic integrators apply to it unchanged;
//! - [`separable`]: VIGN and the HGN trained *through* leapfrog or RK4 on batches of graphs of
//!   different sizes, and rolled out by the same steps on graphs of any size;
//! - [`particles`]: simulator states as node rows, trajectories as training windows;
//! - [`models`]: encode-process-decode (the GNS architecture: encoders, M residual LayerNorm GN
//!   processors, a node decoder) and the MPNN with a GRU update, both trained on graph sets by
//!   tensor's loop.
//!
//! `cargo xtask reproduce graph` compares an MLP, GNS, the HGN and VIGN on spring chains
//! (`docs/results/graph.md`). GNS's training recipe (velocity history, noise injection,
//! normalisation), the catalog/CLI entries and the NRI study come next (see the graph issue).

pub mod batch;
pub mod blocks;
pub mod data;
mod error;
pub mod gns;
pub mod hamiltonian;
pub mod models;
pub mod neighbourhoods;
pub mod particles;
pub mod potential;
pub mod separable;

pub use batch::{GraphBatch, Masks, Widths};
pub use error::GraphError;
