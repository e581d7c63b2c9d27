//! The peer scripts in `benches/peers/`: each times the same problems as our benches in numpy,
//! scipy or PyTorch and, given `--json PATH`, writes `{"versions": "...", "rows": {key: {"times":
//! [seconds, ...], ...extras}}}`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// The scripts run in every round, in this order.
pub const SCRIPTS: [&str; 8] = [
    "scipy_integrate.py",
    "numpy_sim.py",
    "torch_hnn.py",
    "torch_dynamics.py",
    "torch_flows.py",
    "torch_rbm.py",
    "torch_gan.py",
    "torch_graph.py",
];

/// One timed row of a peer script.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerRow {
    /// Median of the script's timed repeats, in milliseconds.
    pub median_ms: f64,
    /// The row's other fields (final errors, evaluation counts).
    pub extras: serde_json::Value,
}

/// What one run of a script reported.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerResult {
    /// Library versions, as the script printed them.
    pub versions: String,
    /// Key → row.
    pub rows: BTreeMap<String, PeerRow>,
}

/// Runs `benches/peers/<script> --json <json>` with `python` and reads what it wrote.
pub fn run_script(python: &str, root: &Path, script: &str, json: &Path) -> Result<PeerResult, String> {
    let path = root.join("benches").join("peers").join(script);
    let out = Command::new(python)
        .current_dir(root)
        .arg(&path)
        .arg("--json")
        .arg(json)
        .output()
        .map_err(|e| format!("{python}: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no output");
        return Err(format!("{python} {script} exited with {}: {last}", out.status));
    }
    let text = std::fs::read_to_string(json).map_err(|e| format!("{}: {e}", json.display()))?;
    parse(&text).map_err(|e| format!("{script}: {e}"))
}

/// Parses a script's JSON.
pub fn parse(text: &str) -> Result<PeerResult, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let versions = v["versions"].as_str().unwrap_or("versions not reported").to_string();
    let rows_json = v["rows"].as_object().ok_or("no \"rows\" object")?;
    let mut rows = BTreeMap::new();
    for (key, row) in rows_json {
        let times: Vec<f64> = row["times"]
            .as_array()
            .ok_or_else(|| format!("row {key}: no \"times\" list"))?
            .iter()
            .map(|t| t.as_f64().filter(|s| s.is_finite() && *s >= 0.0))
            .collect::<Option<_>>()
            .ok_or_else(|| format!("row {key}: a time that is not a non-negative number"))?;
        if times.is_empty() {
            return Err(format!("row {key}: no timings"));
        }
        let mut extras = row.clone();
        if let Some(obj) = extras.as_object_mut() {
            obj.remove("times");
        }
        rows.insert(
            key.clone(),
            PeerRow {
                median_ms: super::median(&times) * 1e3,
                extras,
            },
        );
    }
    Ok(PeerResult { versions, rows })
}

/// Regenerates `docs/benchmarks/integrate-vs-diffrax.md` with its own generator (which alternates
/// three criterion groups with the diffrax script).
pub fn run_diffrax_report(python: &str, root: &Path, rounds: usize) -> Result<(), String> {
    let probe = Command::new(python)
        .args(["-c", "import jax, diffrax"])
        .output()
        .map_err(|e| format!("{python}: {e}"))?;
    if !probe.status.success() {
        return Err(format!("{python} cannot import jax and diffrax"));
    }
    let script = root.join("benches").join("scripts").join("integrate_vs_diffrax.py");
    let status = Command::new(python)
        .current_dir(root)
        .arg(&script)
        .args(["--rounds", &rounds.to_string(), "--python", python])
        .status()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} exited with {status}", script.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_peer_script_exists() {
        let peers = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/peers");
        for script in SCRIPTS {
            assert!(peers.join(script).is_file(), "{script}");
        }
        // And every timing script in benches/peers/ is run (the cross-check is not a timing,
        // `timing.py` is the loop the scripts share).
        for entry in std::fs::read_dir(&peers).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let timed = name.ends_with(".py")
                && !matches!(
                    name.as_str(),
                    "diffrax_integrate.py" | "torch_hnn_protocol.py" | "timing.py"
                );
            assert!(
                !timed || SCRIPTS.contains(&name.as_str()),
                "{name} is not run by bench-report"
            );
        }
    }

    #[test]
    fn parses_times_into_medians_and_keeps_extras() {
        let r = parse(
            r#"{"versions": "scipy 1.17", "rows": {"kepler/RK45": {"times": [0.3, 0.1, 0.2], "evaluations": 7}}}"#,
        )
        .unwrap();
        assert_eq!(r.versions, "scipy 1.17");
        let row = &r.rows["kepler/RK45"];
        assert!((row.median_ms - 200.0).abs() < 1e-9);
        assert_eq!(row.extras["evaluations"], 7);
        assert!(row.extras.get("times").is_none());
    }

    #[test]
    fn rejects_rows_without_usable_times() {
        for bad in [
            r#"{"rows": {"a": {"times": []}}}"#,
            r#"{"rows": {"a": {"times": [-1.0]}}}"#,
            r#"{"rows": {"a": {}}}"#,
            r#"{"versions": "x"}"#,
            "not json",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
