//! The text of `docs/BENCHMARKS.md`: tables filled from [`Measurements`], prose that explains
//! what each table measures and where the time goes (without figures: every number in the file
//! comes from the run), and a verdict computed against each issue's goal.

use std::collections::BTreeSet;
use std::path::Path;

use liouville_integrate::HamiltonianField;
use liouville_integrate::adaptive::{Adaptive, AdaptiveMethod, Output};
use liouville_integrate::reference::Kepler;

use super::{BenchReportArgs, Measurements, median};

/// Where the run happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    /// CPU model, logical cores, memory, vector extensions.
    pub cpu: String,
    /// Operating system and kernel.
    pub os: String,
    /// `rustc -V`.
    pub rustc: String,
    /// The date (UTC) of the run.
    pub date: String,
}

impl Machine {
    /// Reads /proc and asks rustc (each part says "unknown" where it cannot be read).
    pub fn detect(root: &Path) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or("unknown CPU".to_string(), |(_, v)| v.trim().to_string());
        let flags = cpuinfo.lines().find(|l| l.starts_with("flags")).unwrap_or("");
        let vector = if flags.contains(" avx512f") {
            "AVX-512"
        } else if flags.contains(" avx2") {
            "AVX2 (no AVX-512)"
        } else {
            "no AVX2"
        };
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let memory = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find(|l| l.starts_with("MemTotal"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
            .map_or("unknown memory".to_string(), |kb| format!("{:.0} GiB", kb / 1048576.0));
        let os = std::fs::read_to_string("/proc/sys/kernel/osrelease").map_or(std::env::consts::OS.to_string(), |r| {
            format!("{} {}", std::env::consts::OS, r.trim())
        });
        let rustc = std::process::Command::new("rustc")
            .arg("-V")
            .current_dir(root)
            .output()
            .ok()
            .map_or("rustc (unknown version)".to_string(), |o| {
                String::from_utf8_lossy(&o.stdout).trim().to_string()
            });
        Self {
            cpu: format!("{model}, {cores} logical cores, {memory}, {vector}"),
            os,
            rustc,
            date: today(),
        }
    }
}

/// Today's date (UTC) as YYYY-MM-DD, from the system clock (Hinnant's civil-from-days).
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_date((secs / 86_400) as i64)
}

/// The proleptic Gregorian date `days` after 1970-01-01.
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// A time in milliseconds with three significant digits and a fitting unit.
pub fn time(ms: f64) -> String {
    let (v, unit) = if ms < 1e-3 {
        (ms * 1e6, "ns")
    } else if ms < 1.0 {
        (ms * 1e3, "µs")
    } else if ms < 1e3 {
        (ms, "ms")
    } else {
        (ms * 1e-3, "s")
    };
    format!("{} {unit}", significant(v))
}

/// Three significant digits, without a trailing `.0` for integers of three or more digits.
pub fn significant(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Median with min–max over rounds, e.g. `2.26 ms (2.20–2.31)`.
fn cell(values: Option<&Vec<f64>>) -> String {
    match values {
        Some(v) if !v.is_empty() => {
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if v.len() == 1 {
                time(v[0])
            } else {
                format!("{} ({}–{})", time(median(v)), time(lo), time(hi))
            }
        }
        _ => "not measured".into(),
    }
}

/// Peer time over ours: the ratio of the medians and the range of the per-round ratios.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratio {
    /// Peer median / our median.
    pub of_medians: f64,
    /// Smallest per-round ratio.
    pub lo: f64,
    /// Largest per-round ratio.
    pub hi: f64,
}

