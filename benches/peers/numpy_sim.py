"""Peer measurements for docs/BENCHMARKS.md (liouville-sim): numpy's vectorised equivalents of
benches/benches/benchmarks/sim.rs, timed in the same session as `cargo bench`.

Usage: python3 benches/peers/numpy_sim.py [--json PATH]  (`--json` also writes every timing, in
seconds, for `cargo xtask bench-report`)
"""
import argparse
import json
import statistics

import numpy as np

from timing import timed


def pendulum_rk4(n=10_000, steps=1_000, dt=0.01):
    """RK4 on n pendulums (H = p^2/2 + 1 - cos q), storing every state: (steps+1, n, 2) float64."""
    rng = np.random.default_rng(0)
    y = np.stack([rng.uniform(-2.5, 2.5, n), rng.uniform(-1, 1, n)], axis=1)
    out = np.empty((steps + 1, n, 2))
    out[0] = y

    def f(y):
        return np.stack([y[:, 1], -np.sin(y[:, 0])], axis=1)

    for k in range(steps):
        k1 = f(y)
        k2 = f(y + 0.5 * dt * k1)
        k3 = f(y + 0.5 * dt * k2)
        k4 = f(y + dt * k3)
        y = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        out[k + 1] = y
    return out


def nbody_setup(n):
    rng = np.random.default_rng(1)
    q = rng.uniform(-10, 10, (n, 3))
    p = rng.normal(0, 0.1, (n, 3))
    m = np.ones(n)
    return q, p, m


def nbody_force(q, m, eps2=0.01):
    d = q[:, None, :] - q[None, :, :]
    r2 = (d * d).sum(-1) + eps2
    inv_r3 = r2 ** -1.5
    np.fill_diagonal(inv_r3, 0.0)
    return -(d * (m[None, :, None] * inv_r3[:, :, None])).sum(1) * m[:, None]


def leapfrog_step(q, p, m, dt=1e-3):
    p = p + 0.5 * dt * nbody_force(q, m)
    q = q + dt * p / m[:, None]
    p = p + 0.5 * dt * nbody_force(q, m)
    return q, p


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", help="also write every timing (seconds) here")
    args = parser.parse_args()
    rows = {}
    print(f"numpy {np.__version__}")
    print("| benchmark | numpy median |")
    print("|---|---|")
    rows["pendulum_rk4_stored"] = {"times": timed(pendulum_rk4, 3)}
    t = statistics.median(rows["pendulum_rk4_stored"]["times"])
    print(f"| 10,000 pendulums x 1,000 RK4 steps, all states stored (153 MiB) | {t:.3f} s |")
    for n in [256, 1024]:
        q, p, m = nbody_setup(n)
        # A leapfrog step whose second force is reused next step costs one force evaluation;
        # numpy does two here, so time the force alone as the per-step cost.
        rows[f"nbody/{n}/force"] = {"times": timed(lambda: nbody_force(q, m), 10 if n == 256 else 5)}
        rows[f"nbody/{n}/leapfrog"] = {"times": timed(lambda: leapfrog_step(q, p, m), 10 if n == 256 else 3)}
        t = statistics.median(rows[f"nbody/{n}/force"]["times"])
        t2 = statistics.median(rows[f"nbody/{n}/leapfrog"]["times"])
        print(f"| N-body N = {n}: one force evaluation | {t * 1e3:.2f} ms |")
        print(f"| N-body N = {n}: one leapfrog step (two force evaluations) | {t2 * 1e3:.2f} ms |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"versions": f"numpy {np.__version__}", "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
