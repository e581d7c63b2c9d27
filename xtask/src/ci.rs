//! `cargo xtask ci`: the checks CI runs, in order of how fast they fail.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Options of `cargo xtask ci`.
#[derive(clap::Args)]
pub struct CiArgs {
    /// Skip `cargo test --workspace` (for `.ci/run`, which runs the README's test command itself).
    #[arg(long)]
    skip_workspace_tests: bool,
    /// Fail, rather than skip, when no system LAPACK is installed (set automatically when CI=true).
    #[arg(long)]
    require_lapack: bool,
}

/// A failed step.
#[derive(Debug)]
pub struct StepFailed(String);

impl std::fmt::Display for StepFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_owned()
}

fn cargo(args: &[&str]) -> Result<f64, StepFailed> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    println!("==> cargo {}", args.join(" "));
    let start = Instant::now();
    let status = Command::new(&cargo)
        .args(args)
        .current_dir(workspace_root())
        .status()
        .map_err(|e| StepFailed(format!("could not start cargo: {e}")))?;
    let seconds = start.elapsed().as_secs_f64();
    if status.success() {
        Ok(seconds)
    } else {
        Err(StepFailed(format!("`cargo {}` failed ({status})", args.join(" "))))
    }
}

/// Whether a system OpenBLAS (with LAPACK) is installed for `ndarray-linalg`'s `openblas-system`.
pub fn lapack_present() -> bool {
    let ldconfig = ["ldconfig", "/sbin/ldconfig", "/usr/sbin/ldconfig"]
        .iter()
        .find_map(|cmd| Command::new(cmd).arg("-p").output().ok());
    if let Some(out) = ldconfig
        && String::from_utf8_lossy(&out.stdout).contains("libopenblas.so")
    {
        return true;
    }
    [
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib64",
        "/usr/lib",
    ]
    .iter()
    .any(|dir| Path::new(dir).join("libopenblas.so").exists())
}

/// Runs every check; stops at the first failure.
pub fn run(args: &CiArgs) -> Result<(), StepFailed> {
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let mut timings: Vec<(String, f64)> = Vec::new();
    let mut step = |name: &str, a: &[&str]| -> Result<(), StepFailed> {
        let s = cargo(a)?;
        timings.push((name.to_owned(), s));
        Ok(())
    };
    step("fmt", &["fmt", "--all", "--", "--check"])?;
    step(
        "clippy",
        &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"],
    )?;
    if !args.skip_workspace_tests {
        step("tests", &["test", "--workspace"])?;
    }
    if lapack_present() {
        step(
            "lapack clippy",
            &[
                "clippy",
                "-p",
                "liouville-integrate",
                "--features",
                "lapack",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        )?;
        step(
            "lapack tests",
            &["test", "-p", "liouville-integrate", "--features", "lapack"],
        )?;
    } else if args.require_lapack || in_ci {
        return Err(StepFailed(
            "no system LAPACK (libopenblas) found; .ci/run installs libopenblas-dev".into(),
        ));
    } else {
        println!("==> skipping the lapack feature: no libopenblas found (apt-get install libopenblas-dev)");
    }
    // dfdx's ci-check type-checks the CUDA code paths without a CUDA toolkit (it cannot link):
    // with the test targets, every model is instantiated for the GPU device (dynamics'
    // tests/cuda_models.rs, tensor's tests/cuda.rs).
    step(
        "cuda check",
        &[
            "check",
            "-p",
            "liouville-tensor",
            "-p",
            "liouville-dynamics",
            "-p",
            "liouville-graph",
            "-p",
            "liouville-generative",
            "-p",
            "liouville",
            "--tests",
            "--features",
            "cuda,ci-check",
        ],
    )?;
    println!("==> all checks passed");
    for (name, seconds) in timings {
        println!("    {name:<14} {seconds:>7.1} s");
    }
    Ok(())
}