fn ratio(ours: Option<&Vec<f64>>, peer: Option<&Vec<f64>>) -> Option<Ratio> {
    let (o, p) = (ours?, peer?);
    if o.is_empty() || p.is_empty() {
        return None;
    }
    let per_round: Vec<f64> = o.iter().zip(p).map(|(a, b)| b / a).collect();
    Some(Ratio {
        of_medians: median(p) / median(o),
        lo: per_round.iter().copied().fold(f64::INFINITY, f64::min),
        hi: per_round.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

/// `**12.3× faster** (11.0–13.1)` or `0.43× (2.3× slower; 0.41–0.45)`; the range only when the
/// rounds differ.
fn ratio_text(r: Option<Ratio>) -> String {
    let Some(r) = r else {
        return "—".into();
    };
    let range = if r.lo == r.hi {
        String::new()
    } else {
        format!("{}–{}", significant(r.lo), significant(r.hi))
    };
    if r.of_medians >= 1.0 {
        let range = if range.is_empty() { range } else { format!(" ({range})") };
        format!("**{}× faster**{range}", significant(r.of_medians))
    } else {
        let range = if range.is_empty() { range } else { format!("; {range}") };
        format!(
            "{}× ({}× slower{range})",
            significant(r.of_medians),
            significant(1.0 / r.of_medians)
        )
    }
}

/// "met" / "**not met**" for a ratio against a floor; "not measured" without one.
fn verdict(r: Option<Ratio>, floor: f64) -> &'static str {
    match r {
        Some(r) if r.of_medians >= floor => "met",
        Some(_) => "**not met**",
        None => "not measured",
    }
}

/// Our DOP853 / Dopri5 on Kepler e = 0.6 over 100 periods at 1e-10: final position error and
/// evaluations (deterministic, so computed here rather than timed).
fn kepler_accuracy(method: AdaptiveMethod) -> Option<(f64, usize)> {
    let kepler = Kepler { eccentricity: 0.6 };
    let t_end = 100.0 * kepler.period();
    let solver = Adaptive::new(method).rtol(1e-10).atol(1e-10).build().ok()?;
    let sol = solver
        .solve(
            &HamiltonianField(kepler),
            0.0,
            t_end,
            kepler.initial_state().view(),
            Output::Final,
        )
        .ok()?;
    let exact = kepler.exact_state(t_end);
    let last = sol.last();
    let err = ((last[[0, 0]] - exact[0]).powi(2) + (last[[0, 1]] - exact[1]).powi(2)).sqrt();
    Some((err, sol.stats.evaluations))
}

/// The fixed-step methods, as the benches name them.
const FIXED_METHODS: [&str; 12] = [
    "explicit Euler",
    "explicit midpoint",
    "RK4",
    "symplectic Euler (kick-drift)",
    "symplectic Euler (drift-kick)",
    "Stormer-Verlet (leapfrog)",
    "Forest-Ruth / Yoshida 4",
    "Yoshida 6 (7 stages)",
    "Yoshida 8 (15 stages)",
    "implicit midpoint",
    "Gauss-Legendre 2 stages",
    "Gauss-Legendre 3 stages",
];

/// Builds tables while remembering which criterion ids they used.
struct Writer<'a> {
    m: &'a Measurements,
    text: String,
    used: BTreeSet<String>,
}

impl<'a> Writer<'a> {
    fn ours(&mut self, id: &str) -> Option<&'a Vec<f64>> {
        self.used.insert(id.to_string());
        self.m.ours.get(id)
    }
    fn peer(&self, id: &str) -> Option<&'a Vec<f64>> {
        self.m.peers.get(id)
    }
    fn line(&mut self, s: &str) {
        self.text.push_str(s);
        self.text.push('\n');
    }
    /// A table of (label, our id, peer id) rows: ours, the peer, and the ratio.
    fn comparison(&mut self, header: [&str; 3], rows: &[(&str, &str, Option<&str>)]) {
        self.line(&format!(
            "| {} | {} | {} | ratio (per-round range) |",
            header[0], header[1], header[2]
        ));
        self.line("|---|---|---|---|");
        for &(label, ours, peer) in rows {
            let o = self.ours(ours);
            let p = peer.and_then(|id| self.peer(id));
            let peer_cell = if peer.is_some() { cell(p) } else { "—".into() };
            self.line(&format!(
                "| {label} | {} | {peer_cell} | {} |",
                cell(o),
                ratio_text(ratio(o, p))
            ));
        }
    }
}

/// The whole report.
pub fn render(m: &Measurements, machine: &Machine, args: &BenchReportArgs, seconds: f64) -> String {
    let mut w = Writer {
        m,
        text: String::new(),
        used: BTreeSet::new(),
    };
    header(&mut w, machine, args, seconds);
    integrate(&mut w);
    sim(&mut w);
    tensor_and_dynamics(&mut w);
    graph(&mut w);
    generative(&mut w);
    others(&mut w);
    w.text
}

fn header(w: &mut Writer<'_>, machine: &Machine, args: &BenchReportArgs, seconds: f64) {
    let mut flags = format!("--rounds {}", args.rounds);
    if args.quick {
        flags.push_str(" --quick");
    }
    if args.no_peers {
        flags.push_str(" --no-peers");
    }
    w.line("# Benchmarks\n");
    w.line(&format!(
        "Generated by `cargo xtask bench-report {flags}` on {} in {:.0} min; do not edit by hand.\n",
        machine.date,
        seconds / 60.0
    ));
    w.line(&format!(
        "Machine: {}; {}; {}, release profile.\n",
        machine.cpu, machine.os, machine.rustc
    ));
    w.line(
        "Each of the rounds runs the whole criterion suite once (`cargo bench -p liouville-benches \
         --bench bench_main`; ours = criterion's median estimate), then every peer script in \
         `benches/peers/` once (the peer = the median of its timed repeats). A cell is the median \
         over rounds with the min–max over rounds in brackets; a ratio is the peer's median over \
         ours (> 1: we are faster), with the range of the per-round ratios. Speed targets live here \
         and in the benches, never in timed tests. The bench binary, like the `liouville` CLI, first \
         calls `liouville_tensor::host_memory::keep_freed_memory` (glibc keeps freed training \
         buffers for reuse instead of page-faulting fresh `mmap`s every step); a program using the \
         library calls it once itself.\n",
    );
    let peers: Vec<String> =
        w.m.peer_versions
            .iter()
            .map(|(script, v)| format!("`{script}`: {v}"))
            .collect();
    if !peers.is_empty() {
        w.line(&format!("Peers: {}.\n", peers.join("; ")));
    }
    for (script, why) in &w.m.peer_failures {
        w.line(&format!("Not measured: `{script}` ({why}).\n"));
    }
}

