"""Benchmark: optlab's step() against torch's default (single-tensor on CPU) on a 784-128-10 MLP's parameters.

Prints, per optimizer, the median step time of each and their ratio, measured interleaved in one run.
Run: .venv/bin/python bench/bench_optim.py [--repeats N] [--steps N]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import optlab.optim as oo  # noqa: E402

CONFIGS = {
    "SGD": {"lr": 0.01, "momentum": 0.9},
    "Adam": {"lr": 1e-3},
    "AdamW": {"lr": 1e-3},
    "RMSprop": {"lr": 1e-3},
    "Adagrad": {"lr": 1e-2},
    "NAdam": {"lr": 2e-3},
    "RAdam": {"lr": 1e-3},
}


def mlp_params() -> list[torch.Tensor]:
    """Parameters of a 784-128-10 MLP, each with a fixed random gradient."""
    g = torch.Generator().manual_seed(0)
    params = []
    for shape in [(128, 784), (128,), (10, 128), (10,)]:
        p = torch.randn(shape, generator=g).mul_(0.01).requires_grad_()
        p.grad = torch.randn(shape, generator=g).mul_(1e-3)
        params.append(p)
    return params


def time_steps(opt: torch.optim.Optimizer, steps: int) -> float:
    """Seconds per step, over ``steps`` consecutive steps."""
    start = time.perf_counter()
    for _ in range(steps):
        opt.step()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)

    print(f"torch {torch.__version__}, 1 thread, {args.repeats} repeats x {args.steps} steps, median per step")
    print(f"{'optimizer':<10}{'optlab µs':>12}{'torch µs':>12}{'ratio':>8}")
    worst = 0.0
    for name, kwargs in CONFIGS.items():
        ours = getattr(oo, name)(mlp_params(), **kwargs)
        theirs = getattr(torch.optim, name)(mlp_params(), **kwargs)
        time_steps(ours, 3)  # warm-up: lazy state
        time_steps(theirs, 3)
        t_ours, t_theirs = [], []
        for _ in range(args.repeats):  # interleaved, so drifts in machine load hit both alike
            t_ours.append(time_steps(ours, args.steps))
            t_theirs.append(time_steps(theirs, args.steps))
        m_ours, m_theirs = statistics.median(t_ours), statistics.median(t_theirs)
        ratio = m_ours / m_theirs
        worst = max(worst, ratio)
        print(f"{name:<10}{m_ours * 1e6:>12.1f}{m_theirs * 1e6:>12.1f}{ratio:>8.2f}")
    print(f"worst ratio {worst:.2f} (target <= 1.3)")


if __name__ == "__main__":
    main()
