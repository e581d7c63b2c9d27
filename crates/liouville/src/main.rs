//! The `liouville` command-line tool.
fn main() {}