fn integrate(w: &mut Writer<'_>) {
    w.line("## liouville-integrate\n");
    w.line("### Against scipy `solve_ivp`, same problem, same tolerances\n");
    let kepler = "cpu_kepler_100_periods_rtol_1e-10";
    let pendulums = "cpu_pendulum_batch_10000_as_one_system_t10_rtol_1e-8";
    let rows = [
        (
            "Kepler e = 0.6, 100 periods, rtol = atol = 1e-10, DOP853",
            format!("{kepler}/DOP853"),
            "scipy_integrate.py/kepler/DOP853",
            Some(AdaptiveMethod::Dop853),
        ),
        (
            "same, Dormand–Prince 5(4) (scipy RK45)",
            format!("{kepler}/Dormand-Prince 5(4)"),
            "scipy_integrate.py/kepler/RK45",
            Some(AdaptiveMethod::Dopri5),
        ),
        (
            "10,000 pendulums as one system, t ∈ [0, 10], rtol = atol = 1e-8, DOP853",
            format!("{pendulums}/DOP853"),
            "scipy_integrate.py/pendulums/DOP853",
            None,
        ),
        (
            "same, Dormand–Prince 5(4) (scipy RK45)",
            format!("{pendulums}/Dormand-Prince 5(4)"),
            "scipy_integrate.py/pendulums/RK45",
            None,
        ),
    ];
    w.line("| problem and method | Liouville | scipy | ratio (per-round range) | final error: ours / scipy | f-evaluations: ours / scipy |");
    w.line("|---|---|---|---|---|---|");
    let mut kepler_ratios = Vec::new();
    for (label, ours, peer, method) in &rows {
        let o = w.ours(ours);
        let p = w.peer(peer);
        let r = ratio(o, p);
        let extras = w.m.peer_extras.get(*peer);
        let peer_error = extras.and_then(|e| e["error"].as_f64());
        let peer_err = peer_error.map_or("—".into(), |e| format!("{e:.2e}"));
        let peer_evals = extras
            .and_then(|e| e["evaluations"].as_u64())
            .map_or("—".into(), |n| n.to_string());
        let accuracy = method.and_then(kepler_accuracy);
        let (error_cell, evals_cell) = match accuracy {
            Some((e, n)) => (format!("position: {e:.2e} / {peer_err}"), format!("{n} / {peer_evals}")),
            None => (format!("max |ΔH|: scipy {peer_err}"), format!("scipy {peer_evals}")),
        };
        if method.is_some() {
            // The floor counts only at equal or smaller error.
            let as_accurate = matches!((accuracy, peer_error), (Some((a, _)), Some(b)) if a <= b);
            kepler_ratios.push(if as_accurate || r.is_none() {
                verdict(r, 50.0)
            } else {
                "**not met** (our error is larger)"
            });
        }
        w.line(&format!(
            "| {label} | {} | {} | {} | {error_cell} | {evals_cell} |",
            cell(o),
            cell(p),
            ratio_text(r)
        ));
    }
    w.line(&format!(
        "\nGoal (issue 2): on Kepler at least 50× less time than scipy at equal or smaller final error: \
         DOP853 {}, Dormand–Prince {}. The 10,000-pendulum system is bound on both sides by evaluating \
         sin on 10,000 values per stage (numpy's `sin` is vectorised, ours is a scalar deterministic \
         kernel), so Python's per-call overhead, which we remove, is negligible there.\n",
        kepler_ratios[0], kepler_ratios[1]
    ));

    w.line("### Every method, fixed step\n");
    w.line(
        "Kepler (e = 0.6), one period in 1,000 steps on a 1 × 4 state; and 10,000 pendulums \
         (q ∈ [-2.5, 2.5]) × 100 steps of dt = 0.01, split into row chunks over the cores (10⁶ \
         pendulum-steps, so the time in ms is also the time per pendulum-step in ns).\n",
    );
    w.line("| method | Kepler, 1,000 steps | 10,000 pendulums × 100 steps |");
    w.line("|---|---|---|");
    for name in FIXED_METHODS {
        let k = w.ours(&format!("cpu_kepler_one_period_1000_steps/{name}"));
        let p = w.ours(&format!("cpu_pendulum_batch_10000x100_steps/{name}"));
        w.line(&format!("| {name} | {} | {} |", cell(k), cell(p)));
    }
    let rhs = w.ours("cpu_kepler_one_period_1000_steps/rhs evaluation x1000");
    w.line(&format!(
        "\nOne Kepler right-hand-side evaluation alone, ×1,000: {}. On a 4-component state a step \
         costs a few evaluations plus the stage combinations; the gap between the RK4 row and four \
         evaluations is the per-stage bookkeeping, not arithmetic. The pendulum batch is bound by \
         `sin`: leapfrog does one force evaluation per step, Yoshida-8 fifteen, the implicit methods \
         one per stage per fixed-point iteration.\n",
        cell(rhs)
    ));

    w.line("### Integrator overhead on an expensive right-hand side (N-body gravity, N = 256)\n");
    let force = w.ours("cpu_nbody_256/force evaluation");
    let leapfrog = w.ours("cpu_nbody_256/Stormer-Verlet (leapfrog) step");
    let yoshida = w.ours("cpu_nbody_256/Forest-Ruth / Yoshida 4 step");
    w.line("| | median (min–max) | step / its force evaluations |");
    w.line("|---|---|---|");
    w.line(&format!(
        "| one force evaluation (direct sum, 32,640 pairs) | {} | — |",
        cell(force)
    ));
    let relative =
        |step: Option<&Vec<f64>>, forces: f64| -> Option<f64> { Some(median(step?) / (forces * median(force?))) };
    let (rl, ry) = (relative(leapfrog, 1.0), relative(yoshida, 3.0));
    let show = |r: Option<f64>| r.map_or("—".into(), |v| format!("{v:.2}"));
    w.line(&format!(
        "| leapfrog step (1 force evaluation, reused across steps) | {} | {} |",
        cell(leapfrog),
        show(rl)
    ));
    w.line(&format!(
        "| Yoshida-4 step (3 force evaluations) | {} | {} |",
        cell(yoshida),
        show(ry)
    ));
    let met = match (rl, ry) {
        (Some(a), Some(b)) if a.max(b) <= 1.1 => "met",
        (Some(_), Some(_)) => "**not met**",
        _ => "not measured",
    };
    w.line(&format!(
        "\nGoal (issue 2): a step costs no more than 1.1× its force evaluations: {met} (drifts, kicks \
         and the force-reuse check are O(N) against the O(N²) force).\n"
    ));

    w.line("### Against diffrax, single states and ensembles (issue 14)\n");
    w.line(
        "[`docs/benchmarks/integrate-vs-diffrax.md`](benchmarks/integrate-vs-diffrax.md) is \
         regenerated by this command (unless `--no-diffrax`) with its own generator, \
         `benches/scripts/integrate_vs_diffrax.py`, which alternates the criterion groups \
         `cpu_kepler_100_periods_single_state`, `cpu_arenstorf_one_period` and \
         `cpu_lorenz_ensemble_10000_t10_rtol_1e-8` with `benches/peers/diffrax_integrate.py` (jax and \
         diffrax, f64, jit, CPU) and lists, per problem, both times, the speed-up and whether our \
         error is at most diffrax's. Those groups' figures from this run:\n",
    );
    w.line("| benchmark | median (min–max) |");
    w.line("|---|---|");
    let diffrax_ids: Vec<String> =
        w.m.ours
            .keys()
            .filter(|id| {
                id.starts_with("cpu_kepler_100_periods_single_state/")
                    || id.starts_with("cpu_arenstorf_one_period/")
                    || id.starts_with("cpu_lorenz_ensemble_10000_t10_rtol_1e-8/")
            })
            .cloned()
            .collect();
    for id in diffrax_ids {
        let v = w.ours(&id);
        w.line(&format!("| `{id}` | {} |", cell(v)));
    }
    w.line("");
}

