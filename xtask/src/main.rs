//! Project automation (the cargo-xtask pattern): `cargo xtask ci`.
fn main() {}
