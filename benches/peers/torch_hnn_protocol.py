#!/usr/bin/env python3
"""Cross-check of `cargo xtask reproduce hnn` (issue 13): Greydanus et al.'s pendulum baseline and
HNN trained in PyTorch exactly as their protocol describes, on either their data generator
(re-implemented here from the paper's settings) or a dataset that `liouville gen` exported to
.npz, and scored with the same energy-MSE protocol as docs/results/hnn.md.

It separates the two things that move the pendulum baseline's energy MSE: the training code
(PyTorch here, Liouville there) and the data realisation (which 25 training orbits were drawn).

    cargo build --release
    python3 benches/peers/torch_hnn_protocol.py --liouville target/release/liouville --seeds 10 \
        --out docs/results/hnn-pendulum-crosscheck.md

`--liouville` runs `liouville gen --system pendulum --trajectories 50 --samples 45 --t-end 3
--noise 0.1 --test-fraction 0.5 --seed S` for each seed (the datasets of `cargo xtask reproduce
hnn`); `--ours DIR` reads such files (DIR/seedS.npz) instead. Needs torch, numpy, scipy.
"""
import argparse
import os
import statistics
import subprocess
import tempfile

import numpy as np
import scipy.integrate
import torch

torch.set_num_threads(2)


def pendulum_rate(_t, y):
    """H = 3(1 - cos q) + p² (the paper's pendulum): q' = 2p, p' = -3 sin q."""
    q, p = y
    return np.array([2.0 * p, -3.0 * np.sin(q)])


def paper_energy(x):
    return (x ** 2).sum(1)


def true_energy(x):
    return 3.0 * (1.0 - np.cos(x[:, 0])) + x[:, 1] ** 2


def original_dataset(seed, samples=50, points=45, noise=0.1, uniform_angle=False):
    """The paper's generator: radius ~ U[1.3, 2.3], direction from U[-1, 1]² (or, with
    `uniform_angle`, uniform on the circle as `liouville gen` draws it), 45 points over [0, 3] by
    an adaptive RK at rtol 1e-10, noise σ = 0.1 on the states only, first half train."""
    rng = np.random.RandomState(seed)
    t_eval = np.linspace(0.0, 3.0, points)
    xs, dxs = [], []
    for _ in range(samples):
        if uniform_angle:
            angle = rng.rand() * 2.0 * np.pi
            y0 = np.array([np.cos(angle), np.sin(angle)])
        else:
            y0 = rng.rand(2) * 2.0 - 1.0
        radius = rng.rand() + 1.3
        y0 = y0 / np.sqrt((y0 ** 2).sum()) * radius
        sol = scipy.integrate.solve_ivp(pendulum_rate, (0.0, 3.0), y0, t_eval=t_eval, rtol=1e-10)
        states = sol.y.T.copy()
        dxs.append(np.stack([pendulum_rate(None, s) for s in states]))
        xs.append(states + rng.randn(*states.shape) * noise)
    x, dx = np.concatenate(xs), np.concatenate(dxs)
    half = len(x) // 2
    return x[:half], dx[:half]


def our_dataset(path):
    """A `liouville gen` .npz: noisy observations as inputs, clean derivatives as targets."""
    d = np.load(path)
    train = ~d["is_test"]
    x = d["observations"][train].reshape(-1, 2)
    dx = d["derivatives"][train].reshape(-1, 2)
    return x, dx


class Model(torch.nn.Module):
    """2 → 200 → 200 → out, tanh, orthogonal weights, PyTorch's default biases, no output bias."""

    def __init__(self, baseline):
        super().__init__()
        self.baseline = baseline
        self.l1 = torch.nn.Linear(2, 200)
        self.l2 = torch.nn.Linear(200, 200)
        self.l3 = torch.nn.Linear(200, 2, bias=False)
        for layer in (self.l1, self.l2, self.l3):
            torch.nn.init.orthogonal_(layer.weight)

    def net(self, x):
        return self.l3(torch.tanh(self.l2(torch.tanh(self.l1(x)))))

    def rate(self, x):
        if self.baseline:
            return self.net(x)
        if not x.requires_grad:
            x = x.detach().requires_grad_(True)
        # The HNN's solenoidal part: H is the second output; (∂H/∂p, -∂H/∂q).
        h = self.net(x)[:, 1].sum()
        (g,) = torch.autograd.grad(h, x, create_graph=True)
        return torch.stack([g[:, 1], -g[:, 0]], 1)


def train(x, dx, seed, baseline, steps=2000):
    torch.manual_seed(seed)
    model = Model(baseline)
    opt = torch.optim.Adam(model.parameters(), 1e-3, weight_decay=1e-4)
    xt = torch.tensor(x, dtype=torch.float32, requires_grad=True)
    yt = torch.tensor(dx, dtype=torch.float32)
    for _ in range(steps + 1):
        loss = ((model.rate(xt) - yt) ** 2).mean()
        loss.backward()
        opt.step()
        opt.zero_grad()
    return model


