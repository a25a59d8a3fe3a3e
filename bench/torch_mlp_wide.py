#!/usr/bin/env python3
"""The wide reference for `npm run bench:train`: ../shared/bench/torch_mlp.py with the
hidden sizes as a parameter (that script fixes them at 64, 64). Same data, optimiser,
loss and loop; prints one JSON line. Run with Debian's /usr/bin/python3 (python3-torch).

Usage: torch_mlp_wide.py [--rows 50000] [--dim 64] [--hidden 256,256] [--batch 1024] [--epochs 4]
"""
import argparse, json, time

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=50000)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--hidden", type=str, default="256,256")
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--epochs", type=int, default=4)
    a = p.parse_args()
    import torch
    torch.manual_seed(0)
    x = torch.randn(a.rows, a.dim)
    w = torch.randn(a.dim, 1)
    y = x @ w + 0.1 * torch.randn(a.rows, 1)
    sizes = [a.dim] + [int(h) for h in a.hidden.split(",")]
    layers = []
    for i in range(len(sizes) - 1):
        layers += [torch.nn.Linear(sizes[i], sizes[i + 1]), torch.nn.ReLU()]
    m = torch.nn.Sequential(*layers, torch.nn.Linear(sizes[-1], 1))
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    steps = 0
    t0 = time.perf_counter()
    for _ in range(a.epochs):
        perm = torch.randperm(a.rows)
        for i in range(0, a.rows - a.batch + 1, a.batch):
            idx = perm[i:i + a.batch]
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(m(x[idx]), y[idx])
            loss.backward()
            opt.step()
            steps += 1
    dt = time.perf_counter() - t0
    print(json.dumps({
        "impl": "pytorch", "version": torch.__version__, "threads": torch.get_num_threads(),
        "batch": a.batch, "rows": a.rows, "steps": steps, "seconds": round(dt, 4),
        "examples_per_second": round(steps * a.batch / dt, 1), "final_loss": float(loss)}))

if __name__ == "__main__":
    main()