fn sim(w: &mut Writer<'_>) {
    w.line("## liouville-sim\n");
    w.line(
        "Peer: `benches/peers/numpy_sim.py`, numpy's vectorised equivalents. numpy's literal leapfrog \
         step evaluates the force twice; ours reuses the second force of a step as the first of the \
         next, so a step is compared with one numpy force evaluation.\n",
    );
    w.comparison(
        ["benchmark", "Liouville", "numpy"],
        &[
            (
                "10,000 pendulums × 1,000 RK4 steps, every state stored (10,000 × 1,001 × 2 f64 = 153 MiB)",
                "cpu_sim_pendulum_10000x1000_rk4_stored/integrate, record every step",
                Some("numpy_sim.py/pendulum_rk4_stored"),
            ),
            (
                "N-body gravity N = 256, one force evaluation",
                "cpu_sim_nbody_3d/force evaluation/256",
                Some("numpy_sim.py/nbody/256/force"),
            ),
            (
                "N-body gravity N = 256, one leapfrog step (numpy: one force evaluation)",
                "cpu_sim_nbody_3d/leapfrog step/256",
                Some("numpy_sim.py/nbody/256/force"),
            ),
            (
                "N-body gravity N = 1,024, one force evaluation",
                "cpu_sim_nbody_3d/force evaluation/1024",
                Some("numpy_sim.py/nbody/1024/force"),
            ),
            (
                "N-body gravity N = 1,024, one leapfrog step (numpy: one force evaluation)",
                "cpu_sim_nbody_3d/leapfrog step/1024",
                Some("numpy_sim.py/nbody/1024/force"),
            ),
        ],
    );
    let pend = ratio(
        w.m.ours
            .get("cpu_sim_pendulum_10000x1000_rk4_stored/integrate, record every step"),
        w.peer("numpy_sim.py/pendulum_rk4_stored"),
    );
    let nbody = [
        ("cpu_sim_nbody_3d/leapfrog step/256", "numpy_sim.py/nbody/256/force"),
        ("cpu_sim_nbody_3d/leapfrog step/1024", "numpy_sim.py/nbody/1024/force"),
    ]
    .map(|(o, p)| ratio(w.m.ours.get(o), w.peer(p)));
    let all = |floor: f64| -> &'static str {
        let rs = [pend, nbody[0], nbody[1]];
        if rs.iter().any(Option::is_none) {
            "not measured"
        } else if rs.iter().all(|r| r.is_some_and(|r| r.of_medians >= floor)) {
            "met"
        } else {
            "**not met**"
        }
    };
    w.line(&format!(
        "\nRequired (issue 3): at least 3× faster than numpy on each: {}; goal 10×: {} (pendulum batch \
         {}, N-body leapfrog N = 256 {}, N = 1,024 {}). The pendulum batch is bound by its 40 million \
         sines and by writing 153 MiB; the N-body direct sum runs in parallel over bodies, each \
         summing all others in a fixed order (deterministic, no third-law halving).\n",
        all(3.0),
        all(10.0),
        verdict(pend, 10.0),
        verdict(nbody[0], 10.0),
        verdict(nbody[1], 10.0)
    ));
}

