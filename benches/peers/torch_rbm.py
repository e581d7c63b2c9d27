"""Peer measurement for docs/BENCHMARKS.md (liouville-generative): one CD-1 epoch of a binary RBM
in PyTorch on CPU with 2 threads, the same problem as benches/benches/benchmarks/generative.rs:
64 visible x 64 hidden units, 10,000 rows of 64 binary units (8 noisy prototypes), batches of
100 in a seeded random order; per batch p(h|v), a Bernoulli h, a Bernoulli v', p(h|v'), the
gradient (model minus data moments, hidden probabilities) and a plain SGD step; after the epoch
the mean-field reconstruction error and mean free energy of the first 2,000 rows (the monitors our
training loop computes). QuCumber's CD-k update, written out so that the package is not needed.
Timed in float64 (our precision) and float32 (PyTorch's default).

Usage: python3 benches/peers/torch_rbm.py [--json PATH]  (`--json` also writes every timing, in
seconds, for `cargo xtask bench-report`)
"""
import argparse
import json
import statistics

import torch

from timing import timed

torch.set_num_threads(2)
VISIBLE, HIDDEN, ROWS, BATCH, LR = 64, 64, 10_000, 100, 0.05


def binary_rows(gen, dtype):
    prototypes = (torch.rand(8, VISIBLE, generator=gen) < 0.5).to(dtype)
    rows = prototypes[torch.arange(ROWS) % 8].clone()
    flip = (torch.arange(ROWS * VISIBLE).reshape(ROWS, VISIBLE) % 10) == 0
    rows[flip] = 1 - rows[flip]
    return rows


def epoch_fn(data, dtype, gen):
    w = 0.01 * torch.randn(VISIBLE, HIDDEN, generator=gen, dtype=dtype)
    a = torch.zeros(VISIBLE, dtype=dtype)
    b = torch.zeros(HIDDEN, dtype=dtype)

    def epoch():
        order = torch.randperm(ROWS, generator=gen)
        for start in range(0, ROWS, BATCH):
            v0 = data[order[start:start + BATCH]]
            ph0 = torch.sigmoid(v0 @ w + b)
            h0 = torch.bernoulli(ph0, generator=gen)
            v1 = torch.bernoulli(torch.sigmoid(h0 @ w.T + a), generator=gen)
            ph1 = torch.sigmoid(v1 @ w + b)
            n = v0.shape[0]
            w.sub_(LR * (v1.T @ ph1 - v0.T @ ph0) / n)
            a.sub_(LR * (v1 - v0).mean(0))
            b.sub_(LR * (ph1 - ph0).mean(0))
        v = data[:2000]
        recon = torch.sigmoid(torch.sigmoid(v @ w + b) @ w.T + a)
        error = ((recon - v) ** 2).mean().item()
        free = (-(v @ a) - torch.nn.functional.softplus(v @ w + b).sum(1)).mean().item()
        return error, free

    return epoch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", help="also write every timing (seconds) here")
    args = parser.parse_args()
    rows = {}
    for name, dtype in [("cd1_f64", torch.float64), ("cd1_f32", torch.float32)]:
        gen = torch.Generator().manual_seed(0)
        data = binary_rows(gen, dtype)
        rows[name] = {"times": timed(epoch_fn(data, dtype, gen), 20, 2)}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| CD-1 epoch | PyTorch median |")
    print("|---|---|")
    for name, row in rows.items():
        print(f"| {name} | {statistics.median(row['times']) * 1e3:.2f} ms |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"versions": f"torch {torch.__version__}", "rows": rows}, f)


if __name__ == "__main__":
    main()
