"""Peer measurement for docs/BENCHMARKS.md (liouville-generative): one WGAN-GP critic step in
PyTorch on CPU with 2 threads, the same problem as benches/benches/benchmarks/generative.rs and
improved_wgan_training's gan_toy.py: generator and critic 2 -> 512 -> 512 -> 512 -> (2 | 1), ReLU,
batch 256, float32, penalty weight 0.1, Adam(1e-4, betas=(0.5, 0.9)). One step = G(z) without
gradients, interpolates x^ = e x + (1 - e) G(z) with one e ~ U[0, 1] per row, the critic loss
E[D(G(z))] - E[D(x)] + 0.1 E[(|grad D(x^)| - 1)^2] (the gradient through autograd with
create_graph=True), backward, update.

Usage: python3 benches/peers/torch_gan.py [--json PATH]  (`--json` also writes every timing, in
seconds, for `cargo xtask bench-report`)
"""
import argparse
import json
import math
import statistics

import torch

from timing import timed

torch.set_num_threads(2)
WIDTH, BATCH, PENALTY = 512, 256, 0.1


def mlp(out):
    return torch.nn.Sequential(torch.nn.Linear(2, WIDTH), torch.nn.ReLU(), torch.nn.Linear(WIDTH, WIDTH),
                               torch.nn.ReLU(), torch.nn.Linear(WIDTH, WIDTH), torch.nn.ReLU(),
                               torch.nn.Linear(WIDTH, out))


def eight_gaussians(n, gen):
    angles = torch.arange(8) * (math.pi / 4)
    centres = torch.stack([torch.cos(angles), torch.sin(angles)], 1) * 2.0
    pick = torch.randint(0, 8, (n,), generator=gen)
    return (centres[pick] + 0.02 * torch.randn(n, 2, generator=gen)) / 1.414


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", help="also write every timing (seconds) here")
    args = parser.parse_args()
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    generator, critic = mlp(2), mlp(1)
    optimizer = torch.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.5, 0.9))
    real = eight_gaussians(BATCH, gen)

    def step():
        with torch.no_grad():
            fake = generator(torch.randn(BATCH, 2, generator=gen))
        e = torch.rand(BATCH, 1, generator=gen)
        mixed = (e * real + (1 - e) * fake).requires_grad_(True)
        grad, = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
        penalty = ((grad.norm(dim=1) - 1) ** 2).mean()
        loss = critic(fake).mean() - critic(real).mean() + PENALTY * penalty
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    rows = {"critic_step": {"times": timed(step, 100, 10)}}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| WGAN-GP critic step | PyTorch median |")
    print("|---|---|")
    for name, row in rows.items():
        print(f"| {name} | {statistics.median(row['times']) * 1e3:.2f} ms |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"versions": f"torch {torch.__version__}", "rows": rows}, f)


if __name__ == "__main__":
    main()