fn tensor_and_dynamics(w: &mut Writer<'_>) {
    w.line("## liouville-tensor: one training step\n");
    w.line(
        "Both sides: 2 → 200 → 200 → 1 (HNN) or → 2 (MLP), tanh, batch 256, float32, orthogonal \
         init, Adam, one full step (forward, input gradient where needed, loss, backward, update). \
         Peer: `benches/peers/torch_hnn.py`, PyTorch on CPU with `torch.set_num_threads(2)`, the HNN \
         by `autograd.grad(create_graph=True)`.\n",
    );
    w.comparison(
        ["step", "Liouville (dfdx 0.13)", "PyTorch"],
        &[
            (
                "HNN training step",
                "cpu_train_step_2x200x200_batch256_f32/hnn",
                Some("torch_hnn.py/hnn"),
            ),
            (
                "plain MLP regression step",
                "cpu_train_step_2x200x200_batch256_f32/mlp",
                Some("torch_hnn.py/mlp"),
            ),
        ],
    );
    let hnn = ratio(
        w.m.ours.get("cpu_train_step_2x200x200_batch256_f32/hnn"),
        w.peer("torch_hnn.py/hnn"),
    );
    let mlp = ratio(
        w.m.ours.get("cpu_train_step_2x200x200_batch256_f32/mlp"),
        w.peer("torch_hnn.py/mlp"),
    );
    // The FLOP-bound floor: the HNN step is six 256×200·200×200 products (forward, input
    // gradient, and the backward of both), the MLP step three; 2 flops per multiply-add.
    let product = 2.0 * 256.0 * 200.0 * 200.0;
    let (hnn_mflop, mlp_mflop) = (6.0 * product / 1e6, 3.0 * product / 1e6);
    // One AVX-512 core on one such product: 146 GFLOP/s (gemm 0.19 x86-v4, issue 15).
    let floor_ms = |mflop: f64| mflop / 146e3 * 1e3;
    w.line(&format!(
        "\nGoal (issue 15): at least 1.5× faster than PyTorch (2 threads, same model) on the HNN and \
         the plain MLP step, 2× or more the aim. HNN step: 1.5× {}, 2× {}; MLP step: 1.5× {}, 2× {}. \
         FLOP-bound floor: the HNN step is ≈ {hnn_mflop:.0} MFLOP of matrix products (six \
         256×200·200×200), the MLP step ≈ {mlp_mflop:.0}; at the 146 GFLOP/s one AVX-512 core reached \
         on one such product (gemm 0.19) that is {:.2} ms and {:.2} ms on one core, half on two. \
         Our products run on AVX-512 through `shims/gemm`, on the calling thread (faster at these sizes \
         than dfdx's rayon split), and the hidden layers are fused (`liouville_tensor::fused`): the \
         rest of the step is dfdx's element-wise kernels, one pass and one allocation per op.\n",
        verdict(hnn, 1.5),
        verdict(hnn, 2.0),
        verdict(mlp, 1.5),
        verdict(mlp, 2.0),
        floor_ms(hnn_mflop),
        floor_ms(mlp_mflop),
    ));

    w.line("## liouville-dynamics: one training step per model\n");
    w.line(
        "One call of `fit` with `steps: 1` (batch gather, loss, backward, Adam), batch 256, hidden \
         200-200, f32 (the SympNets f64). Peers: `torch_hnn.py` for the baseline and the HNN, \
         `torch_dynamics.py` for the rest, written the way the reference implementations compute \
         input derivatives (`autograd.grad(create_graph=True)`, `torch.func.hessian` under `vmap` for \
         the LNN; the neural ODE by backprop through the same fixed RK4 grid as torchdiffeq's `rk4`).\n",
    );
    let g = "cpu_dynamics_train_step_batch256";
    let rows: Vec<(String, String, Option<&str>)> = [
        (
            "baseline MLP field (2 → 200 → 200 → 2)",
            "baseline",
            Some("torch_hnn.py/mlp"),
        ),
        ("HNN", "hnn", Some("torch_hnn.py/hnn")),
        ("dissipative / port-Hamiltonian HNN", "dissipative_hnn", None),
        ("LNN, 1 dof, kinetic prior", "lnn", Some("torch_dynamics.py/lnn")),
        ("DeLaN, 1 dof", "delan", Some("torch_dynamics.py/delan")),
        (
            "neural ODE, backprop through 4 observations × 2 RK4 steps",
            "neural_ode_backprop_4obs_x_2rk4",
            Some("torch_dynamics.py/neural_ode_backprop"),
        ),
        (
            "neural ODE, adjoint (same windows)",
            "neural_ode_adjoint_4obs_x_2rk4",
            None,
        ),
        (
            "symplectic RNN, 4 × 2 leapfrog steps",
            "srnn_4obs_x_2leapfrog",
            Some("torch_dynamics.py/srnn"),
        ),
        (
            "partitioned neural ODE, 4 × 2 leapfrog steps",
            "leapfrog_ode_4obs_x_2leapfrog",
            Some("torch_dynamics.py/leapfrog_ode"),
        ),
        ("LA-SympNet, f64, 8 layers × 4 shears", "la_sympnet_f64_8x4", None),
        ("G-SympNet, f64, 8 layers × width 32", "g_sympnet_f64_8x32", None),
    ]
    .into_iter()
    .map(|(label, id, peer)| (label.to_string(), format!("{g}/{id}"), peer))
    .collect();
    let borrowed: Vec<(&str, &str, Option<&str>)> = rows.iter().map(|(l, i, p)| (l.as_str(), i.as_str(), *p)).collect();
    w.comparison(["model (one training step)", "Liouville", "PyTorch"], &borrowed);
    let floor = |id: &str, peer: &str| verdict(ratio(w.m.ours.get(&format!("{g}/{id}")), w.peer(peer)), 1.0);
    w.line(&format!(
        "\nRequired (issue 15): at least PyTorch's speed for the neural ODE (backprop) {}, the SRNN {} \
         and DeLaN {}.",
        floor(
            "neural_ode_backprop_4obs_x_2rk4",
            "torch_dynamics.py/neural_ode_backprop"
        ),
        floor("srnn_4obs_x_2leapfrog", "torch_dynamics.py/srnn"),
        floor("delan", "torch_dynamics.py/delan"),
    ));
    let rollout = w.ours("cpu_dynamics_rollout_hnn_200x200/15 trajectories, t in [0, 20], DOP853 rtol 1e-6");
    w.line(&format!(
        "\nRollout: a 2 → 200 → 200 → 1 HNN, 15 trajectories together over t ∈ [0, 20] with DOP853 at \
         rtol 1e-6 (100 output times): {}. The neural ODE and SRNN steps are 32 network evaluations \
         each, so they stand on the same kernels as the plain MLP step; the adjoint trades time for \
         memory that does not grow with the number of solver steps.\n",
        cell(rollout)
    ));
}

