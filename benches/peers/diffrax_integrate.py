"""Peer measurements for docs/BENCHMARKS.md: diffrax (JAX, f64, jit, CPU) on the problems of
benches/benches/benchmarks/integrate.rs (groups cpu_kepler_*, cpu_arenstorf_*, cpu_lorenz_ensemble_*),
timed after compilation, in the same session as `cargo bench`.

Usage: pip install jax diffrax; python3 benches/peers/diffrax_integrate.py [--json FILE]
Prints a Markdown table; with --json also writes the raw timings (seconds) for bench-report.
"""
import argparse
import json
import statistics
import time

import jax

jax.config.update("jax_enable_x64", True)
import diffrax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

E = 0.6
TAU = 2 * np.pi
MU = 0.012277471
ARENSTORF_PERIOD = 17.0652165601579625588917206249
ARENSTORF_Y0 = [0.994, 0.0, 0.0, -2.00158510637908252240537862224]
ENSEMBLE = 10_000


def kepler(t, y, args):
    q1, q2, p1, p2 = y
    r2 = q1 * q1 + q2 * q2
    inv_r3 = 1.0 / (r2 * jnp.sqrt(r2))
    return jnp.stack([p1, p2, -q1 * inv_r3, -q2 * inv_r3])


def arenstorf(t, y, args):
    x, v, dx, dv = y
    mu1 = 1.0 - MU
    a = (x + MU) ** 2 + v * v
    b = (x - mu1) ** 2 + v * v
    d1 = a * jnp.sqrt(a)
    d2 = b * jnp.sqrt(b)
    return jnp.stack([dx, dv, x + 2 * dv - mu1 * (x + MU) / d1 - MU * (x - mu1) / d2,
                      v - 2 * dx - mu1 * v / d1 - MU * v / d2])


def lorenz(t, y, args):
    x, v, z = y
    return jnp.stack([10.0 * (v - x), x * (28.0 - z) - v, x * v - 8.0 / 3.0 * z])


def lorenz_starts(n):
    """The same initial states as `lorenz_starts` in benches/benches/benchmarks/integrate.rs."""
    i = np.arange(n)

    def frac(k):
        return ((k * i) % n) / n
    return np.stack([-15.0 + 30.0 * frac(1), -15.0 + 30.0 * frac(7), 5.0 + 35.0 * frac(13)], axis=1)


def kepler_exact(t):
    m = t - TAU * round(t / TAU)
    big_e = m
    for _ in range(50):
        d = (big_e - E * np.sin(big_e) - m) / (1 - E * np.cos(big_e))
        big_e -= d
        if abs(d) < 1e-16:
            break
    return np.array([np.cos(big_e) - E, np.sqrt(1 - E * E) * np.sin(big_e)])


def solver(name):
    return {"Dopri5": diffrax.Dopri5(), "Dopri8": diffrax.Dopri8()}[name]


def make_solve(rhs, method, t1, tol, max_steps):
    term = diffrax.ODETerm(rhs)
    controller = diffrax.PIDController(rtol=tol, atol=tol)

    def solve(y0):
        return diffrax.diffeqsolve(term, solver(method), t0=0.0, t1=t1, dt0=None, y0=y0,
                                   stepsize_controller=controller, max_steps=max_steps,
                                   saveat=diffrax.SaveAt(t1=True))
    return solve


def timed(fn, arg, repeats):
    out = fn(arg)
    jax.block_until_ready(out)  # compile and warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn(arg)
        jax.block_until_ready(out)
        times.append(time.perf_counter() - start)
    return times, out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rows = {}
    print(f"jax {jax.__version__}, diffrax {diffrax.__version__}, devices {jax.devices()}")
    print("| problem | method | median | min-max | final error | steps (accepted + rejected) |")
    print("|---|---|---|---|---|---|")

    def report(key, problem, method, times, err, steps):
        rows[key] = {"times": times, "error": err, "steps": steps}
        print(f"| {problem} | {method} | {statistics.median(times) * 1e3:.2f} ms | "
              f"{min(times) * 1e3:.2f}-{max(times) * 1e3:.2f} ms | {err:.2e} | {steps} |")

    t_end = 100 * TAU
    exact = kepler_exact(t_end)
    y0 = jnp.array([1 - E, 0.0, 0.0, np.sqrt((1 + E) / (1 - E))])
    for method in ["Dopri8", "Dopri5"]:
        fn = jax.jit(make_solve(kepler, method, t_end, 1e-10, 200_000))
        times, sol = timed(fn, y0, args.repeats)
        err = float(np.linalg.norm(np.asarray(sol.ys[-1][:2]) - exact))
        steps = int(sol.stats["num_steps"])
        report(f"kepler/{method}/1e-10", "Kepler e=0.6, 100 periods, 1e-10", method, times, err, steps)

    y0 = jnp.array(ARENSTORF_Y0)
    # Dopri8 also at looser tolerances: at 1e-13 its error is below DOP853's round-off floor.
    for method, tol in [("Dopri8", 1e-13), ("Dopri8", 1e-12), ("Dopri8", 1e-11), ("Dopri5", 1e-13)]:
        fn = jax.jit(make_solve(arenstorf, method, ARENSTORF_PERIOD, tol, 200_000))
        times, sol = timed(fn, y0, args.repeats)
        err = float(np.linalg.norm(np.asarray(sol.ys[-1][:2]) - np.array(ARENSTORF_Y0[:2])))
        steps = int(sol.stats["num_steps"])
        report(f"arenstorf/{method}/{tol:g}", f"Arenstorf, one period, {tol:g}", method, times, err, steps)

    starts = jnp.array(lorenz_starts(ENSEMBLE))
    for method in ["Dopri5", "Dopri8"]:
        fn = jax.jit(jax.vmap(make_solve(lorenz, method, 10.0, 1e-8, 100_000)))
        times, sol = timed(fn, starts, max(3, args.repeats // 2))
        steps = np.asarray(sol.stats["num_steps"])
        report(f"lorenz_ensemble/{method}/1e-08", f"{ENSEMBLE} Lorenz-63, t in [0, 10], 1e-8, vmap", method, times,
               float("nan"), f"{int(steps.min())}-{int(steps.max())} per member")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"jax": jax.__version__, "diffrax": diffrax.__version__, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
