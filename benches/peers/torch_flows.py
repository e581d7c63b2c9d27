"""Peer measurement for docs/BENCHMARKS.md (liouville-generative): one RealNVP maximum-likelihood
step in PyTorch on CPU with 2 threads, the same sizes as benches/benches/benchmarks/generative.rs:
8 affine couplings on 2-D data with alternating halves, conditioners 1 -> 64 -> 64 -> 2 (tanh,
last layer zero-initialised), soft-clamped log-scales s = 2 tanh(s'/2), standard normal base,
batch 256, float32, Adam; one step = forward, mean NLL, backward, update (nflows' and FrEIA's
training step, written out so that neither package is needed).

Usage: python3 benches/peers/torch_flows.py [--json PATH]  (`--json` also writes every timing, in
seconds, for `cargo xtask bench-report`)
"""
import argparse
import json
import math
import statistics

import torch

from timing import timed

torch.set_num_threads(2)
CLAMP = 2.0


class Coupling(torch.nn.Module):
    def __init__(self, first_conditions):
        super().__init__()
        self.first = first_conditions
        self.net = torch.nn.Sequential(torch.nn.Linear(1, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64),
                                       torch.nn.Tanh(), torch.nn.Linear(64, 2))
        torch.nn.init.zeros_(self.net[-1].weight)
        torch.nn.init.zeros_(self.net[-1].bias)

    def forward(self, x):
        xa, xb = (x[:, :1], x[:, 1:]) if self.first else (x[:, 1:], x[:, :1])
        out = self.net(xa)
        s = CLAMP * torch.tanh(out[:, :1] / CLAMP)
        yb = xb * torch.exp(s) + out[:, 1:]
        y = torch.cat([xa, yb], 1) if self.first else torch.cat([yb, xa], 1)
        return y, s.sum(1)


class RealNvp(torch.nn.Module):
    def __init__(self, couplings=8):
        super().__init__()
        self.layers = torch.nn.ModuleList([Coupling(k % 2 == 0) for k in range(couplings)])

    def log_prob(self, x):
        total = torch.zeros(x.shape[0])
        for layer in self.layers:
            x, ld = layer(x)
            total = total + ld
        return (-0.5 * x * x).sum(1) - x.shape[1] * 0.5 * math.log(2 * math.pi) + total


def two_moons(n, noise, gen):
    theta = torch.rand(n, generator=gen) * math.pi
    upper = torch.arange(n) % 2 == 0
    x = torch.where(upper, torch.cos(theta), 1 - torch.cos(theta))
    y = torch.where(upper, torch.sin(theta), 0.5 - torch.sin(theta))
    return torch.stack([x, y], 1) + noise * torch.randn(n, 2, generator=gen)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", help="also write every timing (seconds) here")
    args = parser.parse_args()
    gen = torch.Generator().manual_seed(0)
    x = two_moons(256, 0.1, gen).float()
    flow = RealNvp()
    opt = torch.optim.Adam(flow.parameters(), 1e-3)

    def step():
        loss = -flow.log_prob(x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    rows = {"realnvp": {"times": timed(step, 200, 20)}}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| step | PyTorch median |")
    print("|---|---|")
    print(f"| RealNVP, 8 couplings, 64-64 conditioners, batch 256 | {statistics.median(rows['realnvp']['times']) * 1e3:.3f} ms |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"versions": f"torch {torch.__version__}, {torch.get_num_threads()} threads", "rows": rows}, f,
                      indent=1)


if __name__ == "__main__":
    main()