fn graph(w: &mut Writer<'_>) {
    w.line("## liouville-graph\n");
    let cells = w.ours("cpu_graph_radius_2d_10_neighbours/cell_list/10000");
    let cells_big = w.ours("cpu_graph_radius_2d_10_neighbours/cell_list/100000");
    let scan = w.ours("cpu_graph_radius_2d_10_neighbours/scan/10000");
    w.line("| benchmark | median (min–max) |");
    w.line("|---|---|");
    w.line(&format!(
        "| radius graph, 2-D, ≈ 10 neighbours, 10,000 particles, cell list | {} |",
        cell(cells)
    ));
    w.line(&format!("| same, 100,000 particles, cell list | {} |", cell(cells_big)));
    w.line(&format!("| same, 10,000 particles, O(N²) scan | {} |", cell(scan)));
    let speedup = ratio(cells, scan);
    let linear = match (cells, cells_big) {
        (Some(a), Some(b)) => format!("{:.1}", median(b) / median(a)),
        _ => "—".into(),
    };
    w.line(&format!(
        "\nThe cell list against the scan at 10,000 particles: {}; ten times the particles cost {linear}× \
         the time (O(N) would be 10×).\n",
        ratio_text(speedup)
    ));
    w.line(
        "One full GN block (Battaglia et al. 2018: edge, node and global updates, sum aggregation) \
         forward and backward to the parameters, on 256 complete graphs of 8 nodes (14,336 edges), \
         node/edge/global features 4/2/1, every φ in → 64 → 64 with ReLU, f32, loss Σv′ + Σu′. \
         Ours: gathers by dfdx's `gather`, the segment sums and concatenations as host passes, fused \
         layers. Peer: `benches/peers/torch_graph.py`, the same block in PyTorch with \
         `index_select` gathers and `index_add_` scatters (as jraph's and PyG's sums are written), \
         2 threads.\n",
    );
    w.comparison(
        ["step", "Liouville", "PyTorch"],
        &[(
            "GN block forward + backward",
            "cpu_graph_gn_block_256x8_complete_f32/forward_backward",
            Some("torch_graph.py/gn_block"),
        )],
    );
    w.line("");
}

