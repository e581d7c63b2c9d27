"""Peer measurement for docs/BENCHMARKS.md (liouville-tensor): one HNN training step and one plain
MLP step in PyTorch on CPU with 2 threads, the same sizes as benches/benches/benchmarks/tensor.rs
(2->200->200->1 tanh, batch 256, float32, Adam). The HNN step needs a double backward:
autograd.grad(create_graph=True) for dH/dx, then backward of the loss.

Usage: python3 benches/peers/torch_hnn.py [--json PATH]  (`--json` also writes every timing, in seconds, for
`cargo xtask bench-report`)
"""
import argparse
import json
import statistics

import torch

from timing import timed

torch.set_num_threads(2)


def mlp(out):
    m = torch.nn.Sequential(torch.nn.Linear(2, 200), torch.nn.Tanh(), torch.nn.Linear(200, 200), torch.nn.Tanh(), torch.nn.Linear(200, out))
    for layer in m:
        if isinstance(layer, torch.nn.Linear):
            torch.nn.init.orthogonal_(layer.weight)
    return m


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", help="also write every timing (seconds) here")
    args = parser.parse_args()
    x = torch.sin(torch.arange(512, dtype=torch.float32) * 0.37).reshape(256, 2)
    y = torch.sin(torch.arange(512, dtype=torch.float32) * 0.37 + 1.0).reshape(256, 2)

    hnn = mlp(1)
    opt_h = torch.optim.Adam(hnn.parameters(), 1e-3)

    def hnn_step():
        xr = x.clone().requires_grad_(True)
        h = hnn(xr).sum()
        (g,) = torch.autograd.grad(h, xr, create_graph=True)
        field = torch.stack([g[:, 1], -g[:, 0]], dim=1)
        loss = ((field - y) ** 2).mean()
        opt_h.zero_grad()
        loss.backward()
        opt_h.step()

    base = mlp(2)
    opt_b = torch.optim.Adam(base.parameters(), 1e-3)

    def mlp_step():
        loss = ((base(x) - y) ** 2).mean()
        opt_b.zero_grad()
        loss.backward()
        opt_b.step()

    rows = {}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| step | PyTorch median |")
    print("|---|---|")
    rows["hnn"] = {"times": timed(hnn_step, 200, 20)}
    print(f"| HNN (autograd.grad create_graph=True) | {statistics.median(rows['hnn']['times']) * 1e3:.3f} ms |")
    rows["mlp"] = {"times": timed(mlp_step, 200, 20)}
    print(f"| plain MLP | {statistics.median(rows['mlp']['times']) * 1e3:.3f} ms |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"versions": f"torch {torch.__version__}, {torch.get_num_threads()} threads", "rows": rows}, f,
                      indent=1)


if __name__ == "__main__":
    main()
