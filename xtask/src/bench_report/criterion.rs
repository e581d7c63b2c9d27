//! Building and running the criterion suite, and reading criterion's own estimates back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds `liouville-benches`' `bench_main` in the bench (release) profile and returns its path.
pub fn build_bench_binary(root: &Path) -> Result<PathBuf, String> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args([
            "bench",
            "-p",
            "liouville-benches",
            "--bench",
            "bench_main",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ])
        .output()
        .map_err(|e| format!("cargo bench --no-run: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo bench --no-run failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    executable_from_messages(&String::from_utf8_lossy(&out.stdout))
        .ok_or_else(|| "cargo reported no executable for bench_main".into())
}

/// The `executable` of the `bench_main` artifact among cargo's JSON messages.
fn executable_from_messages(stdout: &str) -> Option<PathBuf> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == "bench_main")
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
}

/// Runs every benchmark once with criterion's output under `home` and returns each benchmark's
/// median estimate in milliseconds, keyed by criterion's full id (`group/function/parameter`).
pub fn run_suite(binary: &Path, root: &Path, home: &Path, quick: bool) -> Result<BTreeMap<String, f64>, String> {
    let mut cmd = Command::new(binary);
    cmd.current_dir(root)
        .env("CRITERION_HOME", home)
        .args(["--bench", "--noplot"]);
    if quick {
        cmd.arg("--quick");
    }
    let out = cmd.output().map_err(|e| format!("{}: {e}", binary.display()))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
        return Err(format!(
            "the criterion suite failed ({}):\n{}",
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ));
    }
    let medians = read_estimates(home)?;
    if medians.is_empty() {
        return Err(format!("criterion wrote no estimates under {}", home.display()));
    }
    Ok(medians)
}

/// Criterion's median estimates (ms) of every benchmark under `home`: each `…/new/benchmark.json`
/// names the benchmark (`full_id`), its sibling `estimates.json` holds the statistics in ns.
pub fn read_estimates(home: &Path) -> Result<BTreeMap<String, f64>, String> {
    let mut found = BTreeMap::new();
    let mut stack = vec![home.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == "benchmark.json")
                && dir.file_name().is_some_and(|n| n == "new")
            {
                let id = json_file(&path)?["full_id"]
                    .as_str()
                    .ok_or_else(|| format!("{}: no full_id", path.display()))?
                    .to_string();
                let estimates = dir.join("estimates.json");
                let ns = json_file(&estimates)?["median"]["point_estimate"]
                    .as_f64()
                    .ok_or_else(|| format!("{}: no median point estimate", estimates.display()))?;
                found.insert(id, ns * 1e-6);
            }
        }
    }
    Ok(found)
}

fn json_file(path: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_bench_executable_among_cargo_messages() {
        let messages = concat!(
            r#"{"reason":"compiler-artifact","target":{"name":"liouville_benches"},"executable":null}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"name":"bench_main"},"executable":"/t/release/deps/bench_main-1"}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#
        );
        assert_eq!(
            executable_from_messages(messages),
            Some(PathBuf::from("/t/release/deps/bench_main-1"))
        );
        assert_eq!(executable_from_messages("not json\n"), None);
    }

    #[test]
    fn reads_medians_of_new_estimates_only() {
        let home = tempfile::tempdir().unwrap();
        let write = |rel: &str, text: &str| {
            let p = home.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        write("g/f/new/benchmark.json", r#"{"full_id":"g/f"}"#);
        write(
            "g/f/new/estimates.json",
            r#"{"median":{"point_estimate":2500000.0},"mean":{"point_estimate":1.0}}"#,
        );
        // A previous run's estimates are not this round's.
        write("g/f/base/benchmark.json", r#"{"full_id":"g/f"}"#);
        write("g/f/base/estimates.json", r#"{"median":{"point_estimate":1.0}}"#);
        let m = read_estimates(home.path()).unwrap();
        assert_eq!(m.len(), 1);
        assert!((m["g/f"] - 2.5).abs() < 1e-12, "{m:?}");
        write("h/new/benchmark.json", r#"{"full_id":"h"}"#);
        write("h/new/estimates.json", r#"{"mean":{"point_estimate":1.0}}"#);
        let err = read_estimates(home.path()).unwrap_err();
        assert!(err.contains("no median"), "{err}");
    }
}