fn generative(w: &mut Writer<'_>) {
    w.line("## liouville-generative: one flow training step\n");
    w.line(
        "A RealNVP on 2-D data: 8 affine couplings with alternating halves, conditioners \
         1 → 64 → 64 → 2 (tanh), soft-clamped log-scales, standard normal base, batch 256, f32; one \
         step = forward, mean NLL, backward, Adam. Peer: `benches/peers/torch_flows.py`, the same \
         flow written out in PyTorch (as nflows' and FrEIA's couplings compute it), 2 threads. \
         Beside it a neural spline flow: 4 rational-quadratic spline couplings (8 bins on ±4, \
         identity tails), conditioners 1 → 64 → 64 → 23, the same batch and step; its peer is \
         nflows' `unconstrained_rational_quadratic_spline` written out in the same script.\n",
    );
    let (ours, peer) = (
        "cpu_flow_step_realnvp_8x64_batch256_f32/realnvp",
        "torch_flows.py/realnvp",
    );
    w.comparison(
        ["step", "Liouville", "PyTorch"],
        &[
            ("RealNVP maximum-likelihood step", ours, Some(peer)),
            (
                "neural spline flow maximum-likelihood step",
                "cpu_flow_step_spline_4x64_bins8_batch256_f32/spline",
                Some("torch_flows.py/spline"),
            ),
        ],
    );
    let r = ratio(w.m.ours.get(ours), w.peer(peer));
    w.line(&format!(
        "\nGoal (issue 11): at least 2× faster than PyTorch: {}.\n",
        verdict(r, 2.0)
    ));
    w.line(
        "## liouville-generative: one RBM training epoch
",
    );
    w.line(
        "A binary RBM, 64 visible × 64 hidden units, one CD-1 epoch over 10,000 rows (8 noisy \
         prototypes) in batches of 100: per batch p(h|v), Bernoulli h and v', p(h|v'), the moment \
         gradient and an SGD update; then the reconstruction and free-energy monitors of 2,000 \
         rows. Ours: f64 host kernels on seeded streams (`rbm::contrastive`: gemm 0.19 products \
         over the whole minibatch into reused buffers, on the calling thread at this size), the \
         update through the tensor optimiser's host pass. \
         Peer: `benches/peers/torch_rbm.py`, QuCumber's CD-k update written out in PyTorch, \
         2 threads, in f64 and in f32 (PyTorch's default).\n",
    );
    let (ours, f64_peer, f32_peer) = (
        "cpu_rbm_cd1_epoch_64x64_rows10000_batch100_f64/cd1",
        "torch_rbm.py/cd1_f64",
        "torch_rbm.py/cd1_f32",
    );
    w.comparison(
        ["epoch", "Liouville (f64)", "PyTorch"],
        &[
            ("CD-1 epoch, PyTorch in f64", ours, Some(f64_peer)),
            ("CD-1 epoch, PyTorch in f32", ours, Some(f32_peer)),
        ],
    );
    let worst = match (
        ratio(w.m.ours.get(ours), w.peer(f64_peer)),
        ratio(w.m.ours.get(ours), w.peer(f32_peer)),
    ) {
        (Some(a), Some(b)) => Some(if a.of_medians <= b.of_medians { a } else { b }),
        _ => None,
    };
    w.line(&format!(
        "\nGoal (issue 12): at least 2× faster than PyTorch (against its faster f32 run): {}.\n",
        verdict(worst, 2.0)
    ));
    w.line("## liouville-generative: one WGAN-GP critic step\n");
    w.line(
        "gan_toy.py's size (Gulrajani et al. 2017): generator and critic 2 → 512 → 512 → 512 → \
         (2 | 1), ReLU, batch 256, f32, λ = 0.1; one step = G(z) without a tape, interpolates, the \
         critic loss with the gradient penalty (ours: the critic's exact input gradient as traced \
         ops; PyTorch: autograd with `create_graph=True`), backward, Adam (0.5, 0.9). Peer: \
         `benches/peers/torch_gan.py`, 2 threads.\n",
    );
    let (ours, peer) = (
        "cpu_wgan_gp_critic_step_width512_batch256_f32/critic",
        "torch_gan.py/critic_step",
    );
    w.comparison(
        ["step", "Liouville", "PyTorch"],
        &[("WGAN-GP critic step", ours, Some(peer))],
    );
    let r = ratio(w.m.ours.get(ours), w.peer(peer));
    w.line(&format!(
        "\nGoal (issue 12): at least 2× faster than PyTorch: {}.\n",
        verdict(r, 2.0)
    ));
}

