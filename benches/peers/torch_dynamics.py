"""Peer measurement for docs/BENCHMARKS.md (liouville-dynamics): one training step per model in
PyTorch on CPU with 2 threads, the same sizes and batch as benches/benches/benchmarks/dynamics.rs
(hidden 200-200, batch 256, float32, Adam). Written the way the reference implementations do it:

- LNN (Cranmer et al.'s recipe with torch.func): q̈ = (∇_q̇∇_q̇ᵀL)⁻¹(∇_qL − (∇_q∇_q̇ᵀL)q̇) from
  jacrev/hessian under vmap, 1 degree of freedom, kinetic prior ½q̇² as in ours;
- neural ODE by backprop through 4 observations × 2 RK4 steps (torchdiffeq's fixed-grid 'rk4'
  does the same arithmetic; torchdiffeq itself is not installed here);
- SRNN: 4 observations × 2 leapfrog steps of T(p) + V(q), gradients by create_graph=True;
- partitioned neural ODE q' = v(p), p' = a(q) through the same 4 x 2 leapfrog steps;
- DeLaN, 1 degree of freedom: M = softplus(l)² + ε, c = ½ M'(q) q̇², q̈ = −(c + V')/M.

Usage: python3 benches/peers/torch_dynamics.py [--json PATH]  (`--json` also writes every timing, in seconds, for
`cargo xtask bench-report`)
"""
import argparse
import json
import statistics

import torch
from torch.func import hessian, jacrev, vmap

from timing import timed

torch.set_num_threads(2)


def mlp(inp, out, act=torch.nn.Tanh):
    return torch.nn.Sequential(torch.nn.Linear(inp, 200), act(), torch.nn.Linear(200, 200), act(), torch.nn.Linear(200, out))


def adam_step(params, loss_fn):
    opt = torch.optim.Adam(params, 1e-3)

    def step():
        loss = loss_fn()
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", help="also write every timing (seconds) here")
    args = parser.parse_args()
    x = torch.sin(torch.arange(512, dtype=torch.float32) * 0.37).reshape(256, 2)
    y = torch.sin(torch.arange(512, dtype=torch.float32) * 0.37 + 1.0).reshape(256, 2)
    windows = torch.sin(torch.arange(256 * 8, dtype=torch.float32) * 0.11).reshape(256, 4, 2)

    # LNN.
    lag = mlp(2, 1, torch.nn.Softplus)

    def lagrangian(state):
        return lag(state).squeeze(-1) + 0.5 * state[1] ** 2

    def accel(state):
        h = hessian(lagrangian)(state)
        g = jacrev(lagrangian)(state)
        return (g[0] - h[1, 0] * state[1]) / h[1, 1]

    lnn_step = adam_step(lag.parameters(), lambda: ((vmap(accel)(x) - y[:, 1]) ** 2).mean())

    # Neural ODE through RK4.
    field = mlp(2, 2)

    def rk4(state, h):
        k1 = field(state)
        k2 = field(state + 0.5 * h * k1)
        k3 = field(state + 0.5 * h * k2)
        k4 = field(state + h * k3)
        return state + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)

    def node_loss():
        s, total = x, 0.0
        for j in range(4):
            for _ in range(2):
                s = rk4(s, 0.05)
            total = total + ((s - windows[:, j]) ** 2).sum()
        return total / windows.numel()

    node_step = adam_step(field.parameters(), node_loss)

    # SRNN through leapfrog.
    kinetic, potential = mlp(1, 1), mlp(1, 1)

    def grad_of(net, z):
        return torch.autograd.grad(net(z).sum(), z, create_graph=True)[0]

    def srnn_loss():
        q, p = x[:, :1].clone().requires_grad_(True), x[:, 1:].clone().requires_grad_(True)
        h, total = 0.05, 0.0
        force = grad_of(potential, q)
        for j in range(4):
            for _ in range(2):
                p_half = p - 0.5 * h * force
                q = q + h * grad_of(kinetic, p_half)
                force = grad_of(potential, q)
                p = p_half - 0.5 * h * force
            total = total + ((torch.cat([q, p], 1) - windows[:, j]) ** 2).sum()
        return total / windows.numel()

    srnn_step = adam_step(list(kinetic.parameters()) + list(potential.parameters()), srnn_loss)

    # Partitioned neural ODE through leapfrog: q' = v(p), p' = a(q).
    vel, acc = mlp(1, 1), mlp(1, 1)

    def leapfrog_loss():
        q, p = x[:, :1], x[:, 1:]
        h, total = 0.05, 0.0
        force = acc(q)
        for j in range(4):
            for _ in range(2):
                p_half = p + 0.5 * h * force
                q = q + h * vel(p_half)
                force = acc(q)
                p = p_half + 0.5 * h * force
            total = total + ((torch.cat([q, p], 1) - windows[:, j]) ** 2).sum()
        return total / windows.numel()

    leapfrog_step = adam_step(list(vel.parameters()) + list(acc.parameters()), leapfrog_loss)

    # DeLaN, 1 dof.
    chol, pot = mlp(1, 1, torch.nn.Softplus), mlp(1, 1, torch.nn.Softplus)

    def delan_loss():
        q = x[:, :1].clone().requires_grad_(True)
        qd = x[:, 1:]
        l = torch.nn.functional.softplus(chol(q))
        m = l**2 + 1e-3
        dm = torch.autograd.grad(m.sum(), q, create_graph=True)[0]
        dv = torch.autograd.grad(pot(q).sum(), q, create_graph=True)[0]
        qdd = -(0.5 * dm * qd**2 + dv) / m
        return ((qdd - y[:, 1:]) ** 2).mean()

    delan_step = adam_step(list(chol.parameters()) + list(pot.parameters()), delan_loss)

    rows = {}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| step | PyTorch median |")
    print("|---|---|")
    rows["lnn"] = {"times": timed(lnn_step, 50, 5)}
    print(f"| LNN (torch.func hessian/jacrev, vmap) | {statistics.median(rows['lnn']['times']) * 1e3:.2f} ms |")
    rows["delan"] = {"times": timed(delan_step, 50, 5)}
    print(f"| DeLaN (autograd create_graph) | {statistics.median(rows['delan']['times']) * 1e3:.2f} ms |")
    rows["neural_ode_backprop"] = {"times": timed(node_step, 50, 5)}
    print(f"| neural ODE, backprop through 4 x 2 RK4 | {statistics.median(rows['neural_ode_backprop']['times']) * 1e3:.2f} ms |")
    rows["srnn"] = {"times": timed(srnn_step, 50, 5)}
    print(f"| SRNN, 4 x 2 leapfrog (create_graph) | {statistics.median(rows['srnn']['times']) * 1e3:.2f} ms |")
    rows["leapfrog_ode"] = {"times": timed(leapfrog_step, 50, 5)}
    print(f"| partitioned neural ODE, 4 x 2 leapfrog | {statistics.median(rows['leapfrog_ode']['times']) * 1e3:.2f} ms |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"versions": f"torch {torch.__version__}, {torch.get_num_threads()} threads", "rows": rows}, f,
                      indent=1)


if __name__ == "__main__":
    main()
