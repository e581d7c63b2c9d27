#!/usr/bin/env python3
"""Generates docs/benchmarks/integrate-vs-diffrax.md: our single-state and ensemble solvers against
diffrax (JAX, f64, jit, CPU), measured back to back in one session.

Each round runs the criterion groups once and the diffrax script once, alternately, so machine
noise hits both sides alike. Reported: the median over rounds of criterion's median (ours) and
the median over all timed diffrax calls, each with its min-max; the final errors come from
`examples/small_system_errors.rs` (ours, deterministic) and the diffrax script.

    python3 -m pip install jax diffrax            # once
    python3 benches/scripts/integrate_vs_diffrax.py --rounds 3 [--python PYTHON]
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile

UNITS = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FILTER = "cpu_kepler_100_periods_single_state|cpu_arenstorf_one_period|cpu_lorenz_ensemble_10000"
OUT = os.path.join(ROOT, "docs", "benchmarks", "integrate-vs-diffrax.md")

# (problem, our criterion id, our method/tol key, diffrax key)
PAIRS = [
    ("Kepler e=0.6, 100 periods", "cpu_kepler_100_periods_single_state/DOP853/1e-10", "kepler/Dopri8/1e-10"),
    ("Kepler e=0.6, 100 periods", "cpu_kepler_100_periods_single_state/DOP853/5e-11", "kepler/Dopri8/1e-10"),
    ("Kepler e=0.6, 100 periods", "cpu_kepler_100_periods_single_state/Dormand-Prince 5(4)/1e-10", "kepler/Dopri5/1e-10"),
    ("Arenstorf, one period", "cpu_arenstorf_one_period/DOP853/1e-13", "arenstorf/Dopri8/1e-13"),
    ("Arenstorf, one period", "cpu_arenstorf_one_period/DOP853/1e-13", "arenstorf/Dopri8/1e-12"),
    ("Arenstorf, one period", "cpu_arenstorf_one_period/DOP853/1e-13", "arenstorf/Dopri8/1e-11"),
    ("Arenstorf, one period", "cpu_arenstorf_one_period/Dormand-Prince 5(4)/1e-13", "arenstorf/Dopri5/1e-13"),
    ("10,000 Lorenz-63, t in [0, 10]", "cpu_lorenz_ensemble_10000_t10_rtol_1e-8/Dormand-Prince 5(4)", "lorenz_ensemble/Dopri5/1e-08"),
    ("10,000 Lorenz-63, t in [0, 10]", "cpu_lorenz_ensemble_10000_t10_rtol_1e-8/DOP853", "lorenz_ensemble/Dopri8/1e-08"),
]


def sh(cmd, **kw):
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True, **kw).stdout


def criterion_medians(binary, filt):
    """Criterion's median estimate (ms) per benchmark id; ids may contain spaces."""
    out = subprocess.run([binary, "--bench", filt, "--noplot"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    results, name = {}, None
    for line in out.splitlines():
        if "time:" in line:
            prefix = line.split("time:")[0].strip()
            name = prefix or name
            m = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", line)
            if m and name:
                results[name] = float(m.group(1)) * UNITS[m.group(2)]
        elif line.strip() and not line.startswith(" ") and not line.startswith("Benchmarking"):
            name = line.strip()
    return results


def bench_binary():
    out = subprocess.run(["cargo", "bench", "-p", "liouville-benches", "--bench", "bench_main", "--no-run"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stderr
    return re.search(r"Executable .*\((\S+)\)", out).group(1)


def machine():
    model = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def ms(v):
    return f"{v:.3g} ms" if v < 100 else f"{v:.0f} ms"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    ours_info = {r["group"] + "/" + r["id"]: r for r in json.loads(
        sh(["cargo", "run", "--release", "-q", "-p", "liouville-benches", "--example", "small_system_errors"]))}
    binary = os.path.join(ROOT, bench_binary())
    ours, theirs, versions = {}, {}, {}
    for k in range(args.rounds):
        print(f"round {k + 1}/{args.rounds}: criterion", file=sys.stderr)
        for name, value in criterion_medians(binary, FILTER).items():
            ours.setdefault(name, []).append(value)
        print(f"round {k + 1}/{args.rounds}: diffrax", file=sys.stderr)
        with tempfile.NamedTemporaryFile(suffix=".json") as f:
            sh([args.python, "benches/peers/diffrax_integrate.py", "--json", f.name])
            data = json.load(open(f.name))
        versions = {"jax": data["jax"], "diffrax": data["diffrax"]}
        for key, row in data["rows"].items():
            entry = theirs.setdefault(key, {"times": [], "error": row["error"], "steps": row["steps"]})
            entry["times"] += [t * 1e3 for t in row["times"]]

    lines = [
        "# liouville-integrate against diffrax",
        "",
        f"Generated by `python3 benches/scripts/integrate_vs_diffrax.py --rounds {args.rounds}` on "
        f"{datetime.date.today().isoformat()}; machine: {machine()}; diffrax {versions.get('diffrax')}, "
        f"jax {versions.get('jax')} (CPU, f64, `jax.jit`, timed after compilation, PID controller). "
        "Ours: criterion medians of the single-state API (`Adaptive::solve_state`) and the ensemble "
        "API (`Adaptive::solve_ensemble`, rayon over all cores); diffrax: `diffeqsolve`, the ensemble "
        "under `jax.vmap`. Both sides use rtol = atol = the tolerance shown and the same right-hand "
        "sides. Median over rounds (ours) or calls (diffrax), min-max in brackets.",
        "",
        "| problem | ours | our error | our time | diffrax | diffrax error | diffrax time | speed-up | our error ≤ theirs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for problem, our_id, their_key in PAIRS:
        mine, info, other = ours.get(our_id), ours_info.get(our_id), theirs.get(their_key)
        if not (mine and info and other):
            lines.append(f"| {problem} | {our_id} | missing | | {their_key} | | | | |")
            continue
        mt, tt = statistics.median(mine), statistics.median(other["times"])
        method_tol = our_id.split("/", 1)[1]
        if info["error"] is None:
            err, their_err, ok = "-", "-", "-"
        else:
            err, their_err = f"{info['error']:.2e}", f"{other['error']:.2e}"
            ok = "yes" if info["error"] <= other["error"] else "**no**"
        lines.append(
            f"| {problem} | {method_tol} | {err} | {ms(mt)} [{ms(min(mine))}-{ms(max(mine))}] | "
            f"{their_key.split('/', 1)[1]} | {their_err} | {ms(tt)} [{ms(min(other['times']))}-{ms(max(other['times']))}] | "
            f"{tt / mt:.1f}x | {ok} |")
    lines += ["", "Steps: ours " + ", ".join(
        f"{k.split('/', 1)[1]}: {v.get('steps', str(v.get('steps_min')) + '-' + str(v.get('steps_max')))}"
        for k, v in ours_info.items()) + "; diffrax " + ", ".join(f"{k}: {v['steps']}" for k, v in theirs.items()) + "."]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
