//! Bench modules, one per area.
pub mod dynamics;
pub mod generative;
pub mod graph;
pub mod integrate;
pub mod sim;
pub mod tensor;
