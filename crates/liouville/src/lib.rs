//! # liouville
//! Facade.