def energy_mse(models, seed):
    """15 starts with each component ±U[0.2, 1], t ∈ [0, 20] at 100 points, the learned fields by
    RK45 at rtol 1e-12 (the notebook's solve_ivp call), the truth at rtol = atol = 1e-12."""
    rng = np.random.RandomState(1000 + seed)
    t_eval = np.linspace(0.0, 20.0, 100)
    scores = {name: ([], []) for name in models}
    for _ in range(15):
        x0 = rng.rand(2) * 1.6 - 0.8
        x0 += 0.2 * np.sign(x0)
        truth = scipy.integrate.solve_ivp(pendulum_rate, (0, 20), x0, t_eval=t_eval, rtol=1e-12,
                                          atol=1e-12).y.T
        for name, model in models.items():
            def rate(_t, y, m=model):
                x = torch.tensor(y, dtype=torch.float32).view(1, 2)
                return m.rate(x).detach().numpy().reshape(-1)

            path = scipy.integrate.solve_ivp(rate, (0, 20), x0, t_eval=t_eval, rtol=1e-12).y.T
            if path.shape != truth.shape:  # the solver gave up: score the run as lost
                scores[name][0].append(float("nan"))
                scores[name][1].append(float("nan"))
                continue
            scores[name][0].append(np.mean((paper_energy(truth) - paper_energy(path)) ** 2))
            scores[name][1].append(np.mean((true_energy(truth) - true_energy(path)) ** 2))
    return {name: (float(np.mean(p)), float(np.mean(t))) for name, (p, t) in scores.items()}


def summary(values):
    mean = statistics.mean(values)
    se = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else 0.0
    return f"{mean:.3e} ± {se:.1e}"


def write_report(args, per_seed, summaries):
    """The tables as Markdown with the command that made them (written whole, then renamed)."""
    import sys
    import datetime
    text = [
        "# HNN pendulum: the baseline's energy MSE, cross-checked in PyTorch",
        "",
        f"Generated on {datetime.date.today()} by `python3 benches/peers/torch_hnn_protocol.py "
        + " ".join(sys.argv[1:]) + f"` (torch {torch.__version__}, 2 threads); do not edit by hand.",
        "",
        "Greydanus et al.'s pendulum models (2 → 200 → 200 → 2, tanh, orthogonal weights, PyTorch's default "
        "biases, no output bias, Adam lr 1e-3 with weight decay 1e-4, 2000 full-batch steps) trained in PyTorch "
        "on three data sources, and scored as `docs/results/hnn.md` scores ours (15 starts with each component "
        "±U[0.2, 1], t ∈ [0, 20], 100 points; the learned field by RK45 at rtol 1e-12, the notebook's call). "
        "Seed s draws the data, the initialisation and the starts; the starts are the same for every source. "
        "`liouville gen` rows use the very datasets of `cargo xtask reproduce hnn` seed s, so they compare "
        "PyTorch's training with ours on identical data (ours: the per-seed table of `docs/results/hnn.md`).",
        "",
        "Per seed:",
        "",
        *per_seed,
        "",
        "Summary (mean ± standard error over seeds, and median):",
        "",
        "| data | statistic | baseline q²+p² | HNN q²+p² | baseline true H | HNN true H |",
        "|---|---|---|---|---|---|",
        *summaries,
        "",
    ]
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(text))
    os.replace(tmp, args.out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", help="folder of seedS.npz written by liouville gen")
    ap.add_argument("--liouville", help="the liouville binary: generate seedS.npz with it")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--out", help="also write the tables here as Markdown")
    args = ap.parse_args()
    sources = [("original generator", original_dataset),
               ("original generator, uniform angle", lambda s: original_dataset(s, uniform_angle=True))]
    if args.liouville and not args.ours:
        args.ours = tempfile.mkdtemp(prefix="liouville-pendulum-")
        for seed in range(args.seeds):
            subprocess.run([args.liouville, "gen", "--system", "pendulum", "--trajectories", "50", "--samples", "45",
                            "--t-end", "3", "--noise", "0.1", "--test-fraction", "0.5", "--seed", str(seed), "-o",
                            os.path.join(args.ours, f"seed{seed}.npz"), "--quiet"], check=True,
                           stdout=subprocess.DEVNULL)
    if args.ours:
        sources.append(("liouville gen", lambda s: our_dataset(os.path.join(args.ours, f"seed{s}.npz"))))
    lines = ["| data | seed | baseline q²+p² | HNN q²+p² | baseline true H | HNN true H |", "|---|---|---|---|---|---|"]
    print("\n".join(lines))
    rows = []
    for label, load in sources:
        per = {"base_paper": [], "hnn_paper": [], "base_true": [], "hnn_true": []}
        for seed in range(args.seeds):
            x, dx = load(seed)
            models = {"base": train(x, dx, seed, True, args.steps), "hnn": train(x, dx, seed, False, args.steps)}
            s = energy_mse(models, seed)
            per["base_paper"].append(s["base"][0])
            per["hnn_paper"].append(s["hnn"][0])
            per["base_true"].append(s["base"][1])
            per["hnn_true"].append(s["hnn"][1])
            line = f"| {label} | {seed} | {s['base'][0]:.3e} | {s['hnn'][0]:.3e} | {s['base'][1]:.3e} | {s['hnn'][1]:.3e} |"
            lines.append(line)
            print(line, flush=True)
        rows.append(f"| {label} | mean ± se | " + " | ".join(summary(per[k]) for k in
                    ("base_paper", "hnn_paper", "base_true", "hnn_true")) + " |")
        rows.append(f"| {label} | median | " + " | ".join(f"{statistics.median(per[k]):.3e}" for k in
                    ("base_paper", "hnn_paper", "base_true", "hnn_true")) + " |")
    print("\n".join(rows))
    if args.out:
        write_report(args, lines, rows)


if __name__ == "__main__":
    main()
