"""Peer measurement for docs/BENCHMARKS.md (liouville-generative): one RealNVP maximum-likelihood
step in PyTorch on CPU with 2 threads, the same sizes as benches/benches/benchmarks/generative.rs:
8 affine couplings on 2-D data with alternating halves, conditioners 1 -> 64 -> 64 -> 2 (tanh,
last layer zero-initialised), soft-clamped log-scales s = 2 tanh(s'/2), standard normal base,
batch 256, float32, Adam; one step = forward, mean NLL, backward, update (nflows' and FrEIA's
training step, written out so that neither package is needed). Then the same step for a neural
spline flow: 4 rational-quadratic spline couplings (8 bins on [-4, 4], identity tails, minimum bin
size and derivative 1e-3, nflows' `unconstrained_rational_quadratic_spline` written out),
conditioners 1 -> 64 -> 64 -> 23.

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


BINS, BOUND, MIN_BIN, MIN_DERIVATIVE = 8, 4.0, 1e-3, 1e-3
# softplus(SHIFT) = 1 - MIN_DERIVATIVE: zero parameters give unit derivatives (the identity).
SHIFT = math.log(math.expm1(1.0 - MIN_DERIVATIVE))


def rq_spline(x, raw):
    """Element-wise monotone rational-quadratic spline of x [n] with parameters raw [n, 3K-1]."""
    k = BINS
    inside = (x >= -BOUND) & (x <= BOUND)
    xin = torch.where(inside, x, torch.zeros_like(x))

    def knots(u):
        frac = MIN_BIN + (1 - MIN_BIN * k) * torch.softmax(u, -1)
        cum = torch.nn.functional.pad(torch.cumsum(frac, -1), (1, 0))
        return 2 * BOUND * frac, 2 * BOUND * cum - BOUND

    widths, cw = knots(raw[:, :k])
    heights, ch = knots(raw[:, k:2 * k])
    interior = MIN_DERIVATIVE + torch.nn.functional.softplus(raw[:, 2 * k:] + SHIFT)
    ones = torch.ones(x.shape[0], 1)
    d = torch.cat([ones, interior, ones], 1)
    idx = torch.searchsorted(cw[:, 1:-1].contiguous(), xin[:, None], right=True)
    xk, wk = cw.gather(1, idx)[:, 0], widths.gather(1, idx)[:, 0]
    yk, hk = ch.gather(1, idx)[:, 0], heights.gather(1, idx)[:, 0]
    dk, dk1 = d.gather(1, idx)[:, 0], d.gather(1, idx + 1)[:, 0]
    xi = (xin - xk) / wk
    s = hk / wk
    rest = xi * (1 - xi)
    den = s + (dk1 + dk - 2 * s) * rest
    y = yk + hk * (s * xi * xi + dk * rest) / den
    log_deriv = 2 * torch.log(s) + torch.log(dk1 * xi * xi + 2 * s * rest + dk * (1 - xi) ** 2) - 2 * torch.log(den)
    return torch.where(inside, y, x), torch.where(inside, log_deriv, torch.zeros_like(x))


class SplineCoupling(torch.nn.Module):
    def __init__(self, first_conditions):
        super().__init__()
        self.first = first_conditions
        self.net = torch.nn.Sequential(torch.nn.Linear(1, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64),
                                       torch.nn.Tanh(), torch.nn.Linear(64, 3 * BINS - 1))
        torch.nn.init.zeros_(self.net[-1].weight)
        torch.nn.init.zeros_(self.net[-1].bias)

    def forward(self, x):
        xa, xb = (x[:, :1], x[:, 1:]) if self.first else (x[:, 1:], x[:, :1])
        yb, ld = rq_spline(xb[:, 0], self.net(xa))
        yb = yb[:, None]
        y = torch.cat([xa, yb], 1) if self.first else torch.cat([yb, xa], 1)
        return y, ld


class SplineFlow(RealNvp):
    def __init__(self, couplings=4):
        torch.nn.Module.__init__(self)
        self.layers = torch.nn.ModuleList([SplineCoupling(k % 2 == 0) for k in range(couplings)])


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

    def step_of(flow):
        opt = torch.optim.Adam(flow.parameters(), 1e-3)

        def step():
            loss = -flow.log_prob(x).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()

        return step

    rows = {"realnvp": {"times": timed(step_of(RealNvp()), 200, 20)},
            "spline": {"times": timed(step_of(SplineFlow()), 200, 20)}}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| step | PyTorch median |")
    print("|---|---|")
    print(f"| RealNVP, 8 couplings, 64-64 conditioners, batch 256 | {statistics.median(rows['realnvp']['times']) * 1e3:.3f} ms |")
    print(f"| spline flow, 4 couplings, 8 bins, 64-64 conditioners, batch 256 | {statistics.median(rows['spline']['times']) * 1e3:.3f} ms |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"versions": f"torch {torch.__version__}, {torch.get_num_threads()} threads", "rows": rows}, f,
                      indent=1)


if __name__ == "__main__":
    main()
