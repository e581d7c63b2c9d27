//! Bench modules, one per area.
pub mod dynamics;
pub mod integrate;
pub mod sim;
pub mod tensor;
