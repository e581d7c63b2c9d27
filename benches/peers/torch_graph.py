"""Peer measurement for docs/BENCHMARKS.md (liouville-graph): one GN-block forward and backward in
PyTorch on CPU with 2 threads, the same problem as benches/benches/benchmarks/graph.rs: 256
complete graphs of 8 nodes (56 directed edges each, 14,336 edges), node features 4, edge features
2, one global, float32. The full GN block of Battaglia et al. 2018 (graph_nets' `GraphNetwork`):

    e'_k = phi_e([e_k, v_sender, v_receiver, u])          gathers by index_select
    v'_i = phi_v([sum_{k: r_k = i} e'_k, v_i, u])          scatter by index_add_
    u'   = phi_u([sum_k e'_k, sum_i v'_i, u])               per-graph index_add_

each phi an MLP in -> 64 -> 64 with ReLU between (Xavier init, no output activation), as jraph's
and graph_nets' examples build them. One step = forward, loss sum(v') + sum(u'), backward (the
parameter gradients). No optimiser update, as in our bench.

Usage: python3 benches/peers/torch_graph.py [--json PATH]  (`--json` also writes every timing, in
seconds, for `cargo xtask bench-report`)
"""
import argparse
import json
import math
import statistics

import torch

from timing import timed

torch.set_num_threads(2)
GRAPHS, NODES, NODE_W, EDGE_W, GLOBAL_W, WIDTH = 256, 8, 4, 2, 1, 64


def mlp(inputs):
    net = torch.nn.Sequential(torch.nn.Linear(inputs, WIDTH), torch.nn.ReLU(), torch.nn.Linear(WIDTH, WIDTH))
    for layer in net:
        if isinstance(layer, torch.nn.Linear):
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
    return net


def complete_batch():
    """Senders, receivers, node and edge graph ids and features of GRAPHS complete graphs (our bench's
    deterministic features)."""
    pairs = [(s, r) for s in range(NODES) for r in range(NODES) if s != r]
    senders, receivers, nodes, edges = [], [], [], []
    for k in range(GRAPHS):
        senders += [k * NODES + s for s, _ in pairs]
        receivers += [k * NODES + r for _, r in pairs]
        nodes += [math.sin((i + k) * 0.37) for i in range(NODES * NODE_W)]
        edges += [math.cos((i + k) * 0.11) for i in range(len(pairs) * EDGE_W)]
    node_graph = torch.arange(GRAPHS).repeat_interleave(NODES)
    edge_graph = torch.arange(GRAPHS).repeat_interleave(len(pairs))
    return (torch.tensor(senders), torch.tensor(receivers), node_graph, edge_graph,
            torch.tensor(nodes, dtype=torch.float32).reshape(-1, NODE_W),
            torch.tensor(edges, dtype=torch.float32).reshape(-1, EDGE_W),
            torch.full((GRAPHS, GLOBAL_W), 0.5))


def segment_sum(x, ids, segments):
    return torch.zeros(segments, x.shape[1], dtype=x.dtype).index_add_(0, ids, x)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", help="also write every timing (seconds) here")
    args = parser.parse_args()
    torch.manual_seed(0)
    senders, receivers, node_graph, edge_graph, nodes, edges, globals_ = complete_batch()
    n_nodes = nodes.shape[0]
    phi_e = mlp(EDGE_W + 2 * NODE_W + GLOBAL_W)
    phi_v = mlp(WIDTH + NODE_W + GLOBAL_W)
    phi_u = mlp(2 * WIDTH + GLOBAL_W)
    params = [p for f in (phi_e, phi_v, phi_u) for p in f.parameters()]

    def step():
        for p in params:
            p.grad = None
        e = phi_e(torch.cat([edges, nodes.index_select(0, senders), nodes.index_select(0, receivers),
                             globals_.index_select(0, edge_graph)], 1))
        v = phi_v(torch.cat([segment_sum(e, receivers, n_nodes), nodes, globals_.index_select(0, node_graph)], 1))
        u = phi_u(torch.cat([segment_sum(e, edge_graph, GRAPHS), segment_sum(v, node_graph, GRAPHS), globals_], 1))
        loss = v.sum() + u.sum()
        loss.backward()
        return loss.item()

    rows = {"gn_block": {"times": timed(step, 50, 5)}}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| GN block forward + backward, 256 x 8 complete | PyTorch median |")
    print("|---|---|")
    for name, row in rows.items():
        print(f"| {name} | {statistics.median(row['times']) * 1e3:.2f} ms |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"versions": f"torch {torch.__version__}", "rows": rows}, f)


if __name__ == "__main__":
    main()
