//! Structural checks that plain `cargo test` enforces (rust-analyzer's `tidy.rs` habit): every
//! source file opens with a `//!` line saying what it holds, and member manifests take external
//! dependencies from `[workspace.dependencies]` only.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_source_file_starts_with_a_module_doc() {
    let mut files = Vec::new();
    for dir in ["crates", "xtask/src", "benches/src", "benches/benches"] {
        rust_files(&root().join(dir), &mut files);
    }
    assert!(files.len() > 10, "found only {} files", files.len());
    let missing: Vec<_> = files
        .iter()
        .filter(|f| !f.components().any(|c| c.as_os_str() == "target"))
        .filter(|f| !std::fs::read_to_string(f).unwrap().trim_start().starts_with("//!"))
        .collect();
    assert!(missing.is_empty(), "files without a leading `//!` line: {missing:?}");
}

#[test]
fn member_manifests_use_workspace_dependencies() {
    let mut manifests = vec![root().join("xtask/Cargo.toml"), root().join("benches/Cargo.toml")];
    for entry in std::fs::read_dir(root().join("crates")).unwrap().flatten() {
        manifests.push(entry.path().join("Cargo.toml"));
    }
    for manifest in manifests {
        let text = std::fs::read_to_string(&manifest).unwrap();
        let mut in_deps = false;
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                in_deps = line.ends_with("dependencies]");
                continue;
            }
            if in_deps && !line.is_empty() && !line.starts_with('#') {
                assert!(
                    line.contains("workspace = true"),
                    "{}: `{line}` does not use the workspace version",
                    manifest.display()
                );
            }
        }
    }
}
