"""Peer measurements for docs/BENCHMARKS.md: scipy.integrate.solve_ivp on the problems of
benches/benches/benchmarks/integrate.rs, timed in the same session as `cargo bench`.

Usage: python3 benches/peers/scipy_integrate.py [--json PATH]  (needs numpy and scipy; prints a
Markdown table; `--json` also writes every timing for `cargo xtask bench-report`)
"""
import argparse
import json
import statistics
import time

import numpy as np
import scipy
from scipy.integrate import solve_ivp

E = 0.6
PERIOD = 2 * np.pi


def kepler_rhs(t, y):
    q1, q2, p1, p2 = y
    r3 = (q1 * q1 + q2 * q2) ** 1.5
    return [p1, p2, -q1 / r3, -q2 / r3]


def kepler_exact(t, e=E):
    m = t - 2 * np.pi * round(t / (2 * np.pi))
    big_e = m
    for _ in range(50):
        d = (big_e - e * np.sin(big_e) - m) / (1 - e * np.cos(big_e))
        big_e -= d
        if abs(d) < 1e-16:
            break
    return np.array([np.cos(big_e) - e, np.sqrt(1 - e * e) * np.sin(big_e)])


def pendulum_rhs(t, y):
    n = y.size // 2
    q, p = y[:n], y[n:]
    return np.concatenate([p, -np.sin(q)])


def timed(fn, repeats):
    times = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", help="also write every timing (seconds) here")
    args = parser.parse_args()
    rows = {}
    print(f"scipy {scipy.__version__}, numpy {np.__version__}")
    print("| problem | method | median time | final error | f-evaluations |")
    print("|---|---|---|---|---|")
    y0 = [1 - E, 0.0, 0.0, np.sqrt((1 + E) / (1 - E))]
    t_end = 100 * PERIOD
    exact = kepler_exact(t_end)
    for method in ["DOP853", "RK45"]:
        run = lambda: solve_ivp(kepler_rhs, (0, t_end), y0, method=method, rtol=1e-10, atol=1e-10)
        times, sol = timed(run, 3)
        t = statistics.median(times)
        err = np.linalg.norm(sol.y[:2, -1] - exact)
        rows[f"kepler/{method}"] = {"times": times, "error": float(err), "evaluations": int(sol.nfev)}
        print(f"| Kepler e=0.6, 100 periods, rtol=atol=1e-10 | {method} | {t * 1e3:.1f} ms | {err:.2e} | {sol.nfev} |")

    rng = np.random.default_rng(0)
    n = 10_000
    q0 = rng.uniform(-2.5, 2.5, n)
    p0 = rng.uniform(-1.0, 1.0, n)
    y0 = np.concatenate([q0, p0])
    for method in ["DOP853", "RK45"]:
        run = lambda: solve_ivp(pendulum_rhs, (0, 10.0), y0, method=method, rtol=1e-8, atol=1e-8)
        times, sol = timed(run, 3)
        t = statistics.median(times)
        h = 0.5 * sol.y[n:, -1] ** 2 + 1 - np.cos(sol.y[:n, -1])
        h0 = 0.5 * p0**2 + 1 - np.cos(q0)
        rows[f"pendulums/{method}"] = {"times": times, "error": float(np.max(np.abs(h - h0))),
                                       "evaluations": int(sol.nfev)}
        print(
            f"| 10,000 pendulums as one system, t in [0, 10], rtol=atol=1e-8 | {method} | {t * 1e3:.1f} ms "
            f"| max dH {np.max(np.abs(h - h0)):.2e} | {sol.nfev} |"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"versions": f"scipy {scipy.__version__}, numpy {np.__version__}", "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
