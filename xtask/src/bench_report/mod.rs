//! `cargo xtask bench-report`: runs the criterion suite and the peer scripts back to back, in
//! alternating rounds, and writes `docs/BENCHMARKS.md` from what it measured. Nothing in that file
//! is typed by hand: every figure comes from one run of this command, on one machine, in one
//! session, so a ratio against a peer is a ratio of numbers measured minutes apart.
//!
//! One round = the whole criterion suite once (`bench_main --bench`, criterion's median estimate
//! of each benchmark), then every peer script once (the median of its timed repeats). A cell of
//! the report is the median over rounds with the min–max over rounds; a ratio is the peer's
//! median over ours, with the range of the per-round ratios.

mod criterion;
mod document;
mod peers;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// Options of `cargo xtask bench-report`.
#[derive(clap::Args)]
pub struct BenchReportArgs {
    /// Rounds of (criterion suite, every peer script).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// The Python that runs the peer scripts (needs numpy, scipy, torch; jax and diffrax for the
    /// diffrax comparison).
    #[arg(long, default_value = "python3")]
    python: String,
    /// Skip the peer scripts (our figures only).
    #[arg(long)]
    no_peers: bool,
    /// Skip regenerating docs/benchmarks/integrate-vs-diffrax.md (its own script, its own rounds).
    #[arg(long)]
    no_diffrax: bool,
    /// Criterion's `--quick` mode (each benchmark only until its estimate settles): a fast look,
    /// noisier than the benches' own settings.
    #[arg(long)]
    quick: bool,
    /// Where to write the report.
    #[arg(long, default_value = "docs/BENCHMARKS.md")]
    out: PathBuf,
}

/// Everything measured, per round.
#[derive(Debug, Default)]
pub struct Measurements {
    /// Criterion id → our median per round, in milliseconds.
    pub ours: BTreeMap<String, Vec<f64>>,
    /// "script/key" → the peer's median per round, in milliseconds.
    pub peers: BTreeMap<String, Vec<f64>>,
    /// "script/key" → the extra fields of the peer's row in the last round (errors, counts).
    pub peer_extras: BTreeMap<String, serde_json::Value>,
    /// Script → the versions it reported.
    pub peer_versions: BTreeMap<String, String>,
    /// Script → why it could not be measured.
    pub peer_failures: BTreeMap<String, String>,
}

/// Runs the command.
pub fn run(args: &BenchReportArgs) -> Result<(), String> {
    if args.rounds == 0 {
        return Err("--rounds must be at least 1".into());
    }
    let root = workspace_root()?;
    let start = Instant::now();
    eprintln!("bench-report: building the bench binary (release)");
    let binary = criterion::build_bench_binary(&root)?;
    let scratch = tempfile::tempdir().map_err(|e| format!("temporary folder: {e}"))?;
    let mut m = Measurements::default();
    for round in 0..args.rounds {
        let t = Instant::now();
        eprintln!("bench-report: round {}/{}: criterion suite", round + 1, args.rounds);
        let home = scratch.path().join(format!("criterion-{round}"));
        let medians = criterion::run_suite(&binary, &root, &home, args.quick)?;
        for (id, ms) in medians {
            m.ours.entry(id).or_default().push(ms);
        }
        if !args.no_peers {
            for script in peers::SCRIPTS {
                eprintln!("bench-report: round {}/{}: {script}", round + 1, args.rounds);
                let json = scratch.path().join(format!("{script}-{round}.json"));
                match peers::run_script(&args.python, &root, script, &json) {
                    Ok(result) => {
                        m.peer_versions.insert(script.to_string(), result.versions);
                        for (key, row) in result.rows {
                            let id = format!("{script}/{key}");
                            m.peers.entry(id.clone()).or_default().push(row.median_ms);
                            m.peer_extras.insert(id, row.extras);
                        }
                    }
                    Err(why) => {
                        eprintln!("bench-report: {script} not measured: {why}");
                        m.peer_failures.insert(script.to_string(), why);
                    }
                }
            }
        }
        eprintln!(
            "bench-report: round {}/{} done in {:.0} s",
            round + 1,
            args.rounds,
            t.elapsed().as_secs_f64()
        );
    }
    if !args.no_peers && !args.no_diffrax {
        eprintln!("bench-report: docs/benchmarks/integrate-vs-diffrax.md (its own rounds)");
        if let Err(why) = peers::run_diffrax_report(&args.python, &root, args.rounds) {
            eprintln!("bench-report: the diffrax comparison was not regenerated: {why}");
            m.peer_failures.insert("integrate_vs_diffrax.py".into(), why);
        }
    }
    let machine = document::Machine::detect(&root);
    let text = document::render(&m, &machine, args, start.elapsed().as_secs_f64());
    let out = if args.out.is_absolute() {
        args.out.clone()
    } else {
        root.join(&args.out)
    };
    write_atomically(&out, &text)?;
    eprintln!(
        "bench-report: wrote {} in {:.0} s",
        out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The workspace root (xtask's parent folder).
fn workspace_root() -> Result<PathBuf, String> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(PathBuf::from)
        .ok_or_else(|| format!("{} has no parent folder", manifest.display()))
}

/// Writes `text` to a temporary file beside `path` and renames it over `path`: a reader never sees
/// half a report, and an interrupted run leaves the old one in place (the temporary file is
/// removed when dropped).
fn write_atomically(path: &std::path::Path, text: &str) -> Result<(), String> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    tmp.write_all(text.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    tmp.persist(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(())
}

pub use crate::stats::median;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.md");
        write_atomically(&path, "old").unwrap();
        write_atomically(&path, "new report").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new report");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [std::ffi::OsString::from("report.md")]);
    }
}
