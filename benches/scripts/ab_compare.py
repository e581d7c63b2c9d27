#!/usr/bin/env python3
"""Back-to-back A/B of two builds of the criterion bench binary (e.g. before and after a change).

Runs the two binaries alternately, `--rounds` times each, with the same criterion filter, reads
each benchmark's median estimate (the middle of criterion's `time: [lo mid hi]`), and prints a
markdown table: median and min–max over the rounds for each build, and the ratio of medians.

    cargo bench -p liouville-benches --no-run          # note the bench_main binary it prints
    python3 benches/scripts/ab_compare.py --old OLD_BIN --new NEW_BIN \
        --filter cpu_train_step_2x200x200 --rounds 6
"""
import argparse
import re
import statistics
import subprocess

UNITS = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}


def run(binary: str, filt: str) -> dict:
    out = subprocess.run([binary, "--bench", filt, "--noplot"], capture_output=True, text=True, check=True).stdout
    results, name = {}, None
    for line in out.splitlines():
        head = line.split()
        if head and not line.startswith(" ") and "time:" not in line:
            name = head[0]
        m = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", line)
        if m and name:
            results[name] = float(m.group(1)) * UNITS[m.group(2)]
    return results


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--old", required=True)
    p.add_argument("--new", required=True)
    p.add_argument("--filter", required=True)
    p.add_argument("--rounds", type=int, default=6)
    a = p.parse_args()
    old, new = {}, {}
    for _ in range(a.rounds):
        for store, binary in ((old, a.old), (new, a.new)):
            for k, v in run(binary, a.filter).items():
                store.setdefault(k, []).append(v)
    print(f"| benchmark | before: median (min–max), ms | after: median (min–max), ms | after / before |")
    print("|---|---|---|---|")
    for k in old:
        o, n = old[k], new.get(k, [])
        if not n:
            continue
        mo, mn = statistics.median(o), statistics.median(n)
        print(f"| `{k}` | {mo:.2f} ({min(o):.2f}–{max(o):.2f}) | {mn:.2f} ({min(n):.2f}–{max(n):.2f}) | {mn / mo:.2f} |")
    print(f"\n{a.rounds} rounds each, alternating before/after.")


if __name__ == "__main__":
    main()
