//! # liouville-graph
//!
//! Graph networks (GN blocks, message passing) for interacting particles, with graphs given as
//! petgraph graphs, built on `liouville-tensor`. Its contents arrive with a later issue; until
//! then the crate is deliberately empty.