/// Benchmarks no table above used, so that a new bench is never silently left out.
fn others(w: &mut Writer<'_>) {
    let rest: Vec<String> = w.m.ours.keys().filter(|id| !w.used.contains(*id)).cloned().collect();
    if rest.is_empty() {
        return;
    }
    w.line("## Other benchmarks\n");
    w.line("| benchmark | median (min–max) |");
    w.line("|---|---|");
    for id in rest {
        let v = w.m.ours.get(&id);
        w.line(&format!("| `{id}` | {} |", cell(v)));
    }
    w.line("");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> BenchReportArgs {
        BenchReportArgs {
            rounds: 2,
            python: "python3".into(),
            no_peers: false,
            no_diffrax: true,
            quick: false,
            out: "x.md".into(),
        }
    }

    fn machine() -> Machine {
        Machine {
            cpu: "test CPU".into(),
            os: "linux".into(),
            rustc: "rustc 1.0".into(),
            date: "2026-12-01".into(),
        }
    }

    #[test]
    fn times_pick_a_unit_and_three_digits() {
        assert_eq!(time(2.2634), "2.26 ms");
        assert_eq!(time(0.0456), "45.6 µs");
        assert_eq!(time(0.0000871), "87.1 ns");
        assert_eq!(time(1234.0), "1.23 s");
        assert_eq!(time(271.4), "271 ms");
    }

    #[test]
    fn civil_dates_from_days() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(20_423), "2025-12-01");
        assert_eq!(civil_date(11_016), "2000-02-29");
    }

    #[test]
    fn ratios_are_peer_over_ours_per_round() {
        let r = ratio(Some(&vec![1.0, 2.0, 4.0]), Some(&vec![100.0, 100.0, 100.0])).unwrap();
        assert!((r.of_medians - 50.0).abs() < 1e-12);
        assert!((r.lo - 25.0).abs() < 1e-12 && (r.hi - 100.0).abs() < 1e-12);
        assert_eq!(verdict(Some(r), 50.0), "met");
        assert_eq!(verdict(Some(r), 51.0), "**not met**");
        assert!(ratio_text(Some(r)).starts_with("**50.0× faster**"));
        let slow = ratio(Some(&vec![2.0]), Some(&vec![1.0])).unwrap();
        assert_eq!(ratio_text(Some(slow)), "0.50× (2.00× slower)");
        assert_eq!(ratio(None, Some(&vec![1.0])), None);
    }

    #[test]
    fn report_fills_tables_states_goals_and_lists_unused_benches() {
        let mut m = Measurements::default();
        m.ours
            .insert("cpu_kepler_100_periods_rtol_1e-10/DOP853".into(), vec![2.0, 2.2]);
        m.peers
            .insert("scipy_integrate.py/kepler/DOP853".into(), vec![200.0, 300.0]);
        m.peer_extras.insert(
            "scipy_integrate.py/kepler/DOP853".into(),
            serde_json::json!({"error": 4.37e-5, "evaluations": 66734}),
        );
        m.ours
            .insert("cpu_train_step_2x200x200_batch256_f32/hnn".into(), vec![4.0, 4.0]);
        m.peers.insert("torch_hnn.py/hnn".into(), vec![2.0, 2.0]);
        m.ours.insert("cpu_new_thing/x".into(), vec![1.0, 1.0]);
        m.peer_failures.insert("torch_dynamics.py".into(), "no torch".into());
        let text = render(&m, &machine(), &args(), 60.0);
        assert!(
            text.contains("Generated by `cargo xtask bench-report --rounds 2`"),
            "{text}"
        );
        assert!(text.contains("test CPU"));
        // Kepler DOP853: 250 / 2.1 ≈ 119×, per round 100–136; scipy's extras and our own accuracy.
        assert!(text.contains("**119× faster** (100–136)"), "{text}");
        assert!(text.contains("position: 1.52e-5 / 4.37e-5"), "{text}");
        assert!(
            text.contains("57326 / 66734"),
            "our evaluations computed, scipy's reported: {text}"
        );
        assert!(text.contains("DOP853 met, Dormand–Prince not measured"), "{text}");
        // The HNN step is 2× slower than PyTorch: goal not met, stated.
        assert!(text.contains("0.50× (2.00× slower"), "{text}");
        assert!(text.contains("HNN step: 1.5× **not met**, 2× **not met**"), "{text}");
        assert!(text.contains("MLP step: 1.5× not measured"), "{text}");
        // The floor: six 256×200·200×200 products = 123 MFLOP, 0.84 ms on one core at 146 GFLOP/s.
        assert!(text.contains("≈ 123 MFLOP") && text.contains("0.84 ms"), "{text}");
        assert!(
            text.contains("`cpu_new_thing/x`"),
            "an unused bench must be listed: {text}"
        );
        assert!(text.contains("Not measured: `torch_dynamics.py` (no torch)"), "{text}");
        assert!(text.contains("| explicit Euler | not measured | not measured |"));
        assert!(
            text.contains("Goal (issue 11): at least 2× faster than PyTorch: not measured"),
            "{text}"
        );
    }
}
